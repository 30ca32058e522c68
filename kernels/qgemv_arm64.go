//go:build !noasm && !purego && gc

package kernels

import "github.com/klauspost/cpuid/v2"

// qkI8NEON is qkI8Generic on the argument block p (see qkI8Args) with SDOT
// (the dot-product extension): per block, the even and odd codes times the
// permuted activations, reduced with VADDP into the lane order of qkLanes:
//
//	for n < cols, r < mp: for g: acc[r][lane] += float32(s[r][g][lane]) * (sa[g,r][lane] * ws[n][g][lane])
//
//go:noescape
func qkI8NEON(p *qkI8Args)

// qkF32NEON is qkF32Generic on the argument block p (see qkF32Args): per
// 32-code sub-block the codes split into nibbles (VAND/VUSHR), widened with
// VUXTL and converted with SCVTF, each 8-lane sum of qkF32Job held in two
// 4-lane vectors, in the generic per-lane order:
//
//	for n < cols, r < m: for b < nb:
//		t = sum over the block of a*code (8 lanes, VFMLA)
//		acc[r] += (t - zp*asum[b,r]) * scale[n,b] (VFMLS, VFMLA)
//	c[r*ldc+n] = lane sum of acc[r] (the generic order)
//
//go:noescape
func qkF32NEON(p *qkF32Args)

// hgNEON is hgGeneric on the argument block p (see hgArgs) for cols a
// multiple of 8: strips of 32 (then 8) columns kept in registers over the
// whole k loop, the weights of each row p widened with FCVTL/FCVTL2 and
// multiplied in with one VFMLA per row of A and vector:
//
//	for r < m, n < cols: c[r*ldc+n] = sum over p < k in order of a[r*lda+p] * float32(b[p*ldb+n]) (fused)
//
//go:noescape
func hgNEON(p *hgArgs)

// qkNEON returns the GEMV kernels of the neon set: the float 4-bit kernel
// and the fp16-weight kernel (Advanced SIMD only), and the SDOT int8 kernel
// when the CPU has the dot-product extension.
func qkNEON(dotprod bool) qkImpl {
	q := qkImpl{
		f32: func(j qkF32Job) { qkF32Call(qkF32NEON, j) },
		hg:  func(j hgJob) { hgCall(hgNEON, j) },
	}
	if dotprod {
		q.i8 = func(j qkI8Job) { qkI8Call(qkI8NEON, j) }
		q.dot = "sdot"
	}
	return q
}

// qkI8Variants lists every int8 kernel this CPU can run, for the tests.
func qkI8Variants() map[string]func(qkI8Job) {
	if !cpuid.CPU.Supports(cpuid.ASIMDDP) {
		return nil
	}
	return map[string]func(qkI8Job){"sdot": qkNEON(true).i8}
}
