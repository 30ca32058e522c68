package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// nkGuardH is the sentinel of float16 buffers (a NaN pattern).
const nkGuardH = 0x7e5a

// nkGuardedH is guarded for float16 bits: payload at [guardLen+off, +n).
func nkGuardedH(n, off int, fill []uint16) (buf, payload []uint16) {
	buf = make([]uint16, n+2*guardLen+off)
	for i := range buf {
		buf[i] = nkGuardH
	}
	payload = buf[guardLen+off : guardLen+off+n]
	copy(payload, fill)
	return buf, payload
}

func nkCheckGuardsH(t *testing.T, what string, buf []uint16, off, n int) {
	t.Helper()
	for i, v := range buf {
		p := i - guardLen - off
		if (p < 0 || p >= n) && v != nkGuardH {
			t.Fatalf("%s: guard band overwritten at payload index %d", what, p)
		}
	}
}

func nkRandH(r *rand.Rand, n int, scale, shift float32) ([]uint16, []float32) {
	h := make([]uint16, n)
	f := make([]float32, n)
	for i := range h {
		h[i] = f16bits((r.Float32()*2-1)*scale + shift)
		f[i] = nnH2F(h[i])
	}
	return h, f
}

func nkRandF(r *rand.Rand, n int, scale, shift float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = (r.Float32()*2-1)*scale + shift
	}
	return v
}

// nkClose reports whether got is within ulps float32 steps of want or
// within tol absolutely.
func nkClose(got, want float32, ulps, tol float64) bool {
	return nkULP(got, want) <= ulps || math.Abs(float64(got)-float64(want)) <= tol
}

// nkHalfClose accepts float16 results one float16 step apart (a float32
// difference of an ulp may round either way).
func nkHalfClose(got, want uint16) bool {
	d := int(got) - int(want)
	return d >= -1 && d <= 1 || nnH2F(got) == nnH2F(want)
}

