package tokenizer

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file holds the pre-tokenizers: regular-expression splitting with the Hugging Face
// split behaviours, and the byte-level mapping.

// Unicode White_Space, which is what \s means in the Rust/Oniguruma patterns of
// tokenizer.json files (Go's \s is ASCII only).
const (
	reSpaceSet    = `\t\n\v\f\r \x{85}\p{Z}`
	reSpaceClass  = `[` + reSpaceSet + `]`
	reNoSpaceClas = `[^` + reSpaceSet + `]`
)

// lookaheadAlt is the one look-around form supported: a whitespace run that must not be
// followed by a non-space (GPT-2 and Llama 3 patterns). Go's regexp has no look-ahead; it is
// emulated in splitter.find.
const lookaheadAlt = `\s+(?!\S)`

// splitter finds the matches of a tokenizer.json regular expression.
type splitter struct {
	re  *regexp.Regexp
	ws  int            // submatch index of the emulated \s+(?!\S) alternative; -1 if none
	alt *regexp.Regexp // the pattern without that alternative, anchored; nil if none
}

// topLevelAlternatives splits a pattern at the '|' that are outside groups and classes.
func topLevelAlternatives(p string) []string {
	var alts []string
	depth, start, inClass := 0, 0, false
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\':
			i++
		case inClass:
			if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
			if i+1 < len(p) && p[i+1] == '^' {
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				i++
			}
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == '|' && depth == 0:
			alts = append(alts, p[start:i])
			start = i + 1
		}
	}
	return append(alts, p[start:])
}

