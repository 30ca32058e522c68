package onnx

import (
	"math"
	"testing"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/kernels"
	"github.com/txt2img/engine/tensor"
)

// mathMaxErr returns the largest |got-want|/(|want|+absFloor) of f against ref
// over [lo, hi] sampled with step.
func mathMaxErr(f func(float32) float32, ref func(float64) float64, lo, hi, step, absFloor float64) (float64, float64) {
	worst, at := 0.0, 0.0
	for x := lo; x <= hi; x += step {
		xf := float32(x)
		g := float64(f(xf))
		w := ref(float64(xf))
		e := math.Abs(g-w) / (math.Abs(w) + absFloor)
		if e > worst || (g != g) != (w != w) {
			worst, at = e, x
		}
	}
	return worst, at
}

func TestMathFloat32Approximations(t *testing.T) {
	cases := []struct {
		name     string
		f        func(float32) float32
		ref      func(float64) float64
		lo, hi   float64
		absFloor float64
		tol      float64
	}{
		{"exp", kernels.Exp32, math.Exp, -87, 88.7, 0, 3e-7},
		{"exp-subnormal", kernels.Exp32, math.Exp, -103, -87, 1e-40, 1e-3},
		{"tanh", kernels.Tanh32, math.Tanh, -10, 10, 0, 1e-6},
		{"erf", kernels.Erf32, math.Erf, -6, 6, 0, 5e-7},
		{"sigmoid", func(x float32) float32 {
			d := []float32{0}
			mathSigmoidSlice32(d, []float32{x})
			return d[0]
		}, mathSigmoid64, -100, 100, 1e-37, 1e-6},
		{"gelu", func(x float32) float32 {
			d := []float32{0}
			mathGeluSlice32(d, []float32{x})
			return d[0]
		}, mathGelu64, -12, 12, 1e-30, 2e-5},
		{"gelu-tanh", func(x float32) float32 {
			d := []float32{0}
			mathGeluTanhSlice32(d, []float32{x})
			return d[0]
		}, mathGeluTanh64, -12, 12, 1e-30, 3e-5},
	}
	for _, c := range cases {
		if e, at := mathMaxErr(c.f, c.ref, c.lo, c.hi, 1.3e-4, c.absFloor); e > c.tol {
			t.Errorf("%s: relative error %.3g at %g (tolerance %g)", c.name, e, at, c.tol)
		}
	}
	for _, f := range []func(float32) float32{kernels.Exp32, kernels.Tanh32, kernels.Erf32} {
		if v := f(float32(math.NaN())); v == v {
			t.Errorf("NaN input gave %v", v)
		}
	}
	if v := kernels.Exp32(float32(math.Inf(1))); !math.IsInf(float64(v), 1) {
		t.Errorf("exp(+Inf) = %v", v)
	}
	if v := kernels.Exp32(float32(math.Inf(-1))); v != 0 {
		t.Errorf("exp(-Inf) = %v", v)
	}
	if v := kernels.Exp32(89); !math.IsInf(float64(v), 1) {
		t.Errorf("exp(89) = %v", v)
	}
}

func mathRun(t *testing.T, op string, attrs []graph.Attr, in ...*tensor.Tensor) *tensor.Tensor {
	t.Helper()
	f, ok := graph.Lookup("", op, 20)
	if !ok {
		t.Fatalf("%s not registered", op)
	}
	k, err := f(&graph.Node{OpType: op, Attrs: attrs}, 20)
	if err != nil {
		t.Fatal(err)
	}
	out, err := k.Run(&graph.ExecContext{Threads: 4}, in)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return out[0]
}

func TestMathHalfAndParallel(t *testing.T) {
	// Large enough to take the parallel path.
	n := 100000
	xs := make([]float32, n)
	for i := range xs {
		xs[i] = float32(i-n/2) / 5000
	}
	x32 := tensor.FromSlice(tensor.Float, []int{n}, xs)
	x16 := tensor.New(tensor.Float16, n)
	for i, v := range xs {
		tensor.View[uint16](x16)[i] = tensor.F32ToF16(v)
	}
	for _, op := range []string{"Sigmoid", "Tanh", "Erf", "Relu", "Gelu", "Exp", "Abs"} {
		r32 := mathRun(t, op, nil, x32).F32()
		r16 := mathRun(t, op, nil, x16)
		if r16.DType() != tensor.Float16 {
			t.Fatalf("%s: float16 in gave %s", op, r16.DType())
		}
		for i := range r32 {
			want := float64(r32[i])
			x := float64(tensor.F16ToF32(tensor.View[uint16](x16)[i]))
			if float64(xs[i]) != x {
				continue // the float16 input was rounded; skip the comparison
			}
			got := r16.At(i)
			if math.Abs(got-want) > 1e-3*math.Abs(want)+1e-6 {
				t.Fatalf("%s[%d](%g): float16 %g, float32 %g", op, i, x, got, want)
			}
		}
	}
}

