package onnx

import (
	"math"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/tensor"
)

// Reductions: ReduceSum, ReduceMean, ReduceProd, ReduceMax, ReduceMin,
// ReduceL2, and the index reductions ArgMax, ArgMin.
//
// The input is walked once in memory order. Its dims are collapsed into
// alternating runs of reduced and kept dims, so the innermost loop either
// folds a contiguous run into one accumulator (inner dims reduced) or
// accumulates a contiguous run elementwise into the output (inner dims kept).
// Sums, means, products and L2 norms of floats accumulate in float64;
// integer sums and products accumulate in 64-bit integers (wrapping like the
// input type on the final conversion). float16/bfloat16 compute in float32.

type redOp uint8

const (
	redOpSum redOp = iota
	redOpMean
	redOpProd
	redOpMax
	redOpMin
	redOpL2
)

func init() {
	// ReduceSum takes axes as an input from opset 13, the others from 18.
	reg("ReduceSum", 1, 12, redFactory(redOpSum, false))
	reg("ReduceSum", 13, 0, redFactory(redOpSum, true))
	for _, r := range []struct {
		name string
		op   redOp
	}{{"ReduceMean", redOpMean}, {"ReduceProd", redOpProd}, {"ReduceMax", redOpMax},
		{"ReduceMin", redOpMin}, {"ReduceL2", redOpL2}} {
		reg(r.name, 1, 17, redFactory(r.op, false))
		reg(r.name, 18, 0, redFactory(r.op, true))
	}
	reg("ArgMax", 1, 0, redArgFactory(true))
	reg("ArgMin", 1, 0, redArgFactory(false))
}

// redFactory builds ReduceSum/Mean/Prod/Max/Min/L2.
//
// https://onnx.ai/onnx/operators/onnx__ReduceSum.html (and ReduceMean, ReduceProd,
// ReduceMax, ReduceMin, ReduceL2). Versions: before opset 13 (ReduceSum) or 18
// (the others) the reduced axes are the `axes` attribute; from then on they are
// an optional second input, and noop_with_empty_axes=1 with no/empty axes
// reduces nothing (the op is then applied per element, e.g. ReduceL2 gives |x|).
// Without axes every dim is reduced. Opset 20 adds bool inputs to ReduceMax and
// ReduceMin. Reducing a zero-size set gives the identity: 0 for sum/L2, 1 for
// prod, -inf (or the integer minimum) for max, +inf (or the maximum) for min,
// NaN for mean.
func redFactory(op redOp, axesInput bool) graph.Factory {
	return func(n *graph.Node, opset int) (graph.Kernel, error) {
		keep := n.Int("keepdims", 1) != 0
		noop := n.Int("noop_with_empty_axes", 0) != 0
		var attrAxes []int
		if !axesInput {
			attrAxes = ints64(n.Ints("axes", nil))
		}
		return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
			x := input(in, 0)
			if x == nil {
				return nil, errf("%s needs an input", n.OpType)
			}
			axes := attrAxes
			if axesInput {
				if a := input(in, 1); a != nil {
					if a.DType() != tensor.Int64 && a.DType() != tensor.Int32 {
						return nil, errf("axes must be int64, got %s", a.DType())
					}
					axes = shapeInts(a)
				}
			}
			mask, err := redAxesMask(axes, x.Rank(), noop)
			if err != nil {
				return nil, err
			}
			t, err := redReduce(x, op, mask, keep)
			if err != nil {
				return nil, err
			}
			return one(t)
		}), nil
	}
}

// redAxesMask marks the reduced dims. No axes means all dims unless noop.
func redAxesMask(axes []int, rank int, noop bool) ([]bool, error) {
	mask := make([]bool, rank)
	if len(axes) == 0 {
		if !noop {
			for i := range mask {
				mask[i] = true
			}
		}
		return mask, nil
	}
	for _, a := range axes {
		if a < -rank || a >= rank {
			return nil, errf("axis %d out of range for rank %d", a, rank)
		}
		if a < 0 {
			a += rank
		}
		if mask[a] {
			return nil, errf("axis %d repeated", a)
		}
		mask[a] = true
	}
	return mask, nil
}

// redPlan is a reduction over collapsed dims.
type redPlan struct {
	outShape []int
	outN     int
	count    int    // input elements folded into each output element
	dims     []int  // collapsed input dims (size-1 dims dropped)
	red      []bool // whether each collapsed dim is reduced
	ostr     []int  // output stride of each collapsed dim (0 when reduced)
}

