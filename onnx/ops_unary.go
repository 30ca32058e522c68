package onnx

import (
	"math"
	"sync"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/kernels"
	"github.com/txt2img/engine/tensor"
)

// Elementwise unary math and activations: Abs Neg Sqrt Reciprocal Exp Log
// Ceil Floor Round Sin Cos Tanh Erf Sigmoid Relu LeakyRelu HardSigmoid
// Softplus Mish Gelu.
//
// Float kernels work on float32 slices (float16/bfloat16 are widened in
// small chunks, computed in float32 and rounded once); float64 uses a scalar
// float64 function. Large tensors are split over ec.Threads goroutines.
// Exp, Tanh, Erf, Sigmoid and Gelu use the vectorised kernels of package
// kernels (kernels.ExpF32 …), which stay within a few ulp of the scalar
// kernels.Exp32/Tanh32/Erf32.

// mathUnaryOp describes one elementwise op.
type mathUnaryOp struct {
	f32 func(dst, src []float32) // float32 slice kernel (also used for float16/bfloat16)
	f64 func(x float64) float64  // float64 scalar kernel
	i64 func(x int64) int64      // signed integers (nil: not supported)
	u64 func(x uint64) uint64    // unsigned integers (nil: not supported)
}

// mathMap32 lifts a scalar float32 function to a slice kernel.
func mathMap32(f func(float32) float32) func(dst, src []float32) {
	return func(dst, src []float32) {
		dst = dst[:len(src)]
		for i, x := range src {
			dst[i] = f(x)
		}
	}
}

// mathVia64 lifts a float64 function to a float32 slice kernel.
func mathVia64(f func(float64) float64) func(dst, src []float32) {
	return func(dst, src []float32) {
		dst = dst[:len(src)]
		for i, x := range src {
			dst[i] = float32(f(float64(x)))
		}
	}
}

func init() {
	reg("Abs", 1, 0, mathUnaryFactory(mathUnaryOp{
		f32: mathAbs32,
		f64: math.Abs,
		i64: func(x int64) int64 {
			if x < 0 {
				return -x
			}
			return x
		},
		u64: func(x uint64) uint64 { return x },
	}))
	reg("Neg", 1, 0, mathUnaryFactory(mathUnaryOp{
		f32: mathNeg32,
		f64: func(x float64) float64 { return -x },
		i64: func(x int64) int64 { return -x },
	}))
	reg("Sqrt", 1, 0, mathUnaryFactory(mathUnaryOp{
		f32: mathSqrt32,
		f64: math.Sqrt,
	}))
	reg("Reciprocal", 1, 0, mathUnaryFactory(mathUnaryOp{
		f32: mathMap32(func(x float32) float32 { return 1 / x }),
		f64: func(x float64) float64 { return 1 / x },
	}))
	reg("Exp", 1, 0, mathUnaryFactory(mathUnaryOp{
		f32: kernels.ExpF32,
		f64: math.Exp,
	}))
	reg("Log", 1, 0, mathUnaryFactory(mathUnaryOp{f32: mathVia64(math.Log), f64: math.Log}))
	reg("Ceil", 1, 0, mathUnaryFactory(mathUnaryOp{f32: mathVia64(math.Ceil), f64: math.Ceil}))
	reg("Floor", 1, 0, mathUnaryFactory(mathUnaryOp{f32: mathVia64(math.Floor), f64: math.Floor}))
	// Round: half to even (numpy.round).
	reg("Round", 1, 0, mathUnaryFactory(mathUnaryOp{f32: mathVia64(math.RoundToEven), f64: math.RoundToEven}))
	reg("Sin", 1, 0, mathUnaryFactory(mathUnaryOp{f32: mathVia64(math.Sin), f64: math.Sin}))
	reg("Cos", 1, 0, mathUnaryFactory(mathUnaryOp{f32: mathVia64(math.Cos), f64: math.Cos}))
	reg("Tanh", 1, 0, mathUnaryFactory(mathUnaryOp{f32: kernels.TanhF32, f64: math.Tanh}))
	reg("Erf", 1, 0, mathUnaryFactory(mathUnaryOp{f32: kernels.ErfF32, f64: math.Erf}))
	reg("Sigmoid", 1, 0, mathUnaryFactory(mathUnaryOp{f32: kernels.SigmoidF32, f64: mathSigmoid64}))
	reg("Relu", 1, 0, mathUnaryFactory(mathUnaryOp{
		f32: mathReluSlice32,
		f64: func(x float64) float64 {
			if x > 0 {
				return x
			}
			if x != x {
				return x
			}
			return 0
		},
		i64: func(x int64) int64 { return max(x, 0) },
	}))
	reg("Softplus", 1, 0, mathUnaryFactory(mathUnaryOp{f32: mathVia64(mathSoftplus64), f64: mathSoftplus64}))
	reg("Mish", 1, 0, mathUnaryFactory(mathUnaryOp{
		f32: mathVia64(mathMish64),
		f64: mathMish64,
	}))
	reg("LeakyRelu", 1, 0, mathLeakyReluFactory)
	reg("HardSigmoid", 1, 0, mathHardSigmoidFactory)
	reg("Gelu", 20, 0, mathGeluFactory)
}

