package onnx

import (
	"math"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/tensor"
)

// Max, Min, Sum (variadic, broadcasting), Clip, Pow and Mod.

func init() {
	// Max / Min / Sum (https://onnx.ai/onnx/operators/onnx__Max.html): v6
	// required equal shapes, v8 added broadcasting, v12 integer types (Max,
	// Min), v13 bfloat16. Broadcasting covers every version. NaN propagates
	// like numpy.maximum/minimum.
	reg("Max", 1, 0, mathVariadicFactory(binFns{
		func(a, b float32) float32 {
			if a > b || a != a {
				return a
			}
			return b
		},
		func(a, b float64) float64 {
			if a > b || a != a {
				return a
			}
			return b
		},
		func(a, b int64) int64 { return max(a, b) },
		func(a, b uint64) uint64 { return max(a, b) },
	}))
	reg("Min", 1, 0, mathVariadicFactory(binFns{
		func(a, b float32) float32 {
			if a < b || a != a {
				return a
			}
			return b
		},
		func(a, b float64) float64 {
			if a < b || a != a {
				return a
			}
			return b
		},
		func(a, b int64) int64 { return min(a, b) },
		func(a, b uint64) uint64 { return min(a, b) },
	}))
	reg("Sum", 1, 0, mathVariadicFactory(binFns{
		func(a, b float32) float32 { return a + b },
		func(a, b float64) float64 { return a + b },
		func(a, b int64) int64 { return a + b },
		func(a, b uint64) uint64 { return a + b },
	}))
	reg("Clip", 1, 10, mathClipAttrFactory)
	reg("Clip", 11, 0, fn(mathClip))
	reg("Pow", 1, 0, fn(mathPow))
	reg("Mod", 10, 0, mathModFactory)
}

// mathVariadicFactory folds a binary op over one or more inputs.
func mathVariadicFactory(fs binFns) graph.Factory {
	return fn(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if len(in) < 1 {
			return nil, errf("needs at least one input")
		}
		for i, t := range in {
			if t == nil {
				return nil, errf("input %d is missing", i)
			}
		}
		acc := in[0]
		if len(in) == 1 {
			if !mathIsNumeric(acc.DType()) {
				return nil, errf("unsupported dtype %s", acc.DType())
			}
			return one(acc.Clone())
		}
		for _, t := range in[1:] {
			r, err := binaryApply(acc, t, fs)
			if err != nil {
				return nil, err
			}
			acc = r
		}
		return one(acc)
	})
}

// ---- Clip -----------------------------------------------------------------

// mathClipAttrFactory: Clip v1/v6 (https://onnx.ai/onnx/operators/onnx__Clip.html),
// bounds as float attributes min and max (defaults: the float32 range).
func mathClipAttrFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	lo := float64(n.Float("min", -math.MaxFloat32))
	hi := float64(n.Float("max", math.MaxFloat32))
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if len(in) < 1 || in[0] == nil {
			return nil, errf("needs one input")
		}
		x := in[0]
		if !x.DType().IsFloat() {
			return nil, errf("unsupported dtype %s", x.DType())
		}
		t, err := mathClipApply(ec, x, tensor.FromFloat64s(x.DType(), nil, []float64{lo}), tensor.FromFloat64s(x.DType(), nil, []float64{hi}))
		if err != nil {
			return nil, err
		}
		return one(t)
	}), nil
}

// mathClip: Clip v11+ with optional scalar inputs min and max (v12 integer
// types, v13 bfloat16). min > max yields max everywhere, like numpy.clip.
func mathClip(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if len(in) < 1 || in[0] == nil {
		return nil, errf("needs at least one input")
	}
	x := in[0]
	lo, hi := input(in, 1), input(in, 2)
	for _, b := range []*tensor.Tensor{lo, hi} {
		if b == nil {
			continue
		}
		if b.DType() != x.DType() {
			return nil, errf("bound dtype %s differs from input dtype %s", b.DType(), x.DType())
		}
		if b.Numel() > 1 {
			return nil, errf("bounds must be scalars, got shape %v", b.Shape())
		}
	}
	if lo != nil && lo.Numel() == 0 {
		lo = nil
	}
	if hi != nil && hi.Numel() == 0 {
		hi = nil
	}
	t, err := mathClipApply(ec, x, lo, hi)
	if err != nil {
		return nil, err
	}
	return one(t)
}

