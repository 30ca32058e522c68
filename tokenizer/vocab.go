package tokenizer

import (
	"container/heap"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// byteToRune is GPT-2's bytes_to_unicode table: the printable bytes '!'..'~', '¡'..'¬' and
// '®'..'ÿ' map to themselves, the other 68 bytes to U+0100 upwards in byte order.
// byteOrder lists the bytes in the order of their symbols in CLIP's vocabulary (and of
// ids 0..255 in byte-level vocabularies built the same way).
var byteToRune, runeToByte, byteOrder = func() ([256]rune, map[rune]byte, [256]byte) {
	var b2r [256]rune
	var order [256]byte
	r2b := make(map[rune]byte, 256)
	printable := func(b int) bool {
		return b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE && b <= 0xFF
	}
	n, k := 0, 0
	for b := 0; b < 256; b++ {
		if printable(b) {
			b2r[b] = rune(b)
			order[k] = byte(b)
			k++
		}
	}
	for b := 0; b < 256; b++ {
		if !printable(b) {
			b2r[b] = rune(256 + n)
			n++
			order[k] = byte(b)
			k++
		}
	}
	for b, r := range b2r {
		r2b[r] = byte(b)
	}
	return b2r, r2b, order
}()

// byteLevel maps the bytes of s to their byte-level symbols.
func byteLevel(s string) string {
	var b strings.Builder
	b.Grow(2 * len(s))
	for i := 0; i < len(s); i++ {
		b.WriteRune(byteToRune[s[i]])
	}
	return b.String()
}

// validUTF8 returns s with every byte that is not part of valid UTF-8 replaced by U+FFFD.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}

// mergeInfo is what a BPE merge of two symbols yields.
type mergeInfo struct {
	rank int32
	id   int32
}

// bpe is a BPE model: a vocabulary, merge ranks and a per-word cache. It is safe for
// concurrent use.
type bpe struct {
	vocab  map[string]int
	tokens []string // id -> token; "" where no token has the id
	merges map[uint64]mergeInfo

	endOfWord    string // appended to the last symbol of every word ("</w>" for CLIP)
	unk          int    // -1 if none
	ignoreMerges bool   // a word that is itself a token is emitted whole
	byteFallback bool   // unknown characters become <0xXX> tokens
	fuseUnk      bool   // consecutive unknown characters give one unk

	mu    sync.Mutex
	cache map[string][]int
}

// bpeCacheMax bounds the per-word cache, which is cleared when full; words longer than
// bpeCacheWordMax bytes are not cached.
const (
	bpeCacheMax     = 1 << 16
	bpeCacheWordMax = 256
)

// newBPE builds a model from a token->id map and merges in rank order.
func newBPE(vocab map[string]int, merges [][2]string, endOfWord string) (*bpe, error) {
	m := &bpe{vocab: vocab, endOfWord: endOfWord, unk: -1, merges: make(map[uint64]mergeInfo, len(merges))}
	maxID := -1
	for tok, id := range vocab {
		if id < 0 || id > 1<<24 {
			return nil, fmt.Errorf("tokenizer: token %q has id %d out of range", tok, id)
		}
		maxID = max(maxID, id)
	}
	m.tokens = make([]string, maxID+1)
	for tok, id := range vocab {
		m.tokens[id] = tok
	}
	for rank, mg := range merges {
		a, okA := vocab[mg[0]]
		b, okB := vocab[mg[1]]
		if !okA || !okB {
			return nil, fmt.Errorf("tokenizer: merge %d (%q %q) uses a token not in the vocabulary", rank, mg[0], mg[1])
		}
		c, ok := vocab[mg[0]+mg[1]]
		if !ok {
			return nil, fmt.Errorf("tokenizer: merge %d (%q %q) yields a token not in the vocabulary", rank, mg[0], mg[1])
		}
		key := uint64(a)<<32 | uint64(b)
		if _, dup := m.merges[key]; !dup {
			m.merges[key] = mergeInfo{rank: int32(rank), id: int32(c)}
		}
	}
	return m, nil
}

// token returns the string of id, or "" if there is none.
func (m *bpe) token(id int) string {
	if id < 0 || id >= len(m.tokens) {
		return ""
	}
	return m.tokens[id]
}

// encodeWord appends the ids of one pre-token (already in byte-level symbols) to dst.
func (m *bpe) encodeWord(dst []int, word string) []int {
	if word == "" {
		return dst
	}
	m.mu.Lock()
	ids, ok := m.cache[word]
	m.mu.Unlock()
	if ok {
		return append(dst, ids...)
	}
	ids = m.merge(word)
	if len(word) > bpeCacheWordMax {
		return append(dst, ids...)
	}
	m.mu.Lock()
	if m.cache == nil || len(m.cache) >= bpeCacheMax {
		m.cache = make(map[string][]int)
	}
	m.cache[word] = ids
	m.mu.Unlock()
	return append(dst, ids...)
}

// bpeSymbol is one symbol of a word being merged, in a doubly linked list.
type bpeSymbol struct {
	id         int
	prev, next int
	gone       bool
}

// bpeCand is a candidate merge of the symbol at pos with its successor.
type bpeCand struct {
	rank int32
	pos  int
	id   int32
}

type bpeQueue []bpeCand

func (q bpeQueue) Len() int { return len(q) }
func (q bpeQueue) Less(i, j int) bool {
	if q[i].rank != q[j].rank {
		return q[i].rank < q[j].rank
	}
	return q[i].pos < q[j].pos
}
func (q bpeQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *bpeQueue) Push(x any)   { *q = append(*q, x.(bpeCand)) }
func (q *bpeQueue) Pop() (x any) { x, *q = (*q)[len(*q)-1], (*q)[:len(*q)-1]; return x }

// merge runs BPE on one word: repeatedly merge the adjacent pair of lowest rank (leftmost
// first), as Hugging Face tokenizers and CLIP's simple_tokenizer do. O(n log n) in the
// word length.
func (m *bpe) merge(word string) []int {
	if m.ignoreMerges {
		if id, ok := m.vocab[word]; ok {
			return []int{id}
		}
	}
	// Initial symbols: one per character, the end-of-word suffix joined to the last one.
	var syms []bpeSymbol
	var out []int
	addSym := func(id int) {
		syms = append(syms, bpeSymbol{id: id, prev: len(syms) - 1, next: len(syms) + 1})
	}
	for i, r := range word {
		ch := string(r)
		if i+utf8.RuneLen(r) == len(word) {
			ch += m.endOfWord
		}
		if id, ok := m.vocab[ch]; ok {
			addSym(id)
			continue
		}
		switch {
		case m.byteFallback:
			for k := 0; k < len(string(r)); k++ {
				if id, ok := m.vocab[fmt.Sprintf("<0x%02X>", string(r)[k])]; ok {
					addSym(id)
				} else if m.unk >= 0 {
					addSym(m.unk)
				}
			}
		case m.unk >= 0:
			if !m.fuseUnk || len(syms) == 0 || syms[len(syms)-1].id != m.unk {
				addSym(m.unk)
			}
		}
		// Without unk or byte fallback an unknown character is dropped, as in
		// Hugging Face tokenizers.
	}
	if len(syms) == 0 {
		return out
	}
	syms[len(syms)-1].next = -1
	var q bpeQueue
	pairAt := func(i int) {
		j := syms[i].next
		if j < 0 {
			return
		}
		if mi, ok := m.merges[uint64(syms[i].id)<<32|uint64(syms[j].id)]; ok {
			q = append(q, bpeCand{rank: mi.rank, pos: i, id: mi.id})
		}
	}
	for i := range syms {
		pairAt(i)
	}
	heap.Init(&q)
	for q.Len() > 0 {
		c := heap.Pop(&q).(bpeCand)
		s := &syms[c.pos]
		if s.gone || s.next < 0 {
			continue
		}
		mi, ok := m.merges[uint64(s.id)<<32|uint64(syms[s.next].id)]
		if !ok || mi.id != c.id {
			continue // stale candidate
		}
		nx := s.next
		s.id = int(c.id)
		syms[nx].gone = true
		s.next = syms[nx].next
		if s.next >= 0 {
			syms[s.next].prev = c.pos
		}
		if s.prev >= 0 {
			if mi, ok := m.merges[uint64(syms[s.prev].id)<<32|uint64(s.id)]; ok {
				heap.Push(&q, bpeCand{rank: mi.rank, pos: s.prev, id: mi.id})
			}
		}
		if s.next >= 0 {
			if mi, ok := m.merges[uint64(s.id)<<32|uint64(syms[s.next].id)]; ok {
				heap.Push(&q, bpeCand{rank: mi.rank, pos: c.pos, id: mi.id})
			}
		}
	}
	for i := 0; i >= 0; i = syms[i].next {
		out = append(out, syms[i].id)
	}
	return out
}
