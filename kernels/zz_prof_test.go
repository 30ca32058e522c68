package kernels

import (
	"math/rand"
	"testing"
	"unsafe"
)

func BenchmarkZZParts(b *testing.B) {
	const m, k, n, bs = 2, 2048, 5632, 32
	r := rand.New(rand.NewSource(5))
	w, _ := qtBuild(qtCase{n: n, k: k, bs: bs, bits: 4}, r)
	a := qtRandA(r, m, k)
	c := make([]float32, m*n)
	var qa QuantizedA
	QuantizeA(&qa, m, k, bs, a, k)
	b.Run("quantizeA", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			QuantizeA(&qa, m, k, bs, a, k)
		}
	})
	nb := k / bs
	aq := make([]int8, 8*256*m)
	asum := make([]int32, 8*8*m)
	sa := make([]float32, 8*8*m)
	b.Run("prep", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			qkPrepI8(&qa, nb, 1, true, aq, asum, sa)
		}
	})
	for _, set := range []string{"avx2", "avx512"} {
		for _, th := range []int{1, 2} {
			b.Run("kernel_"+set+map[int]string{1: "_t1", 2: "_t2"}[th], func(b *testing.B) {
				s := setByName(b, set)
				for i := 0; i < b.N; i++ {
					Parallel(th, 88, func(t int) {
						n0 := t * 64
						s.qk.i8(qkI8Job{w: w.Data[n0*nb*16:], rowBytes: nb * 16, cols: 64, nb: nb, sub: 1, mp: 2, aq: aq, asum: asum, sa: sa, wsF32: w.ScalesF32[n0*nb:], c: c[n0:], ldc: n})
					})
				}
			})
			b.Run("full_"+set+map[int]string{1: "_t1", 2: "_t2"}[th], func(b *testing.B) {
				useSetB(b, set)
				for i := 0; i < b.N; i++ {
					QuantizeA(&qa, m, k, bs, a, k)
					QGemmInt8(&qa, w, nil, c, n, th)
				}
			})
		}
	}
	for _, set := range []string{"avx2", "avx512"} {
		b.Run("l2_"+set, func(b *testing.B) {
			s := setByName(b, set)
			for i := 0; i < b.N; i++ {
				for rep := 0; rep < 22; rep++ {
					s.qk.i8(qkI8Job{w: w.Data, rowBytes: nb * 16, cols: 256, nb: nb, sub: 1, mp: 2, aq: aq, asum: asum, sa: sa, wsF32: w.ScalesF32, c: c, ldc: n})
				}
			}
		})
	}
	_ = unsafe.Pointer(nil)
}
