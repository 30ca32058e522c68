package onnx

import (
	"sync"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/kernels"
	"github.com/txt2img/engine/tensor"
)

// Convolutions: Conv (im2col + blocked GEMM) and ConvTranspose (GEMM +
// col2im). float32 and float16 (computed in float32; fp16 weights are read
// directly by the GEMM packers) are supported, plus float64 / bfloat16 via
// float32 widening.

func init() {
	reg("Conv", 1, 0, nnConvFactory)
	reg("ConvTranspose", 1, 0, nnConvTransposeFactory)
}

// nnConvAttrs are the attributes shared by Conv, ConvTranspose and pools.
type nnConvAttrs struct {
	autoPad   string
	kernel    []int // may be nil (taken from W)
	strides   []int
	dilations []int
	pads      []int // nil when absent
	group     int
}

// nnIntsAttr reads an ints attribute as []int, nil when absent.
func nnIntsAttr(n *graph.Node, name string) []int {
	if !n.Has(name) {
		return nil
	}
	return ints64(n.Ints(name, nil))
}

func nnReadConvAttrs(n *graph.Node) (nnConvAttrs, error) {
	a := nnConvAttrs{
		autoPad:   n.Str("auto_pad", "NOTSET"),
		kernel:    nnIntsAttr(n, "kernel_shape"),
		strides:   nnIntsAttr(n, "strides"),
		dilations: nnIntsAttr(n, "dilations"),
		group:     int(n.Int("group", 1)),
	}
	if n.Has("pads") {
		a.pads = nnIntsAttr(n, "pads")
	}
	switch a.autoPad {
	case "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID", "":
	default:
		return a, errf("unknown auto_pad %q", a.autoPad)
	}
	if a.group < 1 {
		return a, errf("group must be >= 1, got %d", a.group)
	}
	for _, s := range a.strides {
		if s < 1 {
			return a, errf("strides must be >= 1, got %v", a.strides)
		}
	}
	for _, d := range a.dilations {
		if d < 1 {
			return a, errf("dilations must be >= 1, got %v", a.dilations)
		}
	}
	for _, k := range a.kernel {
		if k < 1 {
			return a, errf("kernel_shape must be >= 1, got %v", a.kernel)
		}
	}
	return a, nil
}

// nnGeom is the resolved geometry of a sliding-window op over nd spatial dims.
type nnGeom struct {
	in, out, k, s, d, pb, pe []int
}

// nnResolve computes strides/dilations defaults, pads and output sizes for
// Conv-style windows (ceil selects the pooling ceil_mode rounding).
func (a *nnConvAttrs) nnResolve(in, kernel []int, ceil bool) (*nnGeom, error) {
	nd := len(in)
	g := &nnGeom{in: in, k: kernel, s: make([]int, nd), d: make([]int, nd), pb: make([]int, nd), pe: make([]int, nd), out: make([]int, nd)}
	if len(kernel) != nd {
		return nil, errf("kernel has %d dims, input has %d spatial dims", len(kernel), nd)
	}
	for i := 0; i < nd; i++ {
		g.s[i], g.d[i] = 1, 1
	}
	if a.strides != nil {
		if len(a.strides) != nd {
			return nil, errf("strides %v do not match %d spatial dims", a.strides, nd)
		}
		copy(g.s, a.strides)
	}
	if a.dilations != nil {
		if len(a.dilations) != nd {
			return nil, errf("dilations %v do not match %d spatial dims", a.dilations, nd)
		}
		copy(g.d, a.dilations)
	}
	if a.pads != nil && a.autoPad != "SAME_UPPER" && a.autoPad != "SAME_LOWER" && a.autoPad != "VALID" {
		if len(a.pads) != 2*nd {
			return nil, errf("pads %v do not match %d spatial dims", a.pads, nd)
		}
		copy(g.pb, a.pads[:nd])
		copy(g.pe, a.pads[nd:])
		for _, p := range a.pads {
			if p < 0 {
				return nil, errf("negative pads %v", a.pads)
			}
		}
	}
	for i := 0; i < nd; i++ {
		ek := (g.k[i]-1)*g.d[i] + 1
		switch a.autoPad {
		case "SAME_UPPER", "SAME_LOWER":
			o := (in[i] + g.s[i] - 1) / g.s[i]
			total := max(0, (o-1)*g.s[i]+ek-in[i])
			if a.autoPad == "SAME_UPPER" {
				g.pb[i] = total / 2
			} else {
				g.pb[i] = (total + 1) / 2
			}
			g.pe[i] = total - g.pb[i]
			g.out[i] = o
		default: // NOTSET and VALID (pads are zero for VALID)
			span := in[i] + g.pb[i] + g.pe[i] - ek
			if span < 0 {
				return nil, errf("kernel %v (dilated) larger than padded input %v", kernel, in)
			}
			o := span/g.s[i] + 1
			if ceil && span%g.s[i] != 0 {
				o++
				// The last window must start inside the input or the begin pad.
				if (o-1)*g.s[i] >= in[i]+g.pb[i] {
					o--
				}
			}
			g.out[i] = o
		}
	}
	return g, nil
}

