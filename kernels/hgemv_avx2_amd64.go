//go:build !noasm && !purego && gc

package kernels

// hgAVX2 is hgGeneric on the argument block p (see hgArgs) for cols a
// multiple of 8: strips of 32 (then 8) columns, the weights of each row p
// widened with VCVTPH2PS and multiplied into the accumulators with one
// VFMADD231PS per row of A and vector:
//
//	for r < m, n < cols: c[r*ldc+n] = sum over p < k in order of a[r*lda+p] * float32(b[p*ldb+n]) (fused)
//
//go:noescape
func hgAVX2(p *hgArgs)
