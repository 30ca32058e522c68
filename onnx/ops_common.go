package onnx

import (
	"fmt"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/kernels"
	"github.com/txt2img/engine/tensor"
)

// This file holds the helpers shared by the op families (ops_*.go). Each family
// registers its ops in init() with reg; a factory reads the node's attributes
// once and returns a kernel.

// reg registers an ai.onnx op for opsets [since, until] (until 0: open-ended).
func reg(op string, since, until int, f graph.Factory) { graph.Register("", op, since, until, f) }

// regMS registers a com.microsoft contrib op.
func regMS(op string, f graph.Factory) { graph.Register("com.microsoft", op, 1, 0, f) }

// fn adapts an attribute-free kernel function to a Factory.
func fn(k func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error)) graph.Factory {
	return func(*graph.Node, int) (graph.Kernel, error) { return graph.KernelFunc(k), nil }
}

// one wraps a single output.
func one(t *tensor.Tensor) ([]*tensor.Tensor, error) { return []*tensor.Tensor{t}, nil }

// errf builds an error for a bad input combination.
func errf(format string, a ...any) error { return fmt.Errorf(format, a...) }

// input returns in[i] or nil when absent.
func input(in []*tensor.Tensor, i int) *tensor.Tensor {
	if i < len(in) {
		return in[i]
	}
	return nil
}

// normAxis maps a possibly negative axis into [0, rank).
func normAxis(axis, rank int) (int, error) {
	if axis < -rank || axis >= rank {
		if !(rank == 0 && (axis == 0 || axis == -1)) {
			return 0, errf("axis %d out of range for rank %d", axis, rank)
		}
		return 0, nil
	}
	if axis < 0 {
		axis += rank
	}
	return axis, nil
}

// broadcastShapes applies numpy-style multidirectional broadcasting.
func broadcastShapes(shapes ...[]int) ([]int, error) {
	rank := 0
	for _, s := range shapes {
		if len(s) > rank {
			rank = len(s)
		}
	}
	out := make([]int, rank)
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		off := rank - len(s)
		for i, d := range s {
			o := out[off+i]
			switch {
			case o == d || d == 1:
			case o == 1:
				out[off+i] = d
			default:
				return nil, errf("shapes %v cannot be broadcast together", shapes)
			}
		}
	}
	return out, nil
}

// bcastStrides returns the element strides of shape s aligned to out (0 on
// broadcast dims).
func bcastStrides(s, out []int) []int {
	st := make([]int, len(out))
	off := len(out) - len(s)
	acc := 1
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] != 1 {
			st[off+i] = acc
		}
		acc *= s[i]
	}
	return st
}

// bcastRuns walks the output of a broadcast over inputs with the given
// aligned strides, calling run for each innermost row: o is the output offset,
// offs the input offsets, n the row length and steps the per-input strides
// along the row.
func bcastRuns(out []int, strides [][]int, run func(o int, offs []int, n int, steps []int)) {
	total := tensor.Numel(out)
	if total == 0 {
		return
	}
	rank := len(out)
	k := len(strides)
	offs := make([]int, k)
	steps := make([]int, k)
	if rank == 0 {
		run(0, offs, 1, steps)
		return
	}
	inner := out[rank-1]
	for j := range strides {
		steps[j] = strides[j][rank-1]
	}
	idx := make([]int, rank)
	cur := make([]int, k)
	for o := 0; o < total; o += inner {
		copy(offs, cur)
		run(o, offs, inner, steps)
		// advance the odometer over dims [0, rank-1)
		for d := rank - 2; d >= 0; d-- {
			idx[d]++
			for j := range strides {
				cur[j] += strides[j][d]
			}
			if idx[d] < out[d] {
				break
			}
			for j := range strides {
				cur[j] -= strides[j][d] * out[d]
			}
			idx[d] = 0
		}
	}
}

