package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// TestHGemv runs HGemv on every set against a float64 reference over
// shapes with tails around the 8- and 32-column strips and the 256-column
// chunks, odd strides and misaligned outputs, with guard bands; each set's
// result must not depend on the thread count.
func TestHGemv(t *testing.T) {
	r := rand.New(rand.NewSource(21))
	for _, set := range Sets() {
		useSet(t, set)
		for _, m := range []int{1, 2, 3, 5} {
			for _, n := range []int{1, 7, 8, 9, 31, 32, 33, 41, 257, 300} {
				for _, k := range []int{0, 1, 2, 17, 130} {
					name := fmt.Sprintf("%s/m%d_n%d_k%d", set, m, n, k)
					lda, ldb, ldc := k+r.Intn(3), n+r.Intn(3), n+r.Intn(3)
					a := nnRand(r, max(0, (m-1)*lda+k))
					b := make([]uint16, max(0, (k-1)*ldb+n))
					bf := make([]float32, len(b))
					for i := range b {
						b[i] = f16bits(r.Float32()*2 - 1)
						bf[i] = nnH2F(b[i])
					}
					want, scale := refGemm(m, n, k, 1, a, lda, false, bf, ldb, false, 0, nil, ldc)
					size := (m-1)*ldc + n
					var first []float32
					for _, th := range []int{1, 2, 3} {
						off := (th + n) % 4
						fill := nnRand(r, size)
						buf, got := guarded(size, off, fill)
						asave := append([]float32(nil), a...)
						HGemv(m, n, k, a, lda, b, ldb, got, ldc, th)
						checkGuards(t, name, buf, off, size, fill, n, ldc)
						checkUnchanged(t, name, a, asave)
						if err := compareF32(got, ldc, want, scale, m, n); err != nil {
							t.Fatalf("%s threads=%d: %v", name, th, err)
						}
						if first == nil {
							first = append([]float32(nil), got...)
						}
						for i := 0; i < m; i++ {
							for j := 0; j < n; j++ {
								if math.Float32bits(got[i*ldc+j]) != math.Float32bits(first[i*ldc+j]) {
									t.Fatalf("%s threads=%d: C[%d,%d] differs from threads=1", name, th, i, j)
								}
							}
						}
					}
				}
			}
		}
	}
}
