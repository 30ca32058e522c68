package onnx

import (
	"math"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/tensor"
)

// Shape ops: Reshape, Flatten, Squeeze, Unsqueeze, Shape, Size, Expand,
// ConstantOfShape, Constant, Identity, Range. Reshape, Flatten, Squeeze,
// Unsqueeze and Identity return views sharing the input's memory.

func init() {
	reg("Reshape", 1, 4, shpReshapeAttrFactory)
	reg("Reshape", 5, 0, shpReshapeFactory)
	reg("Flatten", 1, 0, shpFlattenFactory)
	reg("Squeeze", 1, 12, shpSqueezeAttrFactory)
	reg("Squeeze", 13, 0, fn(shpSqueezeKernel))
	reg("Unsqueeze", 1, 12, shpUnsqueezeAttrFactory)
	reg("Unsqueeze", 13, 0, fn(shpUnsqueezeKernel))
	reg("Shape", 1, 0, shpShapeFactory)
	reg("Size", 1, 0, fn(shpSizeKernel))
	reg("Expand", 8, 0, fn(shpExpandKernel))
	reg("ConstantOfShape", 9, 0, shpConstantOfShapeFactory)
	reg("Constant", 1, 0, shpConstantFactory)
	reg("Identity", 1, 0, fn(shpIdentityKernel))
	reg("Range", 11, 0, fn(shpRangeKernel))
}

// shpReshapeDims resolves a Reshape target: 0 copies the input dim (unless
// allowzero), -1 is inferred from the element count.
func shpReshapeDims(in []int, spec []int, allowzero bool) ([]int, error) {
	out := make([]int, len(spec))
	infer := -1
	known := 1
	hasZero := false
	for i, d := range spec {
		switch {
		case d == -1:
			if infer >= 0 {
				return nil, errf("shape %v has more than one -1", spec)
			}
			infer = i
			continue
		case d == 0 && !allowzero:
			if i >= len(in) {
				return nil, errf("shape %v copies dim %d of a rank-%d input", spec, i, len(in))
			}
			d = in[i]
		case d < 0:
			return nil, errf("invalid dim %d in shape %v", d, spec)
		}
		if d == 0 {
			hasZero = true
		}
		out[i] = d
		known *= d
	}
	total := tensor.Numel(in)
	if infer >= 0 {
		if allowzero && hasZero {
			return nil, errf("shape %v has both 0 and -1 with allowzero", spec)
		}
		if known == 0 || total%known != 0 {
			return nil, errf("cannot reshape %v to %v", in, spec)
		}
		out[infer] = total / known
	} else if known != total {
		return nil, errf("cannot reshape %v to %v", in, spec)
	}
	return out, nil
}

// shpReshapeAttrFactory builds Reshape-1 (target shape as the "shape" attribute).
// https://onnx.ai/onnx/operators/onnx__Reshape.html
func shpReshapeAttrFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	spec := ints64(n.Ints("shape", nil))
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if err := shpCheck(in, 1); err != nil {
			return nil, err
		}
		dims, err := shpReshapeDims(in[0].Shape(), spec, false)
		if err != nil {
			return nil, err
		}
		return shpReshaped(in[0], dims)
	}), nil
}

// shpReshapeFactory builds Reshape-5+ (https://onnx.ai/onnx/operators/onnx__Reshape.html):
// the target shape is an int64 input; opset 14 adds allowzero (a 0 is then a
// real zero dim instead of "copy the input dim").
func shpReshapeFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	allowzero := n.Int("allowzero", 0) != 0
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if err := shpCheck(in, 2); err != nil {
			return nil, err
		}
		spec, err := shpIndexInts(in[1])
		if err != nil {
			return nil, err
		}
		dims, err := shpReshapeDims(in[0].Shape(), spec, allowzero)
		if err != nil {
			return nil, err
		}
		return shpReshaped(in[0], dims)
	}), nil
}

