package kernels

import (
	"math"
	"sync"
)

// Normalisation kernels: GroupNorm (NCHW and NHWC), LayerNorm and RMSNorm over
// the last axis, for float32 and float16 data (float16 is widened and
// narrowed in registers; all arithmetic is float32 with float64 statistics).
//
// Statistics use one pass of float64 accumulators of (x - pivot) and
// (x - pivot)², the pivot being the first element of the reduced set, which
// keeps the variance exact to float64 rounding even when the mean is large;
// the normalisation subtracts the same float32 pivot (exact for values near
// it) and folds pivot - mean into the shift, so large means cost no
// accuracy either. Every group or row is reduced by one goroutine in a fixed
// order (NHWC statistics over a fixed pixel split that depends on the shape
// only), so the results are bit-identical for any thread count.

// nkKernels is one kernel set's table of normalisation, softmax and
// activation primitives. Each entry accepts any length: the assembly
// wrappers run whole vectors in assembly and the tail in Go.
type nkKernels struct {
	// sumSq returns Σ(x-piv) and Σ(x-piv)² in float64.
	sumSq  func(x []float32, piv float32) (s, q float64)
	sumSqH func(x []uint16, piv float32) (s, q float64)
	// colSumSq adds per-column sums of (x-piv[j]) and (x-piv[j])² of a
	// rows x cols matrix (row stride ld) to s and q.
	colSumSq  func(x []float32, rows, cols, ld int, piv []float32, s, q []float64)
	colSumSqH func(x []uint16, rows, cols, ld int, piv []float32, s, q []float64)
	// affine writes y = (x-m)·a + b (then SiLU).
	affine  func(dst, src []float32, m, a, b float32, silu bool)
	affineH func(dst, src []uint16, m, a, b float32, silu bool)
	// normVec writes y = ((x-m)·s + c)·g[i] + b[i] (then SiLU).
	normVec  func(dst, src []float32, m, s, c float32, g, b []float32, silu bool)
	normVecH func(dst, src []uint16, m, s, c float32, g, b []float32, silu bool)
	// affineVec writes y = (x-m[i])·a[i] + b[i] (then SiLU).
	affineVec  func(dst, src []float32, m, a, b []float32, silu bool)
	affineVecH func(dst, src []uint16, m, a, b []float32, silu bool)
	// max is the largest element; expSum writes exp(x-m) and returns the sum.
	max    func(x []float32) float32
	expSum func(dst, src []float32, m float32) float64
	// elementwise functions (dst may alias src)
	exp, erf, tanh, sigmoid, silu, gelu func(dst, src []float32)
	// f2h narrows float32 to float16 bits (round to nearest even).
	f2h func(dst []uint16, src []float32)
}

// nkMinParallel is the element count below which the normalisation and
// softmax kernels stay on the calling goroutine.
const nkMinParallel = 1 << 15

// nkThreads caps threads for a problem of n elements.
func nkThreads(threads, n int) int {
	if threads < 1 || n < nkMinParallel {
		return 1
	}
	return threads
}

// GroupNormParams describes a group normalisation of N images of C channels
// with Spatial values each: the channels are split into Groups consecutive
// groups, each (image, group) is normalised with its mean and biased
// variance, then y = (x-mean)/sqrt(var+Eps)·Gamma[c] + Beta[c], and
// y·sigmoid(y) when SiLU. Gamma and Beta hold C values or are nil (1 and 0).
// NHWC selects the [N, Spatial, C] layout instead of [N, C, Spatial].
type GroupNormParams struct {
	N, C, Spatial, Groups int
	NHWC                  bool
	Eps                   float64
	Gamma, Beta           []float32
	SiLU                  bool
}

// check panics unless p describes at most nx input and ny output elements.
func (p *GroupNormParams) check(nx, ny int) {
	if p.N < 0 || p.C < 0 || p.Spatial < 0 || p.Groups < 1 || p.C%p.Groups != 0 {
		panic(nkErrBadGroups)
	}
	n := p.N * p.C * p.Spatial
	if nx < n {
		panic(nkErrShortX)
	}
	if ny < n {
		panic(nkErrShortY)
	}
	if p.Gamma != nil && len(p.Gamma) < p.C || p.Beta != nil && len(p.Beta) < p.C {
		panic(nkErrShortParam)
	}
}

