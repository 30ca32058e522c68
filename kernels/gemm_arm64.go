//go:build !noasm && !purego && gc

package kernels

// sgemmKernel8x8NEON is sgemmTileGeneric restricted to an 8x8 tile (mr=8,
// nr=8) with the k loop in order, one FMLA per A value and B vector:
//
//	for p := 0; p < kc; p++ {
//		for i := 0; i < 8; i++ {
//			for j := 0; j < 8; j++ { acc[i][j] += a[p*8+i] * b[p*8+j] } // fused
//		}
//	}
//	for i, j: if add { c[i*ldc+j] += alpha*acc[i][j] } else { c[i*ldc+j] = alpha*acc[i][j] }
//
// kc >= 1; a, b and c must hold 8*kc, 8*kc and 7*ldc+8 floats.
//
//go:noescape
func sgemmKernel8x8NEON(kc int, a, b, c *float32, ldc int, add bool, alpha float32)

// gemmNEON uses 16 of the 32 vector registers for accumulators; the blocking
// mirrors the amd64 sets (kc x 8 B sliver = 8 KiB in L1, 144 x 256 A block in
// L2).
var gemmNEON = gemmImpl{mr: 8, nr: 8, mc: 144, kc: 256, nc: 4096, kern: sgemmKernel8x8NEONGo, kernH: sgemmKernel8x8NEONHGo}

// sgemmKernel8x8NEONGo checks the operands and calls sgemmKernel8x8NEON.
func sgemmKernel8x8NEONGo(kc int, a, b, c []float32, ldc int, add bool, alpha float32) {
	checkTile(8, 8, kc, a, b, c, ldc)
	sgemmKernel8x8NEON(kc, &a[0], &b[0], &c[0], ldc, add, alpha)
}

// sgemmKernel8x8NEONH is sgemmKernel8x8NEON with B packed as float16 bits
// (kc groups of 8), widened exactly (FCVTL/FCVTL2) before the FMLAs.
//
//go:noescape
func sgemmKernel8x8NEONH(kc int, a *float32, b *uint16, c *float32, ldc int, add bool, alpha float32)

func sgemmKernel8x8NEONHGo(kc int, a []float32, b []uint16, c []float32, ldc int, add bool, alpha float32) {
	checkTileH(8, 8, kc, a, b, c, ldc)
	sgemmKernel8x8NEONH(kc, &a[0], &b[0], &c[0], ldc, add, alpha)
}