// nnIm2col writes rows [r0, r1) of the im2col matrix for one image/group
// (x: cg channels of the input, row-major spatial) into col, restricted to
// output positions [o0, o0+ncol) where o0 is a multiple of the last output dim.
func nnIm2col(col []float32, x []float32, g *nnGeom, r0, r1, o0, ncol int) {
	nd := len(g.in)
	ksz := tensor.Numel(g.k)
	inSz := tensor.Numel(g.in)
	lastOut := g.out[nd-1]
	lastIn := g.in[nd-1]
	kidx := make([]int, nd)
	oidx := make([]int, nd)
	for r := r0; r < r1; r++ {
		c, kf := r/ksz, r%ksz
		for d := nd - 1; d >= 0; d-- {
			kidx[d] = kf % g.k[d]
			kf /= g.k[d]
		}
		src := x[c*inSz : (c+1)*inSz]
		dst := col[(r-r0)*ncol : (r-r0+1)*ncol]
		// Outer output index of o0.
		of := o0 / lastOut
		for d := nd - 2; d >= 0; d-- {
			oidx[d] = of % g.out[d]
			of /= g.out[d]
		}
		ks, kd, kp := g.s[nd-1], g.d[nd-1]*kidx[nd-1], g.pb[nd-1]
		for pos := 0; pos < ncol; pos += lastOut {
			line := dst[pos : pos+lastOut]
			base, ok := 0, true
			for d := 0; d < nd-1; d++ {
				ix := oidx[d]*g.s[d] - g.pb[d] + kidx[d]*g.d[d]
				if ix < 0 || ix >= g.in[d] {
					ok = false
					break
				}
				base = base*g.in[d] + ix
			}
			if !ok {
				clear(line)
			} else {
				row := src[base*lastIn : base*lastIn+lastIn]
				ix := kd - kp
				if ks == 1 && ix >= 0 && ix+lastOut <= lastIn {
					copy(line, row[ix:ix+lastOut])
				} else {
					for ox := range line {
						if ix >= 0 && ix < lastIn {
							line[ox] = row[ix]
						} else {
							line[ox] = 0
						}
						ix += ks
					}
				}
			}
			for d := nd - 2; d >= 0; d-- {
				oidx[d]++
				if oidx[d] < g.out[d] {
					break
				}
				oidx[d] = 0
			}
		}
	}
}

// nnConvFactory: https://onnx.ai/onnx/operators/onnx__Conv.html
// Opset 1 and 11 (auto_pad / default-kernel clarifications) and 22 (bfloat16)
// share semantics.
func nnConvFactory(n *graph.Node, opset int) (graph.Kernel, error) {
	a, err := nnReadConvAttrs(n)
	if err != nil {
		return nil, err
	}
	wc := &cvWino{}
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, w, b := input(in, 0), input(in, 1), input(in, 2)
		if x == nil || w == nil {
			return nil, errf("Conv needs X and W")
		}
		t, _, err := cvConvFused(ec, wc, &a, x, w, b, nil, nil, nil, nnThreads(ec))
		if err != nil {
			return nil, err
		}
		return one(t)
	}), nil
}

