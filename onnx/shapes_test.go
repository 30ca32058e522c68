package onnx

import (
	"context"
	"testing"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/tensor"
)

// TestShapeArithmeticFolds builds the pattern exporters emit to flatten the
// last two dims — Shape → Gather(0) → Unsqueeze → Concat(-1) → Reshape — and
// checks that with a static input shape only the Reshape is left to run.
func TestShapeArithmeticFolds(t *testing.T) {
	i64 := func(name string, v ...int64) *TensorProto {
		return &TensorProto{Name: name, Dims: []int64{int64(len(v))}, DataType: 7, Int64Data: v}
	}
	scalar := &TensorProto{Name: "zero", DataType: 7, Int64Data: []int64{0}}
	m := &ModelProto{
		IRVersion:   8,
		OpsetImport: []OpsetID{{Version: 17}},
		Graph: &GraphProto{
			Nodes: []*NodeProto{
				{OpType: "Shape", Inputs: []string{"x"}, Outputs: []string{"s"}},
				{OpType: "Gather", Inputs: []string{"s", "zero"}, Outputs: []string{"n"}},
				{OpType: "Unsqueeze", Inputs: []string{"n", "ax0"}, Outputs: []string{"n1"}},
				{OpType: "Concat", Inputs: []string{"n1", "minus1"}, Outputs: []string{"shape"}, Attributes: []*AttributeProto{{Name: "axis", Type: AttrInt, I: 0}}},
				{OpType: "Reshape", Inputs: []string{"x", "shape"}, Outputs: []string{"y"}},
			},
			Initializers: []*TensorProto{scalar, i64("ax0", 0), i64("minus1", -1)},
			Inputs:       []*ValueInfoProto{{Name: "x", Type: &TypeProto{Kind: TypeTensor, ElemType: 1, HasShape: true, Shape: []Dim{{Value: 2, HasValue: true}, {Param: "h"}, {Value: 4, HasValue: true}}}}},
			Outputs:      []*ValueInfoProto{{Name: "y", Type: &TypeProto{Kind: TypeTensor, ElemType: 1}}},
		},
	}
	mod, err := LoadBytes(EncodeModel(m), "")
	if err != nil {
		t.Fatal(err)
	}
	// Symbolic dim "h": nothing can fold until the caller fixes it.
	s, err := graph.NewSession(mod.Graph, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.NodeCount() != 5 {
		t.Fatalf("symbolic input: %d nodes, want 5", s.NodeCount())
	}
	s, err = graph.NewSession(mod.Graph, graph.Options{InputShapes: map[string][]int{"x": {2, 3, 4}}})
	if err != nil {
		t.Fatal(err)
	}
	if s.NodeCount() != 1 {
		t.Fatalf("static input: %d nodes left, want 1 (Reshape): %v", s.NodeCount(), s.OpCounts())
	}
	if vt, ok := s.ValueType("y"); !ok || !tensor.SameShape(vt.Shape, []int{2, 12}) {
		t.Fatalf("inferred y: %+v", vt)
	}
	x := tensor.New(tensor.Float, 2, 3, 4)
	x.F32()[23] = 5
	out, err := s.Run(context.Background(), map[string]*tensor.Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	if y := out["y"]; !tensor.SameShape(y.Shape(), []int{2, 12}) || y.F32()[23] != 5 {
		t.Fatalf("y = %v", y)
	}
}
