package tokenizer

import (
	"testing"
	"unicode/utf8"
)

// The NFC tables were checked once against golang.org/x/text/unicode/norm (every code point
// alone and 2 million random sequences of decomposable, combining and Hangul characters);
// these cases keep the algorithm's corners under test without that dependency.
func TestNFC(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"ascii", "hello", "hello"},
		{"composed stays", "caf\u00e9", "caf\u00e9"},
		{"compose acute", "cafe\u0301", "caf\u00e9"},
		{"angstrom sign singleton", "\u212b", "\u00c5"},
		{"A ring decomposed", "A\u030a", "\u00c5"},
		{"reorder marks", "a\u0301\u0323", "\u1ea1\u0301"},         // dot below (220) before acute (230)
		{"blocked by same class", "a\u0301\u0301", "\u00e1\u0301"}, // second acute is blocked
		{"hangul LV", "\u1100\u1161", "\uac00"},
		{"hangul LVT", "\u1100\u1161\u11a8", "\uac01"},
		{"hangul LV + T", "\uac00\u11a8", "\uac01"},
		{"excluded composite", "\u0958", "\u0915\u093c"}, // DEVANAGARI QA is a composition exclusion
		{"leading combining mark", "\u0301a", "\u0301a"},
		{"greek dialytika tonos", "\u0390", "\u0390"},
		{"non-starter decomposition", "\u0344", "\u0308\u0301"},
		{"starter pair", "\u0b47\u0b3e", "\u0b4b"},
		{"invalid utf8", "a\xff\u0301", "a\ufffd\u0301"},
		{"latin1 only", "\u00e0\u00ff", "\u00e0\u00ff"},
	} {
		if got := nfc(tc.in); got != tc.want {
			t.Errorf("%s: nfc(%+q) = %+q, want %+q", tc.name, tc.in, got, tc.want)
		}
	}
	if nfcUnicodeVersion == "" || len(nfcCompose) < 900 || len(nfcDecomp) < 2000 {
		t.Errorf("NFC tables look incomplete: %d composites, %d decompositions", len(nfcCompose), len(nfcDecomp))
	}
}

func TestLowercase(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"HELLO World", "hello world"},
		{"ÀÉÎÕÜ", "àéîõü"},
		{"İstanbul", "i\u0307stanbul"},
		{"ΟΔΟΣ", "οδος"},
		{"ΟΔΟΣ.", "οδος."},
		{"ΣΑ", "σα"},
		{"Σ", "σ"},
		{"ΑΣ'Α", "ασ'α"},
		{"ＦＵＬＬ", "ｆｕｌｌ"},
		{"ẞ", "ß"},
	} {
		if got := lowercase(tc.in); got != tc.want {
			t.Errorf("lowercase(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSpace(t *testing.T) {
	for _, r := range []rune{'\t', '\n', '\v', '\f', '\r', ' ', 0x85, 0xA0, 0x1680, 0x2000, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000} {
		if !isSpace(r) {
			t.Errorf("isSpace(%U) = false", r)
		}
	}
	for _, r := range []rune{'a', 0x200B, 0xFEFF, 0x180E, '_'} {
		if isSpace(r) {
			t.Errorf("isSpace(%U) = true", r)
		}
	}
	if got := collapseSpace("\u3000a \t\n b\u00a0\u00a0c  "); got != " a b c " {
		t.Errorf("collapseSpace = %q", got)
	}
}

func TestByteLevelTable(t *testing.T) {
	seen := map[rune]bool{}
	for b := 0; b < 256; b++ {
		r := byteToRune[b]
		if seen[r] || runeToByte[r] != byte(b) {
			t.Fatalf("byte %d: symbol %U not a bijection", b, r)
		}
		seen[r] = true
	}
	if byteToRune[' '] != 'Ġ' || byteToRune['\n'] != 'Ċ' || byteOrder[0] != '!' || byteOrder[255] != 0xAD {
		t.Errorf("table order differs from GPT-2 bytes_to_unicode")
	}
	if s := validUTF8("a\xffb"); s != "a\uFFFDb" || !utf8.ValidString(s) {
		t.Errorf("validUTF8 = %q", s)
	}
}