// TestNormPrimitivesVsGeneric checks every normalisation primitive of every
// set against the generic twin at every size and misalignment, with guard
// bands and read-only inputs.
func TestNormPrimitivesVsGeneric(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	gen := &sets[0].nk
	for _, name := range Sets() {
		k := &setByName(t, name).nk
		t.Run(name, func(t *testing.T) {
			for _, n := range nkSizes {
				for off := 0; off < 4; off++ {
					what := fmt.Sprintf("n=%d off=%d", n, off)
					shift := float32(r.Intn(3)) * 10
					x := nkRandF(r, n, 3, shift)
					xb, xp := guarded(n, off, x)
					hx, hf := nkRandH(r, n, 3, shift)
					hb, hp := nkGuardedH(n, off, hx)
					piv := float32(0)
					if n > 0 {
						piv = x[0]
					}
					// sumSq
					s, q := k.sumSq(xp, piv)
					ws, wq := gen.sumSq(x, piv)
					if !nkNear64(s, ws, q) || !nkNear64(q, wq, q) {
						t.Fatalf("%s: sumSq = %g, %g; generic %g, %g", what, s, q, ws, wq)
					}
					s, q = k.sumSqH(hp, piv)
					ws, wq = gen.sumSqH(hx, piv)
					if !nkNear64(s, ws, q) || !nkNear64(q, wq, q) {
						t.Fatalf("%s: sumSqH = %g, %g; generic %g, %g", what, s, q, ws, wq)
					}
					m, a, b := shift+r.Float32(), r.Float32()*2-1, r.Float32()*2-1
					for _, silu := range []bool{false, true} {
						what := fmt.Sprintf("%s silu=%v", what, silu)
						ulps := 4.0 // FMA against separate rounding
						if silu {
							ulps = 8 // plus the vector exp and division
						}
						// affine
						yb, yp := guarded(n, 3-off, nil)
						k.affine(yp, xp, m, a, b, silu)
						want := make([]float32, n)
						gen.affine(want, x, m, a, b, silu)
						for i := range want {
							scale := math.Abs(float64(x[i]-m)*float64(a)) + math.Abs(float64(b))
							if !nkClose(yp[i], want[i], ulps, 2e-7*scale) {
								t.Fatalf("%s: affine(%g) = %g, generic %g", what, x[i], yp[i], want[i])
							}
						}
						checkGuards(t, what+" affine", yb, 3-off, n, yp, n, max(n, 1))
						ob, op := nkGuardedH(n, 3-off, nil)
						k.affineH(op, hp, m, a, b, silu)
						wantH := make([]uint16, n)
						gen.affineH(wantH, hx, m, a, b, silu)
						for i := range wantH {
							if !nkHalfClose(op[i], wantH[i]) {
								t.Fatalf("%s: affineH(%g) = %g, generic %g", what, hf[i], nnH2F(op[i]), nnH2F(wantH[i]))
							}
						}
						nkCheckGuardsH(t, what+" affineH", ob, 3-off, n)
						// normVec
						g, bv := nkRandF(r, n, 2, 0), nkRandF(r, n, 1, 0)
						gb, gp := guarded(n, off, g)
						bb, bp := guarded(n, 2, bv)
						yb, yp = guarded(n, 3-off, nil)
						k.normVec(yp, xp, m, a, b, gp, bp, silu)
						gen.normVec(want, x, m, a, b, g, bv, silu)
						for i := range want {
							scale := (math.Abs(float64(x[i]-m)*float64(a))+math.Abs(float64(b)))*math.Abs(float64(g[i])) + math.Abs(float64(bv[i]))
							if !nkClose(yp[i], want[i], ulps, 3e-7*scale) {
								t.Fatalf("%s: normVec(%g) = %g, generic %g", what, x[i], yp[i], want[i])
							}
						}
						checkGuards(t, what+" normVec", yb, 3-off, n, yp, n, max(n, 1))
						checkGuards(t, what+" g", gb, off, n, gp, n, max(n, 1))
						checkGuards(t, what+" b", bb, 2, n, bp, n, max(n, 1))
						checkUnchanged(t, what+" g", gp, g)
						checkUnchanged(t, what+" b", bp, bv)
						ob, op = nkGuardedH(n, 3-off, nil)
						k.normVecH(op, hp, m, a, b, gp, bp, silu)
						gen.normVecH(wantH, hx, m, a, b, g, bv, silu)
						for i := range wantH {
							if !nkHalfClose(op[i], wantH[i]) {
								t.Fatalf("%s: normVecH(%g) = %g, generic %g", what, hf[i], nnH2F(op[i]), nnH2F(wantH[i]))
							}
						}
						nkCheckGuardsH(t, what+" normVecH", ob, 3-off, n)
						// affineVec (m = the per-channel pivots of NHWC)
						mv := nkRandF(r, n, 1, shift)
						yb, yp = guarded(n, 3-off, nil)
						k.affineVec(yp, xp, mv, gp, bp, silu)
						gen.affineVec(want, x, mv, g, bv, silu)
						for i := range want {
							scale := math.Abs(float64(x[i]-mv[i])*float64(g[i])) + math.Abs(float64(bv[i]))
							if !nkClose(yp[i], want[i], ulps, 3e-7*scale) {
								t.Fatalf("%s: affineVec(%g) = %g, generic %g", what, x[i], yp[i], want[i])
							}
						}
						checkGuards(t, what+" affineVec", yb, 3-off, n, yp, n, max(n, 1))
						checkUnchanged(t, what+" g", gp, g)
						ob, op = nkGuardedH(n, 3-off, nil)
						k.affineVecH(op, hp, mv, gp, bp, silu)
						gen.affineVecH(wantH, hx, mv, g, bv, silu)
						for i := range wantH {
							if !nkHalfClose(op[i], wantH[i]) {
								t.Fatalf("%s: affineVecH(%g) = %g, generic %g", what, hf[i], nnH2F(op[i]), nnH2F(wantH[i]))
							}
						}
						nkCheckGuardsH(t, what+" affineVecH", ob, 3-off, n)
					}
					// max, expSum
					if n > 0 {
						if got, w := k.max(xp), gen.max(x); got != w {
							t.Fatalf("%s: max = %g, generic %g", what, got, w)
						}
					}
					yb, yp := guarded(n, 3-off, nil)
					sum := k.expSum(yp, xp, m)
					want := make([]float32, n)
					wsum := gen.expSum(want, x, m)
					if math.Abs(sum-wsum) > 1e-6*wsum {
						t.Fatalf("%s: expSum = %g, generic %g", what, sum, wsum)
					}
					for i := range want {
						if !nkClose(yp[i], want[i], 2, 0) {
							t.Fatalf("%s: expSum exp(%g) = %g, generic %g", what, x[i]-m, yp[i], want[i])
						}
					}
					checkGuards(t, what+" expSum", yb, 3-off, n, yp, n, max(n, 1))
					checkGuards(t, what+" x", xb, off, n, xp, n, max(n, 1))
					checkUnchanged(t, what+" x", xp, x)
					nkCheckGuardsH(t, what+" hx", hb, off, n)
					for i := range hx {
						if hp[i] != hx[i] {
							t.Fatalf("%s: float16 input modified", what)
						}
					}
				}
			}
		})
	}
}

