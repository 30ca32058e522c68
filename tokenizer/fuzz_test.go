package tokenizer

import (
	"path/filepath"
	"sync"
	"testing"
	"unicode/utf8"
)

var (
	fuzzOnce    sync.Once
	fuzzLlama   *ByteLevel
	fuzzLoadErr error
)

// FuzzCLIP checks that any input encodes without panicking into BOS, in-vocabulary ids, EOS,
// and that the padded form always has CLIPMaxLength ids ending in EOS before the padding.
func FuzzCLIP(f *testing.F) {
	dir := sharedPath(f, "tokenizer", "clip")
	for _, r := range readJSONL[clipRow](f, filepath.Join(dir, "reference.jsonl")) {
		f.Add(r.Prompt)
	}
	f.Add("a\xff\xfe<|endoftext|>\u0301\u0301İΣ")
	c, err := LoadCLIP(dir)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids, err := c.Encode(s)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) < 2 || ids[0] != c.BOS || ids[len(ids)-1] != c.EOS {
			t.Fatalf("Encode(%q) = %v: not framed by BOS/EOS", s, ids)
		}
		for _, id := range ids {
			if _, ok := c.Token(id); !ok {
				t.Fatalf("Encode(%q): id %d has no token", s, id)
			}
		}
		padded, err := c.EncodePadded(s, CLIPMaxLength, 0)
		if err != nil {
			t.Fatal(err)
		}
		n := min(len(ids), CLIPMaxLength)
		if len(padded) != CLIPMaxLength || padded[n-1] != c.EOS {
			t.Fatalf("EncodePadded(%q): len %d, position %d = %d", s, len(padded), n-1, padded[n-1])
		}
		text, err := c.Decode(ids)
		if err != nil || !utf8.ValidString(text) {
			t.Fatalf("Decode: %q, %v", text, err)
		}
	})
}

// FuzzByteLevel checks that any input encodes without panicking with the Llama 3 and Janus
// tokenizer.json files, and that Decode(Encode(s)) gives s back for valid UTF-8 (byte-level
// BPE without a normalizer is lossless; every reference row has decode_roundtrip true).
func FuzzByteLevel(f *testing.F) {
	llama := sharedPath(f, "tokenizer", "llama3")
	janus, _ := loadJanus(f)
	for _, r := range readJSONL[llamaRow](f, filepath.Join(llama, "reference.jsonl")) {
		if r.DecodeRoundtrip {
			f.Add(r.Prompt)
		}
	}
	for _, r := range readJSONL[janusRow](f, filepath.Join(sharedPath(f, "pipelines", "janus_pro_tiny"), "tokenizer_reference.jsonl")) {
		f.Add(r.T2IText)
	}
	f.Add("a\xff\xfe \t\n  \r\n<|begin_of_text|><begin_of_image")
	fuzzOnce.Do(func() { fuzzLlama, fuzzLoadErr = LoadJSON(filepath.Join(llama, "tokenizer.json")) })
	if fuzzLoadErr != nil {
		f.Fatal(fuzzLoadErr)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, tok := range []*ByteLevel{fuzzLlama, janus} {
			ids, err := tok.EncodeSpecial(s, false)
			if err != nil {
				t.Fatal(err)
			}
			text, err := tok.Decode(ids)
			if err != nil {
				t.Fatalf("Decode(Encode(%q)): %v", s, err)
			}
			if utf8.ValidString(s) && text != s {
				t.Fatalf("Decode(Encode(%q)) = %q", s, text)
			}
		}
	})
}
