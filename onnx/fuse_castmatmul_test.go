package onnx

import (
	"context"
	"math/rand"
	"testing"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/tensor"
)

// TestFuseCastMatMul checks the fuse-cast-matmul pass: Cast(fp16 constant
// weight → fp32) → MatMul loses its Cast (decode-sized A takes
// kernels.HGemv, larger A kernels.Gemm with fp16 B) and computes the same
// product as the unfused graph; a MatMul followed by a bias Add is left to
// fuse-matmul-bias. The weight is over graph.FoldMaxBytes as float32, so
// the Cast is not folded away before the passes.
func TestFuseCastMatMul(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	for _, tc := range []struct {
		name   string
		a      []int64
		bias   bool
		nodesN int
	}{
		{"gemv_1row", []int64{1, 1, 512}, false, 1},
		{"gemv_2rows", []int64{2, 512}, false, 1},
		{"gemv_4rows_batched", []int64{2, 2, 512}, false, 1},
		{"gemm_5rows", []int64{5, 512}, false, 1},
		{"with_bias", []int64{2, 512}, true, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nodes := []*NodeProto{
				fzNd("Cast", []string{"w16"}, []string{"w"}, fzAI("to", fzF32)),
				fzNd("MatMul", []string{"a", "w"}, []string{"m"}),
			}
			inits := []*TensorProto{fzRandInit(r, "w16", fzF16, 512, 521)}
			out := "m"
			if tc.bias {
				nodes = append(nodes, fzNd("Add", []string{"m", "bias"}, []string{"y"}))
				inits = append(inits, fzRandInit(r, "bias", fzF32, 521))
				out = "y"
			}
			c := fzCase{name: tc.name, nodes: nodes, inits: inits, inputs: []fzInput{{"a", fzF32, tc.a}}, outputs: []string{out}}
			mod, err := LoadBytes(EncodeModel(c.model()), "")
			if err != nil {
				t.Fatal(err)
			}
			fused, err := graph.NewSession(mod.Graph, graph.Options{})
			if err != nil {
				t.Fatal(err)
			}
			plain, err := graph.NewSession(mod.Graph, graph.Options{DisablePasses: append([]string{"fuse-cast-matmul"}, fzPasses...)})
			if err != nil {
				t.Fatal(err)
			}
			if n := fused.NodeCount(); n != tc.nodesN {
				t.Fatalf("%d nodes after the passes, want %d: %v", n, tc.nodesN, fused.OpCounts())
			}
			if fused.OpCounts()["Cast"] != 0 && !tc.bias {
				t.Fatalf("Cast kept: %v", fused.OpCounts())
			}
			shape := make([]int, len(tc.a))
			for i, d := range tc.a {
				shape[i] = int(d)
			}
			v := make([]float64, tensor.Numel(shape))
			for i := range v {
				v[i] = 2*r.Float64() - 1
			}
			in := map[string]*tensor.Tensor{"a": tensor.FromFloat64s(tensor.Float, shape, v)}
			got, err := fused.Run(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			want, err := plain.Run(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			if got[out].DType() != tensor.Float {
				t.Fatalf("output dtype %s, want float", got[out].DType())
			}
			if cmp := Compare(got[out], want[out], 1e-4, 1e-5); !cmp.OK {
				t.Fatalf("fused output differs from the unfused run: %s (max abs %g)", cmp.Msg, cmp.MaxAbs)
			}
		})
	}
}
