//go:build !noasm && !purego && gc

package kernels

// sumSqF32AVX2 is sumSqGeneric for n a multiple of 16 (four 4-double
// accumulators per sum, combined in a fixed order):
//
//	for i < n { d := float64(x[i]) - float64(piv); out[0] += d; out[1] += d*d }
//
//go:noescape
func sumSqF32AVX2(x *float32, n int, piv float32, out *[2]float64)

// sumSqF16AVX2 is sumSqF32AVX2 for float16 data (VCVTPH2PS).
//
//go:noescape
func sumSqF16AVX2(x *uint16, n int, piv float32, out *[2]float64)

// colSumSqF32AVX2 is colSumSqGeneric for cols a multiple of 8 and rows >= 1:
//
//	for j < cols { for r < rows { d := float64(x[r*ld+j]) - float64(piv[j]); s[j] += d; q[j] += d*d } }
//
//go:noescape
func colSumSqF32AVX2(x *float32, rows, cols, ld int, piv *float32, s, q *float64)

// colSumSqF16AVX2 is colSumSqF32AVX2 for float16 data.
//
//go:noescape
func colSumSqF16AVX2(x *uint16, rows, cols, ld int, piv *float32, s, q *float64)

// affineF32AVX2 is affineGeneric for n a multiple of 8 (fused multiply-add):
//
//	for i < n { y := (src[i]-m)*a + b; if silu { y = nkSiLU32(y) }; dst[i] = y }
//
//go:noescape
func affineF32AVX2(dst, src *float32, n int, m, a, b float32, silu bool)

// affineF16AVX2 is affineF32AVX2 on float16 data (VCVTPH2PS/VCVTPS2PH).
//
//go:noescape
func affineF16AVX2(dst, src *uint16, n int, m, a, b float32, silu bool)

// normVecF32AVX2 is normVecGeneric for n a multiple of 8:
//
//	for i < n { y := ((src[i]-m)*s+c)*gm[i] + bt[i]; if silu { y = nkSiLU32(y) }; dst[i] = y }
//
//go:noescape
func normVecF32AVX2(dst, src *float32, n int, m, s, c float32, gm, bt *float32, silu bool)

// normVecF16AVX2 is normVecF32AVX2 on float16 data.
//
//go:noescape
func normVecF16AVX2(dst, src *uint16, n int, m, s, c float32, gm, bt *float32, silu bool)

// affineVecF32AVX2 is affineVecGeneric for n a multiple of 8:
//
//	for i < n { y := (src[i]-m[i])*a[i] + b[i]; if silu { y = nkSiLU32(y) }; dst[i] = y }
//
//go:noescape
func affineVecF32AVX2(dst, src *float32, n int, m, a, b *float32, silu bool)

// affineVecF16AVX2 is affineVecF32AVX2 on float16 data.
//
//go:noescape
func affineVecF16AVX2(dst, src *uint16, n int, m, a, b *float32, silu bool)
