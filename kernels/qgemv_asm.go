//go:build (amd64 || arm64) && !noasm && !purego && gc

package kernels

// Argument blocks of the assembly GEMV kernels (amd64 and arm64) and the
// wrappers that check a job against every read and write of its kernel.

import "unsafe"

// qkI8Args is the argument block of the int8 kernels (qkI8AVX2,
// qkI8VNNI); the assembly reads it by offset (checked in
// TestQGemvArgsLayout) and updates cols, ws and zp as it walks.
type qkI8Args struct {
	w         unsafe.Pointer // 0: weight row of column 0
	rowBytes  int            // 8
	cols      int            // 16
	groups    int            // 24: ceil(nb/8)
	sub       int            // 32
	aq        unsafe.Pointer // 40
	mp        int            // 48
	asum      unsafe.Pointer // 56
	sa        unsafe.Pointer // 64
	ws        unsafe.Pointer // 72: scales of column 0
	wsF16     int            // 80
	wsColStep int            // 88: bytes of scales per column
	zp        unsafe.Pointer // 96: packed zero points of column 0, nil: 8
	zrow      int            // 104
	c         unsafe.Pointer // 112
	ldc       int            // 120: elements
	tail      int            // 128: nb%8, blocks of the last group
	tmask     [8]int32       // 136: -1 in lane i < tail (natural order)
	pmask     [4][8]int32    // 168: load masks of block pairs 2q, 2q+1 (4 lanes each)
	hmask     [4]int32       // 296: -1 in dword d where 2d < tail (float16 scales)
}

// qkI8Call checks j against the kernel's reads and writes and runs kern.
func qkI8Call(kern func(*qkI8Args), j qkI8Job) {
	if j.cols <= 0 {
		return
	}
	ng := (j.nb + 7) / 8
	n := j.cols * j.nb
	switch {
	case j.mp < 1 || j.mp > 2 || j.sub != 1 && j.sub != 2 && j.sub != 4 || j.nb < 1 || j.rowBytes != j.nb*j.sub*16:
		panic(qkErrArgs)
	case len(j.w) < j.cols*j.rowBytes,
		len(j.aq) < ng*256*j.sub*j.mp, len(j.asum) < ng*8*j.mp, len(j.sa) < ng*8*j.mp,
		j.wsF32 == nil && len(j.wsF16) < n+1, j.wsF32 != nil && len(j.wsF32) < n,
		j.zp != nil && len(j.zp) < (j.cols-1)*j.zrow+4*ng,
		j.ldc < j.cols && j.mp > 1, len(j.c) < (j.mp-1)*j.ldc+j.cols:
		panic(qkErrShort)
	}
	p := qkI8Args{
		w: unsafe.Pointer(&j.w[0]), rowBytes: j.rowBytes, cols: j.cols, groups: ng, sub: j.sub,
		aq: unsafe.Pointer(&j.aq[0]), mp: j.mp,
		asum: unsafe.Pointer(&j.asum[0]), sa: unsafe.Pointer(&j.sa[0]),
		c: unsafe.Pointer(&j.c[0]), ldc: j.ldc, tail: j.nb % 8,
	}
	if j.wsF32 != nil {
		p.ws, p.wsColStep = unsafe.Pointer(&j.wsF32[0]), 4*j.nb
	} else {
		p.ws, p.wsF16, p.wsColStep = unsafe.Pointer(&j.wsF16[0]), 1, 2*j.nb
	}
	if j.zp != nil {
		p.zp, p.zrow = unsafe.Pointer(&j.zp[0]), j.zrow
	}
	for i := 0; i < 8; i++ {
		if i < p.tail {
			p.tmask[i] = -1
			for l := 0; l < 4; l++ {
				p.pmask[i/2][4*(i%2)+l] = -1
			}
			p.hmask[i/2] = -1
		}
	}
	kern(&p)
}

