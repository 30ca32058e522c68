package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ByteLevel is a Hugging Face tokenizer.json tokenizer with a BPE model, as used by GPT-2,
// Llama 3 and DeepSeek / Janus-Pro: added tokens are matched first, then the normalizer, the
// pre-tokenizers (Split, ByteLevel, Digits, Sequence), BPE by merge rank, and the
// post-processor (TemplateProcessing, RobertaProcessing, BertProcessing, ByteLevel). It is
// safe for concurrent use.
type ByteLevel struct {
	p pipeline
	// PadID is the id of the pad token named by the file's "padding" section or by a
	// tokenizer_config.json beside it; -1 if neither names one.
	PadID int
}

// pipeline is the encoding machinery shared by ByteLevel and CLIP.
type pipeline struct {
	model     *bpe
	normalize []func(string) string
	pre       preTokenizer // nil: the whole normalized text is one piece

	raw, normalized *addedMatcher // added tokens matched before / after normalization
	addedID         map[string]int
	addedToken      map[int]string
	special         map[int]bool

	prefix, suffix []int // ids the post-processor puts around the sequence

	decoder string // "ByteLevel", "" (concatenate tokens) or an unsupported type
}

// addedToken is an entry of tokenizer.json's added_tokens.
type addedToken struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

// addedMatcher finds added tokens in text, leftmost first, longest at equal start.
type addedMatcher struct {
	byFirst map[byte][]addedToken // longest first
}

func newAddedMatcher(toks []addedToken) *addedMatcher {
	if len(toks) == 0 {
		return nil
	}
	m := &addedMatcher{byFirst: make(map[byte][]addedToken)}
	for _, t := range toks {
		if t.Content == "" {
			continue
		}
		l := m.byFirst[t.Content[0]]
		i := 0
		for i < len(l) && len(l[i].Content) >= len(t.Content) {
			i++
		}
		l = append(l, addedToken{})
		copy(l[i+1:], l[i:])
		l[i] = t
		m.byFirst[t.Content[0]] = l
	}
	return m
}

func isWordRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r) }

// split calls text for every run of ordinary text and token for every added token found.
func (m *addedMatcher) split(s string, text func(string), token func(int)) {
	if m == nil {
		text(s)
		return
	}
	start := 0 // start of pending ordinary text
	for i := 0; i < len(s); i++ {
		cands := m.byFirst[s[i]]
		if cands == nil {
			continue
		}
		for _, t := range cands {
			if !strings.HasPrefix(s[i:], t.Content) {
				continue
			}
			a, b := i, i+len(t.Content)
			if t.SingleWord {
				r0, _ := utf8.DecodeLastRuneInString(s[:a])
				r1, _ := utf8.DecodeRuneInString(s[b:])
				if a > 0 && isWordRune(r0) || b < len(s) && isWordRune(r1) {
					continue
				}
			}
			if t.LStrip {
				for a > start {
					r, n := utf8.DecodeLastRuneInString(s[start:a])
					if !unicode.IsSpace(r) {
						break
					}
					a -= n
				}
			}
			if t.RStrip {
				for b < len(s) {
					r, n := utf8.DecodeRuneInString(s[b:])
					if !unicode.IsSpace(r) {
						break
					}
					b += n
				}
			}
			if a > start {
				text(s[start:a])
			}
			token(t.ID)
			start = b
			i = b - 1
			break
		}
	}
	if start < len(s) {
		text(s[start:])
	}
}

// encode runs the pipeline on text; addSpecial applies the post-processor.
func (p *pipeline) encode(text string, addSpecial bool) []int {
	text = validUTF8(text)
	var ids []int
	if addSpecial {
		ids = append(ids, p.prefix...)
	}
	var pieces []string
	plain := func(seg string) {
		pieces = pieces[:0]
		if p.pre != nil {
			pieces = p.pre.split(pieces, seg)
		} else {
			pieces = append(pieces, seg)
		}
		for _, w := range pieces {
			ids = p.model.encodeWord(ids, w)
		}
	}
	token := func(id int) { ids = append(ids, id) }
	p.raw.split(text, func(seg string) {
		for _, f := range p.normalize {
			seg = f(seg)
		}
		p.normalized.split(seg, plain, token)
	}, token)
	if addSpecial {
		ids = append(ids, p.suffix...)
	}
	return ids
}