// cvWino caches the Winograd-transformed weight of one Conv node: the
// kernel object lives as long as its session, so a constant weight is
// transformed once, on the first run, for the kernel set active then.
type cvWino struct {
	mu sync.Mutex
	w  *tensor.Tensor
	f  *kernels.WinogradFilter
}

// cvEagerWinograd makes filter keep transformed filters (4× the fp32
// weights) instead of lazy ones; for tests.
var cvEagerWinograd = false

// filter returns the Winograd filter of w (p.M×p.C 3×3 filters, [M,3,3,C]
// when hwc), reusing the cached one for the same tensor and kernel set: a
// lazy filter (kernels.NewWinogradLazy: the weights laid out tap-major in
// their own dtype, transformed during each call — a few % of the call for
// every convolution Winograd is used for, and no more memory than w). The
// weight's pages in the file mapping are released once the filter holds
// what the convolutions need.
func (c *cvWino) filter(w *tensor.Tensor, p kernels.Conv2D, hwc bool, threads int) *kernels.WinogradFilter {
	lazy := !cvEagerWinograd
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f == nil || c.w != w || c.f.Set() != kernels.Active() || c.f.Lazy() != lazy {
		if c.f != nil {
			c.f.Free()
		}
		if lazy {
			c.f = kernels.NewWinogradLazy(p.M, p.C, nnOperand(w), hwc, threads)
		} else {
			c.f = kernels.NewWinogradFilter(p.M, p.C, nnOperand(w), hwc, threads)
		}
		c.w = w
		releaseMapped(w.Bytes())
	}
	return c.f
}

// cvWinoGeom returns the Winograd problem of a 2-D convolution with input
// shape xs and weight shape ws ([N,C,H,W] and [M,C,3,3], or [N,H,W,C] and
// [M,3,3,C] when nhwc); ok is false unless it is a valid 3×3, unit-stride,
// undilated, single-group convolution worth doing with Winograd.
func cvWinoGeom(a *nnConvAttrs, xs, ws []int, nhwc bool) (kernels.Conv2D, bool) {
	var p kernels.Conv2D
	if len(xs) != 4 || len(ws) != 4 || a.group != 1 {
		return p, false
	}
	in, k, wc := xs[2:], ws[2:], ws[1]
	p = kernels.Conv2D{N: xs[0], C: xs[1], H: xs[2], W: xs[3], M: ws[0], NHWC: nhwc}
	if nhwc {
		in, k, wc = xs[1:3], ws[1:3], ws[3]
		p.C, p.H, p.W = xs[3], xs[1], xs[2]
	}
	if k[0] != 3 || k[1] != 3 || wc != p.C || (a.kernel != nil && !tensor.SameShape(a.kernel, k)) {
		return p, false
	}
	g, err := a.nnResolve(in, k, false)
	if err != nil || g.s[0] != 1 || g.s[1] != 1 || g.d[0] != 1 || g.d[1] != 1 {
		return p, false
	}
	p.PadT, p.PadL, p.PadB, p.PadR = g.pb[0], g.pb[1], g.pe[0], g.pe[1]
	oh, ow := p.Out()
	if oh != g.out[0] || ow != g.out[1] || oh < 1 || ow < 1 {
		return p, false
	}
	return p, kernels.WinogradWorth(p)
}

