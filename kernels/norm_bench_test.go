package kernels

import (
	"fmt"
	"math/rand"
	"testing"
)

// nkBenchSets runs f for the generic set (the twin) and the default set.
func nkBenchSets(b *testing.B, f func(b *testing.B)) {
	names := []string{"generic"}
	if def := Active(); def != "generic" {
		names = append(names, def)
	}
	for _, name := range Sets() {
		if name != "generic" && name != Active() {
			names = append(names, name)
		}
	}
	for _, name := range names {
		b.Run(name, func(b *testing.B) {
			restore, err := Use(name)
			if err != nil {
				b.Fatal(err)
			}
			defer restore()
			f(b)
		})
	}
}

// BenchmarkGroupNorm: SD-Turbo's [1,320,64,64] with 32 groups, NCHW and
// NHWC, float32 and float16, 1 and 2 threads.
func BenchmarkGroupNorm(b *testing.B) {
	const n, c, hw, groups = 1, 320, 64 * 64, 32
	r := rand.New(rand.NewSource(1))
	x := nkRandF(r, n*c*hw, 2, 0.5)
	xh, _ := nkRandH(r, n*c*hw, 2, 0.5)
	y := make([]float32, len(x))
	yh := make([]uint16, len(x))
	gamma, beta := nkRandF(r, c, 1, 1), nkRandF(r, c, 1, 0)
	for _, layout := range []string{"nchw", "nhwc"} {
		for _, dt := range []string{"f32", "f16"} {
			for _, th := range []int{1, 2} {
				p := GroupNormParams{N: n, C: c, Spatial: hw, Groups: groups, NHWC: layout == "nhwc", Eps: 1e-5, Gamma: gamma, Beta: beta}
				b.Run(fmt.Sprintf("%s/%s/threads=%d", dt, layout, th), func(b *testing.B) {
					nkBenchSets(b, func(b *testing.B) {
						if dt == "f32" {
							b.SetBytes(int64(8 * len(x)))
							for i := 0; i < b.N; i++ {
								GroupNormF32(y, x, p, th)
							}
						} else {
							b.SetBytes(int64(4 * len(x)))
							for i := 0; i < b.N; i++ {
								GroupNormF16(yh, xh, p, th)
							}
						}
					})
				})
			}
		}
	}
}

// BenchmarkLayerNorm: [4096, 320] rows (float32, float16; LayerNorm and RMS).
func BenchmarkLayerNorm(b *testing.B) {
	const rows, cols = 4096, 320
	r := rand.New(rand.NewSource(2))
	x := nkRandF(r, rows*cols, 2, 0.5)
	xh, _ := nkRandH(r, rows*cols, 2, 0.5)
	y := make([]float32, len(x))
	yh := make([]uint16, len(x))
	gamma, beta := nkRandF(r, cols, 1, 1), nkRandF(r, cols, 1, 0)
	for _, rms := range []bool{false, true} {
		for _, dt := range []string{"f32", "f16"} {
			p := LayerNormParams{Rows: rows, Cols: cols, Eps: 1e-5, RMS: rms, Gamma: gamma, Beta: beta}
			b.Run(fmt.Sprintf("%s/rms=%v", dt, rms), func(b *testing.B) {
				nkBenchSets(b, func(b *testing.B) {
					if dt == "f32" {
						b.SetBytes(int64(8 * len(x)))
						for i := 0; i < b.N; i++ {
							LayerNormF32(y, x, p, 1)
						}
					} else {
						b.SetBytes(int64(4 * len(x)))
						for i := 0; i < b.N; i++ {
							LayerNormF16(yh, xh, p, 1)
						}
					}
				})
			})
		}
	}
}

// BenchmarkSoftmax: 5·4096 rows of 4096 (attention scores of a 64x64
// latent, 5 heads), float32, one thread.
func BenchmarkSoftmax(b *testing.B) {
	rows, cols := 5*4096, 4096
	if testing.Short() {
		rows = 256
	}
	r := rand.New(rand.NewSource(3))
	x := nkRandF(r, rows*cols, 8, 0)
	y := make([]float32, len(x))
	nkBenchSets(b, func(b *testing.B) {
		b.SetBytes(int64(8 * len(x)))
		for i := 0; i < b.N; i++ {
			SoftmaxF32(y, x, rows, cols, false, 1)
		}
	})
}

// BenchmarkGelu: 1M values of the exact GELU and of SiLU, one thread.
func BenchmarkGelu(b *testing.B) {
	r := rand.New(rand.NewSource(4))
	x := nkRandF(r, 1<<20, 4, 0)
	y := make([]float32, len(x))
	for _, f := range []struct {
		name string
		fn   func(dst, src []float32)
	}{{"gelu", GeluF32}, {"silu", SiLUF32}, {"exp", ExpF32}} {
		b.Run(f.name, func(b *testing.B) {
			nkBenchSets(b, func(b *testing.B) {
				b.SetBytes(int64(8 * len(x)))
				for i := 0; i < b.N; i++ {
					f.fn(y, x)
				}
			})
		})
	}
}
