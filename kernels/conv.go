package kernels

import (
	"runtime"
	"unsafe"

	"github.com/x448/float16"
)

// Winograd F(4×4, 3×3) convolution.
//
// A 3×3, stride-1, undilated, ungrouped convolution is computed on 4×4
// output tiles: each 6×6 input tile d is transformed to V = Bᵀ d B, each
// filter g to U = G g Gᵀ, the 36 products U⊙V are summed over input channels
// (36 independent GEMMs Y_ξ[M×T] = U_ξ[M×C] · V_ξ[C×T] over a block of T
// tiles), and each output tile is Aᵀ Y A (+ bias, epilogue). That is 36
// multiply-adds per tile and channel pair instead of 16·9 = 144 for direct
// convolution (4×).
//
// The transformed filter (WinogradFilter) is computed once, in float64 from
// fp32 or fp16 weights, rounded to float32 and stored already packed in the
// GEMM micro-kernel's A-panel layout of the kernel set active at that time,
// so the GEMMs never pack A; the input transform writes V directly in the
// packed-B layout. Each block of tiles runs three phases (input transform
// over channels, GEMM over (ξ, row panel), output transform over output
// channels), each split over threads with every output element owned by one
// task, so results are bit-identical for any thread count.
//
// Accuracy: the transform matrices have entries up to 8 (Aᵀ) and 5 (Bᵀ), so
// the float32 rounding error is some 10× that of direct convolution; on
// random data the error stays below 1e-5 of the output scale (see
// TestWinograd).

// Transform matrices (Lavin & Gray, interpolation points 0, ±1, ±2, ∞).
var (
	cvBT = [6][6]float64{
		{4, 0, -5, 0, 1, 0},
		{0, -4, -4, 1, 1, 0},
		{0, 4, -4, -1, 1, 0},
		{0, -2, -1, 2, 1, 0},
		{0, 2, -1, -2, 1, 0},
		{0, 4, 0, -5, 0, 1},
	}
	cvG = [6][3]float64{
		{1.0 / 4, 0, 0},
		{-1.0 / 6, -1.0 / 6, -1.0 / 6},
		{-1.0 / 6, 1.0 / 6, -1.0 / 6},
		{1.0 / 24, 1.0 / 12, 1.0 / 6},
		{1.0 / 24, -1.0 / 12, 1.0 / 6},
		{0, 0, 1},
	}
	cvAT = [4][6]float64{
		{1, 1, 1, 1, 1, 0},
		{0, 1, -1, 2, -2, 0},
		{0, 1, 1, 4, 4, 0},
		{0, 1, -1, 8, -8, 1},
	}
)

// winoImpl holds a set's Winograd transform routines (see winoInGeneric and
// winoOutGeneric for their contracts).
type winoImpl struct {
	in  func(d []float32, ld, n int, v []float32, vs int)
	out func(y []float32, ys, n int, bias float32, o []float32, ld int)
	// filtH and filtF transform n groups of eight filters (see
	// winoFiltGeneric) from float16 or float32 tap-major weights, w
	// advancing wstep elements and u ustep floats after each group.
	filtH func(w []uint16, ldw int, u []float32, us, n, wstep, ustep int)
	filtF func(w []float32, ldw int, u []float32, us, n, wstep, ustep int)
}

// Conv2D is the geometry of one 2-D convolution: N images of C×H×W in, M
// output channels, padding PadT/PadL (top/left) and PadB/PadR
// (bottom/right). NHWC selects channels-last X and Y (and [M,kH,kW,C]
// weights); otherwise X is [N,C,H,W] and Y is [N,M,oH,oW].
type Conv2D struct {
	N, C, H, W             int
	M                      int
	PadT, PadL, PadB, PadR int
	NHWC                   bool
}

// Out returns the output height and width of a 3×3 stride-1 convolution.
func (p Conv2D) Out() (oh, ow int) {
	return p.H + p.PadT + p.PadB - 2, p.W + p.PadL + p.PadR - 2
}

