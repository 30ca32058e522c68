package onnx

import (
	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/tensor"
)

// Shape functions for static shape inference (graph.RegisterShape). They cover
// the ops that carry shapes through real exports — elementwise, Cast, Reshape,
// Transpose, Concat, Gather, MatMul, Conv, Slice … — so that Shape nodes fold
// into constants. An op without one simply leaves its outputs unknown.

func init() {
	for _, op := range []string{"Add", "Sub", "Mul", "Div", "Pow", "Mod", "Max", "Min", "Sum", "Mean", "PRelu", "BitShift",
		"Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or", "Xor", "Where"} {
		graph.RegisterShape("", op, shapeBroadcast)
	}
	for _, op := range []string{"Identity", "Abs", "Neg", "Sqrt", "Reciprocal", "Exp", "Log", "Ceil", "Floor", "Round",
		"Sin", "Cos", "Tan", "Tanh", "Erf", "Sigmoid", "Relu", "LeakyRelu", "HardSigmoid", "Softplus", "Mish", "Gelu",
		"Elu", "Selu", "Softsign", "HardSwish", "Sign", "Not", "Clip", "Softmax", "LogSoftmax", "LayerNormalization",
		"RMSNormalization", "GroupNormalization", "InstanceNormalization", "BatchNormalization", "Dropout", "CumSum",
		"Trilu", "SimplifiedLayerNormalization", "SkipLayerNormalization", "SkipSimplifiedLayerNormalization"} {
		graph.RegisterShape("", op, shapeSameAsFirst)
	}
	graph.RegisterShape("", "IsNaN", shapeBool)
	graph.RegisterShape("", "IsInf", shapeBool)
	graph.RegisterShape("", "Cast", shapeCast)
	graph.RegisterShape("", "CastLike", shapeCastLike)
	graph.RegisterShape("", "Shape", shapeShape)
	graph.RegisterShape("", "Size", func(*graph.Node, []graph.ValueType, []*tensor.Tensor) ([]graph.ValueType, bool) {
		return []graph.ValueType{graph.TensorType(tensor.Int64)}, true
	})
	graph.RegisterShape("", "Reshape", shapeReshape)
	graph.RegisterShape("", "Unsqueeze", shapeUnsqueeze)
	graph.RegisterShape("", "Squeeze", shapeSqueeze)
	graph.RegisterShape("", "Transpose", shapeTranspose)
	graph.RegisterShape("", "Concat", shapeConcat)
	graph.RegisterShape("", "Gather", shapeGather)
	graph.RegisterShape("", "MatMul", shapeMatMul)
	graph.RegisterShape("", "Gemm", shapeGemm)
	graph.RegisterShape("", "Conv", shapeConv)
	graph.RegisterShape("", "Expand", shapeExpand)
	graph.RegisterShape("", "Flatten", shapeFlatten)
	graph.RegisterShape("", "ConstantOfShape", shapeConstantOfShape)
	graph.RegisterShape("", "Slice", shapeSlice)
}

func tensorIn(in []graph.ValueType, i int) (graph.ValueType, bool) {
	if i >= len(in) || in[i].Kind != tensor.KindTensor || !in[i].HasShape {
		return graph.ValueType{}, false
	}
	return in[i], true
}

func shapeOut(dt tensor.DType, shape []int) []graph.ValueType {
	return []graph.ValueType{{Kind: tensor.KindTensor, DType: dt, HasShape: true, Shape: shape}}
}

func shapeBroadcast(n *graph.Node, in []graph.ValueType, _ []*tensor.Tensor) ([]graph.ValueType, bool) {
	var shapes [][]int
	rank := 0
	for i := range in {
		t, ok := tensorIn(in, i)
		if !ok {
			return nil, false
		}
		shapes = append(shapes, t.Shape)
		rank = max(rank, len(t.Shape))
	}
	if len(shapes) == 0 {
		return nil, false
	}
	out := make([]int, rank)
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		off := rank - len(s)
		for i, d := range s {
			switch o := out[off+i]; {
			case d == 1:
			case d < 0:
				if o == 1 {
					out[off+i] = -1
				}
			case o == 1 || o < 0 || o == d:
				out[off+i] = d
			default:
				return nil, false
			}
		}
	}
	dt := in[0].DType
	if n.OpType == "Where" && len(in) > 1 {
		dt = in[1].DType
	}
	switch n.OpType {
	case "Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or", "Xor":
		dt = tensor.Bool
	}
	return shapeOut(dt, out), true
}

