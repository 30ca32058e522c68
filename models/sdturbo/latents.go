package sdturbo

import "math"

// Sigma is SD-Turbo's initial noise level (the scheduler's sigma at timestep 999).
const Sigma = 14.6146

// Mulberry32 is the seeded generator of the browser library web-txt2img
// (mulberry32, uint32 state). Next returns a uniform float64 in [0, 1).
type Mulberry32 struct{ t uint32 }

// NewMulberry32 seeds the generator (state = seed mod 2^32, as JS's seed>>>0).
func NewMulberry32(seed uint32) *Mulberry32 { return &Mulberry32{t: seed} }

// Next advances the state and returns the next draw.
func (m *Mulberry32) Next() float64 {
	m.t += 0x6D2B79F5
	t := m.t
	r := (t ^ t>>15) * (1 | t)
	r ^= r + (r^r>>7)*(61|r)
	return float64(r^r>>14) / 4294967296
}

// Latents fills dst with the browser library's seeded initial latents:
// for each element, u then v from mulberry32(seed), z = sqrt(−2·ln u)·cos(2π·v)
// in float64 (V8's fdlibm log and cos, reproduced bit for bit), times Sigma,
// stored as float32.
func Latents(dst []float32, seed uint32) {
	g := NewMulberry32(seed)
	for i := range dst {
		u := g.Next()
		v := g.Next()
		z := math.Sqrt(-2*fdlibmLog(u)) * fdlibmCos(2*math.Pi*v)
		dst[i] = float32(z * Sigma)
	}
}

// fdlibmLog is fdlibm 5.3's __ieee754_log, the algorithm behind V8's Math.log.
// Go's math.Log uses other code on amd64 and can differ in the last bit.
func fdlibmLog(x float64) float64 {
	const (
		ln2Hi = 6.93147180369123816490e-01
		ln2Lo = 1.90821492927058770002e-10
		two54 = 1.80143985094819840000e+16
		lg1   = 6.666666666666735130e-01
		lg2   = 3.999999999940941908e-01
		lg3   = 2.857142874366239149e-01
		lg4   = 2.222219843214978396e-01
		lg5   = 1.818357216161805012e-01
		lg6   = 1.531383769920937332e-01
		lg7   = 1.479819860511658591e-01
	)
	bits := math.Float64bits(x)
	hx := int32(bits >> 32)
	lx := uint32(bits)
	k := int32(0)
	if hx < 0x00100000 { // x < 2^-1022
		if (hx&0x7fffffff)|int32(lx) == 0 {
			return math.Inf(-1)
		}
		if hx < 0 {
			return math.NaN()
		}
		k -= 54
		x *= two54
		hx = int32(math.Float64bits(x) >> 32)
	}
	if hx >= 0x7ff00000 {
		return x + x
	}
	k += hx>>20 - 1023
	hx &= 0x000fffff
	i := (hx + 0x95f64) & 0x100000
	x = math.Float64frombits(uint64(uint32(hx|(i^0x3ff00000)))<<32 | math.Float64bits(x)&0xffffffff)
	k += i >> 20
	f := x - 1.0
	if 0x000fffff&(2+hx) < 3 { // |f| < 2^-20
		if f == 0 {
			if k == 0 {
				return 0
			}
			dk := float64(k)
			return dk*ln2Hi + dk*ln2Lo
		}
		r := f * f * (0.5 - 0.33333333333333333*f)
		if k == 0 {
			return f - r
		}
		dk := float64(k)
		return dk*ln2Hi - ((r - dk*ln2Lo) - f)
	}
	s := f / (2.0 + f)
	dk := float64(k)
	z := s * s
	i = hx - 0x6147a
	w := z * z
	j := 0x6b851 - hx
	t1 := w * (lg2 + w*(lg4+w*lg6))
	t2 := z * (lg1 + w*(lg3+w*(lg5+w*lg7)))
	i |= j
	r := t2 + t1
	if i > 0 {
		hfsq := 0.5 * f * f
		if k == 0 {
			return f - (hfsq - s*(hfsq+r))
		}
		return dk*ln2Hi - ((hfsq - (s*(hfsq+r) + dk*ln2Lo)) - f)
	}
	if k == 0 {
		return f - s*(f-r)
	}
	return dk*ln2Hi - ((s*(f-r) - dk*ln2Lo) - f)
}

// fdlibmCos is fdlibm 5.3's cos (as in V8's ieee754::cos) for finite |x| below
// 2^19·π/2 (the medium range of __ieee754_rem_pio2), which covers 2π·v, v ∈ [0,1).
// Larger arguments fall back to math.Cos.
func fdlibmCos(x float64) float64 {
	ix := int32(math.Float64bits(x)>>32) & 0x7fffffff
	if ix <= 0x3fe921fb {
		return kernelCos(x, 0)
	}
	if ix >= 0x7ff00000 {
		return x - x
	}
	if ix > 0x413921fb {
		return math.Cos(x)
	}
	n, y0, y1 := remPio2(x)
	switch n & 3 {
	case 0:
		return kernelCos(y0, y1)
	case 1:
		return -kernelSin(y0, y1)
	case 2:
		return -kernelCos(y0, y1)
	}
	return kernelSin(y0, y1)
}