func shpReshaped(x *tensor.Tensor, dims []int) ([]*tensor.Tensor, error) {
	t, err := x.Reshape(dims...)
	if err != nil {
		return nil, err
	}
	return one(t)
}

// shpFlattenFactory builds Flatten (https://onnx.ai/onnx/operators/onnx__Flatten.html):
// output is 2-D [prod(dims[:axis]), prod(dims[axis:])]; axis in [-r, r]
// (negative from opset 11).
func shpFlattenFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	axis := int(n.Int("axis", 1))
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if err := shpCheck(in, 1); err != nil {
			return nil, err
		}
		x := in[0]
		r := x.Rank()
		a := axis
		if a < 0 {
			a += r
		}
		if a < 0 || a > r {
			return nil, errf("axis %d out of range for rank %d", axis, r)
		}
		s := x.Shape()
		return shpReshaped(x, []int{shpProd(s[:a]), shpProd(s[a:])})
	}), nil
}

// shpSqueezeAttrFactory builds Squeeze-1/11 (axes attribute; negative from 11).
// https://onnx.ai/onnx/operators/onnx__Squeeze.html
func shpSqueezeAttrFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	var axes []int
	if n.Has("axes") {
		axes = ints64(n.Ints("axes", nil))
	}
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if err := shpCheck(in, 1); err != nil {
			return nil, err
		}
		return shpSqueeze(in[0], axes)
	}), nil
}

// shpSqueezeKernel is Squeeze-13+ (axes as an optional int64 input; without
// axes every size-1 dim is removed).
func shpSqueezeKernel(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if err := shpCheck(in, 1); err != nil {
		return nil, err
	}
	var axes []int
	if a := input(in, 1); a != nil {
		var err error
		if axes, err = shpIndexInts(a); err != nil {
			return nil, err
		}
	}
	return shpSqueeze(in[0], axes)
}

func shpSqueeze(x *tensor.Tensor, axes []int) ([]*tensor.Tensor, error) {
	s := x.Shape()
	r := len(s)
	drop := make([]bool, r)
	if axes == nil {
		for i, d := range s {
			drop[i] = d == 1
		}
	}
	for _, a := range axes {
		if a < -r || a >= r {
			return nil, errf("axis %d out of range for rank %d", a, r)
		}
		if a < 0 {
			a += r
		}
		if s[a] != 1 {
			return nil, errf("cannot squeeze dim %d of size %d", a, s[a])
		}
		drop[a] = true
	}
	dims := make([]int, 0, r)
	for i, d := range s {
		if !drop[i] {
			dims = append(dims, d)
		}
	}
	return shpReshaped(x, dims)
}

// shpUnsqueezeAttrFactory builds Unsqueeze-1/11 (axes attribute; negative from 11).
// https://onnx.ai/onnx/operators/onnx__Unsqueeze.html
func shpUnsqueezeAttrFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	axes := ints64(n.Ints("axes", nil))
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if err := shpCheck(in, 1); err != nil {
			return nil, err
		}
		return shpUnsqueeze(in[0], axes)
	}), nil
}

// shpUnsqueezeKernel is Unsqueeze-13+ (axes as a required int64 input). Axes
// refer to the output rank and may be unsorted.
func shpUnsqueezeKernel(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if err := shpCheck(in, 2); err != nil {
		return nil, err
	}
	axes, err := shpIndexInts(in[1])
	if err != nil {
		return nil, err
	}
	return shpUnsqueeze(in[0], axes)
}

func shpUnsqueeze(x *tensor.Tensor, axes []int) ([]*tensor.Tensor, error) {
	s := x.Shape()
	or := len(s) + len(axes)
	ins := make([]bool, or)
	for _, a := range axes {
		if a < -or || a >= or {
			return nil, errf("axis %d out of range for output rank %d", a, or)
		}
		if a < 0 {
			a += or
		}
		if ins[a] {
			return nil, errf("axis %d repeated", a)
		}
		ins[a] = true
	}
	dims := make([]int, or)
	j := 0
	for i := range dims {
		if ins[i] {
			dims[i] = 1
		} else {
			dims[i] = s[j]
			j++
		}
	}
	return shpReshaped(x, dims)
}

