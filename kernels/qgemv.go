package kernels

import (
	"math"
	"sync"
	"unsafe"
)

// QMatrix is an N x K weight matrix quantized in blocks along K, in the
// layout of ONNX Runtime's com.microsoft MatMulNBits: row n holds
// ceil(K/BlockSize) blocks of BlockSize codes of Bits bits each, packed low
// bits first into bytes (for 4 bits: element 2i in the low nibble of byte i,
// element 2i+1 in the high nibble). The last block of a row is padded when K
// is not a multiple of BlockSize; padded codes are never read.
//
// Element (n, k) of block b = k/BlockSize (or b = GIdx[k] when GIdx is set)
// dequantizes to (code - zp) * scale, where scale is Scales[n*blocks+b] and
// zp comes from the zero points: packed codes of Bits bits (ZPCodes, row n
// taking ceil(blocks*Bits/8) bytes), float zero points (ZPF32 or ZPF16,
// [N*blocks]), or 2^(Bits-1) when none is given.
//
// Exactly one of ScalesF32 and ScalesF16 (float16 bits) is set. The matrix is
// read in place: it is never dequantized as a whole.
type QMatrix struct {
	N, K, BlockSize, Bits int

	Data      []byte
	ScalesF32 []float32
	ScalesF16 []uint16
	ZPCodes   []byte
	ZPF32     []float32
	ZPF16     []uint16
	GIdx      []int32
}

// Blocks returns the number of quantization blocks per row, ceil(K/BlockSize).
func (w *QMatrix) Blocks() int { return (w.K + w.BlockSize - 1) / w.BlockSize }

// BlobSize returns the bytes per block, BlockSize*Bits/8.
func (w *QMatrix) BlobSize() int { return w.BlockSize * w.Bits / 8 }

// qgSmallM is the largest row count served by the GEMV kernels; larger
// products dequantize panels of qgPanel weight rows and call Sgemm.
const (
	qgSmallM = 4
	qgPanel  = 64
)

// scale returns the scale of block b of row n.
func (w *QMatrix) scale(n, b int) float32 {
	i := n*w.Blocks() + b
	if w.ScalesF32 != nil {
		return w.ScalesF32[i]
	}
	return nnH2F(w.ScalesF16[i])
}

// zeroPoint returns the zero point of block b of row n.
func (w *QMatrix) zeroPoint(n, b int) float32 {
	nb := w.Blocks()
	switch {
	case w.ZPF32 != nil:
		return w.ZPF32[n*nb+b]
	case w.ZPF16 != nil:
		return nnH2F(w.ZPF16[n*nb+b])
	case w.ZPCodes != nil:
		row := (nb*w.Bits + 7) / 8
		bit := b * w.Bits
		v := w.ZPCodes[n*row+bit/8] >> (bit % 8)
		return float32(v & byte(1<<w.Bits-1))
	}
	return float32(int(1) << (w.Bits - 1))
}

// code returns the raw code of element k in the block data of row n.
func (w *QMatrix) code(row []byte, k int) int {
	b := k / w.BlockSize
	j := k % w.BlockSize
	blob := row[b*w.BlobSize():]
	switch w.Bits {
	case 8:
		return int(blob[j])
	case 4:
		return int(blob[j/2]>>(4*(j&1))) & 15
	}
	bit := j * w.Bits
	return int(blob[bit/8]>>(bit%8)) & (1<<w.Bits - 1)
}

// Check validates the matrix: sizes of every slice against N, K, BlockSize
// and Bits (2, 4 or 8; BlockSize a power of two >= 16). It returns a
// description of the first problem, or "".
func (w *QMatrix) Check() string {
	switch {
	case w.N <= 0 || w.K <= 0:
		return "N and K must be positive"
	case w.Bits != 2 && w.Bits != 4 && w.Bits != 8:
		return "bits must be 2, 4 or 8"
	case w.BlockSize < 16 || w.BlockSize&(w.BlockSize-1) != 0:
		return "block_size must be a power of two >= 16"
	}
	nb := w.Blocks()
	ns := len(w.ScalesF32) + len(w.ScalesF16)
	switch {
	case len(w.Data) != w.N*nb*w.BlobSize():
		return "weight data size does not match N, K, block_size and bits"
	case (w.ScalesF32 == nil) == (w.ScalesF16 == nil) || ns != w.N*nb:
		return "scales must hold N*ceil(K/block_size) values"
	case w.ZPCodes != nil && len(w.ZPCodes) != w.N*((nb*w.Bits+7)/8):
		return "packed zero points must hold N*ceil(blocks*bits/8) bytes"
	case w.ZPF32 != nil && len(w.ZPF32) != w.N*nb, w.ZPF16 != nil && len(w.ZPF16) != w.N*nb:
		return "float zero points must hold N*ceil(K/block_size) values"
	case w.GIdx != nil && len(w.GIdx) != w.K:
		return "g_idx must hold K values"
	}
	for _, g := range w.GIdx {
		if g < 0 || int(g) >= nb {
			return "g_idx value out of range"
		}
	}
	return ""
}

