//go:build !noasm && !purego && gc

package bench

import "golang.org/x/sys/cpu"

// fmaLoopAVX2 runs n iterations of 12 independent 8-wide VFMADD231PS chains
// (Y0..Y11 += Y12·Y13), 192 float32 flops per iteration:
//
//	for i := 0; i < n; i++ {
//		for c := 0; c < 12; c++ {
//			for l := 0; l < 8; l++ {
//				acc[c][l] += x[l] * y[l]
//			}
//		}
//	}
//
//go:noescape
func fmaLoopAVX2(n int)

// fmaPeakRoutine returns the asm loop when the CPU has AVX2 and FMA.
func fmaPeakRoutine() (loop func(n int), flopsPerIter float64, isa string) {
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		return fmaLoopAVX2, 192, "avx2-fma"
	}
	return fmaLoopGo, fmaGoFlopsPerIter, "go-scalar"
}
