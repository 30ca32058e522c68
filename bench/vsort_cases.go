package bench

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/txt2img/engine/onnx"
	"github.com/txt2img/engine/tensor"
)

// ONNX TensorProto.DataType values used by the builders.
const (
	dtFloat   = int32(tensor.Float)
	dtFloat16 = int32(tensor.Float16)
	dtUint8   = int32(tensor.Uint8)
	dtInt64   = int32(tensor.Int64)
)

// Input is one named graph input with its value.
type Input struct {
	Name string
	T    *tensor.Tensor
}

// Case is one side-by-side benchmark: a model run through our engine and the
// same (or, where ORT has a fused op we lack, an equivalent) model run
// through ONNX Runtime.
type Case struct {
	Name  string  // family/detail, e.g. "matmul/4096x320x1280_f32"
	Flops float64 // floating-point operations of one run (nominal for memory-bound ops)

	// Model and Inputs are run by both engines unless OrtModel is set.
	Model  *onnx.ModelProto
	Inputs []Input

	// OrtModel and OrtInputs, when set, replace Model and Inputs for ONNX
	// Runtime only (e.g. ORT's fused com.microsoft MultiHeadAttention against
	// our decomposed graph). Outputs are then not compared.
	OrtModel  *onnx.ModelProto
	OrtInputs []Input

	// ModelPath, when set, names an existing model file used instead of Model
	// (the e2e cases); Parts lists further files whose times add up to the case.
	ModelPath string
	Parts     []*Case

	// Note is a free-form remark copied into the result line.
	Note string
}

// rng returns the deterministic generator every builder uses.
func rng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// randF32 returns n values uniform in [-scale, scale).
func randF32(r *rand.Rand, n int, scale float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = (2*r.Float32() - 1) * scale
	}
	return v
}

func numel(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

func dims64(d []int) []int64 {
	out := make([]int64, len(d))
	for i, v := range d {
		out[i] = int64(v)
	}
	return out
}

// tensorType is an ONNX tensor type with a fixed shape.
func tensorType(elem int32, dims ...int) *onnx.TypeProto {
	t := &onnx.TypeProto{Kind: onnx.TypeTensor, ElemType: elem, HasShape: true}
	for _, d := range dims {
		t.Shape = append(t.Shape, onnx.Dim{Value: int64(d), HasValue: true})
	}
	return t
}

// initializer stores t as a raw_data TensorProto named name.
func initializer(name string, t *tensor.Tensor) *onnx.TensorProto {
	return &onnx.TensorProto{Name: name, Dims: dims64(t.Shape()), DataType: int32(t.DType()), RawData: t.Bytes(), HasRawData: true}
}

func f32Tensor(dims []int, v []float32) *tensor.Tensor {
	return tensor.FromSlice(tensor.Float, dims, v)
}

func f16Tensor(dims []int, v []float32) *tensor.Tensor {
	h := make([]uint16, len(v))
	for i, x := range v {
		h[i] = tensor.F32ToF16(x)
	}
	return tensor.FromSlice(tensor.Float16, dims, h)
}

func attrInt(name string, v int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttrInt, I: v}
}

func attrFloat(name string, v float32) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttrFloat, F: v}
}

func attrInts(name string, v ...int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttrInts, Ints: v}
}

// model wraps nodes into a single-graph model. ins are graph inputs (their
// shapes come from the values), outs the graph outputs.
func model(name string, opsets []onnx.OpsetID, nodes []*onnx.NodeProto, inits []*onnx.TensorProto, ins []Input, outs []*onnx.ValueInfoProto) *onnx.ModelProto {
	g := &onnx.GraphProto{Name: name, Nodes: nodes, Initializers: inits, Outputs: outs}
	for _, in := range ins {
		g.Inputs = append(g.Inputs, &onnx.ValueInfoProto{Name: in.Name, Type: tensorType(int32(in.T.DType()), in.T.Shape()...)})
	}
	ir := int64(8)
	for _, o := range opsets {
		if o.Domain == "" && o.Version >= 21 {
			ir = 10
		}
	}
	return &onnx.ModelProto{IRVersion: ir, ProducerName: "engine-bench-vsort", OpsetImport: opsets, Graph: g}
}

