package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"testing"

	"github.com/x448/float16"
)

// TestAttnExp checks every set's vector exp (expSum) against Exp32 and
// float64: about 1 ulp on the normal range, 0 below 2^-126 and for -Inf,
// NaN kept, and the returned sum.
func TestAttnExp(t *testing.T) {
	const n = 200003
	src := make([]float32, n)
	for i := range src {
		src[i] = float32(-87 + (88.3+87)*float64(i)/(n-1))
	}
	special := []float32{faNegInf, -1e30, -104, -88, -87.34, -87.33, 0, float32(math.NaN()), 1e-30, -1e-30}
	src = append(src, special...)
	for _, s := range sets {
		im := s.attn
		for _, off := range []int{0, 1, 3} {
			name := fmt.Sprintf("%s/off=%d", s.Name, off)
			in := slices.Clone(src[off:])
			in0 := slices.Clone(in)
			buf, dst := guarded(len(in), off, nil)
			sum := im.expSum(dst, in, 0)
			checkGuards(t, name, buf, off, len(in), nil, len(in), len(in))
			checkUnchanged(t, name+" src", in, in0)
			var want float64
			for i, x := range in {
				g := dst[i]
				switch {
				case x != x:
					if g == g {
						t.Fatalf("%s: exp(NaN) = %g", name, g)
					}
					continue
				case x < faExpLo: // below 2^-126: 0 or a subnormal, -Inf gives 0
					if !(g >= 0 && g <= 0x1p-126) || x == faNegInf && g != 0 {
						t.Fatalf("%s: exp(%g) = %g, want 0 or a subnormal", name, x, g)
					}
					continue
				}
				w := math.Exp(float64(x))
				want += float64(g)
				if e := math.Abs(float64(g)-w) / w; !(e <= 3e-7) {
					t.Fatalf("%s: exp(%g) = %g, want %g (rel %g)", name, x, g, w, e)
				}
				if e := math.Abs(float64(g) - float64(Exp32(x))); !(e <= 2.5e-7*w) {
					t.Fatalf("%s: exp(%g) = %g, Exp32 %g", name, x, g, Exp32(x))
				}
			}
			if sum == sum { // NaN in the input makes the sum NaN
				t.Fatalf("%s: sum with a NaN input = %g", name, sum)
			}
			in = in[:n/2-37] // x <= 0 (the float32 sum stays finite), a vector tail
			sum = im.expSum(dst, in, 1.5)
			want = 0
			for _, x := range in {
				want += math.Exp(float64(x) - 1.5)
			}
			if e := math.Abs(float64(sum)-want) / want; e > 1e-4 {
				t.Fatalf("%s: sum %g, want %g", name, sum, want)
			}
		}
	}
}

// TestAttnMicroKernel cross-checks every set's attention micro-kernel with
// its pure-Go twin faKernGeneric: both A layouts, kc tails, odd strides,
// misaligned offsets, both store modes, guard bands, read-only inputs.
func TestAttnMicroKernel(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	for _, s := range sets {
		im := s.attn
		R, L := im.r, im.l
		for _, kc := range []int{1, 2, 3, 7, 8, 15, 16, 17, 64, 129} {
			for ci, ldc := range []int{L, L + 1, 2*L + 3} {
				for _, trans := range []bool{false, true} {
					off := (kc + ci) % 4
					ais, aps := kc+ci, 1
					if trans {
						ais, aps = 1, R+ci
					}
					ldb := L + 2*ci
					name := fmt.Sprintf("%s/kc=%d/ldc=%d/trans=%v/off=%d", s.Name, kc, ldc, trans, off)
					an := (R-1)*ais + (kc-1)*aps + 1
					a := nnRand(r, an+off)[off:]
					b := nnRand(r, (kc-1)*ldb+L+off)[off:]
					a0, b0 := slices.Clone(a), slices.Clone(b)
					var scale []float32
					if ci%2 == 1 {
						scale = nnRand(r, L)
					}
					n := (R-1)*ldc + L
					c0 := nnRand(r, n)
					want := slices.Clone(c0)
					faKernGeneric(R, L, kc, a, ais, aps, b, ldb, want, ldc, scale)
					buf, c := guarded(n, off, c0)
					im.kern(kc, a, ais, aps, b, ldb, c, ldc, scale)
					checkGuards(t, name, buf, off, n, c0, L, ldc)
					checkUnchanged(t, name+" a", a, a0)
					checkUnchanged(t, name+" b", b, b0)
					for i := 0; i < R; i++ {
						for j := 0; j < L; j++ {
							x := i*ldc + j
							sc := 0.0
							for p := 0; p < kc; p++ {
								sc += math.Abs(float64(a[i*ais+p*aps]) * float64(b[p*ldb+j]))
							}
							if scale != nil {
								sc += math.Abs(float64(c0[x] * scale[j]))
							}
							if d := math.Abs(float64(c[x] - want[x])); !(d <= 2e-6*sc+1e-7) {
								t.Fatalf("%s: c[%d][%d] = %g, generic twin %g", name, i, j, c[x], want[x])
							}
						}
					}
				}
			}
		}
	}
}

