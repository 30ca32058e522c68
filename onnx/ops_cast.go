package onnx

import (
	"math"
	"strconv"
	"strings"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/tensor"
)

// Cast and CastLike: elementwise conversion between any two dtypes
// (https://onnx.ai/onnx/operators/onnx__Cast.html,
// https://onnx.ai/onnx/operators/onnx__CastLike.html). The conversions follow
// the numpy/ml_dtypes reference implementation:
//   - float → float rounds to nearest even; float → float8 clamps to the
//     target's finite range when saturate is set (the default), otherwise
//     overflow gives Inf (E5M2) or NaN; float → float4e2m1 always saturates.
//   - float → integer truncates toward zero, then wraps to the target width
//     (int4/uint4/int2/uint2 included); NaN and values outside int32 (or
//     int64 for 64-bit targets) give the x86 "indefinite" value as numpy does.
//   - integer → integer wraps (two's complement); bool is x != 0.
//   - float8e8m0 uses round_mode ("up", "down", "nearest"; opset 24+).
//   - string ↔ number: numbers print like numpy's str() (shortest repr that
//     round-trips in the source type; "NaN", "INF", "-INF"), strings parse
//     plain and scientific notation and nan/inf spellings.
//
// Versions: Cast-1 has `to` as a type-name string; Cast-6/9/13 add types;
// Cast-19 adds saturate (float8); Cast-21/23/24/25 add int4/uint4, float4,
// float8e8m0 with round_mode, int2/uint2. CastLike (15+) takes the target
// dtype from its second input and the same attributes. One factory covers
// every version since the attributes default to the older behaviour.

func init() {
	reg("Cast", 1, 0, castFactory(false))
	reg("CastLike", 15, 0, castFactory(true))
}

// castOpts holds Cast's conversion attributes.
type castOpts struct {
	saturate bool
	e8m0Mode int
}

func castFactory(like bool) graph.Factory {
	return func(n *graph.Node, opset int) (graph.Kernel, error) {
		var to tensor.DType
		if !like {
			a := n.Attr("to")
			if a == nil {
				return nil, errf("Cast: missing attribute 'to'")
			}
			switch a.Kind {
			case graph.AttrInt:
				to = tensor.DType(a.Int)
			case graph.AttrString: // Cast-1: "FLOAT", "INT64", ...
				d, ok := castTypeName(a.Str)
				if !ok {
					return nil, errf("Cast: unknown type name %q", a.Str)
				}
				to = d
			default:
				return nil, errf("Cast: attribute 'to' has the wrong kind")
			}
			if !castSupported(to) {
				return nil, errf("Cast: unsupported target dtype %s", to)
			}
		}
		opts := castOpts{saturate: n.Int("saturate", 1) != 0}
		switch m := n.Str("round_mode", "up"); m {
		case "up":
			opts.e8m0Mode = tensor.E8M0RoundUp
		case "down":
			opts.e8m0Mode = tensor.E8M0RoundDown
		case "nearest":
			opts.e8m0Mode = tensor.E8M0RoundNearest
		default:
			return nil, errf("Cast: unknown round_mode %q", m)
		}
		return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
			x := input(in, 0)
			if x == nil {
				return nil, errf("Cast: missing input")
			}
			dst := to
			if like {
				t := input(in, 1)
				if t == nil {
					return nil, errf("CastLike: missing target_type input")
				}
				dst = t.DType()
			}
			y, err := castTensor(x, dst, opts)
			if err != nil {
				return nil, err
			}
			return one(y)
		}), nil
	}
}

// castTypeName maps Cast-1's upper-case type names to dtypes.
func castTypeName(s string) (tensor.DType, bool) {
	names := map[string]tensor.DType{
		"FLOAT": tensor.Float, "UINT8": tensor.Uint8, "INT8": tensor.Int8,
		"UINT16": tensor.Uint16, "INT16": tensor.Int16, "INT32": tensor.Int32,
		"INT64": tensor.Int64, "STRING": tensor.String, "BOOL": tensor.Bool,
		"FLOAT16": tensor.Float16, "DOUBLE": tensor.Double, "UINT32": tensor.Uint32,
		"UINT64": tensor.Uint64, "BFLOAT16": tensor.BFloat16,
	}
	d, ok := names[strings.ToUpper(s)]
	return d, ok
}

