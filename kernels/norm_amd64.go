//go:build !noasm && !purego && gc

package kernels

// The amd64 tables of normalisation, softmax and activation primitives.
// Each wrapper runs whole vectors (or whole unrolled steps) in assembly and
// the remaining tail with the Go twin; assembly is called directly (not
// through function values) so that its pointer arguments do not escape.
var (
	nkAVX2   = nkTableAMD64(false)
	nkAVX512 = nkTableAMD64(true)
)

// nkTableAMD64 returns the AVX2 (z false) or AVX-512 table.
func nkTableAMD64(z bool) nkKernels {
	w := 8 // floats per vector
	if z {
		w = 16
	}
	return nkKernels{
		sumSq: func(x []float32, piv float32) (float64, float64) {
			n := len(x) &^ (2*w - 1)
			var out [2]float64
			if n > 0 {
				if z {
					nkSumSqF32AVX512(&x[0], n, piv, &out)
				} else {
					nkSumSqF32AVX2(&x[0], n, piv, &out)
				}
			}
			s, q := nkSumSqGeneric(x[n:], piv)
			return out[0] + s, out[1] + q
		},
		sumSqH: func(x []uint16, piv float32) (float64, float64) {
			n := len(x) &^ (2*w - 1)
			var out [2]float64
			if n > 0 {
				if z {
					nkSumSqF16AVX512(&x[0], n, piv, &out)
				} else {
					nkSumSqF16AVX2(&x[0], n, piv, &out)
				}
			}
			s, q := nkSumSqHGeneric(x[n:], piv)
			return out[0] + s, out[1] + q
		},
		colSumSq: func(x []float32, rows, cols, ld int, piv []float32, s, q []float64) {
			if rows <= 0 || cols <= 0 {
				return
			}
			_ = x[(rows-1)*ld+cols-1]
			piv, s, q = piv[:cols], s[:cols], q[:cols]
			n := cols &^ (w - 1)
			if n > 0 {
				if z {
					nkColSumSqF32AVX512(&x[0], rows, n, ld, &piv[0], &s[0], &q[0])
				} else {
					nkColSumSqF32AVX2(&x[0], rows, n, ld, &piv[0], &s[0], &q[0])
				}
			}
			if n < cols {
				nkColSumSqGeneric(x[n:], rows, cols-n, ld, piv[n:], s[n:], q[n:])
			}
		},
		colSumSqH: func(x []uint16, rows, cols, ld int, piv []float32, s, q []float64) {
			if rows <= 0 || cols <= 0 {
				return
			}
			_ = x[(rows-1)*ld+cols-1]
			piv, s, q = piv[:cols], s[:cols], q[:cols]
			n := cols &^ (w - 1)
			if n > 0 {
				if z {
					nkColSumSqF16AVX512(&x[0], rows, n, ld, &piv[0], &s[0], &q[0])
				} else {
					nkColSumSqF16AVX2(&x[0], rows, n, ld, &piv[0], &s[0], &q[0])
				}
			}
			if n < cols {
				nkColSumSqHGeneric(x[n:], rows, cols-n, ld, piv[n:], s[n:], q[n:])
			}
		},
		affine: func(dst, src []float32, m, a, b float32, silu bool) {
			dst = dst[:len(src)]
			n := len(src) &^ (w - 1)
			if n > 0 {
				if z {
					nkAffineF32AVX512(&dst[0], &src[0], n, m, a, b, silu)
				} else {
					nkAffineF32AVX2(&dst[0], &src[0], n, m, a, b, silu)
				}
			}
			nkAffineGeneric(dst[n:], src[n:], m, a, b, silu)
		},
		affineH: func(dst, src []uint16, m, a, b float32, silu bool) {
			dst = dst[:len(src)]
			n := len(src) &^ (w - 1)
			if n > 0 {
				if z {
					nkAffineF16AVX512(&dst[0], &src[0], n, m, a, b, silu)
				} else {
					nkAffineF16AVX2(&dst[0], &src[0], n, m, a, b, silu)
				}
			}
			nkAffineHGeneric(dst[n:], src[n:], m, a, b, silu)
		},
		normVec: func(dst, src []float32, m, s, c float32, g, b []float32, silu bool) {
			dst, g, b = dst[:len(src)], g[:len(src)], b[:len(src)]
			n := len(src) &^ (w - 1)
			if n > 0 {
				if z {
					nkNormVecF32AVX512(&dst[0], &src[0], n, m, s, c, &g[0], &b[0], silu)
				} else {
					nkNormVecF32AVX2(&dst[0], &src[0], n, m, s, c, &g[0], &b[0], silu)
				}
			}
			nkNormVecGeneric(dst[n:], src[n:], m, s, c, g[n:], b[n:], silu)
		},
		normVecH: func(dst, src []uint16, m, s, c float32, g, b []float32, silu bool) {
			dst, g, b = dst[:len(src)], g[:len(src)], b[:len(src)]
			n := len(src) &^ (w - 1)
			if n > 0 {
				if z {
					nkNormVecF16AVX512(&dst[0], &src[0], n, m, s, c, &g[0], &b[0], silu)
				} else {
					nkNormVecF16AVX2(&dst[0], &src[0], n, m, s, c, &g[0], &b[0], silu)
				}
			}
			nkNormVecHGeneric(dst[n:], src[n:], m, s, c, g[n:], b[n:], silu)
		},
		affineVec: func(dst, src []float32, m, a, b []float32, silu bool) {
			dst, m, a, b = dst[:len(src)], m[:len(src)], a[:len(src)], b[:len(src)]
			n := len(src) &^ (w - 1)
			if n > 0 {
				if z {
					nkAffineVecF32AVX512(&dst[0], &src[0], n, &m[0], &a[0], &b[0], silu)
				} else {
					nkAffineVecF32AVX2(&dst[0], &src[0], n, &m[0], &a[0], &b[0], silu)
				}
			}
			nkAffineVecGeneric(dst[n:], src[n:], m[n:], a[n:], b[n:], silu)
		},
		affineVecH: func(dst, src []uint16, m, a, b []float32, silu bool) {
			dst, m, a, b = dst[:len(src)], m[:len(src)], a[:len(src)], b[:len(src)]
			n := len(src) &^ (w - 1)
			if n > 0 {
				if z {
					nkAffineVecF16AVX512(&dst[0], &src[0], n, &m[0], &a[0], &b[0], silu)
				} else {
					nkAffineVecF16AVX2(&dst[0], &src[0], n, &m[0], &a[0], &b[0], silu)
				}
			}
			nkAffineVecHGeneric(dst[n:], src[n:], m[n:], a[n:], b[n:], silu)
		},
		max: func(x []float32) float32 {
			n := len(x) &^ (w - 1)
			if n == 0 {
				return nkMaxGeneric(x)
			}
			var m float32
			if z {
				m = nkMaxF32AVX512(&x[0], n)
			} else {
				m = nkMaxF32AVX2(&x[0], n)
			}
			if t := nkMaxGeneric(x[n:]); t > m || t != t {
				m = t
			}
			return m
		},
		expSum: func(dst, src []float32, m float32) float64 {
			dst = dst[:len(src)]
			n := len(src) &^ (w - 1)
			var s float64
			if n > 0 {
				if z {
					s = nkExpSumF32AVX512(&dst[0], &src[0], n, m)
				} else {
					s = nkExpSumF32AVX2(&dst[0], &src[0], n, m)
				}
			}
			return s + nkExpSumGeneric(dst[n:], src[n:], m)
		},
		exp:     nkAct(z, w, nkExpF32AVX2, nkExpF32AVX512, nkExpGeneric),
		erf:     nkAct(z, w, nkErfF32AVX2, nkErfF32AVX512, nkErfGeneric),
		tanh:    nkAct(z, w, nkTanhF32AVX2, nkTanhF32AVX512, nkTanhGeneric),
		sigmoid: nkAct(z, w, nkSigmoidF32AVX2, nkSigmoidF32AVX512, nkSigmoidGeneric),
		silu:    nkAct(z, w, nkSiluF32AVX2, nkSiluF32AVX512, nkSiluGeneric),
		gelu:    nkAct(z, w, nkGeluF32AVX2, nkGeluF32AVX512, nkGeluGeneric),
		f2h: func(dst []uint16, src []float32) {
			if len(dst) < len(src) {
				panic(errShortConv)
			}
			n := len(src) &^ 7
			if n > 0 {
				nkF2hF16C(&dst[0], &src[0], n)
			}
			nkF2hGeneric(dst[n:len(src)], src[n:])
		},
	}
}

// nkAct wraps an elementwise pair of routines. The slices are long-lived
// (their backing arrays belong to the caller), so passing the assembly
// through function values costs nothing here: no local escapes.
func nkAct(z bool, w int, avx2, avx512 func(dst, src *float32, n int), tail func(dst, src []float32)) func(dst, src []float32) {
	f := avx2
	if z {
		f = avx512
	}
	return func(dst, src []float32) {
		dst = dst[:len(src)]
		n := len(src) &^ (w - 1)
		if n > 0 {
			f(&dst[0], &src[0], n)
		}
		tail(dst[n:], src[n:])
	}
}
