package tokenizer

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Tokenizer is what a pipeline needs from a tokenizer. *CLIP and *ByteLevel implement it.
type Tokenizer interface {
	// Encode returns the ids of text with the tokenizer's special tokens (CLIP: BOS and EOS;
	// tokenizer.json: what its post-processor adds), without truncation or padding.
	Encode(text string) ([]int, error)
	// Decode returns the text of ids.
	Decode(ids []int) (string, error)
	// TokenID returns the id of a token string, such as "<begin_of_image>".
	TokenID(token string) (int, bool)
}

var (
	_ Tokenizer = (*CLIP)(nil)
	_ Tokenizer = (*ByteLevel)(nil)
)

// Load opens the tokenizer at path, detecting its form: a folder with vocab.json and
// merges.txt or a gzip file (CLIP's bpe_simple_vocab_16e6.txt.gz) gives a *CLIP; a
// tokenizer.json file, or a folder holding one and no vocab.json, gives a *ByteLevel.
func Load(path string) (Tokenizer, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	if st.IsDir() {
		if exists(filepath.Join(path, "vocab.json")) && exists(filepath.Join(path, "merges.txt")) {
			return LoadCLIP(path)
		}
		if j := filepath.Join(path, "tokenizer.json"); exists(j) {
			return LoadJSON(j)
		}
		return nil, fmt.Errorf("tokenizer: %s has neither vocab.json with merges.txt nor tokenizer.json", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	head := make([]byte, 64)
	n, _ := io.ReadFull(f, head)
	f.Close()
	head = head[:n]
	switch {
	case isGzip(head):
		return LoadCLIP(path)
	case strings.HasPrefix(strings.TrimSpace(string(head)), "{"):
		return LoadJSON(path)
	}
	return nil, fmt.Errorf("tokenizer: %s is neither a tokenizer.json nor a gzip'ed CLIP merges file", path)
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
