package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// TestSoftmax checks SoftmaxF32/F16 (and log) on every set against a float64
// reference, with guard bands, in place, and for several thread counts.
func TestSoftmax(t *testing.T) {
	r := rand.New(rand.NewSource(8))
	shapes := [][2]int{{1, 1}, {2, 7}, {3, 8}, {3, 9}, {5, 15}, {5, 16}, {4, 17}, {2, 33}, {7, 100}, {3, 4096}, {600, 60}, {2, 0}, {0, 5}}
	for _, name := range Sets() {
		t.Run(name, func(t *testing.T) {
			useSet(t, name)
			for si, sh := range shapes {
				R, C := sh[0], sh[1]
				for _, log := range []bool{false, true} {
					for _, half := range []bool{false, true} {
						what := fmt.Sprintf("%v log=%v half=%v", sh, log, half)
						scale := float32(1 + 10*(si%3))
						var xf []float32
						var xh []uint16
						if half {
							xh, xf = nkRandH(r, R*C, scale, 0)
						} else {
							xf = nkRandF(r, R*C, scale, 0)
						}
						var first []float32
						for _, th := range []int{1, 2, 3} {
							got := make([]float32, R*C)
							if half {
								yb, yp := nkGuardedH(R*C, th%4, nil)
								SoftmaxF16(yp, xh, R, C, log, th)
								nkCheckGuardsH(t, what, yb, th%4, R*C)
								for i, v := range yp {
									got[i] = nnH2F(v)
								}
							} else {
								yb, yp := guarded(R*C, th%4, nil)
								xb, xp := guarded(R*C, 1, xf)
								SoftmaxF32(yp, xp, R, C, log, th)
								checkGuards(t, what, yb, th%4, R*C, yp, R*C, max(R*C, 1))
								checkGuards(t, what+" x", xb, 1, R*C, xp, R*C, max(R*C, 1))
								checkUnchanged(t, what, xp, xf)
								copy(got, yp)
								// in place
								ip := append([]float32(nil), xf...)
								SoftmaxF32(ip, ip, R, C, log, th)
								for i := range ip {
									if math.Float32bits(ip[i]) != math.Float32bits(got[i]) {
										t.Fatalf("%s: in place differs at %d", what, i)
									}
								}
							}
							if first == nil {
								first = got
							} else {
								for i := range got {
									if math.Float32bits(got[i]) != math.Float32bits(first[i]) {
										t.Fatalf("%s: result depends on the thread count", what)
									}
								}
							}
						}
						tol := 2e-6
						if half {
							tol = 2e-3
						}
						for row := 0; row < R; row++ {
							xr := xf[row*C : (row+1)*C]
							m := math.Inf(-1)
							for _, v := range xr {
								m = math.Max(m, float64(v))
							}
							var s float64
							for _, v := range xr {
								s += math.Exp(float64(v) - m)
							}
							for j, v := range xr {
								w := math.Exp(float64(v)-m) / s
								if log {
									w = float64(v) - m - math.Log(s)
								}
								g := float64(first[row*C+j])
								if math.Abs(g-w) > tol*math.Abs(w)+1e-7 || g != g {
									t.Fatalf("%s: y[%d][%d] = %g, want %g", what, row, j, g, w)
								}
							}
						}
					}
				}
			}
		})
	}
}

// TestSoftmaxSpecials: a NaN anywhere in a row makes the row NaN; -Inf
// entries get 0 (log: -Inf); SoftmaxRow matches SoftmaxF32.
func TestSoftmaxSpecials(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, name := range Sets() {
		t.Run(name, func(t *testing.T) {
			useSet(t, name)
			for _, n := range []int{5, 8, 16, 33} {
				x := make([]float32, n)
				for i := range x {
					x[i] = float32(i % 5)
				}
				x[n/2] = nan
				y := make([]float32, n)
				SoftmaxF32(y, x, 1, n, false, 1)
				for i, v := range y {
					if v == v {
						t.Fatalf("n=%d: NaN row gave y[%d] = %g", n, i, v)
					}
				}
				x[n/2] = -inf
				SoftmaxF32(y, x, 1, n, false, 1)
				if y[n/2] != 0 {
					t.Fatalf("n=%d: exp(-Inf) gave %g", n, y[n/2])
				}
				SoftmaxF32(y, x, 1, n, true, 1)
				if !math.IsInf(float64(y[n/2]), -1) {
					t.Fatalf("n=%d: log softmax of -Inf gave %g", n, y[n/2])
				}
				z := make([]float32, n)
				SoftmaxRow(z, x, true)
				for i := range z {
					if math.Float32bits(z[i]) != math.Float32bits(y[i]) {
						t.Fatalf("n=%d: SoftmaxRow differs at %d", n, i)
					}
				}
			}
		})
	}
}