// translateRegex rewrites a Rust/Oniguruma pattern into Go syntax: \s and \S become Unicode
// White_Space classes; look-around is refused.
func translateRegex(p string) (string, error) {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			n := p[i+1]
			i++
			switch {
			case n == 's' && inClass:
				b.WriteString(reSpaceSet)
			case n == 's':
				b.WriteString(reSpaceClass)
			case n == 'S' && !inClass:
				b.WriteString(reNoSpaceClas)
			case n == 'S':
				return "", fmt.Errorf("tokenizer: regex %q: \\S inside a character class is not supported", p)
			default:
				b.WriteByte('\\')
				b.WriteByte(n)
			}
		case inClass:
			if c == ']' {
				inClass = false
			}
			b.WriteByte(c)
		case c == '[':
			inClass = true
			b.WriteByte(c)
			if i+1 < len(p) && p[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				b.WriteString(`\]`)
				i++
			}
		case c == '(' && (strings.HasPrefix(p[i:], "(?=") || strings.HasPrefix(p[i:], "(?!") ||
			strings.HasPrefix(p[i:], "(?<=") || strings.HasPrefix(p[i:], "(?<!")):
			return "", fmt.Errorf("tokenizer: regex %q: look-around is not supported (only the alternative %s is)", p, lookaheadAlt)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// compileSplitter compiles a tokenizer.json Split regex.
func compileSplitter(pattern string) (*splitter, error) {
	alts := topLevelAlternatives(pattern)
	s := &splitter{ws: -1}
	var rest []string
	la := -1
	for i, a := range alts {
		if a == lookaheadAlt && la < 0 {
			la = i
			continue
		}
		rest = append(rest, a)
	}
	full := pattern
	if la >= 0 {
		parts := append([]string{}, alts...)
		parts[la] = `(?P<tokws>\s+)`
		full = strings.Join(parts, "|")
	}
	g, err := translateRegex(full)
	if err != nil {
		return nil, err
	}
	if s.re, err = regexp.Compile(g); err != nil {
		return nil, fmt.Errorf("tokenizer: regex %q: %v", pattern, err)
	}
	if la >= 0 {
		s.ws = s.re.SubexpIndex("tokws")
		if len(rest) > 0 {
			g, err := translateRegex(strings.Join(rest, "|"))
			if err != nil {
				return nil, err
			}
			if s.alt, err = regexp.Compile(`^(?:` + g + `)`); err != nil {
				return nil, fmt.Errorf("tokenizer: regex %q: %v", pattern, err)
			}
		}
	}
	return s, nil
}

// find appends the non-overlapping, non-empty matches of s in text to dst as [start, end)
// byte offsets, leftmost-first as Oniguruma and Rust's regex find them.
func (s *splitter) find(dst [][2]int, text string) [][2]int {
	pos := 0
	for pos < len(text) {
		m := s.re.FindStringSubmatchIndex(text[pos:])
		if m == nil {
			break
		}
		start, end := pos+m[0], pos+m[1]
		if s.ws >= 0 && m[2*s.ws] >= 0 && end < len(text) {
			// \s+(?!\S) matched the whole space run, which a non-space follows: the look-ahead
			// gives the last space back; a single space fails the alternative and the later
			// alternatives decide at this position.
			_, last := utf8.DecodeLastRuneInString(text[start:end])
			if end-last > start {
				end -= last
			} else {
				end = start
				if s.alt != nil {
					if a := s.alt.FindStringIndex(text[start:]); a != nil {
						end = start + a[1]
					}
				}
				if end == start {
					// Nothing matches here: search again from the next character.
					_, n := utf8.DecodeRuneInString(text[start:])
					pos = start + n
					continue
				}
			}
		}
		if end == start {
			_, n := utf8.DecodeRuneInString(text[start:])
			pos = start + n
			continue
		}
		dst = append(dst, [2]int{start, end})
		pos = end
	}
	return dst
}

// splitBehavior is tokenizers' SplitDelimiterBehavior.
type splitBehavior int

const (
	splitRemoved splitBehavior = iota
	splitIsolated
	splitMergedWithPrevious
	splitMergedWithNext
	splitContiguous
)

func parseBehavior(s string) (splitBehavior, error) {
	switch strings.ToLower(s) {
	case "removed":
		return splitRemoved, nil
	case "isolated":
		return splitIsolated, nil
	case "merged_with_previous", "mergedwithprevious":
		return splitMergedWithPrevious, nil
	case "merged_with_next", "mergedwithnext":
		return splitMergedWithNext, nil
	case "contiguous":
		return splitContiguous, nil
	}
	return 0, fmt.Errorf("tokenizer: unknown split behavior %q", s)
}

// preTokenizer splits pieces of text into smaller pieces.
type preTokenizer interface {
	split(dst []string, piece string) []string
}

// regexSplit is the Split pre-tokenizer (and the regex half of ByteLevel).
type regexSplit struct {
	sp       *splitter
	behavior splitBehavior
	invert   bool
}

func (r *regexSplit) split(dst []string, piece string) []string {
	var buf [32][2]int
	ms := r.sp.find(buf[:0], piece)
	// Spans covering the piece; delim marks the delimiters.
	type span struct {
		a, b  int
		delim bool
	}
	var spans []span
	prev := 0
	for _, m := range ms {
		if m[0] > prev {
			spans = append(spans, span{prev, m[0], r.invert})
		}
		spans = append(spans, span{m[0], m[1], !r.invert})
		prev = m[1]
	}
	if prev < len(piece) {
		spans = append(spans, span{prev, len(piece), r.invert})
	}
	switch r.behavior {
	case splitRemoved:
		for _, s := range spans {
			if !s.delim {
				dst = append(dst, piece[s.a:s.b])
			}
		}
	case splitIsolated:
		for _, s := range spans {
			dst = append(dst, piece[s.a:s.b])
		}
	case splitContiguous:
		for i := 0; i < len(spans); i++ {
			a := spans[i].a
			for spans[i].delim && i+1 < len(spans) && spans[i+1].delim {
				i++
			}
			dst = append(dst, piece[a:spans[i].b])
		}
	case splitMergedWithPrevious:
		start := 0
		for _, s := range spans {
			if s.delim {
				dst = append(dst, piece[start:s.b])
				start = s.b
			}
		}
		if start < len(piece) {
			dst = append(dst, piece[start:])
		}
	case splitMergedWithNext:
		start := 0
		for _, s := range spans {
			if s.delim && s.a > start {
				dst = append(dst, piece[start:s.a])
				start = s.a
			}
		}
		if start < len(piece) {
			dst = append(dst, piece[start:])
		}
	}
	return dst
}

// gpt2Pattern is the regex of the ByteLevel pre-tokenizer when use_regex is true.
const gpt2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

// byteLevelPre is the ByteLevel pre-tokenizer: optional prefix space, optional GPT-2 split,
// then every byte mapped to its byte-level symbol.
type byteLevelPre struct {
	addPrefixSpace bool
	re             *regexSplit // nil when use_regex is false
}

func (p *byteLevelPre) split(dst []string, piece string) []string {
	if p.addPrefixSpace && !strings.HasPrefix(piece, " ") {
		piece = " " + piece
	}
	n := len(dst)
	if p.re != nil {
		dst = p.re.split(dst, piece)
	} else {
		dst = append(dst, piece)
	}
	for i := n; i < len(dst); i++ {
		dst[i] = byteLevel(dst[i])
	}
	return dst
}

// digitsPre is the Digits pre-tokenizer: runs of ASCII-or-Unicode decimal digits are isolated,
// each digit alone when individual is set.
type digitsPre struct{ individual bool }

func (p *digitsPre) split(dst []string, piece string) []string {
	start := 0
	inDigit := false
	for i, r := range piece {
		d := unicode.IsNumber(r)
		if i > start && (d != inDigit || d && p.individual) {
			dst = append(dst, piece[start:i])
			start = i
		}
		inDigit = d
	}
	if start < len(piece) {
		dst = append(dst, piece[start:])
	}
	return dst
}

// sequencePre applies pre-tokenizers in order.
type sequencePre []preTokenizer

func (s sequencePre) split(dst []string, piece string) []string {
	cur := []string{piece}
	var next []string
	for _, p := range s {
		next = next[:0]
		for _, c := range cur {
			next = p.split(next, c)
		}
		cur, next = next, cur
	}
	return append(dst, cur...)
}