// mathUnaryFactory wraps an attribute-free op.
func mathUnaryFactory(op mathUnaryOp) graph.Factory {
	return func(*graph.Node, int) (graph.Kernel, error) { return mathUnaryKernel(op), nil }
}

// mathUnaryKernel builds the kernel of op.
func mathUnaryKernel(op mathUnaryOp) graph.KernelFunc {
	return func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if len(in) < 1 || in[0] == nil {
			return nil, errf("needs one input")
		}
		t, err := mathUnaryApply(ec, in[0], op)
		if err != nil {
			return nil, err
		}
		return one(t)
	}
}

// mathThreads returns the number of goroutines a kernel may use.
func mathThreads(ec *graph.ExecContext) int {
	if ec == nil || ec.Threads < 1 {
		return 1
	}
	return ec.Threads
}

// mathParFor calls f over [0, n) split into at most threads contiguous
// chunks; small n runs inline.
func mathParFor(threads, n int, f func(lo, hi int)) {
	const grain = 1 << 14
	chunks := min(threads, n/grain)
	if chunks <= 1 {
		f(0, n)
		return
	}
	step := (n + chunks - 1) / chunks
	var wg sync.WaitGroup
	for lo := step; lo < n; lo += step {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			f(lo, hi)
		}(lo, min(lo+step, n))
	}
	f(0, step)
	wg.Wait()
}

// mathUnaryApply runs op over x.
func mathUnaryApply(ec *graph.ExecContext, x *tensor.Tensor, op mathUnaryOp) (*tensor.Tensor, error) {
	dt := x.DType()
	shape := x.Shape()
	n := x.Numel()
	th := mathThreads(ec)
	switch dt {
	case tensor.Float:
		if op.f32 == nil {
			break
		}
		out := tensor.New(dt, shape...)
		src, dst := x.F32(), out.F32()
		mathParFor(th, n, func(lo, hi int) { op.f32(dst[lo:hi], src[lo:hi]) })
		return out, nil
	case tensor.Double:
		if op.f64 == nil {
			break
		}
		out := tensor.New(dt, shape...)
		src, dst := x.F64(), out.F64()
		mathParFor(th, n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				dst[i] = op.f64(src[i])
			}
		})
		return out, nil
	case tensor.Float16, tensor.BFloat16:
		if op.f32 == nil {
			break
		}
		out := tensor.New(dt, shape...)
		mathHalfMap(th, dt, tensor.View[uint16](x), tensor.View[uint16](out), op.f32)
		return out, nil
	case tensor.Int64:
		if op.i64 != nil {
			return mathUnaryInt(x, tensor.View[int64](x), op.i64), nil
		}
	case tensor.Int32:
		if op.i64 != nil {
			return mathUnaryInt(x, tensor.View[int32](x), op.i64), nil
		}
	case tensor.Int16:
		if op.i64 != nil {
			return mathUnaryInt(x, tensor.View[int16](x), op.i64), nil
		}
	case tensor.Int8:
		if op.i64 != nil {
			return mathUnaryInt(x, tensor.View[int8](x), op.i64), nil
		}
	case tensor.Uint64:
		if op.u64 != nil {
			return mathUnaryUint(x, tensor.View[uint64](x), op.u64), nil
		}
	case tensor.Uint32:
		if op.u64 != nil {
			return mathUnaryUint(x, tensor.View[uint32](x), op.u64), nil
		}
	case tensor.Uint16:
		if op.u64 != nil {
			return mathUnaryUint(x, tensor.View[uint16](x), op.u64), nil
		}
	case tensor.Uint8:
		if op.u64 != nil {
			return mathUnaryUint(x, tensor.View[uint8](x), op.u64), nil
		}
	}
	return nil, errf("unsupported dtype %s", dt)
}

// mathHalfMap applies a float32 slice kernel to float16/bfloat16 bits,
// widening and narrowing through a small per-chunk buffer.
func mathHalfMap(threads int, dt tensor.DType, src, dst []uint16, f func(dst, src []float32)) {
	widen, narrow := tensor.F16ToF32, tensor.F32ToF16
	if dt == tensor.BFloat16 {
		widen, narrow = tensor.BF16ToF32, tensor.F32ToBF16
	}
	mathParFor(threads, len(src), func(lo, hi int) {
		var buf [512]float32
		for s := lo; s < hi; s += len(buf) {
			e := min(s+len(buf), hi)
			b := buf[:e-s]
			if dt == tensor.Float16 { // vector conversions (F16C, fcvtl/fcvtn)
				kernels.F16ToF32(b, src[s:e])
				f(b, b)
				kernels.F32ToF16(dst[s:e], b)
				continue
			}
			for i := range b {
				b[i] = widen(src[s+i])
			}
			f(b, b)
			for i, v := range b {
				dst[s+i] = narrow(v)
			}
		}
	})
}

