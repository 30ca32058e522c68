//go:build !amd64 || noasm || purego || !gc

package bench

// fmaPeakRoutine returns the pure-Go loop: without the asm routine the
// "peak" is that of scalar Go code, far below the hardware's.
func fmaPeakRoutine() (loop func(n int), flopsPerIter float64, isa string) {
	return fmaLoopGo, fmaGoFlopsPerIter, "go-scalar"
}