// nkNear64 compares float64 sums up to rounding of the order of summation.
func nkNear64(got, want, scale float64) bool {
	return math.Abs(got-want) <= 1e-12*(math.Abs(want)+math.Abs(scale))+1e-300
}

// TestColSumSqVsGeneric checks the NHWC column statistics of every set
// against the generic twin for odd row strides, tails and accumulation onto
// existing sums.
func TestColSumSqVsGeneric(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	gen := &sets[0].nk
	for _, name := range Sets() {
		k := &setByName(t, name).nk
		for _, cols := range []int{1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 64, 70} {
			for _, rows := range []int{1, 2, 5} {
				for _, extra := range []int{0, 1, 5} {
					ld := cols + extra
					n := (rows-1)*ld + cols
					x := nkRandF(r, n, 2, 5)
					hx, _ := nkRandH(r, n, 2, 5)
					piv := nkRandF(r, cols, 1, 5)
					s0, q0 := make([]float64, cols), make([]float64, cols)
					for j := range s0 {
						s0[j], q0[j] = float64(j), float64(2*j)
					}
					xb, xp := guarded(n, extra%4, x)
					for _, half := range []bool{false, true} {
						s, q := append([]float64(nil), s0...), append([]float64(nil), q0...)
						ws, wq := append([]float64(nil), s0...), append([]float64(nil), q0...)
						if half {
							k.colSumSqH(hx, rows, cols, ld, piv, s, q)
							gen.colSumSqH(hx, rows, cols, ld, piv, ws, wq)
						} else {
							k.colSumSq(xp, rows, cols, ld, piv, s, q)
							gen.colSumSq(x, rows, cols, ld, piv, ws, wq)
						}
						for j := range s {
							if !nkNear64(s[j], ws[j], q[j]) || !nkNear64(q[j], wq[j], q[j]) {
								t.Fatalf("%s rows=%d cols=%d ld=%d half=%v: col %d: %g, %g; generic %g, %g", name, rows, cols, ld, half, j, s[j], q[j], ws[j], wq[j])
							}
						}
					}
					checkGuards(t, "colSumSq x", xb, extra%4, n, xp, n, n)
					checkUnchanged(t, "colSumSq x", xp, x)
				}
			}
		}
	}
}

// nkRefGroupNorm is GroupNorm in float64.
func nkRefGroupNorm(x []float64, p GroupNormParams) []float64 {
	N, C, S, G := p.N, p.C, p.Spatial, p.Groups
	cpg := C / G
	y := make([]float64, len(x))
	idx := func(n, c, s int) int {
		if p.NHWC {
			return (n*S+s)*C + c
		}
		return (n*C+c)*S + s
	}
	for n := 0; n < N; n++ {
		for g := 0; g < G; g++ {
			var sum float64
			for c := g * cpg; c < (g+1)*cpg; c++ {
				for s := 0; s < S; s++ {
					sum += x[idx(n, c, s)]
				}
			}
			cnt := float64(cpg * S)
			mean := sum / cnt
			var v float64
			for c := g * cpg; c < (g+1)*cpg; c++ {
				for s := 0; s < S; s++ {
					d := x[idx(n, c, s)] - mean
					v += d * d
				}
			}
			inv := 1 / math.Sqrt(v/cnt+p.Eps)
			for c := g * cpg; c < (g+1)*cpg; c++ {
				ga, be := 1.0, 0.0
				if p.Gamma != nil {
					ga = float64(p.Gamma[c])
				}
				if p.Beta != nil {
					be = float64(p.Beta[c])
				}
				for s := 0; s < S; s++ {
					i := idx(n, c, s)
					o := (x[i]-mean)*inv*ga + be
					if p.SiLU {
						o = o / (1 + math.Exp(-o))
					}
					y[i] = o
				}
			}
		}
	}
	return y
}

