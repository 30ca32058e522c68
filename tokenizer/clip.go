package tokenizer

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// CLIP is the CLIP BPE tokenizer of SD-Turbo's text encoder (OpenCLIP ViT-H uses the same
// 49408-token vocabulary as OpenAI CLIP). It follows the tokenizer.json pipeline of Hugging
// Face's CLIPTokenizerFast, which Transformers.js and diffusers use:
//
//   - normalizer: NFC, every run of Unicode whitespace replaced by one space, Unicode
//     lowercase (no ftfy and no HTML unescaping, unlike OpenAI's simple_tokenizer.py, so
//     "&amp;" stays "&", "amp", ";");
//   - pre-tokenizer: the pieces matched by
//     's|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+ (everything else, i.e.
//     whitespace, is dropped), then the GPT-2 byte-level mapping;
//   - BPE with "</w>" appended to the last symbol of every piece;
//   - <|startoftext|> (BOS) first and <|endoftext|> (EOS) last.
//
// The literal strings "<|startoftext|>" and "<|endoftext|>" in a prompt are matched as those
// special tokens, as tokenizer.json implementations do. CLIP is safe for concurrent use.
type CLIP struct {
	p pipeline
	// BOS and EOS are the ids of <|startoftext|> (49406) and <|endoftext|> (49407).
	BOS, EOS int
	// PadID is the pad id the vocabulary's configuration names: a tokenizer folder whose
	// tokenizer_config.json or special_tokens_map.json sets pad_token (SD 2.x and SD-Turbo
	// set "!", id 0), else EOS (the openai/clip-vit-* convention).
	PadID int
}

// CLIP constants.
const (
	// CLIPMaxLength is the context length of CLIP text encoders: BOS, 75 content tokens, EOS.
	CLIPMaxLength = 77
	clipBOS       = "<|startoftext|>"
	clipEOS       = "<|endoftext|>"
	clipPattern   = `'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`
	clipEOW       = "</w>"
	clipNumMerges = 49152 - 256 - 2 // merges CLIP reads from bpe_simple_vocab_16e6.txt
)

// LoadCLIP loads a CLIP vocabulary from a folder holding vocab.json and merges.txt (the
// layout of a diffusers tokenizer/ folder) or from CLIP's bpe_simple_vocab_16e6.txt.gz.
func LoadCLIP(path string) (*CLIP, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	if !st.IsDir() {
		return loadCLIPGz(path)
	}
	vb, err := os.ReadFile(filepath.Join(path, "vocab.json"))
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	var vocab map[string]int
	if err := json.Unmarshal(vb, &vocab); err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %v", filepath.Join(path, "vocab.json"), err)
	}
	mf, err := os.Open(filepath.Join(path, "merges.txt"))
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	defer mf.Close()
	merges, err := readMerges(mf, -1)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, filepath.Join(path, "merges.txt"))
	}
	c, err := newCLIP(vocab, merges)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	if name := padTokenFromConfig(path); name != "" {
		id, ok := c.TokenID(name)
		if !ok {
			return nil, fmt.Errorf("tokenizer: %s: pad token %q is not in the vocabulary", path, name)
		}
		c.PadID = id
	}
	return c, nil
}

// loadCLIPGz builds the vocabulary from CLIP's gzip'ed merges list exactly as
// simple_tokenizer.py does: the 256 byte symbols, the same with "</w>", one token per merge,
// then <|startoftext|> and <|endoftext|>.
func loadCLIPGz(path string) (*CLIP, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %v", path, err)
	}
	merges, err := readMerges(zr, clipNumMerges)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	if len(merges) != clipNumMerges {
		return nil, fmt.Errorf("tokenizer: %s: %d merges, want %d", path, len(merges), clipNumMerges)
	}
	vocab := make(map[string]int, 2*256+len(merges)+2)
	for i, b := range byteOrder {
		vocab[string(byteToRune[b])] = i
		vocab[string(byteToRune[b])+clipEOW] = 256 + i
	}
	for i, m := range merges {
		vocab[m[0]+m[1]] = 512 + i
	}
	vocab[clipBOS] = 512 + len(merges)
	vocab[clipEOS] = 513 + len(merges)
	return newCLIP(vocab, merges)
}

// readMerges reads a merges list: a header line, then one "a b" pair per line. limit < 0
// reads every line; otherwise at most limit merges (CLIP's .gz has unused lines at the end).
func readMerges(r io.Reader, limit int) ([][2]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	var merges [][2]string
	line := 0
	for sc.Scan() && (limit < 0 || len(merges) < limit) {
		line++
		s := sc.Text()
		if line == 1 && (limit >= 0 || strings.HasPrefix(s, "#version")) {
			continue // header
		}
		if strings.TrimSpace(s) == "" {
			continue
		}
		a, b, ok := strings.Cut(s, " ")
		if !ok || a == "" || b == "" || strings.Contains(b, " ") {
			return nil, fmt.Errorf("tokenizer: merges line %d %q is not two tokens", line, s)
		}
		merges = append(merges, [2]string{a, b})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tokenizer: reading merges: %v", err)
	}
	return merges, nil
}