func redMakePlan(shape []int, mask []bool, keep bool) *redPlan {
	p := &redPlan{count: 1}
	for i, d := range shape {
		if mask[i] {
			p.count *= d
			if keep {
				p.outShape = append(p.outShape, 1)
			}
		} else {
			p.outShape = append(p.outShape, d)
		}
		if d == 1 {
			continue
		}
		k := len(p.dims)
		if k > 0 && p.red[k-1] == mask[i] {
			p.dims[k-1] *= d
			continue
		}
		p.dims = append(p.dims, d)
		p.red = append(p.red, mask[i])
	}
	if p.outShape == nil {
		p.outShape = []int{}
	}
	p.outN = tensor.Numel(p.outShape)
	p.ostr = make([]int, len(p.dims))
	acc := 1
	for i := len(p.dims) - 1; i >= 0; i-- {
		if !p.red[i] {
			p.ostr[i] = acc
			acc *= p.dims[i]
		}
	}
	return p
}

// walk calls run for each innermost contiguous run of the input: in is its
// input offset, out the output offset of its first element, n its length and
// innerRed whether the run folds into the single output element out.
func (p *redPlan) walk(run func(in, out, n int, innerRed bool)) {
	k := len(p.dims)
	if k == 0 {
		run(0, 0, 1, true)
		return
	}
	for _, d := range p.dims {
		if d == 0 {
			return
		}
	}
	inner := p.dims[k-1]
	innerRed := p.red[k-1]
	idx := make([]int, k)
	total := tensor.Numel(p.dims)
	o := 0
	for i := 0; i < total; i += inner {
		run(i, o, inner, innerRed)
		for d := k - 2; d >= 0; d-- {
			idx[d]++
			o += p.ostr[d]
			if idx[d] < p.dims[d] {
				break
			}
			o -= p.ostr[d] * p.dims[d]
			idx[d] = 0
		}
	}
}