// TestGroupNorm checks GroupNormF32/F16 in both layouts on every set against
// a float64 reference, with guard bands, read-only input and bit-identical
// results for 1, 2, 3 and 8 threads.
func TestGroupNorm(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	type shape struct{ n, c, s, g int }
	shapes := []shape{{1, 1, 1, 1}, {1, 4, 1, 2}, {2, 6, 7, 3}, {1, 8, 33, 4}, {3, 10, 17, 5}, {1, 32, 64, 8}, {2, 12, 100, 1}, {1, 64, 1030, 32}, {1, 3, 0, 1}}
	for _, name := range Sets() {
		t.Run(name, func(t *testing.T) {
			useSet(t, name)
			for si, sh := range shapes {
				for _, nhwc := range []bool{false, true} {
					for _, half := range []bool{false, true} {
						p := GroupNormParams{N: sh.n, C: sh.c, Spatial: sh.s, Groups: sh.g, NHWC: nhwc, Eps: 1e-5, SiLU: si%2 == 1}
						if si%3 != 0 {
							p.Gamma, p.Beta = nkRandF(r, sh.c, 1, 0.5), nkRandF(r, sh.c, 1, 0)
						}
						what := fmt.Sprintf("%+v half=%v", sh, half)
						total := sh.n * sh.c * sh.s
						shift := float32(si%4) * 100 // large means test the pivot
						var x64 []float64
						var outs [][]float32
						var xf []float32
						var xh []uint16
						if half {
							xh, xf = nkRandH(r, total, 2, shift)
						} else {
							xf = nkRandF(r, total, 2, shift)
						}
						for _, v := range xf {
							x64 = append(x64, float64(v))
						}
						want := nkRefGroupNorm(x64, p)
						for _, th := range []int{1, 2, 3, 8} {
							got := make([]float32, total)
							if half {
								yb, yp := nkGuardedH(total, th%4, nil)
								xb, xp := nkGuardedH(total, 1, xh)
								GroupNormF16(yp, xp, p, th)
								nkCheckGuardsH(t, what, yb, th%4, total)
								nkCheckGuardsH(t, what+" x", xb, 1, total)
								for i := range xh {
									if xp[i] != xh[i] {
										t.Fatalf("%s: input modified", what)
									}
								}
								for i, v := range yp {
									got[i] = nnH2F(v)
								}
							} else {
								yb, yp := guarded(total, th%4, nil)
								xb, xp := guarded(total, 1, xf)
								GroupNormF32(yp, xp, p, th)
								checkGuards(t, what, yb, th%4, total, yp, total, max(total, 1))
								checkGuards(t, what+" x", xb, 1, total, xp, total, max(total, 1))
								checkUnchanged(t, what+" x", xp, xf)
								copy(got, yp)
							}
							outs = append(outs, got)
						}
						tol := 3e-6
						if half {
							tol = 2e-3
						}
						for i, w := range want {
							g := float64(outs[0][i])
							if math.Abs(g-w) > tol*(1+math.Abs(w)) || g != g {
								t.Fatalf("%s: y[%d] = %g, want %g (x %v gamma %v beta %v)", what, i, g, w, xf[:min(8, len(xf))], p.Gamma, p.Beta)
							}
						}
						for k := 1; k < len(outs); k++ {
							for i := range outs[0] {
								if math.Float32bits(outs[k][i]) != math.Float32bits(outs[0][i]) {
									t.Fatalf("%s: result depends on the thread count at %d", what, i)
								}
							}
						}
					}
				}
			}
		})
	}
}

// TestGroupNormInPlace checks dst aliasing src in both layouts.
func TestGroupNormInPlace(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	for _, nhwc := range []bool{false, true} {
		p := GroupNormParams{N: 2, C: 16, Spatial: 50, Groups: 4, NHWC: nhwc, Eps: 1e-6, Gamma: nkRandF(r, 16, 1, 1)}
		x := nkRandF(r, 2*16*50, 1, 3)
		want := make([]float32, len(x))
		GroupNormF32(want, x, p, 2)
		GroupNormF32(x, x, p, 2)
		for i := range x {
			if x[i] != want[i] {
				t.Fatalf("nhwc=%v: in place y[%d] = %g, want %g", nhwc, i, x[i], want[i])
			}
		}
	}
}