func newCLIP(vocab map[string]int, merges [][2]string) (*CLIP, error) {
	bos, ok1 := vocab[clipBOS]
	eos, ok2 := vocab[clipEOS]
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("tokenizer: not a CLIP vocabulary: %s or %s missing", clipBOS, clipEOS)
	}
	model, err := newBPE(vocab, merges, clipEOW)
	if err != nil {
		return nil, err
	}
	model.unk = eos
	sp, err := compileSplitter(clipPattern)
	if err != nil {
		return nil, err
	}
	gpt2, err := compileSplitter(gpt2Pattern)
	if err != nil {
		return nil, err
	}
	c := &CLIP{BOS: bos, EOS: eos, PadID: eos}
	c.p = pipeline{
		model:     model,
		normalize: []func(string) string{nfc, collapseSpace, lowercase},
		pre: sequencePre{
			&regexSplit{sp: sp, behavior: splitRemoved, invert: true},
			&byteLevelPre{re: &regexSplit{sp: gpt2, behavior: splitIsolated}},
		},
		raw:        newAddedMatcher([]addedToken{{ID: eos, Content: clipEOS, Special: true}}),
		normalized: newAddedMatcher([]addedToken{{ID: bos, Content: clipBOS, Special: true, Normalized: true}}),
		addedID:    map[string]int{clipBOS: bos, clipEOS: eos},
		addedToken: map[int]string{bos: clipBOS, eos: clipEOS},
		special:    map[int]bool{bos: true, eos: true},
		prefix:     []int{bos},
		suffix:     []int{eos},
		decoder:    "clip",
	}
	return c, nil
}

// Encode returns BOS, the ids of text, EOS, without truncation or padding.
func (c *CLIP) Encode(text string) ([]int, error) {
	return c.p.encode(text, true), nil
}

// EncodeSpecial returns the ids of text, with BOS and EOS only if addSpecial is set.
func (c *CLIP) EncodeSpecial(text string, addSpecial bool) ([]int, error) {
	return c.p.encode(text, addSpecial), nil
}

// EncodePadded returns exactly length ids as a CLIP text encoder takes them (Hugging Face
// padding="max_length", truncation=True): BOS, at most length-2 content ids, EOS, then padID
// up to length. Truncation keeps the final EOS. Use CLIPMaxLength and c.PadID for SD-Turbo.
func (c *CLIP) EncodePadded(text string, length, padID int) ([]int, error) {
	if length < 2 {
		return nil, fmt.Errorf("tokenizer: CLIP length %d is too short for BOS and EOS", length)
	}
	ids := c.p.encode(text, false)
	if len(ids) > length-2 {
		ids = ids[:length-2]
	}
	out := make([]int, 0, length)
	out = append(out, c.BOS)
	out = append(out, ids...)
	out = append(out, c.EOS)
	for len(out) < length {
		out = append(out, padID)
	}
	return out, nil
}

// Decode returns the text of ids: every "</w>" becomes a space, trailing space is trimmed,
// and BOS / EOS are written as their token strings.
func (c *CLIP) Decode(ids []int) (string, error) { return c.p.decode(ids) }

// TokenID returns the id of a token string (a byte-level BPE symbol string such as "cat</w>",
// or "<|endoftext|>").
func (c *CLIP) TokenID(token string) (int, bool) { return c.p.tokenID(token) }

// Token returns the string of a token id.
func (c *CLIP) Token(id int) (string, bool) { return c.p.tokenString(id) }

// padTokenFromConfig returns the pad_token named by dir's tokenizer_config.json or
// special_tokens_map.json (a string or an {"content": ...} object), or "".
func padTokenFromConfig(dir string) string {
	for _, name := range []string{"tokenizer_config.json", "special_tokens_map.json"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		var cfg struct {
			PadToken json.RawMessage `json:"pad_token"`
		}
		if json.Unmarshal(data, &cfg) != nil || isNull(cfg.PadToken) {
			continue
		}
		var s string
		if json.Unmarshal(cfg.PadToken, &s) == nil {
			return s
		}
		var obj struct {
			Content string `json:"content"`
		}
		if json.Unmarshal(cfg.PadToken, &obj) == nil && obj.Content != "" {
			return obj.Content
		}
	}
	return ""
}

// isGzip reports whether data starts with the gzip magic number.
func isGzip(data []byte) bool { return bytes.HasPrefix(data, []byte{0x1f, 0x8b}) }
