package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"testing"
)

// cvCase is one Winograd test problem.
type cvCase struct {
	name      string
	p         Conv2D
	f16, bias bool
	epi       string // "", "add", "silu", "add+silu"
}

func cvCases() []cvCase {
	var cs []cvCase
	add := func(p Conv2D, f16, bias bool, epi string) {
		name := fmt.Sprintf("n%d_c%d_m%d_%dx%d_pad%d%d%d%d_nhwc=%v_f16=%v_bias=%v_epi=%s",
			p.N, p.C, p.M, p.H, p.W, p.PadT, p.PadL, p.PadB, p.PadR, p.NHWC, f16, bias, epi)
		cs = append(cs, cvCase{name, p, f16, bias, epi})
	}
	for i, nhwc := range []bool{false, true} {
		add(Conv2D{N: 1, C: 1, H: 3, W: 3, M: 1, NHWC: nhwc}, false, false, "")
		add(Conv2D{N: 1, C: 3, H: 6, W: 6, M: 5, PadT: 1, PadL: 1, PadB: 1, PadR: 1, NHWC: nhwc}, false, true, "")
		add(Conv2D{N: 2, C: 7, H: 9, W: 13, M: 17, PadT: 1, PadL: 1, PadB: 1, PadR: 1, NHWC: nhwc}, true, true, "add")
		add(Conv2D{N: 1, C: 16, H: 17, W: 33, M: 13, PadT: 0, PadL: 2, PadB: 1, PadR: 0, NHWC: nhwc}, false, true, "silu")
		add(Conv2D{N: 1, C: 33, H: 31, W: 30, M: 40, PadT: 1, PadL: 1, PadB: 1, PadR: 1, NHWC: nhwc}, i == 1, false, "add+silu")
		add(Conv2D{N: 3, C: 300, H: 5, W: 70, M: 7, PadT: 1, PadL: 1, PadB: 1, PadR: 1, NHWC: nhwc}, false, true, "")
		add(Conv2D{N: 1, C: 20, H: 66, W: 66, M: 24, PadT: 1, PadL: 1, PadB: 1, PadR: 1, NHWC: nhwc}, false, true, "")
		add(Conv2D{N: 1, C: 280, H: 8, W: 9, M: 50, PadT: 1, PadL: 1, PadB: 1, PadR: 1, NHWC: nhwc}, i == 0, true, "add+div")
		add(Conv2D{N: 1, C: 24, H: 10, W: 9, M: 19, PadT: 1, PadL: 1, PadB: 1, PadR: 1, NHWC: nhwc}, false, false, "mul+silu")
	}
	return cs
}