// cvConvFused computes Conv(x, w, b), through Winograd F(4×4,3×3) with the
// weight transformed once per session (wc) when cvWinoGeom allows, else
// through nnConv. The epilogue steps (FusedConv; nil for Conv) are applied
// by the Winograd output transform or nnConv's prepacked GEMM when they are
// add, silu or add then silu with an addend of the output's shape and
// dtype; fused reports that.
func cvConvFused(ec *graph.ExecContext, wc *cvWino, a *nnConvAttrs, x, w, b, add *tensor.Tensor, steps []string, consts []float32, threads int) (t *tensor.Tensor, fused bool, err error) {
	dt := x.DType()
	ce := cvEpiPlan(steps, consts, add, dt)
	ok := (dt == tensor.Float || dt == tensor.Float16) && w.DType() == dt &&
		(b == nil || b.DType() == dt && b.Rank() == 1)
	var p kernels.Conv2D
	if ok {
		p, ok = cvWinoGeom(a, x.Shape(), w.Shape(), false)
		ok = ok && (b == nil || b.Shape()[0] == p.M)
	}
	if !ok {
		return nnConv(ec, a, x, w, b, ce, threads)
	}
	oh, ow := p.Out()
	outShape := []int{p.N, p.M, oh, ow}
	var epi kernels.ConvEpilogue
	if ce != nil && (ce.add == nil || tensor.SameShape(ce.add.Shape(), outShape)) {
		epi.SiLU, epi.Scale, epi.K, fused = ce.silu, ce.scale, ce.k, true
		switch {
		case ce.add == nil:
		case dt == tensor.Float16 && ce.add.Contiguous():
			epi.AddH = tensor.View[uint16](ce.add)
		default:
			epi.Add = toF32T(ec, ce.add)
		}
	}
	f := wc.filter(w, p, false, threads)
	out := ec.Alloc(dt, outShape...)
	var bias []float32
	if b != nil {
		bias = toF32(b)
	}
	if dt == tensor.Float16 && epi.Add == nil && x.Contiguous() {
		// X widened six rows at a time as it is transformed, Y narrowed as
		// it is stored: no float32 copy of either.
		f.ConvF16(p, tensor.View[uint16](x), bias, epi, tensor.View[uint16](out), threads)
		return out, fused, nil
	}
	var y []float32
	if dt == tensor.Float {
		y = out.F32()
	} else {
		y = ec.TempF32(out.Numel())
	}
	f.Conv(p, toF32T(ec, x), bias, epi, y, threads)
	if dt != tensor.Float {
		narrowT(ec, out, 0, y)
	}
	return out, fused, nil
}

// cvNhwc computes NhwcConv through Winograd when cvWinoGeom allows: y (the
// float32 [N,oH,oW,M] output) = conv(x, w) + bias. It reports false, having
// done nothing, otherwise.
func (c *cvWino) nhwc(a *nnConvAttrs, x, w *tensor.Tensor, bias, y []float32, threads int) bool {
	p, ok := cvWinoGeom(a, x.Shape(), w.Shape(), true)
	if !ok {
		return false
	}
	c.filter(w, p, true, threads).Conv(p, toF32(x), bias, kernels.ConvEpilogue{}, y, threads)
	return true
}

// nnConvEpi is an epilogue the convolution paths may fuse: y += add (same
// shape as y; nil skips it), then y·k or y/k (scale), then y·sigmoid(y)
// when silu.
type nnConvEpi struct {
	add   *tensor.Tensor
	scale kernels.ScaleOp
	k     float32
	silu  bool
}

// cvEpiPlan maps FusedConv epilogue steps onto an nnConvEpi when they are
// [add] [mul|div] [silu] in that order (each optional, an addend of the
// output's dtype); nil otherwise.
func cvEpiPlan(steps []string, consts []float32, add *tensor.Tensor, dt tensor.DType) *nnConvEpi {
	if len(steps) == 0 {
		return nil
	}
	e := &nnConvEpi{}
	i, ci := 0, 0
	if i < len(steps) && steps[i] == fzEpiAdd {
		if add == nil || add.DType() != dt {
			return nil
		}
		e.add = add
		i++
	}
	if i < len(steps) && (steps[i] == fzEpiMul || steps[i] == fzEpiDiv) {
		if ci >= len(consts) {
			return nil
		}
		e.scale, e.k = kernels.ScaleMul, consts[ci]
		if steps[i] == fzEpiDiv {
			e.scale = kernels.ScaleDiv
		}
		i++
	}
	if i < len(steps) && steps[i] == fzEpiSiLU {
		e.silu = true
		i++
	}
	if i != len(steps) {
		return nil
	}
	return e
}