// TestAttnSoftmaxTile cross-checks every set's online-softmax tile step with
// faSoftmaxGeneric, including -Inf scores, fully masked columns and a
// second step on the same state.
func TestAttnSoftmaxTile(t *testing.T) {
	r := rand.New(rand.NewSource(12))
	for _, s := range sets {
		im := s.attn
		W := im.w
		for _, rows := range []int{1, 2, 5, 31, 128} {
			for _, cols := range []int{W, 2 * W, 5 * W, im.l} {
				lds := cols + rows%3
				name := fmt.Sprintf("%s/rows=%d/cols=%d", s.Name, rows, cols)
				n := (rows-1)*lds + cols
				m, l := make([]float32, cols), make([]float32, cols)
				for j := range m {
					m[j] = faNegInf
				}
				mg, lg := slices.Clone(m), slices.Clone(l)
				for step := 0; step < 2; step++ {
					s0 := nnRand(r, n)
					for i := range s0 {
						s0[i] *= 20
						if r.Intn(7) == 0 {
							s0[i] = faNegInf
						}
					}
					for i := 0; i < rows; i++ { // column 1 fully masked in step 0
						if step == 0 && cols > 1 {
							s0[i*lds+1] = faNegInf
						}
					}
					want := slices.Clone(s0)
					ag := make([]float32, cols)
					faSoftmaxGeneric(want, lds, rows, cols, mg, lg, ag)
					buf, got := guarded(n, step, s0)
					al := make([]float32, cols)
					im.softmax(got, lds, rows, cols, m, l, al)
					checkGuards(t, name, buf, step, n, s0, cols, lds)
					for i := 0; i < rows; i++ {
						for j := 0; j < cols; j++ {
							g, w := got[i*lds+j], want[i*lds+j]
							if math.Abs(float64(g-w)) > 5e-7*math.Abs(float64(w))+1e-30 {
								t.Fatalf("%s step %d: p[%d][%d] = %g, generic %g", name, step, i, j, g, w)
							}
						}
					}
					for j := 0; j < cols; j++ {
						if m[j] != mg[j] || math.Abs(float64(l[j]-lg[j])) > 2e-6*float64(lg[j]) || math.Abs(float64(al[j]-ag[j])) > 5e-7*float64(ag[j]) {
							t.Fatalf("%s step %d: column %d m/l/alpha = %g/%g/%g, generic %g/%g/%g", name, step, j, m[j], l[j], al[j], mg[j], lg[j], ag[j])
						}
					}
					if step == 0 && cols > 1 && (l[1] != 0 || got[1] != 0 || m[1] != faNegInf) {
						t.Fatalf("%s: fully masked column: l %g p %g m %g", name, l[1], got[1], m[1])
					}
				}
			}
		}
	}
}

