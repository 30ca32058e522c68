package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func sharedPath(t *testing.T, elem ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{"..", "..", "..", "shared", "testdata"}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared test data %s is absent (expected beside the checkout): %v", p, err)
	}
	return p
}

// rows reads a reference JSON-lines file.
func rows(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func ints(t *testing.T, v any) []int {
	t.Helper()
	a, ok := v.([]any)
	if !ok {
		t.Fatalf("not an array: %v", v)
	}
	out := make([]int, len(a))
	for i, x := range a {
		out[i] = int(x.(float64))
	}
	return out
}

// runIDs runs the command in-process and parses its output.
func runIDs(t *testing.T, args ...string) []int {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("run(%q) = %d, stderr %q", args, code, stderr.String())
	}
	if strings.Count(stdout.String(), "\n") != 1 {
		t.Fatalf("output is not one line: %q", stdout.String())
	}
	var ids []int
	if err := json.Unmarshal(stdout.Bytes(), &ids); err != nil {
		t.Fatalf("output %q: %v", stdout.String(), err)
	}
	return ids
}

func TestReferenceRows(t *testing.T) {
	clip := sharedPath(t, "tokenizer", "clip")
	gz := filepath.Join(clip, "bpe_simple_vocab_16e6.txt.gz")
	llama := sharedPath(t, "tokenizer", "llama3")
	janus := sharedPath(t, "pipelines", "janus_pro_tiny")
	sdturbo := sharedPath(t, "pipelines", "sd_turbo_tiny", "tokenizer")
	// A few rows of each file (the tokenizer package tests every row).
	pick := func(rs []map[string]any) []map[string]any { return []map[string]any{rs[0], rs[17], rs[len(rs)-1]} }
	for _, r := range pick(rows(t, filepath.Join(clip, "reference.jsonl"))) {
		p := r["prompt"].(string)
		if got, want := runIDs(t, "-tokenizer", clip, p), ints(t, r["ids"]); !slices.Equal(got, want) {
			t.Errorf("%s ids: %v, want %v", r["id"], got, want)
		}
		if got, want := runIDs(t, "-tokenizer", gz, "-pad", "77", "-pad-id", "49407", p), ints(t, r["input_ids"]); !slices.Equal(got, want) {
			t.Errorf("%s input_ids: %v, want %v", r["id"], got, want)
		}
		// The SD-Turbo folder names pad "!" (id 0): the default pad id follows it.
		if got, want := runIDs(t, "-tokenizer", sdturbo, "-pad", "77", p), ints(t, r["input_ids_pad0"]); !slices.Equal(got, want) {
			t.Errorf("%s input_ids_pad0: %v, want %v", r["id"], got, want)
		}
	}
	for _, r := range pick(rows(t, filepath.Join(llama, "reference.jsonl"))) {
		if got, want := runIDs(t, "-tokenizer", filepath.Join(llama, "tokenizer.json"), r["prompt"].(string)), ints(t, r["ids"]); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", r["id"], got, want)
		}
	}
	for _, r := range pick(rows(t, filepath.Join(janus, "tokenizer_reference.jsonl"))) {
		p := r["prompt"].(string)
		if got, want := runIDs(t, "-tokenizer", janus, p), ints(t, r["ids"]); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", r["id"], got, want)
		}
		if got, want := runIDs(t, "-tokenizer", janus, "-no-special", p), ints(t, r["ids_no_special"]); !slices.Equal(got, want) {
			t.Errorf("%s no special: %v, want %v", r["id"], got, want)
		}
		want := ints(t, r["ids"])
		want = want[:min(len(want), 8)]
		for len(want) < 8 {
			want = append(want, 1005)
		}
		if got := runIDs(t, "-tokenizer", janus, "-pad", "8", p); !slices.Equal(got, want) {
			t.Errorf("%s padded: %v, want %v", r["id"], got, want)
		}
	}
}

func TestErrors(t *testing.T) {
	clip := sharedPath(t, "tokenizer", "clip")
	llama := filepath.Join(sharedPath(t, "tokenizer", "llama3"), "tokenizer.json")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"no tokenizer", []string{"text"}},
		{"no text", []string{"-tokenizer", clip}},
		{"two texts", []string{"-tokenizer", clip, "a", "b"}},
		{"missing path", []string{"-tokenizer", filepath.Join(t.TempDir(), "none"), "a"}},
		{"bad flag", []string{"-bogus", "a"}},
		{"negative pad", []string{"-tokenizer", clip, "-pad", "-3", "a"}},
		{"short pad", []string{"-tokenizer", clip, "-pad", "1", "a"}},
		{"clip pad no special", []string{"-tokenizer", clip, "-pad", "77", "-no-special", "a"}},
		{"no pad token", []string{"-tokenizer", llama, "-pad", "4", "a"}},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, &stdout, &stderr)
		if code != 2 || stdout.Len() != 0 {
			t.Errorf("%s: exit %d, stdout %q", tc.name, code, stdout.String())
		}
		msg := stderr.String()
		if tc.name != "bad flag" && (!strings.HasPrefix(msg, "tokenize: ") || strings.Count(msg, "\n") != 1) {
			t.Errorf("%s: stderr %q is not one tokenize: line", tc.name, msg)
		}
	}
	if got := runIDs(t, "-tokenizer", clip, "-no-special", ""); len(got) != 0 {
		t.Errorf("empty text without specials: %v", got)
	}
}

// TestJanusReferenceAllRows checks every row of the Janus folder's
// tokenizer_reference.jsonl through the command: ids, ids without special
// tokens, and the text-to-image prompt string's ids.
func TestJanusReferenceAllRows(t *testing.T) {
	janus := sharedPath(t, "pipelines", "janus_pro_tiny")
	rs := rows(t, filepath.Join(janus, "tokenizer_reference.jsonl"))
	if len(rs) == 0 {
		t.Fatal("no rows")
	}
	for _, r := range rs {
		p := r["prompt"].(string)
		if got, want := runIDs(t, "-tokenizer", janus, p), ints(t, r["ids"]); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", r["id"], got, want)
		}
		if got, want := runIDs(t, "-tokenizer", janus, "-no-special", p), ints(t, r["ids_no_special"]); !slices.Equal(got, want) {
			t.Errorf("%s no special: %v, want %v", r["id"], got, want)
		}
		if got, want := runIDs(t, "-tokenizer", janus, r["t2i_text"].(string)), ints(t, r["t2i_ids"]); !slices.Equal(got, want) {
			t.Errorf("%s t2i: %v, want %v", r["id"], got, want)
		}
	}
}