// mathClipApply clips x to the one-element bounds lo, hi (nil: unbounded).
func mathClipApply(ec *graph.ExecContext, x, lo, hi *tensor.Tensor) (*tensor.Tensor, error) {
	dt := x.DType()
	switch dt {
	case tensor.Float:
		l, h := float32(math.Inf(-1)), float32(math.Inf(1))
		if lo != nil {
			l = lo.F32()[0]
		}
		if hi != nil {
			h = hi.F32()[0]
		}
		out := tensor.New(dt, x.Shape()...)
		src, dst := x.F32(), out.F32()
		mathParFor(mathThreads(ec), len(src), func(a, b int) { mathClipSlice(dst[a:b], src[a:b], l, h) })
		return out, nil
	case tensor.Float16, tensor.BFloat16:
		l, h := float32(math.Inf(-1)), float32(math.Inf(1))
		if lo != nil {
			l = float32(lo.At(0))
		}
		if hi != nil {
			h = float32(hi.At(0))
		}
		out := tensor.New(dt, x.Shape()...)
		mathHalfMap(mathThreads(ec), dt, tensor.View[uint16](x), tensor.View[uint16](out), func(dst, src []float32) {
			mathClipSlice(dst, src, l, h)
		})
		return out, nil
	case tensor.Double:
		return mathClipTyped(x, lo, hi, math.Inf(-1), math.Inf(1)), nil
	case tensor.Int64:
		return mathClipTyped[int64](x, lo, hi, math.MinInt64, math.MaxInt64), nil
	case tensor.Int32:
		return mathClipTyped[int32](x, lo, hi, math.MinInt32, math.MaxInt32), nil
	case tensor.Int16:
		return mathClipTyped[int16](x, lo, hi, math.MinInt16, math.MaxInt16), nil
	case tensor.Int8:
		return mathClipTyped[int8](x, lo, hi, math.MinInt8, math.MaxInt8), nil
	case tensor.Uint64:
		return mathClipTyped[uint64](x, lo, hi, 0, math.MaxUint64), nil
	case tensor.Uint32:
		return mathClipTyped[uint32](x, lo, hi, 0, math.MaxUint32), nil
	case tensor.Uint16:
		return mathClipTyped[uint16](x, lo, hi, 0, math.MaxUint16), nil
	case tensor.Uint8:
		return mathClipTyped[uint8](x, lo, hi, 0, math.MaxUint8), nil
	}
	return nil, errf("unsupported dtype %s", dt)
}

func mathClipSlice[T mathOrdered](dst, src []T, lo, hi T) {
	dst = dst[:len(src)]
	for i, v := range src {
		if v < lo {
			v = lo
		}
		if v > hi {
			v = hi
		}
		dst[i] = v
	}
}

func mathClipTyped[T mathOrdered](x, lo, hi *tensor.Tensor, l, h T) *tensor.Tensor {
	if lo != nil {
		l = tensor.View[T](lo)[0]
	}
	if hi != nil {
		h = tensor.View[T](hi)[0]
	}
	src := tensor.View[T](x)
	dst := make([]T, len(src))
	mathClipSlice(dst, src, l, h)
	return tensor.FromSlice(x.DType(), x.Shape(), dst)
}

// ---- Pow ------------------------------------------------------------------

// mathPow: Pow (https://onnx.ai/onnx/operators/onnx__Pow.html). v1 had a
// legacy broadcast attribute, v7 numpy broadcasting, v12 integer base and
// exponent of different types, v13/v15 bfloat16. The output has the base's
// dtype; like the numpy reference, a float result for an integer base is
// truncated toward zero, and an integer base with an integer exponent is
// computed exactly with wrap-around.
func mathPow(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if len(in) < 2 || in[0] == nil || in[1] == nil {
		return nil, errf("needs two inputs")
	}
	a, b := in[0], in[1]
	da, db := a.DType(), b.DType()
	if !mathIsNumeric(da) || !mathIsNumeric(db) {
		return nil, errf("unsupported dtypes %s and %s", da, db)
	}
	sa, sb := a.Shape(), b.Shape()
	// float32 fast paths (scalar exponent 2, 0.5, ...; both float32).
	if (da == tensor.Float || isHalf(da)) && b.Numel() == 1 && len(sb) <= len(sa) {
		if t := mathPowScalar32(ec, a, b.At(0)); t != nil {
			return one(t)
		}
	}
	if da == tensor.Float && db == tensor.Float {
		r, s, err := binaryBroadcast(a.F32(), b.F32(), sa, sb, func(x, y float32) float32 {
			return float32(math.Pow(float64(x), float64(y)))
		})
		if err != nil {
			return nil, err
		}
		return one(tensor.FromSlice(tensor.Float, s, r))
	}
	if da.IsFloat() {
		r, s, err := binaryBroadcast(a.Float64s(), b.Float64s(), sa, sb, math.Pow)
		if err != nil {
			return nil, err
		}
		return one(tensor.FromFloat64s(da, s, r))
	}
	// integer base
	if db.IsFloat() {
		r, s, err := binaryBroadcast(a.Float64s(), b.Float64s(), sa, sb, func(x, y float64) int64 {
			return mathF64ToI64(math.Pow(x, y))
		})
		if err != nil {
			return nil, err
		}
		return one(tensor.FromInt64s(da, s, r))
	}
	r, s, err := binaryBroadcast(a.Int64s(), b.Int64s(), sa, sb, mathIPow)
	if err != nil {
		return nil, err
	}
	return one(tensor.FromInt64s(da, s, r))
}

