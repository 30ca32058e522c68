package kernels

import (
	"math"

	"github.com/x448/float16"
)

// Pure-Go twins of the activation kernels (the oracle for the assembly
// versions, which evaluate the same formulas lane by lane with fused
// multiply-adds).

// nkErfcP and nkErfcR are the Cephes erfcf coefficients (highest degree
// first): erfc(z) = exp(-z²)·(1/z)·P(1/z²) for 1 <= z < 2, and with R for
// z >= 2 (relative error below 4e-6).
var (
	nkErfcP = [9]float32{
		2.326819970068386e-02, -1.387039388740657e-01, 3.687424674597105e-01,
		-5.824733027278666e-01, 6.210004621745983e-01, -4.944515323274145e-01,
		3.404879937665872e-01, -2.741127028184656e-01, 5.638259427386472e-01,
	}
	nkErfcR = [8]float32{
		-1.047766399936249e+01, 1.297719955372516e+01, -7.495518717768503e+00,
		2.921019019210786e+00, -1.015265279202700e+00, 4.218463358204948e-01,
		-2.820767439740514e-01, 5.641895067754075e-01,
	}
)

// nkGelu32 is the exact (erf) GELU, 0.5·x·(1+erf(x/√2)). Where
// 1+erf(x/√2) cancels (x/√2 < -1) it uses 0.5·x·erfc(-x/√2) with the Cephes
// erfc, so negative inputs keep their relative accuracy.
func nkGelu32(x float32) float32 {
	t := x * math.Sqrt2 / 2
	if t < -1 {
		z := -t
		e := Exp32(-(z * z))
		q := 1 / z
		y := q * q
		var p float32
		if z < 2 {
			p = nkPoly(y, nkErfcP[:])
		} else {
			p = nkPoly(y, nkErfcR[:])
		}
		return 0.5 * x * (e * q * p)
	}
	h := 0.5 * x
	return h*Erf32(t) + h
}

// nkPoly evaluates c[0]·y^(n-1) + … + c[n-1] by Horner's rule.
func nkPoly(y float32, c []float32) float32 {
	p := c[0]
	for _, v := range c[1:] {
		p = p*y + v
	}
	return p
}

// nkSiLU32 is x·sigmoid(x).
func nkSiLU32(x float32) float32 { return x * nkSigmoid32(x) }

// nkSigmoid32 is 1/(1+exp(-x)), evaluated with e = exp(-|x|) as 1/(1+e)
// for x >= 0 and e/(1+e) for x < 0, so that it never overflows and keeps
// its relative accuracy for negative x.
func nkSigmoid32(x float32) float32 {
	e := Exp32(-math.Float32frombits(math.Float32bits(x) &^ (1 << 31)))
	r := 1 / (1 + e)
	if x < 0 {
		return e * r
	}
	return r
}

func nkExpGeneric(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = Exp32(x)
	}
}

func nkErfGeneric(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = Erf32(x)
	}
}

func nkTanhGeneric(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = Tanh32(x)
	}
}

func nkSigmoidGeneric(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = nkSigmoid32(x)
	}
}

func nkSiluGeneric(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = nkSiLU32(x)
	}
}

func nkGeluGeneric(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = nkGelu32(x)
	}
}

// nkF2hGeneric narrows float32 to float16 bits, rounding to nearest even.
func nkF2hGeneric(dst []uint16, src []float32) {
	if len(dst) < len(src) {
		panic(errShortConv)
	}
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = uint16(float16.Fromfloat32(v))
	}
}
