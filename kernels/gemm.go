package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// maxMR and maxNR bound the register tile of every micro-kernel (the edge
// tile scratch buffer is maxMR*maxNR floats).
const (
	maxMR = 12
	maxNR = 32
)

// gemmImpl is one GEMM micro-kernel with its blocking. A packed mc x kc block
// of A stays in L2 while a kc x nr sliver of packed B is reused from L1 by the
// mr x nr micro-kernel; the kc x nc panel of packed B lives in L3.
type gemmImpl struct {
	mr, nr     int
	mc, kc, nc int // mc is a multiple of mr, nc of nr
	// kern computes acc[i][j] = sum_p a[p*mr+i]*b[p*nr+j] for p = 0..kc-1 in
	// order, then c[i*ldc+j] = alpha*acc[i][j] (add false) or
	// c[i*ldc+j] += alpha*acc[i][j] (add true) for the full mr x nr tile.
	kern func(kc int, a, b, c []float32, ldc int, add bool, alpha float32)
}

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

// checkOperand panics unless o holds an r x q operand (after Trans).
func checkOperand(o Operand, r, q int, short, badLd string) {
	rows, cols := r, q
	if o.Trans {
		rows, cols = q, r
	}
	if o.LD < max(1, cols) {
		panic(badLd)
	}
	l := len(o.F32)
	if o.F32 == nil {
		l = len(o.F16)
	}
	if l < (rows-1)*o.LD+cols {
		panic(short)
	}
}

