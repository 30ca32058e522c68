package kernels

import "github.com/x448/float16"

// gemmGeneric is the pure-Go GEMM used by the generic set. Its 2x4 tile keeps
// all eight accumulators, four B and two A values in the 15 float registers Go
// uses on amd64 (a 4x4 tile spills and runs at less than half the speed).
var gemmGeneric = gemmImpl{mr: 2, nr: 4, mc: 64, kc: 256, nc: 4096, kern: sgemmKernel2x4Generic, kernH: sgemmKernel2x4GenericH}

// sgemmTileGeneric is the reference micro-kernel for any mr x nr tile (the
// pure-Go twin of every assembly micro-kernel):
//
//	for i < mr, j < nr:
//		acc := float32(0)
//		for p := 0; p < kc; p++ { acc += a[p*mr+i] * b[p*nr+j] }
//		if add { c[i*ldc+j] += alpha * acc } else { c[i*ldc+j] = alpha * acc }
func sgemmTileGeneric(mr, nr, kc int, a, b, c []float32, ldc int, add bool, alpha float32) {
	checkTile(mr, nr, kc, a, b, c, ldc)
	var acc [maxMR * maxNR]float32
	for p := 0; p < kc; p++ {
		ap := a[p*mr : p*mr+mr]
		bp := b[p*nr : p*nr+nr]
		for i, av := range ap {
			row := acc[i*nr : i*nr+nr]
			for j, bv := range bp {
				row[j] += av * bv
			}
		}
	}
	storeTile(mr, nr, acc[:], c, ldc, add, alpha)
}

// sgemmTileGenericH is sgemmTileGeneric with B given as float16 bits, each
// value widened exactly first (the pure-Go twin of every fp16-B
// micro-kernel).
func sgemmTileGenericH(mr, nr, kc int, a []float32, b []uint16, c []float32, ldc int, add bool, alpha float32) {
	checkTileH(mr, nr, kc, a, b, c, ldc)
	bf := make([]float32, kc*nr)
	h2fGeneric(bf, b[:kc*nr])
	sgemmTileGeneric(mr, nr, kc, a, bf, c, ldc, add, alpha)
}

// sgemmKernel2x4GenericH is sgemmKernel2x4Generic on the widened float16 B
// sliver (the same operations in the same order).
func sgemmKernel2x4GenericH(kc int, a []float32, b []uint16, c []float32, ldc int, add bool, alpha float32) {
	checkTileH(2, 4, kc, a, b, c, ldc)
	var buf [4 * 256]float32
	var bf []float32
	if kc*4 <= len(buf) {
		bf = buf[:kc*4]
	} else {
		bf = make([]float32, kc*4)
	}
	h2fGeneric(bf, b[:kc*4])
	sgemmKernel2x4Generic(kc, a, bf, c, ldc, add, alpha)
}

// checkTileH is checkTile for a float16 B sliver.
func checkTileH(mr, nr, kc int, a []float32, b []uint16, c []float32, ldc int) {
	if kc < 1 {
		panic(errBadKC)
	}
	if len(a) < kc*mr {
		panic(errShortA)
	}
	if len(b) < kc*nr {
		panic(errShortB)
	}
	if ldc < nr {
		panic(errBadLdC)
	}
	if len(c) < (mr-1)*ldc+nr {
		panic(errShortC)
	}
}

// checkTile panics unless the operands of an mr x nr micro-kernel call are
// long enough.
func checkTile(mr, nr, kc int, a, b, c []float32, ldc int) {
	if kc < 1 {
		panic(errBadKC)
	}
	if len(a) < kc*mr {
		panic(errShortA)
	}
	if len(b) < kc*nr {
		panic(errShortB)
	}
	if ldc < nr {
		panic(errBadLdC)
	}
	if len(c) < (mr-1)*ldc+nr {
		panic(errShortC)
	}
}

// storeTile writes alpha*acc (mr x nr, row stride nr) to c, or adds it.
func storeTile(mr, nr int, acc, c []float32, ldc int, add bool, alpha float32) {
	for i := 0; i < mr; i++ {
		row := c[i*ldc : i*ldc+nr]
		ac := acc[i*nr : i*nr+nr]
		if add {
			for j, v := range ac {
				row[j] += alpha * v
			}
		} else {
			for j, v := range ac {
				row[j] = alpha * v
			}
		}
	}
}

