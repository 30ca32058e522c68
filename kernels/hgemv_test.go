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

// TestHGemvKernel cross-checks every set's fp16-weight kernel against
// hgGeneric on 1 and 2 rows, column counts around the kernels' strips (8
// and 32 columns), odd strides and misaligned outputs, with guard bands and
// NaN weights in the columns past cols (inside ldb) that no result may see.
func TestHGemvKernel(t *testing.T) {
	r := rand.New(rand.NewSource(22))
	ks := qkSetsWith(func(s *Set) bool { return s.qk.hg != nil })
	if len(ks) == 0 {
		t.Skip("no fp16-weight GEMV kernel in this build")
	}
	for _, s := range ks {
		for _, m := range []int{1, 2} {
			for _, cols := range []int{8, 16, 24, 32, 40, 64, 72, 104} {
				for _, k := range []int{1, 2, 5, 33} {
					name := fmt.Sprintf("%s/m%d_c%d_k%d", s.Name, m, cols, k)
					lda, ldb, ldc := k+r.Intn(3), cols+r.Intn(9), cols+r.Intn(3)
					a := nnRand(r, (m-1)*lda+k)
					b := make([]uint16, (k-1)*ldb+cols)
					for i := range b {
						b[i] = f16bits(r.Float32()*2 - 1)
						if i%ldb >= cols {
							b[i] = 0x7e00
						}
					}
					j := hgJob{b: b, ldb: ldb, k: k, a: a, lda: lda, m: m, ldc: ldc, cols: cols}
					off := r.Intn(4)
					n := (m-1)*ldc + cols
					fill := nnRand(r, n)
					buf, payload := guarded(n, off, fill)
					want := append([]float32(nil), fill...)
					wj := j
					wj.c = want
					hgGeneric(wj)
					asave, bsave := append([]float32(nil), a...), append([]uint16(nil), b...)
					j.c = payload
					s.qk.hg(j)
					checkGuards(t, name, buf, off, n, fill, cols, ldc)
					checkUnchanged(t, name, a, asave)
					if fmt.Sprint(bsave) != fmt.Sprint(b) {
						t.Fatalf("%s: weights modified", name)
					}
					for i := 0; i < m; i++ {
						for c := 0; c < cols; c++ {
							var mag float64
							for p := 0; p < k; p++ {
								mag += math.Abs(float64(a[i*lda+p]) * float64(nnH2F(b[p*ldb+c])))
							}
							g, w := payload[i*ldc+c], want[i*ldc+c]
							if d := math.Abs(float64(g - w)); !(d <= 1e-6*mag) {
								t.Fatalf("%s: c[%d][%d] = %g, generic %g (mag %g)", name, i, c, g, w, mag)
							}
						}
					}
				}
			}
		}
	}
}
