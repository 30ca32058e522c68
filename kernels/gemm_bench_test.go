package kernels

import (
	"fmt"
	"math/rand"
	"testing"
)

// BenchmarkGemm reports GFLOP/s of single-threaded 1024^3 and 256^3 products
// for every usable kernel set (go test -run xxx -bench Gemm -benchtime 3x).
func BenchmarkGemm(b *testing.B) {
	r := rand.New(rand.NewSource(3))
	for _, s := range []int{256, 1024} {
		a, bb, c := nnRand(r, s*s), nnRand(r, s*s), make([]float32, s*s)
		for _, set := range Sets() {
			for _, th := range []int{1, DefaultThreads()} {
				if th == 1 && s == 256 {
					continue
				}
				b.Run(fmt.Sprintf("%s/%d/threads=%d", set, s, th), func(b *testing.B) {
					restore, err := Use(set)
					if err != nil {
						b.Fatal(err)
					}
					defer restore()
					Sgemm(false, false, s, s, s, 1, a, s, bb, s, 0, c, s, th)
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						Sgemm(false, false, s, s, s, 1, a, s, bb, s, 0, c, s, th)
					}
					b.ReportMetric(2*float64(s)*float64(s)*float64(s)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