var opset17 = []onnx.OpsetID{{Version: 17}}

// MatMulCase is y = a·w with a [m,k] an input and w [k,n] a weight. With f16
// the weight is stored as float16 and Cast to float32 before the MatMul, as
// fp16 exports do.
func MatMulCase(m, k, n int, f16 bool) *Case {
	r := rng(uint64(m*31 + k*7 + n))
	a := f32Tensor([]int{m, k}, randF32(r, m*k, 1))
	wv := randF32(r, k*n, 1/float32(math.Sqrt(float64(k))))
	name := matmulName(m, k, n, f16)
	var nodes []*onnx.NodeProto
	var init *onnx.TensorProto
	if f16 {
		init = initializer("w16", f16Tensor([]int{k, n}, wv))
		nodes = append(nodes, &onnx.NodeProto{Name: "cast", OpType: "Cast", Inputs: []string{"w16"}, Outputs: []string{"w"}, Attributes: []*onnx.AttributeProto{attrInt("to", int64(dtFloat))}})
	} else {
		init = initializer("w", f32Tensor([]int{k, n}, wv))
	}
	nodes = append(nodes, &onnx.NodeProto{Name: "matmul", OpType: "MatMul", Inputs: []string{"a", "w"}, Outputs: []string{"y"}})
	ins := []Input{{"a", a}}
	return &Case{
		Name:   name,
		Flops:  2 * float64(m) * float64(k) * float64(n),
		Model:  model("matmul", opset17, nodes, []*onnx.TensorProto{init}, ins, []*onnx.ValueInfoProto{{Name: "y", Type: tensorType(dtFloat, m, n)}}),
		Inputs: ins,
	}
}

// ConvCase is a 3×3, pad 1, stride 1 convolution c→c with bias on a
// [1,c,hw,hw] float32 input.
func ConvCase(c, hw int) *Case {
	r := rng(uint64(c*1000 + hw))
	x := f32Tensor([]int{1, c, hw, hw}, randF32(r, c*hw*hw, 1))
	w := f32Tensor([]int{c, c, 3, 3}, randF32(r, c*c*9, 1/float32(math.Sqrt(float64(9*c)))))
	b := f32Tensor([]int{c}, randF32(r, c, 0.1))
	node := &onnx.NodeProto{Name: "conv", OpType: "Conv", Inputs: []string{"x", "w", "b"}, Outputs: []string{"y"},
		Attributes: []*onnx.AttributeProto{attrInts("kernel_shape", 3, 3), attrInts("pads", 1, 1, 1, 1), attrInts("strides", 1, 1)}}
	ins := []Input{{"x", x}}
	return &Case{
		Name:   convName(c, hw),
		Flops:  2 * float64(c) * float64(c) * 9 * float64(hw) * float64(hw),
		Model:  model("conv", opset17, []*onnx.NodeProto{node}, []*onnx.TensorProto{initializer("w", w), initializer("b", b)}, ins, []*onnx.ValueInfoProto{{Name: "y", Type: tensorType(dtFloat, 1, c, hw, hw)}}),
		Inputs: ins,
	}
}

// attentionFlops counts the two batched matmuls of attention.
func attentionFlops(heads, seq, dim int) float64 {
	return 4 * float64(heads) * float64(seq) * float64(seq) * float64(dim)
}

// AttentionCase is decomposed self-attention for one batch:
// softmax(q·kᵀ·scale)·v with q, v [1,heads,seq,dim] and kᵀ [1,heads,dim,seq]
// as inputs (MatMul → Mul → Softmax → MatMul), run by both engines.
func AttentionCase(heads, seq, dim int) *Case {
	c := attentionDecomposed(heads, seq, dim)
	c.Name = attentionName(heads, seq, dim)
	return c
}

