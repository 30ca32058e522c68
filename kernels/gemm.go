package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/x448/float16"
)

// Blocking parameters. A packed MC x KC block of A stays in L2 while a KC x NR
// sliver of packed B is reused from L1 by the MR x NR micro-kernel.
const (
	nnMR = 2
	nnNR = 4
	nnMC = 64
	nnKC = 256
	nnNC = 4096
)

// Operand is one matrix operand of Gemm, stored as float32 (F32) or as
// float16 bits (F16; widened to float32 while packing, so fp16 weights are
// never copied to a float32 buffer). Exactly one of F32 and F16 is used.
// LD is the leading dimension (row stride) of the stored matrix and Trans says
// the stored matrix is the transpose of the operand.
type Operand struct {
	F32   []float32
	F16   []uint16
	LD    int
	Trans bool
}

// Sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major float32
// matrices, where op(A) is m x k (A is k x m with lda >= m when transA) and
// op(B) is k x n (B is n x k with ldb >= k when transB). C is m x n with
// ldc >= n. With beta == 0, C is not read (NaNs in C do not propagate).
// threads bounds the number of goroutines (< 1 means 1). The result is
// bit-identical for every thread count.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, threads int) {
	Gemm(m, n, k, alpha, Operand{F32: a, LD: lda, Trans: transA}, Operand{F32: b, LD: ldb, Trans: transB}, beta, c, ldc, threads)
}

// Gemm is Sgemm with operands that may be float16 (see Operand).
func Gemm(m, n, k int, alpha float32, a, b Operand, beta float32, c []float32, ldc int, threads int) {
	if m <= 0 || n <= 0 {
		return
	}
	if threads < 1 {
		threads = 1
	}
	if k <= 0 || alpha == 0 {
		nnScaleC(m, n, beta, c, ldc)
		return
	}
	if a.F32 == nil && a.F16 == nil || b.F32 == nil && b.F16 == nil {
		panic("kernels: Gemm operand has no data")
	}
	// Work is split into tasks; small problems use fewer goroutines.
	if w := (m*n*k)/(1<<15) + 1; threads > w {
		threads = w
	}

	mBlocks := (m + nnMC - 1) / nnMC
	kcMax := min(k, nnKC)
	aPack := nnGetBuf(((m + nnMR - 1) / nnMR) * nnMR * kcMax)
	defer nnPutBuf(aPack)
	ncMax := min(n, nnNC)
	bPack := nnGetBuf(((ncMax + nnNR - 1) / nnNR) * nnNR * kcMax)
	defer nnPutBuf(bPack)
	ap, bp := *aPack, *bPack

	// The loop state lives outside the loops and the two task functions are
	// built once, so the number of allocations does not grow with k or n.
	var l struct {
		jc, nc, nSlivers, nGroups, slPerGroup, pc, kc, packTasks int
		first                                                    bool
	}
	aSl := (m + nnMR - 1) / nnMR
	// Phase 1: pack A (all rows, this k block) and B (this panel).
	pack := func(t int) {
		for s := t * 8; s < min(l.packTasks, t*8+8); s++ {
			if s < aSl {
				nnPackA(ap[s*nnMR*l.kc:(s+1)*nnMR*l.kc], a, s*nnMR, min(nnMR, m-s*nnMR), l.pc, l.kc)
			} else {
				j := s - aSl
				nnPackB(bp[j*nnNR*l.kc:(j+1)*nnNR*l.kc], b, l.jc+j*nnNR, min(nnNR, l.nc-j*nnNR), l.pc, l.kc)
			}
		}
	}
	// Phase 2: compute; each task owns an MC x (group of slivers) tile of C.
	compute := func(t int) {
		ib, g := t/l.nGroups, t%l.nGroups
		i0 := ib * nnMC
		mc := min(nnMC, m-i0)
		j0 := g * l.slPerGroup
		j1 := min(l.nSlivers, j0+l.slPerGroup)
		var acc [nnMR * nnNR]float32
		for js := j0; js < j1; js++ {
			bs := bp[js*nnNR*l.kc : (js+1)*nnNR*l.kc]
			col := l.jc + js*nnNR
			nr := min(nnNR, n-col)
			for ir := 0; ir < mc; ir += nnMR {
				row := i0 + ir
				as := ap[(row/nnMR)*nnMR*l.kc : (row/nnMR+1)*nnMR*l.kc]
				nnKernel2x4(as, bs, &acc)
				nnStore(&acc, c[row*ldc+col:], ldc, min(nnMR, m-row), nr, alpha, beta, l.first)
			}
		}
	}
	for l.jc = 0; l.jc < n; l.jc += nnNC {
		l.nc = min(nnNC, n-l.jc)
		l.nSlivers = (l.nc + nnNR - 1) / nnNR
		// Column groups per row block so there are enough tasks for all threads.
		l.nGroups = 1
		if mBlocks < threads*2 {
			l.nGroups = min(l.nSlivers, (threads*2+mBlocks-1)/mBlocks)
		}
		l.slPerGroup = (l.nSlivers + l.nGroups - 1) / l.nGroups
		l.nGroups = (l.nSlivers + l.slPerGroup - 1) / l.slPerGroup
		for l.pc = 0; l.pc < k; l.pc += nnKC {
			l.kc = min(nnKC, k-l.pc)
			l.first = l.pc == 0
			l.packTasks = aSl + l.nSlivers
			nnParallel(threads, (l.packTasks+7)/8, pack)
			nnParallel(threads, mBlocks*l.nGroups, compute)
		}
	}
}

