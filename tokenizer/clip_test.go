package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// clipLoaders loads the CLIP vocabulary in each supported form.
func clipLoaders(t *testing.T) []struct {
	name string
	load func() (*CLIP, error)
} {
	dir := sharedPath(t, "tokenizer", "clip")
	return []struct {
		name string
		load func() (*CLIP, error)
	}{
		{"folder", func() (*CLIP, error) { return LoadCLIP(dir) }},
		{"gz", func() (*CLIP, error) { return LoadCLIP(filepath.Join(dir, "bpe_simple_vocab_16e6.txt.gz")) }},
	}
}

func TestCLIPReference(t *testing.T) {
	rows := readJSONL[clipRow](t, filepath.Join(sharedPath(t, "tokenizer", "clip"), "reference.jsonl"))
	for _, l := range clipLoaders(t) {
		t.Run(l.name, func(t *testing.T) {
			c, err := l.load()
			if err != nil {
				t.Fatal(err)
			}
			if c.BOS != 49406 || c.EOS != 49407 || c.PadID != 49407 {
				t.Fatalf("BOS %d EOS %d PadID %d, want 49406 49407 49407", c.BOS, c.EOS, c.PadID)
			}
			for _, r := range rows {
				t.Run(r.ID, func(t *testing.T) {
					ids := mustEncode(t, c, r.Prompt)
					checkIDs(t, "ids", ids, r.IDs)
					if got := tokenStrings(t, c, ids); !slices.Equal(got, r.Tokens) {
						t.Errorf("tokens\n got  %q\n want %q", got, r.Tokens)
					}
					for _, pc := range []struct {
						pad  int
						want []int
					}{{49407, r.InputIDs}, {0, r.InputIDsPad0}} {
						got, err := c.EncodePadded(r.Prompt, CLIPMaxLength, pc.pad)
						if err != nil {
							t.Fatal(err)
						}
						checkIDs(t, "padded", got, pc.want)
					}
				})
			}
		})
	}
}

// TestCLIPTokenizerJSON runs the CLIP reference through the generic tokenizer.json loader
// (NFC + Replace + Lowercase normalizers, inverted Split, RobertaProcessing, </w> suffix).
func TestCLIPTokenizerJSON(t *testing.T) {
	dir := sharedPath(t, "tokenizer", "clip")
	rows := readJSONL[clipRow](t, filepath.Join(dir, "reference.jsonl"))
	tok, err := LoadJSON(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		checkIDs(t, r.ID, mustEncode(t, tok, r.Prompt), r.IDs)
	}
}

// TestCLIPSDTurboFolder checks the SD-Turbo tokenizer folder: its configuration names pad "!"
// (id 0), and the padded ids equal the pipeline references.
func TestCLIPSDTurboFolder(t *testing.T) {
	base := sharedPath(t, "pipelines", "sd_turbo_tiny")
	c, err := LoadCLIP(filepath.Join(base, "tokenizer"))
	if err != nil {
		t.Fatal(err)
	}
	if c.PadID != 0 {
		t.Fatalf("PadID = %d, want 0 (pad_token \"!\")", c.PadID)
	}
	cases, _ := filepath.Glob(filepath.Join(base, "reference", "case_*", "case.json"))
	if len(cases) == 0 {
		t.Fatal("no reference cases")
	}
	for _, p := range cases {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var cs struct {
			Prompt   string `json:"prompt"`
			InputIDs []int  `json:"input_ids"`
		}
		if err := json.Unmarshal(data, &cs); err != nil {
			t.Fatal(err)
		}
		got, err := c.EncodePadded(cs.Prompt, CLIPMaxLength, c.PadID)
		if err != nil {
			t.Fatal(err)
		}
		checkIDs(t, filepath.Base(filepath.Dir(p)), got, cs.InputIDs)
	}
}

