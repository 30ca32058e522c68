package tensor

import (
	"math"

	"github.com/x448/float16"
)

// F32ToBF16 rounds to nearest even (NaN stays NaN).
func F32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if f != f {
		return uint16(b>>16) | 0x40
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

// BF16ToF32 widens a bfloat16.
func BF16ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// F32ToF16 rounds to nearest even.
func F32ToF16(f float32) uint16 { return uint16(float16.Fromfloat32(f)) }

// F16ToF32 widens a float16.
func F16ToF32(h uint16) float32 { return float16.Frombits(h).Float32() }

// At returns element i converted to float64. Float8/float4 types use the
// Float8ToF32 family; strings return NaN.
func (t *Tensor) At(i int) float64 {
	i = t.phys(i)
	b := t.buf
	switch t.dtype {
	case Float:
		return float64(View[float32](t)[i])
	case Double:
		return View[float64](t)[i]
	case Float16:
		return float64(F16ToF32(View[uint16](t)[i]))
	case BFloat16:
		return float64(BF16ToF32(View[uint16](t)[i]))
	case Int8, Int4, Int2:
		return float64(int8(b[i]))
	case Uint8, Uint4, Uint2:
		return float64(b[i])
	case Bool:
		if b[i] != 0 {
			return 1
		}
		return 0
	case Int16:
		return float64(View[int16](t)[i])
	case Uint16:
		return float64(View[uint16](t)[i])
	case Int32:
		return float64(View[int32](t)[i])
	case Uint32:
		return float64(View[uint32](t)[i])
	case Int64:
		return float64(View[int64](t)[i])
	case Uint64:
		return float64(View[uint64](t)[i])
	case Float8E4M3FN, Float8E4M3FNUZ, Float8E5M2, Float8E5M2FNUZ, Float8E8M0, Float4E2M1:
		return float64(SmallFloatToF32(t.dtype, b[i]))
	}
	return math.NaN()
}

// Float64s converts every element to float64.
func (t *Tensor) Float64s() []float64 {
	if !t.Contiguous() {
		return t.Compact().Float64s()
	}
	n := t.Numel()
	out := make([]float64, n)
	switch t.dtype {
	case Float:
		for i, v := range View[float32](t) {
			out[i] = float64(v)
		}
	case Double:
		copy(out, View[float64](t))
	default:
		for i := range out {
			out[i] = t.At(i)
		}
	}
	return out
}

// Float32s converts every element to float32 (a copy, also for float32 input).
func (t *Tensor) Float32s() []float32 {
	if !t.Contiguous() {
		return t.Compact().Float32s()
	}
	n := t.Numel()
	out := make([]float32, n)
	switch t.dtype {
	case Float:
		copy(out, View[float32](t))
	case Float16:
		for i, h := range View[uint16](t) {
			out[i] = F16ToF32(h)
		}
	default:
		for i := range out {
			out[i] = float32(t.At(i))
		}
	}
	return out
}

// Int64s converts every element of an integer or bool tensor to int64 exactly
// (floats are truncated toward zero).
func (t *Tensor) Int64s() []int64 {
	if !t.Contiguous() {
		return t.Compact().Int64s()
	}
	n := t.Numel()
	out := make([]int64, n)
	b := t.buf
	switch t.dtype {
	case Int64:
		copy(out, View[int64](t))
	case Int32:
		for i, v := range View[int32](t) {
			out[i] = int64(v)
		}
	case Uint64:
		for i, v := range View[uint64](t) {
			out[i] = int64(v)
		}
	case Int8, Int4, Int2:
		for i := range out {
			out[i] = int64(int8(b[i]))
		}
	case Uint8, Uint4, Uint2, Bool:
		for i := range out {
			out[i] = int64(b[i])
		}
	default:
		for i := range out {
			out[i] = int64(t.At(i))
		}
	}
	return out
}

// Set stores v (float64) into element i with C-like conversion: floats round to
// nearest even, integers truncate toward zero and wrap, bool is v != 0.
func (t *Tensor) Set(i int, v float64) {
	i = t.phys(i)
	b := t.buf
	switch t.dtype {
	case Float:
		View[float32](t)[i] = float32(v)
	case Double:
		View[float64](t)[i] = v
	case Float16:
		View[uint16](t)[i] = F32ToF16(float32(v))
	case BFloat16:
		View[uint16](t)[i] = F32ToBF16(float32(v))
	case Bool:
		if v != 0 {
			b[i] = 1
		} else {
			b[i] = 0
		}
	case Int8, Int4, Int2:
		b[i] = uint8(int8(int64(v)))
	case Uint8, Uint4, Uint2:
		b[i] = uint8(int64(v))
	case Int16:
		View[int16](t)[i] = int16(int64(v))
	case Uint16:
		View[uint16](t)[i] = uint16(int64(v))
	case Int32:
		View[int32](t)[i] = int32(int64(v))
	case Uint32:
		View[uint32](t)[i] = uint32(int64(v))
	case Int64:
		View[int64](t)[i] = int64(v)
	case Uint64:
		if v >= 1<<63 {
			View[uint64](t)[i] = uint64(v)
		} else {
			View[uint64](t)[i] = uint64(int64(v))
		}
	case Float8E4M3FN, Float8E4M3FNUZ, Float8E5M2, Float8E5M2FNUZ, Float8E8M0, Float4E2M1:
		b[i] = F32ToSmallFloat(t.dtype, float32(v), true)
	}
}

// SetInt stores an exact integer into element i (wrapping to the dtype's width).
func (t *Tensor) SetInt(i int, v int64) {
	switch t.dtype {
	case Int64:
		View[int64](t)[t.phys(i)] = v
	case Uint64:
		View[uint64](t)[t.phys(i)] = uint64(v)
	default:
		if t.dtype.IsFloat() {
			t.Set(i, float64(v))
			return
		}
		t.Set(i, float64(v))
	}
}

// FromFloat64s builds a tensor of dtype dt from float64 values (see Set).
func FromFloat64s(dt DType, shape []int, v []float64) *Tensor {
	t := New(dt, shape...)
	if dt == Float {
		d := t.F32()
		for i, x := range v {
			d[i] = float32(x)
		}
		return t
	}
	for i, x := range v {
		t.Set(i, x)
	}
	return t
}

// FromInt64s builds an integer tensor of dtype dt from int64 values.
func FromInt64s(dt DType, shape []int, v []int64) *Tensor {
	t := New(dt, shape...)
	for i, x := range v {
		t.SetInt(i, x)
	}
	return t
}