// TestWinograd checks WinogradFilter.Conv for every set against a float64
// direct convolution: every error within 1e-4 of the output scale (the RMS
// of the reference) plus 2e-6 of the element's sum |w·x|, NMSE <= 1e-9;
// guard bands around Y, read-only X, W and bias, and bit-identical results
// for 1, 2 and 3 threads.
func TestWinograd(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	for _, set := range Sets() {
		for ci, tc := range cvCases() {
			t.Run(set+"/"+tc.name, func(t *testing.T) {
				useSet(t, set)
				p := tc.p
				oh, ow := p.Out()
				ny := p.N * p.M * oh * ow
				mag := float32(1)
				if ci%3 == 1 {
					mag = 50 // error scales with the input magnitude
				}
				x := nnRand(r, p.N*p.C*p.H*p.W)
				for i := range x {
					x[i] *= mag
				}
				w := nnRand(r, p.M*p.C*9)
				var w16 []uint16
				op := Operand{F32: w}
				if tc.f16 {
					w16 = make([]uint16, len(w))
					for i, v := range w {
						w16[i] = f16bits(v)
						w[i] = nnH2F(w16[i])
					}
					op = Operand{F16: w16}
				}
				var bias []float32
				if tc.bias {
					bias = nnRand(r, p.M)
				}
				var epi ConvEpilogue
				var addend []float32
				if tc.epi == "add" || tc.epi == "add+silu" || tc.epi == "add+div" {
					addend = nnRand(r, ny)
					epi.Add = addend
				}
				epi.SiLU = tc.epi == "silu" || tc.epi == "add+silu" || tc.epi == "mul+silu"
				switch tc.epi {
				case "add+div":
					epi.Scale, epi.K = ScaleDiv, 1.7
				case "mul+silu":
					epi.Scale, epi.K = ScaleMul, 0.6
				}
				x0, w0, b0, a0 := slices.Clone(x), slices.Clone(w), slices.Clone(bias), slices.Clone(addend)
				for mode := 0; mode < 4; mode++ {
					// 0 transformed filter, 1 lazy, then both with budgets
					// small enough for several tile blocks (2: transformed,
					// 3: lazy, expanded once per call).
					lazy := mode%2 == 1
					if mode >= 2 {
						b0, b1 := cvBudget, cvLazyBudget
						mp := (p.M + 11) / 12 * 12
						cvBudget, cvLazyBudget = 36*(p.C+mp)*32, 36*(p.C+mp)*32
						defer func() { cvBudget, cvLazyBudget = b0, b1 }()
					}
					f := NewWinogradFilter(p.M, p.C, op, p.NHWC, 2)
					if lazy {
						f = NewWinogradLazy(p.M, p.C, op, p.NHWC, 2)
						defer f.Free()
					}
					if f.Set() != set || f.Lazy() != lazy {
						t.Fatalf("filter packed for %s (lazy %v), want %s (lazy %v)", f.Set(), f.Lazy(), set, lazy)
					}
					want, scale := cvRefConv(p, x, w, p.NHWC, bias)
					var ms float64
					for _, v := range want {
						ms += v * v
					}
					rms := math.Sqrt(ms / float64(max(1, len(want))))
					for i := range want {
						if addend != nil {
							want[i] += float64(addend[i])
						}
						switch epi.Scale {
						case ScaleMul:
							want[i] *= float64(epi.K)
						case ScaleDiv:
							want[i] /= float64(epi.K)
						}
						if epi.SiLU {
							want[i] = want[i] / (1 + math.Exp(-want[i]))
						}
					}
					var first []float32
					for _, th := range []int{1, 2, 3} {
						off := (th + ci) % 4
						buf, y := guarded(ny, off, nil)
						f.Conv(p, x, bias, epi, y, th)
						checkGuards(t, "y", buf, off, ny, y, ny, ny)
						checkUnchanged(t, "x", x, x0)
						checkUnchanged(t, "w", w, w0)
						checkUnchanged(t, "bias", bias, b0)
						checkUnchanged(t, "addend", addend, a0)
						if first == nil {
							first = slices.Clone(y)
							var num, den float64
							for i, g := range y {
								d := float64(g) - want[i]
								if math.IsNaN(float64(g)) || math.Abs(d) > 1e-4*rms+2e-6*scale[i] {
									t.Fatalf("y[%d] = %g, want %g (rms %g, scale %g)", i, g, want[i], rms, scale[i])
								}
								num += d * d
								den += want[i] * want[i]
							}
							if den > 0 && num/den > 1e-9 {
								t.Fatalf("NMSE %g > 1e-9", num/den)
							}
							continue
						}
						for i := range y {
							if math.Float32bits(y[i]) != math.Float32bits(first[i]) {
								t.Fatalf("threads=%d: y[%d] = %g, threads=1 gave %g", th, i, y[i], first[i])
							}
						}
					}
				}
			})
		}
	}
}

// cvRefConv is a float64 direct convolution (3×3, stride 1) used by tests;
// it returns y and the per-element scale
// sum |w·x| + |bias|.
func cvRefConv(p Conv2D, x, w []float32, hwc bool, bias []float32) (y, scale []float64) {
	oh, ow := p.Out()
	y = make([]float64, p.N*p.M*oh*ow)
	scale = make([]float64, len(y))
	for n := 0; n < p.N; n++ {
		for m := 0; m < p.M; m++ {
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					var sum, sc float64
					if bias != nil {
						sum, sc = float64(bias[m]), math.Abs(float64(bias[m]))
					}
					for c := 0; c < p.C; c++ {
						for kh := 0; kh < 3; kh++ {
							iy := oy + kh - p.PadT
							if iy < 0 || iy >= p.H {
								continue
							}
							for kw := 0; kw < 3; kw++ {
								ix := ox + kw - p.PadL
								if ix < 0 || ix >= p.W {
									continue
								}
								wi := ((m*p.C+c)*3+kh)*3 + kw
								if hwc {
									wi = ((m*3+kh)*3+kw)*p.C + c
								}
								xi := ((n*p.C+c)*p.H+iy)*p.W + ix
								if p.NHWC {
									xi = ((n*p.H+iy)*p.W+ix)*p.C + c
								}
								t := float64(w[wi]) * float64(x[xi])
								sum += t
								sc += math.Abs(t)
							}
						}
					}
					yi := ((n*p.M+m)*oh+oy)*ow + ox
					if p.NHWC {
						yi = ((n*oh+oy)*ow+ox)*p.M + m
					}
					y[yi], scale[yi] = sum, sc
				}
			}
		}
	}
	return y, scale
}

