package kernels

import "math"

// Scalar float32 elementary functions shared by the activation, softmax and
// attention kernels. Each is checked against math's float64 functions in
// math32_test.go.

// Exp32 is a float32 exp accurate to about 1 ulp (Cephes expf: range
// reduction by ln2 and a degree-6 polynomial).
func Exp32(x float32) float32 {
	const (
		hi    = 88.72283935546875 // above: +Inf
		lo    = -87.33654         // below: result is subnormal
		log2e = 1.44269504088896341
		c1    = 0.693359375
		c2    = -2.12194440e-4
	)
	if !(x <= hi) {
		if x != x {
			return x
		}
		return float32(math.Inf(1))
	}
	if x < lo {
		if x < -104 {
			return 0
		}
		return float32(math.Exp(float64(x)))
	}
	fx := x*log2e + 0.5
	n := int32(fx)
	if float32(n) > fx {
		n--
	}
	fn := float32(n)
	r := x - fn*c1
	r -= fn * c2
	z := r * r
	y := float32(1.9875691500e-4)
	y = y*r + 1.3981999507e-3
	y = y*r + 8.3334519073e-3
	y = y*r + 4.1665795894e-2
	y = y*r + 1.6666665459e-1
	y = y*r + 5.0000001201e-1
	y = y*z + r + 1
	// 2^n: n is in [-126, 128]; split so that the exponent stays normal.
	if n > 127 {
		return y * 2 * math.Float32frombits(uint32(n-1+127)<<23)
	}
	return y * math.Float32frombits(uint32(n+127)<<23)
}

// Tanh32 is a float32 tanh: the odd 13/6 rational minimax approximation
// used by Eigen and MLAS, clamped where tanh rounds to ±1.
func Tanh32(x float32) float32 {
	const lim = 7.90531110763549805
	if x > lim {
		return 1
	}
	if x < -lim {
		return -1
	}
	if x != x {
		return x
	}
	x2 := x * x
	p := float32(-2.76076847742355e-16)
	p = p*x2 + 2.00018790482477e-13
	p = p*x2 + -8.60467152213735e-11
	p = p*x2 + 5.12229709037114e-08
	p = p*x2 + 1.48572235717979e-05
	p = p*x2 + 6.37261928875436e-04
	p = p*x2 + 4.89352455891786e-03
	q := float32(1.19825839466702e-06)
	q = q*x2 + 1.18534705686654e-04
	q = q*x2 + 2.26843463243900e-03
	q = q*x2 + 4.89352518554385e-03
	return x * p / q
}

// Erf32 is a float32 erf: the odd 13/12 rational approximation used by
// Eigen, XLA and MLAS on [-4, 4] (erf rounds to ±1 beyond). Its error against
// math.Erf is below 4.3e-7 relative over the float32 range.
func Erf32(x float32) float32 {
	if x > 4 {
		return 1
	}
	if x < -4 {
		return -1
	}
	if x != x {
		return x
	}
	x2 := x * x
	p := float32(-2.72614225801306e-10)
	p = p*x2 + 2.77068142495902e-08
	p = p*x2 + -2.10102402082508e-06
	p = p*x2 + -5.69250639462346e-05
	p = p*x2 + -7.34990630326855e-04
	p = p*x2 + -2.95459980854025e-03
	p = p*x2 + -1.60960333262415e-02
	q := float32(-1.45660718464996e-05)
	q = q*x2 + -2.13374055278905e-04
	q = q*x2 + -1.68282697438203e-03
	q = q*x2 + -7.37332916720468e-03
	q = q*x2 + -1.42647390514189e-02
	return x * p / q
}