// QGemm computes C = A * W^T (+ bias): A is m x K float32 with row stride
// lda, W the quantized N x K matrix, C m x N with row stride ldc, bias nil or
// N values. Up to 4 rows (token decode, batch 1-2 with or without guidance)
// run the GEMV kernel, which dequantizes each block on the fly inside the dot
// product; larger m dequantize panels of 64 weight rows into a scratch buffer
// and use the float32 GEMM. Work is split over N; every output element is
// reduced by one goroutine in a fixed order, so the result is bit-identical
// for any thread count. w must pass Check.
func QGemm(m int, a []float32, lda int, w *QMatrix, bias []float32, c []float32, ldc int, threads int) {
	if s := active.Load(); s.qk.f32 != nil && m <= qgSmallM && qkFloatFits(w) {
		qkGemvF32(s, m, a, lda, w, bias, c, ldc, threads)
		return
	}
	qgRun(m, w, threads, func(n0, n1 int) {
		if w.GIdx == nil && m <= qgSmallM {
			qgGemvRange(m, a, lda, w, c, ldc, n0, n1)
		} else {
			qgPanelRange(m, a, lda, w, c, ldc, n0, n1)
		}
		qgAddBias(m, bias, c, ldc, n0, n1)
	})
}

// qgRun splits [0, N) into chunks and runs f on them in parallel. The chunk
// size only depends on N and m, so the split is the same for every thread
// count (the results do not depend on it anyway).
func qgRun(m int, w *QMatrix, threads int, f func(n0, n1 int)) {
	chunk := 16
	if m > qgSmallM || w.GIdx != nil {
		chunk = qgPanel
	}
	tasks := (w.N + chunk - 1) / chunk
	if threads < 1 {
		threads = 1
	}
	if work := m * w.N * w.K / (1 << 15); threads > work+1 {
		threads = work + 1
	}
	nnParallel(threads, tasks, func(t int) {
		f(t*chunk, min(w.N, (t+1)*chunk))
	})
}

func qgAddBias(m int, bias, c []float32, ldc, n0, n1 int) {
	if bias == nil {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc+n0 : i*ldc+n1]
		for j := range row {
			row[j] += bias[n0+j]
		}
	}
}

// qgGemvRange computes columns [n0, n1) of C for m <= qgSmallM rows: per
// block, the dot product of the A segment with (code - zp), times the scale.
func qgGemvRange(m int, a []float32, lda int, w *QMatrix, c []float32, ldc, n0, n1 int) {
	nb, bs, blob := w.Blocks(), w.BlockSize, w.BlobSize()
	for n := n0; n < n1; n++ {
		row := w.Data[n*nb*blob : (n+1)*nb*blob]
		var acc [qgSmallM]float32
		for b := 0; b < nb; b++ {
			k0 := b * bs
			kn := min(bs, w.K-k0)
			codes := row[b*blob : (b+1)*blob]
			sc, zp := w.scale(n, b), w.zeroPoint(n, b)
			for i := 0; i < m; i++ {
				seg := a[i*lda+k0 : i*lda+k0+kn]
				var s float32
				switch w.Bits {
				case 4:
					s = qgDot4(seg, codes, zp)
				case 8:
					s = qgDot8(seg, codes, zp)
				default:
					s = qgDotBits(seg, codes, zp, w.Bits)
				}
				acc[i] += s * sc
			}
		}
		for i := 0; i < m; i++ {
			c[i*ldc+n] = acc[i]
		}
	}
}

