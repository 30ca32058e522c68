package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"testing"
)

// TestMicroKernelH cross-checks every set's float16-B micro-kernel against
// its pure-Go twin sgemmTileGenericH: k tails, odd ldc, misaligned offsets,
// both store modes and guard bands.
func TestMicroKernelH(t *testing.T) {
	r := rand.New(rand.NewSource(8))
	for _, s := range sets {
		g := s.gemm
		mr, nr := g.mr, g.nr
		for _, kc := range []int{1, 2, 3, 7, 8, 9, 16, 17, 33, 100, 256, 257} {
			for ci, ldc := range []int{nr, nr + 1, 2*nr + 5} {
				off := (kc + ci) % 4
				add := ci%2 == 1
				alpha := []float32{1, -0.5, 3}[kc%3]
				name := fmt.Sprintf("%s/kc=%d/ldc=%d/off=%d/add=%v", s.Name, kc, ldc, off, add)
				a := nnRand(r, kc*mr+off)[off:]
				bh := make([]uint16, kc*nr+off)[off:]
				for i := range bh {
					bh[i] = f16bits(r.Float32()*4 - 2)
				}
				a0, b0 := slices.Clone(a), slices.Clone(bh)
				n := (mr-1)*ldc + nr
				c0 := nnRand(r, n)
				want := slices.Clone(c0)
				sgemmTileGenericH(mr, nr, kc, a, bh, want, ldc, add, alpha)
				buf, c := guarded(n, off, c0)
				g.kernH(kc, a, bh, c, ldc, add, alpha)
				checkGuards(t, name, buf, off, n, c0, nr, ldc)
				checkUnchanged(t, name+" a", a, a0)
				if !slices.Equal(bh, b0) {
					t.Fatalf("%s: b modified", name)
				}
				for i := 0; i < mr; i++ {
					for j := 0; j < nr; j++ {
						x := i*ldc + j
						var sc float64
						for p := 0; p < kc; p++ {
							sc += math.Abs(float64(a[p*mr+i]) * float64(nnH2F(bh[p*nr+j])))
						}
						tol := 2e-6*(math.Abs(float64(alpha))*sc+math.Abs(float64(c0[x]))) + 1e-7
						if d := math.Abs(float64(c[x] - want[x])); !(d <= tol) {
							t.Fatalf("%s: c[%d][%d] = %g, generic twin %g", name, i, j, c[x], want[x])
						}
					}
				}
			}
		}
	}
}

// epiRef applies an epilogue to the float64 reference of an m x n product
// (row-major want) and returns the expected C in C's own layout.
func epiRef(m, n int, want, scale []float64, c0 []float32, ldc int, e Epilogue) (exp, sc []float64) {
	exp = make([]float64, len(c0))
	sc = make([]float64, len(c0))
	for i := range exp {
		exp[i] = float64(c0[i])
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			idx := i*ldc + j
			if e.TransC {
				idx = j*ldc + i
			}
			v, s := want[i*n+j], scale[i*n+j]
			if e.Bias != nil {
				v += float64(e.Bias[j])
				s += math.Abs(float64(e.Bias[j]))
			}
			if e.Add != nil {
				v += float64(e.Add[idx])
				s += math.Abs(float64(e.Add[idx]))
			}
			switch e.Scale {
			case ScaleMul:
				v, s = v*float64(e.K), s*math.Abs(float64(e.K))
			case ScaleDiv:
				v, s = v/float64(e.K), s/math.Abs(float64(e.K))
			}
			switch e.Act {
			case ActReLU:
				v = max(v, 0)
			case ActSiLU:
				v = v / (1 + math.Exp(-v))
			case ActGELU:
				v = 0.5 * v * (1 + math.Erf(v/math.Sqrt2))
			}
			exp[idx], sc[idx] = v, s
		}
	}
	return exp, sc
}

