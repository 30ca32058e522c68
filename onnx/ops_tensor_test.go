package onnx

import (
	"math/rand"
	"testing"

	"github.com/txt2img/engine/tensor"
)

// shpNaiveTranspose is the per-element reference for shpTranspose.
func shpNaiveTranspose(x []float32, shape, perm []int) []float32 {
	r := len(shape)
	st := tensor.Strides(shape)
	oshape := make([]int, r)
	for i, p := range perm {
		oshape[i] = shape[p]
	}
	out := make([]float32, len(x))
	idx := make([]int, r)
	for o := range out {
		so := 0
		for i := range idx {
			so += idx[i] * st[perm[i]]
		}
		out[o] = x[so]
		for i := r - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < oshape[i] {
				break
			}
			idx[i] = 0
		}
	}
	return out
}

func TestShpTransposeRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for iter := 0; iter < 300; iter++ {
		r := 1 + rng.Intn(5)
		shape := make([]int, r)
		for i := range shape {
			shape[i] = 1 + rng.Intn(5)
			if rng.Intn(6) == 0 {
				shape[i] = 33 + rng.Intn(40)
			}
		}
		if iter%50 == 0 { // big enough for the parallel paths
			shape = []int{2, 70, 33, 30}
			r = 4
		}
		perm := rng.Perm(r)
		n := tensor.Numel(shape)
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(i)
		}
		want := shpNaiveTranspose(x, shape, perm)
		for _, threads := range []int{1, 3} {
			// float32
			got, err := shpTranspose(tensor.FromSlice(tensor.Float, shape, x), perm, threads)
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range got.F32() {
				if v != want[i] {
					t.Fatalf("shape %v perm %v: element %d = %v, want %v", shape, perm, i, v, want[i])
				}
			}
			// float16 and strings through the same paths
			h := tensor.FromFloat64s(tensor.Float16, shape, tensor.FromSlice(tensor.Float, shape, x).Float64s())
			gh, err := shpTranspose(h, perm, threads)
			if err != nil {
				t.Fatal(err)
			}
			s := make([]string, n)
			for i := range s {
				s[i] = string(rune('a' + i%26))
			}
			gs, err := shpTranspose(tensor.FromStrings(shape, s), perm, threads)
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if gh.At(i) != float64(tensor.F16ToF32(tensor.F32ToF16(want[i]))) {
					t.Fatalf("f16 shape %v perm %v: element %d = %v, want %v", shape, perm, i, gh.At(i), want[i])
				}
				if gs.Strings()[i] != s[int(want[i])] {
					t.Fatalf("string shape %v perm %v: element %d", shape, perm, i)
				}
			}
		}
	}
}

func TestShpConcatStrings(t *testing.T) {
	a := tensor.FromStrings([]int{2, 1}, []string{"a", "b"})
	b := tensor.FromStrings([]int{2, 2}, []string{"c", "d", "e", "f"})
	got, err := shpConcat([]*tensor.Tensor{a, b}, -1)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a", "c", "d", "b", "e", "f"}
	for i, s := range got.Strings() {
		if s != want[i] {
			t.Fatalf("got %v, want %v", got.Strings(), want)
		}
	}
}

func TestShpPadModes(t *testing.T) {
	x := tensor.FromSlice(tensor.Int64, []int{3}, []int64{1, 2, 3})
	cases := []struct {
		mode string
		pads []int
		want []int64
	}{
		{"constant", []int{2, 1}, []int64{9, 9, 1, 2, 3, 9}},
		{"reflect", []int{5, 4}, []int64{2, 1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3}},
		{"edge", []int{2, 2}, []int64{1, 1, 1, 2, 3, 3, 3}},
		{"wrap", []int{4, 2}, []int64{3, 1, 2, 3, 1, 2, 3, 1, 2}},
		{"constant", []int{-1, 1}, []int64{2, 3, 9}},
	}
	for _, c := range cases {
		got, err := shpPad(x, c.pads, nil, c.mode, tensor.ScalarI64(9))
		if err != nil {
			t.Fatal(err)
		}
		g := got.I64()
		if len(g) != len(c.want) {
			t.Fatalf("%s %v: got %v, want %v", c.mode, c.pads, g, c.want)
		}
		for i := range g {
			if g[i] != c.want[i] {
				t.Fatalf("%s %v: got %v, want %v", c.mode, c.pads, g, c.want)
			}
		}
	}
}

func TestShpSliceNegativeStep(t *testing.T) {
	x := tensor.FromSlice(tensor.Int64, []int{2, 5}, []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	got, err := shpSlice(x, []int{100, -1}, []int{-100, -6}, []int{1, 0}, []int{-2, -1})
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{9, 7, 5, 4, 2, 0}
	if !tensor.SameShape(got.Shape(), []int{2, 3}) {
		t.Fatalf("shape %v", got.Shape())
	}
	for i, v := range got.I64() {
		if v != want[i] {
			t.Fatalf("got %v, want %v", got.I64(), want)
		}
	}
	// a contiguous row range is a view
	v, err := shpSlice(x, []int{1}, []int{2}, []int{0}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if &v.I64()[0] != &x.I64()[5] {
		t.Fatal("contiguous slice was copied")
	}
}

func TestShpTopKTies(t *testing.T) {
	x := tensor.FromSlice(tensor.Float, []int{6}, []float32{1, 3, 3, 2, 1, 3})
	res, err := shpTopK(x, 4, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	wantI := []int64{1, 2, 5, 3}
	for i, v := range res[1].I64() {
		if v != wantI[i] {
			t.Fatalf("indices %v, want %v", res[1].I64(), wantI)
		}
	}
	res, err = shpTopK(x, 2, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if res[1].I64()[0] != 0 || res[1].I64()[1] != 4 {
		t.Fatalf("smallest indices %v", res[1].I64())
	}
}