// ConvEpilogue is applied to each output element after the bias:
// y += Add[i] (Add, or the float16 AddH, has Y's layout and length; nil
// skips it), then y = y·K (ScaleMul) or y/K (ScaleDiv), then
// y = y·sigmoid(y) when SiLU.
type ConvEpilogue struct {
	Add   []float32
	AddH  []uint16
	Scale ScaleOp
	K     float32
	SiLU  bool
}

// ScaleOp is the optional multiplication or division of a ConvEpilogue.
type ScaleOp uint8

// Scale operations.
const (
	ScaleNone ScaleOp = iota
	ScaleMul
	ScaleDiv
)

func (e *ConvEpilogue) on() bool {
	return e.Add != nil || e.AddH != nil || e.SiLU || e.Scale != ScaleNone
}

// scale applies the epilogue's multiplication or division to y.
func (e *ConvEpilogue) scale(y []float32) {
	switch e.Scale {
	case ScaleMul:
		for j := range y {
			y[j] *= e.K
		}
	case ScaleDiv:
		for j := range y {
			y[j] /= e.K
		}
	}
}

// WinogradFilter is a 3×3 filter bank transformed for F(4×4,3×3) and packed
// for one kernel set. It is read-only after NewWinogradFilter and may be
// shared by concurrent Conv calls.
type WinogradFilter struct {
	M, C int
	set  *Set
	mp   int       // M rounded up to the set's mr
	us   int       // stride of the 36 matrices in u
	u    []float32 // 36 packed mp×C matrices
	// Lazy filters (NewWinogradLazy) keep the weights in their own dtype
	// instead, per panel of mr output channels, channel by channel, tap by
	// tap: element ((pn*C+c)*9+k)*mr + m%mr (zero rows past M, 8 elements
	// of slack at the end), so the transform of one panel reads one
	// sequential stream.
	lazy bool
	wtH  []uint16
	wtF  []float32
	raw  []byte
	mmap bool
}

// Set returns the name of the kernel set the filter is packed for.
func (f *WinogradFilter) Set() string { return f.set.Name }

// Bytes returns the memory held by the transformed filter.
func (f *WinogradFilter) Bytes() int { return 4*len(f.u) + len(f.raw) }

// Lazy reports whether the filter is transformed during each convolution.
func (f *WinogradFilter) Lazy() bool { return f.lazy }

// Free releases a lazy filter's weights (a no-op for others); the filter
// must not be used afterwards.
func (f *WinogradFilter) Free() {
	if f.raw != nil {
		f.wtH, f.wtF = nil, nil
		bigFree(f.raw, f.mmap)
		f.raw = nil
	}
}

// NewWinogradLazy lays the m×c 3×3 filters in w out tap-major for the
// active kernel set, in w's dtype and outside the Go heap (the same memory
// as w), and transforms them during each convolution, a block of output
// channels at a time, instead of keeping the transformed filter (4× the
// fp32 weights). That pays where the transform is small next to the
// products it feeds: few tiles (images of 32² and below) and many channels.
func NewWinogradLazy(m, c int, w Operand, hwc bool, threads int) *WinogradFilter {
	if m < 1 || c < 1 {
		panic(errConvShape)
	}
	l := len(w.F32)
	if w.F32 == nil {
		l = len(w.F16)
	}
	if l < m*c*9 {
		panic(errConvShortW)
	}
	s := active.Load()
	mr := s.gemm.mr
	mp := (m + mr - 1) / mr * mr
	f := &WinogradFilter{M: m, C: c, set: s, mp: mp, lazy: true}
	n := mp*c*9 + 8
	if w.F16 != nil {
		f.raw, f.mmap = bigAlloc(2 * n)
		f.wtH = unsafe.Slice((*uint16)(unsafe.Pointer(&f.raw[0])), n)
	} else {
		f.raw, f.mmap = bigAlloc(4 * n)
		f.wtF = unsafe.Slice((*float32)(unsafe.Pointer(&f.raw[0])), n)
	}
	runtime.SetFinalizer(f, (*WinogradFilter).Free)
	Parallel(threads, c, func(ci int) {
		for mi := 0; mi < m; mi++ {
			pn := mi / mr
			for k := 0; k < 9; k++ {
				idx := (mi*c+ci)*9 + k
				if hwc {
					idx = (mi*9+k)*c + ci
				}
				o := ((pn*c+ci)*9+k)*mr + mi%mr
				if f.wtH != nil {
					f.wtH[o] = w.F16[idx]
				} else {
					f.wtF[o] = w.F32[idx]
				}
			}
		}
	})
	return f
}

