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
					sumSqF32AVX512(&x[0], n, piv, &out)
				} else {
					sumSqF32AVX2(&x[0], n, piv, &out)
				}
			}
			s, q := sumSqGeneric(x[n:], piv)
			return out[0] + s, out[1] + q
		},
		sumSqH: func(x []uint16, piv float32) (float64, float64) {
			n := len(x) &^ (2*w - 1)
			var out [2]float64
			if n > 0 {
				if z {
					sumSqF16AVX512(&x[0], n, piv, &out)
				} else {
					sumSqF16AVX2(&x[0], n, piv, &out)
				}
			}
			s, q := sumSqHGeneric(x[n:], piv)
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
					colSumSqF32AVX512(&x[0], rows, n, ld, &piv[0], &s[0], &q[0])
				} else {
					colSumSqF32AVX2(&x[0], rows, n, ld, &piv[0], &s[0], &q[0])
				}
			}
			if n < cols {
				colSumSqGeneric(x[n:], rows, cols-n, ld, piv[n:], s[n:], q[n:])
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
					colSumSqF16AVX512(&x[0], rows, n, ld, &piv[0], &s[0], &q[0])
				} else {
					colSumSqF16AVX2(&x[0], rows, n, ld, &piv[0], &s[0], &q[0])
				}
			}
			if n < cols {
				colSumSqHGeneric(x[n:], rows, cols-n, ld, piv[n:], s[n:], q[n:])
			}
		},
		affine: func(dst, src []float32, m, a, b float32, silu bool) {
			dst = dst[:len(src)]
			n := len(src) &^ (w - 1)
			if n > 0 {
				if z {
					affineF32AVX512(&dst[0], &src[0], n, m, a, b, silu)
				} else {
					affineF32AVX2(&dst[0], &src[0], n, m, a, b, silu)
				}
			}
			affineGeneric(dst[n:], src[n:], m, a, b, silu)
		},
		affineH: func(dst, src []uint16, m, a, b float32, silu bool) {
			dst = dst[:len(src)]
			n := len(src) &^ (w - 1)
			if n > 0 {
				if z {
					affineF16AVX512(&dst[0], &src[0], n, m, a, b, silu)
				} else {
					affineF16AVX2(&dst[0], &src[0], n, m, a, b, silu)
				}
			}
			affineHGeneric(dst[n:], src[n:], m, a, b, silu)
		},
		normVec: func(dst, src []float32, m, s, c float32, g, b []float32, silu bool) {
			dst, g, b = dst[:len(src)], g[:len(src)], b[:len(src)]
			n := len(src) &^ (w - 1)
			if n > 0 {
				if z {
					normVecF32AVX512(&dst[0], &src[0], n, m, s, c, &g[0], &b[0], silu)
				} else {
					normVecF32AVX2(&dst[0], &src[0], n, m, s, c, &g[0], &b[0], silu)
				}
			}
			normVecGeneric(dst[n:], src[n:], m, s, c, g[n:], b[n:], silu)
		},
		normVecH: func(dst, src []uint16, m, s, c float32, g, b []float32, silu bool) {
			dst, g, b = dst[:len(src)], g[:len(src)], b[:len(src)]
			n := len(src) &^ (w - 1)
			if n > 0 {
				if z {
					normVecF16AVX512(&dst[0], &src[0], n, m, s, c, &g[0], &b[0], silu)
				} else {
					normVecF16AVX2(&dst[0], &src[0], n, m, s, c, &g[0], &b[0], silu)
				}
			}
			normVecHGeneric(dst[n:], src[n:], m, s, c, g[n:], b[n:], silu)
		},
		affineVec: func(dst, src []float32, m, a, b []float32, silu bool) {
			dst, m, a, b = dst[:len(src)], m[:len(src)], a[:len(src)], b[:len(src)]
			n := len(src) &^ (w - 1)
			if n > 0 {
				if z {
					affineVecF32AVX512(&dst[0], &src[0], n, &m[0], &a[0], &b[0], silu)
				} else {
					affineVecF32AVX2(&dst[0], &src[0], n, &m[0], &a[0], &b[0], silu)
				}
			}
			affineVecGeneric(dst[n:], src[n:], m[n:], a[n:], b[n:], silu)
		},
		affineVecH: func(dst, src []uint16, m, a, b []float32, silu bool) {
			dst, m, a, b = dst[:len(src)], m[:len(src)], a[:len(src)], b[:len(src)]
			n := len(src) &^ (w - 1)
			if n > 0 {
				if z {
					affineVecF16AVX512(&dst[0], &src[0], n, &m[0], &a[0], &b[0], silu)
				} else {
					affineVecF16AVX2(&dst[0], &src[0], n, &m[0], &a[0], &b[0], silu)
				}
			}
			affineVecHGeneric(dst[n:], src[n:], m[n:], a[n:], b[n:], silu)
		},
		max: func(x []float32) float32 {
			n := len(x) &^ (w - 1)
			if n == 0 {
				return maxGeneric(x)
			}
			var m float32
			if z {
				m = maxF32AVX512(&x[0], n)
			} else {
				m = maxF32AVX2(&x[0], n)
			}
			if t := maxGeneric(x[n:]); t > m || t != t {
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
					s = expSumF32AVX512(&dst[0], &src[0], n, m)
				} else {
					s = expSumF32AVX2(&dst[0], &src[0], n, m)
				}
			}
			return s + expSumGeneric(dst[n:], src[n:], m)
		},
		exp:     nkAct(z, w, expF32AVX2, expF32AVX512, expGeneric),
		erf:     nkAct(z, w, erfF32AVX2, erfF32AVX512, erfGeneric),
		tanh:    nkAct(z, w, tanhF32AVX2, tanhF32AVX512, tanhGeneric),
		sigmoid: nkAct(z, w, sigmoidF32AVX2, sigmoidF32AVX512, sigmoidGeneric),
		silu:    nkAct(z, w, siluF32AVX2, siluF32AVX512, siluGeneric),
		gelu:    nkAct(z, w, geluF32AVX2, geluF32AVX512, geluGeneric),
		f2h: func(dst []uint16, src []float32) {
			if len(dst) < len(src) {
				panic(errShortConv)
			}
			n := len(src) &^ 7
			if n > 0 {
				f2hF16C(&dst[0], &src[0], n)
			}
			f2hGeneric(dst[n:len(src)], src[n:])
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
