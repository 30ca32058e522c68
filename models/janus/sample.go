package janus

import (
	"errors"
	"math"
	"sort"
)

// Sampling settings for one image token.
type Sampling struct {
	// Temperature divides the logits before the softmax; 0 means greedy
	// (argmax, first index on ties).
	Temperature float64
	// TopK keeps the K highest logits (and any tied with the K-th); 0 turns it off.
	TopK int
	// TopP keeps the smallest set of most probable tokens whose probabilities
	// sum to at least TopP (nucleus sampling); 0 or ≥ 1 turns it off.
	TopP float64
}

// RNG is the sampler's random stream: PCG32 (O'Neill's PCG-XSH-RR, 64-bit
// LCG state, multiplier 6364136223846793005) seeded like the reference
// pcg32_srandom_r with the increment of PCG32_INITIALIZER (0xda3e39cb94b95bdb). Each draw of a uniform
// float64 in [0,1) takes two 32-bit outputs (53 bits). The stream depends
// only on the seed, never on the number of threads.
type RNG struct{ state, inc uint64 }

// NewRNG seeds a stream.
func NewRNG(seed uint64) *RNG {
	r := &RNG{inc: 0xda3e39cb94b95bdb}
	r.Uint32()
	r.state += seed
	r.Uint32()
	return r
}

// Uint32 returns the next 32-bit output.
func (r *RNG) Uint32() uint32 {
	old := r.state
	r.state = old*6364136223846793005 + r.inc
	xorshifted := uint32(((old >> 18) ^ old) >> 27)
	rot := uint32(old >> 59)
	return xorshifted>>rot | xorshifted<<((-rot)&31)
}

// Float64 returns a uniform value in [0,1) with 53 random bits.
func (r *RNG) Float64() float64 {
	hi := uint64(r.Uint32()) >> 5 // 27 bits
	lo := uint64(r.Uint32()) >> 6 // 26 bits
	return float64(hi<<26|lo) / (1 << 53)
}

// Argmax returns the index of the largest value, the first one on ties.
// NaN values are never chosen; it returns -1 when every value is NaN or v is empty.
func Argmax(v []float32) int {
	best := -1
	for i, x := range v {
		if x != x {
			continue
		}
		if best < 0 || x > v[best] {
			best = i
		}
	}
	return best
}

var errNaN = errors.New("janus: the logits are all NaN")

// Sample picks one index from logits with s and rng (rng is not used when
// s.Temperature is 0). Probabilities are computed in float64 after
// temperature, then top-k, then top-p, as Hugging Face's logits warpers do.
func Sample(logits []float32, s Sampling, rng *RNG) (int, error) {
	if s.Temperature <= 0 {
		i := Argmax(logits)
		if i < 0 {
			return 0, errNaN
		}
		return i, nil
	}
	n := len(logits)
	if n == 0 {
		return 0, errors.New("janus: no logits to sample from")
	}
	// Candidates sorted by logit, descending; ties by index.
	idx := make([]int, 0, n)
	for i, x := range logits {
		if x == x {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return 0, errNaN
	}
	sort.SliceStable(idx, func(a, b int) bool { return logits[idx[a]] > logits[idx[b]] })
	if k := s.TopK; k > 0 && k < len(idx) {
		th := logits[idx[k-1]]
		m := k
		for m < len(idx) && logits[idx[m]] >= th {
			m++
		}
		idx = idx[:m]
	}
	maxv := float64(logits[idx[0]]) / s.Temperature
	p := make([]float64, len(idx))
	var sum float64
	for j, i := range idx {
		p[j] = math.Exp(float64(logits[i])/s.Temperature - maxv)
		sum += p[j]
	}
	for j := range p {
		p[j] /= sum
	}
	if s.TopP > 0 && s.TopP < 1 {
		var cum float64
		m := 0
		for m < len(p) && (m == 0 || cum < s.TopP) {
			cum += p[m]
			m++
		}
		idx, p = idx[:m], p[:m]
		sum = cum
	} else {
		sum = 1
	}
	u := rng.Float64() * sum
	for j, q := range p {
		u -= q
		if u < 0 {
			return idx[j], nil
		}
	}
	return idx[len(idx)-1], nil
}