// lazyGemms is phase 2 of conv for a lazy filter: tasks over chunks of
// cvLazyPanels panels; per k block a task transforms its panels' filters
// for the block's channels into a scratch U (all 36 ξ), then runs the 36
// GEMMs against V. Every Y element is owned by one task.
func (f *WinogradFilter) lazyGemms(C, tb int, v []float32, vs int, yw []float32, ys int, threads int) {
	g := &f.set.gemm
	mr, nr, kc := g.mr, g.nr, g.kc
	panels := f.mp / mr
	nch := (panels + cvLazyPanels - 1) / cvLazyPanels
	pst := mr*kc + 8 // panel stride in U (spill room)
	usS := cvLazyPanels*pst + 8
	slivers := tb / nr
	Parallel(threads, nch, func(ch int) {
		p0, p1 := ch*cvLazyPanels, min(panels, ch*cvLazyPanels+cvLazyPanels)
		ub := nnGetBuf(36 * usS)
		defer nnPutBuf(ub)
		uS := *ub
		for kb := 0; kb*kc < C; kb++ {
			kcb := min(kc, C-kb*kc)
			f.lazyU(uS, usS, pst, p0, p1, kb*kc, kcb)
			for xi := 0; xi < 36; xi++ {
				vx := v[xi*vs:]
				yx := yw[xi*ys:]
				ux := uS[xi*usS:]
				for sl := 0; sl < slivers; sl++ {
					b := vx[kb*kc*tb+sl*kcb*nr:]
					for pn := p0; pn < p1; pn++ {
						g.kern(kcb, ux[(pn-p0)*pst:], b, yx[pn*mr*tb+sl*nr:], tb, kb > 0, 1)
					}
				}
			}
		}
	})
}

// uOff is the offset in each transformed matrix of the packed A panel pn
// of k block kb (kcb channels): panels are mr*kcb floats and 8 floats of
// padding (room for the spills of the eight-lane filter transform).
func (f *WinogradFilter) uOff(kb, pn, kcb int) int {
	g := &f.set.gemm
	panels := f.mp / g.mr
	return kb*panels*(g.mr*g.kc+8) + pn*(g.mr*kcb+8)
}

// uLen is the length of one transformed matrix (before skewing).
func (f *WinogradFilter) uLen() int {
	kc := f.set.gemm.kc
	nkb := (f.C + kc - 1) / kc
	return f.uOff(nkb-1, f.mp/f.set.gemm.mr, f.C-(nkb-1)*kc)
}

// expand transforms a lazy filter into a transformed one in a buffer from
// the free list (release it with nnPutBuf): for convolutions of several
// tile blocks, which would otherwise transform the filter once per block.
func (f *WinogradFilter) expand(threads int) (*WinogradFilter, *[]float32) {
	s := f.set
	mr, kc := s.gemm.mr, s.gemm.kc
	e := &WinogradFilter{M: f.M, C: f.C, set: s, mp: f.mp}
	e.us = cvSkew(f.uLen())
	buf := nnGetBuf(36 * e.us)
	e.u = *buf
	panels := f.mp / mr
	nkb := (f.C + kc - 1) / kc
	Parallel(threads, nkb*panels, func(t int) {
		kb, pn := t/panels, t%panels
		kcb := min(kc, f.C-kb*kc)
		for g := (mr - 1) &^ 7; g >= 0; g -= 8 {
			w0 := (pn*f.C+kb*kc)*9*mr + g
			dst := e.u[e.uOff(kb, pn, kcb)+g:]
			if f.wtH != nil {
				s.wino.filtH(f.wtH[w0:], mr, dst, e.us, kcb, 9*mr, mr)
			} else {
				s.wino.filtF(f.wtF[w0:], mr, dst, e.us, kcb, 9*mr, mr)
			}
		}
	})
	return e, buf
}

