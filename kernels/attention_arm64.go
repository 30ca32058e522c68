//go:build !noasm && !purego && gc

package kernels

// faPlug installs the NEON attention kernels: an 8x8 tile (16 of the 32
// vector registers as accumulators), four-lane exp, dot, GEMV and FCVTL
// float16 widening.
func faPlug(s *Set) {
	if s.Name == "neon" {
		s.attn = &faNEON
		return
	}
	s.attn = &faGeneric
}

var faNEON = faImpl{
	r: 8, l: 8, w: 4, bq: 64, bk: 128, minSq: 4,
	kern: faKern8x8NEONGo, softmax: faSoftmaxNEONGo, expSum: faExpSumNEONGo,
	dot: faDotNEONGo, gemv: faGemvNEONGo, h2f: faH2FNEONGo,
	transpose: faTransposeGeneric,
}

// faKern8x8NEON is faKernGeneric restricted to an 8x8 tile (r=8, l=8)
// with the p loop in order, one FMLA per A value and B vector:
//
//	for p := 0; p < kc; p++ {
//		for i := 0; i < 8; i++ {
//			for j := 0; j < 8; j++ { acc[i][j] += a[i*ais+p*aps] * b[p*ldb+j] } // fused
//		}
//	}
//	for i, j: if scale == nil { c[i*ldc+j] = acc[i][j] } else { c[i*ldc+j] = c[i*ldc+j]*scale[j] + acc[i][j] } // fused
//
// kc >= 1.
//
//go:noescape
func faKern8x8NEON(kc int, a *float32, ais, aps int, b *float32, ldb int, c *float32, ldc int, scale *float32)

// faSoftmaxNEON is faSoftmaxGeneric (cols % 4 == 0, rows >= 1) with the
// vector exp of FA_EXP_AVX2's algorithm and fused l = l*alpha + sum.
//
//go:noescape
func faSoftmaxNEON(s *float32, lds, rows, cols int, m, l, alpha *float32)

// faExpSumNEON is faExpSumGeneric for the first n&^3 values:
//
//	for i := 0; i < n&^3; i++ { dst[i] = exp(src[i] - sub); sum += dst[i] } // 4 lane sums
//
//go:noescape
func faExpSumNEON(dst, src *float32, n int, sub float32) float32

// faDotNEON is faDotGeneric with d = len(q) a multiple of 4:
//
//	for j := 0; j < n; j++ { for t := 0; t < d; t++ { out[j] += q[t] * k[j*ldk+t] } } // 4 lane sums
//
//go:noescape
func faDotNEON(out, q, k *float32, ldk, n, d int)

// faGemvNEON is faGemvGeneric with n = len(c) a multiple of 4 and kc =
// len(a) >= 1:
//
//	for j < n { acc := sum_p a[p]*b[p*ldb+j]; c[j] = add ? c[j]*alpha + acc : acc } // fused
//
//go:noescape
func faGemvNEON(c, a, b *float32, ldb, kc, n int, add bool, alpha float32)

// faH2FNEON widens n&^7 float16 values with FCVTL/FCVTL2:
//
//	for i := 0; i < n&^7; i++ { dst[i] = float32(src[i]) }
//
//go:noescape
func faH2FNEON(dst *float32, src *uint16, n int)

func faKern8x8NEONGo(kc int, a []float32, ais, aps int, b []float32, ldb int, c []float32, ldc int, scale []float32) {
	faCheckKern(8, 8, kc, a, ais, aps, b, ldb, c, ldc, scale)
	var sp *float32
	if scale != nil {
		sp = &scale[0]
	}
	faKern8x8NEON(kc, &a[0], ais, aps, &b[0], ldb, &c[0], ldc, sp)
}

func faSoftmaxNEONGo(s []float32, lds, rows, cols int, m, l, alpha []float32) {
	faCheckSoftmax(s, lds, rows, cols, m, l, alpha)
	if cols%4 != 0 {
		panic(errAttnCols)
	}
	if cols > 0 {
		faSoftmaxNEON(&s[0], lds, rows, cols, &m[0], &l[0], &alpha[0])
	}
}

func faExpSumNEONGo(dst, src []float32, sub float32) float32 {
	if len(dst) < len(src) {
		panic(errShortC)
	}
	nw := len(src) &^ 3
	var sum float32
	if nw > 0 {
		sum = faExpSumNEON(&dst[0], &src[0], nw, sub)
	}
	for i := nw; i < len(src); i++ {
		e := faExp(src[i] - sub)
		dst[i] = e
		sum += e
	}
	return sum
}

func faDotNEONGo(out, q, k []float32, ldk int) {
	faCheckDot(out, q, k, ldk)
	if len(q)%4 != 0 || len(q) == 0 {
		panic(errAttnCols)
	}
	if len(out) > 0 {
		faDotNEON(&out[0], &q[0], &k[0], ldk, len(out), len(q))
	}
}

func faGemvNEONGo(c, a, b []float32, ldb int, add bool, alpha float32) {
	faCheckGemv(c, a, b, ldb)
	if len(c)%4 != 0 {
		panic(errAttnCols)
	}
	if len(c) > 0 {
		faGemvNEON(&c[0], &a[0], &b[0], ldb, len(a), len(c), add, alpha)
	}
}

// faH2FNEONGo is h2fGeneric using FCVTL for each run of eight values.
func faH2FNEONGo(dst []float32, src []uint16) {
	if len(dst) < len(src) {
		panic(errShortConv)
	}
	n := len(src)
	if v := n &^ 7; v > 0 {
		faH2FNEON(&dst[0], &src[0], v)
	}
	for i := n &^ 7; i < n; i++ {
		dst[i] = nnH2F(src[i])
	}
}
