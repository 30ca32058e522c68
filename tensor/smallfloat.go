package tensor

import "math"

// SmallFloatToF32 decodes one float8 (E4M3FN, E4M3FNUZ, E5M2, E5M2FNUZ, E8M0)
// or float4 (E2M1, low nibble) value.
func SmallFloatToF32(dt DType, b uint8) float32 {
	switch dt {
	case Float8E4M3FN:
		if b&0x7f == 0x7f {
			return float32(math.NaN())
		}
		return decodeMini(b, 4, 3, 7, false)
	case Float8E4M3FNUZ:
		if b == 0x80 {
			return float32(math.NaN())
		}
		return decodeMini(b, 4, 3, 8, false)
	case Float8E5M2:
		e := (b >> 2) & 0x1f
		if e == 0x1f {
			if b&3 != 0 {
				return float32(math.NaN())
			}
			if b&0x80 != 0 {
				return float32(math.Inf(-1))
			}
			return float32(math.Inf(1))
		}
		return decodeMini(b, 5, 2, 15, false)
	case Float8E5M2FNUZ:
		if b == 0x80 {
			return float32(math.NaN())
		}
		return decodeMini(b, 5, 2, 16, false)
	case Float8E8M0:
		if b == 0xff {
			return float32(math.NaN())
		}
		return float32(math.Ldexp(1, int(b)-127))
	case Float4E2M1:
		b &= 0x0f
		return decodeMini(b<<4, 2, 1, 1, true)
	}
	return float32(math.NaN())
}

// decodeMini decodes a sign/exponent/mantissa value whose sign is bit 7 and
// whose exponent and mantissa follow. If nibble, the value is in bits 7..4 of b
// with sign at bit 7.
func decodeMini(b uint8, ebits, mbits, bias int, nibble bool) float32 {
	sign := b & 0x80
	var e, m int
	if nibble {
		e = int(b>>5) & 3
		m = int(b>>4) & 1
	} else {
		e = int(b>>mbits) & (1<<ebits - 1)
		m = int(b) & (1<<mbits - 1)
	}
	var v float64
	if e == 0 {
		v = math.Ldexp(float64(m), 1-bias-mbits)
	} else {
		v = math.Ldexp(float64(m|1<<mbits), e-bias-mbits)
	}
	if sign != 0 {
		v = -v
	}
	return float32(v)
}

// F32ToSmallFloat encodes f as a float8/float4 value with round-to-nearest-even.
// With saturate, out-of-range finite values clamp to the largest finite value
// (ONNX Cast's default); otherwise they become Inf (E5M2) or NaN.
// Float4E2M1 always saturates and maps NaN to a zero with NaN's sign bit (as
// the ONNX reference does); Float8E8M0 rounds up (ONNX Cast's default
// round_mode), see F32ToE8M0.
func F32ToSmallFloat(dt DType, f float32, saturate bool) uint8 {
	if dt == Float8E8M0 {
		return F32ToE8M0(f, saturate, E8M0RoundUp)
	}
	return F64ToSmallFloat(dt, float64(f), saturate)
}

// F64ToSmallFloat is F32ToSmallFloat for a float64 input, rounded once
// (no double rounding through float32). Float8E8M0 goes through float32, as
// the ONNX reference does.
func F64ToSmallFloat(dt DType, x float64, saturate bool) uint8 {
	switch dt {
	case Float8E4M3FN:
		return encodeMini(x, 4, 3, 7, 448, saturate, 0x7f, 0xff, false, false)
	case Float8E4M3FNUZ:
		return encodeMini(x, 4, 3, 8, 240, saturate, 0x80, 0x80, true, false)
	case Float8E5M2:
		return encodeMini(x, 5, 2, 15, 57344, saturate, 0x7f, 0x7c, false, true)
	case Float8E5M2FNUZ:
		return encodeMini(x, 5, 2, 16, 57344, saturate, 0x80, 0x80, true, false)
	case Float4E2M1:
		if x != x {
			if math.Signbit(x) {
				return 0x8
			}
			return 0
		}
		return encodeMini(x, 2, 1, 1, 6, true, 0x7, 0x7, false, false) & 0x0f
	case Float8E8M0:
		return F32ToE8M0(float32(x), saturate, E8M0RoundUp)
	}
	return 0
}