// cvLazyPanels is the number of mr-row panels of U one lazy task
// transforms and multiplies per k block.
const cvLazyPanels = 4

// lazyU fills uS with the transformed filters of panels [p0, p1) for input
// channels [c0, c0+kcb): U_ξ[pn-p0][ci-c0][m%mr] at ξ*usS + (pn-p0)*pst +
// (ci-c0)*mr + m%mr. Each 8-lane transform may spill a few lanes past its
// panel row into the next channel's (written afterwards) or into the pst
// padding.
func (f *WinogradFilter) lazyU(uS []float32, usS, pst, p0, p1, c0, kcb int) {
	s := f.set
	mr := s.gemm.mr
	// Per panel and group of 8 lanes, one call runs the kcb channels in
	// order, so a spill past the panel row is overwritten by the next
	// channel; groups go from the last to the first, so the spills of a
	// later group land where an earlier one writes afterwards.
	for pn := p0; pn < p1; pn++ {
		for g := (mr - 1) &^ 7; g >= 0; g -= 8 {
			w0 := (pn*f.C+c0)*9*mr + g
			dst := uS[(pn-p0)*pst+g:]
			if f.wtH != nil {
				s.wino.filtH(f.wtH[w0:], mr, dst, usS, kcb, 9*mr, mr)
			} else {
				s.wino.filtF(f.wtF[w0:], mr, dst, usS, kcb, 9*mr, mr)
			}
		}
	}
}

// NewWinogradFilter transforms the m×c 3×3 filters in w (F32 or F16; LD and
// Trans are ignored) for the active kernel set. hwc says the layout is
// [M,3,3,C] (NhwcConv) instead of [M,C,3,3]. The transform is computed in
// float64 from the stored values; fp16 weights are widened one filter at a
// time.
func NewWinogradFilter(m, c int, w Operand, hwc bool, threads int) *WinogradFilter {
	if m < 1 || c < 1 {
		panic(errConvShape)
	}
	l := len(w.F32)
	if w.F32 == nil {
		l = len(w.F16)
	}
	if l < m*c*9 {
		panic(errConvShortW)
	}
	s := active.Load()
	mr, kc := s.gemm.mr, s.gemm.kc
	mp := (m + mr - 1) / mr * mr
	f := &WinogradFilter{M: m, C: c, set: s, mp: mp}
	f.us = cvSkew(f.uLen())
	f.u = make([]float32, 36*f.us)
	Parallel(threads, (m+mr-1)/mr, func(panel int) {
		for ci := 0; ci < c; ci++ {
			for mi := panel * mr; mi < min(m, panel*mr+mr); mi++ {
				var g [3][3]float64
				for kh := 0; kh < 3; kh++ {
					for kw := 0; kw < 3; kw++ {
						idx := ((mi*c+ci)*3+kh)*3 + kw
						if hwc {
							idx = ((mi*3+kh)*3+kw)*c + ci
						}
						if w.F32 != nil {
							g[kh][kw] = float64(w.F32[idx])
						} else {
							g[kh][kw] = float64(nnH2F(w.F16[idx]))
						}
					}
				}
				// t = G g (6×3), u = t Gᵀ (6×6).
				var t [6][3]float64
				for i := 0; i < 6; i++ {
					for j := 0; j < 3; j++ {
						t[i][j] = cvG[i][0]*g[0][j] + cvG[i][1]*g[1][j] + cvG[i][2]*g[2][j]
					}
				}
				kb := ci / kc
				kcb := min(kc, c-kb*kc)
				base := f.uOff(kb, mi/mr, kcb) + (ci%kc)*mr + mi%mr
				for i := 0; i < 6; i++ {
					for j := 0; j < 6; j++ {
						v := t[i][0]*cvG[j][0] + t[i][1]*cvG[j][1] + t[i][2]*cvG[j][2]
						f.u[(i*6+j)*f.us+base] = float32(v)
					}
				}
			}
		}
	})
	return f
}