// GroupNormF32 normalises src into dst (see GroupNormParams) on up to
// threads goroutines; dst may alias src. The result does not depend on
// threads.
func GroupNormF32(dst, src []float32, p GroupNormParams, threads int) {
	p.check(len(src), len(dst))
	nkGroupNorm(active.Load(), dst, src, &p, threads)
}

// GroupNormF16 is GroupNormF32 for float16 data (bits), widened in registers
// and computed in float32.
func GroupNormF16(dst, src []uint16, p GroupNormParams, threads int) {
	p.check(len(src), len(dst))
	nkGroupNorm(active.Load(), dst, src, &p, threads)
}

type nkElem interface{ float32 | uint16 }

// nkF32 widens one element.
func nkF32[T nkElem](v T) float32 {
	if h, ok := any(v).(uint16); ok {
		return nnH2F(h)
	}
	return any(v).(float32)
}

func nkSumSq[T nkElem](s *Set, x []T, piv float32) (float64, float64) {
	switch v := any(x).(type) {
	case []float32:
		return s.nk.sumSq(v, piv)
	case []uint16:
		return s.nk.sumSqH(v, piv)
	}
	return 0, 0
}

func nkColSumSq[T nkElem](s *Set, x []T, rows, cols, ld int, piv []float32, sum, sq []float64) {
	switch v := any(x).(type) {
	case []float32:
		s.nk.colSumSq(v, rows, cols, ld, piv, sum, sq)
	case []uint16:
		s.nk.colSumSqH(v, rows, cols, ld, piv, sum, sq)
	}
}

func nkAffine[T nkElem](s *Set, dst, src []T, m, a, b float32, silu bool) {
	switch v := any(src).(type) {
	case []float32:
		s.nk.affine(any(dst).([]float32), v, m, a, b, silu)
	case []uint16:
		s.nk.affineH(any(dst).([]uint16), v, m, a, b, silu)
	}
}

func nkAffineVec[T nkElem](s *Set, dst, src []T, m, a, b []float32, silu bool) {
	switch v := any(src).(type) {
	case []float32:
		s.nk.affineVec(any(dst).([]float32), v, m, a, b, silu)
	case []uint16:
		s.nk.affineVecH(any(dst).([]uint16), v, m, a, b, silu)
	}
}

func nkNormVec[T nkElem](s *Set, dst, src []T, m, sc, c float32, g, b []float32, silu bool) {
	switch v := any(src).(type) {
	case []float32:
		s.nk.normVec(any(dst).([]float32), v, m, sc, c, g, b, silu)
	case []uint16:
		s.nk.normVecH(any(dst).([]uint16), v, m, sc, c, g, b, silu)
	}
}

// nkStats turns pivoted sums over n values into the mean and 1/sqrt(var+eps).
func nkStats(piv float32, s, q float64, n int, eps float64) (mean, inv float64) {
	fn := float64(n)
	d := s / fn
	v := q/fn - d*d
	if v < 0 {
		v = 0
	}
	return float64(piv) + d, 1 / math.Sqrt(v+eps)
}

// nkNHWCChunks is the fixed number of pixel chunks the NHWC statistics are
// split into (a function of the shape only, so results do not depend on
// the thread count).
const nkNHWCChunks = 16

