package onnx

import (
	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/kernels"
	"github.com/txt2img/engine/tensor"
)

// Binary arithmetic with numpy broadcasting: Add, Sub, Mul, Div
// (https://onnx.ai/onnx/operators/onnx__Add.html and siblings). Integer
// results wrap to the type's width; float16/bfloat16 compute in float32.

type binFns struct {
	f32 func(a, b float32) float32
	f64 func(a, b float64) float64
	i64 func(a, b int64) int64
	u64 func(a, b uint64) uint64
}

func init() {
	add := binFns{
		func(a, b float32) float32 { return a + b },
		func(a, b float64) float64 { return a + b },
		func(a, b int64) int64 { return a + b },
		func(a, b uint64) uint64 { return a + b },
	}
	sub := binFns{
		func(a, b float32) float32 { return a - b },
		func(a, b float64) float64 { return a - b },
		func(a, b int64) int64 { return a - b },
		func(a, b uint64) uint64 { return a - b },
	}
	mul := binFns{
		func(a, b float32) float32 { return a * b },
		func(a, b float64) float64 { return a * b },
		func(a, b int64) int64 { return a * b },
		func(a, b uint64) uint64 { return a * b },
	}
	div := binFns{
		func(a, b float32) float32 { return a / b },
		func(a, b float64) float64 { return a / b },
		func(a, b int64) int64 {
			if b == 0 {
				return 0
			}
			return a / b
		},
		func(a, b uint64) uint64 {
			if b == 0 {
				return 0
			}
			return a / b
		},
	}
	for _, op := range []struct {
		name string
		f    binFns
	}{{"Add", add}, {"Sub", sub}, {"Mul", mul}, {"Div", div}} {
		reg(op.name, 1, 0, binaryFactory(op.f))
	}
}

func binaryFactory(fs binFns) graph.Factory {
	return fn(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if len(in) < 2 || in[0] == nil || in[1] == nil {
			return nil, errf("needs two inputs")
		}
		a, b := in[0], in[1]
		if a.DType() == tensor.Float && b.DType() == tensor.Float {
			// Hot path: float32 straight into a pooled output buffer.
			shape, err := broadcastShapes(a.Shape(), b.Shape())
			if err != nil {
				return nil, err
			}
			out := ec.Alloc(tensor.Float, shape...)
			binaryBroadcastInto(out.F32(), a.F32(), b.F32(), a.Shape(), b.Shape(), shape, fs.f32)
			return one(out)
		}
		if a.DType() == tensor.Float16 && b.DType() == tensor.Float16 {
			return arithF16(ec, a, b, fs.f32)
		}
		t, err := binaryApply(a, b, fs)
		if err != nil {
			return nil, err
		}
		return one(t)
	})
}

// binaryApply computes fs over a and b (same dtype) with broadcasting.
func binaryApply(a, b *tensor.Tensor, fs binFns) (*tensor.Tensor, error) {
	dt := a.DType()
	if b.DType() != dt {
		return nil, errf("input dtypes differ: %s and %s", dt, b.DType())
	}
	sa, sb := a.Shape(), b.Shape()
	switch dt {
	case tensor.Float:
		r, s, err := binaryBroadcast(a.F32(), b.F32(), sa, sb, fs.f32)
		return wrapRes(tensor.Float, s, r, err)
	case tensor.Double:
		r, s, err := binaryBroadcast(a.F64(), b.F64(), sa, sb, fs.f64)
		return wrapRes(tensor.Double, s, r, err)
	case tensor.Float16, tensor.BFloat16:
		r, s, err := binaryBroadcast(toF32(a), toF32(b), sa, sb, fs.f32)
		if err != nil {
			return nil, err
		}
		return fromF32(dt, s, r), nil
	case tensor.Int64:
		r, s, err := binaryBroadcast(a.I64(), b.I64(), sa, sb, fs.i64)
		return wrapRes(dt, s, r, err)
	case tensor.Int32:
		return viaI64[int32](a, b, dt, fs.i64)
	case tensor.Int16:
		return viaI64[int16](a, b, dt, fs.i64)
	case tensor.Int8:
		return viaI64[int8](a, b, dt, fs.i64)
	case tensor.Uint64:
		r, s, err := binaryBroadcast(tensor.View[uint64](a), tensor.View[uint64](b), sa, sb, fs.u64)
		return wrapRes(dt, s, r, err)
	case tensor.Uint32:
		return viaU64[uint32](a, b, dt, fs.u64)
	case tensor.Uint16:
		return viaU64[uint16](a, b, dt, fs.u64)
	case tensor.Uint8:
		return viaU64[uint8](a, b, dt, fs.u64)
	}
	return nil, errf("unsupported dtype %s", dt)
}