// WinogradWorth reports whether Winograd F(4×4,3×3) is expected to beat
// im2col+GEMM for p: enough input channels for the GEMMs and enough tiles
// to fill the micro-kernel's columns. Few output channels are fine (the
// VAE's 128→3 conv_out: im2col + GEMM would pack a 1152×262144 matrix for a
// 3-row product).
func WinogradWorth(p Conv2D) bool {
	oh, ow := p.Out()
	tiles := p.N * ((oh + 3) / 4) * ((ow + 3) / 4)
	return p.C >= 16 && tiles >= WinogradMinTiles
}

// WinogradMinTiles is the fewest 4×4 output tiles for which a convolution
// uses Winograd (12: a 16×16 output; an 8×8 one has 4 tiles, too few to
// fill the micro-kernel's columns, and runs im2col + GEMM).
var WinogradMinTiles = 12

// cvBudget bounds the floats of the per-block V and Y buffers
// (36·(C+M)·tiles).
var cvBudget = 3 << 20

// cvLazyBudget is cvBudget for lazy filters.
var cvLazyBudget = 8 << 20

// cvSkew returns a stride of at least n floats for the 36 transformed
// matrices that is an odd number of cache lines, so the 36 streams of a
// transform do not all map to the same L1 sets.
func cvSkew(n int) int {
	n = (n + 15) &^ 15
	if n&16 == 0 {
		n += 16
	}
	return n
}

// cvSeg is a run of tiles of one tile row inside a block that maps to
// consecutive columns of one packed-B sliver.
type cvSeg struct {
	n, ty, tx, cnt int
	col            int // column of the first tile in the block
}

// Conv computes the convolution p of x with the filter (3×3, stride 1,
// dilation 1, one group): y = conv(x) + bias, then the epilogue. bias may be
// nil (else len M). x and y have the layouts p.NHWC selects; y is fully
// written. The result is bit-identical for every thread count.
func (f *WinogradFilter) Conv(p Conv2D, x, bias []float32, epi ConvEpilogue, y []float32, threads int) {
	f.conv(p, cvData{f32: x}, bias, epi, cvData{f32: y}, threads)
}

// ConvF16 is Conv with float16 x and y: the input is widened tile by tile
// as it is transformed and the output narrowed (round to nearest even) as
// it is stored, so no float32 copy of either tensor is made.
func (f *WinogradFilter) ConvF16(p Conv2D, x []uint16, bias []float32, epi ConvEpilogue, y []uint16, threads int) {
	f.conv(p, cvData{f16: x}, bias, epi, cvData{f16: y}, threads)
}

// ConvOutF16 is Conv with a float16 y, narrowed (round to nearest even) as
// it is stored: no float32 copy of the output is made. (Widening x tile by
// tile, as ConvF16 does, costs more than one vectorised pass over it.)
func (f *WinogradFilter) ConvOutF16(p Conv2D, x, bias []float32, epi ConvEpilogue, y []uint16, threads int) {
	f.conv(p, cvData{f32: x}, bias, epi, cvData{f16: y}, threads)
}

// cvData is a float32 or float16 tensor of Conv.
type cvData struct {
	f32 []float32
	f16 []uint16
}

func (d cvData) len() int {
	if d.f16 != nil {
		return len(d.f16)
	}
	return len(d.f32)
}

