package kernels

import (
	"fmt"
	"math/rand"
	"testing"
)

// Decode-step GEMV benchmarks on the shape of a Janus-Pro MLP projection,
// 2 rows (guidance) x K=2048 x N=5632, for every usable set at 1 and
// DefaultThreads() threads (go test -run xxx -bench 'QGemv|HGemv'
// -benchtime 3x). GB/s counts the weight bytes read once per call (codes
// and scales, or fp16 values); compare with the DRAM read bandwidth
// (about 23-25 GB/s on 2 cores of the project machine).

func BenchmarkQGemv(b *testing.B) {
	const m, k, n, bs = 2, 2048, 5632, 32
	r := rand.New(rand.NewSource(5))
	w, _ := qtBuild(qtCase{n: n, k: k, bs: bs, bits: 4}, r)
	a := qtRandA(r, m, k)
	c := make([]float32, m*n)
	bytes := float64(len(w.Data) + 4*len(w.ScalesF32))
	var qa QuantizedA
	for _, path := range []string{"float", "int8"} {
		for _, set := range Sets() {
			for _, th := range []int{1, DefaultThreads()} {
				b.Run(fmt.Sprintf("%s/%s/threads=%d", path, set, th), func(b *testing.B) {
					useSetB(b, set)
					run := func() {
						if path == "float" {
							QGemm(m, a, k, w, nil, c, n, th)
						} else {
							QuantizeA(&qa, m, k, bs, a, k)
							QGemmInt8(&qa, w, nil, c, n, th)
						}
					}
					run()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						run()
					}
					b.ReportMetric(bytes*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
				})
			}
		}
	}
}

func BenchmarkHGemv(b *testing.B) {
	const m, k, n = 2, 2048, 5632
	r := rand.New(rand.NewSource(6))
	a := nnRand(r, m*k)
	w := make([]uint16, k*n)
	for i := range w {
		w[i] = f16bits(r.Float32()*0.04 - 0.02)
	}
	c := make([]float32, m*n)
	for _, set := range Sets() {
		for _, th := range []int{1, DefaultThreads()} {
			b.Run(fmt.Sprintf("%s/threads=%d", set, th), func(b *testing.B) {
				useSetB(b, set)
				HGemv(m, n, k, a, k, w, n, c, n, th)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					HGemv(m, n, k, a, k, w, n, c, n, th)
				}
				b.ReportMetric(float64(2*k*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			})
		}
	}
}

// useSetB selects set name for the rest of the benchmark.
func useSetB(b *testing.B, name string) {
	b.Helper()
	restore, err := Use(name)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(restore)
}