// nnScaleC sets C = beta*C (C = 0 when beta == 0).
func nnScaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// nnStore adds alpha*acc into an mr x nr tile of C (scaling C by beta first
// when this is the first k block).
func nnStore(acc *[nnMR * nnNR]float32, c []float32, ldc, mr, nr int, alpha, beta float32, first bool) {
	for i := 0; i < mr; i++ {
		row := c[i*ldc : i*ldc+nr]
		ac := acc[i*nnNR : i*nnNR+nr]
		switch {
		case first && beta == 0:
			if alpha == 1 {
				copy(row, ac)
			} else {
				for j, v := range ac {
					row[j] = alpha * v
				}
			}
		case first && beta != 1:
			for j, v := range ac {
				row[j] = beta*row[j] + alpha*v
			}
		case alpha == 1:
			for j, v := range ac {
				row[j] += v
			}
		default:
			for j, v := range ac {
				row[j] += alpha * v
			}
		}
	}
}

// nnKernel2x4 computes the 2x4 product of a packed A sliver (kc x 2) and a
// packed B sliver (kc x 4) into acc, accumulating in k order. 2x4 keeps all
// eight accumulators, four B and two A values in the 15 float registers Go
// uses on amd64 (a 4x4 tile spills and runs at less than half the speed); the
// main loop is unrolled four k steps.
func nnKernel2x4(a, b []float32, acc *[nnMR * nnNR]float32) {
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
	*acc = [nnMR * nnNR]float32{c00, c01, c02, c03, c10, c11, c12, c13}
}

// nnPackA packs rows [i0, i0+mr) x cols [p0, p0+kc) of op(A) into dst as kc
// groups of nnMR values (zero-padded when mr < nnMR).
func nnPackA(dst []float32, a Operand, i0, mr, p0, kc int) {
	dst = dst[:kc*nnMR]
	if mr < nnMR {
		clear(dst)
	}
	ld := a.LD
	for i := 0; i < mr; i++ {
		r := i0 + i
		if a.Trans { // op(A)[r][p] = A[p][r]
			if a.F16 != nil {
				for p := 0; p < kc; p++ {
					dst[p*nnMR+i] = nnH2F(a.F16[(p0+p)*ld+r])
				}
			} else {
				for p := 0; p < kc; p++ {
					dst[p*nnMR+i] = a.F32[(p0+p)*ld+r]
				}
			}
			continue
		}
		if a.F16 != nil {
			src := a.F16[r*ld+p0 : r*ld+p0+kc]
			for p, v := range src {
				dst[p*nnMR+i] = nnH2F(v)
			}
		} else {
			src := a.F32[r*ld+p0 : r*ld+p0+kc]
			for p, v := range src {
				dst[p*nnMR+i] = v
			}
		}
	}
}

// nnPackB packs rows [p0, p0+kc) x cols [j0, j0+nr) of op(B) into dst as kc
// groups of nnNR values (zero-padded when nr < nnNR).
func nnPackB(dst []float32, b Operand, j0, nr, p0, kc int) {
	dst = dst[:kc*nnNR]
	if nr < nnNR {
		clear(dst)
	}
	ld := b.LD
	if !b.Trans { // op(B)[p][j] = B[p][j]: rows are contiguous
		for p := 0; p < kc; p++ {
			d := dst[p*nnNR : p*nnNR+nr]
			off := (p0+p)*ld + j0
			if b.F16 != nil {
				for j, v := range b.F16[off : off+nr] {
					d[j] = nnH2F(v)
				}
			} else {
				copy(d, b.F32[off:off+nr])
			}
		}
		return
	}
	for j := 0; j < nr; j++ { // op(B)[p][j] = B[j][p]
		off := (j0+j)*ld + p0
		if b.F16 != nil {
			for p, v := range b.F16[off : off+kc] {
				dst[p*nnNR+j] = nnH2F(v)
			}
		} else {
			for p, v := range b.F32[off : off+kc] {
				dst[p*nnNR+j] = v
			}
		}
	}
}

// nnH2F widens float16 bits to float32.
func nnH2F(h uint16) float32 { return float16.Frombits(h).Float32() }

// nnParallel runs f(0..n-1) on up to threads goroutines (inline when 1).
func nnParallel(threads, n int, f func(int)) {
	if threads > n {
		threads = n
	}
	if threads <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	wg.Add(threads)
	for w := 0; w < threads; w++ {
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}

// Parallel runs f(0..n-1) on up to threads goroutines (inline when threads <= 1).
func Parallel(threads, n int, f func(int)) { nnParallel(threads, n, f) }

var nnPool sync.Pool

// nnGetBuf returns a pooled float32 buffer of length n (contents undefined).
func nnGetBuf(n int) *[]float32 {
	if p, ok := nnPool.Get().(*[]float32); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	s := make([]float32, n)
	return &s
}

func nnPutBuf(p *[]float32) { nnPool.Put(p) }

// DefaultThreads is the thread count used when a caller passes 0.
func DefaultThreads() int { return runtime.GOMAXPROCS(0) }
