//go:build !noasm && !purego && gc

package kernels

// nkSumSqF32AVX512 is nkSumSqGeneric for n a multiple of 32 (four 8-double
// accumulators per sum, combined in a fixed order):
//
//	for i < n { d := float64(x[i]) - float64(piv); out[0] += d; out[1] += d*d }
//
//go:noescape
func nkSumSqF32AVX512(x *float32, n int, piv float32, out *[2]float64)

// nkSumSqF16AVX512 is nkSumSqF32AVX512 for float16 data (VCVTPH2PS on zmm).
//
//go:noescape
func nkSumSqF16AVX512(x *uint16, n int, piv float32, out *[2]float64)

// nkColSumSqF32AVX512 is nkColSumSqGeneric for cols a multiple of 16 and rows >= 1:
//
//	for j < cols { for r < rows { d := float64(x[r*ld+j]) - float64(piv[j]); s[j] += d; q[j] += d*d } }
//
//go:noescape
func nkColSumSqF32AVX512(x *float32, rows, cols, ld int, piv *float32, s, q *float64)

// nkColSumSqF16AVX512 is nkColSumSqF32AVX512 for float16 data.
//
//go:noescape
func nkColSumSqF16AVX512(x *uint16, rows, cols, ld int, piv *float32, s, q *float64)

// nkAffineF32AVX512 is nkAffineGeneric for n a multiple of 16 (fused multiply-add):
//
//	for i < n { y := (src[i]-m)*a + b; if silu { y = nkSiLU32(y) }; dst[i] = y }
//
//go:noescape
func nkAffineF32AVX512(dst, src *float32, n int, m, a, b float32, silu bool)

// nkAffineF16AVX512 is nkAffineF32AVX512 on float16 data (VCVTPH2PS on zmm/VCVTPS2PH).
//
//go:noescape
func nkAffineF16AVX512(dst, src *uint16, n int, m, a, b float32, silu bool)

// nkNormVecF32AVX512 is nkNormVecGeneric for n a multiple of 16:
//
//	for i < n { y := ((src[i]-m)*s+c)*gm[i] + bt[i]; if silu { y = nkSiLU32(y) }; dst[i] = y }
//
//go:noescape
func nkNormVecF32AVX512(dst, src *float32, n int, m, s, c float32, gm, bt *float32, silu bool)

// nkNormVecF16AVX512 is nkNormVecF32AVX512 on float16 data.
//
//go:noescape
func nkNormVecF16AVX512(dst, src *uint16, n int, m, s, c float32, gm, bt *float32, silu bool)

// nkAffineVecF32AVX512 is nkAffineVecGeneric for n a multiple of 16:
//
//	for i < n { y := (src[i]-m[i])*a[i] + b[i]; if silu { y = nkSiLU32(y) }; dst[i] = y }
//
//go:noescape
func nkAffineVecF32AVX512(dst, src *float32, n int, m, a, b *float32, silu bool)

// nkAffineVecF16AVX512 is nkAffineVecF32AVX512 on float16 data.
//
//go:noescape
func nkAffineVecF16AVX512(dst, src *uint16, n int, m, a, b *float32, silu bool)