func (f *WinogradFilter) conv(p Conv2D, x cvData, bias []float32, epi ConvEpilogue, y cvData, threads int) {
	if p.C != f.C || p.M != f.M || p.N < 0 || p.H < 0 || p.W < 0 || p.PadT < 0 || p.PadL < 0 || p.PadB < 0 || p.PadR < 0 {
		panic(errConvShape)
	}
	oh, ow := p.Out()
	if p.N == 0 || oh <= 0 || ow <= 0 {
		return
	}
	if x.len() < p.N*p.C*p.H*p.W {
		panic(errConvShortX)
	}
	if y.len() < p.N*p.M*oh*ow {
		panic(errConvShortY)
	}
	if bias != nil && len(bias) < p.M {
		panic(errConvShortBias)
	}
	if epi.Add != nil && len(epi.Add) < p.N*p.M*oh*ow || epi.AddH != nil && len(epi.AddH) < p.N*p.M*oh*ow {
		panic(errConvShortAdd)
	}
	if threads < 1 {
		threads = 1
	}
	s := f.set
	g := &s.gemm
	mr, nr, kc := g.mr, g.nr, g.kc
	C, M, mp := p.C, p.M, f.mp
	th, tw := (oh+3)/4, (ow+3)/4
	T := p.N * th * tw

	// Tiles per block: a multiple of nr within the V+Y budget, blocks of
	// equal size. Lazy filters are transformed once per block, so where
	// the larger budget holds every tile in one block they take it (the
	// UNet's small images); images needing several blocks anyway keep the
	// cache-sized budget (the transform is then a few % of a block).
	budget := cvBudget
	if f.lazy && 36*(C+mp)*((T+nr-1)/nr*nr) <= cvLazyBudget {
		budget = cvLazyBudget
	}
	tbMax := max(nr, budget/(36*(C+mp))/nr*nr)
	tp := (T + nr - 1) / nr * nr
	nb := (tp + tbMax - 1) / tbMax
	tb := ((T+nb-1)/nb + nr - 1) / nr * nr
	if f.lazy && nb > 1 {
		// Several tile blocks: transform the filter once for this call.
		e, buf := f.expand(threads)
		defer nnPutBuf(buf)
		f = e
	}
	vs, ys := cvSkew(C*tb), cvSkew(mp*tb)
	vBuf, yBuf := nnGetBuf(36*vs), nnGetBuf(36*ys)
	defer nnPutBuf(vBuf)
	defer nnPutBuf(yBuf)
	v, yw := *vBuf, *yBuf
	segs := make([]cvSeg, 0, tb)

	// Per-task scratch: 6 padded input rows / 4 output rows of up to nr tiles.
	ldIn, ldOut := 4*nr+2, 4*nr
	inTasks := min(C, 4*threads)
	// Float16 NCHW input is widened a band of six full rows at a time.
	bandF16 := x.f16 != nil && !p.NHWC
	bw := 4*tw + 2 // input columns of a tile row, from -PadL
	var bandBuf []float32
	if bandF16 {
		bb := nnGetBuf(inTasks * 6 * bw)
		defer nnPutBuf(bb)
		bandBuf = *bb
	}
	outTasks := min(M, 4*threads)
	scrBuf := nnGetBuf(max(inTasks*6*ldIn, outTasks*4*ldOut))
	defer nnPutBuf(scrBuf)
	scr := *scrBuf

	panels := mp / mr
	pch := max(1, g.mc/mr) // panels per GEMM task (an mc×kc block of U in L2)
	nch := (panels + pch - 1) / pch

	for t0 := 0; t0 < T; t0 += tb {
		t1 := min(T, t0+tb)
		// Segments: runs of one tile row, split at sliver boundaries.
		segs = segs[:0]
		for t := t0; t < t1; {
			n, r := t/(th*tw), t%(th*tw)
			ty, tx := r/tw, r%tw
			cnt := min(tw-tx, t1-t, nr-(t-t0)%nr)
			segs = append(segs, cvSeg{n: n, ty: ty, tx: tx, cnt: cnt, col: t - t0})
			t += cnt
		}

		if t1-t0 < tb {
			clear(v) // columns past the last tile: keep the GEMM inputs finite
		}
		// Phase 1: input transform, channels split over tasks. Float16
		// NCHW input: the six input rows of a tile row are widened once, over
		// the whole padded width, into a per-task band every segment of the
		// tile row reads (no float32 copy of X).
		Parallel(threads, inTasks, func(task int) {
			pad := scr[task*6*ldIn : (task+1)*6*ldIn]
			var band []float32
			if bandF16 {
				band = bandBuf[task*6*bw : (task+1)*6*bw]
			}
			for c := task * C / inTasks; c < (task+1)*C/inTasks; c++ {
				kb := c / kc
				kcb := min(kc, C-kb*kc)
				vc := v[kb*kc*tb+(c%kc)*nr:]
				bn, bty := -1, -1
				for _, sg := range segs {
					var d []float32
					var ld int
					if bandF16 {
						if sg.n != bn || sg.ty != bty {
							cvBandF16(p, s, x.f16, c, sg.n, sg.ty, band, bw)
							bn, bty = sg.n, sg.ty
						}
						d, ld = band[4*sg.tx:], bw
					} else {
						d, ld = cvInputRows(p, s, x, c, sg, pad, ldIn)
					}
					sl := sg.col / nr
					s.wino.in(d, ld, sg.cnt, vc[sl*kcb*nr+sg.col%nr:], vs)
				}
			}
		})

		// Phase 2: 36 GEMMs Y_ξ = U_ξ V_ξ, tasks over (ξ, panel chunk);
		// lazy filters: tasks over panel chunks, each transforming its U.
		slivers := tb / nr
		if f.lazy {
			f.lazyGemms(C, tb, v, vs, yw, ys, threads)
		} else {
			Parallel(threads, 36*nch, func(task int) {
				xi, ch := task/nch, task%nch
				p0, p1 := ch*pch, min(panels, ch*pch+pch)
				u := f.u[xi*f.us:]
				vx := v[xi*vs:]
				yx := yw[xi*ys:]
				for kb := 0; kb*kc < C; kb++ {
					kcb := min(kc, C-kb*kc)
					for sl := 0; sl < slivers; sl++ {
						b := vx[kb*kc*tb+sl*kcb*nr:]
						for pn := p0; pn < p1; pn++ {
							a := u[f.uOff(kb, pn, kcb):]
							g.kern(kcb, a, b, yx[pn*mr*tb+sl*nr:], tb, kb > 0, 1)
						}
					}
				}
			})
		}

		// Phase 3: output transform, output channels split over tasks.
		Parallel(threads, outTasks, func(task int) {
			buf := scr[task*4*ldOut : (task+1)*4*ldOut]
			for m := task * M / outTasks; m < (task+1)*M/outTasks; m++ {
				bv := float32(0)
				if bias != nil {
					bv = bias[m]
				}
				ym := yw[m*tb:]
				for _, sg := range segs {
					cvOutput(p, s, oh, ow, ym[sg.col:], ys, sg, m, bv, epi, y, buf, ldOut)
				}
			}
		})
	}
}