func shapeSameAsFirst(_ *graph.Node, in []graph.ValueType, _ []*tensor.Tensor) ([]graph.ValueType, bool) {
	if len(in) == 0 || in[0].Kind != tensor.KindTensor {
		return nil, false
	}
	return []graph.ValueType{in[0]}, true
}

func shapeBool(_ *graph.Node, in []graph.ValueType, _ []*tensor.Tensor) ([]graph.ValueType, bool) {
	t, ok := tensorIn(in, 0)
	if !ok {
		return nil, false
	}
	return shapeOut(tensor.Bool, t.Shape), true
}

func shapeCast(n *graph.Node, in []graph.ValueType, _ []*tensor.Tensor) ([]graph.ValueType, bool) {
	if len(in) == 0 {
		return nil, false
	}
	t := in[0]
	t.DType = tensor.DType(n.Int("to", 0))
	return []graph.ValueType{t}, true
}

func shapeCastLike(_ *graph.Node, in []graph.ValueType, _ []*tensor.Tensor) ([]graph.ValueType, bool) {
	if len(in) < 2 {
		return nil, false
	}
	t := in[0]
	t.DType = in[1].DType
	return []graph.ValueType{t}, true
}

func shapeShape(n *graph.Node, in []graph.ValueType, _ []*tensor.Tensor) ([]graph.ValueType, bool) {
	t, ok := tensorIn(in, 0)
	if !ok {
		return nil, false
	}
	r := len(t.Shape)
	start, end := int(n.Int("start", 0)), int(n.Int("end", int64(r)))
	if start < 0 {
		start += r
	}
	if end < 0 {
		end += r
	}
	start, end = min(max(start, 0), r), min(max(end, 0), r)
	return shapeOut(tensor.Int64, []int{max(end-start, 0)}), true
}

func shapeReshape(n *graph.Node, in []graph.ValueType, c []*tensor.Tensor) ([]graph.ValueType, bool) {
	if len(c) < 2 || c[1] == nil || len(in) == 0 {
		return nil, false
	}
	want := shapeInts(c[1])
	out := make([]int, len(want))
	allowZero := n.Int("allowzero", 0) != 0
	known, neg := 1, -1
	for i, d := range want {
		switch {
		case d == 0 && !allowZero:
			if !in[0].HasShape || i >= len(in[0].Shape) || in[0].Shape[i] < 0 {
				return shapeOut(in[0].DType, unknownDims(len(want))), true
			}
			out[i] = in[0].Shape[i]
		case d == -1:
			neg = i
			continue
		default:
			out[i] = d
		}
		known *= out[i]
	}
	if neg >= 0 {
		if !in[0].Static() || known == 0 {
			out[neg] = -1
		} else {
			out[neg] = tensor.Numel(in[0].Shape) / known
		}
	}
	return shapeOut(in[0].DType, out), true
}

func unknownDims(r int) []int {
	s := make([]int, r)
	for i := range s {
		s[i] = -1
	}
	return s
}

func axesFrom(n *graph.Node, c []*tensor.Tensor, idx int) ([]int, bool) {
	if n.Has("axes") {
		return ints64(n.Ints("axes", nil)), true
	}
	if idx < len(c) && c[idx] != nil {
		return shapeInts(c[idx]), true
	}
	return nil, false
}

func shapeUnsqueeze(n *graph.Node, in []graph.ValueType, c []*tensor.Tensor) ([]graph.ValueType, bool) {
	t, ok := tensorIn(in, 0)
	axes, ok2 := axesFrom(n, c, 1)
	if !ok || !ok2 {
		return nil, false
	}
	r := len(t.Shape) + len(axes)
	ins := make([]bool, r)
	for _, a := range axes {
		if a < 0 {
			a += r
		}
		if a < 0 || a >= r {
			return nil, false
		}
		ins[a] = true
	}
	out := make([]int, 0, r)
	j := 0
	for i := 0; i < r; i++ {
		if ins[i] {
			out = append(out, 1)
		} else {
			out = append(out, t.Shape[j])
			j++
		}
	}
	return shapeOut(t.DType, out), true
}

func shapeSqueeze(n *graph.Node, in []graph.ValueType, c []*tensor.Tensor) ([]graph.ValueType, bool) {
	t, ok := tensorIn(in, 0)
	if !ok {
		return nil, false
	}
	axes, has := axesFrom(n, c, 1)
	drop := make([]bool, len(t.Shape))
	if has {
		for _, a := range axes {
			if a < 0 {
				a += len(t.Shape)
			}
			if a < 0 || a >= len(t.Shape) {
				return nil, false
			}
			drop[a] = true
		}
	} else if len(in) > 1 && in[1].DType != tensor.Undefined {
		return nil, false // axes given at run time
	} else {
		for i, d := range t.Shape {
			if d < 0 {
				return nil, false
			}
			drop[i] = d == 1
		}
	}
	var out []int
	for i, d := range t.Shape {
		if !drop[i] {
			out = append(out, d)
		}
	}
	return shapeOut(t.DType, out), true
}

