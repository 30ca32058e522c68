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
	sumSq:      sumSqGeneric,
	sumSqH:     sumSqHGeneric,
	colSumSq:   colSumSqGeneric,
	colSumSqH:  colSumSqHGeneric,
	affine:     affineGeneric,
	affineH:    affineHGeneric,
	normVec:    normVecGeneric,
	normVecH:   normVecHGeneric,
	affineVec:  affineVecGeneric,
	affineVecH: affineVecHGeneric,
	max:        maxGeneric,
	expSum:     expSumGeneric,
	exp:        expGeneric,
	erf:        erfGeneric,
	tanh:       tanhGeneric,
	sigmoid:    sigmoidGeneric,
	silu:       siluGeneric,
	gelu:       geluGeneric,
	f2h:        f2hGeneric,
}

// sumSqGeneric returns s = Σ(x[i]-piv) and q = Σ(x[i]-piv)² in float64.
func sumSqGeneric(x []float32, piv float32) (s, q float64) {
	p := float64(piv)
	for _, v := range x {
		d := float64(v) - p
		s += d
		q += d * d
	}
	return s, q
}

// sumSqHGeneric is sumSqGeneric for float16 data.
func sumSqHGeneric(x []uint16, piv float32) (s, q float64) {
	p := float64(piv)
	for _, v := range x {
		d := float64(nnH2F(v)) - p
		s += d
		q += d * d
	}
	return s, q
}

// colSumSqGeneric adds, for every column j < cols of the rows x rows matrix x
// (row stride ld), Σ_r (x[r][j]-piv[j]) to s[j] and Σ_r (x[r][j]-piv[j])² to
// q[j], in float64.
func colSumSqGeneric(x []float32, rows, cols, ld int, piv []float32, s, q []float64) {
	for r := 0; r < rows; r++ {
		row := x[r*ld : r*ld+cols]
		for j, v := range row {
			d := float64(v) - float64(piv[j])
			s[j] += d
			q[j] += d * d
		}
	}
}

// colSumSqHGeneric is colSumSqGeneric for float16 data.
func colSumSqHGeneric(x []uint16, rows, cols, ld int, piv []float32, s, q []float64) {
	for r := 0; r < rows; r++ {
		row := x[r*ld : r*ld+cols]
		for j, v := range row {
			d := float64(nnH2F(v)) - float64(piv[j])
			s[j] += d
			q[j] += d * d
		}
	}
}

// affineGeneric writes y = (x-m)·a + b, then y·sigmoid(y) when silu.
func affineGeneric(dst, src []float32, m, a, b float32, silu bool) {
	dst = dst[:len(src)]
	for i, v := range src {
		y := (v-m)*a + b
		if silu {
			y = nkSiLU32(y)
		}
		dst[i] = y
	}
}

// affineHGeneric is affineGeneric for float16 data (computed in float32,
// rounded once).
func affineHGeneric(dst, src []uint16, m, a, b float32, silu bool) {
	dst = dst[:len(src)]
	for i, v := range src {
		y := (nnH2F(v)-m)*a + b
		if silu {
			y = nkSiLU32(y)
		}
		dst[i] = uint16(float16.Fromfloat32(y))
	}
}

// normVecGeneric writes y = ((x-m)·s + c)·g[i] + b[i], then y·sigmoid(y)
// when silu.
func normVecGeneric(dst, src []float32, m, s, c float32, g, b []float32, silu bool) {
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

// normVecHGeneric is normVecGeneric for float16 data.
func normVecHGeneric(dst, src []uint16, m, s, c float32, g, b []float32, silu bool) {
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

// affineVecGeneric writes y = (x-m[i])·a[i] + b[i], then y·sigmoid(y) when
// silu.
func affineVecGeneric(dst, src []float32, m, a, b []float32, silu bool) {
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

// affineVecHGeneric is affineVecGeneric for float16 data.
func affineVecHGeneric(dst, src []uint16, m, a, b []float32, silu bool) {
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

// maxGeneric returns the largest element of x (NaN if x holds a NaN, -Inf
// for an empty x).
func maxGeneric(x []float32) float32 {
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

// expSumGeneric writes dst[i] = exp(src[i]-m) and returns the sum of the
// written values.
func expSumGeneric(dst, src []float32, m float32) float64 {
	dst = dst[:len(src)]
	var s float64
	for i, v := range src {
		e := Exp32(v - m)
		dst[i] = e
		s += float64(e)
	}
	return s
}