// qgDot4 returns sum_j a[j]*(code_j - zp) over len(a) 4-bit codes.
func qgDot4(a []float32, codes []byte, zp float32) float32 {
	var s0, s1, s2, s3 float32
	n := len(a)
	j := 0
	for ; j+4 <= n; j += 4 {
		b0, b1 := codes[j/2], codes[j/2+1]
		s0 += a[j] * (float32(b0&15) - zp)
		s1 += a[j+1] * (float32(b0>>4) - zp)
		s2 += a[j+2] * (float32(b1&15) - zp)
		s3 += a[j+3] * (float32(b1>>4) - zp)
	}
	for ; j < n; j++ {
		s0 += a[j] * (float32(codes[j/2]>>(4*(j&1))&15) - zp)
	}
	return (s0 + s1) + (s2 + s3)
}

// qgDot8 returns sum_j a[j]*(code_j - zp) over len(a) 8-bit codes.
func qgDot8(a []float32, codes []byte, zp float32) float32 {
	var s0, s1 float32
	n := len(a)
	j := 0
	for ; j+2 <= n; j += 2 {
		s0 += a[j] * (float32(codes[j]) - zp)
		s1 += a[j+1] * (float32(codes[j+1]) - zp)
	}
	if j < n {
		s0 += a[j] * (float32(codes[j]) - zp)
	}
	return s0 + s1
}

// qgDotBits is the generic dot for other code widths (2 bits).
func qgDotBits(a []float32, codes []byte, zp float32, bits int) float32 {
	var s float32
	mask := byte(1<<bits - 1)
	for j := range a {
		bit := j * bits
		s += a[j] * (float32(codes[bit/8]>>(bit%8)&mask) - zp)
	}
	return s
}

var qgPanelPool sync.Pool

// qgPanelRange dequantizes weight rows [n0, n1) into a scratch panel and
// multiplies with the float32 GEMM (one thread: the caller parallelizes).
func qgPanelRange(m int, a []float32, lda int, w *QMatrix, c []float32, ldc, n0, n1 int) {
	rows := n1 - n0
	need := rows * w.K
	p, _ := qgPanelPool.Get().(*[]float32)
	if p == nil || cap(*p) < need {
		s := make([]float32, need)
		p = &s
	}
	panel := (*p)[:need]
	for n := n0; n < n1; n++ {
		w.dequantRow(n, panel[(n-n0)*w.K:(n-n0+1)*w.K])
	}
	Sgemm(false, true, m, rows, w.K, 1, a, lda, panel, w.K, 0, c[n0:], ldc, 1)
	qgPanelPool.Put(p)
}

// dequantRow writes the K dequantized values of row n to dst.
func (w *QMatrix) dequantRow(n int, dst []float32) {
	nb, blob := w.Blocks(), w.BlobSize()
	row := w.Data[n*nb*blob : (n+1)*nb*blob]
	if w.GIdx != nil {
		for k := range dst {
			g := int(w.GIdx[k])
			dst[k] = (float32(w.code(row, k)) - w.zeroPoint(n, g)) * w.scale(n, g)
		}
		return
	}
	for b := 0; b < nb; b++ {
		k0 := b * w.BlockSize
		kn := min(w.BlockSize, w.K-k0)
		sc, zp := w.scale(n, b), w.zeroPoint(n, b)
		for j := 0; j < kn; j++ {
			dst[k0+j] = (float32(w.code(row, k0+j)) - zp) * sc
		}
	}
}

// DequantRow writes the K dequantized values of weight row n to dst (for
// tests and tools; the products never dequantize the whole matrix).
func (w *QMatrix) DequantRow(n int, dst []float32) { w.dequantRow(n, dst[:w.K]) }

// QuantizedA is the int8 form of an activation matrix used by QGemmInt8:
// each row is split in blocks of the weight's BlockSize, and each block is
// stored as int8 values with one float32 scale (amax/127), as ONNX Runtime's
// accuracy_level 4 (CompInt8) does. Build it with QuantizeA.
type QuantizedA struct {
	M, K, BlockSize int
	Q               []int8    // M x (blocks*BlockSize), blocks zero-padded
	Scale           []float32 // M x blocks
}