func castSupported(dt tensor.DType) bool {
	return dt.Valid() && dt != tensor.Complex64 && dt != tensor.Complex128
}

// castSmall reports the one-byte float types (float8 family and float4).
func castSmall(dt tensor.DType) bool {
	switch dt {
	case tensor.Float8E4M3FN, tensor.Float8E4M3FNUZ, tensor.Float8E5M2, tensor.Float8E5M2FNUZ, tensor.Float8E8M0, tensor.Float4E2M1:
		return true
	}
	return false
}

// castTensor converts x to dtype dst.
func castTensor(x *tensor.Tensor, dst tensor.DType, o castOpts) (*tensor.Tensor, error) {
	if x.Kind != tensor.KindTensor {
		return nil, errf("Cast: input is not a tensor")
	}
	src := x.DType()
	if !castSupported(src) || !castSupported(dst) {
		return nil, errf("Cast: unsupported cast %s → %s", src, dst)
	}
	shape := x.Shape()
	if src == dst {
		return x.Clone(), nil
	}
	if y := castFast(x, dst); y != nil {
		return y, nil
	}
	n := x.Numel()
	out := tensor.New(dst, shape...)
	switch {
	case src == tensor.String:
		return out, castFromStrings(x.Strings(), out, o)
	case src.IsFloat():
		v := castLoadFloat(x)
		if dst == tensor.String {
			s := make([]string, n)
			for i, f := range v {
				s[i] = castFormatFloat(f, src)
			}
			return tensor.FromStrings(shape, s), nil
		}
		castStoreFloat(out, v, o)
	default: // integers and bool
		v := castLoadInt(x)
		if dst == tensor.String {
			s := make([]string, n)
			for i, k := range v {
				switch {
				case src == tensor.Bool:
					s[i] = map[bool]string{true: "True", false: "False"}[k != 0]
				case src == tensor.Uint64:
					s[i] = strconv.FormatUint(uint64(k), 10)
				default:
					s[i] = strconv.FormatInt(k, 10)
				}
			}
			return tensor.FromStrings(shape, s), nil
		}
		castStoreInt(out, v, src == tensor.Uint64, o)
	}
	return out, nil
}

// castFast handles the common pairs with direct typed loops; nil otherwise.
func castFast(x *tensor.Tensor, dst tensor.DType) *tensor.Tensor {
	src := x.DType()
	shape := x.Shape()
	switch {
	case src == tensor.Float && dst == tensor.Float16:
		y := tensor.New(dst, shape...)
		d := tensor.View[uint16](y)
		for i, v := range x.F32() {
			d[i] = tensor.F32ToF16(v)
		}
		return y
	case src == tensor.Float && dst == tensor.BFloat16:
		y := tensor.New(dst, shape...)
		d := tensor.View[uint16](y)
		for i, v := range x.F32() {
			d[i] = tensor.F32ToBF16(v)
		}
		return y
	case (src == tensor.Float16 || src == tensor.BFloat16) && dst == tensor.Float:
		return tensor.FromSlice(tensor.Float, shape, x.Float32s())
	case src == tensor.Float && dst == tensor.Double:
		y := tensor.New(dst, shape...)
		d := y.F64()
		for i, v := range x.F32() {
			d[i] = float64(v)
		}
		return y
	case src == tensor.Double && dst == tensor.Float:
		y := tensor.New(dst, shape...)
		d := y.F32()
		for i, v := range x.F64() {
			d[i] = float32(v)
		}
		return y
	case src == tensor.Int64 && dst == tensor.Float:
		y := tensor.New(dst, shape...)
		d := y.F32()
		for i, v := range x.I64() {
			d[i] = float32(v)
		}
		return y
	case src == tensor.Int64 && dst == tensor.Int32:
		y := tensor.New(dst, shape...)
		d := y.I32()
		for i, v := range x.I64() {
			d[i] = int32(v)
		}
		return y
	case src == tensor.Int32 && dst == tensor.Int64:
		y := tensor.New(dst, shape...)
		d := y.I64()
		for i, v := range x.I32() {
			d[i] = int64(v)
		}
		return y
	case src == tensor.Bool && dst == tensor.Float:
		y := tensor.New(dst, shape...)
		d := y.F32()
		for i, v := range x.U8() {
			if v != 0 {
				d[i] = 1
			}
		}
		return y
	case src == tensor.Float && dst == tensor.Bool:
		y := tensor.New(dst, shape...)
		d := y.U8()
		for i, v := range x.F32() {
			if v != 0 {
				d[i] = 1
			}
		}
		return y
	}
	return nil
}

