//go:build !noasm && !purego && gc

package kernels

// faKern8x32AVX512 is faKernGeneric restricted to an 8x32 tile (r=8,
// l=32) with the p loop in order, one VFMADD231PS (zmm) per A value and B
// vector:
//
//	for p := 0; p < kc; p++ {
//		for i := 0; i < 8; i++ {
//			for j := 0; j < 32; j++ { acc[i][j] += a[i*ais+p*aps] * b[p*ldb+j] } // fused
//		}
//	}
//	for i, j: if scale == nil { c[i*ldc+j] = acc[i][j] } else { c[i*ldc+j] = c[i*ldc+j]*scale[j] + acc[i][j] } // fused
//
// kc >= 1.
//
//go:noescape
func faKern8x32AVX512(kc int, a *float32, ais, aps int, b *float32, ldb int, c *float32, ldc int, scale *float32)

// faSoftmaxAVX512 is faSoftmaxGeneric (cols % 16 == 0, rows >= 1) with the
// vector exp of FA_EXP_AVX512 and fused l = l*alpha + sum.
//
//go:noescape
func faSoftmaxAVX512(s *float32, lds, rows, cols int, m, l, alpha *float32)

// faExpSumAVX512 is faExpSumGeneric for the first n&^15 values:
//
//	for i := 0; i < n&^15; i++ { dst[i] = exp(src[i] - sub); sum += dst[i] } // 16 lane sums
//
//go:noescape
func faExpSumAVX512(dst, src *float32, n int, sub float32) float32

// faDotAVX512 is faDotGeneric with d = len(q) a multiple of 16:
//
//	for j := 0; j < n; j++ { for t := 0; t < d; t++ { out[j] += q[t] * k[j*ldk+t] } } // 16 lane sums
//
//go:noescape
func faDotAVX512(out, q, k *float32, ldk, n, d int)

// faGemvAVX512 is faGemvGeneric with n = len(c) a multiple of 16 and kc =
// len(a) >= 1:
//
//	for j < n { acc := sum_p a[p]*b[p*ldb+j]; c[j] = add ? c[j]*alpha + acc : acc } // fused
//
//go:noescape
func faGemvAVX512(c, a, b *float32, ldb, kc, n int, add bool, alpha float32)

// faH2FAVX512 widens n&^15 float16 values with VCVTPH2PS (zmm):
//
//	for i := 0; i < n&^15; i++ { dst[i] = float32(src[i]) }
//
//go:noescape
func faH2FAVX512(dst *float32, src *uint16, n int)

// faDotF16AVX512 is faDotAVX512 reading float16 K, widened in registers:
//
//	for j := 0; j < n; j++ { for t := 0; t < d; t++ { out[j] += q[t] * float32(k[j*ldk+t]) } } // 16 lane sums
//
//go:noescape
func faDotF16AVX512(out, q *float32, k *uint16, ldk, n, d int)

// faGemvF16AVX512 is faGemvAVX512 reading float16 B, widened in registers:
//
//	for j < n { acc := sum_p a[p]*float32(b[p*ldb+j]); c[j] = add ? c[j]*alpha + acc : acc } // fused
//
//go:noescape
func faGemvF16AVX512(c, a *float32, b *uint16, ldb, kc, n int, add bool, alpha float32)
