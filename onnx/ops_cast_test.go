package onnx

import (
	"math"
	"testing"

	"github.com/txt2img/engine/tensor"
)

func TestCastFormatFloat(t *testing.T) {
	cases := []struct {
		v    float64
		dt   tensor.DType
		want string
	}{
		{float64(float32(0.1)), tensor.Float, "0.1"},
		{float64(float32(1e-5)), tensor.Float, "1e-05"},
		{float64(float32(123456789)), tensor.Float, "123456790.0"},
		{1e16, tensor.Float, "1e+16"},
		{1.5e300, tensor.Double, "1.5e+300"},
		{math.Copysign(0, -1), tensor.Float, "-0.0"},
		{0.0001, tensor.Double, "0.0001"},
		{float64(math.MaxFloat32), tensor.Float, "3.4028235e+38"},
		{float64(tensor.F16ToF32(tensor.F32ToF16(0.1))), tensor.Float16, "0.1"},
		{-2.5, tensor.Float, "-2.5"},
		{math.NaN(), tensor.Float, "NaN"},
		{math.Inf(-1), tensor.Float, "-INF"},
	}
	for _, c := range cases {
		if got := castFormatFloat(c.v, c.dt); got != c.want {
			t.Errorf("castFormatFloat(%v, %s) = %q, want %q", c.v, c.dt, got, c.want)
		}
	}
}

func TestCastStrings(t *testing.T) {
	in := tensor.FromStrings([]int{5}, []string{"3.14", "1e-5", "NaN", "-INF", "+INF"})
	y, err := castTensor(in, tensor.Float, castOpts{saturate: true})
	if err != nil {
		t.Fatal(err)
	}
	v := y.F32()
	if v[0] != float32(3.14) || v[1] != float32(1e-5) || !math.IsNaN(float64(v[2])) || !math.IsInf(float64(v[3]), -1) || !math.IsInf(float64(v[4]), 1) {
		t.Errorf("parsed %v", v)
	}
	i, err := castTensor(tensor.FromStrings([]int{2}, []string{"-7", "12"}), tensor.Int8, castOpts{})
	if err != nil || i.At(0) != -7 || i.At(1) != 12 {
		t.Errorf("int parse %v %v", i, err)
	}
	if _, err := castTensor(tensor.FromStrings([]int{1}, []string{"abc"}), tensor.Float, castOpts{}); err == nil {
		t.Errorf("bad string parsed without error")
	}
	s, _ := castTensor(tensor.FromInt64s(tensor.Int64, []int{2}, []int64{-3, 40}), tensor.String, castOpts{})
	if s.Strings()[0] != "-3" || s.Strings()[1] != "40" {
		t.Errorf("int to string %q", s.Strings())
	}
}

func TestCastFloatToInt(t *testing.T) {
	x := tensor.FromSlice(tensor.Float, []int{4}, []float32{2.7, -2.7, 300, -129})
	y, _ := castTensor(x, tensor.Int8, castOpts{})
	want := []float64{2, -2, 44, 127}
	for i, w := range want {
		if y.At(i) != w {
			t.Errorf("int8[%d] = %v, want %v", i, y.At(i), w)
		}
	}
	u, _ := castTensor(x, tensor.Uint4, castOpts{})
	for i, w := range []float64{2, 14, 12, 15} {
		if u.At(i) != w {
			t.Errorf("uint4[%d] = %v, want %v", i, u.At(i), w)
		}
	}
}

func TestCastE8M0Modes(t *testing.T) {
	for _, c := range []struct {
		f    float32
		mode int
		want uint8
	}{
		{1.1, tensor.E8M0RoundUp, 128},
		{1.1, tensor.E8M0RoundDown, 127},
		{1.1, tensor.E8M0RoundNearest, 127},
		{1.75, tensor.E8M0RoundNearest, 128},
		{-4, tensor.E8M0RoundUp, 129},
	} {
		if got := tensor.F32ToE8M0(c.f, true, c.mode); got != c.want {
			t.Errorf("F32ToE8M0(%v, mode %d) = %#x, want %#x", c.f, c.mode, got, c.want)
		}
	}
}

func TestMatMulIntegerBatched(t *testing.T) {
	a := tensor.FromSlice(tensor.Int8, []int{2, 1, 2}, []int8{1, -2, 3, 4})
	b := tensor.FromSlice(tensor.Uint8, []int{2, 1}, []uint8{5, 6})
	if _, err := matMulIntegerKernel(nil, []*tensor.Tensor{a, b}); err != nil {
		t.Fatal(err)
	}
	b8 := tensor.FromSlice(tensor.Int8, []int{2, 1}, []int8{5, 6})
	azp := tensor.FromSlice(tensor.Int8, []int{1}, []int8{1})
	out, err := matMulIntegerKernel(nil, []*tensor.Tensor{a, b8, azp})
	if err != nil {
		t.Fatal(err)
	}
	got := out[0].I32()
	if !tensor.SameShape(out[0].Shape(), []int{2, 1, 1}) || got[0] != -18 || got[1] != 28 {
		t.Errorf("got %v %v", out[0].Shape(), got)
	}
}