// cvBandF16 widens the six input rows of tile row ty of image n, channel c,
// of a float16 NCHW input into band (row stride bw = 4·tiles+2 columns,
// column 0 at input column -PadL), zero outside the image.
func cvBandF16(p Conv2D, s *Set, x []uint16, c, n, ty int, band []float32, bw int) {
	iy0 := 4*ty - p.PadT
	lo, hi := p.PadL, min(bw, p.PadL+p.W) // band columns inside the image
	for i := 0; i < 6; i++ {
		row := band[i*bw : (i+1)*bw]
		iy := iy0 + i
		if iy < 0 || iy >= p.H || lo >= hi {
			clear(row)
			continue
		}
		clear(row[:lo])
		clear(row[hi:])
		base := ((n*p.C+c)*p.H + iy) * p.W
		s.h2f(row[lo:hi], x[base:base+hi-lo])
	}
}

// cvInputRows returns the 6 input rows of segment sg for channel c, as d
// with row stride ld: x itself when x is float32 and the 6×(4·cnt+2) window
// lies inside an NCHW image, else a zero-padded (and widened) copy in pad.
func cvInputRows(p Conv2D, s *Set, x cvData, c int, sg cvSeg, pad []float32, ldp int) ([]float32, int) {
	iy0 := 4*sg.ty - p.PadT
	ix0 := 4*sg.tx - p.PadL
	wd := 4*sg.cnt + 2
	if x.f16 == nil && !p.NHWC && iy0 >= 0 && iy0+6 <= p.H && ix0 >= 0 && ix0+wd <= p.W {
		base := ((sg.n*p.C+c)*p.H+iy0)*p.W + ix0
		return x.f32[base:], p.W
	}
	lo, hi := max(0, -ix0), min(wd, p.W-ix0) // in-range columns [lo, hi)
	for i := 0; i < 6; i++ {
		row := pad[i*ldp : i*ldp+wd]
		iy := iy0 + i
		if iy < 0 || iy >= p.H || lo >= hi {
			clear(row)
			continue
		}
		clear(row[:lo])
		clear(row[hi:])
		switch {
		case p.NHWC && x.f16 != nil:
			src := x.f16[(sg.n*p.H+iy)*p.W*p.C+c:]
			for j := lo; j < hi; j++ {
				row[j] = nnH2F(src[(ix0+j)*p.C])
			}
		case p.NHWC:
			src := x.f32[(sg.n*p.H+iy)*p.W*p.C+c:]
			for j := lo; j < hi; j++ {
				row[j] = src[(ix0+j)*p.C]
			}
		case x.f16 != nil:
			base := ((sg.n*p.C+c)*p.H + iy) * p.W
			s.h2f(row[lo:hi], x.f16[base+ix0+lo:base+ix0+hi])
		default:
			base := ((sg.n*p.C+c)*p.H + iy) * p.W
			copy(row[lo:hi], x.f32[base+ix0+lo:base+ix0+hi])
		}
	}
	return pad, ldp
}

