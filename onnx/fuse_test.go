package onnx

import (
	"context"
	"encoding/binary"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/tensor"
)

// fzPasses are the passes of fuse.go, disabled for the reference run.
var fzPasses = []string{"cancel-casts", "fuse-layernorm", "fuse-attention", "fuse-gelu", "fuse-groupnorm", "fuse-matmul-bias", "fuse-conv"}

const (
	fzF32 = 1
	fzF16 = 10
)

func fzNd(op string, ins, outs []string, attrs ...*AttributeProto) *NodeProto {
	return &NodeProto{OpType: op, Inputs: ins, Outputs: outs, Attributes: attrs, Name: op + "_" + outs[0]}
}

func fzAI(name string, v int64) *AttributeProto {
	return &AttributeProto{Name: name, Type: AttrInt, I: v}
}
func fzAF(name string, v float32) *AttributeProto {
	return &AttributeProto{Name: name, Type: AttrFloat, F: v}
}
func fzAInts(name string, v ...int64) *AttributeProto {
	return &AttributeProto{Name: name, Type: AttrInts, Ints: v}
}

// fzInit builds a float initializer (fp32 or fp16) with the given dims.
func fzInit(name string, dt int32, dims []int64, v ...float32) *TensorProto {
	t := &TensorProto{Name: name, Dims: dims, DataType: dt}
	if dt == fzF16 {
		for _, x := range v {
			t.RawData = binary.LittleEndian.AppendUint16(t.RawData, tensor.F32ToF16(x))
		}
	} else {
		t.RawData = f32Raw(v...)
	}
	return t
}

func fzI64(name string, v ...int64) *TensorProto {
	return &TensorProto{Name: name, Dims: []int64{int64(len(v))}, DataType: 7, Int64Data: v}
}

// fzRandInit is fzInit with seeded random values in [-1, 1).
func fzRandInit(r *rand.Rand, name string, dt int32, dims ...int64) *TensorProto {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = 2*r.Float32() - 1
	}
	return fzInit(name, dt, dims, v...)
}

type fzInput struct {
	name  string
	dt    int32
	shape []int64
}

type fzCase struct {
	name   string
	opset  int64
	nodes  []*NodeProto
	inits  []*TensorProto
	inputs []fzInput
	// outputs; the first is compared, all are declared graph outputs
	outputs []string
	fused   string // op type that must appear ("" when nothing may fuse)
	nodesN  int    // node count after the passes
	tol     float64
}

func (c *fzCase) model() *ModelProto {
	g := &GraphProto{Name: c.name, Nodes: c.nodes, Initializers: c.inits}
	for _, in := range c.inputs {
		g.Inputs = append(g.Inputs, &ValueInfoProto{Name: in.name, Type: tensorType(in.dt, in.shape...)})
	}
	for _, o := range c.outputs {
		g.Outputs = append(g.Outputs, &ValueInfoProto{Name: o, Type: &TypeProto{Kind: TypeTensor}})
	}
	op := c.opset
	if op == 0 {
		op = 17
	}
	return &ModelProto{IRVersion: 8, OpsetImport: []OpsetID{{Version: op}}, Graph: g}
}

