//go:build !noasm && !purego && gc

package kernels

// sgemmKernel6x16AVX2 is sgemmTileGeneric restricted to a 6x16 tile (mr=6,
// nr=16) with the k loop in order, one VFMADD231PS per A value and B vector:
//
//	for p := 0; p < kc; p++ {
//		for i := 0; i < 6; i++ {
//			for j := 0; j < 16; j++ { acc[i][j] += a[p*6+i] * b[p*16+j] } // fused
//		}
//	}
//	for i, j: if add { c[i*ldc+j] += alpha*acc[i][j] } else { c[i*ldc+j] = alpha*acc[i][j] }
//
// kc >= 1; a, b and c must hold 6*kc, 16*kc and 5*ldc+16 floats.
//
//go:noescape
func sgemmKernel6x16AVX2(kc int, a, b, c *float32, ldc int, add bool, alpha float32)

// h2fF16C widens n&^7 float16 values with VCVTPH2PS:
//
//	for i := 0; i < n&^7; i++ { dst[i] = float32(src[i]) }
//
//go:noescape
func h2fF16C(dst *float32, src *uint16, n int)

// sgemmKernel6x16AVX2H is sgemmKernel6x16AVX2 with B packed as float16 bits
// (kc groups of 16), each value widened exactly (VCVTPH2PS) before its FMA:
// the same operations as sgemmKernel6x16AVX2 on the widened panel.
//
//go:noescape
func sgemmKernel6x16AVX2H(kc int, a *float32, b *uint16, c *float32, ldc int, add bool, alpha float32)