func TestMathEdgeCases(t *testing.T) {
	i32 := func(v ...int32) *tensor.Tensor { return tensor.FromSlice(tensor.Int32, []int{len(v)}, v) }
	// Python-style integer mod.
	m := mathRun(t, "Mod", nil, i32(-7, 7, -7, 7, 5), i32(3, -3, -3, 3, 0)).Int64s()
	if want := []int64{2, -2, -1, 1, 0}; !mathEqI(m, want) {
		t.Errorf("Mod = %v, want %v", m, want)
	}
	m = mathRun(t, "Mod", []graph.Attr{{Name: "fmod", Kind: graph.AttrInt, Int: 1}}, i32(-7, 7, -7, 7), i32(3, -3, -3, 3)).Int64s()
	if want := []int64{-1, 1, -1, 1}; !mathEqI(m, want) {
		t.Errorf("Mod fmod = %v, want %v", m, want)
	}
	// Integer Pow, and integer base with float exponent (truncated).
	p := mathRun(t, "Pow", nil, i32(2, -3, 5, 1), i32(10, 3, -1, -5)).Int64s()
	if want := []int64{1024, -27, 0, 1}; !mathEqI(p, want) {
		t.Errorf("Pow = %v, want %v", p, want)
	}
	p = mathRun(t, "Pow", nil, i32(2, 9), tensor.FromSlice(tensor.Float, []int{2}, []float32{0.5, 0.5})).Int64s()
	if want := []int64{1, 3}; !mathEqI(p, want) {
		t.Errorf("Pow int^float = %v, want %v", p, want)
	}
	// float16 base, scalar exponent fast path keeps float16.
	h := tensor.New(tensor.Float16, 2)
	tensor.View[uint16](h)[0], tensor.View[uint16](h)[1] = tensor.F32ToF16(1.5), tensor.F32ToF16(-2)
	for _, e := range []float32{2, 3, 0.7} {
		ph := mathRun(t, "Pow", nil, h, tensor.ScalarF32(e))
		if ph.DType() != tensor.Float16 || math.Abs(ph.At(0)-math.Pow(1.5, float64(e))) > 1e-3 {
			t.Errorf("Pow float16 ^ %g = %s %v", e, ph.DType(), ph.Float64s())
		}
	}
	// Clip with min > max gives max; NaN passes through.
	c := mathRun(t, "Clip", nil, tensor.FromSlice(tensor.Float, []int{3}, []float32{-5, 0, float32(math.NaN())}),
		tensor.ScalarF32(2), tensor.ScalarF32(1)).F32()
	if c[0] != 1 || c[1] != 1 || c[2] == c[2] {
		t.Errorf("Clip = %v", c)
	}
	// Max propagates NaN from either side.
	nan := float32(math.NaN())
	mx := mathRun(t, "Max", nil, tensor.FromSlice(tensor.Float, []int{2}, []float32{nan, 1}), tensor.FromSlice(tensor.Float, []int{2}, []float32{1, nan})).F32()
	if mx[0] == mx[0] || mx[1] == mx[1] {
		t.Errorf("Max with NaN = %v", mx)
	}
	// Where broadcasting over strings.
	w := mathRun(t, "Where", nil, tensor.FromSlice(tensor.Bool, []int{2, 1}, []bool{true, false}),
		tensor.FromStrings([]int{2}, []string{"a", "b"}), tensor.FromStrings([]int{1}, []string{"z"}))
	if s := w.Strings(); len(s) != 4 || s[0] != "a" || s[1] != "b" || s[2] != "z" || s[3] != "z" {
		t.Errorf("Where strings = %v", s)
	}
	// Errors instead of panics.
	f, _ := graph.Lookup("", "Less", 13)
	k, _ := f(&graph.Node{OpType: "Less"}, 13)
	if _, err := k.Run(&graph.ExecContext{}, []*tensor.Tensor{i32(1, 2), i32(1, 2, 3)}); err == nil {
		t.Error("Less with incompatible shapes: no error")
	}
	if _, err := k.Run(&graph.ExecContext{}, []*tensor.Tensor{i32(1)}); err == nil {
		t.Error("Less with one input: no error")
	}
}

func mathEqI(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestOrEqualComparisons(t *testing.T) {
	a := tensor.FromSlice(tensor.Float, []int{3}, []float32{1, 2, 3})
	b := tensor.FromSlice(tensor.Float, []int{1}, []float32{2})
	for op, want := range map[string][]bool{"LessOrEqual": {true, true, false}, "GreaterOrEqual": {false, true, true}} {
		f, ok := graph.Lookup("", op, 17)
		if !ok {
			t.Fatalf("%s not registered", op)
		}
		k, _ := f(&graph.Node{OpType: op}, 17)
		out, err := k.Run(&graph.ExecContext{}, []*tensor.Tensor{a, b})
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range want {
			if out[0].Bools()[i] != w {
				t.Fatalf("%s: got %v, want %v", op, out[0].Bools(), want)
			}
		}
	}
}
