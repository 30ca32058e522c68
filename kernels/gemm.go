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
	// kernH is kern with the B sliver stored as float16 bits, each value
	// widened exactly before it is used (prepacked fp16 weights).
	kernH func(kc int, a []float32, b []uint16, c []float32, ldc int, add bool, alpha float32)
}

// kcFor returns the k block of a product whose B is prepacked as float16:
// twice kc, since a float16 sliver takes half the L1 space, which halves
// the passes over C.
func (g *gemmImpl) kcFor(half bool) int {
	if half {
		return 2 * g.kc
	}
	return g.kc
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

// Activation is an elementwise function an Epilogue applies last.
type Activation uint8

// Activations of an Epilogue.
const (
	ActNone Activation = iota
	ActReLU            // max(x, 0)
	ActSiLU            // x·sigmoid(x)
	ActGELU            // exact GELU 0.5·x·(1+erf(x/√2))
)

// Epilogue is the work GemmEpilogue and GemmPacked do on each tile of C
// right after its last product, while it is in cache:
//
//	c[i,j] = Act((alpha·(A·B)[i,j] + beta·c[i,j] + Bias[j] + Add[idx(i,j)]) ·/ K)
//
// where idx(i,j) is the element's index in c (i*ldc+j, or j*ldc+i with
// TransC) and ·/ K is Scale (none, ·K or /K). Nil Bias or Add are skipped.
// TransC stores C transposed: c is n x m with row stride ldc >= m, so a
// product of pixels × channels lands in a channels-first image.
type Epilogue struct {
	Bias   []float32
	Add    []float32
	Scale  ScaleOp
	K      float32
	Act    Activation
	TransC bool
}

func (e *Epilogue) active() bool {
	return e.Bias != nil || e.Add != nil || e.Act != ActNone || e.Scale != ScaleNone
}

// scaleAct applies the epilogue's scale, then its activation, to x.
func (e *Epilogue) scaleAct(s *Set, x []float32) {
	switch e.Scale {
	case ScaleMul:
		for j := range x {
			x[j] *= e.K
		}
	case ScaleDiv:
		for j := range x {
			x[j] /= e.K
		}
	}
	gemmAct(s, e.Act, x)
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
	gemmDrive(active.Load(), m, n, k, alpha, a, b, nil, beta, c, ldc, Epilogue{}, threads)
}

// GemmEpilogue is Gemm followed by epi (see Epilogue), applied per tile as
// the product finishes.
func GemmEpilogue(m, n, k int, alpha float32, a, b Operand, beta float32, c []float32, ldc int, epi Epilogue, threads int) {
	gemmDrive(active.Load(), m, n, k, alpha, a, b, nil, beta, c, ldc, epi, threads)
}

// gemmCheckEpi panics unless epi fits an m x n C with row stride ldc.
func gemmCheckEpi(m, n int, c []float32, ldc int, epi *Epilogue) {
	rows, cols := m, n
	if epi.TransC {
		rows, cols = n, m
	}
	if ldc < cols {
		panic(errBadLdC)
	}
	if len(c) < (rows-1)*ldc+cols {
		panic(errShortC)
	}
	if epi.Bias != nil && len(epi.Bias) < n {
		panic(errShortBias)
	}
	if epi.Add != nil && len(epi.Add) < (rows-1)*ldc+cols {
		panic(errShortAdd)
	}
	if epi.Act > ActGELU || epi.Scale > ScaleDiv {
		panic(errBadAct)
	}
}

// gemmDrive is the blocked GEMM of set s: B comes from b (packed per call)
// or, when pb is not nil, from its prepacked panels (then b is unused).
func gemmDrive(s *Set, m, n, k int, alpha float32, a, b Operand, pb *PackedB, beta float32, c []float32, ldc int, epi Epilogue, threads int) {
	if m <= 0 || n <= 0 {
		return
	}
	gemmCheckEpi(m, n, c, ldc, &epi)
	if threads < 1 {
		threads = 1
	}
	if k <= 0 || alpha == 0 {
		gemmNoProduct(s, m, n, beta, c, ldc, &epi)
		return
	}
	if epi.TransC {
		gemmTransC(s, m, n, k, alpha, a, b, pb, beta, c, ldc, epi, threads)
		return
	}
	if a.F32 == nil && a.F16 == nil || pb == nil && b.F32 == nil && b.F16 == nil {
		panic(errNoData)
	}
	checkOperand(a, m, k, errShortA, errBadLdA)
	if pb == nil {
		checkOperand(b, k, n, errShortB, errBadLdB)
	}
	// Work is split into tasks; small problems use fewer goroutines.
	if w := (m*n*k)/(1<<15) + 1; threads > w {
		threads = w
	}
	g := &s.gemm
	mr, nr := g.mr, g.nr
	epiOn := epi.active()
	if pb != nil && (m+mr-1)/mr*mr*k <= gemmSmallA {
		gemmSmallM(s, m, n, k, alpha, a, pb, beta, c, ldc, &epi, threads)
		return
	}
	if pb != nil && (m+g.mc-1)/g.mc >= 2*threads {
		gemmRowBlocks(s, m, n, k, alpha, a, pb, beta, c, ldc, &epi, threads)
		return
	}

	mBlocks := (m + g.mc - 1) / g.mc
	kcBlk := g.kcFor(pb != nil && pb.f16 != nil)
	kcMax := min(k, kcBlk)
	aPack := nnGetBuf(((m + mr - 1) / mr) * mr * kcMax)
	defer nnPutBuf(aPack)
	ap := *aPack
	var bp []float32
	if pb == nil {
		ncMax := min(n, g.nc)
		bPack := nnGetBuf(((ncMax + nr - 1) / nr) * nr * kcMax)
		defer nnPutBuf(bPack)
		bp = *bPack
	}

	// The loop state lives outside the loops and the two task functions are
	// built once, so a call allocates the same few closures however many
	// blocks it walks (a decode step's attention GEMMs grow with the past).
	var (
		jc, nc, nSlivers, nGroups, slPerGroup int
		pc, kc, aSl, packTasks                int
		first, last                           bool
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
		ncp := (nc + nr - 1) / nr * nr
		for js := j0; js < j1; js++ {
			var bs []float32
			var bh []uint16
			switch {
			case pb == nil:
				bs = bp[js*nr*kc : (js+1)*nr*kc]
			case pb.f16 != nil:
				o := jc*k + pc*ncp + js*nr*kc
				bh = pb.f16[o : o+nr*kc]
			default:
				o := jc*k + pc*ncp + js*nr*kc
				bs = pb.f32[o : o+nr*kc]
			}
			col := jc + js*nr
			cn := min(nr, n-col)
			for ir := 0; ir < mc; ir += mr {
				row := i0 + ir
				as := ap[(row/mr)*mr*kc : (row/mr+1)*mr*kc]
				gemmTile(s, kc, as, bs, bh, c, ldc, row, col, min(mr, m-row), cn, add, last && epiOn, &epi, alpha, tmp)
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
		for pc = 0; pc < k; pc += kcBlk {
			kc = min(kcBlk, k-pc)
			first = pc == 0
			last = pc+kc >= k
			// Phase 1: pack A (all rows, this k block) and B (this panel,
			// unless prepacked).
			aSl = (m + mr - 1) / mr
			packTasks = aSl
			if pb == nil {
				packTasks += nSlivers
			}
			nnParallel(threads, (packTasks+7)/8, packTask)
			// Phase 2: compute; each task owns an mc x (group of slivers)
			// tile of C.
			nnParallel(threads, mBlocks*nGroups, computeTask)
		}
	}
}

// gemmSmallA bounds the packed A (floats) for which gemmSmallM packs all of
// A at once (decode rows, the text encoder's 77 tokens).
var gemmSmallA = 1 << 19

// gemmSmallM is gemmDrive for a prepacked B and an A small enough to pack
// whole: one packing phase, then one compute phase whose tasks own groups
// of B slivers and walk every k block themselves, instead of two
// synchronised phases per k block (for a 2-row product the barriers cost
// as much as the arithmetic). The tiles and the k order are those of
// gemmDrive, so the results are the same bits.
func gemmSmallM(s *Set, m, n, k int, alpha float32, a Operand, pb *PackedB, beta float32, c []float32, ldc int, epi *Epilogue, threads int) {
	g := &s.gemm
	mr, nr := g.mr, g.nr
	kcBlk := g.kcFor(pb.f16 != nil)
	aSl := (m + mr - 1) / mr
	mp := aSl * mr
	aPack := nnGetBuf(mp * k)
	defer nnPutBuf(aPack)
	ap := *aPack
	// A: block pc (kc columns) at pc*mp, panels of mr*kc inside.
	nkb := (k + kcBlk - 1) / kcBlk
	nnParallel(threads, (aSl*nkb+7)/8, func(t int) {
		for q := t * 8; q < min(aSl*nkb, t*8+8); q++ {
			kb, pl := q/aSl, q%aSl
			pc := kb * kcBlk
			kc := min(kcBlk, k-pc)
			packA(s, ap[pc*mp+pl*mr*kc:pc*mp+(pl+1)*mr*kc], a, mr, pl*mr, min(mr, m-pl*mr), pc, kc)
		}
	})
	epiOn := epi.active()
	edgeBuf := nnGetBuf((4*threads + 1) * maxMR * maxNR)
	defer nnPutBuf(edgeBuf)
	edge := *edgeBuf
	for jc := 0; jc < n; jc += g.nc {
		nc := min(g.nc, n-jc)
		ncp := (nc + nr - 1) / nr * nr
		nSl := ncp / nr
		groups := min(nSl, 4*threads)
		per := (nSl + groups - 1) / groups
		groups = (nSl + per - 1) / per
		nnParallel(threads, groups, func(t int) {
			tmp := edge[t*maxMR*maxNR : (t+1)*maxMR*maxNR]
			js0, js1 := t*per, min(nSl, (t+1)*per)
			if beta != 0 && beta != 1 {
				c0, c1 := jc+js0*nr, min(n, jc+js1*nr)
				for i := 0; i < m; i++ {
					row := c[i*ldc+c0 : i*ldc+c1]
					for j := range row {
						row[j] *= beta
					}
				}
			}
			// k blocks outside, slivers inside: the task's part of each
			// packed B block is one contiguous stream.
			for pc := 0; pc < k; pc += kcBlk {
				kc := min(kcBlk, k-pc)
				add := pc > 0 || beta != 0
				last := pc+kc >= k
				for js := js0; js < js1; js++ {
					col := jc + js*nr
					cn := min(nr, n-col)
					o := jc*k + pc*ncp + js*nr*kc
					for ir := 0; ir < m; ir += mr {
						as := ap[pc*mp+(ir/mr)*mr*kc : pc*mp+(ir/mr+1)*mr*kc]
						bs, bh := pb.sliver(o, nr*kc)
						gemmTile(s, kc, as, bs, bh, c, ldc, ir, col, min(mr, m-ir), cn, add, last && epiOn, epi, alpha, tmp)
					}
				}
			}
		})
	}
}

// gemmRowBlocks is gemmDrive for a prepacked B and enough row blocks for
// every thread: each task owns an mc-row block of C and walks every k
// block itself, packing its own A block, so its C rows stay in L2 across
// the k blocks (instead of a pass over all of C, from L3, per k block) and
// there is one synchronisation per call. Same tiles, same k order, same
// bits as gemmDrive.
func gemmRowBlocks(s *Set, m, n, k int, alpha float32, a Operand, pb *PackedB, beta float32, c []float32, ldc int, epi *Epilogue, threads int) {
	g := &s.gemm
	mr, nr := g.mr, g.nr
	kcBlk := g.kcFor(pb.f16 != nil)
	epiOn := epi.active()
	mBlocks := (m + g.mc - 1) / g.mc
	nnParallel(threads, mBlocks, func(ib int) {
		i0 := ib * g.mc
		mc := min(g.mc, m-i0)
		aSl := (mc + mr - 1) / mr
		abuf := nnGetBuf(aSl*mr*min(k, kcBlk) + maxMR*maxNR)
		defer nnPutBuf(abuf)
		ap := *abuf
		tmp := ap[len(ap)-maxMR*maxNR:]
		if beta != 0 && beta != 1 {
			for i := i0; i < i0+mc; i++ {
				row := c[i*ldc : i*ldc+n]
				for j := range row {
					row[j] *= beta
				}
			}
		}
		for jc := 0; jc < n; jc += g.nc {
			nc := min(g.nc, n-jc)
			ncp := (nc + nr - 1) / nr * nr
			nSl := ncp / nr
			for pc := 0; pc < k; pc += kcBlk {
				kc := min(kcBlk, k-pc)
				add := pc > 0 || beta != 0
				last := pc+kc >= k
				for q := 0; q < aSl; q++ {
					packA(s, ap[q*mr*kc:(q+1)*mr*kc], a, mr, i0+q*mr, min(mr, m-i0-q*mr), pc, kc)
				}
				for js := 0; js < nSl; js++ {
					col := jc + js*nr
					cn := min(nr, n-col)
					o := jc*k + pc*ncp + js*nr*kc
					for ir := 0; ir < mc; ir += mr {
						row := i0 + ir
						as := ap[(ir/mr)*mr*kc : (ir/mr+1)*mr*kc]
						bs, bh := pb.sliver(o, nr*kc)
						gemmTile(s, kc, as, bs, bh, c, ldc, row, col, min(mr, m-row), cn, add, last && epiOn, epi, alpha, tmp)
					}
				}
			}
		}
	})
}

// gemmTile runs the micro-kernel on one mr x nr tile of C at (row, col), of
// which cm x cn lie inside C, with the float32 (bs) or float16 (bh) B
// sliver: straight into C for a full tile, else into tmp and merged; add
// accumulates into C, epi (when applied, on the last k block) follows.
func gemmTile(s *Set, kc int, as, bs []float32, bh []uint16, c []float32, ldc, row, col, cm, cn int, add, applyEpi bool, epi *Epilogue, alpha float32, tmp []float32) {
	g := &s.gemm
	mr, nr := g.mr, g.nr
	if cm == mr && cn == nr {
		dst := c[row*ldc+col:]
		if bh != nil {
			g.kernH(kc, as, bh, dst, ldc, add, alpha)
		} else {
			g.kern(kc, as, bs, dst, ldc, add, alpha)
		}
		if applyEpi {
			for i := 0; i < mr; i++ {
				o := (row+i)*ldc + col
				gemmEpiRow(s, epi, c[o:o+nr], col, o)
			}
		}
		return
	}
	if bh != nil {
		g.kernH(kc, as, bh, tmp, nr, false, alpha)
	} else {
		g.kern(kc, as, bs, tmp, nr, false, alpha)
	}
	for i := 0; i < cm; i++ {
		src := tmp[i*nr : i*nr+cn]
		o := (row+i)*ldc + col
		dst := c[o : o+cn]
		if add {
			for j, v := range src {
				dst[j] += v
			}
		} else {
			copy(dst, src)
		}
		if applyEpi {
			gemmEpiRow(s, epi, dst, col, o)
		}
	}
}

// gemmEpiRow applies the epilogue to a run of C (not transposed): dst holds
// columns col.. of one row, starting at index o of C.
func gemmEpiRow(s *Set, e *Epilogue, dst []float32, col, o int) {
	if e.Bias != nil {
		for j, b := range e.Bias[col : col+len(dst)] {
			dst[j] += b
		}
	}
	if e.Add != nil {
		for j, v := range e.Add[o : o+len(dst)] {
			dst[j] += v
		}
	}
	e.scaleAct(s, dst)
}

// gemmTransCFloats bounds the floats of gemmTransC's row-major scratch.
const gemmTransCFloats = 1 << 20

// gemmTransC is gemmDrive for a transposed C: the product is computed in
// chunks of rows into a row-major scratch (so the k blocks accumulate in
// place, in cache), and each chunk is then stored transposed, with the
// epilogue, in blocks of pixels × channels.
func gemmTransC(s *Set, m, n, k int, alpha float32, a, b Operand, pb *PackedB, beta float32, c []float32, ldc int, epi Epilogue, threads int) {
	g := &s.gemm
	rows := max(g.mc, gemmTransCFloats/n/g.mc*g.mc)
	rows = min(rows, m)
	buf := nnGetBuf(rows * n)
	defer nnPutBuf(buf)
	scr := *buf
	const ib = 64 // pixels per store task
	for r0 := 0; r0 < m; r0 += rows {
		rc := min(rows, m-r0)
		sub := a
		if a.Trans {
			sub.F32, sub.F16 = offF32(a.F32, r0), offF16(a.F16, r0)
		} else {
			sub.F32, sub.F16 = offF32(a.F32, r0*a.LD), offF16(a.F16, r0*a.LD)
		}
		if beta != 0 {
			Parallel(threads, (rc+ib-1)/ib, func(t int) {
				for i := t * ib; i < min(rc, t*ib+ib); i++ {
					for j := 0; j < n; j++ {
						scr[i*n+j] = c[j*ldc+r0+i]
					}
				}
			})
		}
		gemmDrive(s, rc, n, k, alpha, sub, b, pb, beta, scr, n, Epilogue{}, threads)
		Parallel(threads, (rc+ib-1)/ib, func(t int) {
			i0, i1 := t*ib, min(rc, t*ib+ib)
			for j := 0; j < n; j++ {
				o := j*ldc + r0 + i0
				dst := c[o : o+i1-i0]
				for i := range dst {
					dst[i] = scr[(i0+i)*n+j]
				}
				if epi.Bias != nil {
					bj := epi.Bias[j]
					for i := range dst {
						dst[i] += bj
					}
				}
				if epi.Add != nil {
					for i, v := range epi.Add[o : o+len(dst)] {
						dst[i] += v
					}
				}
				epi.scaleAct(s, dst)
			}
		})
	}
}

func offF32(x []float32, o int) []float32 {
	if x == nil {
		return nil
	}
	return x[o:]
}

func offF16(x []uint16, o int) []uint16 {
	if x == nil {
		return nil
	}
	return x[o:]
}

// gemmAct applies act to x in place with the set's vector kernels.
func gemmAct(s *Set, act Activation, x []float32) {
	switch act {
	case ActReLU:
		for j, v := range x {
			x[j] = max(v, 0)
		}
	case ActSiLU:
		s.nk.silu(x, x)
	case ActGELU:
		s.nk.gelu(x, x)
	}
}

// gemmNoProduct handles k == 0 or alpha == 0: C = beta*C, then the epilogue.
func gemmNoProduct(s *Set, m, n int, beta float32, c []float32, ldc int, epi *Epilogue) {
	rows, cols := m, n
	if epi.TransC {
		rows, cols = n, m
	}
	nnScaleC(rows, cols, beta, c, ldc)
	if !epi.active() {
		return
	}
	if epi.TransC { // C is n x m: bias per row, then Add and Act
		for j := 0; j < n; j++ {
			row := c[j*ldc : j*ldc+m]
			if epi.Bias != nil {
				for i := range row {
					row[i] += epi.Bias[j]
				}
			}
			if epi.Add != nil {
				for i, v := range epi.Add[j*ldc : j*ldc+m] {
					row[i] += v
				}
			}
			epi.scaleAct(s, row)
		}
		return
	}
	for i := 0; i < m; i++ {
		gemmEpiRow(s, epi, c[i*ldc:i*ldc+n], 0, i*ldc)
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