// nnConv computes a convolution through im2col and GEMM. With a constant
// weight and one group, the weight is prepacked once per session
// (pkWeight) as the GEMM's B operand and the product runs transposed
// (pixels × channels, stored channels-first), with the bias and epi fused
// into the GEMM's epilogue; fused reports that epi was applied.
func nnConv(ec *graph.ExecContext, a *nnConvAttrs, x, w, b *tensor.Tensor, epi *nnConvEpi, threads int) (out *tensor.Tensor, fused bool, err error) {
	dt := x.DType()
	if w.DType() != dt || (b != nil && b.DType() != dt) {
		return nil, false, errf("Conv input dtypes differ")
	}
	if !dt.IsFloat() {
		return nil, false, errf("Conv: unsupported dtype %s", dt)
	}
	xs, ws := x.Shape(), w.Shape()
	if len(xs) < 3 || len(ws) != len(xs) {
		return nil, false, errf("Conv needs X and W of equal rank >= 3, got %v and %v", xs, ws)
	}
	N, C, M := xs[0], xs[1], ws[0]
	G := a.group
	if C%G != 0 || M%G != 0 || ws[1] != C/G {
		return nil, false, errf("Conv channels mismatch: X %v, W %v, group %d", xs, ws, G)
	}
	kernel := ws[2:]
	if a.kernel != nil && !tensor.SameShape(a.kernel, kernel) {
		return nil, false, errf("kernel_shape %v does not match W %v", a.kernel, ws)
	}
	g, err := a.nnResolve(xs[2:], kernel, false)
	if err != nil {
		return nil, false, err
	}
	if b != nil && (b.Rank() != 1 || b.Shape()[0] != M) {
		return nil, false, errf("Conv bias shape %v, want [%d]", b.Shape(), M)
	}
	Cg, Mg := C/G, M/G
	ksz := tensor.Numel(kernel)
	inSz, outSz := tensor.Numel(g.in), tensor.Numel(g.out)
	rows := Cg * ksz
	outShape := append([]int{N, M}, g.out...)

	wop := nnOperand(w)
	var bias []float32
	if b != nil {
		bias = toF32(b)
	}
	pointwise := ksz == 1
	for i := range g.in {
		pointwise = pointwise && g.s[i] == 1 && g.pb[i] == 0 && g.pe[i] == 0
	}

	// Prepacked weight: op(B) = Wᵀ, rows x M.
	var pb *kernels.PackedB
	if G == 1 && M >= 16 && (dt == tensor.Float || dt == tensor.Float16) {
		pb = pkWeight(ec, w, nnOpAt(wop, 0, rows, true), rows, M)
	}
	var addF []float32
	if pb != nil && epi != nil {
		if epi.add != nil && (epi.add.DType() != dt || !tensor.SameShape(epi.add.Shape(), outShape)) {
			epi = nil
		} else if epi.add != nil {
			addF = toF32T(ec, epi.add)
		}
	} else {
		epi = nil
	}
	fused = epi != nil

	var res []float32 // float32 result (the output itself for float32)
	out = ec.Alloc(dt, outShape...)
	if dt == tensor.Float {
		res = out.F32()
	} else {
		res = ec.TempF32(M * outSz) // one image at a time
	}
	var xop kernels.Operand
	var xf []float32
	if dt == tensor.Float {
		xf = x.F32()
	} else if dt == tensor.Float16 && pointwise {
		xop = nnOperand(x)
	} else {
		xf = ec.TempF32(C * inSz) // one image at a time
	}
	// im2col chunking: whole output lines, about 4M floats per chunk.
	lastOut := g.out[len(g.out)-1]
	lines := outSz / max(1, lastOut)
	linesPer := max(1, (1<<22)/max(1, rows*lastOut))
	var colBuf []float32
	if !pointwise && outSz > 0 {
		colBuf = ec.TempF32(rows * min(outSz, linesPer*lastOut))
	}
	for ni := 0; ni < N; ni++ {
		y := res
		if dt == tensor.Float {
			y = res[ni*M*outSz : (ni+1)*M*outSz]
		}
		var xi []float32
		switch {
		case dt == tensor.Float:
			xi = xf[ni*C*inSz : (ni+1)*C*inSz]
		case xop.F16 == nil:
			nnWiden(xf, x, ni*C*inSz)
			xi = xf
		}
		if pb != nil {
			ge := kernels.Epilogue{Bias: bias, TransC: true}
			if epi != nil {
				if addF != nil {
					ge.Add = addF[ni*M*outSz:]
				}
				ge.Scale, ge.K = epi.scale, epi.k
				if epi.silu {
					ge.Act = kernels.ActSiLU
				}
			}
			if pointwise {
				xo := kernels.Operand{F32: xi, LD: inSz, Trans: true}
				if xi == nil {
					xo = nnOpAt(xop, ni*C*inSz, inSz, true)
				}
				kernels.GemmPacked(outSz, 1, xo, pb, 0, y, outSz, ge, threads)
			} else {
				for l0 := 0; l0 < lines; l0 += linesPer {
					o0 := l0 * lastOut
					ncol := min(lines-l0, linesPer) * lastOut
					col := colBuf[:rows*ncol]
					per := (rows + 4*threads - 1) / (4 * threads)
					kernels.Parallel(threads, (rows+per-1)/per, func(t int) {
						nnIm2col(col[t*per*ncol:], xi, g, t*per, min(rows, (t+1)*per), o0, ncol)
					})
					gc := ge
					if gc.Add != nil {
						gc.Add = gc.Add[o0:]
					}
					kernels.GemmPacked(ncol, 1, kernels.Operand{F32: col, LD: ncol, Trans: true}, pb, 0, y[o0:], outSz, gc, threads)
				}
			}
			if dt != tensor.Float {
				narrowT(ec, out, ni*M*outSz, y)
			}
			continue
		}
		beta := float32(0)
		if bias != nil {
			for m := 0; m < M; m++ {
				row := y[m*outSz : (m+1)*outSz]
				for j := range row {
					row[j] = bias[m]
				}
			}
			beta = 1
		}
		for gi := 0; gi < G; gi++ {
			wg := nnOpAt(wop, gi*Mg*rows, rows, false)
			yg := y[gi*Mg*outSz:]
			if pointwise {
				var xo kernels.Operand
				if xi != nil {
					xo = kernels.Operand{F32: xi[gi*Cg*inSz:], LD: inSz}
				} else {
					xo = nnOpAt(xop, (ni*C+gi*Cg)*inSz, inSz, false)
				}
				kernels.Gemm(Mg, outSz, rows, 1, wg, xo, beta, yg, outSz, threads)
				continue
			}
			xg := xi[gi*Cg*inSz : (gi+1)*Cg*inSz]
			for l0 := 0; l0 < lines; l0 += linesPer {
				o0 := l0 * lastOut
				ncol := min(lines-l0, linesPer) * lastOut
				col := colBuf[:rows*ncol]
				per := (rows + 4*threads - 1) / (4 * threads)
				kernels.Parallel(threads, (rows+per-1)/per, func(t int) {
					nnIm2col(col[t*per*ncol:], xg, g, t*per, min(rows, (t+1)*per), o0, ncol)
				})
				kernels.Gemm(Mg, ncol, rows, 1, wg, kernels.Operand{F32: col, LD: ncol}, beta, yg[o0:], outSz, threads)
			}
		}
		if dt != tensor.Float {
			nnNarrow(out, ni*M*outSz, y)
		}
	}
	return out, fused, nil
}

