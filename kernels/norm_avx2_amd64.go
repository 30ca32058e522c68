//go:build !noasm && !purego && gc

package kernels

// nkSumSqF32AVX2 is nkSumSqGeneric for n a multiple of 16 (four 4-double
// accumulators per sum, combined in a fixed order):
//
//	for i < n { d := float64(x[i]) - float64(piv); out[0] += d; out[1] += d*d }
//
//go:noescape
func nkSumSqF32AVX2(x *float32, n int, piv float32, out *[2]float64)

// nkSumSqF16AVX2 is nkSumSqF32AVX2 for float16 data (VCVTPH2PS).
//
//go:noescape
func nkSumSqF16AVX2(x *uint16, n int, piv float32, out *[2]float64)

// nkColSumSqF32AVX2 is nkColSumSqGeneric for cols a multiple of 8 and rows >= 1:
//
//	for j < cols { for r < rows { d := float64(x[r*ld+j]) - float64(piv[j]); s[j] += d; q[j] += d*d } }
//
//go:noescape
func nkColSumSqF32AVX2(x *float32, rows, cols, ld int, piv *float32, s, q *float64)

// nkColSumSqF16AVX2 is nkColSumSqF32AVX2 for float16 data.
//
//go:noescape
func nkColSumSqF16AVX2(x *uint16, rows, cols, ld int, piv *float32, s, q *float64)

// nkAffineF32AVX2 is nkAffineGeneric for n a multiple of 8 (fused multiply-add):
//
//	for i < n { y := (src[i]-m)*a + b; if silu { y = nkSiLU32(y) }; dst[i] = y }
//
//go:noescape
func nkAffineF32AVX2(dst, src *float32, n int, m, a, b float32, silu bool)

// nkAffineF16AVX2 is nkAffineF32AVX2 on float16 data (VCVTPH2PS/VCVTPS2PH).
//
//go:noescape
func nkAffineF16AVX2(dst, src *uint16, n int, m, a, b float32, silu bool)

// nkNormVecF32AVX2 is nkNormVecGeneric for n a multiple of 8:
//
//	for i < n { y := ((src[i]-m)*s+c)*gm[i] + bt[i]; if silu { y = nkSiLU32(y) }; dst[i] = y }
//
//go:noescape
func nkNormVecF32AVX2(dst, src *float32, n int, m, s, c float32, gm, bt *float32, silu bool)

// nkNormVecF16AVX2 is nkNormVecF32AVX2 on float16 data.
//
//go:noescape
func nkNormVecF16AVX2(dst, src *uint16, n int, m, s, c float32, gm, bt *float32, silu bool)

// nkAffineVecF32AVX2 is nkAffineVecGeneric for n a multiple of 8:
//
//	for i < n { y := (src[i]-m[i])*a[i] + b[i]; if silu { y = nkSiLU32(y) }; dst[i] = y }
//
//go:noescape
func nkAffineVecF32AVX2(dst, src *float32, n int, m, a, b *float32, silu bool)

// nkAffineVecF16AVX2 is nkAffineVecF32AVX2 on float16 data.
//
//go:noescape
func nkAffineVecF16AVX2(dst, src *uint16, n int, m, a, b *float32, silu bool)
