package onnx

import (
	"math"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/tensor"
)

// Comparisons (Equal, Less, Greater), logical ops (And, Or, Not), the float
// predicates IsNaN and IsInf, and Where. Binary ops broadcast like numpy and
// return bool tensors.

type mathCmpOp uint8

const (
	mathCmpEq mathCmpOp = iota
	mathCmpLt
	mathCmpGt
	mathCmpLe
	mathCmpGe
)

func init() {
	// Equal (https://onnx.ai/onnx/operators/onnx__Equal.html): v1 (bool and
	// ints, legacy broadcast attribute), v7 numpy broadcasting, v11 floats,
	// v13 bfloat16, v19 string. One kernel covers them all.
	reg("Equal", 1, 0, mathCmpFactory(mathCmpEq))
	// Less / Greater (https://onnx.ai/onnx/operators/onnx__Less.html,
	// https://onnx.ai/onnx/operators/onnx__Greater.html): v7 broadcasting, v9
	// integer types, v13 bfloat16.
	reg("Less", 1, 0, mathCmpFactory(mathCmpLt))
	reg("Greater", 1, 0, mathCmpFactory(mathCmpGt))
	// LessOrEqual / GreaterOrEqual (opset 12, bfloat16 from 16): used by the
	// Janus exports' attention-mask construction.
	reg("LessOrEqual", 12, 0, mathCmpFactory(mathCmpLe))
	reg("GreaterOrEqual", 12, 0, mathCmpFactory(mathCmpGe))
	// And / Or (https://onnx.ai/onnx/operators/onnx__And.html): bool only; v7
	// replaced the broadcast attribute by numpy broadcasting.
	reg("And", 1, 0, mathBoolFactory(func(a, b bool) bool { return a && b }))
	reg("Or", 1, 0, mathBoolFactory(func(a, b bool) bool { return a || b }))
	reg("Xor", 1, 0, mathBoolFactory(func(a, b bool) bool { return a != b }))
	reg("Not", 1, 0, fn(mathNot))
	// IsNaN (v9, v13 bfloat16, v20 float8) and IsInf (v10, v20 float8).
	reg("IsNaN", 9, 0, fn(mathIsNaN))
	reg("IsInf", 10, 0, mathIsInfFactory)
	// Where (https://onnx.ai/onnx/operators/onnx__Where.html): v9, v16 adds
	// bfloat16; same semantics.
	reg("Where", 9, 0, fn(mathWhere))
}

// mathCmpFactory builds Equal, Less or Greater.
func mathCmpFactory(op mathCmpOp) graph.Factory {
	return fn(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if len(in) < 2 || in[0] == nil || in[1] == nil {
			return nil, errf("needs two inputs")
		}
		a, b := in[0], in[1]
		dt := a.DType()
		if b.DType() != dt {
			return nil, errf("input dtypes differ: %s and %s", dt, b.DType())
		}
		sa, sb := a.Shape(), b.Shape()
		var r []bool
		var s []int
		var err error
		switch dt {
		case tensor.Float:
			r, s, err = mathCompare(a.F32(), b.F32(), sa, sb, op)
		case tensor.Double:
			r, s, err = mathCompare(a.F64(), b.F64(), sa, sb, op)
		case tensor.Float16, tensor.BFloat16:
			r, s, err = mathCompare(toF32(a), toF32(b), sa, sb, op)
		case tensor.Int64:
			r, s, err = mathCompare(tensor.View[int64](a), tensor.View[int64](b), sa, sb, op)
		case tensor.Int32:
			r, s, err = mathCompare(tensor.View[int32](a), tensor.View[int32](b), sa, sb, op)
		case tensor.Int16:
			r, s, err = mathCompare(tensor.View[int16](a), tensor.View[int16](b), sa, sb, op)
		case tensor.Int8:
			r, s, err = mathCompare(tensor.View[int8](a), tensor.View[int8](b), sa, sb, op)
		case tensor.Uint64:
			r, s, err = mathCompare(tensor.View[uint64](a), tensor.View[uint64](b), sa, sb, op)
		case tensor.Uint32:
			r, s, err = mathCompare(tensor.View[uint32](a), tensor.View[uint32](b), sa, sb, op)
		case tensor.Uint16:
			r, s, err = mathCompare(tensor.View[uint16](a), tensor.View[uint16](b), sa, sb, op)
		case tensor.Uint8:
			r, s, err = mathCompare(tensor.View[uint8](a), tensor.View[uint8](b), sa, sb, op)
		case tensor.Bool:
			if op != mathCmpEq {
				return nil, errf("unsupported dtype %s", dt)
			}
			// false < true: compare as bytes.
			r, s, err = mathCompare(a.U8(), b.U8(), sa, sb, op)
		case tensor.String:
			if op != mathCmpEq {
				return nil, errf("unsupported dtype %s", dt)
			}
			r, s, err = mathStringEqual(a, b)
		default:
			return nil, errf("unsupported dtype %s", dt)
		}
		if err != nil {
			return nil, err
		}
		return one(tensor.FromSlice(tensor.Bool, s, r))
	})
}