// nnWiden converts len(dst) elements of t starting at off to float32.
func nnWiden(dst []float32, t *tensor.Tensor, off int) {
	switch t.DType() {
	case tensor.Float:
		copy(dst, t.F32()[off:])
	case tensor.Float16:
		kernels.F16ToF32(dst, tensor.View[uint16](t)[off:off+len(dst)])
	case tensor.BFloat16:
		for i, h := range tensor.View[uint16](t)[off : off+len(dst)] {
			dst[i] = tensor.BF16ToF32(h)
		}
	default:
		for i := range dst {
			dst[i] = float32(t.At(off + i))
		}
	}
}

// nnNarrow stores src into t (float16/bfloat16/float64 …) starting at off.
func nnNarrow(t *tensor.Tensor, off int, src []float32) {
	switch t.DType() {
	case tensor.Float:
		copy(t.F32()[off:], src)
	case tensor.Float16:
		kernels.F32ToF16(tensor.View[uint16](t)[off:off+len(src)], src)
	case tensor.BFloat16:
		d := tensor.View[uint16](t)[off : off+len(src)]
		for i, v := range src {
			d[i] = tensor.F32ToBF16(v)
		}
	default:
		for i, v := range src {
			t.Set(off+i, float64(v))
		}
	}
}

// nnConvTransposeFactory: https://onnx.ai/onnx/operators/onnx__ConvTranspose.html
// Opsets 1, 11 (output_shape / auto_pad clarifications) and 22 (bfloat16).
// Pads follow the reference: with SAME_* and no explicit pads they come from
// output_shape (default input*stride); otherwise explicit pads (default 0)
// are used and output_shape, when given, sets the output size.
func nnConvTransposeFactory(n *graph.Node, opset int) (graph.Kernel, error) {
	a, err := nnReadConvAttrs(n)
	if err != nil {
		return nil, err
	}
	outPad := nnIntsAttr(n, "output_padding")
	outShapeAttr := nnIntsAttr(n, "output_shape")
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, w, b := input(in, 0), input(in, 1), input(in, 2)
		if x == nil || w == nil {
			return nil, errf("ConvTranspose needs X and W")
		}
		t, err := nnConvTranspose(&a, outPad, outShapeAttr, x, w, b, nnThreads(ec))
		if err != nil {
			return nil, err
		}
		return one(t)
	}), nil
}

