// Command tokenize prints the token ids of a text as one JSON array.
//
//	tokenize -tokenizer PATH [-pad N [-pad-id ID]] [-no-special] TEXT
//
// PATH is a folder with vocab.json and merges.txt or CLIP's bpe_simple_vocab_16e6.txt.gz (the
// CLIP tokenizer: BOS and EOS are added), or a tokenizer.json file or a folder holding one (a
// byte-level BPE tokenizer: its post-processor adds what it configures, e.g. a BOS).
// -no-special leaves out those added ids. -pad N returns exactly N ids: for CLIP, BOS, at most
// N-2 content ids and EOS (truncation keeps EOS); otherwise the first N ids. The padding id is
// -pad-id, by default the pad token the tokenizer's configuration names. Errors are one line
// on stderr and exit status 2.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/txt2img/engine/tokenizer"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tokenize", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("tokenizer", "", "folder with vocab.json+merges.txt, a tokenizer.json, or CLIP's .gz (required)")
	pad := fs.Int("pad", 0, "pad or truncate to exactly N ids (0: no padding)")
	padID := fs.Int("pad-id", -1, "id to pad with (default: the tokenizer's pad token)")
	noSpecial := fs.Bool("no-special", false, "do not add BOS/EOS or other post-processor ids")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "tokenize: %v\n", err)
		return 2
	}
	if *path == "" {
		return fail(errors.New("-tokenizer is required"))
	}
	if fs.NArg() != 1 {
		return fail(fmt.Errorf("want exactly one TEXT argument, got %d", fs.NArg()))
	}
	if *pad < 0 {
		return fail(fmt.Errorf("-pad %d is negative", *pad))
	}
	text := fs.Arg(0)
	tok, err := tokenizer.Load(*path)
	if err != nil {
		return fail(err)
	}
	var ids []int
	switch t := tok.(type) {
	case *tokenizer.CLIP:
		if *pad > 0 {
			if *noSpecial {
				return fail(errors.New("-pad with -no-special is not supported for CLIP (its padded form always has BOS and EOS)"))
			}
			if *padID < 0 {
				*padID = t.PadID
			}
			ids, err = t.EncodePadded(text, *pad, *padID)
		} else {
			ids, err = t.EncodeSpecial(text, !*noSpecial)
		}
	case *tokenizer.ByteLevel:
		ids, err = t.EncodeSpecial(text, !*noSpecial)
		if err == nil && *pad > 0 {
			if *padID < 0 {
				*padID = t.PadID
			}
			if *padID < 0 {
				return fail(errors.New("-pad needs -pad-id: the tokenizer names no pad token"))
			}
			ids = ids[:min(len(ids), *pad)]
			for len(ids) < *pad {
				ids = append(ids, *padID)
			}
		}
	default:
		return fail(fmt.Errorf("unsupported tokenizer type %T", tok))
	}
	if err != nil {
		return fail(err)
	}
	if ids == nil {
		ids = []int{}
	}
	out, err := json.Marshal(ids)
	if err != nil {
		return fail(err)
	}
	if _, err := fmt.Fprintf(stdout, "%s\n", out); err != nil {
		return fail(err)
	}
	return 0
}
