//go:build !noasm && !purego && gc

package kernels

// faKern4x24AVX2 is faKernGeneric restricted to a 4x24 tile (r=4, l=24)
// with the p loop in order, one VFMADD231PS per A value and B vector:
//
//	for p := 0; p < kc; p++ {
//		for i := 0; i < 4; i++ {
//			for j := 0; j < 24; j++ { acc[i][j] += a[i*ais+p*aps] * b[p*ldb+j] } // fused
//		}
//	}
//	for i, j: if scale == nil { c[i*ldc+j] = acc[i][j] } else { c[i*ldc+j] = c[i*ldc+j]*scale[j] + acc[i][j] } // fused
//
// kc >= 1.
//
//go:noescape
func faKern4x24AVX2(kc int, a *float32, ais, aps int, b *float32, ldb int, c *float32, ldc int, scale *float32)

// faSoftmaxAVX2 is faSoftmaxGeneric (cols % 8 == 0, rows >= 1) with the
// vector exp of FA_EXP_AVX2 and fused l = l*alpha + sum.
//
//go:noescape
func faSoftmaxAVX2(s *float32, lds, rows, cols int, m, l, alpha *float32)

// faExpSumAVX2 is faExpSumGeneric for the first n&^7 values:
//
//	for i := 0; i < n&^7; i++ { dst[i] = exp(src[i] - sub); sum += dst[i] } // 8 lane sums
//
//go:noescape
func faExpSumAVX2(dst, src *float32, n int, sub float32) float32

// faDotAVX2 is faDotGeneric with d = len(q) a multiple of 8:
//
//	for j := 0; j < n; j++ { for t := 0; t < d; t++ { out[j] += q[t] * k[j*ldk+t] } } // 8 lane sums
//
//go:noescape
func faDotAVX2(out, q, k *float32, ldk, n, d int)

// faGemvAVX2 is faGemvGeneric with n = len(c) a multiple of 8 and kc =
// len(a) >= 1:
//
//	for j < n { acc := sum_p a[p]*b[p*ldb+j]; c[j] = add ? c[j]*alpha + acc : acc } // fused
//
//go:noescape
func faGemvAVX2(c, a, b *float32, ldb, kc, n int, add bool, alpha float32)

// faDotF16AVX2 is faDotAVX2 reading float16 K, widened in registers:
//
//	for j := 0; j < n; j++ { for t := 0; t < d; t++ { out[j] += q[t] * float32(k[j*ldk+t]) } } // 8 lane sums
//
//go:noescape
func faDotF16AVX2(out, q *float32, k *uint16, ldk, n, d int)

// faGemvF16AVX2 is faGemvAVX2 reading float16 B, widened in registers:
//
//	for j < n { acc := sum_p a[p]*float32(b[p*ldb+j]); c[j] = add ? c[j]*alpha + acc : acc } // fused
//
//go:noescape
func faGemvF16AVX2(c, a *float32, b *uint16, ldb, kc, n int, add bool, alpha float32)

// faTransposeAVX2 is faTransposeGeneric for rows and cols multiples of 8,
// in 8x8 blocks (scale, UNPCKLPS/UNPCKHPS, SHUFPS, PERM2F128):
//
//	for i < rows, j < cols { dst[j*ldd+i] = src[i*lds+j] * sv[j] }
//
//go:noescape
func faTransposeAVX2(dst *float32, ldd int, src *float32, lds int, sv *float32, rows, cols int)
