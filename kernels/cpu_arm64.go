//go:build !noasm && !purego && gc

package kernels

import "github.com/klauspost/cpuid/v2"

// archSets returns the neon set: Advanced SIMD is mandatory on arm64.
// float16 widening uses FCVTL (nkH2fNEONGo). The float 4-bit GEMV and the
// fp16-weight GEMV are NEON assembly; the 4-bit int8 GEMV uses SDOT when
// the CPU has the dot-product extension.
func archSets() (sets []*Set, def string) {
	return []*Set{{Name: "neon", gemm: gemmNEON, h2f: nkH2fNEONGo, nk: nkNEON, qk: qkNEON(cpuid.CPU.Supports(cpuid.ASIMDDP))}}, ""
}
