package kernels

import (
	"github.com/x448/float16"
	"math"
	"math/rand"
	"os"
	"testing"
	"time"
)

func nnNaive(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			r := float64(alpha) * s
			if beta != 0 {
				r += float64(beta) * float64(c[i*ldc+j])
			}
			c[i*ldc+j] = float32(r)
		}
	}
}

func nnRand(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = r.Float32()*2 - 1
	}
	return v
}

func TestSgemm(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	sizes := []int{0, 1, 2, 3, 5, 7, 17, 65, 130, 300}
	cases := 0
	for _, m := range sizes {
		for _, n := range sizes {
			for _, k := range sizes {
				if (m > 65 || n > 65) && k > 65 && !(m == 130 && n == 17 && k == 300) {
					continue
				}
				tA, tB := cases%2 == 1, cases%4 >= 2
				alpha := []float32{1, 0.5, -2}[cases%3]
				beta := []float32{0, 1, 0.25}[cases%3]
				cases++
				lda, ldb, ldc := k+1, n+2, n+3
				if tA {
					lda = m + 1
				}
				if tB {
					ldb = k + 2
				}
				a := nnRand(r, max(m, k)*lda+1)
				b := nnRand(r, max(n, k)*ldb+1)
				c0 := nnRand(r, m*ldc+1)
				want := append([]float32(nil), c0...)
				nnNaive(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, want, ldc)
				var first []float32
				for _, th := range []int{1, 3, 8} {
					got := append([]float32(nil), c0...)
					Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, got, ldc, th)
					for i := range got {
						d := math.Abs(float64(got[i] - want[i]))
						if d > 1e-4*float64(k+1) {
							t.Fatalf("m=%d n=%d k=%d tA=%v tB=%v th=%d: c[%d]=%g want %g", m, n, k, tA, tB, th, i, got[i], want[i])
						}
					}
					if first == nil {
						first = got
					} else {
						for i := range got {
							if math.Float32bits(got[i]) != math.Float32bits(first[i]) {
								t.Fatalf("m=%d n=%d k=%d: thread count changes bits at %d", m, n, k, i)
							}
						}
					}
				}
			}
		}
	}
}

func TestGemmF16(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	m, n, k := 13, 9, 21
	a := nnRand(r, m*k)
	b := nnRand(r, k*n)
	bh := make([]uint16, len(b))
	for i, v := range b {
		bh[i] = f16bits(v)
		b[i] = nnH2F(bh[i])
	}
	want := make([]float32, m*n)
	nnNaive(false, false, m, n, k, 1, a, k, b, n, 0, want, n)
	got := make([]float32, m*n)
	Gemm(m, n, k, 1, Operand{F32: a, LD: k}, Operand{F16: bh, LD: n}, 0, got, n, 2)
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > 1e-4 {
			t.Fatalf("c[%d]=%g want %g", i, got[i], want[i])
		}
	}
}

// TestSgemmSpeed reports GFLOP/s for a 512^3 product; set NN_GEMM_SPEED=1.
func TestSgemmSpeed(t *testing.T) {
	if os.Getenv("NN_GEMM_SPEED") == "" {
		t.Skip("set NN_GEMM_SPEED=1")
	}
	r := rand.New(rand.NewSource(3))
	const s = 512
	a, b, c := nnRand(r, s*s), nnRand(r, s*s), make([]float32, s*s)
	for _, th := range []int{1, DefaultThreads()} {
		Sgemm(false, false, s, s, s, 1, a, s, b, s, 0, c, s, th)
		t0 := time.Now()
		const reps = 3
		for i := 0; i < reps; i++ {
			Sgemm(false, false, s, s, s, 1, a, s, b, s, 0, c, s, th)
		}
		d := time.Since(t0).Seconds() / reps
		t.Logf("threads=%d: %.3f ms, %.2f GFLOP/s", th, d*1e3, 2*s*s*s/d/1e9)
	}
}

func f16bits(v float32) uint16 { return uint16(float16.Fromfloat32(v)) }