func kernelCos(x, y float64) float64 {
	const (
		c1 = 4.16666666666666019037e-02
		c2 = -1.38888888888741095749e-03
		c3 = 2.48015872894767294178e-05
		c4 = -2.75573143513906633035e-07
		c5 = 2.08757232129817482790e-09
		c6 = -1.13596475577881948265e-11
	)
	ix := int32(math.Float64bits(x)>>32) & 0x7fffffff
	if ix < 0x3e400000 && int(x) == 0 {
		return 1
	}
	z := x * x
	r := z * (c1 + z*(c2+z*(c3+z*(c4+z*(c5+z*c6)))))
	if ix < 0x3fd33333 {
		return 1 - (0.5*z - (z*r - x*y))
	}
	var qx float64
	if ix > 0x3fe90000 {
		qx = 0.28125
	} else {
		qx = math.Float64frombits(uint64(uint32(ix-0x00200000)) << 32)
	}
	iz := 0.5*z - qx
	a := 1 - qx
	return a - (iz - (z*r - x*y))
}

func kernelSin(x, y float64) float64 {
	const (
		s1 = -1.66666666666666324348e-01
		s2 = 8.33333333332248946124e-03
		s3 = -1.98412698298579493134e-04
		s4 = 2.75573137070700676789e-06
		s5 = -2.50507602534068634195e-08
		s6 = 1.58969099521155010221e-10
	)
	ix := int32(math.Float64bits(x)>>32) & 0x7fffffff
	if ix < 0x3e400000 && int(x) == 0 {
		return x
	}
	z := x * x
	v := z * x
	r := s2 + z*(s3+z*(s4+z*(s5+z*s6)))
	return x - ((z*(0.5*y-v*r) - y) - v*s1)
}

var npio2hw = [32]int32{
	0x3FF921FB, 0x400921FB, 0x4012D97C, 0x401921FB, 0x401F6A7A, 0x4022D97C,
	0x4025FDBB, 0x402921FB, 0x402C463A, 0x402F6A7A, 0x4031475C, 0x4032D97C,
	0x40346B9C, 0x4035FDBB, 0x40378FDB, 0x403921FB, 0x403AB41B, 0x403C463A,
	0x403DD85A, 0x403F6A7A, 0x40407E4C, 0x4041475C, 0x4042106C, 0x4042D97C,
	0x4043A28C, 0x40446B9C, 0x404534AC, 0x4045FDBB, 0x4046C6CB, 0x40478FDB,
	0x404858EB, 0x404921FB,
}

// remPio2 is the small and medium range of fdlibm's __ieee754_rem_pio2:
// x = n·π/2 + (y0 + y1).
func remPio2(x float64) (n int32, y0, y1 float64) {
	const (
		invpio2 = 6.36619772367581382433e-01
		pio2_1  = 1.57079632673412561417e+00
		pio2_1t = 6.07710050650619224932e-11
		pio2_2  = 6.07710050630396597660e-11
		pio2_2t = 2.02226624879595063154e-21
		pio2_3  = 2.02226624871116645580e-21
		pio2_3t = 8.47842766036889956997e-32
	)
	hx := int32(math.Float64bits(x) >> 32)
	ix := hx & 0x7fffffff
	if ix <= 0x3fe921fb {
		return 0, x, 0
	}
	if ix < 0x4002d97c { // |x| < 3π/4
		if hx > 0 {
			z := x - pio2_1
			if ix != 0x3ff921fb {
				y0 = z - pio2_1t
				y1 = (z - y0) - pio2_1t
			} else {
				z -= pio2_2
				y0 = z - pio2_2t
				y1 = (z - y0) - pio2_2t
			}
			return 1, y0, y1
		}
		z := x + pio2_1
		if ix != 0x3ff921fb {
			y0 = z + pio2_1t
			y1 = (z - y0) + pio2_1t
		} else {
			z += pio2_2
			y0 = z + pio2_2t
			y1 = (z - y0) + pio2_2t
		}
		return -1, y0, y1
	}
	t := math.Abs(x)
	n = int32(t*invpio2 + 0.5)
	fn := float64(n)
	r := t - fn*pio2_1
	w := fn * pio2_1t
	if n < 32 && ix != npio2hw[n-1] {
		y0 = r - w
	} else {
		j := ix >> 20
		y0 = r - w
		high := int32(math.Float64bits(y0) >> 32)
		i := j - (high>>20)&0x7ff
		if i > 16 {
			t = r
			w = fn * pio2_2
			r = t - w
			w = fn*pio2_2t - ((t - r) - w)
			y0 = r - w
			high = int32(math.Float64bits(y0) >> 32)
			i = j - (high>>20)&0x7ff
			if i > 49 {
				t = r
				w = fn * pio2_3
				r = t - w
				w = fn*pio2_3t - ((t - r) - w)
				y0 = r - w
			}
		}
	}
	y1 = (r - y0) - w
	if hx < 0 {
		return -n, -y0, -y1
	}
	return n, y0, y1
}