// TestAttnDotGemv cross-checks every set's decode kernels with their twins.
func TestAttnDotGemv(t *testing.T) {
	r := rand.New(rand.NewSource(13))
	for _, s := range sets {
		im := s.attn
		W := im.w
		for _, n := range []int{0, 1, 3, 4, 5, 9, 77} {
			for _, d := range []int{W, 2 * W, 8 * W, 9 * W} {
				ldk := d + n%3
				off := n % 4
				name := fmt.Sprintf("%s/dot/n=%d/d=%d", s.Name, n, d)
				q := nnRand(r, d+off)[off:]
				k := nnRand(r, max(0, (n-1)*ldk+d)+1)
				want := make([]float32, n)
				faDotGeneric(want, q, k, ldk)
				buf, got := guarded(n, off, nil)
				im.dot(got, q, k, ldk)
				checkGuards(t, name, buf, off, n, nil, n, n)
				for j := range want {
					if math.Abs(float64(got[j]-want[j])) > 1e-5*math.Sqrt(float64(d)) {
						t.Fatalf("%s: out[%d] = %g, generic %g", name, j, got[j], want[j])
					}
				}
			}
		}
		for _, kc := range []int{1, 2, 7, 130} {
			for _, n := range []int{W, 3 * W, 4 * W, 9 * W, 16 * W} {
				for _, add := range []bool{false, true} {
					ldb := n + kc%3
					off := kc % 4
					name := fmt.Sprintf("%s/gemv/kc=%d/n=%d/add=%v", s.Name, kc, n, add)
					a := nnRand(r, kc+off)[off:]
					b := nnRand(r, (kc-1)*ldb+n)
					c0 := nnRand(r, n)
					want := slices.Clone(c0)
					faGemvGeneric(want, a, b, ldb, add, 0.75)
					buf, got := guarded(n, off, c0)
					im.gemv(got, a, b, ldb, add, 0.75)
					checkGuards(t, name, buf, off, n, c0, n, n)
					for j := range want {
						if math.Abs(float64(got[j]-want[j])) > 2e-6*float64(kc+1) {
							t.Fatalf("%s: c[%d] = %g, generic %g", name, j, got[j], want[j])
						}
					}
				}
			}
		}
	}
}

// TestAttnF16DotGemv cross-checks the float16 decode kernels (where a set
// has them) with their twins.
func TestAttnF16DotGemv(t *testing.T) {
	r := rand.New(rand.NewSource(14))
	h16 := func(n int) []uint16 {
		h := make([]uint16, n)
		for i := range h {
			h[i] = f16bits(r.Float32()*2 - 1)
		}
		return h
	}
	for _, s := range sets {
		im := s.attn
		if im.dotF16 == nil || im.gemvF16 == nil {
			continue
		}
		W := im.w
		for _, n := range []int{0, 1, 3, 4, 5, 9, 77} {
			for _, d := range []int{W, 2 * W, 8 * W, 9 * W} {
				ldk := d + n%3
				off := n % 4
				name := fmt.Sprintf("%s/dotF16/n=%d/d=%d", s.Name, n, d)
				q := nnRand(r, d+off)[off:]
				k := h16(max(0, (n-1)*ldk+d) + 1)
				k0 := slices.Clone(k)
				want := make([]float32, n)
				faDotF16Generic(want, q, k, ldk)
				buf, got := guarded(n, off, nil)
				im.dotF16(got, q, k, ldk)
				checkGuards(t, name, buf, off, n, nil, n, n)
				if !slices.Equal(k, k0) {
					t.Fatalf("%s: k modified", name)
				}
				for j := range want {
					if math.Abs(float64(got[j]-want[j])) > 1e-5*math.Sqrt(float64(d)) {
						t.Fatalf("%s: out[%d] = %g, generic %g", name, j, got[j], want[j])
					}
				}
			}
		}
		for _, kc := range []int{1, 2, 7, 130} {
			for _, n := range []int{W, 3 * W, 8 * W, 9 * W, 17 * W} {
				for _, add := range []bool{false, true} {
					ldb := n + kc%3
					off := kc % 4
					name := fmt.Sprintf("%s/gemvF16/kc=%d/n=%d/add=%v", s.Name, kc, n, add)
					a := nnRand(r, kc+off)[off:]
					b := h16((kc-1)*ldb + n)
					c0 := nnRand(r, n)
					want := slices.Clone(c0)
					faGemvF16Generic(want, a, b, ldb, add, 0.75)
					buf, got := guarded(n, off, c0)
					im.gemvF16(got, a, b, ldb, add, 0.75)
					checkGuards(t, name, buf, off, n, c0, n, n)
					for j := range want {
						if math.Abs(float64(got[j]-want[j])) > 2e-6*float64(kc+1) {
							t.Fatalf("%s: c[%d] = %g, generic %g", name, j, got[j], want[j])
						}
					}
				}
			}
		}
	}
}