// packedCase runs one GemmEpilogue / GemmPacked case against float64 with
// guard bands, at several thread counts (bit-identical results).
func packedCase(t *testing.T, r *rand.Rand, m, n, k int, half, tB, packed bool, beta float32, e Epilogue, threads []int) {
	t.Helper()
	name := fmt.Sprintf("%s m=%d n=%d k=%d half=%v tB=%v packed=%v beta=%g bias=%v add=%v act=%d transC=%v",
		Active(), m, n, k, half, tB, packed, beta, e.Bias != nil, e.Add != nil, e.Act, e.TransC)
	lda := k + 3
	a := nnRand(r, m*lda)
	ldb := n + 1
	if tB {
		ldb = k + 1
	}
	bl := k * ldb
	if tB {
		bl = n * ldb
	}
	bf := nnRand(r, bl)
	ob := Operand{F32: bf, LD: ldb, Trans: tB}
	if half {
		ob = Operand{F16: make([]uint16, bl), LD: ldb, Trans: tB}
		for i, v := range bf {
			ob.F16[i] = f16bits(v)
			bf[i] = nnH2F(ob.F16[i])
		}
	}
	rows, cols := m, n
	if e.TransC {
		rows, cols = n, m
	}
	ldc := cols + 2
	cLen := (rows-1)*ldc + cols
	c0 := nnRand(r, cLen)
	if e.Bias != nil {
		e.Bias = nnRand(r, n)
	}
	if e.Add != nil {
		e.Add = nnRand(r, cLen)
	}
	alpha := float32(0.75)
	// Reference of alpha·A·B + beta·C in C's layout (refGemm works row-major).
	cRow := make([]float32, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			if e.TransC {
				cRow[i*n+j] = c0[j*ldc+i]
			} else {
				cRow[i*n+j] = c0[i*ldc+j]
			}
		}
	}
	want, scale := refGemm(m, n, k, alpha, a, lda, false, bf, ldb, tB, beta, cRow, n)
	exp, sc := epiRef(m, n, want, scale, c0, ldc, e)
	var pb *PackedB
	if packed {
		pb = PackB(k, n, ob, 2)
		if pb.Half() != half || pb.K != k || pb.N != n {
			t.Fatalf("%s: PackB gave half=%v k=%d n=%d", name, pb.Half(), pb.K, pb.N)
		}
	}
	var first []float32
	for _, th := range threads {
		buf, c := guarded(cLen, 1, c0)
		oa := Operand{F32: a, LD: lda}
		if packed {
			GemmPacked(m, alpha, oa, pb, beta, c, ldc, e, th)
		} else {
			GemmEpilogue(m, n, k, alpha, oa, ob, beta, c, ldc, e, th)
		}
		checkGuards(t, name, buf, 1, cLen, c0, cols, ldc)
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				x := i*ldc + j
				g := float64(c[x])
				if d := math.Abs(g - exp[x]); !(d <= 2e-6*sc[x]+1e-5) {
					t.Fatalf("%s threads=%d: c[%d][%d] = %g, want %g", name, th, i, j, g, exp[x])
				}
			}
		}
		if first == nil {
			first = slices.Clone(c)
			continue
		}
		for i := range c {
			if math.Float32bits(c[i]) != math.Float32bits(first[i]) {
				t.Fatalf("%s: threads=%d changes bits at %d", name, th, i)
			}
		}
	}
	if packed {
		// The whole-A path (gemmSmallM) and the blocked one give the same bits.
		defer func(v int) { gemmSmallA = v }(gemmSmallA)
		for _, lim := range []int{0, 1 << 30} {
			gemmSmallA = lim
			_, c := guarded(cLen, 1, c0)
			GemmPacked(m, alpha, Operand{F32: a, LD: lda}, pb, beta, c, ldc, e, 2)
			for i := range c {
				if math.Float32bits(c[i]) != math.Float32bits(first[i]) {
					t.Fatalf("%s: gemmSmallA=%d changes bits at %d", name, lim, i)
				}
			}
		}
	}
}