// encodeMini does the general rounding. nanCode: NaN bits; ovf: code for
// overflow without saturation (Inf for E5M2, NaN otherwise); uz: no negative
// zero (FNUZ types map -0 to +0); hasInf: the format has infinities.
func encodeMini(x float64, ebits, mbits, bias int, maxVal float64, saturate bool, nanCode, ovf uint8, uz, hasInf bool) uint8 {
	total := 1 + ebits + mbits
	signBit := uint8(1) << (total - 1)
	if x != x {
		return nanCode
	}
	var sign uint8
	if x < 0 || (x == 0 && math.Signbit(x)) {
		sign = signBit
		x = -x
	}
	if math.IsInf(x, 0) {
		if saturate {
			return sign | maxCode(ebits, mbits, maxVal, bias)
		}
		if hasInf {
			return sign | ovf
		}
		return nanCode
	}
	// Round x to the grid: find exponent.
	minExp := 1 - bias     // exponent of smallest normal
	var q float64          // quantum
	_, e2 := math.Frexp(x) // x = fr * 2^e2, fr in [0.5,1)
	exp := e2 - 1
	if exp < minExp {
		exp = minExp
	}
	q = math.Ldexp(1, exp-mbits)
	r := math.RoundToEven(x/q) * q
	if r > maxVal {
		if saturate {
			return sign | maxCode(ebits, mbits, maxVal, bias)
		}
		if hasInf {
			return sign | ovf
		}
		return nanCode
	}
	if r == 0 {
		if uz {
			return 0
		}
		return sign
	}
	_, e2 = math.Frexp(r)
	exp = e2 - 1
	var code int
	if exp < minExp { // subnormal
		code = int(r / math.Ldexp(1, minExp-mbits))
	} else {
		m := int(r/math.Ldexp(1, exp-mbits)) - 1<<mbits
		code = (exp+bias)<<mbits | m
	}
	return sign | uint8(code)
}

func maxCode(ebits, mbits int, maxVal float64, bias int) uint8 {
	_, e2 := math.Frexp(maxVal)
	exp := e2 - 1
	m := int(maxVal/math.Ldexp(1, exp-mbits)) - 1<<mbits
	return uint8((exp+bias)<<mbits | m)
}

// Rounding modes of F32ToE8M0 (ONNX Cast's round_mode attribute).
const (
	E8M0RoundUp      = 0 // "up" (default): any fraction rounds the exponent up
	E8M0RoundDown    = 1 // "down": truncate to the power of two below
	E8M0RoundNearest = 2 // "nearest"
)

// F32ToE8M0 encodes f as float8e8m0 (an unsigned power of two) exactly as
// the ONNX reference (onnx.numpy_helper.to_float8e8m0) does: the sign is
// ignored, NaN and Inf become 0xff, the float32 exponent field is kept and
// rounded according to mode from the mantissa bits. With saturate, rounding
// never goes past 0xfe; without it, it can reach 0xff (NaN).
func F32ToE8M0(f float32, saturate bool, mode int) uint8 {
	bits := math.Float32bits(f)
	e := (bits >> 23) & 0xff
	if e == 0xff {
		return 0xff
	}
	var up bool
	switch mode {
	case E8M0RoundUp:
		up = bits&0x7fffff != 0
	case E8M0RoundNearest:
		g := bits&0x400000 != 0
		r := bits&0x200000 != 0
		s := bits&0x1fffff != 0
		up = g && (r || s || e > 0)
	}
	if up && !(saturate && e == 0xfe) {
		e++
	}
	return uint8(e)
}
