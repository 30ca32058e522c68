package onnx

import (
	"math"
	"testing"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/tensor"
)

func attnRun(t *testing.T, n *graph.Node, opset int, in ...*tensor.Tensor) ([]*tensor.Tensor, error) {
	t.Helper()
	f, ok := graph.Lookup("", n.OpType, opset)
	if !ok {
		t.Fatalf("%s not registered at opset %d", n.OpType, opset)
	}
	k, err := f(n, opset)
	if err != nil {
		return nil, err
	}
	return k.Run(&graph.ExecContext{Threads: 1}, in)
}

func attnRand(shape ...int) *tensor.Tensor {
	t := tensor.New(tensor.Float, shape...)
	d := t.F32()
	for i := range d {
		d[i] = float32(math.Sin(float64(i)*0.7)) * 0.5
	}
	return t
}

// TestAttnBadInputs checks that malformed inputs give errors, not panics.
func TestAttnBadInputs(t *testing.T) {
	n := &graph.Node{OpType: "Attention", Outputs: []string{"Y"}}
	q, k, v := attnRand(1, 2, 3, 4), attnRand(1, 2, 5, 4), attnRand(1, 2, 5, 4)
	cases := map[string][]*tensor.Tensor{
		"rank mismatch":  {attnRand(1, 3, 8), k, v},
		"head size":      {q, attnRand(1, 2, 5, 3), v},
		"kv heads":       {attnRand(1, 3, 3, 4), k, v},
		"mask shape":     {q, k, v, attnRand(2, 5)},
		"mask too long":  {q, k, v, attnRand(3, 7)},
		"past shape":     {q, k, v, nil, attnRand(1, 2, 3, 5), attnRand(1, 2, 3, 4)},
		"nonpad at 23":   {q, k, v, nil, nil, nil, tensor.FromInt64s(tensor.Int64, []int{1}, []int64{3})},
		"missing value":  {q, k, nil},
		"int dtype":      {tensor.New(tensor.Int64, 1, 2, 3, 4), tensor.New(tensor.Int64, 1, 2, 5, 4), tensor.New(tensor.Int64, 1, 2, 5, 4)},
		"3-D w/o heads":  {attnRand(1, 3, 8), attnRand(1, 5, 8), attnRand(1, 5, 8)},
		"mask bad dtype": {q, k, v, tensor.New(tensor.Int32, 3, 5)},
	}
	for name, in := range cases {
		if _, err := attnRun(t, n, 23, in...); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := attnRun(t, n, 24, q, k, v, nil, nil, nil, tensor.FromInt64s(tensor.Int64, []int{2}, []int64{3, 3})); err == nil {
		t.Errorf("nonpad size: no error")
	}
}

// TestAttnSoftmaxRows checks the mode-3 output of a causal GQA call: weights
// past the causal frontier are zero and every row sums to 1.
func TestAttnSoftmaxRows(t *testing.T) {
	n := &graph.Node{OpType: "Attention", Outputs: []string{"Y", "", "", "P"},
		Attrs: []graph.Attr{{Name: "qk_matmul_output_mode", Kind: graph.AttrInt, Int: 3}, {Name: "is_causal", Kind: graph.AttrInt, Int: 1}}}
	q, k, v := attnRand(1, 2, 3, 4), attnRand(1, 1, 3, 4), attnRand(1, 1, 3, 4)
	out, err := attnRun(t, n, 23, q, k, v)
	if err != nil {
		t.Fatal(err)
	}
	p := out[3].F32()
	for r := 0; r < 6; r++ {
		var s float32
		for j, x := range p[r*3 : r*3+3] {
			if j > r%3 && x != 0 {
				t.Errorf("row %d key %d: causal weight %v", r, j, x)
			}
			s += x
		}
		if math.Abs(float64(s-1)) > 1e-5 {
			t.Errorf("row %d sums to %v", r, s)
		}
	}
}

func TestAttnRotaryBadInputs(t *testing.T) {
	n := &graph.Node{OpType: "RotaryEmbedding", Outputs: []string{"Y"}}
	x := attnRand(1, 2, 3, 8)
	pos := tensor.FromInt64s(tensor.Int64, []int{1, 3}, []int64{0, 1, 9})
	if _, err := attnRun(t, n, 23, x, attnRand(5, 4), attnRand(5, 4), pos); err == nil {
		t.Errorf("position out of range: no error")
	}
	if _, err := attnRun(t, n, 23, x, attnRand(5, 3), attnRand(5, 3)); err == nil {
		t.Errorf("bad cache: no error")
	}
	if _, err := attnRun(t, n, 23, attnRand(1, 3, 8), attnRand(1, 3, 4), attnRand(1, 3, 4)); err == nil {
		t.Errorf("3-D without num_heads: no error")
	}
}

// TestAttnParallelMatchesSerial runs a call big enough to split across
// goroutines and compares it with the single-threaded result.
func TestAttnParallelMatchesSerial(t *testing.T) {
	n := &graph.Node{OpType: "Attention", Outputs: []string{"Y"},
		Attrs: []graph.Attr{{Name: "q_num_heads", Kind: graph.AttrInt, Int: 4}, {Name: "kv_num_heads", Kind: graph.AttrInt, Int: 2}}}
	f, _ := graph.Lookup("", "Attention", 23)
	k, err := f(n, 23)
	if err != nil {
		t.Fatal(err)
	}
	in := []*tensor.Tensor{attnRand(2, 32, 64), attnRand(2, 40, 32), attnRand(2, 40, 32)}
	a, err := k.Run(&graph.ExecContext{Threads: 1}, in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := k.Run(&graph.ExecContext{Threads: 4}, in)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range a[0].F32() {
		if b[0].F32()[i] != x {
			t.Fatalf("element %d: serial %v, parallel %v", i, x, b[0].F32()[i])
		}
	}
}