// tokenString returns the string of id (added tokens included).
func (p *pipeline) tokenString(id int) (string, bool) {
	if s, ok := p.addedToken[id]; ok {
		return s, true
	}
	s := p.model.token(id)
	return s, s != ""
}

// tokenID returns the id of a token string (added tokens first).
func (p *pipeline) tokenID(tok string) (int, bool) {
	if id, ok := p.addedID[tok]; ok {
		return id, true
	}
	id, ok := p.model.vocab[tok]
	return id, ok
}

// decode turns ids back into text with the configured decoder.
func (p *pipeline) decode(ids []int) (string, error) {
	switch p.decoder {
	case "ByteLevel", "", "clip":
	default:
		return "", fmt.Errorf("tokenizer: decoder %q is not supported", p.decoder)
	}
	var out []byte
	for _, id := range ids {
		tok, ok := p.tokenString(id)
		if !ok {
			return "", fmt.Errorf("tokenizer: id %d is not in the vocabulary", id)
		}
		if p.decoder == "" {
			out = append(out, tok...)
			continue
		}
		eow := false
		if p.decoder == "clip" && !p.special[id] {
			tok, eow = strings.CutSuffix(tok, clipEOW)
		}
		// As tokenizers' ByteLevel decoder: a token made only of byte-level symbols gives
		// those bytes; any other token (an added token such as "<｜begin▁of▁sentence｜>")
		// is copied as it is.
		n := len(out)
		all := true
		for _, r := range tok {
			b, ok := runeToByte[r]
			if !ok {
				all = false
				break
			}
			out = append(out, b)
		}
		if !all {
			out = append(out[:n], tok...)
		}
		if eow {
			out = append(out, ' ')
		}
	}
	if p.decoder == "clip" {
		out = bytes.TrimRight(out, " ")
	}
	return strings.ToValidUTF8(string(out), "\uFFFD"), nil
}

// LoadJSON reads a Hugging Face tokenizer.json file with a BPE model. A tokenizer_config.json
// in the same folder, if present, supplies the pad token when the file has no padding section.
func LoadJSON(path string) (*ByteLevel, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	t, err := ParseJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	if t.PadID < 0 {
		if name := padTokenFromConfig(filepath.Dir(path)); name != "" {
			if id, ok := t.TokenID(name); ok {
				t.PadID = id
			}
		}
	}
	return t, nil
}