func nnConvTranspose(a *nnConvAttrs, outPad, outShapeAttr []int, x, w, b *tensor.Tensor, threads int) (*tensor.Tensor, error) {
	dt := x.DType()
	if w.DType() != dt || (b != nil && b.DType() != dt) {
		return nil, errf("ConvTranspose input dtypes differ")
	}
	if !dt.IsFloat() {
		return nil, errf("ConvTranspose: unsupported dtype %s", dt)
	}
	xs, ws := x.Shape(), w.Shape()
	if len(xs) < 3 || len(ws) != len(xs) {
		return nil, errf("ConvTranspose needs X and W of equal rank >= 3, got %v and %v", xs, ws)
	}
	nd := len(xs) - 2
	N, C := xs[0], xs[1]
	G := a.group
	if C%G != 0 || ws[0] != C {
		return nil, errf("ConvTranspose channels mismatch: X %v, W %v, group %d", xs, ws, G)
	}
	Cg, Mg := C/G, ws[1]
	M := Mg * G
	kernel := ws[2:]
	if a.kernel != nil && !tensor.SameShape(a.kernel, kernel) {
		return nil, errf("kernel_shape %v does not match W %v", a.kernel, ws)
	}
	s, d := make([]int, nd), make([]int, nd)
	op := make([]int, nd)
	for i := range s {
		s[i], d[i] = 1, 1
	}
	if a.strides != nil {
		if len(a.strides) != nd {
			return nil, errf("strides %v do not match %d spatial dims", a.strides, nd)
		}
		copy(s, a.strides)
	}
	if a.dilations != nil {
		if len(a.dilations) != nd {
			return nil, errf("dilations %v do not match %d spatial dims", a.dilations, nd)
		}
		copy(d, a.dilations)
	}
	if outPad != nil {
		if len(outPad) != nd && len(outPad) != 2*nd {
			return nil, errf("output_padding %v does not match %d spatial dims", outPad, nd)
		}
		copy(op, outPad[:nd])
	}
	if outShapeAttr != nil {
		if len(outShapeAttr) == nd+2 {
			outShapeAttr = outShapeAttr[2:]
		}
		if len(outShapeAttr) != nd {
			return nil, errf("output_shape %v does not match %d spatial dims", outShapeAttr, nd)
		}
	}
	in := xs[2:]
	pb, pe, out := make([]int, nd), make([]int, nd), make([]int, nd)
	if a.pads == nil && (a.autoPad == "SAME_UPPER" || a.autoPad == "SAME_LOWER") {
		for i := 0; i < nd; i++ {
			if outShapeAttr != nil {
				out[i] = outShapeAttr[i]
			} else {
				out[i] = in[i] * s[i]
			}
			total := s[i]*(in[i]-1) + op[i] + (kernel[i]-1)*d[i] + 1 - out[i]
			if a.autoPad == "SAME_UPPER" {
				pb[i] = nnFloorDiv(total, 2)
				pe[i] = total - pb[i]
			} else {
				pe[i] = nnFloorDiv(total, 2)
				pb[i] = total - pe[i]
			}
		}
	} else {
		if a.pads != nil && a.autoPad != "VALID" {
			if len(a.pads) != 2*nd {
				return nil, errf("pads %v do not match %d spatial dims", a.pads, nd)
			}
			copy(pb, a.pads[:nd])
			copy(pe, a.pads[nd:])
		}
		for i := 0; i < nd; i++ {
			if outShapeAttr != nil {
				out[i] = outShapeAttr[i]
			} else {
				out[i] = s[i]*(in[i]-1) + op[i] + (kernel[i]-1)*d[i] + 1 - pb[i] - pe[i]
			}
		}
	}
	for _, o := range out {
		if o < 0 {
			return nil, errf("ConvTranspose output shape %v is negative", out)
		}
	}
	if b != nil && (b.Rank() != 1 || b.Shape()[0] != M) {
		return nil, errf("ConvTranspose bias shape %v, want [%d]", b.Shape(), M)
	}
	ksz := tensor.Numel(kernel)
	inSz, outSz := tensor.Numel(in), tensor.Numel(out)
	rows := Mg * ksz
	outShape := append([]int{N, M}, out...)
	res := tensor.New(tensor.Float, outShape...)
	y := res.F32()
	wop := nnOperand(w)
	var bias []float32
	if b != nil {
		bias = toF32(b)
	}
	xf := make([]float32, C*inSz)
	col := make([]float32, rows*inSz)
	g := &nnGeom{in: out, out: in, k: kernel, s: s, d: d, pb: pb, pe: pe}
	for ni := 0; ni < N; ni++ {
		nnWiden(xf, x, ni*C*inSz)
		for gi := 0; gi < G; gi++ {
			// col (Mg*ksz x inSz) = W[g]^T (W[g] is Cg x Mg*ksz) * X[g] (Cg x inSz)
			kernels.Gemm(rows, inSz, Cg, 1, nnOpAt(wop, gi*Cg*rows, rows, true),
				kernels.Operand{F32: xf[gi*Cg*inSz:], LD: inSz}, 0, col, inSz, threads)
			yg := y[(ni*M+gi*Mg)*outSz : (ni*M+(gi+1)*Mg)*outSz]
			kernels.Parallel(threads, Mg, func(m int) {
				nnCol2im(yg[m*outSz:(m+1)*outSz], col[m*ksz*inSz:(m+1)*ksz*inSz], g)
				if bias != nil {
					bv := bias[gi*Mg+m]
					for j := range yg[m*outSz : (m+1)*outSz] {
						yg[m*outSz+j] += bv
					}
				}
			})
		}
	}
	if dt == tensor.Float {
		return res, nil
	}
	return fromF32(dt, outShape, y), nil
}