func attentionDecomposed(heads, seq, dim int) *Case {
	r := rng(uint64(heads*100000 + seq*100 + dim))
	q := f32Tensor([]int{1, heads, seq, dim}, randF32(r, heads*seq*dim, 1))
	kt := f32Tensor([]int{1, heads, dim, seq}, randF32(r, heads*seq*dim, 1))
	v := f32Tensor([]int{1, heads, seq, dim}, randF32(r, heads*seq*dim, 1))
	scale := f32Tensor(nil, []float32{1 / float32(math.Sqrt(float64(dim)))})
	nodes := []*onnx.NodeProto{
		{Name: "qk", OpType: "MatMul", Inputs: []string{"q", "kt"}, Outputs: []string{"s"}},
		{Name: "scale", OpType: "Mul", Inputs: []string{"s", "scale"}, Outputs: []string{"ss"}},
		{Name: "softmax", OpType: "Softmax", Inputs: []string{"ss"}, Outputs: []string{"p"}, Attributes: []*onnx.AttributeProto{attrInt("axis", -1)}},
		{Name: "pv", OpType: "MatMul", Inputs: []string{"p", "v"}, Outputs: []string{"y"}},
	}
	ins := []Input{{"q", q}, {"kt", kt}, {"v", v}}
	return &Case{
		Flops:  attentionFlops(heads, seq, dim),
		Model:  model("attention", opset17, nodes, []*onnx.TensorProto{initializer("scale", scale)}, ins, []*onnx.ValueInfoProto{{Name: "y", Type: tensorType(dtFloat, 1, heads, seq, dim)}}),
		Inputs: ins,
	}
}

// AttentionFusedCase runs our decomposed attention against ONNX Runtime's
// fused com.microsoft MultiHeadAttention (query/key/value [1,seq,heads·dim],
// num_heads=heads, default scale 1/√dim), which our engine does not have.
func AttentionFusedCase(heads, seq, dim int) *Case {
	c := attentionDecomposed(heads, seq, dim)
	c.Name = attentionFusedName(heads, seq, dim)
	r := rng(uint64(heads*7 + seq*3 + dim))
	hd := heads * dim
	var ins []Input
	for _, n := range []string{"query", "key", "value"} {
		ins = append(ins, Input{n, f32Tensor([]int{1, seq, hd}, randF32(r, seq*hd, 1))})
	}
	node := &onnx.NodeProto{Name: "mha", OpType: "MultiHeadAttention", Domain: "com.microsoft", Inputs: []string{"query", "key", "value"}, Outputs: []string{"y"},
		Attributes: []*onnx.AttributeProto{attrInt("num_heads", int64(heads))}}
	c.OrtModel = model("mha", []onnx.OpsetID{{Version: 17}, {Domain: "com.microsoft", Version: 1}}, []*onnx.NodeProto{node}, nil, ins,
		[]*onnx.ValueInfoProto{{Name: "y", Type: tensorType(dtFloat, 1, seq, hd)}})
	c.OrtInputs = ins
	c.Note = "ours runs MatMul→Mul→Softmax→MatMul; ORT runs its fused com.microsoft MultiHeadAttention"
	return c
}

// groupNormFlops is a nominal count (sum, sum of squares, normalize, scale,
// shift: 8 per element); GroupNorm is memory-bound.
func groupNormFlops(n int) float64 { return 8 * float64(n) }

func groupNormInputs(c, hw int) (x, gamma, beta *tensor.Tensor) {
	r := rng(uint64(c*hw + 17))
	x = f32Tensor([]int{1, c, hw, hw}, randF32(r, c*hw*hw, 2))
	gamma = f32Tensor([]int{c}, randF32(r, c, 1))
	beta = f32Tensor([]int{c}, randF32(r, c, 1))
	return
}

