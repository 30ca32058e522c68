package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"testing"
)

// nkSizes are the lengths every primitive is checked at: 0..2·widest
// unrolled step + 1, vector-width neighbours and a few large odd sizes.
var nkSizes = func() []int {
	var s []int
	for n := 0; n <= 70; n++ {
		s = append(s, n)
	}
	return append(s, 95, 96, 97, 127, 128, 129, 1000, 4099)
}()

// nkULP returns the distance in float32 steps between a and b (0 for equal
// values and for two NaNs; huge for NaN against a number).
func nkULP(a, b float32) float64 {
	if a != a || b != b {
		if a != a && b != b {
			return 0
		}
		return math.Inf(1)
	}
	ia, ib := int64(math.Float32bits(a)), int64(math.Float32bits(b))
	if ia < 0x80000000 == (ib < 0x80000000) {
		return math.Abs(float64(ia - ib))
	}
	// opposite signs: distance through zero
	return float64((ia & 0x7fffffff) + (ib & 0x7fffffff))
}

// nkActInput returns n test values: random over ±range plus specials.
func nkActInput(r *rand.Rand, n int, scale float32) []float32 {
	v := make([]float32, n)
	specials := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 0.5, -4, 4, 7.9, -7.9, 88.5, -87.5, -100, 100, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1e-30, -1e-30, -1.0001, -1.4142, -2.8285, -2, 2}
	for i := range v {
		if i%7 == 3 {
			v[i] = specials[(i/7)%len(specials)]
			continue
		}
		v[i] = (r.Float32()*2 - 1) * scale
	}
	return v
}

type nkActCase struct {
	name  string
	fn    func(s *Set) func(dst, src []float32)
	ref   func(x float64) float64 // float64 reference (nil: none)
	ulp   float64                 // vs the generic twin, in float32 steps
	rel   float64                 // or relative to the generic result
	scale float32
}

var nkActCases = []nkActCase{
	// Rational approximations evaluated with and without FMA differ by a
	// few ulp where the result is near ±1 (erf, tanh: within their 4e-7
	// error budget, so up to twice it apart); GELU's 1+erf cancels near x = -1.4.
	{"exp", func(s *Set) func(dst, src []float32) { return s.nk.exp }, math.Exp, 2, 0, 90},
	{"exp-small", func(s *Set) func(dst, src []float32) { return s.nk.exp }, math.Exp, 2, 0, 4},
	{"erf", func(s *Set) func(dst, src []float32) { return s.nk.erf }, math.Erf, 2, 9e-7, 5},
	{"tanh", func(s *Set) func(dst, src []float32) { return s.nk.tanh }, math.Tanh, 2, 9e-7, 9},
	{"sigmoid", func(s *Set) func(dst, src []float32) { return s.nk.sigmoid }, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }, 4, 0, 30},
	{"silu", func(s *Set) func(dst, src []float32) { return s.nk.silu }, func(x float64) float64 { return x / (1 + math.Exp(-x)) }, 4, 0, 30},
	{"gelu", func(s *Set) func(dst, src []float32) { return s.nk.gelu }, func(x float64) float64 { return 0.5 * x * math.Erfc(-x/math.Sqrt2) }, 4, 4e-6, 12},
}

// nkSubnormalSlack accepts results within two subnormal steps of each
// other (the vector exp rounds subnormal results once, Exp32 via float64).
const nkSubnormalSlack = 3e-45

// TestActVsGeneric checks every activation routine of every set against the
// generic twin at every size and misalignment, with guard bands around the
// output and the input checked unchanged, and in place.
func TestActVsGeneric(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for _, name := range Sets() {
		s := setByName(t, name)
		for _, c := range nkActCases {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				f, g := c.fn(s), c.fn(sets[0])
				for _, n := range nkSizes {
					for off := 0; off < 4; off++ {
						x := nkActInput(r, n, c.scale)
						xb, xp := guarded(n, off, x)
						yb, yp := guarded(n, 3-off, nil)
						f(yp, xp)
						checkGuards(t, c.name, yb, 3-off, n, yp, n, max(n, 1))
						checkGuards(t, c.name+" input", xb, off, n, xp, n, max(n, 1))
						checkUnchanged(t, c.name, xp, x)
						want := make([]float32, n)
						g(want, x)
						for i := range want {
							d := nkULP(yp[i], want[i])
							ad := math.Abs(float64(yp[i]) - float64(want[i]))
							if d > c.ulp && ad > c.rel*math.Abs(float64(want[i]))+nkSubnormalSlack {
								t.Fatalf("n=%d off=%d: %s(%g) = %g, generic %g (%g ulp)", n, off, c.name, x[i], yp[i], want[i], d)
							}
						}
						// in place
						ip := append([]float32(nil), x...)
						f(ip, ip)
						for i := range ip {
							if math.Float32bits(ip[i]) != math.Float32bits(yp[i]) {
								t.Fatalf("n=%d: in-place %s(%g) = %g, out of place %g", n, c.name, x[i], ip[i], yp[i])
							}
						}
					}
				}
			})
		}
	}
}