// cvOutput transforms segment sg of output channel m (y holds its 36
// GEMM results at stride ys) and stores it into out with bias and epilogue,
// clipped to the oh×ow image.
func cvOutput(p Conv2D, s *Set, oh, ow int, y []float32, ys int, sg cvSeg, m int, bias float32, epi ConvEpilogue, out cvData, buf []float32, ldb int) {
	oy0, ox0 := 4*sg.ty, 4*sg.tx
	wd := 4 * sg.cnt
	rows, cols := min(4, oh-oy0), min(wd, ow-ox0)
	if out.f16 == nil && !p.NHWC && rows == 4 && cols == wd {
		base := ((sg.n*p.M+m)*oh+oy0)*ow + ox0
		s.wino.out(y, ys, sg.cnt, bias, out.f32[base:], ow)
		if epi.on() {
			for r := 0; r < 4; r++ {
				o := base + r*ow
				cvEpilogue(s, out.f32[o:o+wd], epi, o)
			}
		}
		return
	}
	s.wino.out(y, ys, sg.cnt, bias, buf, ldb)
	for r := 0; r < rows; r++ {
		src := buf[r*ldb : r*ldb+cols]
		if p.NHWC {
			o := ((sg.n*oh+oy0+r)*ow+ox0)*p.M + m
			for j := range src {
				v := src[j]
				if epi.Add != nil {
					v += epi.Add[o+j*p.M]
				} else if epi.AddH != nil {
					v += nnH2F(epi.AddH[o+j*p.M])
				}
				switch epi.Scale {
				case ScaleMul:
					v *= epi.K
				case ScaleDiv:
					v /= epi.K
				}
				if epi.SiLU {
					v = v / (1 + Exp32(-v))
				}
				if out.f16 != nil {
					out.f16[o+j*p.M] = uint16(float16.Fromfloat32(v))
				} else {
					out.f32[o+j*p.M] = v
				}
			}
			continue
		}
		o := ((sg.n*p.M+m)*oh+oy0+r)*ow + ox0
		if epi.on() {
			cvEpilogue(s, src, epi, o)
		}
		if out.f16 != nil {
			s.nk.f2h(out.f16[o:o+cols], src)
		} else {
			copy(out.f32[o:o+cols], src)
		}
	}
}

// cvEpilogue applies epi to the contiguous run y of an NCHW output that
// starts at output index off: the addend, then SiLU (vectorised).
func cvEpilogue(s *Set, y []float32, epi ConvEpilogue, off int) {
	switch {
	case epi.Add != nil:
		for j, v := range epi.Add[off : off+len(y)] {
			y[j] += v
		}
	case epi.AddH != nil:
		var tmp [64]float32
		for j0 := 0; j0 < len(y); j0 += len(tmp) {
			n := min(len(tmp), len(y)-j0)
			s.h2f(tmp[:n], epi.AddH[off+j0:off+j0+n])
			for j, v := range tmp[:n] {
				y[j0+j] += v
			}
		}
	}
	epi.scale(y)
	if epi.SiLU {
		s.nk.silu(y, y)
	}
}