// sgemmKernel2x4Generic is sgemmTileGeneric for a 2x4 tile with the k loop
// unrolled four steps and the accumulators in registers.
func sgemmKernel2x4Generic(kc int, a, b, c []float32, ldc int, add bool, alpha float32) {
	checkTile(2, 4, kc, a, b, c, ldc)
	a, b = a[:kc*2], b[:kc*4]
	var c00, c01, c02, c03 float32
	var c10, c11, c12, c13 float32
	for len(a) >= 8 && len(b) >= 16 {
		var b0, b1, b2, b3, a0, a1 float32
		b0, b1, b2, b3 = b[0], b[1], b[2], b[3]
		a0, a1 = a[0], a[1]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		b0, b1, b2, b3 = b[4], b[5], b[6], b[7]
		a0, a1 = a[2], a[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		b0, b1, b2, b3 = b[8], b[9], b[10], b[11]
		a0, a1 = a[4], a[5]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		b0, b1, b2, b3 = b[12], b[13], b[14], b[15]
		a0, a1 = a[6], a[7]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a = a[8:]
		b = b[16:]
	}
	for len(a) >= 2 && len(b) >= 4 {
		b0, b1, b2, b3 := b[0], b[1], b[2], b[3]
		a0, a1 := a[0], a[1]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a = a[2:]
		b = b[4:]
	}
	acc := [8]float32{c00, c01, c02, c03, c10, c11, c12, c13}
	storeTile(2, 4, acc[:], c, ldc, add, alpha)
}

// h2fGeneric widens float16 bits to float32: dst[i] = float32(src[i]).
func h2fGeneric(dst []float32, src []uint16) {
	if len(dst) < len(src) {
		panic(errShortConv)
	}
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = float16.Frombits(v).Float32()
	}
}

// nnH2F widens one float16 to float32.
func nnH2F(h uint16) float32 { return float16.Frombits(h).Float32() }

// packChunk is the scratch length for widening strided fp16 runs.
const packChunk = 256

// packA packs rows [i0, i0+mr) x cols [p0, p0+kc) of op(A) into dst as kc
// groups of MR values (zero-padded when mr < MR).
func packA(s *Set, dst []float32, a Operand, MR, i0, mr, p0, kc int) {
	dst = dst[:kc*MR]
	if mr < MR {
		clear(dst)
	}
	ld := a.LD
	if a.Trans { // op(A)[r][p] = A[p][r]: the mr values of one p are contiguous
		// fp16 runs are widened a whole vector at a time where the operand
		// has the values (mr is not a multiple of 8 on every set).
		if a.F32 != nil {
			for p := 0; p < kc; p++ {
				off := (p0+p)*ld + i0
				copy(dst[p*MR:p*MR+mr], a.F32[off:off+mr])
			}
			return
		}
		w := (mr + 7) &^ 7
		var buf [maxMR + 8]float32 // escapes through s.h2f: only on this path
		for p := 0; p < kc; p++ {
			off := (p0+p)*ld + i0
			d := dst[p*MR : p*MR+mr]
			if off+w <= len(a.F16) {
				s.h2f(buf[:w], a.F16[off:off+w])
				copy(d, buf[:mr])
			} else {
				s.h2f(d, a.F16[off:off+mr])
			}
		}
		return
	}
	var buf [packChunk]float32
	for i := 0; i < mr; i++ {
		off := (i0+i)*ld + p0
		if a.F32 != nil {
			for p, v := range a.F32[off : off+kc] {
				dst[p*MR+i] = v
			}
			continue
		}
		for q := 0; q < kc; q += packChunk {
			n := min(packChunk, kc-q)
			s.h2f(buf[:n], a.F16[off+q:off+q+n])
			for p, v := range buf[:n] {
				dst[(q+p)*MR+i] = v
			}
		}
	}
}

// packB packs rows [p0, p0+kc) x cols [j0, j0+nr) of op(B) into dst as kc
// groups of NR values (zero-padded when nr < NR).
func packB(s *Set, dst []float32, b Operand, NR, j0, nr, p0, kc int) {
	dst = dst[:kc*NR]
	if nr < NR {
		clear(dst)
	}
	ld := b.LD
	if !b.Trans { // op(B)[p][j] = B[p][j]: rows are contiguous
		for p := 0; p < kc; p++ {
			d := dst[p*NR : p*NR+nr]
			off := (p0+p)*ld + j0
			if b.F16 != nil {
				s.h2f(d, b.F16[off:off+nr])
			} else {
				copy(d, b.F32[off:off+nr])
			}
		}
		return
	}
	if b.F32 != nil {
		for j := 0; j < nr; j++ { // op(B)[p][j] = B[j][p]
			off := (j0+j)*ld + p0
			for p, v := range b.F32[off : off+kc] {
				dst[p*NR+j] = v
			}
		}
		return
	}
	// fp16: widen a chunk at a time (buf escapes through s.h2f, so it is
	// only declared on this path).
	var buf [packChunk]float32
	for j := 0; j < nr; j++ {
		off := (j0+j)*ld + p0
		for q := 0; q < kc; q += packChunk {
			n := min(packChunk, kc-q)
			s.h2f(buf[:n], b.F16[off+q:off+q+n])
			for p, v := range buf[:n] {
				dst[(q+p)*NR+j] = v
			}
		}
	}
}