// TestActAccuracy measures every set's activations against float64 math on
// a dense sweep: relative error within a few float32 ulp where the result
// is normal (absolute error near zero crossings and for subnormals).
func TestActAccuracy(t *testing.T) {
	type acc struct {
		name   string
		fn     func(s *Set) func(dst, src []float32)
		ref    func(float64) float64
		lo, hi float64
		relTol float64 // relative to |ref|
		absTol float64
	}
	cases := []acc{
		{"exp", func(s *Set) func(dst, src []float32) { return s.nk.exp }, math.Exp, -87, 88.7, 2.5e-7, 0},
		{"exp-subnormal", func(s *Set) func(dst, src []float32) { return s.nk.exp }, math.Exp, -104, -87, 0, 3e-45},
		{"erf", func(s *Set) func(dst, src []float32) { return s.nk.erf }, math.Erf, -6, 6, 5e-7, 1e-12},
		{"tanh", func(s *Set) func(dst, src []float32) { return s.nk.tanh }, math.Tanh, -10, 10, 5e-7, 1e-12},
		{"sigmoid", func(s *Set) func(dst, src []float32) { return s.nk.sigmoid }, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }, -80, 40, 5e-7, 1e-40},
		{"silu", func(s *Set) func(dst, src []float32) { return s.nk.silu }, func(x float64) float64 { return x / (1 + math.Exp(-x)) }, -80, 40, 5e-7, 1e-40},
		// GELU: erf's 4.3e-7 relative error is amplified where 1+erf is
		// small, and the Cephes erfc has a 4e-6 peak error.
		{"gelu", func(s *Set) func(dst, src []float32) { return s.nk.gelu }, func(x float64) float64 { return 0.5 * x * math.Erfc(-x/math.Sqrt2) }, -9, 8, 6e-6, 1e-40},
		// far tail: exp(-z²) inherits the rounding of z² (|y| < 1e-18 here)
		{"gelu-far", func(s *Set) func(dst, src []float32) { return s.nk.gelu }, func(x float64) float64 { return 0.5 * x * math.Erfc(-x/math.Sqrt2) }, -14, -9, 5e-5, 1e-44},
	}
	const n = 20001
	for _, name := range Sets() {
		s := setByName(t, name)
		for _, c := range cases {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				x := make([]float32, n)
				for i := range x {
					x[i] = float32(c.lo + (c.hi-c.lo)*float64(i)/(n-1))
				}
				y := make([]float32, n)
				c.fn(s)(y, x)
				worst, at := 0.0, 0
				for i, v := range y {
					w := c.ref(float64(x[i]))
					e := math.Abs(float64(v) - w)
					lim := c.relTol*math.Abs(w) + c.absTol
					if e > lim || v != v {
						t.Fatalf("%s(%g) = %g, want %g (err %g > %g)", c.name, x[i], v, w, e, lim)
					}
					if r := e / (math.Abs(w) + 1e-300); r > worst && w != 0 {
						worst, at = r, i
					}
				}
				t.Logf("worst relative error %.3g at x=%g", worst, x[at])
			})
		}
	}
}

// TestActSpecials checks NaN, ±Inf and the clamps of every set.
func TestActSpecials(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	cases := []struct {
		name string
		fn   func(s *Set) func(dst, src []float32)
		in   []float32
		want []float32
	}{
		{"exp", func(s *Set) func(dst, src []float32) { return s.nk.exp }, []float32{nan, inf, -inf, 0, 100, -200}, []float32{nan, inf, 0, 1, inf, 0}},
		{"erf", func(s *Set) func(dst, src []float32) { return s.nk.erf }, []float32{nan, inf, -inf, 0, 10, -10}, []float32{nan, 1, -1, 0, 1, -1}},
		{"tanh", func(s *Set) func(dst, src []float32) { return s.nk.tanh }, []float32{nan, inf, -inf, 0, 10, -10}, []float32{nan, 1, -1, 0, 1, -1}},
		{"sigmoid", func(s *Set) func(dst, src []float32) { return s.nk.sigmoid }, []float32{nan, inf, -inf, 0}, []float32{nan, 1, 0, 0.5}},
		{"gelu", func(s *Set) func(dst, src []float32) { return s.nk.gelu }, []float32{nan, inf, 0, -30}, []float32{nan, inf, 0, 0}},
	}
	for _, name := range Sets() {
		s := setByName(t, name)
		for _, c := range cases {
			// repeat so that the vector path sees every special
			x := make([]float32, 0, 64*len(c.in))
			for len(x) < 64 {
				x = append(x, c.in...)
			}
			y := make([]float32, len(x))
			c.fn(s)(y, x)
			for i, v := range y {
				w := c.want[i%len(c.in)]
				if !(v == w || v != v && w != w) {
					t.Errorf("%s/%s(%g) = %g, want %g", name, c.name, x[i], v, w)
				}
			}
		}
	}
}