// qkF32Args is the argument block of the float kernel (qkF32AVX2).
type qkF32Args struct {
	w         unsafe.Pointer // 0: codes of column 0 (columns are consecutive)
	cols      int            // 8
	nb        int            // 16
	sub       int            // 24
	a         unsafe.Pointer // 32
	aStep     int            // 40: bytes per sub-block (128*m)
	m         int            // 48
	asum      unsafe.Pointer // 56
	asumStep  int            // 64: bytes per block (32*m)
	ws        unsafe.Pointer // 72: scales of column 0 (consecutive)
	wsF16     int            // 80
	zp        unsafe.Pointer // 88: zero points of column 0
	zpMode    int            // 96: qkZPNone..qkZPF16
	zpColStep int            // 104: bytes per column of zp
	c         unsafe.Pointer // 112
	ldc       int            // 120: elements
}

// qkF32Call checks j against the kernel's reads and writes and runs kern.
func qkF32Call(kern func(*qkF32Args), j qkF32Job) {
	if j.cols <= 0 {
		return
	}
	nsb := j.nb * j.sub
	n := j.cols * j.nb
	switch {
	case j.m < 1 || j.m > 4 || j.sub < 1 || j.nb < 1 || j.rowBytes != nsb*16:
		panic(qkErrArgs)
	case len(j.w) < j.cols*j.rowBytes, len(j.a) < nsb*32*j.m, len(j.asum) < j.nb*8*j.m,
		j.wsF32 == nil && len(j.wsF16) < n, j.wsF32 != nil && len(j.wsF32) < n,
		j.zpMode == qkZPCodes && len(j.zpCodes) < (j.cols-1)*j.zrow+(j.nb+1)/2,
		j.zpMode == qkZPF32 && len(j.zpF32) < n, j.zpMode == qkZPF16 && len(j.zpF16) < n,
		j.ldc < j.cols && j.m > 1, len(j.c) < (j.m-1)*j.ldc+j.cols:
		panic(qkErrShort)
	}
	p := qkF32Args{
		w: unsafe.Pointer(&j.w[0]), cols: j.cols, nb: j.nb, sub: j.sub,
		a: unsafe.Pointer(&j.a[0]), aStep: 128 * j.m, m: j.m,
		asum: unsafe.Pointer(&j.asum[0]), asumStep: 32 * j.m,
		zpMode: j.zpMode, c: unsafe.Pointer(&j.c[0]), ldc: j.ldc,
	}
	if j.wsF32 != nil {
		p.ws = unsafe.Pointer(&j.wsF32[0])
	} else {
		p.ws, p.wsF16 = unsafe.Pointer(&j.wsF16[0]), 1
	}
	switch j.zpMode {
	case qkZPCodes:
		p.zp, p.zpColStep = unsafe.Pointer(&j.zpCodes[0]), j.zrow
	case qkZPF32:
		p.zp, p.zpColStep = unsafe.Pointer(&j.zpF32[0]), 4*j.nb
	case qkZPF16:
		p.zp, p.zpColStep = unsafe.Pointer(&j.zpF16[0]), 2*j.nb
	}
	kern(&p)
}

// hgArgs is the argument block of the fp16-weight kernel (hgAVX2).
type hgArgs struct {
	b    unsafe.Pointer // 0
	ldb  int            // 8: elements
	k    int            // 16
	a    unsafe.Pointer // 24
	lda  int            // 32: elements
	m    int            // 40
	c    unsafe.Pointer // 48
	ldc  int            // 56: elements
	cols int            // 64: multiple of 8
}

// hgCall checks j against the kernel's reads and writes and runs kern.
func hgCall(kern func(*hgArgs), j hgJob) {
	if j.cols <= 0 {
		return
	}
	switch {
	case j.cols%8 != 0 || j.k < 1 || j.m < 1 || j.m > 2 || j.ldb < j.cols || j.lda < j.k && j.m > 1 || j.ldc < j.cols && j.m > 1:
		panic(qkErrArgs)
	case len(j.b) < (j.k-1)*j.ldb+j.cols, len(j.a) < (j.m-1)*j.lda+j.k, len(j.c) < (j.m-1)*j.ldc+j.cols:
		panic(qkErrShort)
	}
	kern(&hgArgs{
		b: unsafe.Pointer(&j.b[0]), ldb: j.ldb, k: j.k, a: unsafe.Pointer(&j.a[0]), lda: j.lda, m: j.m,
		c: unsafe.Pointer(&j.c[0]), ldc: j.ldc, cols: j.cols,
	})
}