// castLoadFloat returns a float tensor's values as float64 (exact).
func castLoadFloat(x *tensor.Tensor) []float64 {
	switch x.DType() {
	case tensor.Double:
		return x.F64()
	case tensor.Float, tensor.Float16:
		return x.Float64s()
	}
	n := x.Numel()
	v := make([]float64, n)
	switch x.DType() {
	case tensor.BFloat16:
		for i, h := range tensor.View[uint16](x) {
			v[i] = float64(tensor.BF16ToF32(h))
		}
	default: // float8 / float4
		dt := x.DType()
		var lut [256]float64
		for b := range lut {
			lut[b] = float64(tensor.SmallFloatToF32(dt, uint8(b)))
		}
		for i, b := range x.U8() {
			v[i] = lut[b]
		}
	}
	return v
}

// castLoadInt returns an integer or bool tensor's values as int64 (uint64
// values keep their bits).
func castLoadInt(x *tensor.Tensor) []int64 {
	if x.DType() == tensor.Uint64 {
		u := tensor.View[uint64](x)
		v := make([]int64, len(u))
		for i, k := range u {
			v[i] = int64(k)
		}
		return v
	}
	return x.Int64s()
}

// castStoreFloat writes float64 values into out, converting to out's dtype.
func castStoreFloat(out *tensor.Tensor, v []float64, o castOpts) {
	dt := out.DType()
	switch dt {
	case tensor.Float:
		d := out.F32()
		for i, f := range v {
			d[i] = float32(f)
		}
	case tensor.Double:
		copy(out.F64(), v)
	case tensor.Float16:
		d := tensor.View[uint16](out)
		for i, f := range v {
			d[i] = castF64ToF16(f)
		}
	case tensor.BFloat16:
		d := tensor.View[uint16](out)
		for i, f := range v {
			d[i] = tensor.F32ToBF16(float32(f))
		}
	case tensor.Float8E8M0:
		d := out.U8()
		for i, f := range v {
			d[i] = tensor.F32ToE8M0(float32(f), o.saturate, o.e8m0Mode)
		}
	case tensor.Float8E4M3FN, tensor.Float8E4M3FNUZ, tensor.Float8E5M2, tensor.Float8E5M2FNUZ, tensor.Float4E2M1:
		d := out.U8()
		for i, f := range v {
			d[i] = tensor.F64ToSmallFloat(dt, f, o.saturate)
		}
	case tensor.Bool:
		d := out.U8()
		for i, f := range v {
			if f != 0 {
				d[i] = 1
			}
		}
	case tensor.Int64:
		d := out.I64()
		for i, f := range v {
			d[i] = castF2I64(f)
		}
	case tensor.Uint64:
		d := tensor.View[uint64](out)
		for i, f := range v {
			d[i] = castF2U64(f)
		}
	case tensor.Uint32:
		d := tensor.View[uint32](out)
		for i, f := range v {
			d[i] = uint32(castF2I64(f))
		}
	case tensor.Int32:
		d := out.I32()
		for i, f := range v {
			d[i] = castF2I32(f)
		}
	default: // int8/uint8/int16/uint16 and sub-byte ints: via int32, then wrap
		w := make([]int64, len(v))
		for i, f := range v {
			w[i] = int64(castF2I32(f))
		}
		castStoreInt(out, w, false, o)
	}
}