// GroupNormCase is ai.onnx GroupNormalization (opset 21: per-channel scale
// and bias) with the given number of groups on a [1,c,hw,hw] input.
func GroupNormCase(c, hw, groups int) *Case {
	x, gamma, beta := groupNormInputs(c, hw)
	node := &onnx.NodeProto{Name: "gn", OpType: "GroupNormalization", Inputs: []string{"x", "gamma", "beta"}, Outputs: []string{"y"},
		Attributes: []*onnx.AttributeProto{attrInt("num_groups", int64(groups)), attrFloat("epsilon", 1e-5)}}
	ins := []Input{{"x", x}}
	return &Case{
		Name:   groupNormName(c, hw, groups),
		Flops:  groupNormFlops(c * hw * hw),
		Model:  model("groupnorm", []onnx.OpsetID{{Version: 21}}, []*onnx.NodeProto{node}, []*onnx.TensorProto{initializer("gamma", gamma), initializer("beta", beta)}, ins, []*onnx.ValueInfoProto{{Name: "y", Type: tensorType(dtFloat, 1, c, hw, hw)}}),
		Inputs: ins,
	}
}

// GroupNormExportCase is GroupNorm as torch exports it at opset 14:
// Reshape [1,groups,-1] → InstanceNormalization (scale 1, bias 0) → Reshape
// back → Mul γ[c,1,1] → Add β[c,1,1].
func GroupNormExportCase(c, hw, groups int) *Case {
	x, gamma, beta := groupNormInputs(c, hw)
	ones := make([]float32, groups)
	for i := range ones {
		ones[i] = 1
	}
	inits := []*onnx.TensorProto{
		initializer("shape_g", tensor.FromSlice(tensor.Int64, []int{3}, []int64{1, int64(groups), -1})),
		initializer("shape_x", tensor.FromSlice(tensor.Int64, []int{4}, []int64{1, int64(c), int64(hw), int64(hw)})),
		initializer("in_scale", f32Tensor([]int{groups}, ones)),
		initializer("in_bias", f32Tensor([]int{groups}, make([]float32, groups))),
		initializer("gamma", f32Tensor([]int{c, 1, 1}, gamma.F32())),
		initializer("beta", f32Tensor([]int{c, 1, 1}, beta.F32())),
	}
	nodes := []*onnx.NodeProto{
		{Name: "r1", OpType: "Reshape", Inputs: []string{"x", "shape_g"}, Outputs: []string{"xg"}},
		{Name: "in", OpType: "InstanceNormalization", Inputs: []string{"xg", "in_scale", "in_bias"}, Outputs: []string{"ng"}, Attributes: []*onnx.AttributeProto{attrFloat("epsilon", 1e-5)}},
		{Name: "r2", OpType: "Reshape", Inputs: []string{"ng", "shape_x"}, Outputs: []string{"n"}},
		{Name: "mul", OpType: "Mul", Inputs: []string{"n", "gamma"}, Outputs: []string{"nm"}},
		{Name: "add", OpType: "Add", Inputs: []string{"nm", "beta"}, Outputs: []string{"y"}},
	}
	ins := []Input{{"x", x}}
	return &Case{
		Name:   groupNormExportName(c, hw, groups),
		Flops:  groupNormFlops(c * hw * hw),
		Model:  model("groupnorm_export", []onnx.OpsetID{{Version: 14}}, nodes, inits, ins, []*onnx.ValueInfoProto{{Name: "y", Type: tensorType(dtFloat, 1, c, hw, hw)}}),
		Inputs: ins,
	}
}