// QuantizeA quantizes m rows of A (row stride lda) per block to int8 with
// round-to-nearest-even, reusing q's storage when it is large enough.
func QuantizeA(q *QuantizedA, m, k, blockSize int, a []float32, lda int) {
	nb := (k + blockSize - 1) / blockSize
	q.M, q.K, q.BlockSize = m, k, blockSize
	if cap(q.Q) < m*nb*blockSize {
		q.Q = make([]int8, m*nb*blockSize)
	}
	if cap(q.Scale) < m*nb {
		q.Scale = make([]float32, m*nb)
	}
	q.Q, q.Scale = q.Q[:m*nb*blockSize], q.Scale[:m*nb]
	for i := 0; i < m; i++ {
		for b := 0; b < nb; b++ {
			k0 := b * blockSize
			kn := min(blockSize, k-k0)
			seg := a[i*lda+k0 : i*lda+k0+kn]
			var amax float32
			for _, v := range seg {
				amax = max(amax, math.Float32frombits(math.Float32bits(v)&0x7fffffff))
			}
			sc := amax / 127
			inv := float32(0)
			if sc != 0 {
				inv = 1 / sc
			}
			dst := q.Q[(i*nb+b)*blockSize : (i*nb+b+1)*blockSize]
			dst = dst[:len(seg)]
			for j, v := range seg {
				// |v*inv| <= 127 (up to rounding): adding and removing
				// 1.5*2^23 rounds it to the nearest integer, ties to even,
				// as math.RoundToEven does.
				x := float32(v * inv) // rounded: no FMA with the add below
				r := float32(x+qkRoundMagic) - qkRoundMagic
				if r > 127 {
					r = 127
				} else if r < -127 {
					r = -127
				}
				dst[j] = int8(r)
			}
			dst = q.Q[(i*nb+b)*blockSize : (i*nb+b+1)*blockSize]
			clear(dst[kn:])
			q.Scale[i*nb+b] = sc
		}
	}
}

// QGemmInt8 is QGemm with int8 activations (ONNX Runtime accuracy_level 4):
// per block, the integer dot product s_b of the quantized A with
// (code - zp) is scaled by the A scale times the weight scale and
// accumulated in float32 in 8 partial sums, block b into sum b mod 8:
//
//	acc[b%8] += float32(s_b) * (aScale_b * wScale_b)   (two roundings, no FMA)
//	c = ((acc0+acc1) + (acc4+acc5)) + ((acc2+acc3) + (acc6+acc7))
//
// Every kernel set computes s_b exactly and follows this order (a vector
// of 8 lanes holds 8 consecutive blocks), so the result is bit-identical
// across sets and thread counts. Zero points must be integer codes (ZPCodes
// or none); float zero points and GIdx are not supported (the caller uses
// QGemm for those).
func QGemmInt8(qa *QuantizedA, w *QMatrix, bias []float32, c []float32, ldc int, threads int) {
	if s := active.Load(); s.qk.i8 != nil && qkI8Fits(qa, w) {
		qkGemvI8(s, qa, w, bias, c, ldc, threads)
		return
	}
	qgRun(min(qa.M, qgSmallM), w, threads, func(n0, n1 int) {
		qgI8Cols(qa, w, c, ldc, n0, n1)
		qgAddBias(qa.M, bias, c, ldc, n0, n1)
	})
}

// qgI8Cols computes columns [n0, n1) of every row of QGemmInt8 in Go.
func qgI8Cols(qa *QuantizedA, w *QMatrix, c []float32, ldc, n0, n1 int) {
	m := qa.M
	nb, bs, blob := w.Blocks(), w.BlockSize, w.BlobSize()
	for n := n0; n < n1; n++ {
		row := w.Data[n*nb*blob : (n+1)*nb*blob]
		for i := 0; i < m; i++ {
			var acc [8]float32
			for b := 0; b < nb; b++ {
				kn := min(bs, w.K-b*bs)
				aq := qa.Q[(i*nb+b)*bs : (i*nb+b)*bs+kn]
				codes := row[b*blob : (b+1)*blob]
				zp := int32(w.zeroPoint(n, b))
				var s int32
				switch w.Bits {
				case 4:
					s = qgIDot4(aq, codes, zp)
				default:
					for j := range aq {
						s += int32(aq[j]) * (int32(w.code(row, b*bs+j)) - zp)
					}
				}
				acc[b%8] += qgI8Term(s, qa.Scale[i*nb+b], w.scale(n, b))
			}
			c[i*ldc+n] = qgI8Sum(&acc)
		}
	}
}

