package kernels

// hgJob is one call of an fp16-weight GEMV kernel: for r < m (1 or 2) and
// the first cols columns (a multiple of 8),
//
//	c[r*ldc+n] = sum over p = 0..k-1 in order of a[r*lda+p] * float32(b[p*ldb+n])
//
// with k >= 1 (the assembly kernels fuse each step into one FMA).
type hgJob struct {
	b         []uint16
	ldb, k    int
	a         []float32
	lda, m    int
	c         []float32
	ldc, cols int
}

// hgMaxChunk bounds the columns of one HGemv task: the kernels keep the
// task's rows of C (2 x 1024 floats) in L1 while they stream B.
const hgMaxChunk = 1024

// HGemv computes C = A·B for small m (token decode: one row per sequence,
// batch 1-2 with or without guidance), where A is m x k float32 (row
// stride lda) and B is k x n float16 bits (row stride ldb) read in place:
// the weights are widened in registers (F16C on amd64, FCVTL on arm64)
// inside the product, so each weight byte is read once per row pair and the
// product runs near memory bandwidth. C is m x n with row stride ldc. Rows are processed in
// pairs (m > 2 reads B once per pair; use Gemm for large m). Work is split
// over n in chunks of a multiple of 8 columns (sized for the thread count);
// every element is reduced by one goroutine in k order with the same
// operations whatever chunk holds it, so the result is bit-identical for
// any thread count.
func HGemv(m, n, k int, a []float32, lda int, b []uint16, ldb int, c []float32, ldc int, threads int) {
	if m <= 0 || n <= 0 {
		return
	}
	switch {
	case ldc < n:
		panic(errBadLdC)
	case ldb < n:
		panic(errBadLdB)
	case k > 0 && lda < k:
		panic(errBadLdA)
	case len(c) < (m-1)*ldc+n:
		panic(errShortC)
	case k > 0 && len(a) < (m-1)*lda+k:
		panic(errShortA)
	case k > 0 && len(b) < (k-1)*ldb+n:
		panic(errShortB)
	}
	if k <= 0 {
		nnScaleC(m, n, 0, c, ldc)
		return
	}
	s := active.Load()
	kern := hgGeneric
	if s.qk.hg != nil {
		kern = s.qk.hg
	}
	if threads < 1 {
		threads = 1
	}
	if w := m * n * k / (1 << 15); threads > w+1 {
		threads = w + 1
	}
	// Equal chunks, two per thread at least, a multiple of 8 columns (only
	// the last n%8 columns, the same for every split, go to Go).
	tasks := max(2*threads, (n+hgMaxChunk-1)/hgMaxChunk)
	tasks = (tasks + threads - 1) / threads * threads
	chunk := ((n+tasks-1)/tasks + 7) &^ 7
	nnParallel(threads, (n+chunk-1)/chunk, func(t int) {
		n0, n1 := t*chunk, min(n, (t+1)*chunk)
		for r := 0; r < m; r += 2 {
			j := hgJob{b: b[n0:], ldb: ldb, k: k, a: a[r*lda:], lda: lda, m: min(2, m-r), c: c[r*ldc+n0:], ldc: ldc, cols: (n1 - n0) &^ 7}
			if j.cols > 0 {
				kern(j)
			}
			if j.cols < n1-n0 {
				j.b, j.c = b[n0+j.cols:], c[r*ldc+n0+j.cols:]
				j.cols = n1 - n0 - j.cols
				hgGeneric(j)
			}
		}
	})
}