// shpShapeFactory builds Shape (https://onnx.ai/onnx/operators/onnx__Shape.html):
// a 1-D int64 tensor of the input's dims; opset 15 adds start/end, which are
// clamped to [0, rank] after adding rank to negatives.
func shpShapeFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	start := int(n.Int("start", 0))
	hasEnd := n.Has("end")
	end := int(n.Int("end", 0))
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if err := shpCheck(in, 1); err != nil {
			return nil, err
		}
		s := in[0].Shape()
		r := len(s)
		clamp := func(v int) int {
			if v < 0 {
				v += r
			}
			return max(0, min(v, r))
		}
		lo, hi := clamp(start), r
		if hasEnd {
			hi = clamp(end)
		}
		hi = max(hi, lo)
		v := make([]int64, hi-lo)
		for i := range v {
			v[i] = int64(s[lo+i])
		}
		return one(tensor.FromSlice(tensor.Int64, []int{len(v)}, v))
	}), nil
}

// shpSizeKernel is Size (https://onnx.ai/onnx/operators/onnx__Size.html): the
// element count as an int64 scalar.
func shpSizeKernel(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if err := shpCheck(in, 1); err != nil {
		return nil, err
	}
	return one(tensor.ScalarI64(int64(in[0].Numel())))
}

// shpExpandKernel is Expand-8+ (https://onnx.ai/onnx/operators/onnx__Expand.html):
// broadcasts the input against the shape input (bidirectionally, so a 1 in
// shape keeps the input dim).
func shpExpandKernel(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if err := shpCheck(in, 2); err != nil {
		return nil, err
	}
	x := in[0]
	spec, err := shpIndexInts(in[1])
	if err != nil {
		return nil, err
	}
	for _, d := range spec {
		if d < 0 {
			return nil, errf("negative dim in shape %v", spec)
		}
	}
	oshape, err := broadcastShapes(x.Shape(), spec)
	if err != nil {
		return nil, err
	}
	t, err := shpBroadcastTo(x, oshape)
	if err != nil {
		return nil, err
	}
	return one(t)
}

// shpBroadcastTo materialises x broadcast to oshape.
func shpBroadcastTo(x *tensor.Tensor, oshape []int) (*tensor.Tensor, error) {
	if tensor.Numel(oshape) == x.Numel() {
		return x.Reshape(oshape...)
	}
	out := tensor.New(x.DType(), oshape...)
	d, s := shpBufOf(out), shpBufOf(x)
	bcastRuns(oshape, [][]int{bcastStrides(x.Shape(), oshape)}, func(o int, offs []int, n int, steps []int) {
		if steps[0] == 0 {
			d.fill(o, n, s, offs[0])
		} else {
			d.copyFrom(o, s, offs[0], n)
		}
	})
	return out, nil
}

// shpConstantOfShapeFactory builds ConstantOfShape
// (https://onnx.ai/onnx/operators/onnx__ConstantOfShape.html): a tensor of the
// given shape filled with the one-element "value" attribute (default float32 0).
func shpConstantOfShapeFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	val := n.TensorAttr("value")
	if val == nil {
		val = tensor.ScalarF32(0)
	}
	if val.Numel() != 1 {
		return nil, errf("ConstantOfShape: value must have one element, has %d", val.Numel())
	}
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if err := shpCheck(in, 1); err != nil {
			return nil, err
		}
		dims, err := shpIndexInts(in[0])
		if err != nil {
			return nil, err
		}
		for _, d := range dims {
			if d < 0 {
				return nil, errf("negative dim in shape %v", dims)
			}
		}
		out := tensor.New(val.DType(), dims...)
		shpBufOf(out).fill(0, out.Numel(), shpBufOf(val), 0)
		return one(out)
	}), nil
}

