package kernels

import (
	"math"

	"github.com/x448/float16"
)

// Pure-Go twins of the normalisation primitives (the oracle for the assembly
// versions). Every function processes its whole input; the assembly wrappers
// run the bulk in assembly and finish the tail with these.

// nkGeneric is the generic set's table of normalisation, softmax and
// activation primitives.
var nkGeneric = nkKernels{
	sumSq:      nkSumSqGeneric,
	sumSqH:     nkSumSqHGeneric,
	colSumSq:   nkColSumSqGeneric,
	colSumSqH:  nkColSumSqHGeneric,
	affine:     nkAffineGeneric,
	affineH:    nkAffineHGeneric,
	normVec:    nkNormVecGeneric,
	normVecH:   nkNormVecHGeneric,
	affineVec:  nkAffineVecGeneric,
	affineVecH: nkAffineVecHGeneric,
	max:        nkMaxGeneric,
	expSum:     nkExpSumGeneric,
	exp:        nkExpGeneric,
	erf:        nkErfGeneric,
	tanh:       nkTanhGeneric,
	sigmoid:    nkSigmoidGeneric,
	silu:       nkSiluGeneric,
	gelu:       nkGeluGeneric,
	f2h:        nkF2hGeneric,
}

// nkSumSqGeneric returns s = Σ(x[i]-piv) and q = Σ(x[i]-piv)² in float64.
func nkSumSqGeneric(x []float32, piv float32) (s, q float64) {
	p := float64(piv)
	for _, v := range x {
		d := float64(v) - p
		s += d
		q += d * d
	}
	return s, q
}

// nkSumSqHGeneric is nkSumSqGeneric for float16 data.
func nkSumSqHGeneric(x []uint16, piv float32) (s, q float64) {
	p := float64(piv)
	for _, v := range x {
		d := float64(nnH2F(v)) - p
		s += d
		q += d * d
	}
	return s, q
}

// nkColSumSqGeneric adds, for every column j < cols of the rows x rows matrix x
// (row stride ld), Σ_r (x[r][j]-piv[j]) to s[j] and Σ_r (x[r][j]-piv[j])² to
// q[j], in float64.
func nkColSumSqGeneric(x []float32, rows, cols, ld int, piv []float32, s, q []float64) {
	for r := 0; r < rows; r++ {
		row := x[r*ld : r*ld+cols]
		for j, v := range row {
			d := float64(v) - float64(piv[j])
			s[j] += d
			q[j] += d * d
		}
	}
}

// nkColSumSqHGeneric is nkColSumSqGeneric for float16 data.
func nkColSumSqHGeneric(x []uint16, rows, cols, ld int, piv []float32, s, q []float64) {
	for r := 0; r < rows; r++ {
		row := x[r*ld : r*ld+cols]
		for j, v := range row {
			d := float64(nnH2F(v)) - float64(piv[j])
			s[j] += d
			q[j] += d * d
		}
	}
}

// nkAffineGeneric writes y = (x-m)·a + b, then y·sigmoid(y) when silu.
func nkAffineGeneric(dst, src []float32, m, a, b float32, silu bool) {
	dst = dst[:len(src)]
	for i, v := range src {
		y := (v-m)*a + b
		if silu {
			y = nkSiLU32(y)
		}
		dst[i] = y
	}
}

// nkAffineHGeneric is nkAffineGeneric for float16 data (computed in float32,
// rounded once).
func nkAffineHGeneric(dst, src []uint16, m, a, b float32, silu bool) {
	dst = dst[:len(src)]
	for i, v := range src {
		y := (nnH2F(v)-m)*a + b
		if silu {
			y = nkSiLU32(y)
		}
		dst[i] = uint16(float16.Fromfloat32(y))
	}
}

// nkNormVecGeneric writes y = ((x-m)·s + c)·g[i] + b[i], then y·sigmoid(y)
// when silu.
func nkNormVecGeneric(dst, src []float32, m, s, c float32, g, b []float32, silu bool) {
	dst = dst[:len(src)]
	g, b = g[:len(src)], b[:len(src)]
	for i, v := range src {
		y := ((v-m)*s+c)*g[i] + b[i]
		if silu {
			y = nkSiLU32(y)
		}
		dst[i] = y
	}
}

// nkNormVecHGeneric is nkNormVecGeneric for float16 data.
func nkNormVecHGeneric(dst, src []uint16, m, s, c float32, g, b []float32, silu bool) {
	dst = dst[:len(src)]
	g, b = g[:len(src)], b[:len(src)]
	for i, v := range src {
		y := ((nnH2F(v)-m)*s+c)*g[i] + b[i]
		if silu {
			y = nkSiLU32(y)
		}
		dst[i] = uint16(float16.Fromfloat32(y))
	}
}

// nkAffineVecGeneric writes y = (x-m[i])·a[i] + b[i], then y·sigmoid(y) when
// silu.
func nkAffineVecGeneric(dst, src []float32, m, a, b []float32, silu bool) {
	dst = dst[:len(src)]
	m, a, b = m[:len(src)], a[:len(src)], b[:len(src)]
	for i, v := range src {
		y := (v-m[i])*a[i] + b[i]
		if silu {
			y = nkSiLU32(y)
		}
		dst[i] = y
	}
}

// nkAffineVecHGeneric is nkAffineVecGeneric for float16 data.
func nkAffineVecHGeneric(dst, src []uint16, m, a, b []float32, silu bool) {
	dst = dst[:len(src)]
	m, a, b = m[:len(src)], a[:len(src)], b[:len(src)]
	for i, v := range src {
		y := (nnH2F(v)-m[i])*a[i] + b[i]
		if silu {
			y = nkSiLU32(y)
		}
		dst[i] = uint16(float16.Fromfloat32(y))
	}
}

// nkMaxGeneric returns the largest element of x (NaN if x holds a NaN, -Inf
// for an empty x).
func nkMaxGeneric(x []float32) float32 {
	m := float32(math.Inf(-1))
	for _, v := range x {
		if v != v {
			return v
		}
		if v > m {
			m = v
		}
	}
	return m
}

// nkExpSumGeneric writes dst[i] = exp(src[i]-m) and returns the sum of the
// written values.
func nkExpSumGeneric(dst, src []float32, m float32) float64 {
	dst = dst[:len(src)]
	var s float64
	for i, v := range src {
		e := Exp32(v - m)
		dst[i] = e
		s += float64(e)
	}
	return s
}
