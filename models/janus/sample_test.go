package janus

import (
	"math"
	"slices"
	"testing"
)

func TestArgmax(t *testing.T) {
	nan := float32(math.NaN())
	for _, c := range []struct {
		v    []float32
		want int
	}{
		{[]float32{1, 3, 2}, 1},
		{[]float32{5, 5, 5}, 0},
		{[]float32{1, 7, 3, 7}, 1},
		{[]float32{nan, 2, nan, 2}, 1},
		{[]float32{float32(math.Inf(-1)), -1e30}, 1},
		{[]float32{nan}, -1},
		{nil, -1},
	} {
		if got := Argmax(c.v); got != c.want {
			t.Errorf("Argmax(%v) = %d, want %d", c.v, got, c.want)
		}
	}
}

func TestGreedy(t *testing.T) {
	got, err := Sample([]float32{0, 9, 9, 1}, Sampling{}, nil)
	if err != nil || got != 1 {
		t.Fatalf("greedy = %d, %v; want 1", got, err)
	}
	if _, err := Sample([]float32{float32(math.NaN())}, Sampling{}, nil); err == nil {
		t.Fatal("all-NaN logits: no error")
	}
	if _, err := Sample(nil, Sampling{Temperature: 1}, NewRNG(1)); err == nil {
		t.Fatal("empty logits: no error")
	}
}

// support draws many samples and returns the set of indices seen.
func support(t *testing.T, logits []float32, s Sampling, n int) []int {
	t.Helper()
	rng := NewRNG(7)
	seen := map[int]bool{}
	for range n {
		i, err := Sample(logits, s, rng)
		if err != nil {
			t.Fatal(err)
		}
		seen[i] = true
	}
	var out []int
	for i := range seen {
		out = append(out, i)
	}
	slices.Sort(out)
	return out
}

func TestTopKTopPSets(t *testing.T) {
	// probabilities at temperature 1 of log(p): 0.5, 0.25, 0.15, 0.1
	lg := func(ps ...float64) []float32 {
		v := make([]float32, len(ps))
		for i, p := range ps {
			v[i] = float32(math.Log(p))
		}
		return v
	}
	logits := lg(0.1, 0.5, 0.15, 0.25)
	for _, c := range []struct {
		name string
		s    Sampling
		want []int
	}{
		{"all", Sampling{Temperature: 1}, []int{0, 1, 2, 3}},
		{"top1", Sampling{Temperature: 1, TopK: 1}, []int{1}},
		{"top2", Sampling{Temperature: 1, TopK: 2}, []int{1, 3}},
		{"top3", Sampling{Temperature: 1, TopK: 3}, []int{1, 2, 3}},
		{"p0.5", Sampling{Temperature: 1, TopP: 0.5}, []int{1}},
		{"p0.6", Sampling{Temperature: 1, TopP: 0.6}, []int{1, 3}},
		{"p0.8", Sampling{Temperature: 1, TopP: 0.8}, []int{1, 2, 3}},
		{"p0.01", Sampling{Temperature: 1, TopP: 0.01}, []int{1}},
		{"k3p0.6", Sampling{Temperature: 1, TopK: 3, TopP: 0.6}, []int{1, 3}},
	} {
		if got := support(t, logits, c.s, 4000); !slices.Equal(got, c.want) {
			t.Errorf("%s: drew %v, want %v", c.name, got, c.want)
		}
	}
	// top-k keeps every value tied with the k-th.
	if got := support(t, []float32{1, 2, 2, 0}, Sampling{Temperature: 1, TopK: 1}, 2000); !slices.Equal(got, []int{1, 2}) {
		t.Errorf("tied top-k: drew %v, want [1 2]", got)
	}
}

func TestSampleFrequencies(t *testing.T) {
	// Temperature 2 flattens log(0.8), log(0.2) to sqrt-ratio 2:1.
	logits := []float32{float32(math.Log(0.8)), float32(math.Log(0.2))}
	rng := NewRNG(123)
	n, c0 := 20000, 0
	for range n {
		i, _ := Sample(logits, Sampling{Temperature: 2}, rng)
		if i == 0 {
			c0++
		}
	}
	if f := float64(c0) / float64(n); math.Abs(f-2.0/3) > 0.02 {
		t.Errorf("frequency of 0 = %.3f, want 0.667", f)
	}
}

func TestRNGDeterministic(t *testing.T) {
	a, b, c := NewRNG(42), NewRNG(42), NewRNG(43)
	same := true
	for range 100 {
		x, y, z := a.Float64(), b.Float64(), c.Float64()
		if x != y {
			t.Fatal("same seed, different draws")
		}
		if x < 0 || x >= 1 {
			t.Fatalf("draw %v outside [0,1)", x)
		}
		same = same && x == z
	}
	if same {
		t.Fatal("seeds 42 and 43 give the same stream")
	}
	// Known-answer: PCG32 reference output for pcg32_srandom_r(42, 54) (pcg-c-basic demo).
	r := &RNG{inc: 54<<1 | 1}
	r.Uint32()
	r.state += 42
	r.Uint32()
	want := []uint32{0xa15c02b7, 0x7b47f409, 0xba1d3330, 0x83d2f293, 0xbfa4784b, 0xcbed606e}
	for i, w := range want {
		if g := r.Uint32(); g != w {
			t.Fatalf("draw %d = %#x, want %#x", i, g, w)
		}
	}
}