func wrapRes[T tensor.Elem](dt tensor.DType, shape []int, r []T, err error) (*tensor.Tensor, error) {
	if err != nil {
		return nil, err
	}
	return tensor.FromSlice(dt, shape, r), nil
}

func viaI64[T int8 | int16 | int32](a, b *tensor.Tensor, dt tensor.DType, f func(int64, int64) int64) (*tensor.Tensor, error) {
	r, s, err := binaryBroadcast(tensor.View[T](a), tensor.View[T](b), a.Shape(), b.Shape(), func(x, y T) T { return T(f(int64(x), int64(y))) })
	return wrapRes(dt, s, r, err)
}

func viaU64[T uint8 | uint16 | uint32](a, b *tensor.Tensor, dt tensor.DType, f func(uint64, uint64) uint64) (*tensor.Tensor, error) {
	r, s, err := binaryBroadcast(tensor.View[T](a), tensor.View[T](b), a.Shape(), b.Shape(), func(x, y T) T { return T(f(uint64(x), uint64(y))) })
	return wrapRes(dt, s, r, err)
}

// arithF16 computes a float16 binary op row by row: each broadcast run is
// widened with the vector converter, combined in float32 and rounded once,
// without full-size float32 copies of the operands.
func arithF16(ec *graph.ExecContext, a, b *tensor.Tensor, f func(x, y float32) float32) ([]*tensor.Tensor, error) {
	shape, err := broadcastShapes(a.Shape(), b.Shape())
	if err != nil {
		return nil, err
	}
	out := ec.Alloc(tensor.Float16, shape...)
	o := tensor.View[uint16](out)
	av, bv := tensor.View[uint16](a), tensor.View[uint16](b)
	var bufA, bufB, bufO []float32
	widen := func(dst []float32, src []uint16, off, step, n int) []float32 {
		dst = dst[:n]
		switch step {
		case 1:
			kernels.F16ToF32(dst, src[off:off+n])
		case 0:
			v := tensor.F16ToF32(src[off])
			for i := range dst {
				dst[i] = v
			}
		default:
			for i := range dst {
				dst[i] = tensor.F16ToF32(src[off+i*step])
			}
		}
		return dst
	}
	run := func(oo int, offs []int, n int, st []int) {
		if cap(bufA) < n {
			bufA, bufB, bufO = make([]float32, n), make([]float32, n), make([]float32, n)
		}
		x := widen(bufA, av, offs[0], st[0], n)
		y := widen(bufB, bv, offs[1], st[1], n)
		r := bufO[:n]
		for i := range r {
			r[i] = f(x[i], y[i])
		}
		kernels.F32ToF16(o[oo:oo+n], r)
	}
	if tensor.SameShape(a.Shape(), b.Shape()) {
		// Same shapes: fixed-size chunks, split over threads (each task
		// with its own buffers).
		const chunk = 4096
		n := len(o)
		per := max(chunk, (n+4*nnThreads(ec)-1)/(4*nnThreads(ec)))
		kernels.Parallel(nnThreads(ec), (n+per-1)/per, func(t int) {
			x, y, r := make([]float32, chunk), make([]float32, chunk), make([]float32, chunk)
			for i := t * per; i < min(n, (t+1)*per); i += chunk {
				m := min(chunk, min(n, (t+1)*per)-i)
				kernels.F16ToF32(x[:m], av[i:i+m])
				kernels.F16ToF32(y[:m], bv[i:i+m])
				rr := r[:m]
				for j := range rr {
					rr[j] = f(x[j], y[j])
				}
				kernels.F32ToF16(o[i:i+m], rr)
			}
		})
		return one(out)
	}
	bcastRuns(shape, [][]int{bcastStrides(a.Shape(), shape), bcastStrides(b.Shape(), shape)}, run)
	return one(out)
}