// MatMulNBitsCase is com.microsoft MatMulNBits: y = a·Wᵀ with a [m,k] float32
// and W [n,k] quantized to 4 bits in blocks of block along k (symmetric: no
// zero_points input, so the zero point is 8), accuracy_level 4.
func MatMulNBitsCase(m, k, n, block int) *Case {
	r := rng(uint64(m + k + n + block))
	a := f32Tensor([]int{m, k}, randF32(r, m*k, 1))
	blocks := k / block
	q := make([]uint8, n*blocks*block/2)
	for i := range q {
		q[i] = uint8(r.IntN(256))
	}
	scales := randF32(r, n*blocks, 0.02)
	inits := []*onnx.TensorProto{
		initializer("wq", tensor.FromSlice(tensor.Uint8, []int{n, blocks, block / 2}, q)),
		initializer("scales", f32Tensor([]int{n * blocks}, scales)),
	}
	node := &onnx.NodeProto{Name: "mmnb", OpType: "MatMulNBits", Domain: "com.microsoft", Inputs: []string{"a", "wq", "scales"}, Outputs: []string{"y"},
		Attributes: []*onnx.AttributeProto{attrInt("K", int64(k)), attrInt("N", int64(n)), attrInt("bits", 4), attrInt("block_size", int64(block)), attrInt("accuracy_level", 4)}}
	ins := []Input{{"a", a}}
	return &Case{
		Name:   matMulNBitsName(m, k, n, block),
		Flops:  2 * float64(m) * float64(k) * float64(n),
		Model:  model("matmulnbits", []onnx.OpsetID{{Version: 17}, {Domain: "com.microsoft", Version: 1}}, []*onnx.NodeProto{node}, inits, ins, []*onnx.ValueInfoProto{{Name: "y", Type: tensorType(dtFloat, m, n)}}),
		Inputs: ins,
	}
}

// Spec names a case and builds it on demand (the weights of the big cases
// take tens of MB, so only the selected ones are built).
type Spec struct {
	Name  string
	Build func() *Case
}

// OpCases returns every single-op case of the comparison, in report order.
func OpCases() []Spec {
	var ss []Spec
	add := func(name string, b func() *Case) { ss = append(ss, Spec{name, b}) }
	for _, s := range [][3]int{{4096, 320, 1280}, {4096, 1280, 320}, {77, 1024, 4096}, {2, 2048, 5632}} {
		for _, f16 := range []bool{false, true} {
			m, k, n := s[0], s[1], s[2]
			add(matmulName(m, k, n, f16), func() *Case { return MatMulCase(m, k, n, f16) })
		}
	}
	for _, s := range [][2]int{{320, 64}, {640, 32}, {1280, 16}, {128, 256}} {
		c, hw := s[0], s[1]
		add(convName(c, hw), func() *Case { return ConvCase(c, hw) })
	}
	for _, seq := range []int{4096, 1024} {
		add(attentionName(5, seq, 64), func() *Case { return AttentionCase(5, seq, 64) })
		add(attentionFusedName(5, seq, 64), func() *Case { return AttentionFusedCase(5, seq, 64) })
	}
	add(groupNormName(320, 64, 32), func() *Case { return GroupNormCase(320, 64, 32) })
	add(groupNormExportName(320, 64, 32), func() *Case { return GroupNormExportCase(320, 64, 32) })
	add(matMulNBitsName(2, 2048, 5632, 32), func() *Case { return MatMulNBitsCase(2, 2048, 5632, 32) })
	return ss
}

func matmulName(m, k, n int, f16 bool) string {
	w := "f32w"
	if f16 {
		w = "f16w"
	}
	return fmt.Sprintf("matmul/%dx%dx%d_%s", m, k, n, w)
}

func convName(c, hw int) string { return fmt.Sprintf("conv/3x3_%dto%d_%dx%d", c, c, hw, hw) }

func attentionName(heads, seq, dim int) string {
	return fmt.Sprintf("attention/h%dx%d_s%d_decomposed", heads, dim, seq)
}

func attentionFusedName(heads, seq, dim int) string {
	return fmt.Sprintf("attention/h%dx%d_s%d_ours-decomposed_vs_ort-mha", heads, dim, seq)
}

func groupNormName(c, hw, groups int) string {
	return fmt.Sprintf("groupnorm/%dx%dx%d_g%d_opset21", c, hw, hw, groups)
}

func groupNormExportName(c, hw, groups int) string {
	return fmt.Sprintf("groupnorm/%dx%dx%d_g%d_instnorm-pattern", c, hw, hw, groups)
}

func matMulNBitsName(m, k, n, block int) string {
	return fmt.Sprintf("matmulnbits/%dx%dx%d_q4_b%d", m, k, n, block)
}
