//go:build !noasm && !purego && gc

package kernels

// sumSqF32AVX512 is sumSqGeneric for n a multiple of 32 (four 8-double
// accumulators per sum, combined in a fixed order):
//
//	for i < n { d := float64(x[i]) - float64(piv); out[0] += d; out[1] += d*d }
//
//go:noescape
func sumSqF32AVX512(x *float32, n int, piv float32, out *[2]float64)

// sumSqF16AVX512 is sumSqF32AVX512 for float16 data (VCVTPH2PS on zmm).
//
//go:noescape
func sumSqF16AVX512(x *uint16, n int, piv float32, out *[2]float64)

// colSumSqF32AVX512 is colSumSqGeneric for cols a multiple of 16 and rows >= 1:
//
//	for j < cols { for r < rows { d := float64(x[r*ld+j]) - float64(piv[j]); s[j] += d; q[j] += d*d } }
//
//go:noescape
func colSumSqF32AVX512(x *float32, rows, cols, ld int, piv *float32, s, q *float64)

// colSumSqF16AVX512 is colSumSqF32AVX512 for float16 data.
//
//go:noescape
func colSumSqF16AVX512(x *uint16, rows, cols, ld int, piv *float32, s, q *float64)

// affineF32AVX512 is affineGeneric for n a multiple of 16 (fused multiply-add):
//
//	for i < n { y := (src[i]-m)*a + b; if silu { y = nkSiLU32(y) }; dst[i] = y }
//
//go:noescape
func affineF32AVX512(dst, src *float32, n int, m, a, b float32, silu bool)

// affineF16AVX512 is affineF32AVX512 on float16 data (VCVTPH2PS on zmm/VCVTPS2PH).
//
//go:noescape
func affineF16AVX512(dst, src *uint16, n int, m, a, b float32, silu bool)

// normVecF32AVX512 is normVecGeneric for n a multiple of 16:
//
//	for i < n { y := ((src[i]-m)*s+c)*gm[i] + bt[i]; if silu { y = nkSiLU32(y) }; dst[i] = y }
//
//go:noescape
func normVecF32AVX512(dst, src *float32, n int, m, s, c float32, gm, bt *float32, silu bool)

// normVecF16AVX512 is normVecF32AVX512 on float16 data.
//
//go:noescape
func normVecF16AVX512(dst, src *uint16, n int, m, s, c float32, gm, bt *float32, silu bool)

// affineVecF32AVX512 is affineVecGeneric for n a multiple of 16:
//
//	for i < n { y := (src[i]-m[i])*a[i] + b[i]; if silu { y = nkSiLU32(y) }; dst[i] = y }
//
//go:noescape
func affineVecF32AVX512(dst, src *float32, n int, m, a, b *float32, silu bool)

// affineVecF16AVX512 is affineVecF32AVX512 on float16 data.
//
//go:noescape
func affineVecF16AVX512(dst, src *uint16, n int, m, a, b *float32, silu bool)
