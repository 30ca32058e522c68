//go:build !noasm && !purego && gc

package kernels

// sgemmKernel12x32AVX512 is sgemmTileGeneric restricted to a 12x32 tile
// (mr=12, nr=32) with the k loop in order, one VFMADD231PS (zmm) per A value
// and B vector:
//
//	for p := 0; p < kc; p++ {
//		for i := 0; i < 12; i++ {
//			for j := 0; j < 32; j++ { acc[i][j] += a[p*12+i] * b[p*32+j] } // fused
//		}
//	}
//	for i, j: if add { c[i*ldc+j] += alpha*acc[i][j] } else { c[i*ldc+j] = alpha*acc[i][j] }
//
// kc >= 1; a, b and c must hold 12*kc, 32*kc and 11*ldc+32 floats.
//
//go:noescape
func sgemmKernel12x32AVX512(kc int, a, b, c *float32, ldc int, add bool, alpha float32)

// sgemmKernel12x32AVX512H is sgemmKernel12x32AVX512 with B packed as float16
// bits (kc groups of 32), each value widened exactly (VCVTPH2PS) before its
// FMA.
//
//go:noescape
func sgemmKernel12x32AVX512H(kc int, a *float32, b *uint16, c *float32, ldc int, add bool, alpha float32)