func shapeTranspose(n *graph.Node, in []graph.ValueType, _ []*tensor.Tensor) ([]graph.ValueType, bool) {
	t, ok := tensorIn(in, 0)
	if !ok {
		return nil, false
	}
	r := len(t.Shape)
	perm := ints64(n.Ints("perm", nil))
	if len(perm) == 0 {
		for i := r - 1; i >= 0; i-- {
			perm = append(perm, i)
		}
	}
	if len(perm) != r {
		return nil, false
	}
	out := make([]int, r)
	for i, p := range perm {
		if p < 0 || p >= r {
			return nil, false
		}
		out[i] = t.Shape[p]
	}
	return shapeOut(t.DType, out), true
}

func shapeConcat(n *graph.Node, in []graph.ValueType, _ []*tensor.Tensor) ([]graph.ValueType, bool) {
	t0, ok := tensorIn(in, 0)
	if !ok {
		return nil, false
	}
	r := len(t0.Shape)
	axis, err := normAxis(int(n.Int("axis", 0)), r)
	if err != nil {
		return nil, false
	}
	out := append([]int(nil), t0.Shape...)
	out[axis] = 0
	for i := range in {
		t, ok := tensorIn(in, i)
		if !ok || len(t.Shape) != r {
			return nil, false
		}
		if t.Shape[axis] < 0 || out[axis] < 0 {
			out[axis] = -1
		} else {
			out[axis] += t.Shape[axis]
		}
		for d := range out {
			if d != axis && out[d] < 0 {
				out[d] = t.Shape[d]
			}
		}
	}
	return shapeOut(t0.DType, out), true
}

func shapeGather(n *graph.Node, in []graph.ValueType, _ []*tensor.Tensor) ([]graph.ValueType, bool) {
	d, ok := tensorIn(in, 0)
	ix, ok2 := tensorIn(in, 1)
	if !ok || !ok2 {
		return nil, false
	}
	axis, err := normAxis(int(n.Int("axis", 0)), len(d.Shape))
	if err != nil {
		return nil, false
	}
	out := append([]int{}, d.Shape[:axis]...)
	out = append(out, ix.Shape...)
	out = append(out, d.Shape[axis+1:]...)
	return shapeOut(d.DType, out), true
}

func shapeMatMul(_ *graph.Node, in []graph.ValueType, _ []*tensor.Tensor) ([]graph.ValueType, bool) {
	a, ok := tensorIn(in, 0)
	b, ok2 := tensorIn(in, 1)
	if !ok || !ok2 || len(a.Shape) == 0 || len(b.Shape) == 0 {
		return nil, false
	}
	as, bs := a.Shape, b.Shape
	if len(as) == 1 {
		as = []int{1, as[0]}
	}
	if len(bs) == 1 {
		bs = []int{bs[0], 1}
	}
	batch, okb := shapeBroadcast(&graph.Node{}, []graph.ValueType{
		{Kind: tensor.KindTensor, HasShape: true, Shape: as[:len(as)-2]},
		{Kind: tensor.KindTensor, HasShape: true, Shape: bs[:len(bs)-2]}}, nil)
	if !okb {
		return nil, false
	}
	out := append([]int{}, batch[0].Shape...)
	if len(a.Shape) > 1 {
		out = append(out, as[len(as)-2])
	}
	if len(b.Shape) > 1 {
		out = append(out, bs[len(bs)-1])
	}
	return shapeOut(a.DType, out), true
}

func shapeGemm(n *graph.Node, in []graph.ValueType, _ []*tensor.Tensor) ([]graph.ValueType, bool) {
	a, ok := tensorIn(in, 0)
	b, ok2 := tensorIn(in, 1)
	if !ok || !ok2 || len(a.Shape) != 2 || len(b.Shape) != 2 {
		return nil, false
	}
	m, nn := a.Shape[0], b.Shape[1]
	if n.Int("transA", 0) != 0 {
		m = a.Shape[1]
	}
	if n.Int("transB", 0) != 0 {
		nn = b.Shape[0]
	}
	return shapeOut(a.DType, []int{m, nn}), true
}