// TestAttnTranspose cross-checks every set's scaled transpose with
// faTransposeGeneric: 8x8 blocks and edges, odd strides, guard bands.
func TestAttnTranspose(t *testing.T) {
	r := rand.New(rand.NewSource(15))
	for _, s := range sets {
		for _, rows := range []int{1, 7, 8, 9, 16, 33} {
			for _, cols := range []int{1, 5, 8, 15, 24, 64} {
				lds, ldd := cols+rows%3, rows+cols%5
				off := (rows + cols) % 4
				name := fmt.Sprintf("%s/rows=%d/cols=%d", s.Name, rows, cols)
				src := nnRand(r, (rows-1)*lds+cols+off)[off:]
				sv := nnRand(r, cols)
				src0 := slices.Clone(src)
				n := (cols-1)*ldd + rows
				c0 := nnRand(r, n)
				want := slices.Clone(c0)
				faTransposeGeneric(want, ldd, src, lds, sv, rows, cols)
				buf, got := guarded(n, off, c0)
				s.attn.transpose(got, ldd, src, lds, sv, rows, cols)
				checkGuards(t, name, buf, off, n, c0, rows, ldd)
				checkUnchanged(t, name+" src", src, src0)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s: dst[%d] = %g, generic %g", name, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// attnCase is one Attend test: shapes, layouts and masks.
type attnCase struct {
	name                  string
	heads, sq, skv, d, dv int
	causal                bool
	shift                 int // causal shift (past length)
	keysShort             int // head p attends Skv - (p*keysShort)%Skv keys
	mask                  string
	bias                  bool
	kTrans                bool
	f16KV, f16Q, f16Out   bool
	pad                   int // extra row stride and offset (room, misalignment)
}

// attnData holds the inputs of one case, their float32 values and the
// reference output.
type attnData struct {
	a                  *Attention
	q, k, v            []float32 // values as read (fp16-rounded where stored as fp16)
	q16, k16, v16      []uint16
	heads              []AttentionHead
	mask, bias         []float32
	maskBool           []bool
	maskLD, biasLD     int
	qLD, kLD, vLD, oLD int
	outLen             int
	wantOut            [][]float64
	scoreMag           []float64
}

func f16round(v float32) float32 { return float16.Fromfloat32(v).Float32() }

// newAttnData builds random inputs for tc: every matrix of head p lives at
// its own offset (heads in reverse order, plus tc.pad) with row strides
// larger than the rows by tc.pad.
func newAttnData(r *rand.Rand, tc attnCase) *attnData {
	H, Sq, Skv, D, Dv := tc.heads, tc.sq, tc.skv, tc.d, tc.dv
	x := &attnData{}
	x.qLD, x.vLD, x.oLD = D+tc.pad, Dv+tc.pad, Dv+tc.pad
	kRows, kCols := Skv, D
	if tc.kTrans {
		kRows, kCols = D, Skv
	}
	x.kLD = kCols + tc.pad
	qSz, kSz, vSz := Sq*x.qLD, kRows*x.kLD, Skv*x.vLD
	fill := func(n int, f16 bool) ([]float32, []uint16) {
		v := nnRand(r, n)
		if !f16 {
			return v, nil
		}
		h := make([]uint16, n)
		for i := range v {
			h[i] = f16bits(v[i])
			v[i] = f16round(v[i])
		}
		return v, h
	}
	x.q, x.q16 = fill(tc.pad+H*qSz, tc.f16Q)
	x.k, x.k16 = fill(tc.pad+H*kSz, tc.f16KV)
	x.v, x.v16 = fill(tc.pad+H*vSz, tc.f16KV)
	for i := range x.q { // larger scores: a peaked softmax
		x.q[i] *= 3
		if x.q16 != nil {
			x.q16[i] = f16bits(x.q[i])
			x.q[i] = f16round(x.q[i])
		}
	}
	x.maskLD, x.biasLD = Skv+tc.pad, Skv
	mRows := Sq
	switch tc.mask {
	case "keys", "keysbool":
		x.maskLD, mRows = 0, 1
	}
	mSz := max(1, (mRows-1)*x.maskLD+Skv)
	switch tc.mask {
	case "add", "keys":
		x.mask = nnRand(r, H*mSz+tc.pad)
		for i := range x.mask {
			x.mask[i] *= 4
			if r.Intn(5) == 0 {
				x.mask[i] = faNegInf
			}
		}
	case "bool", "keysbool":
		x.maskBool = make([]bool, H*mSz+tc.pad)
		for i := range x.maskBool {
			x.maskBool[i] = r.Intn(4) != 0
		}
	}
	if tc.bias {
		x.bias = nnRand(r, H*Sq*Skv+1)
	}
	x.heads = make([]AttentionHead, H)
	for p := range x.heads {
		rp := H - 1 - p
		keys := Skv
		if tc.keysShort > 0 && Skv > 0 {
			keys = Skv - (p*tc.keysShort)%(Skv+1)
		}
		x.heads[p] = AttentionHead{
			Q: tc.pad + rp*qSz, K: tc.pad + rp*kSz, V: tc.pad + rp*vSz, Out: tc.pad + rp*Sq*x.oLD,
			Mask: tc.pad/2 + rp*mSz, Bias: rp * Sq * Skv, Keys: keys, CausalShift: tc.shift - p%2,
		}
	}
	x.outLen = tc.pad + H*Sq*x.oLD
	a := &Attention{Heads: H, Sq: Sq, Skv: Skv, D: D, Dv: Dv, Scale: float32(1 / math.Sqrt(float64(max(D, 1)))), Causal: tc.causal,
		Head: func(p int) AttentionHead { return x.heads[p] }}
	a.Q = Operand{F32: x.q, LD: x.qLD}
	if tc.f16Q {
		a.Q = Operand{F16: x.q16, LD: x.qLD}
	}
	a.K = Operand{F32: x.k, LD: x.kLD, Trans: tc.kTrans}
	a.V = Operand{F32: x.v, LD: x.vLD}
	if tc.f16KV {
		a.K = Operand{F16: x.k16, LD: x.kLD, Trans: tc.kTrans}
		a.V = Operand{F16: x.v16, LD: x.vLD}
	}
	a.Mask = AttentionMask{F32: x.mask, Bool: x.maskBool, LD: x.maskLD}
	if tc.bias {
		a.Bias = AttentionMask{F32: x.bias, LD: x.biasLD}
	}
	x.a = a
	return x
}

// reference computes every output row in float64: softmax over the
// attendable keys of scale·q·k + mask + bias, times V; a row without an
// attendable key is zero. It also returns, per row, the largest |score|.
func (x *attnData) reference(tc attnCase) {
	a := x.a
	x.wantOut = make([][]float64, a.Heads*a.Sq)
	x.scoreMag = make([]float64, a.Heads*a.Sq)
	for p := 0; p < a.Heads; p++ {
		h := x.heads[p]
		for i := 0; i < a.Sq; i++ {
			s := make([]float64, a.Skv)
			ok := make([]bool, a.Skv)
			mx := math.Inf(-1)
			for j := 0; j < a.Skv; j++ {
				ok[j] = j < h.Keys && (!a.Causal || j <= i+h.CausalShift)
				var acc, mag float64
				for t := 0; t < a.D; t++ {
					var kv float32
					if tc.kTrans {
						kv = x.k[h.K+t*x.kLD+j]
					} else {
						kv = x.k[h.K+j*x.kLD+t]
					}
					acc += float64(x.q[h.Q+i*x.qLD+t]) * float64(kv)
					mag += math.Abs(float64(x.q[h.Q+i*x.qLD+t]) * float64(kv))
				}
				s[j] = acc * float64(a.Scale)
				x.scoreMag[p*a.Sq+i] = math.Max(x.scoreMag[p*a.Sq+i], mag*float64(a.Scale))
				if x.mask != nil {
					s[j] += float64(x.mask[h.Mask+i*x.maskLD+j])
				}
				if x.maskBool != nil && !x.maskBool[h.Mask+i*x.maskLD+j] {
					ok[j] = false
				}
				if x.bias != nil {
					s[j] += float64(x.bias[h.Bias+i*x.biasLD+j])
				}
				if math.IsInf(s[j], -1) {
					ok[j] = false
				}
				if ok[j] {
					mx = math.Max(mx, s[j])
				}
			}
			out := make([]float64, a.Dv)
			x.wantOut[p*a.Sq+i] = out
			if math.IsInf(mx, -1) {
				continue
			}
			var sum float64
			for j := range s {
				if ok[j] {
					s[j] = math.Exp(s[j] - mx)
					sum += s[j]
				}
			}
			for j := range s {
				if !ok[j] {
					continue
				}
				for d := 0; d < a.Dv; d++ {
					out[d] += s[j] / sum * float64(x.v[h.V+j*x.vLD+d])
				}
			}
		}
	}
}

// run computes the case into fresh guarded outputs and returns the rows.
func (x *attnData) run(t *testing.T, tc attnCase, threads int) []float32 {
	t.Helper()
	a := x.a
	const sentinel = 0x7e5d
	var got []float32
	if tc.f16Out {
		buf := make([]uint16, x.outLen+2*guardLen)
		for i := range buf {
			buf[i] = sentinel
		}
		a.Out = Operand{F16: buf[guardLen : guardLen+x.outLen], LD: x.oLD}
		Attend(a, threads)
		got = make([]float32, x.outLen)
		for i, v := range buf {
			p := i - guardLen
			inRow := false
			if p >= 0 && p < x.outLen {
				for _, h := range x.heads {
					if q := p - h.Out; q >= 0 && q < a.Sq*x.oLD && q%x.oLD < a.Dv {
						inRow = true
					}
				}
			}
			if !inRow && v != sentinel {
				t.Fatalf("%s: fp16 output written outside the rows at %d", tc.name, p)
			}
			if inRow {
				got[p] = float16.Frombits(v).Float32()
			}
		}
		return got
	}
	buf, out := guarded(x.outLen, 1, nil)
	for i := range out {
		out[i] = guard
	}
	a.Out = Operand{F32: out, LD: x.oLD}
	Attend(a, threads)
	for i, v := range buf {
		p := i - guardLen - 1
		inRow := false
		if p >= 0 && p < x.outLen {
			for _, h := range x.heads {
				if q := p - h.Out; q >= 0 && q < a.Sq*x.oLD && q%x.oLD < a.Dv {
					inRow = true
				}
			}
		}
		if !inRow && math.Float32bits(v) != math.Float32bits(guard) {
			t.Fatalf("%s: output written outside the rows at %d", tc.name, p)
		}
	}
	return slices.Clone(out)
}

func attnCases() []attnCase {
	return []attnCase{
		{name: "decode", heads: 4, sq: 1, skv: 300, d: 64, dv: 64},
		{name: "decode-d128-past", heads: 3, sq: 1, skv: 323, d: 128, dv: 128, causal: true, shift: 322},
		{name: "decode-tails", heads: 2, sq: 3, skv: 131, d: 37, dv: 19, pad: 3},
		{name: "decode-f16", heads: 2, sq: 1, skv: 257, d: 64, dv: 32, f16KV: true, pad: 1},
		{name: "decode-kT", heads: 2, sq: 2, skv: 77, d: 16, dv: 24, kTrans: true, pad: 2},
		{name: "decode-kT-f16", heads: 2, sq: 1, skv: 140, d: 24, dv: 40, kTrans: true, f16KV: true},
		{name: "decode-kT-f16-w", heads: 2, sq: 1, skv: 128, d: 32, dv: 64, kTrans: true, f16KV: true, pad: 2},
		{name: "decode-f16-d128", heads: 3, sq: 1, skv: 323, d: 128, dv: 128, f16KV: true, causal: true, shift: 322},
		{name: "decode-masks", heads: 3, sq: 2, skv: 70, d: 32, dv: 32, mask: "add", bias: true, keysShort: 13},
		{name: "decode-keysbool", heads: 2, sq: 1, skv: 50, d: 16, dv: 16, mask: "keysbool"},
		{name: "prefill", heads: 2, sq: 100, skv: 100, d: 64, dv: 64},
		{name: "prefill-tails", heads: 3, sq: 131, skv: 259, d: 33, dv: 21, pad: 1},
		{name: "prefill-cross77", heads: 2, sq: 200, skv: 77, d: 64, dv: 64},
		{name: "prefill-causal", heads: 2, sq: 150, skv: 150, d: 16, dv: 16, causal: true},
		{name: "prefill-causal-past", heads: 2, sq: 40, skv: 300, d: 32, dv: 40, causal: true, shift: 260, pad: 2},
		{name: "prefill-kT", heads: 2, sq: 97, skv: 140, d: 64, dv: 48, kTrans: true, pad: 1},
		{name: "prefill-f16", heads: 2, sq: 70, skv: 135, d: 40, dv: 64, f16KV: true, f16Q: true, f16Out: true},
		{name: "prefill-kT-f16", heads: 1, sq: 64, skv: 129, d: 8, dv: 8, kTrans: true, f16KV: true},
		{name: "prefill-kT-f16-packed", heads: 2, sq: 290, skv: 133, d: 24, dv: 20, kTrans: true, f16KV: true, pad: 1},
		{name: "prefill-f16-packed", heads: 2, sq: 270, skv: 100, d: 32, dv: 32, f16KV: true, causal: true, shift: 3},
		{name: "prefill-kT-packed", heads: 3, sq: 260, skv: 70, d: 16, dv: 16, kTrans: true, mask: "add"},
		{name: "prefill-masks", heads: 3, sq: 45, skv: 90, d: 16, dv: 16, mask: "add", bias: true, keysShort: 31, pad: 1},
		{name: "prefill-bool", heads: 2, sq: 33, skv: 160, d: 16, dv: 8, mask: "bool"},
		{name: "prefill-keys", heads: 2, sq: 50, skv: 60, d: 8, dv: 8, mask: "keys", causal: true, shift: 5},
		{name: "prefill-keysbool", heads: 2, sq: 40, skv: 61, d: 8, dv: 8, mask: "keysbool"},
		{name: "fully-masked", heads: 4, sq: 30, skv: 20, d: 8, dv: 8, causal: true, shift: -10, keysShort: 7},
		{name: "fully-masked-decode", heads: 2, sq: 2, skv: 20, d: 8, dv: 8, causal: true, shift: -1},
		{name: "no-keys", heads: 2, sq: 20, skv: 0, d: 8, dv: 8},
		{name: "d0", heads: 2, sq: 20, skv: 9, d: 0, dv: 3},
		{name: "d1", heads: 1, sq: 25, skv: 9, d: 1, dv: 1},
	}
}

// TestAttention checks Attend on every set against the float64 reference:
// decode and prefill schedules, tails, strides and offsets, float16 K/V/Q/
// Out, transposed K, masks, causal with a past, fully masked rows (zero
// output), guard bands, read-only inputs and identical bits for 1-3 threads.
func TestAttention(t *testing.T) {
	for _, set := range Sets() {
		for ci, tc := range attnCases() {
			t.Run(set+"/"+tc.name, func(t *testing.T) {
				useSet(t, set)
				r := rand.New(rand.NewSource(int64(100 + ci)))
				x := newAttnData(r, tc)
				x.reference(tc)
				q0, k0, v0 := slices.Clone(x.q), slices.Clone(x.k), slices.Clone(x.v)
				m0, b0 := slices.Clone(x.mask), slices.Clone(x.bias)
				q16, k16, v16 := slices.Clone(x.q16), slices.Clone(x.k16), slices.Clone(x.v16)
				var first []float32
				for _, th := range []int{1, 2, 3} {
					got := x.run(t, tc, th)
					if first == nil {
						first = got
						x.compare(t, tc, got)
					} else {
						for i := range got {
							if math.Float32bits(got[i]) != math.Float32bits(first[i]) {
								t.Fatalf("threads=%d changes bits at %d", th, i)
							}
						}
					}
				}
				checkUnchanged(t, "q", x.q, q0)
				checkUnchanged(t, "k", x.k, k0)
				checkUnchanged(t, "v", x.v, v0)
				checkUnchanged(t, "mask", x.mask, m0)
				checkUnchanged(t, "bias", x.bias, b0)
				if !slices.Equal(q16, x.q16) || !slices.Equal(k16, x.k16) || !slices.Equal(v16, x.v16) {
					t.Fatal("fp16 inputs modified")
				}
			})
		}
	}
}

// compare checks got against the reference: every element within
// 1e-5·(1+max|score|)·max|v| (plus fp16 rounding of the output), and NMSE.
func (x *attnData) compare(t *testing.T, tc attnCase, got []float32) {
	t.Helper()
	a := x.a
	var num, den float64
	for p := 0; p < a.Heads; p++ {
		h := x.heads[p]
		for i := 0; i < a.Sq; i++ {
			want := x.wantOut[p*a.Sq+i]
			tol := 2e-6 * (1 + x.scoreMag[p*a.Sq+i])
			for d := 0; d < a.Dv; d++ {
				g, w := float64(got[h.Out+i*x.oLD+d]), want[d]
				e := tol
				if tc.f16Out {
					e += math.Abs(w) / 1024
				}
				if !(math.Abs(g-w) <= e) {
					t.Fatalf("head %d row %d col %d: got %g, want %g (tol %g)", p, i, d, g, w, e)
				}
				num += (g - w) * (g - w)
				den += w * w
			}
		}
	}
	if lim := 1e-8; !tc.f16Out && den > 0 && num/den > lim {
		t.Fatalf("NMSE %g > %g", num/den, lim)
	}
}
