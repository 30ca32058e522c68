package kernels

import (
	"fmt"
	"math/rand"
	"testing"
)

// BenchmarkAttention times Attend on the SD-Turbo and Janus shapes for every
// usable kernel set (go test -run xxx -bench Attention -benchtime 3x):
// self-attention 5 heads x 64 at 4096 and 1024 tokens (K [S, D] and
// transposed), cross-attention to 77 keys, and a Janus decode step (2 x 16
// heads x 128, one query, past 322) with float32 and float16 K/V.
func BenchmarkAttention(b *testing.B) {
	type bc struct {
		name                string
		heads, sq, skv, d   int
		kTrans, f16, causal bool
	}
	cases := []bc{
		{"sd-self-4096", 5, 4096, 4096, 64, false, false, false},
		{"sd-self-4096-kT", 5, 4096, 4096, 64, true, false, false},
		{"sd-self-1024", 5, 1024, 1024, 64, false, false, false},
		{"sd-cross-4096x77", 5, 4096, 77, 64, false, false, false},
		{"janus-decode-past322", 32, 1, 323, 128, false, false, true},
		{"janus-decode-past322-f16", 32, 1, 323, 128, false, true, true},
	}
	r := rand.New(rand.NewSource(5))
	for _, c := range cases {
		H, Sq, Skv, D := c.heads, c.sq, c.skv, c.d
		q := nnRand(r, H*Sq*D)
		k := nnRand(r, H*Skv*D)
		v := nnRand(r, H*Skv*D)
		out := make([]float32, H*Sq*D)
		a := &Attention{Heads: H, Sq: Sq, Skv: Skv, D: D, Dv: D, Scale: 0.125, Causal: c.causal,
			Q: Operand{F32: q, LD: D}, K: Operand{F32: k, LD: D, Trans: c.kTrans}, V: Operand{F32: v, LD: D},
			Out: Operand{F32: out, LD: D},
			Head: func(p int) AttentionHead {
				return AttentionHead{Q: p * Sq * D, K: p * Skv * D, V: p * Skv * D, Out: p * Sq * D, Keys: Skv, CausalShift: Skv - Sq}
			}}
		if c.kTrans {
			a.K.LD = Skv
		}
		if c.f16 {
			k16, v16 := make([]uint16, len(k)), make([]uint16, len(v))
			for i := range k {
				k16[i], v16[i] = f16bits(k[i]), f16bits(v[i])
			}
			a.K, a.V = Operand{F16: k16, LD: D}, Operand{F16: v16, LD: D}
		}
		for _, set := range Sets() {
			for _, th := range []int{1, DefaultThreads()} {
				if set == "generic" && Sq*Skv > 1<<20 {
					continue
				}
				b.Run(fmt.Sprintf("%s/%s/threads=%d", c.name, set, th), func(b *testing.B) {
					restore, err := Use(set)
					if err != nil {
						b.Fatal(err)
					}
					defer restore()
					Attend(a, th)
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						Attend(a, th)
					}
					flops := 4 * float64(H) * float64(Sq) * float64(Skv) * float64(D)
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
