package kernels

import "math"

// Softmax over the last axis: y = exp(x - max) / Σ exp(x - max), or with log
// y = x - max - log Σ exp(x - max). Three vector passes per row (max,
// exp-and-sum, scale); the sum is accumulated per lane in float32 and the
// lanes are added in a fixed order, so a row's result does not depend on
// the thread count.

// SoftmaxF32 normalises rows rows of cols values of src into dst on up to
// threads goroutines; dst may alias src.
func SoftmaxF32(dst, src []float32, rows, cols int, log bool, threads int) {
	nkCheckRows(len(dst), len(src), rows, cols)
	s := active.Load()
	threads = nkThreads(threads, rows*cols)
	per := nkRowsPerTask(cols)
	Parallel(threads, (rows+per-1)/per, func(t int) {
		for r := t * per; r < min(rows, (t+1)*per); r++ {
			nkSoftmaxRow(s, dst[r*cols:(r+1)*cols], src[r*cols:(r+1)*cols], log)
		}
	})
}

// SoftmaxF16 is SoftmaxF32 for float16 data (bits); each row is widened to
// float32, normalised and rounded once.
func SoftmaxF16(dst, src []uint16, rows, cols int, log bool, threads int) {
	nkCheckRows(len(dst), len(src), rows, cols)
	s := active.Load()
	threads = nkThreads(threads, rows*cols)
	per := nkRowsPerTask(cols)
	Parallel(threads, (rows+per-1)/per, func(t int) {
		bp := nnGetBuf(cols)
		defer nnPutBuf(bp)
		buf := *bp
		for r := t * per; r < min(rows, (t+1)*per); r++ {
			s.h2f(buf, src[r*cols:(r+1)*cols])
			nkSoftmaxRow(s, buf, buf, log)
			s.nk.f2h(dst[r*cols:(r+1)*cols], buf)
		}
	})
}

// SoftmaxRow normalises one row on the calling goroutine; dst may alias src.
func SoftmaxRow(dst, src []float32, log bool) {
	if len(dst) < len(src) {
		panic(nkErrShortY)
	}
	nkSoftmaxRow(active.Load(), dst[:len(src)], src, log)
}

func nkCheckRows(ny, nx, rows, cols int) {
	if rows < 0 || cols < 0 {
		panic(nkErrBadShape)
	}
	if nx < rows*cols {
		panic(nkErrShortX)
	}
	if ny < rows*cols {
		panic(nkErrShortY)
	}
}

func nkSoftmaxRow(s *Set, y, x []float32, log bool) {
	if len(x) == 0 {
		return
	}
	m := s.nk.max(x)
	if log {
		// y = (x - m) - log(sum); the exp values need scratch when y is x.
		tmp := y
		if &y[0] == &x[0] {
			bp := nnGetBuf(len(x))
			defer nnPutBuf(bp)
			tmp = *bp
		}
		sum := s.nk.expSum(tmp, x, m)
		s.nk.affine(y, x, m, 1, -float32(math.Log(sum)), false)
		return
	}
	sum := s.nk.expSum(y, x, m)
	s.nk.affine(y, y, 0, float32(1/sum), 0, false)
}