func nkGroupNorm[T nkElem](s *Set, dst, src []T, p *GroupNormParams, threads int) {
	N, C, sp, G := p.N, p.C, p.Spatial, p.Groups
	total := N * C * sp
	if total == 0 {
		return
	}
	threads = nkThreads(threads, total)
	cpg := C / G
	if !p.NHWC {
		// One task per (image, group): the group is contiguous and small
		// enough to stay in L2 between the statistics and the normalisation.
		blk := cpg * sp
		Parallel(threads, N*G, func(t int) {
			g := t % G
			xs, ys := src[t*blk:(t+1)*blk], dst[t*blk:(t+1)*blk]
			piv := nkF32(xs[0])
			sum, sq := nkSumSq(s, xs, piv)
			mean, inv := nkStats(piv, sum, sq, blk, p.Eps)
			for k := 0; k < cpg; k++ {
				c := g*cpg + k
				a, b := inv, 0.0
				if p.Gamma != nil {
					a *= float64(p.Gamma[c])
				}
				if p.Beta != nil {
					b = float64(p.Beta[c])
				}
				// (x-mean)·a + b = (x-piv)·a + (b + (piv-mean)·a): x-piv is
				// exact for x near the pivot, the shift is rounded once.
				nkAffine(s, ys[k*sp:(k+1)*sp], xs[k*sp:(k+1)*sp], piv, float32(a), float32(b+(float64(piv)-mean)*a), p.SiLU)
			}
		})
		return
	}
	// NHWC: per-channel column sums over fixed pixel chunks (pivot: the
	// group's first value of the image), combined per group in a fixed
	// order; then y = (x-piv[c])·a[c] + b[c] pixel by pixel.
	chunk := (sp + nkNHWCChunks - 1) / nkNHWCChunks
	nch := (sp + chunk - 1) / chunk
	buf := make([]float64, 2*N*nch*C)
	piv := make([]float32, N*C)
	for n := 0; n < N; n++ {
		for c := 0; c < C; c++ {
			piv[n*C+c] = nkF32(src[n*sp*C+(c/cpg)*cpg])
		}
	}
	Parallel(threads, N*nch, func(t int) {
		n, k := t/nch, t%nch
		r0 := k * chunk
		rows := min(chunk, sp-r0)
		off := (n*sp + r0) * C
		sum := buf[2*t*C : (2*t+1)*C]
		sq := buf[(2*t+1)*C : (2*t+2)*C]
		nkColSumSq(s, src[off:off+(rows-1)*C+C], rows, C, C, piv[n*C:n*C+C], sum, sq)
	})
	coef := make([]float32, 2*N*C) // a then b per image
	for n := 0; n < N; n++ {
		a, b := coef[2*n*C:(2*n+1)*C], coef[(2*n+1)*C:(2*n+2)*C]
		for g := 0; g < G; g++ {
			var sum, sq float64
			for k := 0; k < nch; k++ {
				t := n*nch + k
				for c := g * cpg; c < (g+1)*cpg; c++ {
					sum += buf[2*t*C+c]
					sq += buf[(2*t+1)*C+c]
				}
			}
			pv := piv[n*C+g*cpg]
			mean, inv := nkStats(pv, sum, sq, cpg*sp, p.Eps)
			for c := g * cpg; c < (g+1)*cpg; c++ {
				ac := inv
				if p.Gamma != nil {
					ac *= float64(p.Gamma[c])
				}
				bc := (float64(pv) - mean) * ac
				if p.Beta != nil {
					bc += float64(p.Beta[c])
				}
				a[c], b[c] = float32(ac), float32(bc)
			}
		}
	}
	Parallel(threads, N*nch, func(t int) {
		n, k := t/nch, t%nch
		a, b := coef[2*n*C:(2*n+1)*C], coef[(2*n+1)*C:(2*n+2)*C]
		m := piv[n*C : n*C+C]
		for r := k * chunk; r < min(sp, (k+1)*chunk); r++ {
			off := (n*sp + r) * C
			nkAffineVec(s, dst[off:off+C], src[off:off+C], m, a, b, p.SiLU)
		}
	})
}

// LayerNormParams describes a normalisation of Rows rows of Cols values over
// the row: y = (x-mean)/sqrt(var+Eps)·Gamma[j] + Beta[j], or with RMS
// y = x/sqrt(mean(x²)+Eps)·Gamma[j] + Beta[j]. Gamma and Beta hold Cols
// values or are nil (1 and 0). Mean and InvStd, when not nil, receive each
// row's mean (0 with RMS) and 1/sqrt(var+Eps) (Rows values each).
type LayerNormParams struct {
	Rows, Cols   int
	Eps          float64
	RMS          bool
	Gamma, Beta  []float32
	Mean, InvStd []float64
}