type redNum interface {
	~float32 | ~float64 | ~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

// redAccum folds x into acc (pre-filled with the identity) following p.
// A is the accumulator type: float64 or a 64-bit integer for sum/mean/prod,
// float64 for L2, T itself for max/min.
func redAccum[T, A redNum](x []T, acc []A, p *redPlan, op redOp) {
	p.walk(func(in, o, n int, innerRed bool) {
		xs := x[in : in+n]
		if innerRed {
			a := acc[o]
			switch op {
			case redOpSum, redOpMean:
				for _, v := range xs {
					a += A(v)
				}
			case redOpProd:
				for _, v := range xs {
					a *= A(v)
				}
			case redOpL2:
				for _, v := range xs {
					a += A(v) * A(v)
				}
			case redOpMax:
				for _, v := range xs {
					if w := A(v); w > a || w != w {
						a = w
					}
					if a != a {
						break
					}
				}
			case redOpMin:
				for _, v := range xs {
					if w := A(v); w < a || w != w {
						a = w
					}
					if a != a {
						break
					}
				}
			}
			acc[o] = a
			return
		}
		as := acc[o : o+n]
		switch op {
		case redOpSum, redOpMean:
			for i, v := range xs {
				as[i] += A(v)
			}
		case redOpProd:
			for i, v := range xs {
				as[i] *= A(v)
			}
		case redOpL2:
			for i, v := range xs {
				as[i] += A(v) * A(v)
			}
		case redOpMax:
			for i, v := range xs {
				if w := A(v); w > as[i] || w != w {
					if as[i] == as[i] {
						as[i] = w
					}
				}
			}
		case redOpMin:
			for i, v := range xs {
				if w := A(v); w < as[i] || w != w {
					if as[i] == as[i] {
						as[i] = w
					}
				}
			}
		}
	})
}

// redRun reduces x (dtype T) with accumulator type A and converts back to T.
func redRun[T, A redNum](x []T, p *redPlan, op redOp, init A, isFloat bool) []T {
	acc := make([]A, p.outN)
	for i := range acc {
		acc[i] = init
	}
	redAccum(x, acc, p, op)
	out := make([]T, p.outN)
	switch op {
	case redOpMean:
		if isFloat {
			c := float64(p.count)
			for i, a := range acc {
				out[i] = T(float64(a) / c)
			}
		} else if p.count > 0 {
			c := A(p.count)
			for i, a := range acc {
				out[i] = T(a / c)
			}
		}
	case redOpL2:
		for i, a := range acc {
			out[i] = T(math.Sqrt(float64(a)))
		}
	default:
		for i, a := range acc {
			out[i] = T(a)
		}
	}
	return out
}

// redIdentity is the value an empty reduction yields, for floats.
func redIdentityF(op redOp) float64 {
	switch op {
	case redOpProd:
		return 1
	case redOpMax:
		return math.Inf(-1)
	case redOpMin:
		return math.Inf(1)
	}
	return 0
}

// redIntBounds gives the min and max of an integer dtype.
func redIntBounds(dt tensor.DType) (int64, uint64) {
	switch dt {
	case tensor.Int8:
		return math.MinInt8, math.MaxInt8
	case tensor.Int16:
		return math.MinInt16, math.MaxInt16
	case tensor.Int32:
		return math.MinInt32, math.MaxInt32
	case tensor.Int64:
		return math.MinInt64, math.MaxInt64
	case tensor.Uint8, tensor.Bool:
		return 0, math.MaxUint8
	case tensor.Uint16:
		return 0, math.MaxUint16
	case tensor.Uint32:
		return 0, math.MaxUint32
	}
	return 0, math.MaxUint64
}

// redIntRun reduces a signed (S=int64) or unsigned (S=uint64) integer tensor.
func redIntRun[T redNum, S int64 | uint64](x []T, p *redPlan, op redOp, dt tensor.DType) []T {
	lo, hi := redIntBounds(dt)
	switch op {
	case redOpL2:
		return redRun[T, float64](x, p, op, 0, false)
	case redOpMax:
		return redRun[T, T](x, p, op, T(lo), false)
	case redOpMin:
		return redRun[T, T](x, p, op, T(hi), false)
	case redOpProd:
		return redRun[T, S](x, p, op, 1, false)
	}
	return redRun[T, S](x, p, op, 0, false)
}

// redReduce applies op over the dims marked in mask.
func redReduce(x *tensor.Tensor, op redOp, mask []bool, keep bool) (*tensor.Tensor, error) {
	p := redMakePlan(x.Shape(), mask, keep)
	dt := x.DType()
	id := redIdentityF(op)
	switch dt {
	case tensor.Float:
		return tensor.FromSlice(dt, p.outShape, redF32(x.F32(), p, op, id)), nil
	case tensor.Float16, tensor.BFloat16:
		return fromF32(dt, p.outShape, redF32(toF32(x), p, op, id)), nil
	case tensor.Double:
		return tensor.FromSlice(dt, p.outShape, redRun[float64, float64](x.F64(), p, op, id, true)), nil
	case tensor.Int64:
		return tensor.FromSlice(dt, p.outShape, redIntRun[int64, int64](x.I64(), p, op, dt)), nil
	case tensor.Int32:
		return tensor.FromSlice(dt, p.outShape, redIntRun[int32, int64](x.I32(), p, op, dt)), nil
	case tensor.Int16:
		return tensor.FromSlice(dt, p.outShape, redIntRun[int16, int64](tensor.View[int16](x), p, op, dt)), nil
	case tensor.Int8:
		return tensor.FromSlice(dt, p.outShape, redIntRun[int8, int64](tensor.View[int8](x), p, op, dt)), nil
	case tensor.Uint64:
		return tensor.FromSlice(dt, p.outShape, redIntRun[uint64, uint64](tensor.View[uint64](x), p, op, dt)), nil
	case tensor.Uint32:
		return tensor.FromSlice(dt, p.outShape, redIntRun[uint32, uint64](tensor.View[uint32](x), p, op, dt)), nil
	case tensor.Uint16:
		return tensor.FromSlice(dt, p.outShape, redIntRun[uint16, uint64](tensor.View[uint16](x), p, op, dt)), nil
	case tensor.Uint8:
		return tensor.FromSlice(dt, p.outShape, redIntRun[uint8, uint64](tensor.View[uint8](x), p, op, dt)), nil
	case tensor.Bool:
		// max is "any", min is "all"; an empty max is false and an empty min true.
		if op != redOpMax && op != redOpMin {
			return nil, errf("bool input is only supported by ReduceMax and ReduceMin")
		}
		init := uint8(0)
		if op == redOpMin {
			init = 1
		}
		b := tensor.View[uint8](x)
		return tensor.FromSlice(dt, p.outShape, redRun[uint8, uint8](b, p, op, init, false)), nil
	}
	return nil, errf("unsupported dtype %s", dt)
}

// redF32 reduces float32 data: float64 accumulators except for max/min.
func redF32(x []float32, p *redPlan, op redOp, id float64) []float32 {
	if op == redOpMax || op == redOpMin {
		return redRun[float32, float32](x, p, op, float32(id), true)
	}
	return redRun[float32, float64](x, p, op, id, true)
}

// redArgFactory builds ArgMax (max=true) and ArgMin.
//
// https://onnx.ai/onnx/operators/onnx__ArgMax.html,
// https://onnx.ai/onnx/operators/onnx__ArgMin.html. Attributes axis (default 0),
// keepdims (default 1); select_last_index (opset 12+, default 0) picks the last
// of equal extremes instead of the first. Output is int64. Like numpy, a NaN
// counts as the extreme value. An empty reduction axis is an error.
func redArgFactory(isMax bool) graph.Factory {
	return func(n *graph.Node, opset int) (graph.Kernel, error) {
		axisAttr := int(n.Int("axis", 0))
		keep := n.Int("keepdims", 1) != 0
		last := n.Int("select_last_index", 0) != 0
		return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
			x := input(in, 0)
			if x == nil {
				return nil, errf("%s needs an input", n.OpType)
			}
			shape := x.Shape()
			axis, err := normAxis(axisAttr, len(shape))
			if err != nil {
				return nil, err
			}
			outer, dim, inner := 1, 1, 1
			var outShape []int
			if len(shape) > 0 {
				dim = shape[axis]
				for i, d := range shape {
					switch {
					case i < axis:
						outer *= d
					case i > axis:
						inner *= d
					}
					if i != axis {
						outShape = append(outShape, d)
					} else if keep {
						outShape = append(outShape, 1)
					}
				}
			}
			if outShape == nil {
				outShape = []int{}
			}
			if dim == 0 && outer*inner > 0 {
				return nil, errf("%s over an empty axis", n.OpType)
			}
			out := make([]int64, outer*inner)
			if len(out) > 0 {
				switch x.DType() {
				case tensor.Float:
					redArg(x.F32(), out, outer, dim, inner, isMax, last)
				case tensor.Float16, tensor.BFloat16:
					redArg(toF32(x), out, outer, dim, inner, isMax, last)
				case tensor.Double:
					redArg(x.F64(), out, outer, dim, inner, isMax, last)
				case tensor.Int64:
					redArg(x.I64(), out, outer, dim, inner, isMax, last)
				case tensor.Int32:
					redArg(x.I32(), out, outer, dim, inner, isMax, last)
				case tensor.Int16:
					redArg(tensor.View[int16](x), out, outer, dim, inner, isMax, last)
				case tensor.Int8:
					redArg(tensor.View[int8](x), out, outer, dim, inner, isMax, last)
				case tensor.Uint64:
					redArg(tensor.View[uint64](x), out, outer, dim, inner, isMax, last)
				case tensor.Uint32:
					redArg(tensor.View[uint32](x), out, outer, dim, inner, isMax, last)
				case tensor.Uint16:
					redArg(tensor.View[uint16](x), out, outer, dim, inner, isMax, last)
				case tensor.Uint8, tensor.Bool:
					redArg(tensor.View[uint8](x), out, outer, dim, inner, isMax, last)
				default:
					return nil, errf("unsupported dtype %s", x.DType())
				}
			}
			return one(tensor.FromSlice(tensor.Int64, outShape, out))
		}), nil
	}
}