// shpConstantFactory builds Constant (https://onnx.ai/onnx/operators/onnx__Constant.html).
// Opset 1: value; 11: sparse_value (densified by the importer); 12+:
// value_float(s), value_int(s), value_string(s). Exactly one must be set.
func shpConstantFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	var t *tensor.Tensor
	set := 0
	for _, a := range n.Attrs {
		switch a.Name {
		case "value", "sparse_value":
			if a.Tensor == nil {
				return nil, errf("Constant: %s is not a tensor", a.Name)
			}
			t = a.Tensor
		case "value_float":
			t = tensor.ScalarF32(a.Float)
		case "value_floats":
			v := append([]float32(nil), a.Floats...)
			t = tensor.FromSlice(tensor.Float, []int{len(v)}, v)
		case "value_int":
			t = tensor.ScalarI64(a.Int)
		case "value_ints":
			v := append([]int64(nil), a.Ints...)
			t = tensor.FromSlice(tensor.Int64, []int{len(v)}, v)
		case "value_string":
			t = tensor.FromStrings(nil, []string{a.Str})
		case "value_strings":
			v := append([]string(nil), a.Strs...)
			t = tensor.FromStrings([]int{len(v)}, v)
		default:
			continue
		}
		set++
	}
	if set != 1 {
		return nil, errf("Constant: needs exactly one value attribute, has %d", set)
	}
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		return one(t)
	}), nil
}

// shpIdentityKernel is Identity (https://onnx.ai/onnx/operators/onnx__Identity.html):
// a view of a tensor, or the same sequence/optional value (opset 14/16).
func shpIdentityKernel(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := input(in, 0)
	if x == nil {
		return nil, errf("Identity needs one input")
	}
	if x.Kind != tensor.KindTensor {
		return one(x)
	}
	return shpReshaped(x, x.Shape())
}

// shpRangeKernel is Range-11+ (https://onnx.ai/onnx/operators/onnx__Range.html):
// n = max(ceil((limit-start)/delta), 0) elements start + i*delta. Floats are
// computed in float64 and rounded once (as the numpy reference does);
// integers exactly. float16/bfloat16 are accepted (opset 27 adds them).
func shpRangeKernel(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if err := shpCheck(in, 3); err != nil {
		return nil, err
	}
	dt := in[0].DType()
	for i := 0; i < 3; i++ {
		if in[i].Numel() != 1 {
			return nil, errf("input %d must be a scalar, has shape %v", i, in[i].Shape())
		}
		if in[i].DType() != dt {
			return nil, errf("input dtypes differ: %s and %s", dt, in[i].DType())
		}
	}
	if dt.IsFloat() {
		start, limit, delta := in[0].At(0), in[1].At(0), in[2].At(0)
		if delta == 0 || math.IsNaN(delta) || math.IsNaN(start) || math.IsNaN(limit) {
			return nil, errf("bad range (%v, %v, %v)", start, limit, delta)
		}
		cnt := math.Ceil((limit - start) / delta)
		if cnt > 1<<31 {
			return nil, errf("range of %v elements is too large", cnt)
		}
		n := max(int(cnt), 0)
		v := make([]float64, n)
		for i := range v {
			v[i] = start + float64(i)*delta
		}
		return one(tensor.FromFloat64s(dt, []int{n}, v))
	}
	if !dt.IsInt() {
		return nil, errf("Range does not support %s", dt)
	}
	start, limit, delta := in[0].Int64s()[0], in[1].Int64s()[0], in[2].Int64s()[0]
	if delta == 0 {
		return nil, errf("Range delta is 0")
	}
	var n int64
	if delta > 0 && limit > start {
		n = (limit - start + delta - 1) / delta
	} else if delta < 0 && limit < start {
		n = (start - limit - delta - 1) / (-delta)
	}
	if n > 1<<31 {
		return nil, errf("range of %d elements is too large", n)
	}
	v := make([]int64, n)
	for i := range v {
		v[i] = start + int64(i)*delta
	}
	return one(tensor.FromInt64s(dt, []int{int(n)}, v))
}