func TestGemmPacked(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	for _, set := range Sets() {
		t.Run(set, func(t *testing.T) {
			useSet(t, set)
			g := active.Load().gemm
			mr, nr := g.mr, g.nr
			acts := []Activation{ActNone, ActReLU, ActSiLU, ActGELU}
			cs := 0
			for _, m := range []int{1, 2, mr, mr + 1, 3*mr + 2} {
				for _, n := range []int{1, nr - 1, nr, 2*nr + 3} {
					for _, k := range []int{1, 5, g.kc + 7} {
						cs++
						e := Epilogue{Act: acts[cs%4], TransC: cs%3 == 0}
						if cs%7 < 3 {
							e.Scale, e.K = ScaleOp(1+cs%2), 1.3
						}
						if cs%2 == 0 {
							e.Bias = []float32{}
						}
						if cs%5 < 2 {
							e.Add = []float32{}
						}
						beta := []float32{0, 1, 0.5}[cs%3]
						packedCase(t, r, m, n, k, cs%2 == 1, cs%4 >= 2, cs%3 != 1, beta, e, []int{1, 2, 3})
					}
				}
			}
			// Several nc panels and kc blocks, split over threads.
			packedCase(t, r, 40, g.nc+nr+3, 2*g.kc+5, true, true, true, 0, Epilogue{Bias: []float32{}, Act: ActSiLU, TransC: true}, []int{1, 4})
			packedCase(t, r, 70, 2*g.nc-1, g.kc+1, false, false, true, 1, Epilogue{Add: []float32{}}, []int{1, 3})
			packedCase(t, r, 33, g.nc+1, 17, false, true, false, 0, Epilogue{Bias: []float32{}, Act: ActGELU}, []int{1, 2})
			// Enough row blocks for gemmRowBlocks (compared bit for bit with
			// the whole-A path inside packedCase).
			packedCase(t, r, 4*g.mc+5, 3*g.nr+1, g.kc+9, true, false, true, 0.5, Epilogue{Bias: []float32{}, Act: ActSiLU}, []int{1, 2})
			packedCase(t, r, 4*g.mc+1, 2*g.nr, 2*g.kc+3, false, true, true, 0, Epilogue{Add: []float32{}, Scale: ScaleDiv, K: 2}, []int{2})
		})
	}
}

// TestGemmPackedOtherSet checks that a PackedB keeps working, with its own
// set's kernels, after the active set changes.
func TestGemmPackedOtherSet(t *testing.T) {
	names := Sets()
	r := rand.New(rand.NewSource(10))
	m, n, k := 9, 45, 70
	a, b := nnRand(r, m*k), nnRand(r, k*n)
	want, scale := refGemm(m, n, k, 1, a, k, false, b, n, false, 0, nil, n)
	for _, packSet := range names {
		useSet(t, packSet)
		pb := PackB(k, n, Operand{F32: b, LD: n}, 1)
		if pb.Set() != packSet {
			t.Fatalf("PackB under %s reports set %s", packSet, pb.Set())
		}
		for _, runSet := range names {
			useSet(t, runSet)
			c := make([]float32, m*n)
			GemmPacked(m, 1, Operand{F32: a, LD: k}, pb, 0, c, n, Epilogue{}, 2)
			if err := compareF32(c, n, want, scale, m, n); err != nil {
				t.Fatalf("packed with %s, run with %s: %v", packSet, runSet, err)
			}
		}
	}
}

func TestGemmEpilogueBadInput(t *testing.T) {
	c := make([]float32, 12)
	a, b := Operand{F32: make([]float32, 12), LD: 4}, Operand{F32: make([]float32, 12), LD: 3}
	for name, f := range map[string]func(){
		"short bias": func() { GemmEpilogue(3, 3, 4, 1, a, b, 0, c, 3, Epilogue{Bias: make([]float32, 2)}, 1) },
		"short add":  func() { GemmEpilogue(3, 3, 4, 1, a, b, 0, c, 3, Epilogue{Add: make([]float32, 5)}, 1) },
		"bad act":    func() { GemmEpilogue(3, 3, 4, 1, a, b, 0, c, 3, Epilogue{Act: 9}, 1) },
		"trans ldc": func() {
			GemmEpilogue(4, 2, 4, 1, a, Operand{F32: make([]float32, 8), LD: 2}, 0, c, 3, Epilogue{TransC: true}, 1)
		},
		"pack empty": func() { PackB(0, 3, b, 1) },
		"pack short": func() { PackB(5, 3, b, 1) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