// redBetter reports whether v replaces the current extreme b. NaN wins over
// numbers; among equals, last decides.
func redBetter[T redNum](v, b T, isMax, last bool) bool {
	if v != v {
		return b == b || last
	}
	if b != b {
		return false
	}
	if v == b {
		return last
	}
	return (v > b) == isMax
}

// redArg writes the index of the extreme along the middle dim of
// [outer, dim, inner] into out ([outer, inner]).
func redArg[T redNum](x []T, out []int64, outer, dim, inner int, isMax, last bool) {
	if inner == 1 {
		for o := 0; o < outer; o++ {
			row := x[o*dim : (o+1)*dim]
			bi, b := 0, row[0]
			for j := 1; j < len(row); j++ {
				if redBetter(row[j], b, isMax, last) {
					bi, b = j, row[j]
				}
			}
			out[o] = int64(bi)
		}
		return
	}
	best := make([]T, inner)
	for o := 0; o < outer; o++ {
		base := o * dim * inner
		idx := out[o*inner : (o+1)*inner]
		copy(best, x[base:base+inner])
		for i := range idx {
			idx[i] = 0
		}
		for j := 1; j < dim; j++ {
			row := x[base+j*inner : base+(j+1)*inner]
			for i, v := range row {
				if redBetter(v, best[i], isMax, last) {
					best[i] = v
					idx[i] = int64(j)
				}
			}
		}
	}
}
