//go:build !noasm && !purego && gc

package kernels

// archSets returns the neon set: Advanced SIMD is mandatory on arm64.
// float16 widening uses FCVTL (nkH2fNEONGo).
func archSets() (sets []*Set, def string) {
	return []*Set{{Name: "neon", gemm: gemmNEON, h2f: nkH2fNEONGo, nk: nkNEON}}, ""
}
