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

// qkNEON returns the GEMV kernels of the neon set: the SDOT int8 kernel
// when the CPU has the dot-product extension. The float and fp16 paths keep
// the pure-Go code on arm64 for now.
func qkNEON(dotprod bool) qkImpl {
	if !dotprod {
		return qkImpl{}
	}
	return qkImpl{i8: func(j qkI8Job) { qkI8Call(qkI8NEON, j) }, dot: "sdot"}
}

// qkI8Variants lists every int8 kernel this CPU can run, for the tests.
func qkI8Variants() map[string]func(qkI8Job) {
	if !cpuid.CPU.Supports(cpuid.ASIMDDP) {
		return nil
	}
	return map[string]func(qkI8Job){"sdot": qkNEON(true).i8}
}
