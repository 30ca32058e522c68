package kernels

import (
	"runtime"
	"sync"
	"unsafe"
)

// PackedB is a constant right-hand GEMM operand (a weight matrix) packed
// once into the panel layout of one kernel set's micro-kernel, so that
// GemmPacked never packs B. Float16 weights stay float16 in the panels (the
// micro-kernel widens them in registers), so a packed fp16 weight costs the
// same memory as the stored one, and fp32 weights stay fp32. A PackedB is
// read-only once made and may be shared by concurrent GemmPacked calls.
// The panels live outside the Go heap; Free returns them at once (a
// finalizer does it otherwise).
//
// Layout: for each panel of nc columns (the set's nc; the last one narrower)
// and each block of kc rows, the panel's slivers of nr columns one after the
// other, each kc groups of nr values (zero-padded past n); kc is the set's
// k block, doubled for float16 panels (gemmImpl.kcFor). Panel jc starts at
// jc*K; block pc of it at jc*K + pc*ncp, ncp being its width rounded up to nr.
type PackedB struct {
	K, N int
	set  *Set
	f32  []float32
	f16  []uint16
	mu   sync.Mutex
	raw  []byte
	mmap bool
}

// Free releases the panels. The PackedB must not be used afterwards; Free
// may be called more than once.
func (p *PackedB) Free() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.raw == nil {
		return
	}
	p.f32, p.f16 = nil, nil
	bigFree(p.raw, p.mmap)
	p.raw = nil
}

// sliver returns the n values of the panels at offset o (one of the two
// slices is nil).
func (p *PackedB) sliver(o, n int) ([]float32, []uint16) {
	if p.f16 != nil {
		return nil, p.f16[o : o+n]
	}
	return p.f32[o : o+n], nil
}

// Bytes returns the memory held by the packed panels.
func (p *PackedB) Bytes() int { return 4*len(p.f32) + 2*len(p.f16) }

// Half reports whether the panels hold float16 values.
func (p *PackedB) Half() bool { return p.f16 != nil }

// Set returns the name of the kernel set the panels are laid out for.
func (p *PackedB) Set() string { return p.set.Name }

// PackB packs op(b), a k x n operand (see Operand), for the active kernel
// set: float16 operands into float16 panels, float32 ones into float32
// panels. threads bounds the goroutines used.
func PackB(k, n int, b Operand, threads int) *PackedB {
	if k < 1 || n < 1 {
		panic(errPackedK)
	}
	if b.F32 == nil && b.F16 == nil {
		panic(errNoData)
	}
	checkOperand(b, k, n, errShortB, errBadLdB)
	s := active.Load()
	g := &s.gemm
	nr := g.nr
	p := &PackedB{K: k, N: n, set: s}
	kcBlk := g.kcFor(b.F16 != nil)
	size := 0
	for jc := 0; jc < n; jc += g.nc {
		size += k * ((min(g.nc, n-jc) + nr - 1) / nr * nr)
	}
	elem := 4
	if b.F16 != nil {
		elem = 2
	}
	p.raw, p.mmap = bigAlloc(size * elem)
	if b.F16 != nil {
		p.f16 = unsafe.Slice((*uint16)(unsafe.Pointer(&p.raw[0])), size)
	} else {
		p.f32 = unsafe.Slice((*float32)(unsafe.Pointer(&p.raw[0])), size)
	}
	runtime.SetFinalizer(p, (*PackedB).Free)
	// One task per (panel, k block, group of 8 slivers).
	type task struct{ jc, pc, s0 int }
	var tasks []task
	for jc := 0; jc < n; jc += g.nc {
		nSl := (min(g.nc, n-jc) + nr - 1) / nr
		for pc := 0; pc < k; pc += kcBlk {
			for s0 := 0; s0 < nSl; s0 += 8 {
				tasks = append(tasks, task{jc, pc, s0})
			}
		}
	}
	Parallel(threads, len(tasks), func(t int) {
		tk := tasks[t]
		nc := min(g.nc, n-tk.jc)
		ncp := (nc + nr - 1) / nr * nr
		kc := min(kcBlk, k-tk.pc)
		for js := tk.s0; js < min(ncp/nr, tk.s0+8); js++ {
			o := tk.jc*k + tk.pc*ncp + js*nr*kc
			j0 := tk.jc + js*nr
			cols := min(nr, n-j0)
			if p.f16 != nil {
				packBH(p.f16[o:o+nr*kc], b, nr, j0, cols, tk.pc, kc)
			} else {
				packB(s, p.f32[o:o+nr*kc], b, nr, j0, cols, tk.pc, kc)
			}
		}
	})
	return p
}

// packBH is packB for a float16 operand into a float16 panel (no widening).
func packBH(dst []uint16, b Operand, NR, j0, nr, p0, kc int) {
	dst = dst[:kc*NR]
	if nr < NR {
		clear(dst)
	}
	ld := b.LD
	if !b.Trans {
		for p := 0; p < kc; p++ {
			off := (p0+p)*ld + j0
			copy(dst[p*NR:p*NR+nr], b.F16[off:off+nr])
		}
		return
	}
	for j := 0; j < nr; j++ { // op(B)[p][j] = B[j][p]
		off := (j0+j)*ld + p0
		for p, v := range b.F16[off : off+kc] {
			dst[p*NR+j] = v
		}
	}
}

// GemmPacked computes C = alpha·op(A)·B + beta·C followed by epi, like
// GemmEpilogue, with B prepacked by PackB (m x k times k x n, n = b.N). It
// runs with the kernel set b was packed for, so its results are those of
// that set whatever the active one, and bit-identical for every thread
// count.
func GemmPacked(m int, alpha float32, a Operand, b *PackedB, beta float32, c []float32, ldc int, epi Epilogue, threads int) {
	if b.f32 == nil && b.f16 == nil {
		panic(errPackedFreed)
	}
	defer runtime.KeepAlive(b)
	gemmDrive(b.set, m, b.N, b.K, alpha, a, Operand{}, b, beta, c, ldc, epi, threads)
}
