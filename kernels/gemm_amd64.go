//go:build !noasm && !purego && gc

package kernels

// Blocking for Zen 3/Zen 4 class cores (32 KiB L1d, >= 512 KiB L2, 32 MiB
// L3): a kc x nr sliver of packed B (256*16*4 = 16 KiB for AVX2, 32 KiB for
// AVX-512) is reused from L1 by all mc/mr tiles; the mc x kc block of packed
// A (144*256*4 = 144 KiB) stays in L2; the kc x nc panel of packed B
// (256*4096*4 = 4 MiB) lives in L3.
var (
	gemmAVX2   = gemmImpl{mr: 6, nr: 16, mc: 144, kc: 256, nc: 4096, kern: sgemmKernel6x16AVX2Go, kernH: sgemmKernel6x16AVX2HGo}
	gemmAVX512 = gemmImpl{mr: 12, nr: 32, mc: 144, kc: 256, nc: 4096, kern: sgemmKernel12x32AVX512Go, kernH: sgemmKernel12x32AVX512HGo}
)

// sgemmKernel6x16AVX2Go checks the operands and calls sgemmKernel6x16AVX2.
func sgemmKernel6x16AVX2Go(kc int, a, b, c []float32, ldc int, add bool, alpha float32) {
	checkTile(6, 16, kc, a, b, c, ldc)
	sgemmKernel6x16AVX2(kc, &a[0], &b[0], &c[0], ldc, add, alpha)
}

// sgemmKernel12x32AVX512Go checks the operands and calls sgemmKernel12x32AVX512.
func sgemmKernel12x32AVX512Go(kc int, a, b, c []float32, ldc int, add bool, alpha float32) {
	checkTile(12, 32, kc, a, b, c, ldc)
	sgemmKernel12x32AVX512(kc, &a[0], &b[0], &c[0], ldc, add, alpha)
}

func sgemmKernel6x16AVX2HGo(kc int, a []float32, b []uint16, c []float32, ldc int, add bool, alpha float32) {
	checkTileH(6, 16, kc, a, b, c, ldc)
	sgemmKernel6x16AVX2H(kc, &a[0], &b[0], &c[0], ldc, add, alpha)
}

func sgemmKernel12x32AVX512HGo(kc int, a []float32, b []uint16, c []float32, ldc int, add bool, alpha float32) {
	checkTileH(12, 32, kc, a, b, c, ldc)
	sgemmKernel12x32AVX512H(kc, &a[0], &b[0], &c[0], ldc, add, alpha)
}

// h2fAVX2 is h2fGeneric using F16C for each run of eight values.
func h2fAVX2(dst []float32, src []uint16) {
	if len(dst) < len(src) {
		panic(errShortConv)
	}
	n := len(src)
	if v := n &^ 7; v > 0 {
		h2fF16C(&dst[0], &src[0], v)
	}
	for i := n &^ 7; i < n; i++ {
		dst[i] = nnH2F(src[i])
	}
}
