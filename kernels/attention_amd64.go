//go:build !noasm && !purego && gc

package kernels

// faPlug installs the attention kernels of set s. The 4x24 AVX2 tile uses
// all 16 ymm registers (12 accumulators, 3 B vectors, 1 broadcast); the
// AVX-512 8x32 tile has 16 zmm accumulators.
func faPlug(s *Set) {
	switch s.Name {
	case "avx2":
		s.attn = &faAVX2
	case "avx512":
		s.attn = &faAVX512
	default:
		s.attn = &faGeneric
	}
}

var (
	faAVX2 = faImpl{
		r: 4, l: 24, w: 8, bq: 96, bk: 128, minSq: 12,
		kern: faKern4x24AVX2Go, softmax: faSoftmaxAVX2Go, expSum: faExpSumAVX2Go,
		dot: faDotAVX2Go, gemv: faGemvAVX2Go, h2f: h2fAVX2,
		dotF16: faDotF16AVX2Go, gemvF16: faGemvF16AVX2Go, transpose: faTransposeAVX2Go,
	}
	faAVX512 = faImpl{
		r: 8, l: 32, w: 16, bq: 128, bk: 128, minSq: 16,
		kern: faKern8x32AVX512Go, softmax: faSoftmaxAVX512Go, expSum: faExpSumAVX512Go,
		dot: faDotAVX512Go, gemv: faGemvAVX512Go, h2f: faH2FAVX512Go,
		dotF16: faDotF16AVX512Go, gemvF16: faGemvF16AVX512Go, transpose: faTransposeAVX2Go,
	}
)

func faKern4x24AVX2Go(kc int, a []float32, ais, aps int, b []float32, ldb int, c []float32, ldc int, scale []float32) {
	faCheckKern(4, 24, kc, a, ais, aps, b, ldb, c, ldc, scale)
	faKern4x24AVX2(kc, &a[0], ais, aps, &b[0], ldb, &c[0], ldc, faPtr(scale))
}

func faKern8x32AVX512Go(kc int, a []float32, ais, aps int, b []float32, ldb int, c []float32, ldc int, scale []float32) {
	faCheckKern(8, 32, kc, a, ais, aps, b, ldb, c, ldc, scale)
	faKern8x32AVX512(kc, &a[0], ais, aps, &b[0], ldb, &c[0], ldc, faPtr(scale))
}

// faPtr returns &s[0], or nil for a nil slice.
func faPtr(s []float32) *float32 {
	if s == nil {
		return nil
	}
	return &s[0]
}

func faSoftmaxAVX2Go(s []float32, lds, rows, cols int, m, l, alpha []float32) {
	faCheckSoftmax(s, lds, rows, cols, m, l, alpha)
	if cols%8 != 0 {
		panic(errAttnCols)
	}
	if cols > 0 {
		faSoftmaxAVX2(&s[0], lds, rows, cols, &m[0], &l[0], &alpha[0])
	}
}

func faSoftmaxAVX512Go(s []float32, lds, rows, cols int, m, l, alpha []float32) {
	faCheckSoftmax(s, lds, rows, cols, m, l, alpha)
	if cols%16 != 0 {
		panic(errAttnCols)
	}
	if cols > 0 {
		faSoftmaxAVX512(&s[0], lds, rows, cols, &m[0], &l[0], &alpha[0])
	}
}

// faExpSumTail finishes an expSum whose first nw values the vector kernel did.
func faExpSumTail(dst, src []float32, sub, sum float32, nw int) float32 {
	for i := nw; i < len(src); i++ {
		e := faExp(src[i] - sub)
		dst[i] = e
		sum += e
	}
	return sum
}

func faExpSumAVX2Go(dst, src []float32, sub float32) float32 {
	if len(dst) < len(src) {
		panic(errShortC)
	}
	nw := len(src) &^ 7
	var sum float32
	if nw > 0 {
		sum = faExpSumAVX2(&dst[0], &src[0], nw, sub)
	}
	return faExpSumTail(dst, src, sub, sum, nw)
}

func faExpSumAVX512Go(dst, src []float32, sub float32) float32 {
	if len(dst) < len(src) {
		panic(errShortC)
	}
	nw := len(src) &^ 15
	var sum float32
	if nw > 0 {
		sum = faExpSumAVX512(&dst[0], &src[0], nw, sub)
	}
	return faExpSumTail(dst, src, sub, sum, nw)
}