func TestCLIPEdgeCases(t *testing.T) {
	c, err := LoadCLIP(sharedPath(t, "tokenizer", "clip"))
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("word ", 10000)
	tests := []struct {
		name, text string
		check      func(t *testing.T, ids []int)
	}{
		{"invalid utf8", "a\xffb\xc3", func(t *testing.T, ids []int) {
			want := mustEncode(t, c, "a\uFFFDb\uFFFD")
			checkIDs(t, "ids", ids, want)
		}},
		{"literal specials", "a <|endoftext|> b <|startoftext|>", func(t *testing.T, ids []int) {
			want := []int{c.BOS, 320, c.EOS, 321, c.BOS, c.EOS}
			checkIDs(t, "ids", ids, want)
		}},
		{"long", long, func(t *testing.T, ids []int) {
			if len(ids) != 10002 {
				t.Errorf("len %d, want 10002", len(ids))
			}
		}},
		{"one long word", strings.Repeat("ab", 50000), func(t *testing.T, ids []int) {
			if len(ids) < 3 || ids[0] != c.BOS || ids[len(ids)-1] != c.EOS {
				t.Errorf("bad framing: %d ids", len(ids))
			}
		}},
		{"capital sigma final", "ΟΔΟΣ ΣΑ", func(t *testing.T, ids []int) {
			checkIDs(t, "ids", ids, mustEncode(t, c, "οδος σα"))
		}},
		{"dotted capital I", "İ", func(t *testing.T, ids []int) {
			checkIDs(t, "ids", ids, mustEncode(t, c, "i\u0307"))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.check(t, mustEncode(t, c, tc.text)) })
	}
	if _, err := c.EncodePadded("x", 1, 0); err == nil {
		t.Error("EncodePadded length 1: no error")
	}
	got, err := c.EncodePadded(long, CLIPMaxLength, 0)
	if err != nil || len(got) != CLIPMaxLength || got[76] != c.EOS {
		t.Errorf("truncated: len %d last %d err %v", len(got), got[len(got)-1], err)
	}
}

func TestCLIPDecode(t *testing.T) {
	c, err := LoadCLIP(sharedPath(t, "tokenizer", "clip"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ in, want string }{
		{"a photo of a cat", "<|startoftext|>a photo of a cat <|endoftext|>"},
		{"Crème  brûlée!", "<|startoftext|>crème brûlée ! <|endoftext|>"},
	} {
		got, err := c.Decode(mustEncode(t, c, tc.in))
		if err != nil || got != tc.want {
			t.Errorf("Decode(Encode(%q)) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := c.Decode([]int{1 << 30}); err == nil {
		t.Error("Decode of an unknown id: no error")
	}
}

func TestCLIPConcurrent(t *testing.T) {
	dir := sharedPath(t, "tokenizer", "clip")
	rows := readJSONL[clipRow](t, filepath.Join(dir, "reference.jsonl"))
	c, err := LoadCLIP(dir)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, r := range rows {
				if ids, _ := c.Encode(r.Prompt); !slices.Equal(ids, r.IDs) {
					t.Errorf("%s: concurrent encode differs", r.ID)
				}
			}
		}()
	}
	wg.Wait()
}

func TestLoadCLIPErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.gz")
	if err := os.WriteFile(bad, []byte("not gzip"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "vocab.json"), []byte(`{"a": 0}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "merges.txt"), []byte("#version: 0.2\na b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{bad, dir, filepath.Join(dir, "missing")} {
		_, err := LoadCLIP(p)
		if err == nil || !strings.HasPrefix(err.Error(), "tokenizer: ") {
			t.Errorf("LoadCLIP(%s) error = %v, want a tokenizer: error", p, err)
		}
	}
}

func BenchmarkCLIP(b *testing.B) {
	dir := sharedPath(b, "tokenizer", "clip")
	c, err := LoadCLIP(dir)
	if err != nil {
		b.Fatal(err)
	}
	prompt := "A breathtaking ultra-detailed matte painting of an ancient floating city above the clouds at golden hour, with towering marble spires, hanging gardens"
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			c.EncodePadded(prompt, CLIPMaxLength, 0)
		}
	})
	b.Run("uncached", func(b *testing.B) {
		for b.Loop() {
			c.p.model.mu.Lock()
			c.p.model.cache = nil
			c.p.model.mu.Unlock()
			c.EncodePadded(prompt, CLIPMaxLength, 0)
		}
	})
}