func (p *LayerNormParams) check(nx, ny int) {
	if p.Rows < 0 || p.Cols < 0 {
		panic(nkErrBadShape)
	}
	n := p.Rows * p.Cols
	if nx < n {
		panic(nkErrShortX)
	}
	if ny < n {
		panic(nkErrShortY)
	}
	if p.Gamma != nil && len(p.Gamma) < p.Cols || p.Beta != nil && len(p.Beta) < p.Cols ||
		p.Mean != nil && len(p.Mean) < p.Rows || p.InvStd != nil && len(p.InvStd) < p.Rows {
		panic(nkErrShortParam)
	}
}

// LayerNormF32 normalises every row of src into dst (see LayerNormParams) on
// up to threads goroutines; dst may alias src. Each row is computed by one
// goroutine, so the result does not depend on threads.
func LayerNormF32(dst, src []float32, p LayerNormParams, threads int) {
	p.check(len(src), len(dst))
	nkLayerNorm(active.Load(), dst, src, &p, threads)
}

// LayerNormF16 is LayerNormF32 for float16 data (bits).
func LayerNormF16(dst, src []uint16, p LayerNormParams, threads int) {
	p.check(len(src), len(dst))
	nkLayerNorm(active.Load(), dst, src, &p, threads)
}

// nkRowsPerTask groups rows into tasks of about 16K elements.
func nkRowsPerTask(cols int) int { return max(1, (1<<14)/max(1, cols)) }

func nkLayerNorm[T nkElem](s *Set, dst, src []T, p *LayerNormParams, threads int) {
	R, C := p.Rows, p.Cols
	if R == 0 {
		return
	}
	if C == 0 {
		for r := 0; r < R; r++ {
			if p.Mean != nil {
				p.Mean[r] = math.NaN()
			}
			if p.InvStd != nil {
				p.InvStd[r] = math.NaN()
			}
		}
		return
	}
	g, b := p.Gamma, p.Beta
	if g == nil {
		g = nkOnes(C)
	}
	if b == nil {
		b = nkZeros(C)
	}
	threads = nkThreads(threads, R*C)
	per := nkRowsPerTask(C)
	Parallel(threads, (R+per-1)/per, func(t int) {
		for r := t * per; r < min(R, (t+1)*per); r++ {
			xs, ys := src[r*C:(r+1)*C], dst[r*C:(r+1)*C]
			var mean, inv float64
			var piv float32
			if p.RMS {
				_, q := nkSumSq(s, xs, 0)
				inv = 1 / math.Sqrt(q/float64(C)+p.Eps)
			} else {
				piv = nkF32(xs[0])
				sum, sq := nkSumSq(s, xs, piv)
				mean, inv = nkStats(piv, sum, sq, C, p.Eps)
			}
			if p.Mean != nil {
				p.Mean[r] = mean
			}
			if p.InvStd != nil {
				p.InvStd[r] = inv
			}
			// (x-mean)·inv = (x-piv)·inv + (piv-mean)·inv
			nkNormVec(s, ys, xs, piv, float32(inv), float32((float64(piv)-mean)*inv), g, b, false)
		}
	})
}

// Shared read-only vectors of ones and zeros for absent gamma/beta.
var (
	nkConstMu         sync.Mutex
	nkOnesV, nkZerosV []float32
)

func nkOnes(n int) []float32 {
	nkConstMu.Lock()
	defer nkConstMu.Unlock()
	if len(nkOnesV) < n {
		v := make([]float32, n)
		for i := range v {
			v[i] = 1
		}
		nkOnesV = v
	}
	return nkOnesV[:n]
}

func nkZeros(n int) []float32 {
	nkConstMu.Lock()
	defer nkConstMu.Unlock()
	if len(nkZerosV) < n {
		nkZerosV = make([]float32, n)
	}
	return nkZerosV[:n]
}
