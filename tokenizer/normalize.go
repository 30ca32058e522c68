package tokenizer

import (
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file holds the text normalizers: Unicode NFC (UAX #15, with the tables of
// nfc_tables.go), full Unicode lowercasing as JavaScript's toLowerCase and Rust's
// str::to_lowercase do it, and Unicode whitespace.

type nfcRange struct {
	lo, hi rune
	ccc    uint8
}

type nfcDecomposition struct {
	r rune
	d [4]rune
}

type nfcComposition struct {
	a, b, c rune
}

// nfcComposeMap maps a<<21|b to the primary composite of a and b.
var nfcComposeMap = func() map[uint64]rune {
	m := make(map[uint64]rune, len(nfcCompose))
	for _, c := range nfcCompose {
		m[uint64(c.a)<<21|uint64(c.b)] = c.c
	}
	return m
}()

// Hangul syllable constants (Unicode §3.12).
const (
	hangulSBase  = 0xAC00
	hangulLBase  = 0x1100
	hangulVBase  = 0x1161
	hangulTBase  = 0x11A7
	hangulLCount = 19
	hangulVCount = 21
	hangulTCount = 28
	hangulNCount = hangulVCount * hangulTCount
	hangulSCount = hangulLCount * hangulNCount
)

// combiningClass returns the canonical combining class of r.
func combiningClass(r rune) uint8 {
	if r < 0x300 {
		return 0
	}
	i := sort.Search(len(nfcCCC), func(i int) bool { return nfcCCC[i].hi >= r })
	if i < len(nfcCCC) && nfcCCC[i].lo <= r {
		return nfcCCC[i].ccc
	}
	return 0
}

// appendDecomposed appends the full canonical decomposition of r to dst.
func appendDecomposed(dst []rune, r rune) []rune {
	if r < 0xC0 {
		return append(dst, r)
	}
	if s := r - hangulSBase; s >= 0 && s < hangulSCount {
		dst = append(dst, hangulLBase+s/hangulNCount, hangulVBase+(s%hangulNCount)/hangulTCount)
		if t := s % hangulTCount; t != 0 {
			dst = append(dst, hangulTBase+t)
		}
		return dst
	}
	i := sort.Search(len(nfcDecomp), func(i int) bool { return nfcDecomp[i].r >= r })
	if i < len(nfcDecomp) && nfcDecomp[i].r == r {
		for _, d := range nfcDecomp[i].d {
			if d == 0 {
				break
			}
			dst = append(dst, d)
		}
		return dst
	}
	return append(dst, r)
}

// composePair returns the primary composite of a and b, if any.
func composePair(a, b rune) (rune, bool) {
	// Hangul LV and LVT.
	if l := a - hangulLBase; l >= 0 && l < hangulLCount {
		if v := b - hangulVBase; v >= 0 && v < hangulVCount {
			return hangulSBase + (l*hangulVCount+v)*hangulTCount, true
		}
	}
	if s := a - hangulSBase; s >= 0 && s < hangulSCount && s%hangulTCount == 0 {
		if t := b - hangulTBase; t > 0 && t < hangulTCount {
			return a + t, true
		}
	}
	c, ok := nfcComposeMap[uint64(a)<<21|uint64(b)]
	return c, ok
}

// nfc returns s in Unicode Normalization Form C. Invalid UTF-8 bytes become U+FFFD.
func nfc(s string) string {
	quick := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			quick = false
			break
		}
	}
	if quick {
		return s
	}
	// Every code point below U+0300 is a starter that is already NFC and composes with
	// nothing that is also below U+0300.
	quick = true
	for _, r := range s {
		if r >= 0x300 || r == utf8.RuneError {
			quick = false
			break
		}
	}
	if quick {
		return s
	}
	// Decompose.
	buf := make([]rune, 0, len(s))
	for _, r := range s {
		buf = appendDecomposed(buf, r)
	}
	// Canonical ordering: stable-sort every run of non-starters by combining class.
	for i := 0; i < len(buf); {
		if combiningClass(buf[i]) == 0 {
			i++
			continue
		}
		j := i
		for j < len(buf) && combiningClass(buf[j]) != 0 {
			j++
		}
		if j-i > 1 {
			slices.SortStableFunc(buf[i:j], func(a, b rune) int {
				return int(combiningClass(a)) - int(combiningClass(b))
			})
		}
		i = j
	}
	// Canonical composition.
	out := buf[:0]
	starter := -1
	var last uint8 // class of the last character kept after the starter; 0 right after it
	for _, r := range buf {
		cc := combiningClass(r)
		if starter >= 0 && (last < cc || last == 0 && len(out)-1 == starter) {
			if c, ok := composePair(out[starter], r); ok {
				out[starter] = c
				continue
			}
		}
		if cc == 0 {
			starter = len(out)
			last = 0
		} else {
			last = cc
		}
		out = append(out, r)
	}
	return string(out)
}

// isSpace reports whether r has the Unicode White_Space property (what `\s` means in the
// Rust and Oniguruma regular expressions of tokenizer.json files).
func isSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0x85, 0xA0:
		return true
	}
	if r < 0x1680 {
		return false
	}
	return unicode.Is(unicode.Z, r)
}

// isCased and isCaseIgnorable follow the Unicode definitions used by the Final_Sigma rule.
func isCased(r rune) bool {
	return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r) ||
		unicode.Is(unicode.Other_Lowercase, r) || unicode.Is(unicode.Other_Uppercase, r)
}

func isCaseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', '^', '`', 0xB7, 0x387, 0x55F, 0x5F4, 0x2018, 0x2019, 0x2024, 0x2027,
		0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A:
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}

// lowercase maps s to lowercase with the full (context-free plus Final_Sigma) Unicode
// lowercase mapping, as JavaScript's String.prototype.toLowerCase and Rust's
// str::to_lowercase do: U+0130 becomes "i\u0307" and a final capital sigma becomes ς.
func lowercase(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range rs {
		switch r {
		case 0x130:
			b.WriteString("i\u0307")
			continue
		case 0x3A3:
			if finalSigma(rs, i) {
				b.WriteRune(0x3C2)
			} else {
				b.WriteRune(0x3C3)
			}
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// finalSigma reports whether the capital sigma at rs[i] is word-final: preceded by a cased
// letter (skipping case-ignorable characters) and not followed by one.
func finalSigma(rs []rune, i int) bool {
	before := false
	for j := i - 1; j >= 0; j-- {
		if isCaseIgnorable(rs[j]) {
			continue
		}
		before = isCased(rs[j])
		break
	}
	if !before {
		return false
	}
	for j := i + 1; j < len(rs); j++ {
		if isCaseIgnorable(rs[j]) {
			continue
		}
		return !isCased(rs[j])
	}
	return true
}

// collapseSpace replaces every run of Unicode whitespace by one ASCII space.
func collapseSpace(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	inSpace := false
	for _, r := range s {
		if isSpace(r) {
			if !inSpace {
				b.WriteByte(' ')
			}
			inSpace = true
			continue
		}
		inSpace = false
		b.WriteRune(r)
	}
	return b.String()
}