// qgI8Term is the float32 contribution of one block: float32(s) times
// (aScale*wScale), each product rounded (the conversions forbid fusing it
// into an FMA with the following add, which Go does on arm64).
func qgI8Term(s int32, aScale, wScale float32) float32 {
	return float32(float32(s) * float32(aScale*wScale))
}

// qgI8Sum combines the 8 block-residue accumulators of QGemmInt8 in the
// order of the kernels' lane reduction.
func qgI8Sum(a *[8]float32) float32 {
	return ((a[0] + a[1]) + (a[4] + a[5])) + ((a[2] + a[3]) + (a[6] + a[7]))
}

// qgIDot4 returns sum_j aq[j]*(code_j - zp) over len(aq) 4-bit codes.
func qgIDot4(aq []int8, codes []byte, zp int32) int32 {
	var s0, s1 int32
	n := len(aq)
	j := 0
	for ; j+2 <= n; j += 2 {
		b := codes[j/2]
		s0 += int32(aq[j]) * (int32(b&15) - zp)
		s1 += int32(aq[j+1]) * (int32(b>>4) - zp)
	}
	if j < n {
		s0 += int32(aq[j]) * (int32(codes[j/2]&15) - zp)
	}
	return s0 + s1
}

// qkImpl holds the assembly GEMV kernels of a kernel set; nil entries keep
// the pure-Go code. dot names the integer dot-product instruction used
// (for Describe).
type qkImpl struct {
	i8  func(j qkI8Job)  // 4-bit x int8, 1-2 rows, 8 blocks per vector
	f32 func(j qkF32Job) // 4-bit x float32, one column at a time, 1-4 rows
	hg  func(j hgJob)    // float16 weights x float32, 1-2 rows
	dot string
}

// qkChunk is the number of output columns per parallel task of the
// assembly paths (a multiple of 8, so that the 8-column groups sit at the
// same places for every thread count).
const qkChunk = 64

// qkFloatFits reports whether the float assembly kernel handles w: 4-bit
// codes, blocks a multiple of 32 long, no g_idx.
func qkFloatFits(w *QMatrix) bool {
	return w.Bits == 4 && w.GIdx == nil && w.BlockSize%32 == 0
}

// qkI8Fits reports whether the int8 assembly kernel handles the product:
// 4-bit codes, blocks of 32, 64 or 128 (the AVX2 kernel sums a block's
// pair products in int16 lanes: 4 sub-blocks of at most 2·15·127 stay below
// 2^15), integer or implicit zero points, no g_idx.
func qkI8Fits(qa *QuantizedA, w *QMatrix) bool {
	return w.Bits == 4 && w.GIdx == nil && w.ZPF32 == nil && w.ZPF16 == nil &&
		w.BlockSize%32 == 0 && w.BlockSize <= 128 && qa.BlockSize == w.BlockSize && qa.K == w.K
}

// qkRun splits [0, N) into qkChunk-column tasks.
func qkRun(work int, n, threads int, f func(n0, n1 int)) {
	tasks := (n + qkChunk - 1) / qkChunk
	if threads < 1 {
		threads = 1
	}
	if w := work / (1 << 15); threads > w+1 {
		threads = w + 1
	}
	nnParallel(threads, tasks, func(t int) {
		f(t*qkChunk, min(n, (t+1)*qkChunk))
	})
}

// qkSafeCols returns the first column the int8 kernel must not reach: it
// reads the float16 scales by pairs and the packed zero points 4 bytes at a
// time, so the last columns are left to Go where those reads could run past
// the end of the slices.
func qkSafeCols(w *QMatrix) int {
	if w.ScalesF16 != nil || w.ZPCodes != nil {
		return max(0, w.N-4)
	}
	return w.N
}