type mathOrdered interface {
	~float32 | ~float64 | ~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

func mathCompare[T mathOrdered](a, b []T, sa, sb []int, op mathCmpOp) ([]bool, []int, error) {
	switch op {
	case mathCmpLt:
		return binaryBroadcast(a, b, sa, sb, func(x, y T) bool { return x < y })
	case mathCmpGt:
		return binaryBroadcast(a, b, sa, sb, func(x, y T) bool { return x > y })
	case mathCmpLe:
		return binaryBroadcast(a, b, sa, sb, func(x, y T) bool { return x <= y })
	case mathCmpGe:
		return binaryBroadcast(a, b, sa, sb, func(x, y T) bool { return x >= y })
	}
	return binaryBroadcast(a, b, sa, sb, func(x, y T) bool { return x == y })
}

func mathStringEqual(a, b *tensor.Tensor) ([]bool, []int, error) {
	sa, sb := a.Shape(), b.Shape()
	out, err := broadcastShapes(sa, sb)
	if err != nil {
		return nil, nil, err
	}
	va, vb := a.Strings(), b.Strings()
	res := make([]bool, tensor.Numel(out))
	bcastRuns(out, [][]int{bcastStrides(sa, out), bcastStrides(sb, out)}, func(o int, offs []int, n int, st []int) {
		ia, ib := offs[0], offs[1]
		for i := 0; i < n; i++ {
			res[o+i] = va[ia] == vb[ib]
			ia += st[0]
			ib += st[1]
		}
	})
	return res, out, nil
}

// mathBoolFactory builds a broadcasting binary op on bool tensors.
func mathBoolFactory(f func(a, b bool) bool) graph.Factory {
	return fn(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if len(in) < 2 || in[0] == nil || in[1] == nil {
			return nil, errf("needs two inputs")
		}
		a, b := in[0], in[1]
		if a.DType() != tensor.Bool || b.DType() != tensor.Bool {
			return nil, errf("inputs must be bool, got %s and %s", a.DType(), b.DType())
		}
		r, s, err := binaryBroadcast(a.Bools(), b.Bools(), a.Shape(), b.Shape(), f)
		if err != nil {
			return nil, err
		}
		return one(tensor.FromSlice(tensor.Bool, s, r))
	})
}

// mathNot: Not (https://onnx.ai/onnx/operators/onnx__Not.html), bool only.
func mathNot(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if len(in) < 1 || in[0] == nil {
		return nil, errf("needs one input")
	}
	x := in[0]
	if x.DType() != tensor.Bool {
		return nil, errf("input must be bool, got %s", x.DType())
	}
	src := x.U8()
	dst := make([]bool, len(src))
	for i, v := range src {
		dst[i] = v == 0
	}
	return one(tensor.FromSlice(tensor.Bool, x.Shape(), dst))
}

