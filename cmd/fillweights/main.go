// Command fillweights turns a weight-stripped full-size graph (model.onnx whose
// big initializers point to an absent model.onnx.data, plus initializers.json
// and graph.json) into a runnable model with seeded random weights and a set of
// realistic inputs.
//
//	fillweights -graph DIR -out OUTDIR [-seed N] [-batch B] [-past P] [-dry] [-v]
//
// It writes OUTDIR/model.onnx (a copy), OUTDIR/model.onnx.data (every external
// initializer at exactly the offset and length initializers.json gives,
// streamed) and OUTDIR/test_data_set_0/input_N.pb. Values follow how the graph
// reads each initializer (decoded from model.onnx, external data untouched):
//
//   - MatMul B [K,N], Gemm B (K = shape[1] with transB), Conv/NhwcConv weights
//     (fan_in = I/g·kh·kw), Attention weights: uniform ±1/sqrt(fan_in)
//   - Gather tables (embeddings): uniform ±0.5
//   - normalization scales (scale input of a norm op, Mul right after a
//     normalization, names *norm*weight / gamma): 1 ± 0.1
//   - biases (bias inputs, Add/Sub of a per-channel value, *bias / beta): ±0.02
//   - MatMulNBits: packed weights random bytes, scales 1/(2^(bits-1)·sqrt(K)) ± 10 %,
//     zero points the middle value (0x88 for 4 bits)
//   - external integer initializers are refused.
//
// Inputs: SD-Turbo text encoder input_ids [1,77] (BOS, random ids, EOS, 0
// padding), UNet sample [1,4,64,64] N(0,1)·σ/sqrt(σ²+1) with σ = 14.6146,
// timestep [999], encoder_hidden_states [1,77,1024] N(0,1), VAE latent_sample
// [1,4,64,64] N(0,1)/0.18215; Janus language model one decode step: inputs_embeds
// [B,1,2048] N(0,1)·0.02, attention_mask ones [B,P+1], position_ids P,
// past_key_values.* [B,16,P,128] N(0,1)·0.1 in the declared dtype; lm_head and
// gen_head hidden_states [B,1,2048] N(0,1).
//
// The same seed gives the same bytes. Each tensor has its own PCG stream
// seeded from the seed and the tensor's name.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fillweights", flag.ContinueOnError)
	fs.SetOutput(stderr)
	graphDir := fs.String("graph", "", "folder with model.onnx, initializers.json and graph.json (required)")
	outDir := fs.String("out", "", "output folder (required; must differ from -graph)")
	seed := fs.Uint64("seed", 1, "random seed")
	batch := fs.Int("batch", 2, "batch size of Janus inputs (2: classifier-free guidance)")
	past := fs.Int("past", 322, "past sequence length of the Janus decode step")
	dry := fs.Bool("dry", false, "check the folder and print the rules, write nothing")
	verbose := fs.Bool("v", false, "print the rule of every external initializer")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if fs.NArg() > 0 {
		return fail(fmt.Errorf("fillweights: unexpected argument %q", fs.Arg(0)))
	}
	if *graphDir == "" || (*outDir == "" && !*dry) {
		return fail(errors.New("fillweights: -graph and -out are required"))
	}
	if *batch < 1 || *past < 0 {
		return fail(fmt.Errorf("fillweights: -batch must be ≥ 1 and -past ≥ 0 (got %d, %d)", *batch, *past))
	}
	t0 := time.Now()
	p, err := loadPlan(*graphDir)
	if err != nil {
		return fail(err)
	}
	if *verbose || *dry {
		for _, e := range p.entries {
			fmt.Fprintf(stdout, "%-12s %-60s %s%v  %s\n", e.rule.kind, e.name, e.dt, e.shape, e.rule.why)
		}
	}
	var total int64
	for _, n := range p.dataBytes() {
		total += n
	}
	counts := p.ruleCounts()
	kinds := make([]string, 0, len(counts))
	for k := range counts {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, counts[k]))
	}
	sort.Strings(kinds)
	summary := fmt.Sprintf("%d external initializers (%s), %d inline; rules: %s",
		len(p.entries), fmtBytes(total), p.numInline, strings.Join(kinds, ", "))
	if *dry {
		ins, err := graphInputs(p)
		if err != nil {
			return fail(err)
		}
		opt := inputOptions{batch: *batch, past: *past}
		var desc []string
		for _, in := range ins {
			t, err := makeInput(in, opt, *seed)
			if err != nil {
				return fail(err)
			}
			desc = append(desc, fmt.Sprintf("%s %s%v", in.name, in.dt, t.Shape()))
		}
		fmt.Fprintf(stdout, "fillweights: %s: %s; inputs: %s\n", *graphDir, summary, compactInputs(desc))
		return 0
	}
	if err := checkOut(*graphDir, *outDir); err != nil {
		return fail(err)
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return fail(fmt.Errorf("fillweights: %w", err))
	}
	mb, err := os.ReadFile(p.modelPath)
	if err != nil {
		return fail(fmt.Errorf("fillweights: %w", err))
	}
	if err := os.WriteFile(filepath.Join(*outDir, "model.onnx"), mb, 0o644); err != nil {
		return fail(fmt.Errorf("fillweights: %w", err))
	}
	var progress io.Writer
	if *verbose {
		progress = stderr
	}
	if err := writeData(p, *outDir, *seed, progress); err != nil {
		return fail(err)
	}
	desc, err := writeInputs(p, *outDir, inputOptions{batch: *batch, past: *past}, *seed)
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "fillweights: %s -> %s: %s; inputs: %s; %v\n", *graphDir, *outDir, summary,
		compactInputs(desc), time.Since(t0).Round(time.Millisecond))
	return 0
}

// checkOut refuses to write into the source folder.
func checkOut(graphDir, outDir string) error {
	a, err1 := filepath.Abs(graphDir)
	b, err2 := filepath.Abs(outDir)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("fillweights: %w", errors.Join(err1, err2))
	}
	if filepath.Clean(a) == filepath.Clean(b) {
		return fmt.Errorf("fillweights: -out %s is the graph folder itself", outDir)
	}
	if sa, err := os.Stat(a); err == nil {
		if sb, err := os.Stat(b); err == nil && os.SameFile(sa, sb) {
			return fmt.Errorf("fillweights: -out %s is the graph folder itself", outDir)
		}
	}
	return nil
}

// compactInputs joins input descriptions ("name dtype[shape]"), folding runs
// of past_key_values.* with the same type into one item.
func compactInputs(desc []string) string {
	var out []string
	for i := 0; i < len(desc); {
		name, typ, _ := strings.Cut(desc[i], " ")
		j := i + 1
		if strings.HasPrefix(name, "past_key_values.") {
			for j < len(desc) {
				n2, t2, _ := strings.Cut(desc[j], " ")
				if !strings.HasPrefix(n2, "past_key_values.") || t2 != typ {
					break
				}
				j++
			}
		}
		if j-i > 1 {
			out = append(out, fmt.Sprintf("past_key_values.* ×%d %s", j-i, typ))
		} else {
			out = append(out, desc[i])
		}
		i = j
	}
	return strings.Join(out, ", ")
}