func mathIsNumeric(dt tensor.DType) bool {
	switch dt {
	case tensor.Float, tensor.Double, tensor.Float16, tensor.BFloat16,
		tensor.Int8, tensor.Int16, tensor.Int32, tensor.Int64,
		tensor.Uint8, tensor.Uint16, tensor.Uint32, tensor.Uint64:
		return true
	}
	return false
}

// mathPowScalar32 handles x^e for float32/float16/bfloat16 x and common
// constant exponents; nil means "not special".
func mathPowScalar32(ec *graph.ExecContext, a *tensor.Tensor, e float64) *tensor.Tensor {
	var f func(dst, src []float32)
	switch e {
	case 1:
		return a.Clone()
	case 2:
		f = func(dst, src []float32) {
			dst = dst[:len(src)]
			for i, x := range src {
				dst[i] = x * x
			}
		}
	case 3:
		f = func(dst, src []float32) {
			dst = dst[:len(src)]
			for i, x := range src {
				dst[i] = float32(float64(x) * float64(x) * float64(x))
			}
		}
	case 0.5:
		f = mathSqrt32
	default:
		return nil
	}
	out := tensor.New(a.DType(), a.Shape()...)
	if isHalf(a.DType()) {
		mathHalfMap(mathThreads(ec), a.DType(), tensor.View[uint16](a), tensor.View[uint16](out), f)
		return out
	}
	src, dst := a.F32(), out.F32()
	mathParFor(mathThreads(ec), len(src), func(lo, hi int) { f(dst[lo:hi], src[lo:hi]) })
	return out
}

// mathF64ToI64 converts like numpy's astype: truncation, with NaN and
// out-of-range values mapped to math.MinInt64.
func mathF64ToI64(v float64) int64 {
	if v != v || v >= 1<<63 || v < -(1<<63) {
		return math.MinInt64
	}
	return int64(v)
}

// mathIPow computes x^y in wrapping int64 arithmetic; negative exponents give
// the truncated result (0 unless |x| == 1).
func mathIPow(x, y int64) int64 {
	if y < 0 {
		switch x {
		case 1:
			return 1
		case -1:
			if y&1 != 0 {
				return -1
			}
			return 1
		}
		return 0
	}
	r := int64(1)
	for y > 0 {
		if y&1 != 0 {
			r *= x
		}
		x *= x
		y >>= 1
	}
	return r
}

// ---- Mod ------------------------------------------------------------------

// mathModFactory: Mod (v10, v13 bfloat16; https://onnx.ai/onnx/operators/onnx__Mod.html).
// fmod=0 (default): the result takes the divisor's sign (numpy.mod, Python
// %); fmod=1: the dividend's sign (C fmod). Integer division by zero gives 0,
// float gives NaN.
func mathModFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	fmod := n.Int("fmod", 0)
	var fs binFns
	switch fmod {
	case 1:
		fs = binFns{
			func(a, b float32) float32 { return float32(math.Mod(float64(a), float64(b))) },
			math.Mod,
			func(a, b int64) int64 {
				if b == 0 {
					return 0
				}
				return a % b
			},
			func(a, b uint64) uint64 {
				if b == 0 {
					return 0
				}
				return a % b
			},
		}
	case 0:
		fs = binFns{
			func(a, b float32) float32 { return float32(mathPyMod(float64(a), float64(b))) },
			mathPyMod,
			func(a, b int64) int64 {
				if b == 0 {
					return 0
				}
				r := a % b
				if r != 0 && (r < 0) != (b < 0) {
					r += b
				}
				return r
			},
			func(a, b uint64) uint64 {
				if b == 0 {
					return 0
				}
				return a % b
			},
		}
	default:
		return nil, errf("Mod: fmod must be 0 or 1, got %d", fmod)
	}
	return binaryFactory(fs)(n, 0)
}

// mathPyMod is the floating modulo with the divisor's sign (numpy.mod).
func mathPyMod(a, b float64) float64 {
	r := math.Mod(a, b)
	if r != 0 && (r < 0) != (b < 0) {
		r += b
	}
	if r == 0 {
		r = math.Copysign(0, b)
	}
	return r
}