// castStoreInt writes integer values into out, converting to out's dtype.
// unsigned says the values are uint64 bits.
func castStoreInt(out *tensor.Tensor, v []int64, unsigned bool, o castOpts) {
	dt := out.DType()
	if dt.IsFloat() {
		f := make([]float64, len(v))
		for i, k := range v {
			if unsigned {
				f[i] = float64(uint64(k))
			} else {
				f[i] = float64(k)
			}
		}
		if dt == tensor.Float { // round once from the integer
			d := out.F32()
			for i, k := range v {
				if unsigned {
					d[i] = float32(uint64(k))
				} else {
					d[i] = float32(k)
				}
			}
			return
		}
		castStoreFloat(out, f, o)
		return
	}
	switch dt {
	case tensor.Bool:
		d := out.U8()
		for i, k := range v {
			if k != 0 {
				d[i] = 1
			}
		}
	case tensor.Int64:
		copy(out.I64(), v)
	case tensor.Uint64:
		d := tensor.View[uint64](out)
		for i, k := range v {
			d[i] = uint64(k)
		}
	case tensor.Int32:
		d := out.I32()
		for i, k := range v {
			d[i] = int32(k)
		}
	case tensor.Uint32:
		d := tensor.View[uint32](out)
		for i, k := range v {
			d[i] = uint32(k)
		}
	case tensor.Int16:
		d := tensor.View[int16](out)
		for i, k := range v {
			d[i] = int16(k)
		}
	case tensor.Uint16:
		d := tensor.View[uint16](out)
		for i, k := range v {
			d[i] = uint16(k)
		}
	case tensor.Int8, tensor.Uint8:
		d := out.U8()
		for i, k := range v {
			d[i] = uint8(k)
		}
	case tensor.Int4, tensor.Uint4, tensor.Int2, tensor.Uint2:
		d := out.U8()
		for i, k := range v {
			d[i] = castWrapSub(dt, k)
		}
	}
}

// castWrapSub wraps k to a 4- or 2-bit integer stored unpacked in one byte
// (signed types sign-extended).
func castWrapSub(dt tensor.DType, k int64) uint8 {
	switch dt {
	case tensor.Int4:
		return uint8(int8(((k & 0xf) ^ 8) - 8))
	case tensor.Uint4:
		return uint8(k & 0xf)
	case tensor.Int2:
		return uint8(int8(((k & 3) ^ 2) - 2))
	case tensor.Uint2:
		return uint8(k & 3)
	}
	return uint8(k)
}

// castF2I64 truncates toward zero; NaN and out-of-range give MinInt64 (x86).
func castF2I64(f float64) int64 {
	if f != f || f >= 1<<63 || f < -(1<<63) {
		return math.MinInt64
	}
	return int64(f)
}

// castF2I32 truncates toward zero; NaN and out-of-range give MinInt32 (x86).
func castF2I32(f float64) int32 {
	if f != f || f >= 1<<31 || f <= -(1<<31)-1 {
		return math.MinInt32
	}
	return int32(f)
}

// castF2U64 truncates toward zero; negatives wrap, NaN and values ≥ 2^64 give
// 2^63 (x86).
func castF2U64(f float64) uint64 {
	switch {
	case f != f || f >= 1<<64 || f < -(1<<63):
		return 1 << 63
	case f >= 1<<63:
		return uint64(f)
	}
	return uint64(int64(f))
}

// castF64ToF16 rounds a float64 to float16 once (numpy's double → half).
func castF64ToF16(f float64) uint16 {
	if f32 := float32(f); float64(f32) == f || f != f {
		return tensor.F32ToF16(f32)
	}
	a := math.Abs(f)
	if a >= 65520 { // rounds past the largest half (65504)
		return tensor.F32ToF16(float32(math.Copysign(math.Inf(1), f)))
	}
	_, e2 := math.Frexp(a)
	exp := e2 - 1
	if exp < -14 {
		exp = -14
	}
	q := math.Ldexp(1, exp-10)
	r := math.RoundToEven(a/q) * q
	return tensor.F32ToF16(float32(math.Copysign(r, f)))
}

