package tokenizer

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLlama3Reference(t *testing.T) {
	dir := sharedPath(t, "tokenizer", "llama3")
	rows := readJSONL[llamaRow](t, filepath.Join(dir, "reference.jsonl"))
	tok, err := LoadJSON(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		t.Run(r.ID, func(t *testing.T) {
			ids := mustEncode(t, tok, r.Prompt)
			checkIDs(t, "ids", ids, r.IDs)
			if got := tokenStrings(t, tok, ids); !slices.Equal(got, r.Tokens) {
				t.Errorf("tokens\n got  %q\n want %q", got, r.Tokens)
			}
			if r.DecodeRoundtrip {
				if got, err := tok.Decode(r.IDs); err != nil || got != r.Prompt {
					t.Errorf("Decode = %q, %v; want %q", got, err, r.Prompt)
				}
			}
		})
	}
	if id, ok := tok.TokenID("<|begin_of_text|>"); !ok || id != 128000 {
		t.Errorf("TokenID(<|begin_of_text|>) = %d, %v", id, ok)
	}
}

func loadJanus(t testing.TB) (*ByteLevel, string) {
	dir := sharedPath(t, "pipelines", "janus_pro_tiny")
	tok, err := LoadJSON(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	return tok, dir
}

func TestJanusReference(t *testing.T) {
	tok, dir := loadJanus(t)
	rows := readJSONL[janusRow](t, filepath.Join(dir, "tokenizer_reference.jsonl"))
	for _, r := range rows {
		t.Run(r.ID, func(t *testing.T) {
			ids := mustEncode(t, tok, r.Prompt)
			checkIDs(t, "ids", ids, r.IDs)
			if got := tokenStrings(t, tok, ids); !slices.Equal(got, r.Tokens) {
				t.Errorf("tokens\n got  %q\n want %q", got, r.Tokens)
			}
			noSpecial, err := tok.EncodeSpecial(r.Prompt, false)
			if err != nil {
				t.Fatal(err)
			}
			checkIDs(t, "ids_no_special", noSpecial, r.IDsNoSpecial)
			if got, err := tok.Decode(r.IDsNoSpecial); err != nil || got != r.Decoded {
				t.Errorf("Decode = %q, %v; want %q", got, err, r.Decoded)
			}
			checkIDs(t, "t2i_ids", mustEncode(t, tok, r.T2IText), r.T2IIDs)
		})
	}
	for _, tc := range []struct {
		tok string
		id  int
	}{
		{"<image_placeholder>", 1000}, {"<begin_of_image>", 1001}, {"<end_of_image>", 1002},
		{"<｜begin▁of▁sentence｜>", 1003}, {"<｜end▁of▁sentence｜>", 1004}, {"<｜▁pad▁｜>", 1005},
		{"Ġa", 256},
	} {
		if id, ok := tok.TokenID(tc.tok); !ok || id != tc.id {
			t.Errorf("TokenID(%q) = %d, %v; want %d", tc.tok, id, ok, tc.id)
		}
	}
	if !tok.IsSpecial(1001) || tok.IsSpecial(256) {
		t.Error("IsSpecial wrong for 1001 or 256")
	}
	if tok.PadID != 1005 {
		t.Errorf("PadID = %d, want 1005 (tokenizer_config.json pad_token)", tok.PadID)
	}
	if _, err := tok.Decode([]int{1010}); err == nil {
		t.Error("Decode of an id without a token: no error")
	}
}

// TestLookahead checks the emulation of \s+(?!\S) against the splits a backtracking engine
// gives for the Llama 3 pattern.
func TestLookahead(t *testing.T) {
	sp, err := compileSplitter(`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"a   b", []string{"a", "  ", " b"}},
		{"a b", []string{"a", " b"}},
		{"a   ", []string{"a", "   "}},
		{"  1", []string{" ", " ", "1"}},
		{"x\u3000\u3000y", []string{"x", "\u3000", "\u3000y"}},
		{"a \t\n b", []string{"a", " \t\n", " b"}},
		{"1234567", []string{"123", "456", "7"}},
		{"IT'S", []string{"IT", "'S"}},
	} {
		var got []string
		for _, m := range sp.find(nil, tc.in) {
			got = append(got, tc.in[m[0]:m[1]])
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("split(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSplitBehaviors(t *testing.T) {
	sp, err := compileSplitter(`-`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		b      splitBehavior
		invert bool
		want   []string
	}{
		{splitRemoved, false, []string{"a", "b", "c"}},
		{splitIsolated, false, []string{"a", "-", "b", "-", "-", "c", "-"}},
		{splitMergedWithPrevious, false, []string{"a-", "b-", "-", "c-"}},
		{splitMergedWithNext, false, []string{"a", "-b", "-", "-c", "-"}},
		{splitContiguous, false, []string{"a", "-", "b", "--", "c", "-"}},
		{splitRemoved, true, []string{"-", "-", "-", "-"}},
	} {
		r := &regexSplit{sp: sp, behavior: tc.b, invert: tc.invert}
		if got := r.split(nil, "a-b--c-"); !slices.Equal(got, tc.want) {
			t.Errorf("behavior %d invert %v: %q, want %q", tc.b, tc.invert, got, tc.want)
		}
	}
}

func TestParseJSONErrors(t *testing.T) {
	for _, tc := range []struct{ name, data string }{
		{"not json", `{`},
		{"no vocab", `{"model": {"type": "BPE", "vocab": {}, "merges": []}}`},
		{"unigram", `{"model": {"type": "Unigram", "vocab": {"a": 0}}}`},
		{"bad merge", `{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a"]}}`},
		{"merge not in vocab", `{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a a"]}}`},
		{"negative id", `{"model": {"type": "BPE", "vocab": {"a": -1}, "merges": []}}`},
		{"lookbehind", `{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(?<=a)b"}, "behavior": "Isolated"}}`},
		{"bad regex", `{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(a"}, "behavior": "Isolated"}}`},
		{"unknown normalizer", `{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "normalizer": {"type": "NFKC"}}`},
		{"unknown post", `{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "post_processor": {"type": "Magic"}}`},
	} {
		_, err := ParseJSON([]byte(tc.data))
		if err == nil || !strings.HasPrefix(err.Error(), "tokenizer: ") {
			t.Errorf("%s: error = %v, want a tokenizer: error", tc.name, err)
		}
	}
}

// TestParseJSONPairMerges checks merges written as ["a", "b"] pairs and byte fallback.
func TestParseJSONPairMerges(t *testing.T) {
	tok, err := ParseJSON([]byte(`{"model": {"type": "BPE", "byte_fallback": true,
		"vocab": {"a": 0, "b": 1, "ab": 2, "<0xC3>": 3, "<0xA9>": 4, "a b": 5, "c": 6},
		"merges": [["a", "b"]]},
		"pre_tokenizer": {"type": "Digits", "individual_digits": true}}`))
	if err != nil {
		t.Fatal(err)
	}
	checkIDs(t, "ids", mustEncode(t, tok, "abaé"), []int{2, 0, 3, 4})
}

func TestLoad(t *testing.T) {
	clip := sharedPath(t, "tokenizer", "clip")
	janus := sharedPath(t, "pipelines", "janus_pro_tiny")
	for _, tc := range []struct {
		path string
		clip bool
	}{
		{clip, true},
		{filepath.Join(clip, "bpe_simple_vocab_16e6.txt.gz"), true},
		{filepath.Join(clip, "tokenizer.json"), false},
		{janus, false},
		{filepath.Join(janus, "tokenizer.json"), false},
	} {
		tok, err := Load(tc.path)
		if err != nil {
			t.Fatalf("Load(%s): %v", tc.path, err)
		}
		if _, isCLIP := tok.(*CLIP); isCLIP != tc.clip {
			t.Errorf("Load(%s) = %T", tc.path, tok)
		}
	}
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.bin")
	if err := os.WriteFile(junk, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, junk, filepath.Join(dir, "none")} {
		if _, err := Load(p); err == nil || !strings.HasPrefix(err.Error(), "tokenizer: ") {
			t.Errorf("Load(%s) error = %v", p, err)
		}
	}
}

func BenchmarkByteLevel(b *testing.B) {
	tok, _ := loadJanus(b)
	prompt := "<|User|>: A breathtaking panoramic view of an ancient mountain monastery perched on a cliff above a sea of clouds at sunrise\n\n<|Assistant|>:<begin_of_image>"
	for b.Loop() {
		tok.Encode(prompt)
	}
}
