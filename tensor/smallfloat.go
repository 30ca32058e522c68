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
func F32ToSmallFloat(dt DType, f float32, saturate bool) uint8 {
	switch dt {
	case Float8E4M3FN:
		return encodeMini(f, 4, 3, 7, 448, saturate, 0x7f, 0xff, false, false)
	case Float8E4M3FNUZ:
		return encodeMini(f, 4, 3, 8, 240, saturate, 0x80, 0x80, true, false)
	case Float8E5M2:
		return encodeMini(f, 5, 2, 15, 57344, saturate, 0x7f, 0x7c, false, true)
	case Float8E5M2FNUZ:
		return encodeMini(f, 5, 2, 16, 57344, saturate, 0x80, 0x80, true, false)
	case Float4E2M1:
		return encodeMini(f, 2, 1, 1, 6, true, 0x7, 0x7, false, false) & 0x0f
	case Float8E8M0:
		return encodeE8M0(f, saturate)
	}
	return 0
}

// encodeMini does the general rounding. nanCode: NaN bits; ovf: code for
// overflow without saturation (Inf for E5M2, NaN otherwise); uz: no negative
// zero (FNUZ types map -0 to +0); hasInf: the format has infinities.
func encodeMini(f float32, ebits, mbits, bias int, maxVal float64, saturate bool, nanCode, ovf uint8, uz, hasInf bool) uint8 {
	total := 1 + ebits + mbits
	signBit := uint8(1) << (total - 1)
	if f != f {
		return nanCode
	}
	var sign uint8
	x := float64(f)
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

func encodeE8M0(f float32, saturate bool) uint8 {
	x := float64(f)
	if x != x || x <= 0 && !saturate {
		return 0xff
	}
	if math.IsInf(x, 1) {
		if saturate {
			return 0xfe
		}
		return 0xff
	}
	if x <= 0 {
		return 0
	}
	// round up to the nearest power of two ("round up" is the ONNX default mode)
	fr, e2 := math.Frexp(x)
	e := e2 - 1
	if fr > 0.5 {
		e++
	}
	c := e + 127
	if c < 0 {
		c = 0
	}
	if c > 254 {
		if saturate {
			c = 254
		} else {
			return 0xff
		}
	}
	return uint8(c)
}