// qkGemvI8 is QGemmInt8 on the set's int8 kernel: the activations are
// permuted and interleaved by row pairs once (qkPrepI8), then each task runs
// the kernel on its columns, row pair by row pair; the last columns of the
// matrix may be left to qgI8Cols (same bits, see qkSafeCols).
func qkGemvI8(s *Set, qa *QuantizedA, w *QMatrix, bias, c []float32, ldc, threads int) {
	m := qa.M
	if m == 0 {
		return
	}
	nb, sub := w.Blocks(), w.BlockSize/32
	g := (nb + 7) / 8
	aqLen := g * 256 * sub * m // bytes
	sz := aqLen/4 + g*8*m*2
	buf := nnGetBuf(sz)
	defer nnPutBuf(buf)
	f := *buf
	aq := unsafe.Slice((*int8)(unsafe.Pointer(&f[0])), aqLen)
	asum := unsafe.Slice((*int32)(unsafe.Pointer(&f[aqLen/4])), g*8*m)
	sa := f[aqLen/4+g*8*m : sz]
	qkPrepI8(qa, nb, sub, w.ZPCodes == nil, aq, asum, sa)
	safe := qkSafeCols(w)
	rowBytes := nb * w.BlobSize()
	zrow := 0
	if w.ZPCodes != nil {
		zrow = (nb*4 + 7) / 8
	}
	qkRun(m*w.N*w.K, w.N, threads, func(n0, n1 int) {
		cols := max(0, min(n1, safe)-n0)
		if cols > 0 {
			for p := 0; p < (m+1)/2; p++ {
				mp := min(2, m-2*p)
				j := qkI8Job{
					w: w.Data[n0*rowBytes:], rowBytes: rowBytes, cols: cols, nb: nb, sub: sub, mp: mp,
					aq:   aq[g*256*sub*2*p : g*256*sub*(2*p+mp)],
					asum: asum[g*8*2*p : g*8*(2*p+mp)],
					sa:   sa[g*8*2*p : g*8*(2*p+mp)],
					c:    c[2*p*ldc+n0:], ldc: ldc,
				}
				if w.ScalesF32 != nil {
					j.wsF32 = w.ScalesF32[n0*nb:]
				} else {
					j.wsF16 = w.ScalesF16[n0*nb:]
				}
				if w.ZPCodes != nil {
					j.zp, j.zrow = w.ZPCodes[n0*zrow:], zrow
				}
				s.qk.i8(j)
			}
		}
		qgI8Cols(qa, w, c, ldc, n0+cols, n1)
		qgAddBias(m, bias, c, ldc, n0, n1)
	})
}

// qkGemvF32 is the m <= 4 path of QGemm on the set's float kernel.
func qkGemvF32(s *Set, m int, a []float32, lda int, w *QMatrix, bias, c []float32, ldc, threads int) {
	if m == 0 {
		return
	}
	nb, sub := w.Blocks(), w.BlockSize/32
	kp := nb * w.BlockSize
	buf := nnGetBuf(m*kp + m*nb*8)
	defer nnPutBuf(buf)
	ap, asum := (*buf)[:m*kp], (*buf)[m*kp:]
	qkPrepF32(m, a, lda, w.K, nb, sub, ap, asum)
	rowBytes := nb * w.BlobSize()
	zrow := (nb*4 + 7) / 8
	qkRun(m*w.N*w.K, w.N, threads, func(n0, n1 int) {
		j := qkF32Job{
			w: w.Data[n0*rowBytes:], rowBytes: rowBytes, cols: n1 - n0, nb: nb, sub: sub, m: m,
			a: ap, asum: asum, c: c[n0:], ldc: ldc,
		}
		if w.ScalesF32 != nil {
			j.wsF32 = w.ScalesF32[n0*nb:]
		} else {
			j.wsF16 = w.ScalesF16[n0*nb:]
		}
		switch {
		case w.ZPCodes != nil:
			j.zpMode, j.zpCodes, j.zrow = qkZPCodes, w.ZPCodes[n0*zrow:], zrow
		case w.ZPF32 != nil:
			j.zpMode, j.zpF32 = qkZPF32, w.ZPF32[n0*nb:]
		case w.ZPF16 != nil:
			j.zpMode, j.zpF16 = qkZPF16, w.ZPF16[n0*nb:]
		}
		s.qk.f32(j)
		qgAddBias(m, bias, c, ldc, n0, n1)
	})
}

// qkRoundMagic is 1.5*2^23: x+qkRoundMagic-qkRoundMagic rounds a float32
// |x| < 2^22 to an integer, ties to even.
const qkRoundMagic = 12582912

// Panic messages of the GEMV kernel wrappers.
const (
	qkErrArgs  = "kernels: bad qgemv kernel arguments"
	qkErrShort = "kernels: qgemv kernel operand too short"
)