// binaryBroadcast applies f elementwise over broadcast inputs of one Go type.
func binaryBroadcast[T, R tensor.Elem](a, b []T, sa, sb []int, f func(T, T) R) ([]R, []int, error) {
	out, err := broadcastShapes(sa, sb)
	if err != nil {
		return nil, nil, err
	}
	res := make([]R, tensor.Numel(out))
	if tensor.SameShape(sa, sb) {
		for i := range res {
			res[i] = f(a[i], b[i])
		}
		return res, out, nil
	}
	bcastRuns(out, [][]int{bcastStrides(sa, out), bcastStrides(sb, out)}, func(o int, offs []int, n int, st []int) {
		ia, ib := offs[0], offs[1]
		for i := 0; i < n; i++ {
			res[o+i] = f(a[ia], b[ib])
			ia += st[0]
			ib += st[1]
		}
	})
	return res, out, nil
}

// toF32 returns float32 data for float32/float16/bfloat16 tensors (a view for
// float32, a widened copy otherwise).
func toF32(t *tensor.Tensor) []float32 {
	if t.DType() == tensor.Float {
		return t.F32()
	}
	if t.DType() == tensor.Float16 && t.Contiguous() {
		src := tensor.View[uint16](t)
		out := make([]float32, len(src))
		kernels.F16ToF32(out, src)
		return out
	}
	return t.Float32s()
}

// toF32T is toF32 for the inputs of large kernels: a float16 (or other
// non-float32) tensor is widened in parallel into a scratch buffer of the
// session (ec.TempF32), which goes back to the pool when the kernel
// returns, so the result must not become an output.
func toF32T(ec *graph.ExecContext, t *tensor.Tensor) []float32 {
	if t.DType() == tensor.Float {
		return t.F32()
	}
	if t.DType() == tensor.Float16 && t.Contiguous() {
		src := tensor.View[uint16](t)
		out := ec.TempF32(len(src))
		kernels.F16ToF32Par(out, src, nnThreads(ec))
		return out
	}
	return t.Float32s()
}

// narrowT stores float32 src into t (any float dtype) from element off,
// in parallel for float16.
func narrowT(ec *graph.ExecContext, t *tensor.Tensor, off int, src []float32) {
	if t.DType() == tensor.Float16 {
		kernels.F32ToF16Par(tensor.View[uint16](t)[off:off+len(src)], src, nnThreads(ec))
		return
	}
	nnNarrow(t, off, src)
}

// fromF32 stores float32 results as dtype dt (float32, float16 or bfloat16).
func fromF32(dt tensor.DType, shape []int, v []float32) *tensor.Tensor {
	switch dt {
	case tensor.Float:
		return tensor.FromSlice(tensor.Float, shape, v)
	case tensor.Float16:
		t := tensor.New(tensor.Float16, shape...)
		kernels.F32ToF16(tensor.View[uint16](t), v)
		return t
	case tensor.BFloat16:
		t := tensor.New(tensor.BFloat16, shape...)
		d := tensor.View[uint16](t)
		for i, x := range v {
			d[i] = tensor.F32ToBF16(x)
		}
		return t
	}
	out := tensor.New(dt, shape...)
	for i, x := range v {
		out.Set(i, float64(x))
	}
	return out
}

// isHalf reports float16/bfloat16, which kernels compute in float32.
func isHalf(dt tensor.DType) bool { return dt == tensor.Float16 || dt == tensor.BFloat16 }

// shapeInts reads a 1-D int64/int32 tensor (shapes, axes, pads …) as ints.
func shapeInts(t *tensor.Tensor) []int {
	if t == nil {
		return nil
	}
	v := t.Int64s()
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

// ints64 converts attribute ints to ints.
func ints64(v []int64) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

// binaryBroadcastInto is binaryBroadcast writing into res, which must have
// Numel(out) elements for out = broadcastShapes(sa, sb).
func binaryBroadcastInto[T, R tensor.Elem](res []R, a, b []T, sa, sb, out []int, f func(T, T) R) {
	if tensor.SameShape(sa, sb) {
		for i := range res {
			res[i] = f(a[i], b[i])
		}
		return
	}
	bcastRuns(out, [][]int{bcastStrides(sa, out), bcastStrides(sb, out)}, func(o int, offs []int, n int, st []int) {
		ia, ib := offs[0], offs[1]
		for i := 0; i < n; i++ {
			res[o+i] = f(a[ia], b[ib])
			ia += st[0]
			ib += st[1]
		}
	})
}