// TestNormPanics checks the precondition panics.
func TestNormPanics(t *testing.T) {
	cases := []struct {
		name string
		f    func()
	}{
		{"groups", func() {
			GroupNormF32(make([]float32, 8), make([]float32, 8), GroupNormParams{N: 1, C: 4, Spatial: 2, Groups: 3}, 1)
		}},
		{"short x", func() {
			GroupNormF32(make([]float32, 8), make([]float32, 7), GroupNormParams{N: 1, C: 4, Spatial: 2, Groups: 2}, 1)
		}},
		{"short gamma", func() {
			GroupNormF32(make([]float32, 8), make([]float32, 8), GroupNormParams{N: 1, C: 4, Spatial: 2, Groups: 2, Gamma: make([]float32, 3)}, 1)
		}},
		{"ln short y", func() { LayerNormF32(make([]float32, 5), make([]float32, 6), LayerNormParams{Rows: 2, Cols: 3}, 1) }},
		{"ln short beta", func() {
			LayerNormF32(make([]float32, 6), make([]float32, 6), LayerNormParams{Rows: 2, Cols: 3, Beta: make([]float32, 2)}, 1)
		}},
		{"softmax short", func() { SoftmaxF32(make([]float32, 5), make([]float32, 6), 2, 3, false, 1) }},
	}
	for _, c := range cases {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", c.name)
				}
			}()
			c.f()
		}()
	}
}

// TestLayerNorm checks LayerNormF32/F16 (and RMS) on every set against a
// float64 reference, the statistics outputs, guard bands and thread-count
// invariance.
func TestLayerNorm(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	shapes := [][2]int{{1, 1}, {3, 7}, {5, 16}, {2, 33}, {17, 64}, {9, 320}, {1000, 40}, {4, 0}}
	for _, name := range Sets() {
		t.Run(name, func(t *testing.T) {
			useSet(t, name)
			for si, sh := range shapes {
				for _, rms := range []bool{false, true} {
					for _, half := range []bool{false, true} {
						R, C := sh[0], sh[1]
						p := LayerNormParams{Rows: R, Cols: C, Eps: 1e-5, RMS: rms}
						if si%2 == 0 {
							p.Gamma = nkRandF(r, C, 1, 1)
						}
						if si%3 != 2 {
							p.Beta = nkRandF(r, C, 1, 0)
						}
						what := fmt.Sprintf("%v rms=%v half=%v", sh, rms, half)
						shift := float32(si%3) * 50
						var xf []float32
						var xh []uint16
						if half {
							xh, xf = nkRandH(r, R*C, 2, shift)
						} else {
							xf = nkRandF(r, R*C, 2, shift)
						}
						var first []float32
						for _, th := range []int{1, 2, 5} {
							p.Mean, p.InvStd = make([]float64, R), make([]float64, R)
							got := make([]float32, R*C)
							if half {
								yb, yp := nkGuardedH(R*C, th%4, nil)
								LayerNormF16(yp, xh, p, th)
								nkCheckGuardsH(t, what, yb, th%4, R*C)
								for i, v := range yp {
									got[i] = nnH2F(v)
								}
							} else {
								yb, yp := guarded(R*C, th%4, nil)
								xb, xp := guarded(R*C, 2, xf)
								LayerNormF32(yp, xp, p, th)
								checkGuards(t, what, yb, th%4, R*C, yp, R*C, max(R*C, 1))
								checkGuards(t, what+" x", xb, 2, R*C, xp, R*C, max(R*C, 1))
								checkUnchanged(t, what, xp, xf)
								copy(got, yp)
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
							for row := 0; row < R; row++ {
								var mean, v float64
								xr := xf[row*C : (row+1)*C]
								for _, e := range xr {
									mean += float64(e)
								}
								mean /= float64(C)
								for _, e := range xr {
									d := float64(e) - mean
									if rms {
										d = float64(e)
									}
									v += d * d
								}
								v /= float64(C)
								if rms {
									mean = 0
								}
								inv := 1 / math.Sqrt(v+p.Eps)
								if math.Abs(p.Mean[row]-mean) > 1e-9*(1+math.Abs(mean)) || math.Abs(p.InvStd[row]-inv) > 1e-9*inv {
									t.Fatalf("%s: row %d stats %g, %g; want %g, %g", what, row, p.Mean[row], p.InvStd[row], mean, inv)
								}
								tol := 3e-6
								if half {
									tol = 2e-3
								}
								for j, e := range xr {
									w := (float64(e) - mean) * inv
									if p.Gamma != nil {
										w *= float64(p.Gamma[j])
									}
									if p.Beta != nil {
										w += float64(p.Beta[j])
									}
									g := float64(got[row*C+j])
									if math.Abs(g-w) > tol*(1+math.Abs(w)) || g != g {
										t.Fatalf("%s: y[%d][%d] = %g, want %g", what, row, j, g, w)
									}
								}
							}
						}
					}
				}
			}
		})
	}
}