// castFormatFloat prints f (a value of dtype src) like numpy's str(): the
// shortest digits that round-trip in src, positional for 1e-4 ≤ |f| < 1e16
// (with ".0" for integral values), scientific otherwise ("1e-05", "1.5e+20").
func castFormatFloat(f float64, src tensor.DType) string {
	switch {
	case f != f:
		return "NaN"
	case math.IsInf(f, 1):
		return "INF"
	case math.IsInf(f, -1):
		return "-INF"
	}
	var s string // scientific "d.ddde±x" with shortest digits
	switch src {
	case tensor.Double:
		s = strconv.FormatFloat(f, 'e', -1, 64)
	case tensor.Float:
		s = strconv.FormatFloat(f, 'e', -1, 32)
	default:
		// Narrow types: fewest digits that map back to the same value.
		for p := 0; p < 17; p++ {
			s = strconv.FormatFloat(f, 'e', p, 64)
			if g, err := strconv.ParseFloat(s, 64); err == nil && castRoundTrip(g, src) == f {
				break
			}
		}
	}
	mant, expS, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expS)
	neg := strings.HasPrefix(mant, "-")
	mant = strings.TrimPrefix(mant, "-")
	digits := strings.Replace(mant, ".", "", 1)
	digits = strings.TrimRight(digits, "0")
	if digits == "" {
		digits = "0"
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	if f == 0 || (exp >= -4 && exp < 16) {
		if f == 0 {
			b.WriteString("0.0")
			return b.String()
		}
		if exp < 0 {
			b.WriteString("0.")
			b.WriteString(strings.Repeat("0", -exp-1))
			b.WriteString(digits)
			return b.String()
		}
		if len(digits) <= exp+1 {
			b.WriteString(digits)
			b.WriteString(strings.Repeat("0", exp+1-len(digits)))
			b.WriteString(".0")
			return b.String()
		}
		b.WriteString(digits[:exp+1])
		b.WriteByte('.')
		b.WriteString(digits[exp+1:])
		return b.String()
	}
	b.WriteByte(digits[0])
	if len(digits) > 1 {
		b.WriteByte('.')
		b.WriteString(digits[1:])
	}
	b.WriteByte('e')
	if exp < 0 {
		b.WriteByte('-')
		exp = -exp
	} else {
		b.WriteByte('+')
	}
	if exp < 10 {
		b.WriteByte('0')
	}
	b.WriteString(strconv.Itoa(exp))
	return b.String()
}

// castRoundTrip rounds g to dtype dt and back to float64.
func castRoundTrip(g float64, dt tensor.DType) float64 {
	switch dt {
	case tensor.Float16:
		return float64(tensor.F16ToF32(castF64ToF16(g)))
	case tensor.BFloat16:
		return float64(tensor.BF16ToF32(tensor.F32ToBF16(float32(g))))
	case tensor.Float8E8M0:
		return float64(tensor.SmallFloatToF32(dt, tensor.F32ToE8M0(float32(g), true, tensor.E8M0RoundNearest)))
	}
	return float64(tensor.SmallFloatToF32(dt, tensor.F64ToSmallFloat(dt, g, true)))
}

// castFromStrings parses every string of s into out.
func castFromStrings(s []string, out *tensor.Tensor, o castOpts) error {
	dt := out.DType()
	switch {
	case dt.IsFloat():
		v := make([]float64, len(s))
		for i, str := range s {
			f, err := castParseFloat(str)
			if err != nil {
				return err
			}
			v[i] = f
		}
		castStoreFloat(out, v, o)
	case dt == tensor.Bool:
		d := out.U8()
		for i, str := range s {
			t := strings.TrimSpace(str)
			if b, err := strconv.ParseBool(t); err == nil {
				if b {
					d[i] = 1
				}
				continue
			}
			f, err := castParseFloat(t)
			if err != nil {
				return err
			}
			if f != 0 {
				d[i] = 1
			}
		}
	default: // integers
		v := make([]int64, len(s))
		for i, str := range s {
			t := strings.TrimSpace(str)
			if k, err := strconv.ParseInt(t, 10, 64); err == nil {
				v[i] = k
				continue
			}
			if k, err := strconv.ParseUint(t, 10, 64); err == nil {
				v[i] = int64(k)
				continue
			}
			f, err := castParseFloat(t)
			if err != nil {
				return err
			}
			if dt == tensor.Uint64 {
				v[i] = int64(castF2U64(f))
			} else {
				v[i] = castF2I64(f)
			}
		}
		castStoreInt(out, v, false, o)
	}
	return nil
}

// castParseFloat parses plain or scientific notation and NaN/INF spellings
// (case-insensitive, optional sign).
func castParseFloat(s string) (float64, error) {
	t := strings.TrimSpace(s)
	f, err := strconv.ParseFloat(t, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, nil // ±Inf or 0 on overflow/underflow
		}
		return 0, errf("Cast: cannot parse %q as a number", s)
	}
	return f, nil
}