// TestF16Conversions checks F16ToF32/F32ToF16 of every set against the
// generic conversions at every size, including rounding ties, subnormals
// and specials.
func TestF16Conversions(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for _, name := range Sets() {
		s := setByName(t, name)
		for _, n := range nkSizes {
			x := make([]float32, n)
			for i := range x {
				switch i % 5 {
				case 0:
					x[i] = math.Float32frombits(r.Uint32()) // any bits, NaN payloads aside
					if x[i] != x[i] {
						x[i] = 1
					}
				case 1:
					x[i] = float32(r.NormFloat64() * 1e-5)
				default:
					x[i] = float32(r.NormFloat64() * 100)
				}
			}
			h := make([]uint16, n+1)
			s.nk.f2h(h[:n], x)
			want := make([]uint16, n)
			nkF2hGeneric(want, x)
			for i := range want {
				if h[i] != want[i] {
					t.Fatalf("%s n=%d: f2h(%g) = %#x, want %#x", name, n, x[i], h[i], want[i])
				}
			}
			if h[n] != 0 {
				t.Fatalf("%s: f2h wrote past n", name)
			}
			back := make([]float32, n)
			s.h2f(back, h[:n])
			for i := range back {
				if back[i] != nnH2F(h[i]) {
					t.Fatalf("%s: h2f(%#x) = %g", name, h[i], back[i])
				}
			}
		}
	}
}

// TestActAPI checks the exported wrappers select the active set and reject
// short destinations.
func TestActAPI(t *testing.T) {
	for _, name := range Sets() {
		t.Run(name, func(t *testing.T) {
			useSet(t, name)
			x := []float32{-3, -1, 0, 0.5, 2, 10, -20, 1, 3}
			y := make([]float32, len(x))
			for _, f := range []struct {
				name string
				fn   func(dst, src []float32)
				ref  func(float64) float64
			}{
				{"ExpF32", ExpF32, math.Exp},
				{"ErfF32", ErfF32, math.Erf},
				{"TanhF32", TanhF32, math.Tanh},
				{"SigmoidF32", SigmoidF32, func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }},
				{"SiLUF32", SiLUF32, func(v float64) float64 { return v / (1 + math.Exp(-v)) }},
				{"GeluF32", GeluF32, func(v float64) float64 { return 0.5 * v * math.Erfc(-v/math.Sqrt2) }},
			} {
				f.fn(y, x)
				for i, v := range y {
					w := f.ref(float64(x[i]))
					if math.Abs(float64(v)-w) > 1e-6*math.Abs(w)+1e-30 {
						t.Errorf("%s(%g) = %g, want %g", f.name, x[i], v, w)
					}
				}
				func() {
					defer func() {
						if recover() == nil {
							t.Errorf("%s: short dst did not panic", f.name)
						}
					}()
					f.fn(y[:2], x)
				}()
			}
		})
	}
}

func ExampleGeluF32() {
	x := []float32{-1, 0, 1, 2}
	y := make([]float32, len(x))
	GeluF32(y, x)
	fmt.Printf("%.4f\n", y)
	// Output: [-0.1587 0.0000 0.8413 1.9545]
}

// TestConvertPar checks the parallel conversions against the serial ones
// for lengths around the chunk size and several thread counts.
func TestConvertPar(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	for _, n := range []int{0, 1, 7, cvtChunk - 1, cvtChunk + 9, 3*cvtChunk + 5} {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64() * 100)
		}
		want := make([]uint16, n)
		F32ToF16(want, x)
		back := make([]float32, n)
		F16ToF32(back, want)
		for _, th := range []int{1, 2, 3} {
			h := make([]uint16, n+1)
			h[n] = 0xabcd
			F32ToF16Par(h[:n], x, th)
			if !slices.Equal(h[:n], want) || h[n] != 0xabcd {
				t.Fatalf("n=%d threads=%d: F32ToF16Par differs from F32ToF16", n, th)
			}
			f := make([]float32, n)
			F16ToF32Par(f, want, th)
			if !slices.Equal(f, back) {
				t.Fatalf("n=%d threads=%d: F16ToF32Par differs from F16ToF32", n, th)
			}
		}
	}
}
