package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"os"
	"testing"

	"github.com/x448/float16"
)

func TestMain(m *testing.M) {
	fmt.Println(Describe())
	os.Exit(m.Run())
}

// guard is the sentinel stored in the bands around every output.
var guard = math.Float32frombits(0x7fc0dead)

const guardLen = 19

// guarded returns a buffer whose [off+guardLen, off+guardLen+n) window is the
// payload (filled with fill) and everything else is the sentinel; off shifts
// the payload to misaligned addresses.
func guarded(n, off int, fill []float32) (buf, payload []float32) {
	buf = make([]float32, n+2*guardLen+off)
	for i := range buf {
		buf[i] = guard
	}
	payload = buf[guardLen+off : guardLen+off+n]
	copy(payload, fill)
	return buf, payload
}

// checkGuards reports every sentinel around the payload that changed, and
// every payload element outside the m x n matrix (stride ld) that differs
// from orig (the gaps between rows must not be written).
func checkGuards(t *testing.T, what string, buf []float32, off, n int, orig []float32, cols, ld int) {
	t.Helper()
	for i, v := range buf {
		p := i - guardLen - off
		if p >= 0 && p < n {
			if p%ld >= cols && math.Float32bits(v) != math.Float32bits(orig[p]) {
				t.Fatalf("%s: wrote between rows at payload index %d", what, p)
			}
			continue
		}
		if math.Float32bits(v) != math.Float32bits(guard) {
			t.Fatalf("%s: guard band overwritten at payload index %d (%g)", what, p, v)
		}
	}
}

// checkUnchanged fails if got differs in any bit from want (inputs are read-only).
func checkUnchanged(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: read-only input modified at %d", what, i)
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

// refGemm is C = alpha*op(A)*op(B) + beta*C in float64 (C not read when
// beta == 0); it returns the reference and, per element, sum |alpha*a*b| +
// |beta*c| as the scale of the rounding error.
func refGemm(m, n, k int, alpha float32, a []float32, lda int, tA bool, b []float32, ldb int, tB bool, beta float32, c []float32, ldc int) (want, scale []float64) {
	want = make([]float64, m*n)
	scale = make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, sa float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if tA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if tB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
				sa += math.Abs(float64(av) * float64(bv))
			}
			r := float64(alpha) * s
			sc := math.Abs(float64(alpha)) * sa
			if beta != 0 {
				r += float64(beta) * float64(c[i*ldc+j])
				sc += math.Abs(float64(beta) * float64(c[i*ldc+j]))
			}
			want[i*n+j], scale[i*n+j] = r, sc
		}
	}
	return want, scale
}

// compareF32 checks got (m x n, stride ldc) against a float64 reference:
// NMSE <= 1e-7 and every error within 1e-6*scale + 1e-6 (scale is sum|terms|,
// which bounds float32 accumulation error).
func compareF32(got []float32, ldc int, want, scale []float64, m, n int) error {
	var num, den float64
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			g, w := float64(got[i*ldc+j]), want[i*n+j]
			d := g - w
			if math.IsNaN(g) || math.Abs(d) > 1e-6*scale[i*n+j]+1e-6 {
				return fmt.Errorf("c[%d][%d] = %g, want %g (scale %g)", i, j, g, w, scale[i*n+j])
			}
			num += d * d
			den += w * w
		}
	}
	if den > 0 && num/den > 1e-7 {
		return fmt.Errorf("NMSE %g > 1e-7", num/den)
	}
	return nil
}

func f16bits(v float32) uint16 { return uint16(float16.Fromfloat32(v)) }

// useSet selects set name for the rest of the (sub)test.
func useSet(t *testing.T, name string) {
	t.Helper()
	restore, err := Use(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(restore)
}

// setByName returns the usable set called name.
func setByName(t testing.TB, name string) *Set {
	for _, s := range sets {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("set %q not usable", name)
	return nil
}
