package bench

import (
	"context"
	"fmt"
	"testing"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/onnx"
	"github.com/txt2img/engine/tensor"
)

// addChain builds y = ((x + c) + c) + … with n Add nodes, as an ONNX model
// decoded by the engine's own loader.
func addChain(n, size int) *onnx.ModelProto {
	g := &onnx.GraphProto{Name: "chain"}
	vals := make([]float32, size)
	for i := range vals {
		vals[i] = 1
	}
	g.Initializers = []*onnx.TensorProto{{Name: "c", Dims: []int64{int64(size)}, DataType: 1, FloatData: vals}}
	prev := "x"
	for i := 0; i < n; i++ {
		out := fmt.Sprintf("v%d", i)
		g.Nodes = append(g.Nodes, &onnx.NodeProto{OpType: "Add", Inputs: []string{prev, "c"}, Outputs: []string{out}})
		prev = out
	}
	tt := &onnx.TypeProto{Kind: onnx.TypeTensor, ElemType: 1, HasShape: true, Shape: []onnx.Dim{{Value: int64(size), HasValue: true}}}
	g.Inputs = []*onnx.ValueInfoProto{{Name: "x", Type: tt}}
	g.Outputs = []*onnx.ValueInfoProto{{Name: prev, Type: tt}}
	return &onnx.ModelProto{IRVersion: 8, OpsetImport: []onnx.OpsetID{{Version: 17}}, Graph: g}
}

// BenchmarkExecutorAddChain measures per-node executor overhead (small
// tensors) and pooled-buffer throughput (large tensors).
func BenchmarkExecutorAddChain(b *testing.B) {
	for _, size := range []int{16, 1 << 20} {
		b.Run(fmt.Sprintf("nodes=100,elems=%d", size), func(b *testing.B) {
			m, err := onnx.LoadBytes(onnx.EncodeModel(addChain(100, size)), "")
			if err != nil {
				b.Fatal(err)
			}
			s, err := graph.NewSession(m.Graph, graph.Options{})
			if err != nil {
				b.Fatal(err)
			}
			x := tensor.New(tensor.Float, size)
			in := map[string]*tensor.Tensor{"x": x}
			b.SetBytes(int64(100 * size * 4 * 3))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Run(context.Background(), in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