func fzRun(t *testing.T, c *fzCase) {
	t.Helper()
	mod, err := LoadBytes(EncodeModel(c.model()), "")
	if err != nil {
		t.Fatal(err)
	}
	fused, err := graph.NewSession(mod.Graph, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := graph.NewSession(mod.Graph, graph.Options{DisablePasses: fzPasses})
	if err != nil {
		t.Fatal(err)
	}
	counts := fused.OpCounts()
	if c.fused != "" && counts[c.fused] == 0 {
		t.Fatalf("no %s after the passes: %v", c.fused, counts)
	}
	if c.fused == "" {
		for op := range counts {
			if len(op) > 5 && op[:5] == "Fused" {
				t.Fatalf("%s fused although it must not: %v", op, counts)
			}
		}
	}
	if fused.NodeCount() != c.nodesN {
		t.Fatalf("%d nodes after the passes, want %d: %v (unfused: %d nodes, %v)", fused.NodeCount(), c.nodesN, counts, plain.NodeCount(), plain.OpCounts())
	}
	for op := range plain.OpCounts() {
		if len(op) > 5 && op[:5] == "Fused" {
			t.Fatalf("fused op %s with the passes disabled", op)
		}
	}
	r := rand.New(rand.NewSource(int64(len(c.name))))
	in := map[string]*tensor.Tensor{}
	for _, i := range c.inputs {
		shape := make([]int, len(i.shape))
		for k, d := range i.shape {
			shape[k] = int(d)
		}
		v := make([]float64, tensor.Numel(shape))
		for k := range v {
			v[k] = 4*r.Float64() - 2
		}
		in[i.name] = tensor.FromFloat64s(tensor.DType(i.dt), shape, v)
	}
	got, err := fused.Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	want, err := plain.Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	o := c.outputs[0]
	tol := c.tol
	if tol == 0 {
		tol = 1e-5
	}
	if cmp := Compare(got[o], want[o], tol, tol); !cmp.OK {
		t.Fatalf("fused output differs from the unfused run: %s (max abs %g)", cmp.Msg, cmp.MaxAbs)
	}
}

func TestFuseAttention(t *testing.T) {
	s := float32(math.Sqrt(1 / math.Sqrt(4)))
	cases := []fzCase{{
		// diffusers SDPA export (fp16): Mul by √scale on Q and on Kᵀ.
		name: "sdpa_fp16",
		nodes: []*NodeProto{
			fzNd("Transpose", []string{"k"}, []string{"kt"}, fzAInts("perm", 0, 2, 3, 1)),
			fzNd("Mul", []string{"q", "s"}, []string{"qs"}),
			fzNd("Mul", []string{"kt", "s"}, []string{"ks"}),
			fzNd("MatMul", []string{"qs", "ks"}, []string{"sc"}),
			fzNd("Softmax", []string{"sc"}, []string{"p"}, fzAI("axis", -1)),
			fzNd("MatMul", []string{"p", "v"}, []string{"y"}),
		},
		inits:   []*TensorProto{fzInit("s", fzF16, []int64{1}, s)},
		inputs:  []fzInput{{"q", fzF16, []int64{1, 2, 5, 4}}, {"k", fzF16, []int64{1, 6, 2, 4}}, {"v", fzF16, []int64{1, 2, 6, 3}}},
		outputs: []string{"y"}, fused: "FusedAttention", nodesN: 2, tol: 1e-2,
	}, {
		// CLIP / LLaMA style: Transpose(K) of the last two axes, Div by a
		// scale, additive mask, Softmax round trip through fp32 Casts.
		name: "masked_fp32",
		nodes: []*NodeProto{
			fzNd("Transpose", []string{"k"}, []string{"kt"}, fzAInts("perm", 0, 2, 1)),
			fzNd("MatMul", []string{"q", "kt"}, []string{"sc"}),
			fzNd("Div", []string{"sc", "d"}, []string{"sd"}),
			fzNd("Add", []string{"mask", "sd"}, []string{"sm"}),
			fzNd("Softmax", []string{"sm"}, []string{"p"}, fzAI("axis", -1)),
			fzNd("Cast", []string{"p"}, []string{"p32"}, fzAI("to", 1)),
			fzNd("MatMul", []string{"p32", "v"}, []string{"y"}),
		},
		inits:   []*TensorProto{fzInit("d", fzF32, nil, 2)},
		inputs:  []fzInput{{"q", fzF32, []int64{2, 3, 4}}, {"k", fzF32, []int64{2, 5, 4}}, {"v", fzF32, []int64{2, 5, 3}}, {"mask", fzF32, []int64{2, 1, 5}}},
		outputs: []string{"y"}, fused: "FusedAttention", nodesN: 1,
	}, {
		// The scores are also a graph output: nothing may fuse.
		name: "scores_escape",
		nodes: []*NodeProto{
			fzNd("MatMul", []string{"q", "kt"}, []string{"sc"}),
			fzNd("Softmax", []string{"sc"}, []string{"p"}, fzAI("axis", -1)),
			fzNd("MatMul", []string{"p", "v"}, []string{"y"}),
		},
		inputs:  []fzInput{{"q", fzF32, []int64{3, 4}}, {"kt", fzF32, []int64{4, 5}}, {"v", fzF32, []int64{5, 2}}},
		outputs: []string{"y", "sc"}, nodesN: 3,
	}}
	for i := range cases {
		t.Run(cases[i].name, func(t *testing.T) { fzRun(t, &cases[i]) })
	}
}

func TestFuseNorms(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	ln := func(dt int32, cast bool) []*NodeProto {
		ns := []*NodeProto{
			fzNd("ReduceMean", []string{"x"}, []string{"m"}, fzAInts("axes", -1)),
			fzNd("Sub", []string{"x", "m"}, []string{"d"}),
		}
		dv := "d"
		if cast { // the web_fp16 export's Cast of an fp16 value to fp16
			ns = append(ns, fzNd("Cast", []string{"d"}, []string{"dc"}, fzAI("to", int64(dt))))
			dv = "dc"
		}
		return append(ns,
			fzNd("Pow", []string{dv, "two"}, []string{"p"}),
			fzNd("ReduceMean", []string{"p"}, []string{"v"}, fzAInts("axes", -1)),
			fzNd("Add", []string{"v", "eps"}, []string{"ve"}),
			fzNd("Sqrt", []string{"ve"}, []string{"sd"}),
			fzNd("Div", []string{dv, "sd"}, []string{"n"}),
			fzNd("Mul", []string{"n", "w"}, []string{"nw"}),
			fzNd("Add", []string{"nw", "b"}, []string{"y"}),
		)
	}
	cases := []fzCase{{
		name:  "layernorm_fp32",
		opset: 14,
		nodes: ln(fzF32, false),
		inits: []*TensorProto{fzInit("two", fzF32, nil, 2), fzInit("eps", fzF32, nil, 1e-5),
			fzRandInit(r, "w", fzF32, 6), fzRandInit(r, "b", fzF32, 6)},
		inputs:  []fzInput{{"x", fzF32, []int64{2, 3, 6}}},
		outputs: []string{"y"}, fused: "FusedLayerNorm", nodesN: 1, tol: 1e-4,
	}, {
		name:  "layernorm_fp16_cast",
		opset: 14,
		nodes: ln(fzF16, true),
		inits: []*TensorProto{fzInit("two", fzF16, nil, 2), fzInit("eps", fzF16, nil, 1e-5),
			fzRandInit(r, "w", fzF16, 6), fzRandInit(r, "b", fzF16, 6)},
		inputs:  []fzInput{{"x", fzF16, []int64{4, 6}}},
		outputs: []string{"y"}, fused: "FusedLayerNorm", nodesN: 1, tol: 2e-2,
	}, {
		// Janus (LLaMA) RMSNorm: Cast to fp32, 1/sqrt, Mul, Cast back, weight.
		name:  "rmsnorm_janus",
		opset: 14,
		nodes: []*NodeProto{
			fzNd("Cast", []string{"x"}, []string{"xc"}, fzAI("to", 1)),
			fzNd("Pow", []string{"xc", "two"}, []string{"p"}),
			fzNd("ReduceMean", []string{"p"}, []string{"v"}, fzAInts("axes", -1), fzAI("keepdims", 1)),
			fzNd("Add", []string{"v", "eps"}, []string{"ve"}),
			fzNd("Sqrt", []string{"ve"}, []string{"sd"}),
			fzNd("Div", []string{"one", "sd"}, []string{"inv"}),
			fzNd("Mul", []string{"xc", "inv"}, []string{"n"}),
			fzNd("Cast", []string{"n"}, []string{"nc"}, fzAI("to", 1)),
			fzNd("Mul", []string{"w", "nc"}, []string{"y"}),
		},
		inits: []*TensorProto{fzInit("two", fzF32, nil, 2), fzInit("eps", fzF32, nil, 1e-6),
			fzInit("one", fzF32, nil, 1), fzRandInit(r, "w", fzF32, 8)},
		inputs:  []fzInput{{"x", fzF32, []int64{1, 3, 8}}},
		outputs: []string{"y"}, fused: "FusedRMSNorm", nodesN: 1, tol: 1e-5,
	}, {
		// ReduceMean over axis 0 is no LayerNorm.
		name:  "wrong_axis",
		opset: 14,
		nodes: []*NodeProto{
			fzNd("ReduceMean", []string{"x"}, []string{"m"}, fzAInts("axes", 0)),
			fzNd("Sub", []string{"x", "m"}, []string{"d"}),
			fzNd("Pow", []string{"d", "two"}, []string{"p"}),
			fzNd("ReduceMean", []string{"p"}, []string{"v"}, fzAInts("axes", 0)),
			fzNd("Add", []string{"v", "eps"}, []string{"ve"}),
			fzNd("Sqrt", []string{"ve"}, []string{"sd"}),
			fzNd("Div", []string{"d", "sd"}, []string{"y"}),
		},
		inits:   []*TensorProto{fzInit("two", fzF32, nil, 2), fzInit("eps", fzF32, nil, 1e-5)},
		inputs:  []fzInput{{"x", fzF32, []int64{3, 4}}},
		outputs: []string{"y"}, nodesN: 7,
	}}
	for i := range cases {
		t.Run(cases[i].name, func(t *testing.T) { fzRun(t, &cases[i]) })
	}
}

func TestFuseGelu(t *testing.T) {
	inits := []*TensorProto{fzInit("sqrt2", fzF32, nil, float32(math.Sqrt2)), fzInit("isqrt2", fzF32, nil, float32(1/math.Sqrt2)),
		fzInit("one", fzF32, nil, 1), fzInit("half", fzF32, nil, 0.5)}
	in := []fzInput{{"x", fzF32, []int64{2, 7}}}
	cases := []fzCase{{
		name: "x_times_then_half", // torch: (x·(1+erf(x/√2)))·0.5
		nodes: []*NodeProto{
			fzNd("Div", []string{"x", "sqrt2"}, []string{"u"}),
			fzNd("Erf", []string{"u"}, []string{"e"}),
			fzNd("Add", []string{"e", "one"}, []string{"a"}),
			fzNd("Mul", []string{"x", "a"}, []string{"m"}),
			fzNd("Mul", []string{"m", "half"}, []string{"y"}),
		},
		inits: inits, inputs: in, outputs: []string{"y"}, fused: "FusedGelu", nodesN: 1,
	}, {
		name: "half_x_first", // (x·0.5)·(1+erf(x·(1/√2)))
		nodes: []*NodeProto{
			fzNd("Mul", []string{"isqrt2", "x"}, []string{"u"}),
			fzNd("Erf", []string{"u"}, []string{"e"}),
			fzNd("Add", []string{"one", "e"}, []string{"a"}),
			fzNd("Mul", []string{"x", "half"}, []string{"h"}),
			fzNd("Mul", []string{"h", "a"}, []string{"y"}),
		},
		inits: inits, inputs: in, outputs: []string{"y"}, fused: "FusedGelu", nodesN: 1,
	}, {
		name: "half_first", // (0.5·(1+erf))·x
		nodes: []*NodeProto{
			fzNd("Div", []string{"x", "sqrt2"}, []string{"u"}),
			fzNd("Erf", []string{"u"}, []string{"e"}),
			fzNd("Add", []string{"e", "one"}, []string{"a"}),
			fzNd("Mul", []string{"a", "half"}, []string{"m"}),
			fzNd("Mul", []string{"m", "x"}, []string{"y"}),
		},
		inits: inits, inputs: in, outputs: []string{"y"}, fused: "FusedGelu", nodesN: 1,
	}, {
		name: "erf_read_elsewhere", // the Erf result is a graph output too
		nodes: []*NodeProto{
			fzNd("Div", []string{"x", "sqrt2"}, []string{"u"}),
			fzNd("Erf", []string{"u"}, []string{"e"}),
			fzNd("Add", []string{"e", "one"}, []string{"a"}),
			fzNd("Mul", []string{"x", "a"}, []string{"m"}),
			fzNd("Mul", []string{"m", "half"}, []string{"y"}),
		},
		inits: inits, inputs: in, outputs: []string{"y", "e"}, nodesN: 5,
	}}
	for i := range cases {
		t.Run(cases[i].name, func(t *testing.T) { fzRun(t, &cases[i]) })
	}
}

func TestFuseGroupNorm(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	gn := func(silu bool) []*NodeProto {
		ns := []*NodeProto{
			fzNd("Reshape", []string{"x", "shp"}, []string{"xr"}),
			fzNd("InstanceNormalization", []string{"xr", "is", "ib"}, []string{"n"}, fzAF("epsilon", 1e-5)),
			fzNd("Shape", []string{"x"}, []string{"xs"}),
			fzNd("Reshape", []string{"n", "xs"}, []string{"nr"}),
			fzNd("Mul", []string{"nr", "gamma"}, []string{"ng"}),
			fzNd("Add", []string{"ng", "beta"}, []string{"y"}),
		}
		if silu {
			ns[len(ns)-1].Outputs = []string{"gn"}
			ns = append(ns, fzNd("Sigmoid", []string{"gn"}, []string{"sg"}), fzNd("Mul", []string{"gn", "sg"}, []string{"y"}))
		}
		return ns
	}
	for _, dt := range []int32{fzF32, fzF16} {
		inits := func() []*TensorProto {
			return []*TensorProto{fzI64("shp", 0, 2, -1), fzRandInit(r, "is", dt, 2), fzRandInit(r, "ib", dt, 2),
				fzRandInit(r, "gamma", dt, 4, 1, 1), fzRandInit(r, "beta", dt, 4, 1, 1)}
		}
		tol := 1e-5
		if dt == fzF16 {
			tol = 1e-2
		}
		cases := []fzCase{{
			name: "groupnorm", nodes: gn(false), inits: inits(),
			inputs:  []fzInput{{"x", dt, []int64{2, 4, 3, 3}}},
			outputs: []string{"y"}, fused: "FusedGroupNorm", nodesN: 1, tol: tol,
		}, {
			name: "groupnorm_silu", nodes: gn(true), inits: inits(),
			inputs:  []fzInput{{"x", dt, []int64{2, 4, 3, 3}}},
			outputs: []string{"y"}, fused: "FusedGroupNorm", nodesN: 1, tol: tol,
		}, {
			// torch at batch 1 writes the batch literally: [1, G, -1]
			name: "groupnorm_batch1", nodes: gn(false),
			inits:   append([]*TensorProto{fzI64("shp", 1, 2, -1)}, inits()[1:]...),
			inputs:  []fzInput{{"x", dt, []int64{1, 4, 3, 3}}},
			outputs: []string{"y"}, fused: "FusedGroupNorm", nodesN: 1, tol: tol,
		}, {
			// a literal batch that does not match X is not the pattern
			name: "groupnorm_batch_mismatch", nodes: gn(false),
			inits:   append([]*TensorProto{fzI64("shp", 2, 2, -1)}, inits()[1:]...),
			inputs:  []fzInput{{"x", dt, []int64{1, 4, 6, 3}}},
			outputs: []string{"y"}, fused: "", nodesN: 5, tol: tol,
		}}
		for i := range cases {
			t.Run(cases[i].name+map[int32]string{fzF32: "_fp32", fzF16: "_fp16"}[dt], func(t *testing.T) { fzRun(t, &cases[i]) })
		}
	}
}

func TestFuseMatMulBias(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	for _, dt := range []int32{fzF32, fzF16} {
		tol := 1e-5
		if dt == fzF16 {
			tol = 1e-2
		}
		c := fzCase{
			name: "matmul_bias",
			nodes: []*NodeProto{
				fzNd("MatMul", []string{"a", "w"}, []string{"m"}),
				fzNd("Add", []string{"bias", "m"}, []string{"y"}),
			},
			inits:   []*TensorProto{fzRandInit(r, "w", dt, 4, 5), fzRandInit(r, "bias", dt, 5)},
			inputs:  []fzInput{{"a", dt, []int64{2, 3, 4}}},
			outputs: []string{"y"}, fused: "FusedMatMulBias", nodesN: 1, tol: tol,
		}
		t.Run(map[int32]string{fzF32: "fp32", fzF16: "fp16"}[dt], func(t *testing.T) { fzRun(t, &c) })
	}
	// A bias broadcasting over the rows too ([3, 5]) is not a GEMM bias.
	c := fzCase{
		name: "matrix_bias",
		nodes: []*NodeProto{
			fzNd("MatMul", []string{"a", "w"}, []string{"m"}),
			fzNd("Add", []string{"m", "bias"}, []string{"y"}),
		},
		inits:   []*TensorProto{fzRandInit(r, "w", fzF32, 4, 5), fzRandInit(r, "bias", fzF32, 3, 5)},
		inputs:  []fzInput{{"a", fzF32, []int64{2, 3, 4}}},
		outputs: []string{"y"}, nodesN: 2,
	}
	t.Run("matrix_bias", func(t *testing.T) { fzRun(t, &c) })
}

func TestFuseConv(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	conv := func() *NodeProto {
		return fzNd("Conv", []string{"x", "w", "b"}, []string{"c"}, fzAInts("pads", 1, 1, 1, 1), fzAInts("kernel_shape", 3, 3))
	}
	for _, dt := range []int32{fzF32, fzF16} {
		tol := 1e-5
		if dt == fzF16 {
			tol = 1e-2
		}
		inits := func(extra ...*TensorProto) []*TensorProto {
			return append([]*TensorProto{fzRandInit(r, "w", dt, 3, 2, 3, 3), fzRandInit(r, "b", dt, 3)}, extra...)
		}
		sfx := map[int32]string{fzF32: "_fp32", fzF16: "_fp16"}[dt]
		cases := []fzCase{{
			name: "residual_div" + sfx, // resnet: (shortcut + conv) / scale
			nodes: []*NodeProto{conv(),
				fzNd("Add", []string{"res", "c"}, []string{"a"}),
				fzNd("Div", []string{"a", "two"}, []string{"y"}),
			},
			inits:   inits(fzInit("two", dt, nil, 2)),
			inputs:  []fzInput{{"x", dt, []int64{1, 2, 5, 5}}, {"res", dt, []int64{1, 3, 5, 5}}},
			outputs: []string{"y"}, fused: "FusedConv", nodesN: 1, tol: tol,
		}, {
			name: "temb_silu" + sfx, // per-channel add, then SiLU
			nodes: []*NodeProto{conv(),
				fzNd("Add", []string{"c", "temb"}, []string{"a"}),
				fzNd("Sigmoid", []string{"a"}, []string{"s"}),
				fzNd("Mul", []string{"s", "a"}, []string{"y"}),
			},
			inits:   inits(),
			inputs:  []fzInput{{"x", dt, []int64{2, 2, 4, 4}}, {"temb", dt, []int64{2, 3, 1, 1}}},
			outputs: []string{"y"}, fused: "FusedConv", nodesN: 1, tol: tol,
		}, {
			name: "broadcast_up" + sfx, // the addend makes the result larger
			nodes: []*NodeProto{conv(),
				fzNd("Add", []string{"c", "big"}, []string{"y"}),
			},
			inits:   inits(),
			inputs:  []fzInput{{"x", dt, []int64{1, 2, 4, 4}}, {"big", dt, []int64{2, 3, 4, 4}}},
			outputs: []string{"y"}, fused: "FusedConv", nodesN: 1, tol: tol,
		}}
		cases = append(cases, fzCase{
			name: "residual_silu" + sfx, // same-shape addend then SiLU: fused into the GEMM epilogue
			nodes: []*NodeProto{conv(),
				fzNd("Add", []string{"c", "res"}, []string{"a"}),
				fzNd("Sigmoid", []string{"a"}, []string{"s"}),
				fzNd("Mul", []string{"a", "s"}, []string{"y"}),
			},
			inits:   inits(),
			inputs:  []fzInput{{"x", dt, []int64{2, 2, 6, 7}}, {"res", dt, []int64{2, 3, 6, 7}}},
			outputs: []string{"y"}, fused: "FusedConv", nodesN: 1, tol: tol,
		}, fzCase{
			name: "pointwise_add" + sfx, // 1×1 convolution (shortcut) + residual
			nodes: []*NodeProto{
				fzNd("Conv", []string{"x", "w1", "b"}, []string{"c"}, fzAInts("kernel_shape", 1, 1)),
				fzNd("Add", []string{"res", "c"}, []string{"y"}),
			},
			inits:   []*TensorProto{fzRandInit(r, "w1", dt, 3, 2, 1, 1), fzRandInit(r, "b", dt, 3)},
			inputs:  []fzInput{{"x", dt, []int64{2, 2, 3, 5}}, {"res", dt, []int64{2, 3, 3, 5}}},
			outputs: []string{"y"}, fused: "FusedConv", nodesN: 1, tol: tol,
		}, fzCase{
			name: "strided_silu" + sfx, // stride 2 (downsampler), then SiLU
			nodes: []*NodeProto{
				fzNd("Conv", []string{"x", "w", "b"}, []string{"c"}, fzAInts("pads", 1, 1, 1, 1), fzAInts("strides", 2, 2)),
				fzNd("Sigmoid", []string{"c"}, []string{"s"}),
				fzNd("Mul", []string{"c", "s"}, []string{"y"}),
			},
			inits:   inits(),
			inputs:  []fzInput{{"x", dt, []int64{1, 2, 9, 8}}},
			outputs: []string{"y"}, fused: "FusedConv", nodesN: 1, tol: tol,
		})
		for i := range cases {
			t.Run(cases[i].name, func(t *testing.T) { fzRun(t, &cases[i]) })
		}
	}
}

func TestCancelCasts(t *testing.T) {
	cases := []fzCase{{
		name: "fp16_fp32_fp16", // exact: both Casts go
		nodes: []*NodeProto{
			fzNd("Cast", []string{"x"}, []string{"x32"}, fzAI("to", 1)),
			fzNd("Cast", []string{"x32"}, []string{"x16"}, fzAI("to", 10)),
			fzNd("Relu", []string{"x16"}, []string{"y"}),
		},
		inputs: []fzInput{{"x", fzF16, []int64{3, 4}}}, outputs: []string{"y"}, nodesN: 1,
	}, {
		name: "fp32_fp16_fp32", // lossy: kept
		nodes: []*NodeProto{
			fzNd("Cast", []string{"x"}, []string{"x16"}, fzAI("to", 10)),
			fzNd("Cast", []string{"x16"}, []string{"x32"}, fzAI("to", 1)),
			fzNd("Relu", []string{"x32"}, []string{"y"}),
		},
		inputs: []fzInput{{"x", fzF32, []int64{3, 4}}}, outputs: []string{"y"}, nodesN: 3,
	}, {
		name: "identity_kept_as_output", // a Cast whose result is a graph output stays
		nodes: []*NodeProto{
			fzNd("Relu", []string{"x"}, []string{"r"}),
			fzNd("Cast", []string{"r"}, []string{"y"}, fzAI("to", 1)),
		},
		inputs: []fzInput{{"x", fzF32, []int64{3}}}, outputs: []string{"y"}, nodesN: 2,
	}}
	for i := range cases {
		t.Run(cases[i].name, func(t *testing.T) { fzRun(t, &cases[i]) })
	}
}

// TestFusedFixtureCounts checks that the passes fire on the tiny real
// exports (the full check of their outputs is TestModelFixtures).
func TestFusedFixtureCounts(t *testing.T) {
	want := map[string][]string{
		"sd_turbo_tiny_unet_web_fp16":         {"FusedAttention", "FusedLayerNorm", "FusedGelu", "FusedGroupNorm", "FusedMatMulBias", "FusedConv"},
		"sd_turbo_tiny_unet_plain":            {"FusedAttention", "FusedGelu", "FusedGroupNorm", "FusedMatMulBias", "FusedConv"},
		"sd_turbo_tiny_text_encoder_web_fp16": {"FusedAttention", "FusedLayerNorm", "FusedGelu", "FusedMatMulBias"},
		"sd_turbo_tiny_vae_decoder_web_fp16":  {"FusedAttention", "FusedGroupNorm", "FusedConv"},
		"janus_pro_tiny_language_model":       {"FusedAttention", "FusedRMSNorm"},
	}
	for name, ops := range want {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(fixturesDir(), name)
			if _, err := os.Stat(dir); err != nil {
				t.Skipf("fixture %s not found in %s", name, fixturesDir())
			}
			m, s, err := loadFixture(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			c := s.OpCounts()
			for _, op := range ops {
				if c[op] == 0 {
					t.Errorf("no %s: %v", op, c)
				}
			}
		})
	}
}
