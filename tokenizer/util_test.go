package tokenizer

// Reference tests follow the pattern of ollama's tokenizer reference tests: the expected ids
// come from the reference tokenizers (Transformers.js 4.3.1, cross-checked with Hugging Face
// tokenizers 0.23.2) and live in the shared test data as JSON lines, one prompt per line; the
// tests skip when that data is absent. To add a case, add a row to the reference file with the
// generator named in its README; nothing here is pasted by hand.

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// sharedPath returns ../shared/testdata/<elem...> relative to the repository root, skipping
// the test when it is absent.
func sharedPath(t testing.TB, elem ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{"..", "..", "shared", "testdata"}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared test data %s is absent (expected beside the checkout): %v", p, err)
	}
	return p
}

// readJSONL decodes every line of a JSON-lines file into a T.
func readJSONL[T any](t testing.TB, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<24)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var r T
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatalf("%s: no rows", path)
	}
	return rows
}

type clipRow struct {
	ID           string   `json:"id"`
	Prompt       string   `json:"prompt"`
	IDs          []int    `json:"ids"`
	Truncated    bool     `json:"truncated"`
	InputIDs     []int    `json:"input_ids"`
	InputIDsPad0 []int    `json:"input_ids_pad0"`
	Tokens       []string `json:"tokens"`
}

type llamaRow struct {
	ID              string   `json:"id"`
	Prompt          string   `json:"prompt"`
	IDs             []int    `json:"ids"`
	Tokens          []string `json:"tokens"`
	DecodeRoundtrip bool     `json:"decode_roundtrip"`
}

type janusRow struct {
	ID           string   `json:"id"`
	Prompt       string   `json:"prompt"`
	IDs          []int    `json:"ids"`
	IDsNoSpecial []int    `json:"ids_no_special"`
	Tokens       []string `json:"tokens"`
	Decoded      string   `json:"decoded"`
	T2IText      string   `json:"t2i_text"`
	T2IIDs       []int    `json:"t2i_ids"`
}

// checkIDs fails the test when got differs from want, showing the first difference.
func checkIDs(t *testing.T, what string, got, want []int) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	t.Errorf("%s: first difference at %d (len got %d, want %d)\n got  %v\n want %v", what, i, len(got), len(want), got, want)
}

// tokenStrings maps ids to their token strings.
func tokenStrings(t *testing.T, tok interface{ Token(int) (string, bool) }, ids []int) []string {
	t.Helper()
	out := make([]string, len(ids))
	for i, id := range ids {
		s, ok := tok.Token(id)
		if !ok {
			t.Fatalf("id %d has no token", id)
		}
		out[i] = s
	}
	return out
}

// mustEncode encodes or fails the test.
func mustEncode(t testing.TB, tok Tokenizer, s string) []int {
	t.Helper()
	ids, err := tok.Encode(s)
	if err != nil {
		t.Fatalf("Encode(%q): %v", s, err)
	}
	return ids
}