// TestWinogradTransforms cross-checks every set's input and output
// transforms against the pure-Go twins on n = 1..20 tiles (tails around the
// 8-lane groups), odd row strides and misaligned offsets, with guard bands
// around the outputs (including the gaps between the 36 planes and rows)
// and read-only inputs.
func TestWinogradTransforms(t *testing.T) {
	r := rand.New(rand.NewSource(13))
	for _, s := range sets {
		for n := 1; n <= 20; n++ {
			for ci, extra := range []int{0, 1, 5} {
				off := (n + ci) % 4
				name := fmt.Sprintf("%s/n=%d/extra=%d/off=%d", s.Name, n, extra, off)
				// Input transform: d is 6 rows of ld = 4n+2+extra, v has stride vs.
				ld := 4*n + 2 + extra
				d := nnRand(r, 5*ld+4*n+2+off)[off:]
				d0 := slices.Clone(d)
				vs := n + extra
				nv := 35*vs + n
				want := make([]float32, nv)
				winoInGeneric(d, ld, n, want, vs)
				buf, v := guarded(nv, off, nil)
				v0 := slices.Clone(v)
				s.wino.in(d, ld, n, v, vs)
				checkGuards(t, name+"/in", buf, off, nv, v0, n, vs)
				checkUnchanged(t, name+"/in d", d, d0)
				if err := cvClose(v, want, vs, n); err != nil {
					t.Fatalf("%s/in: %v", name, err)
				}
				// Output transform: y has stride ys, o rows of ld = 4n+extra.
				ys, old := n+extra, 4*n+extra
				y := nnRand(r, 35*ys+n+off)[off:]
				y0 := slices.Clone(y)
				no := 3*old + 4*n
				wantO := make([]float32, no)
				bias := float32(ci) - 0.5
				winoOutGeneric(y, ys, n, bias, wantO, old)
				bufO, o := guarded(no, off, nil)
				o0 := slices.Clone(o)
				s.wino.out(y, ys, n, bias, o, old)
				checkGuards(t, name+"/out", bufO, off, no, o0, 4*n, old)
				checkUnchanged(t, name+"/out y", y, y0)
				if err := cvClose(o, wantO, old, 4*n); err != nil {
					t.Fatalf("%s/out: %v", name, err)
				}
			}
		}
	}
}

// cvClose compares the cols first elements of every row (stride ld) of got
// and want: each within 1e-6 of the largest |want| (the transforms sum up
// to 36 terms with coefficients up to 8 or 25, and FMA contraction differs
// between sets).
func cvClose(got, want []float32, ld, cols int) error {
	var big float64
	for _, w := range want {
		big = max(big, math.Abs(float64(w)))
	}
	for i := range want {
		if i%ld >= cols {
			continue
		}
		if d := math.Abs(float64(got[i]) - float64(want[i])); math.IsNaN(float64(got[i])) || d > 1e-6*big {
			return fmt.Errorf("element %d (row %d, col %d) = %g, want %g", i, i/ld, i%ld, got[i], want[i])
		}
	}
	return nil
}