// mathFloatPred evaluates pred over a float tensor of any float dtype.
func mathFloatPred(x *tensor.Tensor, pred func(float64) bool) (*tensor.Tensor, error) {
	dst := make([]bool, x.Numel())
	switch x.DType() {
	case tensor.Float:
		for i, v := range x.F32() {
			dst[i] = pred(float64(v))
		}
	case tensor.Double:
		for i, v := range x.F64() {
			dst[i] = pred(v)
		}
	default:
		if !x.DType().IsFloat() {
			return nil, errf("unsupported dtype %s", x.DType())
		}
		for i := range dst {
			dst[i] = pred(x.At(i))
		}
	}
	return tensor.FromSlice(tensor.Bool, x.Shape(), dst), nil
}

// mathIsNaN: IsNaN (https://onnx.ai/onnx/operators/onnx__IsNaN.html).
func mathIsNaN(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if len(in) < 1 || in[0] == nil {
		return nil, errf("needs one input")
	}
	t, err := mathFloatPred(in[0], math.IsNaN)
	if err != nil {
		return nil, err
	}
	return one(t)
}

// mathIsInfFactory: IsInf (https://onnx.ai/onnx/operators/onnx__IsInf.html),
// attributes detect_negative and detect_positive (default 1).
func mathIsInfFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	neg, pos := n.Int("detect_negative", 1) != 0, n.Int("detect_positive", 1) != 0
	pred := func(v float64) bool { return (pos && math.IsInf(v, 1)) || (neg && math.IsInf(v, -1)) }
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if len(in) < 1 || in[0] == nil {
			return nil, errf("needs one input")
		}
		t, err := mathFloatPred(in[0], pred)
		if err != nil {
			return nil, err
		}
		return one(t)
	}), nil
}

// mathWhere: Where(cond, X, Y) with three-way broadcasting. Any dtype of
// 1, 2, 4 or 8 bytes, and strings.
func mathWhere(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if len(in) < 3 || in[0] == nil || in[1] == nil || in[2] == nil {
		return nil, errf("needs three inputs")
	}
	c, x, y := in[0], in[1], in[2]
	if c.DType() != tensor.Bool {
		return nil, errf("condition must be bool, got %s", c.DType())
	}
	dt := x.DType()
	if y.DType() != dt {
		return nil, errf("X and Y dtypes differ: %s and %s", dt, y.DType())
	}
	out, err := broadcastShapes(c.Shape(), x.Shape(), y.Shape())
	if err != nil {
		return nil, err
	}
	strides := [][]int{bcastStrides(c.Shape(), out), bcastStrides(x.Shape(), out), bcastStrides(y.Shape(), out)}
	cond := c.U8()
	if dt == tensor.String {
		res := make([]string, tensor.Numel(out))
		mathWhereRun(cond, x.Strings(), y.Strings(), res, out, strides)
		return one(tensor.FromStrings(out, res))
	}
	r := tensor.New(dt, out...)
	switch dt.Size() {
	case 1:
		mathWhereRun(cond, tensor.View[uint8](x), tensor.View[uint8](y), tensor.View[uint8](r), out, strides)
	case 2:
		mathWhereRun(cond, tensor.View[uint16](x), tensor.View[uint16](y), tensor.View[uint16](r), out, strides)
	case 4:
		mathWhereRun(cond, tensor.View[uint32](x), tensor.View[uint32](y), tensor.View[uint32](r), out, strides)
	case 8:
		mathWhereRun(cond, tensor.View[uint64](x), tensor.View[uint64](y), tensor.View[uint64](r), out, strides)
	default:
		return nil, errf("unsupported dtype %s", dt)
	}
	return one(r)
}

func mathWhereRun[T any](cond []uint8, x, y, res []T, out []int, strides [][]int) {
	bcastRuns(out, strides, func(o int, offs []int, n int, st []int) {
		ic, ix, iy := offs[0], offs[1], offs[2]
		for i := 0; i < n; i++ {
			if cond[ic] != 0 {
				res[o+i] = x[ix]
			} else {
				res[o+i] = y[iy]
			}
			ic += st[0]
			ix += st[1]
			iy += st[2]
		}
	})
}