// nnCol2im scatter-adds col (ksz rows over the input positions g.out) into
// one output channel y (spatial shape g.in) — the transpose of nnIm2col.
func nnCol2im(y, col []float32, g *nnGeom) {
	nd := len(g.in)
	ksz := tensor.Numel(g.k)
	inSz := tensor.Numel(g.out) // positions of the ConvTranspose input
	kidx := make([]int, nd)
	pidx := make([]int, nd)
	for r := 0; r < ksz; r++ {
		kf := r
		for d := nd - 1; d >= 0; d-- {
			kidx[d] = kf % g.k[d]
			kf /= g.k[d]
		}
		src := col[r*inSz : (r+1)*inSz]
		clear(pidx)
		for p := 0; p < inSz; p++ {
			off, ok := 0, true
			for d := 0; d < nd; d++ {
				o := pidx[d]*g.s[d] - g.pb[d] + kidx[d]*g.d[d]
				if o < 0 || o >= g.in[d] {
					ok = false
					break
				}
				off = off*g.in[d] + o
			}
			if ok {
				y[off] += src[p]
			}
			for d := nd - 1; d >= 0; d-- {
				pidx[d]++
				if pidx[d] < g.out[d] {
					break
				}
				pidx[d] = 0
			}
		}
	}
}

// nnFloorDiv is floor division (Python //).
func nnFloorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