func shapeConv(n *graph.Node, in []graph.ValueType, _ []*tensor.Tensor) ([]graph.ValueType, bool) {
	x, ok := tensorIn(in, 0)
	w, ok2 := tensorIn(in, 1)
	if !ok || !ok2 || len(x.Shape) < 3 || len(w.Shape) != len(x.Shape) {
		return nil, false
	}
	sp := len(x.Shape) - 2
	if n.Str("auto_pad", "NOTSET") != "NOTSET" {
		return nil, false
	}
	kernel := ints64(n.Ints("kernel_shape", nil))
	if len(kernel) == 0 {
		kernel = w.Shape[2:]
	}
	strides, dil, pads := ints64(n.Ints("strides", nil)), ints64(n.Ints("dilations", nil)), ints64(n.Ints("pads", nil))
	out := []int{x.Shape[0], w.Shape[0]}
	for i := 0; i < sp; i++ {
		s, d, p0, p1 := 1, 1, 0, 0
		if i < len(strides) {
			s = strides[i]
		}
		if i < len(dil) {
			d = dil[i]
		}
		if len(pads) == 2*sp {
			p0, p1 = pads[i], pads[i+sp]
		}
		in := x.Shape[2+i]
		if in < 0 || s <= 0 {
			out = append(out, -1)
			continue
		}
		out = append(out, (in+p0+p1-d*(kernel[i]-1)-1)/s+1)
	}
	return shapeOut(x.DType, out), true
}

func shapeExpand(_ *graph.Node, in []graph.ValueType, c []*tensor.Tensor) ([]graph.ValueType, bool) {
	t, ok := tensorIn(in, 0)
	if !ok || len(c) < 2 || c[1] == nil {
		return nil, false
	}
	return shapeBroadcast(&graph.Node{}, []graph.ValueType{t, {Kind: tensor.KindTensor, HasShape: true, Shape: shapeInts(c[1]), DType: t.DType}}, nil)
}

func shapeFlatten(n *graph.Node, in []graph.ValueType, _ []*tensor.Tensor) ([]graph.ValueType, bool) {
	t, ok := tensorIn(in, 0)
	if !ok || !t.Static() {
		return nil, false
	}
	r := len(t.Shape)
	axis := int(n.Int("axis", 1))
	if axis < 0 {
		axis += r
	}
	if axis < 0 || axis > r {
		return nil, false
	}
	return shapeOut(t.DType, []int{tensor.Numel(t.Shape[:axis]), tensor.Numel(t.Shape[axis:])}), true
}

func shapeConstantOfShape(n *graph.Node, _ []graph.ValueType, c []*tensor.Tensor) ([]graph.ValueType, bool) {
	if len(c) == 0 || c[0] == nil {
		return nil, false
	}
	dt := tensor.Float
	if v := n.TensorAttr("value"); v != nil {
		dt = v.DType()
	}
	return shapeOut(dt, shapeInts(c[0])), true
}

func shapeSlice(n *graph.Node, in []graph.ValueType, c []*tensor.Tensor) ([]graph.ValueType, bool) {
	t, ok := tensorIn(in, 0)
	if !ok || len(c) < 3 || c[1] == nil || c[2] == nil {
		return nil, false
	}
	r := len(t.Shape)
	starts, ends := shapeInts(c[1]), shapeInts(c[2])
	var axes, steps []int
	if len(c) > 3 && c[3] != nil {
		axes = shapeInts(c[3])
	} else if len(in) > 3 && in[3].Kind == tensor.KindTensor && in[3].DType != tensor.Undefined {
		return nil, false
	}
	if len(c) > 4 && c[4] != nil {
		steps = shapeInts(c[4])
	} else if len(in) > 4 && in[4].DType != tensor.Undefined {
		return nil, false
	}
	out := append([]int(nil), t.Shape...)
	for i := range starts {
		ax := i
		if axes != nil {
			ax = axes[i]
		}
		if ax < 0 {
			ax += r
		}
		if ax < 0 || ax >= r || i >= len(ends) {
			return nil, false
		}
		step := 1
		if steps != nil {
			step = steps[i]
		}
		dim := t.Shape[ax]
		if dim < 0 || step == 0 {
			out[ax] = -1
			continue
		}
		s, e := starts[i], ends[i]
		if s < 0 {
			s += dim
		}
		if e < 0 {
			e += dim
		}
		if step > 0 {
			s, e = min(max(s, 0), dim), min(max(e, 0), dim)
			out[ax] = max(0, (e-s+step-1)/step)
		} else {
			s, e = min(max(s, -1), dim-1), min(max(e, -1), dim-1)
			out[ax] = max(0, (s-e-step-1)/(-step))
		}
	}
	return shapeOut(t.DType, out), true
}