// tokenizer.json layout (the parts this package reads).
type jsonFile struct {
	AddedTokens   []addedToken    `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Padding       *struct {
		PadID    *int   `json:"pad_id"`
		PadToken string `json:"pad_token"`
	} `json:"padding"`
	Model struct {
		Type                    string            `json:"type"`
		Vocab                   map[string]int    `json:"vocab"`
		Merges                  []json.RawMessage `json:"merges"`
		UnkToken                *string           `json:"unk_token"`
		ContinuingSubwordPrefix *string           `json:"continuing_subword_prefix"`
		EndOfWordSuffix         *string           `json:"end_of_word_suffix"`
		FuseUnk                 bool              `json:"fuse_unk"`
		ByteFallback            bool              `json:"byte_fallback"`
		IgnoreMerges            bool              `json:"ignore_merges"`
		Dropout                 *float64          `json:"dropout"`
	} `json:"model"`
}

// jsonNode is one normalizer, pre-tokenizer, post-processor or decoder object.
type jsonNode struct {
	Type string `json:"type"`
	// Sequence members.
	Normalizers   []json.RawMessage `json:"normalizers"`
	Pretokenizers []json.RawMessage `json:"pretokenizers"`
	Processors    []json.RawMessage `json:"processors"`
	Decoders      []json.RawMessage `json:"decoders"`
	// Split, Replace.
	Pattern *struct {
		String *string `json:"String"`
		Regex  *string `json:"Regex"`
	} `json:"pattern"`
	Behavior string `json:"behavior"`
	Invert   bool   `json:"invert"`
	Content  string `json:"content"`
	// ByteLevel.
	AddPrefixSpace bool  `json:"add_prefix_space"`
	UseRegex       *bool `json:"use_regex"`
	// Prepend, Strip, Digits.
	Prepend          string `json:"prepend"`
	Left             bool   `json:"left"`
	Right            bool   `json:"right"`
	IndividualDigits bool   `json:"individual_digits"`
	// TemplateProcessing.
	Single []struct {
		SpecialToken *struct {
			ID string `json:"id"`
		} `json:"SpecialToken"`
		Sequence *struct {
			ID string `json:"id"`
		} `json:"Sequence"`
	} `json:"single"`
	SpecialTokens map[string]struct {
		IDs []int `json:"ids"`
	} `json:"special_tokens"`
	// RobertaProcessing, BertProcessing: [token, id].
	Cls []json.RawMessage `json:"cls"`
	Sep []json.RawMessage `json:"sep"`
}

func isNull(m json.RawMessage) bool {
	s := strings.TrimSpace(string(m))
	return s == "" || s == "null"
}

// ParseJSON parses the contents of a tokenizer.json file with a BPE model.
func ParseJSON(data []byte) (*ByteLevel, error) {
	var f jsonFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("tokenizer: tokenizer.json: %v", err)
	}
	m := &f.Model
	if m.Type != "" && m.Type != "BPE" {
		return nil, fmt.Errorf("tokenizer: model type %q is not supported (only BPE)", m.Type)
	}
	if len(m.Vocab) == 0 {
		return nil, fmt.Errorf("tokenizer: tokenizer.json has no model vocabulary")
	}
	if m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "" {
		return nil, fmt.Errorf("tokenizer: continuing_subword_prefix is not supported")
	}
	if m.Dropout != nil && *m.Dropout != 0 {
		return nil, fmt.Errorf("tokenizer: BPE dropout is not supported")
	}
	merges := make([][2]string, len(m.Merges))
	for i, raw := range m.Merges {
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			a, b, ok := strings.Cut(s, " ")
			if !ok || strings.Contains(b, " ") {
				return nil, fmt.Errorf("tokenizer: merge %d %q is not two tokens", i, s)
			}
			merges[i] = [2]string{a, b}
			continue
		}
		var pair []string
		if err := json.Unmarshal(raw, &pair); err != nil || len(pair) != 2 {
			return nil, fmt.Errorf("tokenizer: merge %d is neither \"a b\" nor [\"a\", \"b\"]", i)
		}
		merges[i] = [2]string{pair[0], pair[1]}
	}
	eow := ""
	if m.EndOfWordSuffix != nil {
		eow = *m.EndOfWordSuffix
	}
	model, err := newBPE(m.Vocab, merges, eow)
	if err != nil {
		return nil, err
	}
	model.ignoreMerges = m.IgnoreMerges
	model.byteFallback = m.ByteFallback
	model.fuseUnk = m.FuseUnk
	if m.UnkToken != nil {
		id, ok := m.Vocab[*m.UnkToken]
		if !ok {
			return nil, fmt.Errorf("tokenizer: unk token %q is not in the vocabulary", *m.UnkToken)
		}
		model.unk = id
	}

	t := &ByteLevel{PadID: -1}
	p := &t.p
	p.model = model
	p.addedID = make(map[string]int)
	p.addedToken = make(map[int]string)
	p.special = make(map[int]bool)
	var raw, norm []addedToken
	for _, a := range f.AddedTokens {
		if a.ID < 0 {
			return nil, fmt.Errorf("tokenizer: added token %q has negative id", a.Content)
		}
		p.addedID[a.Content] = a.ID
		p.addedToken[a.ID] = a.Content
		if a.Special {
			p.special[a.ID] = true
		}
		if a.Normalized {
			norm = append(norm, a)
		} else {
			raw = append(raw, a)
		}
	}
	if !isNull(f.Normalizer) {
		if p.normalize, err = parseNormalizer(f.Normalizer, nil); err != nil {
			return nil, err
		}
	}
	// Normalized added tokens are matched in normalized text, in their normalized form.
	for i := range norm {
		for _, fn := range p.normalize {
			norm[i].Content = fn(norm[i].Content)
		}
	}
	p.raw, p.normalized = newAddedMatcher(raw), newAddedMatcher(norm)
	if !isNull(f.PreTokenizer) {
		if p.pre, err = parsePreTokenizer(f.PreTokenizer); err != nil {
			return nil, err
		}
	}
	if !isNull(f.PostProcessor) {
		if err := p.parsePost(f.PostProcessor); err != nil {
			return nil, err
		}
	}
	if !isNull(f.Decoder) {
		var d jsonNode
		if err := json.Unmarshal(f.Decoder, &d); err != nil {
			return nil, fmt.Errorf("tokenizer: decoder: %v", err)
		}
		p.decoder = d.Type
		if d.Type == "Sequence" && len(d.Decoders) == 1 {
			var one jsonNode
			if json.Unmarshal(d.Decoders[0], &one) == nil {
				p.decoder = one.Type
			}
		}
	}
	if f.Padding != nil {
		if f.Padding.PadID != nil {
			t.PadID = *f.Padding.PadID
		} else if id, ok := p.tokenID(f.Padding.PadToken); ok {
			t.PadID = id
		}
	}
	return t, nil
}

func parseNormalizer(data json.RawMessage, dst []func(string) string) ([]func(string) string, error) {
	var n jsonNode
	if err := json.Unmarshal(data, &n); err != nil {
		return nil, fmt.Errorf("tokenizer: normalizer: %v", err)
	}
	switch n.Type {
	case "Sequence":
		for _, c := range n.Normalizers {
			var err error
			if dst, err = parseNormalizer(c, dst); err != nil {
				return nil, err
			}
		}
		return dst, nil
	case "NFC":
		return append(dst, nfc), nil
	case "Lowercase":
		return append(dst, lowercase), nil
	case "Prepend":
		pre := n.Prepend
		return append(dst, func(s string) string {
			if s == "" {
				return s
			}
			return pre + s
		}), nil
	case "Strip":
		left, right := n.Left, n.Right
		return append(dst, func(s string) string {
			if left {
				s = strings.TrimLeftFunc(s, unicode.IsSpace)
			}
			if right {
				s = strings.TrimRightFunc(s, unicode.IsSpace)
			}
			return s
		}), nil
	case "Replace":
		if n.Pattern == nil {
			return nil, fmt.Errorf("tokenizer: Replace normalizer without pattern")
		}
		content := n.Content
		if n.Pattern.String != nil {
			old := *n.Pattern.String
			if old == "" {
				return nil, fmt.Errorf("tokenizer: Replace normalizer with an empty pattern")
			}
			return append(dst, func(s string) string { return strings.ReplaceAll(s, old, content) }), nil
		}
		if n.Pattern.Regex == nil {
			return nil, fmt.Errorf("tokenizer: Replace normalizer without pattern")
		}
		if *n.Pattern.Regex == `\s+` && content == " " {
			return append(dst, collapseSpace), nil
		}
		g, err := translateRegex(*n.Pattern.Regex)
		if err != nil {
			return nil, err
		}
		re, err := regexp.Compile(g)
		if err != nil {
			return nil, fmt.Errorf("tokenizer: Replace regex %q: %v", *n.Pattern.Regex, err)
		}
		return append(dst, func(s string) string { return re.ReplaceAllLiteralString(s, content) }), nil
	}
	return nil, fmt.Errorf("tokenizer: normalizer %q is not supported", n.Type)
}

func parsePreTokenizer(data json.RawMessage) (preTokenizer, error) {
	var n jsonNode
	if err := json.Unmarshal(data, &n); err != nil {
		return nil, fmt.Errorf("tokenizer: pre_tokenizer: %v", err)
	}
	switch n.Type {
	case "Sequence":
		var seq sequencePre
		for _, c := range n.Pretokenizers {
			p, err := parsePreTokenizer(c)
			if err != nil {
				return nil, err
			}
			seq = append(seq, p)
		}
		return seq, nil
	case "Split":
		if n.Pattern == nil {
			return nil, fmt.Errorf("tokenizer: Split pre-tokenizer without pattern")
		}
		var pat string
		switch {
		case n.Pattern.Regex != nil:
			pat = *n.Pattern.Regex
		case n.Pattern.String != nil:
			pat = regexp.QuoteMeta(*n.Pattern.String)
		default:
			return nil, fmt.Errorf("tokenizer: Split pre-tokenizer without pattern")
		}
		if pat == "" {
			return nil, fmt.Errorf("tokenizer: Split pre-tokenizer with an empty pattern")
		}
		sp, err := compileSplitter(pat)
		if err != nil {
			return nil, err
		}
		b, err := parseBehavior(n.Behavior)
		if err != nil {
			return nil, err
		}
		return &regexSplit{sp: sp, behavior: b, invert: n.Invert}, nil
	case "ByteLevel":
		p := &byteLevelPre{addPrefixSpace: n.AddPrefixSpace}
		if n.UseRegex == nil || *n.UseRegex {
			sp, err := compileSplitter(gpt2Pattern)
			if err != nil {
				return nil, err
			}
			p.re = &regexSplit{sp: sp, behavior: splitIsolated}
		}
		return p, nil
	case "Digits":
		return &digitsPre{individual: n.IndividualDigits}, nil
	}
	return nil, fmt.Errorf("tokenizer: pre_tokenizer %q is not supported", n.Type)
}

// parsePost reads the post-processor into the prefix and suffix ids of a single sequence.
func (p *pipeline) parsePost(data json.RawMessage) error {
	var n jsonNode
	if err := json.Unmarshal(data, &n); err != nil {
		return fmt.Errorf("tokenizer: post_processor: %v", err)
	}
	switch n.Type {
	case "ByteLevel":
		return nil // offsets only
	case "Sequence":
		for _, c := range n.Processors {
			if err := p.parsePost(c); err != nil {
				return err
			}
		}
		return nil
	case "TemplateProcessing":
		seen := false
		for _, it := range n.Single {
			switch {
			case it.Sequence != nil:
				if seen {
					return fmt.Errorf("tokenizer: TemplateProcessing single template with two sequences")
				}
				seen = true
			case it.SpecialToken != nil:
				st, ok := n.SpecialTokens[it.SpecialToken.ID]
				if !ok {
					return fmt.Errorf("tokenizer: TemplateProcessing special token %q is not defined", it.SpecialToken.ID)
				}
				if seen {
					p.suffix = append(p.suffix, st.IDs...)
				} else {
					p.prefix = append(p.prefix, st.IDs...)
				}
			}
		}
		if !seen {
			return fmt.Errorf("tokenizer: TemplateProcessing single template without the sequence")
		}
		return nil
	case "RobertaProcessing", "BertProcessing":
		cls, err := tokenPair(n.Cls)
		if err != nil {
			return err
		}
		sep, err := tokenPair(n.Sep)
		if err != nil {
			return err
		}
		p.prefix = append(p.prefix, cls)
		p.suffix = append(p.suffix, sep)
		return nil
	}
	return fmt.Errorf("tokenizer: post_processor %q is not supported", n.Type)
}

// tokenPair reads the id of a ["token", id] pair.
func tokenPair(v []json.RawMessage) (int, error) {
	var id int
	if len(v) != 2 || json.Unmarshal(v[1], &id) != nil {
		return 0, fmt.Errorf("tokenizer: post_processor token is not a [token, id] pair")
	}
	return id, nil
}

// Encode returns the ids of text with special tokens, i.e. with what the post-processor adds
// (for example a BOS token).
func (t *ByteLevel) Encode(text string) ([]int, error) {
	return t.p.encode(text, true), nil
}

// EncodeSpecial returns the ids of text; addSpecial says whether the post-processor runs (as
// add_special_tokens in Hugging Face tokenizers). Added tokens written in the text, such as
// "<begin_of_image>", are matched either way.
func (t *ByteLevel) EncodeSpecial(text string, addSpecial bool) ([]int, error) {
	return t.p.encode(text, addSpecial), nil
}

// Decode returns the text of ids with the file's decoder (ByteLevel or none), special tokens
// included as their content and no clean-up of spaces (clean_up_tokenization_spaces false).
func (t *ByteLevel) Decode(ids []int) (string, error) { return t.p.decode(ids) }

// TokenID returns the id of a token string, such as "<begin_of_image>".
func (t *ByteLevel) TokenID(token string) (int, bool) { return t.p.tokenID(token) }

// Token returns the string of a token id.
func (t *ByteLevel) Token(id int) (string, bool) { return t.p.tokenString(id) }

// IsSpecial reports whether id is an added token marked special.
func (t *ByteLevel) IsSpecial(id int) bool { return t.p.special[id] }