func mathUnaryInt[T int8 | int16 | int32 | int64](x *tensor.Tensor, src []T, f func(int64) int64) *tensor.Tensor {
	dst := make([]T, len(src))
	for i, v := range src {
		dst[i] = T(f(int64(v)))
	}
	return tensor.FromSlice(x.DType(), x.Shape(), dst)
}

func mathUnaryUint[T uint8 | uint16 | uint32 | uint64](x *tensor.Tensor, src []T, f func(uint64) uint64) *tensor.Tensor {
	dst := make([]T, len(src))
	for i, v := range src {
		dst[i] = T(f(uint64(v)))
	}
	return tensor.FromSlice(x.DType(), x.Shape(), dst)
}

// ---- float32 slice kernels -------------------------------------------------

func mathAbs32(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = math.Float32frombits(math.Float32bits(x) &^ (1 << 31))
	}
}

func mathNeg32(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = -x
	}
}

func mathSqrt32(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = float32(math.Sqrt(float64(x))) // correctly rounded
	}
}

func mathReluSlice32(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		if !(x > 0) && x == x {
			x = 0
		}
		dst[i] = x
	}
}

// mathSigmoidSlice32 is 1/(1+exp(-x)) (kernels.SigmoidF32).
func mathSigmoidSlice32(dst, src []float32) { kernels.SigmoidF32(dst, src) }

func mathSigmoid64(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

func mathSoftplus64(x float64) float64 {
	// log(1+exp(x)) without overflow.
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

func mathMish64(x float64) float64 { return x * math.Tanh(mathSoftplus64(x)) }

// ---- ops with attributes ---------------------------------------------------

// mathLeakyReluFactory: LeakyRelu, y = x<0 ? alpha*x : x, alpha default 0.01
// (https://onnx.ai/onnx/operators/onnx__LeakyRelu.html). v1 had
// consumed_inputs (ignored), v6 and v16 (bfloat16) are unchanged in meaning.
func mathLeakyReluFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	a := n.Float("alpha", 0.01)
	a64 := float64(a)
	return mathUnaryKernel(mathUnaryOp{
		f32: func(dst, src []float32) {
			dst = dst[:len(src)]
			for i, x := range src {
				if x < 0 {
					x *= a
				}
				dst[i] = x
			}
		},
		f64: func(x float64) float64 {
			if x < 0 {
				return x * a64
			}
			return x
		},
	}), nil
}

// mathHardSigmoidFactory: HardSigmoid, y = max(0, min(1, alpha*x + beta)),
// alpha 0.2, beta 0.5 (https://onnx.ai/onnx/operators/onnx__HardSigmoid.html).
// v1 had consumed_inputs (ignored); v6 and v22 (bfloat16) are the same.
func mathHardSigmoidFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	a, b := n.Float("alpha", 0.2), n.Float("beta", 0.5)
	a64, b64 := float64(a), float64(b)
	return mathUnaryKernel(mathUnaryOp{
		f32: func(dst, src []float32) {
			dst = dst[:len(src)]
			for i, x := range src {
				dst[i] = max(0, min(1, a*x+b))
			}
		},
		f64: func(x float64) float64 { return max(0, min(1, a64*x+b64)) },
	}), nil
}

// mathGeluFactory: Gelu (opset 20, https://onnx.ai/onnx/operators/onnx__Gelu.html).
// approximate="none": 0.5x(1+erf(x/√2)); approximate="tanh":
// 0.5x(1+tanh(√(2/π)(x+0.044715x³))).
func mathGeluFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	switch ap := n.Str("approximate", "none"); ap {
	case "none":
		return mathUnaryKernel(mathUnaryOp{f32: mathGeluSlice32, f64: mathGelu64}), nil
	case "tanh":
		return mathUnaryKernel(mathUnaryOp{f32: mathGeluTanhSlice32, f64: mathGeluTanh64}), nil
	default:
		return nil, errf("Gelu: unknown approximate %q", ap)
	}
}

// mathGeluSlice32 is the exact GELU (kernels.GeluF32: erf form, erfc where
// 1+erf(x/√2) cancels).
func mathGeluSlice32(dst, src []float32) { kernels.GeluF32(dst, src) }

func mathGelu64(x float64) float64 { return 0.5 * x * math.Erfc(-x*(math.Sqrt2/2)) }

// mathGeluTanhSlice32 uses 0.5(1+tanh(u)) = 1/(1+exp(-2u)), which keeps
// full relative accuracy for negative x.
func mathGeluTanhSlice32(dst, src []float32) {
	const k2 = 2 * 0.7978845608028654 // 2·√(2/π)
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = x / (1 + kernels.Exp32(-k2*(x+0.044715*x*x*x)))
	}
}

func mathGeluTanh64(x float64) float64 {
	return x / (1 + math.Exp(-2*math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
}