// Gemm is Sgemm with operands that may be float16 (see Operand). It uses the
// kernel set chosen at start-up (see Use); the micro-kernel tile is fixed per
// set, so results are bit-identical for every thread count but may differ in
// the last bits between sets.
func Gemm(m, n, k int, alpha float32, a, b Operand, beta float32, c []float32, ldc int, threads int) {
	if m <= 0 || n <= 0 {
		return
	}
	if ldc < n {
		panic(errBadLdC)
	}
	if len(c) < (m-1)*ldc+n {
		panic(errShortC)
	}
	if threads < 1 {
		threads = 1
	}
	if k <= 0 || alpha == 0 {
		nnScaleC(m, n, beta, c, ldc)
		return
	}
	if a.F32 == nil && a.F16 == nil || b.F32 == nil && b.F16 == nil {
		panic(errNoData)
	}
	checkOperand(a, m, k, errShortA, errBadLdA)
	checkOperand(b, k, n, errShortB, errBadLdB)
	// Work is split into tasks; small problems use fewer goroutines.
	if w := (m*n*k)/(1<<15) + 1; threads > w {
		threads = w
	}
	s := active.Load()
	g := &s.gemm
	mr, nr := g.mr, g.nr

	mBlocks := (m + g.mc - 1) / g.mc
	kcMax := min(k, g.kc)
	aPack := nnGetBuf(((m + mr - 1) / mr) * mr * kcMax)
	defer nnPutBuf(aPack)
	ncMax := min(n, g.nc)
	bPack := nnGetBuf(((ncMax + nr - 1) / nr) * nr * kcMax)
	defer nnPutBuf(bPack)
	ap, bp := *aPack, *bPack

	// The loop state lives outside the loops and the two task functions are
	// built once, so a call allocates the same few closures however many
	// blocks it walks (a decode step's attention GEMMs grow with the past).
	var (
		jc, nc, nSlivers, nGroups, slPerGroup int
		pc, kc, aSl, packTasks                int
		first                                 bool
	)
	// Tasks per k block are mBlocks·nGroups ≤ mBlocks + 2·threads.
	edgeBuf := nnGetBuf((mBlocks + 2*threads + 1) * maxMR * maxNR)
	defer nnPutBuf(edgeBuf)
	edge := *edgeBuf
	packTask := func(t int) {
		for q := t * 8; q < min(packTasks, t*8+8); q++ {
			if q < aSl {
				packA(s, ap[q*mr*kc:(q+1)*mr*kc], a, mr, q*mr, min(mr, m-q*mr), pc, kc)
			} else {
				j := q - aSl
				packB(s, bp[j*nr*kc:(j+1)*nr*kc], b, nr, jc+j*nr, min(nr, nc-j*nr), pc, kc)
			}
		}
	}
	computeTask := func(t int) {
		ib, gr := t/nGroups, t%nGroups
		i0 := ib * g.mc
		mc := min(g.mc, m-i0)
		j0 := gr * slPerGroup
		j1 := min(nSlivers, j0+slPerGroup)
		add := !first || beta != 0
		if first && beta != 0 && beta != 1 {
			c0 := jc + j0*nr
			c1 := min(n, jc+j1*nr)
			for i := i0; i < i0+mc; i++ {
				row := c[i*ldc+c0 : i*ldc+c1]
				for j := range row {
					row[j] *= beta
				}
			}
		}
		// Edge-tile scratch: one tile per task, from a buffer taken once per
		// call (a local array would escape through g.kern and be allocated
		// per task).
		tmp := edge[t*maxMR*maxNR : (t+1)*maxMR*maxNR]
		for js := j0; js < j1; js++ {
			bs := bp[js*nr*kc : (js+1)*nr*kc]
			col := jc + js*nr
			cn := min(nr, n-col)
			for ir := 0; ir < mc; ir += mr {
				row := i0 + ir
				as := ap[(row/mr)*mr*kc : (row/mr+1)*mr*kc]
				cm := min(mr, m-row)
				if cm == mr && cn == nr {
					g.kern(kc, as, bs, c[row*ldc+col:], ldc, add, alpha)
					continue
				}
				// Edge tile: compute into tmp, then merge.
				g.kern(kc, as, bs, tmp[:], nr, false, alpha)
				for i := 0; i < cm; i++ {
					dst := c[(row+i)*ldc+col : (row+i)*ldc+col+cn]
					src := tmp[i*nr : i*nr+cn]
					if add {
						for j, v := range src {
							dst[j] += v
						}
					} else {
						copy(dst, src)
					}
				}
			}
		}
	}
	for jc = 0; jc < n; jc += g.nc {
		nc = min(g.nc, n-jc)
		nSlivers = (nc + nr - 1) / nr
		// Column groups per row block so there are enough tasks for all
		// threads. Tiles stay at the same mr/nr-aligned positions whatever
		// the grouping, so the arithmetic does not depend on threads.
		nGroups = 1
		if mBlocks < threads*2 {
			nGroups = min(nSlivers, (threads*2+mBlocks-1)/mBlocks)
		}
		slPerGroup = (nSlivers + nGroups - 1) / nGroups
		nGroups = (nSlivers + slPerGroup - 1) / slPerGroup
		for pc = 0; pc < k; pc += g.kc {
			kc = min(g.kc, k-pc)
			first = pc == 0
			// Phase 1: pack A (all rows, this k block) and B (this panel).
			aSl = (m + mr - 1) / mr
			packTasks = aSl + nSlivers
			nnParallel(threads, (packTasks+7)/8, packTask)
			// Phase 2: compute; each task owns an mc x (group of slivers)
			// tile of C.
			nnParallel(threads, mBlocks*nGroups, computeTask)
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

// nnParallel runs f(0..n-1) on up to threads goroutines (inline when 1).
// Helpers come from a persistent pool, so a call allocates nothing; when
// no pool worker is idle the caller runs the indices itself, which makes
// nested calls safe. Which goroutine runs an index never changes a result:
// each index owns its outputs.
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
	startWorkers()
	j := jobPool.Get().(*job)
	j.f, j.n = f, int64(n)
	j.next.Store(0)
	for w := 1; w < threads; w++ {
		j.wg.Add(1)
		select {
		case work <- j:
		default:
			j.wg.Done() // no idle worker: the caller does the rest
		}
	}
	j.run()
	j.wg.Wait()
	j.f = nil
	jobPool.Put(j)
}

type job struct {
	f    func(int)
	n    int64
	next atomic.Int64
	wg   sync.WaitGroup
}

func (j *job) run() {
	for {
		i := j.next.Add(1) - 1
		if i >= j.n {
			return
		}
		j.f(int(i))
	}
}

var (
	jobPool     = sync.Pool{New: func() any { return new(job) }}
	work        = make(chan *job)
	workersOnce sync.Once
)

// startWorkers starts one helper goroutine per CPU, once.
func startWorkers() {
	workersOnce.Do(func() {
		for i := 0; i < runtime.NumCPU(); i++ {
			go func() {
				for j := range work {
					j.run()
					j.wg.Done()
				}
			}()
		}
	})
}

// Parallel runs f(0..n-1) on up to threads goroutines (inline when threads <= 1).
func Parallel(threads, n int, f func(int)) { nnParallel(threads, n, f) }

// Packing buffers are kept in a small free list rather than a sync.Pool:
// a sync.Pool is emptied by every garbage collection, so a decode loop that
// makes garbage would allocate fresh panels each step.
var (
	bufMu   sync.Mutex
	bufFree []*[]float32
)

// maxFreeBufs bounds the free list (two panels per concurrent Gemm).
const maxFreeBufs = 16

// nnGetBuf returns a float32 buffer of length n (contents undefined).
func nnGetBuf(n int) *[]float32 {
	bufMu.Lock()
	for i, p := range bufFree {
		if cap(*p) >= n {
			bufFree = append(bufFree[:i], bufFree[i+1:]...)
			bufMu.Unlock()
			*p = (*p)[:n]
			return p
		}
	}
	bufMu.Unlock()
	s := make([]float32, n)
	return &s
}

// nnPutBuf returns a buffer to the free list, replacing the smallest one
// when the list is full.
func nnPutBuf(p *[]float32) {
	bufMu.Lock()
	defer bufMu.Unlock()
	if len(bufFree) < maxFreeBufs {
		bufFree = append(bufFree, p)
		return
	}
	small := 0
	for i, q := range bufFree {
		if cap(*q) < cap(*bufFree[small]) {
			small = i
		}
	}
	if cap(*bufFree[small]) < cap(*p) {
		bufFree[small] = p
	}
}

// DefaultThreads is the thread count used when a caller passes 0.
func DefaultThreads() int { return runtime.GOMAXPROCS(0) }