func faDotAVX2Go(out, q, k []float32, ldk int) {
	faCheckDot(out, q, k, ldk)
	if len(q)%8 != 0 || len(q) == 0 {
		panic(errAttnCols)
	}
	if len(out) > 0 {
		faDotAVX2(&out[0], &q[0], &k[0], ldk, len(out), len(q))
	}
}

func faDotAVX512Go(out, q, k []float32, ldk int) {
	faCheckDot(out, q, k, ldk)
	if len(q)%16 != 0 || len(q) == 0 {
		panic(errAttnCols)
	}
	if len(out) > 0 {
		faDotAVX512(&out[0], &q[0], &k[0], ldk, len(out), len(q))
	}
}

func faGemvAVX2Go(c, a, b []float32, ldb int, add bool, alpha float32) {
	faCheckGemv(c, a, b, ldb)
	if len(c)%8 != 0 {
		panic(errAttnCols)
	}
	if len(c) > 0 {
		faGemvAVX2(&c[0], &a[0], &b[0], ldb, len(a), len(c), add, alpha)
	}
}

func faGemvAVX512Go(c, a, b []float32, ldb int, add bool, alpha float32) {
	faCheckGemv(c, a, b, ldb)
	if len(c)%16 != 0 {
		panic(errAttnCols)
	}
	if len(c) > 0 {
		faGemvAVX512(&c[0], &a[0], &b[0], ldb, len(a), len(c), add, alpha)
	}
}

// faH2FAVX512Go is h2fGeneric using 16-wide VCVTPH2PS (zmm).
func faH2FAVX512Go(dst []float32, src []uint16) {
	if len(dst) < len(src) {
		panic(errShortConv)
	}
	n := len(src)
	if v := n &^ 15; v > 0 {
		faH2FAVX512(&dst[0], &src[0], v)
	}
	for i := n &^ 15; i < n; i++ {
		dst[i] = nnH2F(src[i])
	}
}

func faCheckDotF16(out, q []float32, k []uint16, ldk, w int) {
	if len(out) > 0 && (ldk < len(q) || len(k) < (len(out)-1)*ldk+len(q)) {
		panic(errShortB)
	}
	if len(q)%w != 0 || len(q) == 0 {
		panic(errAttnCols)
	}
}

func faCheckGemvF16(c, a []float32, b []uint16, ldb, w int) {
	if len(a) < 1 {
		panic(errBadKC)
	}
	if len(c) > 0 && (ldb < len(c) || len(b) < (len(a)-1)*ldb+len(c)) {
		panic(errShortB)
	}
	if len(c)%w != 0 {
		panic(errAttnCols)
	}
}

func faDotF16AVX2Go(out, q []float32, k []uint16, ldk int) {
	faCheckDotF16(out, q, k, ldk, 8)
	if len(out) > 0 {
		faDotF16AVX2(&out[0], &q[0], &k[0], ldk, len(out), len(q))
	}
}

func faDotF16AVX512Go(out, q []float32, k []uint16, ldk int) {
	faCheckDotF16(out, q, k, ldk, 16)
	if len(out) > 0 {
		faDotF16AVX512(&out[0], &q[0], &k[0], ldk, len(out), len(q))
	}
}

func faGemvF16AVX2Go(c, a []float32, b []uint16, ldb int, add bool, alpha float32) {
	faCheckGemvF16(c, a, b, ldb, 8)
	if len(c) > 0 {
		faGemvF16AVX2(&c[0], &a[0], &b[0], ldb, len(a), len(c), add, alpha)
	}
}

func faGemvF16AVX512Go(c, a []float32, b []uint16, ldb int, add bool, alpha float32) {
	faCheckGemvF16(c, a, b, ldb, 16)
	if len(c) > 0 {
		faGemvF16AVX512(&c[0], &a[0], &b[0], ldb, len(a), len(c), add, alpha)
	}
}

// faTransposeAVX2Go does the 8x8 blocks of faTransposeGeneric with
// faTransposeAVX2 (AVX2 is present on every AVX-512 CPU) and the edges in Go.
func faTransposeAVX2Go(dst []float32, ldd int, src []float32, lds int, sv []float32, rows, cols int) {
	faCheckTranspose(dst, ldd, src, lds, sv, rows, cols)
	r8, c8 := rows&^7, cols&^7
	if r8 > 0 && c8 > 0 {
		faTransposeAVX2(&dst[0], ldd, &src[0], lds, &sv[0], r8, c8)
	}
	for i := 0; i < rows; i++ {
		j0 := c8
		if i >= r8 {
			j0 = 0
		}
		for j := j0; j < cols; j++ {
			dst[j*ldd+i] = src[i*lds+j] * sv[j]
		}
	}
}