// TestWinogradF16 checks ConvF16 against Conv on the widened data: the
// float16 path must give exactly the narrowed float32 result (the same
// transforms on the same values), with guard bands around Y.
func TestWinogradF16(t *testing.T) {
	r := rand.New(rand.NewSource(12))
	for _, set := range Sets() {
		for _, tc := range cvCases() {
			t.Run(set+"/"+tc.name, func(t *testing.T) {
				useSet(t, set)
				p := tc.p
				oh, ow := p.Out()
				ny := p.N * p.M * oh * ow
				x16 := make([]uint16, p.N*p.C*p.H*p.W)
				for i := range x16 {
					x16[i] = f16bits(r.Float32()*4 - 2)
				}
				x := make([]float32, len(x16))
				h2fGeneric(x, x16)
				f := NewWinogradFilter(p.M, p.C, Operand{F32: nnRand(r, p.M*p.C*9)}, p.NHWC, 2)
				var bias []float32
				if tc.bias {
					bias = nnRand(r, p.M)
				}
				var epi, epiH ConvEpilogue
				if tc.epi == "add" || tc.epi == "add+silu" || tc.epi == "add+div" {
					epiH.AddH = make([]uint16, ny)
					for i := range epiH.AddH {
						epiH.AddH[i] = f16bits(r.Float32()*2 - 1)
					}
					epi.Add = make([]float32, ny)
					h2fGeneric(epi.Add, epiH.AddH)
				}
				epi.SiLU = tc.epi == "silu" || tc.epi == "add+silu" || tc.epi == "mul+silu"
				switch tc.epi {
				case "add+div":
					epi.Scale, epi.K = ScaleDiv, 1.7
				case "mul+silu":
					epi.Scale, epi.K = ScaleMul, 0.6
				}
				epiH.SiLU, epiH.Scale, epiH.K = epi.SiLU, epi.Scale, epi.K
				y := make([]float32, ny)
				f.Conv(p, x, bias, epi, y, 2)
				want := make([]uint16, ny)
				nkF2hGeneric(want, y)
				for _, th := range []int{1, 3} { // 1: ConvF16, 3: ConvOutF16
					got := make([]uint16, ny+8)
					for i := range got {
						got[i] = 0xfe00 // NaN guard
					}
					if th == 1 {
						f.ConvF16(p, x16, bias, epiH, got[4:4+ny], th)
					} else {
						f.ConvOutF16(p, x, bias, epiH, got[4:4+ny], th)
					}
					for i := 0; i < 4; i++ {
						if got[i] != 0xfe00 || got[4+ny+i] != 0xfe00 {
							t.Fatalf("threads=%d: guard band overwritten", th)
						}
					}
					if !slices.Equal(got[4:4+ny], want) {
						for i := range want {
							if got[4+i] != want[i] {
								t.Fatalf("threads=%d: y[%d] = %#x, float32 path narrowed %#x", th, i, got[4+i], want[i])
							}
						}
					}
				}
			})
		}
	}
}

// TestWinoFilter cross-checks every set's eight-lane filter transform (fp16
// and fp32 weights) with its Go twin and with G g Gᵀ in float64, with
// guard values between the 36 output rows.
func TestWinoFilter(t *testing.T) {
	r := rand.New(rand.NewSource(13))
	for _, s := range sets {
		for _, ldw := range []int{6, 8, 13, 40} {
			w := nnRand(r, 8*ldw+8)
			wh := make([]uint16, len(w))
			for i, v := range w {
				wh[i] = f16bits(v * 3)
			}
			us := 11
			for _, half := range []bool{false, true} {
				got := make([]float32, 36*us)
				for i := range got {
					got[i] = 7777
				}
				want := slices.Clone(got)
				if half {
					s.wino.filtH(wh, ldw, got, us, 1, 0, 0)
					winoFiltHGeneric(wh, ldw, want, us, 1, 0, 0)
				} else {
					s.wino.filtF(w, ldw, got, us, 1, 0, 0)
					winoFiltFGeneric(w, ldw, want, us, 1, 0, 0)
				}
				for xi := 0; xi < 36; xi++ {
					for j := 0; j < us; j++ {
						x := xi*us + j
						if j >= 8 {
							if got[x] != 7777 && xi < 35 {
								t.Fatalf("%s ldw=%d half=%v: wrote u[%d][%d]", s.Name, ldw, half, xi, j)
							}
							continue
						}
						// float64 reference
						var g [3][3]float64
						for k := 0; k < 9; k++ {
							if half {
								g[k/3][k%3] = float64(nnH2F(wh[k*ldw+j]))
							} else {
								g[k/3][k%3] = float64(w[k*ldw+j])
							}
						}
						a, b := xi/6, xi%6
						var ref float64
						for p := 0; p < 3; p++ {
							for q := 0; q < 3; q++ {
								ref += cvG[a][p] * g[p][q] * cvG[b][q]
							}
						}
						if d := math.Abs(float64(got[x]) - ref); !(d <= 1e-6*(1+math.Abs(ref))*4) {
							t.Fatalf("%s ldw=%d half=%v: u[%d][%d] = %g, G g Gᵀ = %g", s.Name, ldw, half, xi, j, got[x], ref)
						}
						if d := math.Abs(float64(got[x] - want[x])); !(d <= 1e-6*(1+math.Abs(ref))) {
							t.Fatalf("%s ldw=%d half=%v: u[%d][%d] = %g, Go twin %g", s.Name, ldw, half, xi, j, got[x], want[x])
						}
					}
				}
			}
		}
	}
}
