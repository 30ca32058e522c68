package kernels

// hgGeneric is the pure-Go twin of the fp16-weight kernels (any cols).
func hgGeneric(j hgJob) {
	var acc [2][64]float32
	var w [64]float32
	for n0 := 0; n0 < j.cols; n0 += 64 {
		nc := min(64, j.cols-n0)
		for r := 0; r < j.m; r++ {
			clear(acc[r][:nc])
		}
		for p := 0; p < j.k; p++ {
			h2fGeneric(w[:nc], j.b[p*j.ldb+n0:p*j.ldb+n0+nc])
			for r := 0; r < j.m; r++ {
				av := j.a[r*j.lda+p]
				ar := acc[r][:nc]
				for i, v := range w[:nc] {
					ar[i] += av * v
				}
			}
		}
		for r := 0; r < j.m; r++ {
			copy(j.c[r*j.ldc+n0:r*j.ldc+n0+nc], acc[r][:nc])
		}
	}
}
