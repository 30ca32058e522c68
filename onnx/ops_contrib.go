package onnx

import (
	"math"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/kernels"
	"github.com/txt2img/engine/tensor"
)

// com.microsoft contrib ops emitted by ONNX Runtime's transformer optimizer
// (onnxruntime/python/tools/transformers, model types clip/unet/vae) for the
// SD-Turbo "opt" exports: SkipLayerNormalization, BiasGelu, BiasAdd,
// BiasSplitGelu, GroupNorm, SkipGroupNorm, NhwcConv, Attention and
// MultiHeadAttention. Semantics follow ONNX Runtime's ContribOperators
// documentation (https://github.com/microsoft/onnxruntime/blob/main/docs/ContribOperators.md)
// and its CPU/CUDA kernels. float32, float16 and bfloat16 activations are
// supported; half types compute in float32 and round once per output.
// Weights stay in their stored dtype: projections and convolutions read fp16
// weights directly through kernels.Gemm.

func init() {
	regMS("BiasGelu", msBiasGeluFactory)
	regMS("BiasAdd", msBiasAddFactory)
	regMS("BiasSplitGelu", msBiasSplitGeluFactory)
	regMS("SkipLayerNormalization", msSkipLayerNormFactory)
	regMS("GroupNorm", msGroupNormFactory(false))
	regMS("SkipGroupNorm", msGroupNormFactory(true))
	regMS("NhwcConv", msNhwcConvFactory)
	regMS("Attention", msAttentionFactory)
	regMS("MultiHeadAttention", msMHAFactory)
}

// ---- shared helpers ---------------------------------------------------------

// msFloat reports the activation dtypes the contrib kernels accept.
func msFloat(dt tensor.DType) bool {
	return dt == tensor.Float || dt == tensor.Float16 || dt == tensor.BFloat16
}

// msOut is an output tensor computed in float32: f aliases the tensor for
// float32 and is a scratch buffer rounded by finish for half types.
type msOut struct {
	t *tensor.Tensor
	f []float32
}

func msNewOut(ec *graph.ExecContext, dt tensor.DType, shape []int) msOut {
	t := ec.Alloc(dt, shape...)
	if dt == tensor.Float {
		return msOut{t, t.F32()}
	}
	return msOut{t, make([]float32, t.Numel())}
}

// finish rounds the float32 values into the tensor (half types) and returns it.
func (o msOut) finish(threads int) *tensor.Tensor {
	switch o.t.DType() {
	case tensor.Float16:
		d := tensor.View[uint16](o.t)
		msParRows(threads, len(d), 1, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				d[i] = tensor.F32ToF16(o.f[i])
			}
		})
	case tensor.BFloat16:
		d := tensor.View[uint16](o.t)
		for i, v := range o.f {
			d[i] = tensor.F32ToBF16(v)
		}
	}
	return o.t
}

// msParRows splits rows (of rowLen elements each) into contiguous chunks run
// on up to threads goroutines; small problems run inline.
func msParRows(threads, rows, rowLen int, f func(lo, hi int)) {
	chunks := min(threads, rows, rows*rowLen/8192)
	if chunks <= 1 {
		f(0, rows)
		return
	}
	step := (rows + chunks - 1) / chunks
	kernels.Parallel(chunks, chunks, func(i int) {
		lo := i * step
		if hi := min(rows, lo+step); lo < hi {
			f(lo, hi)
		}
	})
}

// msVec reads a 1-D parameter of length n (gamma, beta, bias) as float32.
func msVec(t *tensor.Tensor, n int, op, name string) ([]float32, error) {
	if t == nil {
		return nil, nil
	}
	if !msFloat(t.DType()) {
		return nil, errf("%s: %s has unsupported dtype %s", op, name, t.DType())
	}
	if t.Rank() != 1 || t.Shape()[0] != n {
		return nil, errf("%s: %s shape %v, want [%d]", op, name, t.Shape(), n)
	}
	return toF32(t), nil
}

// msWant reports which of the node's outputs are requested.
func msWant(n *graph.Node, i int) bool { return len(n.Outputs) > i && n.Outputs[i] != "" }

// msSiLU applies x*sigmoid(x) in place (kernels.SiLUF32).
func msSiLU(v []float32) { kernels.SiLUF32(v, v) }

// ---- BiasGelu, BiasAdd, BiasSplitGelu ----------------------------------------

// msBiasGeluFactory: com.microsoft BiasGelu(A, B) = Gelu(A + B) with the exact
// (erf) Gelu; B is 1-D and broadcast along A's last axis.
func msBiasGeluFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		a, b := input(in, 0), input(in, 1)
		if a == nil || b == nil {
			return nil, errf("BiasGelu needs inputs A and B")
		}
		dt := a.DType()
		if !msFloat(dt) || b.DType() != dt {
			return nil, errf("BiasGelu: unsupported dtypes %s, %s", dt, b.DType())
		}
		if a.Rank() < 1 {
			return nil, errf("BiasGelu: A must have rank >= 1")
		}
		c := a.Shape()[a.Rank()-1]
		bias, err := msVec(b, c, "BiasGelu", "bias")
		if err != nil {
			return nil, err
		}
		x := toF32(a)
		th := nnThreads(ec)
		out := msNewOut(ec, dt, a.Shape())
		rows := 0
		if c > 0 {
			rows = len(x) / c
		}
		msParRows(th, rows, c, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				y := out.f[r*c : r*c+c]
				for j, v := range x[r*c : r*c+c] {
					y[j] = v + bias[j]
				}
				mathGeluSlice32(y, y)
			}
		})
		return one(out.finish(th))
	}), nil
}

// msBiasAddFactory: com.microsoft BiasAdd(X, bias, skip) = X + bias + skip
// with X and skip [B, S, C] and bias [C].
func msBiasAddFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, b, s := input(in, 0), input(in, 1), input(in, 2)
		if x == nil || b == nil || s == nil {
			return nil, errf("BiasAdd needs inputs X, bias and skip")
		}
		dt := x.DType()
		if !msFloat(dt) || s.DType() != dt {
			return nil, errf("BiasAdd: unsupported dtypes %s, %s", dt, s.DType())
		}
		if x.Rank() != 3 || !tensor.SameShape(x.Shape(), s.Shape()) {
			return nil, errf("BiasAdd: X %v and skip %v must be equal 3-D shapes", x.Shape(), s.Shape())
		}
		c := x.Shape()[2]
		bias, err := msVec(b, c, "BiasAdd", "bias")
		if err != nil {
			return nil, err
		}
		xv, sv := toF32(x), toF32(s)
		th := nnThreads(ec)
		out := msNewOut(ec, dt, x.Shape())
		rows := 0
		if c > 0 {
			rows = len(xv) / c
		}
		msParRows(th, rows, c, func(lo, hi int) {
			for i := lo * c; i < hi*c; i += c {
				y, a, k := out.f[i:i+c], xv[i:i+c], sv[i:i+c]
				for j := range y {
					y[j] = a[j] + bias[j] + k[j]
				}
			}
		})
		return one(out.finish(th))
	}), nil
}

// msBiasSplitGeluFactory: com.microsoft BiasSplitGelu(X, bias): with
// h = X + bias ([B, S, D], D even) split in halves a, b along the last axis,
// Y = a * Gelu(b) ([B, S, D/2], exact Gelu) — diffusers' GEGLU.
func msBiasSplitGeluFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, b := input(in, 0), input(in, 1)
		if x == nil || b == nil {
			return nil, errf("BiasSplitGelu needs inputs X and bias")
		}
		dt := x.DType()
		if !msFloat(dt) {
			return nil, errf("BiasSplitGelu: unsupported dtype %s", dt)
		}
		xs := x.Shape()
		if len(xs) != 3 || xs[2]%2 != 0 {
			return nil, errf("BiasSplitGelu: X must be 3-D with an even last dim, got %v", xs)
		}
		d := xs[2]
		h := d / 2
		bias, err := msVec(b, d, "BiasSplitGelu", "bias")
		if err != nil {
			return nil, err
		}
		xv := toF32(x)
		th := nnThreads(ec)
		out := msNewOut(ec, dt, []int{xs[0], xs[1], h})
		msParRows(th, xs[0]*xs[1], d, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				src := xv[r*d : r*d+d]
				y := out.f[r*h : r*h+h]
				for j := range y {
					y[j] = src[h+j] + bias[h+j]
				}
				mathGeluSlice32(y, y)
				for j := range y {
					y[j] *= src[j] + bias[j]
				}
			}
		})
		return one(out.finish(th))
	}), nil
}

// ---- SkipLayerNormalization -------------------------------------------------

// msSkipLayerNormFactory: com.microsoft SkipLayerNormalization(input, skip,
// gamma, beta?, bias?) normalizes s = input + skip + bias over the last axis:
// Y = (s - mean) / sqrt(var + epsilon) * gamma + beta (epsilon default 1e-12).
// skip has input's shape or broadcasts over leading axes (e.g. [1, S, H] or
// [S, H]). Outputs: Y, mean and inv_std_var (float32, shape input[:-1]+[1]),
// and input_skip_bias_sum s (input's dtype).
func msSkipLayerNormFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	eps := float64(n.Float("epsilon", 1e-12))
	if !(eps >= 0) {
		return nil, errf("SkipLayerNormalization: bad epsilon %g", eps)
	}
	wantMean, wantInv, wantSum := msWant(n, 1), msWant(n, 2), msWant(n, 3)
	nOut := max(1, len(n.Outputs))
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, sk, g := input(in, 0), input(in, 1), input(in, 2)
		if x == nil || sk == nil || g == nil {
			return nil, errf("SkipLayerNormalization needs input, skip and gamma")
		}
		dt := x.DType()
		if !msFloat(dt) || sk.DType() != dt {
			return nil, errf("SkipLayerNormalization: unsupported dtypes %s, %s", dt, sk.DType())
		}
		xs := x.Shape()
		if len(xs) < 2 || len(xs) > 3 {
			return nil, errf("SkipLayerNormalization: input must be 2-D or 3-D, got %v", xs)
		}
		h := xs[len(xs)-1]
		if err := msCheckSkip(sk.Shape(), xs); err != nil {
			return nil, errf("SkipLayerNormalization: %v", err)
		}
		gamma, err := msVec(g, h, "SkipLayerNormalization", "gamma")
		if err != nil {
			return nil, err
		}
		beta, err := msVec(input(in, 3), h, "SkipLayerNormalization", "beta")
		if err != nil {
			return nil, err
		}
		bias, err := msVec(input(in, 4), h, "SkipLayerNormalization", "bias")
		if err != nil {
			return nil, err
		}
		xv, sv := toF32(x), toF32(sk)
		th := nnThreads(ec)
		rows := 0
		if h > 0 {
			rows = len(xv) / h
		}
		out := msNewOut(ec, dt, xs)
		statShape := append(append([]int(nil), xs[:len(xs)-1]...), 1)
		var mean, inv []float32
		var meanT, invT *tensor.Tensor
		if wantMean {
			meanT = ec.Alloc(tensor.Float, statShape...)
			mean = meanT.F32()
		}
		if wantInv {
			invT = ec.Alloc(tensor.Float, statShape...)
			inv = invT.F32()
		}
		var sum msOut
		if wantSum {
			sum = msNewOut(ec, dt, xs)
		} else {
			sum = msOut{f: make([]float32, len(xv))}
		}
		sn := len(sv)
		msParRows(th, rows, h, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				s := sum.f[r*h : r*h+h]
				xr := xv[r*h : r*h+h]
				so := (r * h) % sn
				kr := sv[so : so+h]
				for j := range s {
					v := xr[j] + kr[j]
					if bias != nil {
						v += bias[j]
					}
					s[j] = v
				}
			}
		})
		// y = LayerNorm(s) by kernels.LayerNormF32 (float64 statistics)
		p := kernels.LayerNormParams{Rows: rows, Cols: h, Eps: eps, Gamma: gamma, Beta: beta}
		if mean != nil {
			p.Mean = make([]float64, rows)
		}
		if inv != nil {
			p.InvStd = make([]float64, rows)
		}
		kernels.LayerNormF32(out.f, sum.f, p, th)
		for r := range p.Mean {
			mean[r] = float32(p.Mean[r])
		}
		for r := range p.InvStd {
			inv[r] = float32(p.InvStd[r])
		}
		res := make([]*tensor.Tensor, nOut)
		res[0] = out.finish(th)
		if wantMean {
			res[1] = meanT
		}
		if wantInv {
			res[2] = invT
		}
		if wantSum {
			res[3] = sum.finish(th)
		}
		return res, nil
	}), nil
}

// msCheckSkip accepts a skip of input's shape or one that broadcasts over
// leading axes only (its shape, without leading 1s, is a suffix of input's).
func msCheckSkip(ss, xs []int) error {
	for len(ss) > 0 && ss[0] == 1 && len(ss) > 1 {
		ss = ss[1:]
	}
	if len(ss) > len(xs) || len(ss) < 1 || !tensor.SameShape(ss, xs[len(xs)-len(ss):]) {
		return errf("skip shape %v does not broadcast over leading axes of %v", ss, xs)
	}
	if ss[len(ss)-1] != xs[len(xs)-1] || tensor.Numel(ss) == 0 && tensor.Numel(xs) != 0 {
		return errf("skip shape %v does not match input %v", ss, xs)
	}
	return nil
}

// ---- GroupNorm, SkipGroupNorm -----------------------------------------------

// msGroupNormFactory: com.microsoft GroupNorm(X, gamma, beta) and
// SkipGroupNorm(X, gamma, beta, skip, bias?).
//
// X is [N, H, W, C] (channels_last = 1, the default; GroupNorm also accepts
// channels_last = 0 for [N, C, H, W]). Channels split into `groups` groups;
// each (image, group) is normalized with its mean and biased variance, then
// scaled by gamma[c], shifted by beta[c] (float32 or float16, length C) and,
// with activation = 1, passed through SiLU (x * sigmoid(x)); computed by
// kernels.GroupNormF32/F16 (float16 X is read and written in place). SkipGroupNorm
// first forms S = X + skip + bias (skip [N, H, W, C], [N, 1, 1, C] or [N, C];
// bias [C]), normalizes S and returns it as the optional second output.
func msGroupNormFactory(skip bool) graph.Factory {
	op := "GroupNorm"
	if skip {
		op = "SkipGroupNorm"
	}
	return func(n *graph.Node, _ int) (graph.Kernel, error) {
		eps := float64(n.Float("epsilon", 1e-5))
		groups := int(n.Int("groups", 0))
		act := n.Int("activation", 0)
		last := n.Int("channels_last", 1)
		if groups < 1 {
			return nil, errf("%s: groups must be >= 1, got %d", op, groups)
		}
		if act != 0 && act != 1 {
			return nil, errf("%s: activation must be 0 or 1, got %d", op, act)
		}
		if last != 0 && last != 1 || skip && last != 1 {
			return nil, errf("%s: unsupported channels_last %d", op, last)
		}
		if !(eps >= 0) {
			return nil, errf("%s: bad epsilon %g", op, eps)
		}
		wantSum := skip && msWant(n, 1)
		nOut := max(1, len(n.Outputs))
		return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
			x, g, b := input(in, 0), input(in, 1), input(in, 2)
			if x == nil || g == nil || b == nil {
				return nil, errf("%s needs X, gamma and beta", op)
			}
			dt := x.DType()
			if !msFloat(dt) {
				return nil, errf("%s: unsupported dtype %s", op, dt)
			}
			xs := x.Shape()
			if len(xs) != 4 {
				return nil, errf("%s: X must be 4-D, got %v", op, xs)
			}
			N, C, HW := xs[0], xs[3], xs[1]*xs[2]
			if last == 0 {
				C, HW = xs[1], xs[2]*xs[3]
			}
			if C%groups != 0 {
				return nil, errf("%s: %d channels not divisible by %d groups", op, C, groups)
			}
			gamma, err := msVec(g, C, op, "gamma")
			if err != nil {
				return nil, err
			}
			beta, err := msVec(b, C, op, "beta")
			if err != nil {
				return nil, err
			}
			th := nnThreads(ec)
			p := kernels.GroupNormParams{N: N, C: C, Spatial: HW, Groups: groups, NHWC: last == 1, Eps: eps, Gamma: gamma, Beta: beta, SiLU: act == 1}
			if !skip {
				return one(nkGroupNorm(ec, x, p))
			}
			xv := toF32(x)
			var sum msOut
			src := xv
			if skip {
				sk := input(in, 3)
				if sk == nil {
					return nil, errf("SkipGroupNorm needs skip")
				}
				if sk.DType() != dt {
					return nil, errf("SkipGroupNorm: skip dtype %s, want %s", sk.DType(), dt)
				}
				ss := sk.Shape()
				full := tensor.SameShape(ss, xs)
				if !full && !tensor.SameShape(ss, []int{N, 1, 1, C}) && !tensor.SameShape(ss, []int{N, C}) {
					return nil, errf("SkipGroupNorm: skip shape %v, want %v, [%d 1 1 %d] or [%d %d]", ss, xs, N, C, N, C)
				}
				bias, err := msVec(input(in, 4), C, op, "bias")
				if err != nil {
					return nil, err
				}
				if wantSum {
					sum = msNewOut(ec, dt, xs)
				} else {
					sum = msOut{f: make([]float32, len(xv))}
				}
				kv := toF32(sk)
				msParRows(th, N*HW, C, func(lo, hi int) {
					for p := lo; p < hi; p++ {
						s, xr := sum.f[p*C:p*C+C], xv[p*C:p*C+C]
						ko := p * C
						if !full {
							ko = (p / HW) * C
						}
						kr := kv[ko : ko+C]
						for c := range s {
							v := xr[c] + kr[c]
							if bias != nil {
								v += bias[c]
							}
							s[c] = v
						}
					}
				})
				src = sum.f
			}
			out := msNewOut(ec, dt, xs)
			kernels.GroupNormF32(out.f, src, p, th)
			res := make([]*tensor.Tensor, nOut)
			res[0] = out.finish(th)
			if wantSum {
				res[1] = sum.finish(th)
			}
			return res, nil
		}), nil
	}
}

// ---- NhwcConv -----------------------------------------------------------------

// msNhwcConvFactory: com.microsoft NhwcConv, Conv over channels-last data.
// X is [N, H, W, C], W is [M, kH, kW, C/group] (ONNX Runtime's optimizer
// transposes the OIHW Conv weight to OHWI), B is [M]; Y is [N, oH, oW, M].
// Attributes as ONNX Conv (auto_pad, pads, strides, dilations, group,
// kernel_shape). Computed as a GEMM per group: pixel patches (im2col in
// (kh, kw, c) order, in bounded chunks; 1x1 unit-stride convs read X
// directly) times the fp16/fp32 weight read in place.
func msNhwcConvFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	a, err := nnReadConvAttrs(n)
	if err != nil {
		return nil, errf("NhwcConv: %v", err)
	}
	wc := &cvWino{}
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, w, b := input(in, 0), input(in, 1), input(in, 2)
		if x == nil || w == nil {
			return nil, errf("NhwcConv needs X and W")
		}
		t, err := msNhwcConv(ec, &a, x, w, b, wc)
		if err != nil {
			return nil, errf("NhwcConv: %v", err)
		}
		return one(t)
	}), nil
}

func msNhwcConv(ec *graph.ExecContext, a *nnConvAttrs, x, w, b *tensor.Tensor, wc *cvWino) (*tensor.Tensor, error) {
	dt := x.DType()
	if !msFloat(dt) || !msFloat(w.DType()) {
		return nil, errf("unsupported dtypes %s, %s", dt, w.DType())
	}
	xs, ws := x.Shape(), w.Shape()
	if len(xs) != 4 || len(ws) != 4 {
		return nil, errf("X and W must be 4-D (2-D convolution), got %v and %v", xs, ws)
	}
	N, H, W, C := xs[0], xs[1], xs[2], xs[3]
	M, G := ws[0], a.group
	if C%G != 0 || M%G != 0 || ws[3] != C/G {
		return nil, errf("channels mismatch: X %v, W %v, group %d", xs, ws, G)
	}
	kernel := ws[1:3]
	if a.kernel != nil && !tensor.SameShape(a.kernel, kernel) {
		return nil, errf("kernel_shape %v does not match W %v", a.kernel, ws)
	}
	geo, err := a.nnResolve([]int{H, W}, kernel, false)
	if err != nil {
		return nil, err
	}
	bias, err := msVec(b, M, "NhwcConv", "B")
	if err != nil {
		return nil, err
	}
	oH, oW := geo.out[0], geo.out[1]
	Cg, Mg := C/G, M/G
	K := kernel[0] * kernel[1] * Cg
	P := N * oH * oW
	th := nnThreads(ec)
	out := msNewOut(ec, dt, []int{N, oH, oW, M})
	if P == 0 || M == 0 {
		return out.finish(th), nil
	}
	if wc.nhwc(a, x, w, bias, out.f, th) {
		return out.finish(th), nil
	}
	beta := float32(0)
	if bias != nil {
		for p := 0; p < P; p++ {
			copy(out.f[p*M:p*M+M], bias)
		}
		beta = 1
	}
	wo := nnOperand(w)
	direct := kernel[0] == 1 && kernel[1] == 1 && geo.s[0] == 1 && geo.s[1] == 1 &&
		geo.pb[0] == 0 && geo.pb[1] == 0 && geo.pe[0] == 0 && geo.pe[1] == 0
	if direct {
		xo := nnOperand(x)
		for g := 0; g < G; g++ {
			kernels.Gemm(P, Mg, K, 1, nnOpAt(xo, g*Cg, C, false), nnOpAt(wo, g*Mg*K, K, true), beta, out.f[g*Mg:], M, th)
		}
		return out.finish(th), nil
	}
	xv := toF32(x)
	chunk := min(P, max(msConvMinChunk, msConvChunkElems/max(K, 1)))
	col := make([]float32, chunk*K)
	for p0 := 0; p0 < P; p0 += chunk {
		rows := min(chunk, P-p0)
		for g := 0; g < G; g++ {
			msParRows(th, rows, K, func(lo, hi int) {
				msIm2colNhwc(col[lo*K:hi*K], xv, geo, H, W, C, g*Cg, Cg, oH, oW, p0+lo, p0+hi)
			})
			kernels.Gemm(rows, Mg, K, 1, kernels.Operand{F32: col, LD: K}, nnOpAt(wo, g*Mg*K, K, true), beta, out.f[p0*M+g*Mg:], M, th)
		}
	}
	return out.finish(th), nil
}

// NhwcConv im2col chunking: about msConvChunkElems float32 values (8 MiB) per
// chunk, at least msConvMinChunk pixels. Variables so tests can force chunks.
var (
	msConvChunkElems = 1 << 21
	msConvMinChunk   = 64
)

// msIm2colNhwc writes the patches of output pixels [p0, p1) (flattened over
// N, oH, oW) into col, one row of kH*kW*Cg values per pixel in (kh, kw, c)
// order, zero where the window reads padding.
func msIm2colNhwc(col, x []float32, g *nnGeom, H, W, C, c0, Cg, oH, oW, p0, p1 int) {
	kH, kW := g.k[0], g.k[1]
	K := kH * kW * Cg
	for p := p0; p < p1; p++ {
		row := col[(p-p0)*K : (p-p0+1)*K]
		nI, r := p/(oH*oW), p%(oH*oW)
		oy, ox := r/oW, r%oW
		i := 0
		for kh := 0; kh < kH; kh++ {
			iy := oy*g.s[0] - g.pb[0] + kh*g.d[0]
			for kw := 0; kw < kW; kw++ {
				ix := ox*g.s[1] - g.pb[1] + kw*g.d[1]
				dst := row[i : i+Cg]
				if iy < 0 || iy >= H || ix < 0 || ix >= W {
					clear(dst)
				} else {
					off := ((nI*H+iy)*W+ix)*C + c0
					copy(dst, x[off:off+Cg])
				}
				i += Cg
			}
		}
	}
}

// ---- attention core -------------------------------------------------------------

// msAttn is one attention problem after projection: Q is addressed as
// q[qOff(b, n) + s*ldq + d]; K and V are [B, N, T, dk] / [B, N, T, dv]
// (past already prepended); mask is an additive [B, S, T] mask or nil; bias
// is an additive attention_bias [B|1, N|1, S, T] or nil. The output is
// written to out [B, S, N*dv].
type msAttn struct {
	B, N, S, T, dk, dv int
	scale              float32
	q                  []float32
	qOff               func(b, n int) int
	ldq                int
	k, v               []float32
	mask               []float32
	bias               []float32
	biasB              bool // attention_bias varies along batch
	biasHeads          int  // attention_bias heads dim (1 or N)
}

// run computes the attention into out with kernels.Attend (flash-style,
// one tile of scores per worker; a row whose scores are all -Inf yields
// zeros, finite mask values such as -10000 are ordinary scores).
func (p *msAttn) run(threads int, out []float32) {
	S, T, ldo := p.S, p.T, p.N*p.dv
	a := &kernels.Attention{Heads: p.B * p.N, Sq: S, Skv: T, D: p.dk, Dv: p.dv, Scale: p.scale,
		Q:   kernels.Operand{F32: p.q, LD: p.ldq},
		K:   kernels.Operand{F32: p.k, LD: p.dk},
		V:   kernels.Operand{F32: p.v, LD: p.dv},
		Out: kernels.Operand{F32: out, LD: ldo}}
	if p.mask != nil {
		a.Mask = kernels.AttentionMask{F32: p.mask, LD: T}
	}
	if p.bias != nil {
		a.Bias = kernels.AttentionMask{F32: p.bias, LD: T}
	}
	a.Head = func(bn int) kernels.AttentionHead {
		b, n := bn/p.N, bn%p.N
		h := kernels.AttentionHead{Q: p.qOff(b, n), K: bn * T * p.dk, V: bn * T * p.dv, Out: b*S*ldo + n*p.dv, Keys: T}
		if p.mask != nil {
			h.Mask = b * S * T
		}
		if p.bias != nil {
			if p.biasB {
				h.Bias += b * p.biasHeads * S * T
			}
			if p.biasHeads > 1 {
				h.Bias += n * S * T
			}
		}
		return h
	}
	kernels.Attend(a, threads)
}

// msPrepareMask builds the additive [B, S, T] mask of ONNX Runtime's
// PrepareMask from an integer mask_index / key_padding_mask (nil: none) and
// the causal flag; masked positions get filter (mask_filter_value). Forms:
// [B] end positions (keys >= end masked), [2B] end then start positions
// (keys < start also masked), [B, T] raw 0/1 key mask ([B, 1] / [1, 1] with
// T > 1: dummy, no effect), [B, S, T] raw 0/1 mask. With causal, key j is
// masked for query i when j > past + i. Returns nil when nothing is masked.
func msPrepareMask(op string, m *tensor.Tensor, causal bool, B, S, T, past int, filter float32) ([]float32, error) {
	if m == nil && !(causal && S > 1) {
		return nil, nil
	}
	var mv []int64
	dims := []int(nil)
	if m != nil {
		if !m.DType().IsInt() && m.DType() != tensor.Bool {
			return nil, errf("%s: mask dtype %s, want int32", op, m.DType())
		}
		mv = m.Int64s()
		dims = m.Shape()
	}
	mask := make([]float32, B*S*T)
	switch {
	case m == nil:
	case len(dims) == 1 && (dims[0] == B || dims[0] == 2*B):
		for b := 0; b < B; b++ {
			row := mask[b*S*T : b*S*T+T]
			end := max(0, int(mv[b]))
			for j := end; j < T; j++ {
				row[j] = filter
			}
			if dims[0] == 2*B {
				st := min(T, int(mv[B+b]))
				for j := 0; j < st; j++ {
					row[j] = filter
				}
			}
			for s := 1; s < S; s++ {
				copy(mask[(b*S+s)*T:(b*S+s+1)*T], row)
			}
		}
	case len(dims) == 2 && dims[1] == 1 && T != 1 && (dims[0] == 1 || dims[0] == B):
		// dummy mask: no effect
	case len(dims) == 2 && dims[0] == B && dims[1] == T:
		for b := 0; b < B; b++ {
			row := mask[b*S*T : b*S*T+T]
			for j := range row {
				if mv[b*T+j] <= 0 {
					row[j] = filter
				}
			}
			for s := 1; s < S; s++ {
				copy(mask[(b*S+s)*T:(b*S+s+1)*T], row)
			}
		}
	case len(dims) == 3 && dims[0] == B && dims[1] == S && dims[2] == T:
		for i, v := range mv {
			if v <= 0 {
				mask[i] = filter
			}
		}
	default:
		return nil, errf("%s: unsupported mask shape %v (B=%d, S=%d, T=%d)", op, dims, B, S, T)
	}
	if causal {
		for b := 0; b < B; b++ {
			for s := 0; s < S; s++ {
				row := mask[(b*S+s)*T : (b*S+s+1)*T]
				for j := past + s + 1; j < T; j++ {
					row[j] = filter
				}
			}
		}
	}
	return mask, nil
}

// msAttnBias validates attention_bias [B|1, N|1, S, T] and reads it as float32.
func msAttnBias(op string, t *tensor.Tensor, B, N, S, T int) ([]float32, bool, int, error) {
	if t == nil {
		return nil, false, 0, nil
	}
	s := t.Shape()
	if !msFloat(t.DType()) || len(s) != 4 || (s[0] != B && s[0] != 1) || (s[1] != N && s[1] != 1) || s[2] != S || s[3] != T {
		return nil, false, 0, errf("%s: attention_bias %s%v, want [%d|1, %d|1, %d, %d]", op, t.DType(), s, B, N, S, T)
	}
	return toF32(t), s[0] != 1, s[1], nil
}

// msScatterBNTH copies rows of a [B, L, N, H]-addressed source (src offset of
// (b, l, n) = ((b*L+l)*rowStride + n*headStride), plus bias[n*H+h] when bias
// is non-nil) into dst [B, N, T, H] at sequence position past+l.
func msScatterBNTH(dst, src []float32, bias []float32, B, L, N, H, T, past, rowStride, headStride int) {
	for b := 0; b < B; b++ {
		for l := 0; l < L; l++ {
			so := (b*L + l) * rowStride
			for n := 0; n < N; n++ {
				d := dst[((b*N+n)*T+past+l)*H:][:H]
				s := src[so+n*headStride:][:H]
				if bias == nil {
					copy(d, s)
					continue
				}
				bb := bias[n*H : n*H+H]
				for h := range d {
					d[h] = s[h] + bb[h]
				}
			}
		}
	}
}

// msCopyPast copies past [B, N, P, H] into dst [B, N, T, H] at positions [0, P).
func msCopyPast(dst, past []float32, B, N, P, H, T int) {
	for bn := 0; bn < B*N; bn++ {
		copy(dst[bn*T*H:bn*T*H+P*H], past[bn*P*H:(bn+1)*P*H])
	}
}

// msHalfOut stores float32 values as a new tensor of dtype dt.
func msHalfOut(ec *graph.ExecContext, dt tensor.DType, shape []int, v []float32, threads int) *tensor.Tensor {
	o := msNewOut(ec, dt, shape)
	copy(o.f, v)
	return o.finish(threads)
}

// ---- Attention (com.microsoft) ------------------------------------------------

// msAttentionFactory: com.microsoft Attention(input, weights, bias?,
// mask_index?, past?, attention_bias?, past_sequence_length?).
//
// input [B, S, Din] is projected by weights [Din, Dq+Dk+Dv] (qkv_hidden_sizes,
// default three equal parts) plus bias into Q, K, V, split into num_heads
// heads. scores = scale * Q K^T (scale attribute, 0 = 1/sqrt(head size)),
// plus the mask (mask_index forms of msPrepareMask, mask_filter_value default
// -10000; unidirectional adds a causal mask) and attention_bias
// [B|1, N|1, S, T]; softmax over keys; output = probs V as [B, S, Dv]. past
// [2, B, N, P, H] is prepended to K/V and present [2, B, N, P+S, H] returned.
// Not supported: do_rotary, past_present_share_buffer, 4-D Megatron masks
// (also refused by ONNX Runtime's CPU kernel).
func msAttentionFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	heads := int(n.Int("num_heads", 0))
	if heads < 1 {
		return nil, errf("Attention: num_heads must be >= 1, got %d", heads)
	}
	causal := n.Int("unidirectional", 0) != 0
	filter := n.Float("mask_filter_value", -10000)
	scale := n.Float("scale", 0)
	if n.Int("do_rotary", 0) != 0 {
		return nil, errf("Attention: do_rotary is not supported")
	}
	if n.Int("past_present_share_buffer", 0) != 0 {
		return nil, errf("Attention: past_present_share_buffer is not supported")
	}
	qkvSizes := ints64(n.Ints("qkv_hidden_sizes", nil))
	if len(qkvSizes) != 0 && len(qkvSizes) != 3 {
		return nil, errf("Attention: qkv_hidden_sizes must have 3 values, got %v", qkvSizes)
	}
	wantPresent := msWant(n, 1)
	nOut := max(1, len(n.Outputs))
	if msWant(n, 2) {
		return nil, errf("Attention: the qk output is not supported")
	}
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, w := input(in, 0), input(in, 1)
		if x == nil || w == nil {
			return nil, errf("Attention needs input and weights")
		}
		dt := x.DType()
		if !msFloat(dt) || !msFloat(w.DType()) {
			return nil, errf("Attention: unsupported dtypes %s, %s", dt, w.DType())
		}
		xs, ws := x.Shape(), w.Shape()
		if len(xs) != 3 || len(ws) != 2 || ws[0] != xs[2] {
			return nil, errf("Attention: input %v and weights %v must be [B, S, D] and [D, Dqkv]", xs, ws)
		}
		B, S, Din, Dt := xs[0], xs[1], xs[2], ws[1]
		dq, dk, dv := Dt/3, Dt/3, Dt/3
		if len(qkvSizes) == 3 {
			dq, dk, dv = qkvSizes[0], qkvSizes[1], qkvSizes[2]
		}
		if dq+dk+dv != Dt || dq != dk || dq <= 0 || dv <= 0 || dq%heads != 0 || dv%heads != 0 {
			return nil, errf("Attention: weights %v do not split into q/k/v sizes %d/%d/%d over %d heads", ws, dq, dk, dv, heads)
		}
		N := heads
		hk, hv := dq/N, dv/N
		bias, err := msVec(input(in, 2), Dt, "Attention", "bias")
		if err != nil {
			return nil, err
		}
		past := input(in, 4)
		P := 0
		if past != nil {
			ps := past.Shape()
			if hk != hv || len(ps) != 5 || ps[0] != 2 || ps[1] != B || ps[2] != N || ps[4] != hk || past.DType() != dt {
				return nil, errf("Attention: past %s%v, want %s[2, %d, %d, P, %d] (equal q/k/v head sizes)", past.DType(), ps, dt, B, N, hk)
			}
			P = ps[3]
		}
		T := P + S
		th := nnThreads(ec)
		// QKV = input x weights + bias, [B*S, Dt] in float32.
		qkv := make([]float32, B*S*Dt)
		beta := float32(0)
		if bias != nil {
			for r := 0; r < B*S; r++ {
				copy(qkv[r*Dt:r*Dt+Dt], bias)
			}
			beta = 1
		}
		kernels.Gemm(B*S, Dt, Din, 1, nnOpAt(nnOperand(x), 0, Din, false), nnOpAt(nnOperand(w), 0, Dt, false), beta, qkv, Dt, th)
		kAll := make([]float32, B*N*T*hk)
		vAll := make([]float32, B*N*T*hv)
		if past != nil {
			pv := toF32(past)
			half := B * N * P * hk
			msCopyPast(kAll, pv[:half], B, N, P, hk, T)
			msCopyPast(vAll, pv[half:], B, N, P, hv, T)
		}
		msScatterBNTH(kAll, qkv[dq:], nil, B, S, N, hk, T, P, Dt, hk)
		msScatterBNTH(vAll, qkv[dq+dk:], nil, B, S, N, hv, T, P, Dt, hv)
		mask, err := msPrepareMask("Attention", input(in, 3), causal, B, S, T, P, filter)
		if err != nil {
			return nil, err
		}
		ab, abB, abN, err := msAttnBias("Attention", input(in, 5), B, N, S, T)
		if err != nil {
			return nil, err
		}
		sc := scale
		if sc == 0 {
			sc = float32(1 / math.Sqrt(float64(hk)))
		}
		p := &msAttn{B: B, N: N, S: S, T: T, dk: hk, dv: hv, scale: sc,
			q: qkv, ldq: Dt, qOff: func(b, n int) int { return b*S*Dt + n*hk },
			k: kAll, v: vAll, mask: mask, bias: ab, biasB: abB, biasHeads: abN}
		out := msNewOut(ec, dt, []int{B, S, dv})
		p.run(th, out.f)
		res := make([]*tensor.Tensor, nOut)
		res[0] = out.finish(th)
		if wantPresent {
			pr := msNewOut(ec, dt, []int{2, B, N, T, hk})
			copy(pr.f, kAll)
			copy(pr.f[len(kAll):], vAll)
			res[1] = pr.finish(th)
		}
		return res, nil
	}), nil
}

// ---- MultiHeadAttention -----------------------------------------------------------

// msMHAFactory: com.microsoft MultiHeadAttention(query, key?, value?, bias?,
// key_padding_mask?, attention_bias?, past_key?, past_value?).
//
// Input forms: query [B, S, D] with key [B, L, D] and value [B, L, Dv];
// packed QKV query [B, S, N, 3, H] (key and value absent); query with packed
// KV key [B, L, N, 2, H] (value absent); key/value already split into heads
// [B, N, L, H] / [B, N, L, Hv] (no bias or past allowed, as in ONNX Runtime).
// bias [D + D + Dv] is added to Q, K, V. past_key/past_value [B, N, P, H] are
// prepended; present_key/present_value [B, N, P+L, H] are returned when
// requested. key_padding_mask and unidirectional follow msPrepareMask;
// attention_bias is [B|1, N|1, S, T]; scale 0 means 1/sqrt(H). Output
// [B, S, Dv]. The optional qk output is not supported.
func msMHAFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	heads := int(n.Int("num_heads", 0))
	if heads < 1 {
		return nil, errf("MultiHeadAttention: num_heads must be >= 1, got %d", heads)
	}
	causal := n.Int("unidirectional", 0) != 0
	filter := n.Float("mask_filter_value", -10000)
	scale := n.Float("scale", 0)
	wantPK, wantPV := msWant(n, 1), msWant(n, 2)
	if msWant(n, 3) {
		return nil, errf("MultiHeadAttention: the qk output is not supported")
	}
	nOut := max(1, len(n.Outputs))
	const op = "MultiHeadAttention"
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		q, k, v := input(in, 0), input(in, 1), input(in, 2)
		if q == nil {
			return nil, errf("%s needs query", op)
		}
		dt := q.DType()
		if !msFloat(dt) {
			return nil, errf("%s: unsupported dtype %s", op, dt)
		}
		for _, t := range []*tensor.Tensor{k, v, input(in, 3), input(in, 6), input(in, 7)} {
			if t != nil && t.DType() != dt {
				return nil, errf("%s: input dtypes differ (%s and %s)", op, dt, t.DType())
			}
		}
		N := heads
		qs := q.Shape()
		var B, S, L, hk, hv int
		// Where Q, K, V live: element (b, s, n, h) of Q is at
		// qv[qOff(b,n) + s*ldq + h]; K/V rows likewise via kRow/kHead.
		var qv, kv, vv []float32
		var ldq, qHead int
		var kRow, kHead, vRow, vHead, kBase, vBase int
		bnsh := false
		switch {
		case len(qs) == 5:
			if k != nil || v != nil {
				return nil, errf("%s: packed QKV query needs key and value absent", op)
			}
			if qs[2] != N || qs[3] != 3 {
				return nil, errf("%s: packed QKV query %v, want [B, S, %d, 3, H]", op, qs, N)
			}
			B, S, L, hk, hv = qs[0], qs[1], qs[1], qs[4], qs[4]
			qv = toF32(q)
			kv, vv = qv, qv
			ldq, qHead = N*3*hk, 3*hk
			kRow, kHead, kBase = N*3*hk, 3*hk, hk
			vRow, vHead, vBase = N*3*hk, 3*hk, 2*hk
		case len(qs) == 3:
			B, S = qs[0], qs[1]
			if qs[2]%N != 0 {
				return nil, errf("%s: query hidden size %d not divisible by %d heads", op, qs[2], N)
			}
			hk = qs[2] / N
			qv = toF32(q)
			ldq, qHead = qs[2], hk
			if k == nil {
				return nil, errf("%s: key is required unless query is packed QKV", op)
			}
			ks := k.Shape()
			switch len(ks) {
			case 5:
				if v != nil || ks[0] != B || ks[2] != N || ks[3] != 2 || ks[4] != hk {
					return nil, errf("%s: packed KV key %v, want [%d, L, %d, 2, %d] and no value", op, ks, B, N, hk)
				}
				L, hv = ks[1], hk
				kv = toF32(k)
				vv = kv
				kRow, kHead, kBase = N*2*hk, 2*hk, 0
				vRow, vHead, vBase = N*2*hk, 2*hk, hk
			case 3:
				if v == nil || v.Rank() != 3 {
					return nil, errf("%s: 3-D key needs a 3-D value", op)
				}
				vs := v.Shape()
				if ks[0] != B || ks[2] != qs[2] || vs[0] != B || vs[1] != ks[1] || vs[2]%N != 0 {
					return nil, errf("%s: key %v / value %v do not match query %v", op, ks, vs, qs)
				}
				L, hv = ks[1], vs[2]/N
				kv, vv = toF32(k), toF32(v)
				kRow, kHead = ks[2], hk
				vRow, vHead = vs[2], hv
			case 4:
				if v == nil || v.Rank() != 4 {
					return nil, errf("%s: 4-D key needs a 4-D value", op)
				}
				vs := v.Shape()
				if ks[0] != B || ks[1] != N || ks[3] != hk || vs[0] != B || vs[1] != N || vs[2] != ks[2] {
					return nil, errf("%s: key %v / value %v, want [%d, %d, L, %d]", op, ks, vs, B, N, hk)
				}
				if input(in, 3) != nil || input(in, 6) != nil || input(in, 7) != nil {
					return nil, errf("%s: bias and past are not allowed with 4-D key/value", op)
				}
				L, hv = ks[2], vs[3]
				kv, vv = toF32(k), toF32(v)
				bnsh = true
			default:
				return nil, errf("%s: key must be 3-D, 4-D or 5-D, got %v", op, ks)
			}
		default:
			return nil, errf("%s: query must be 3-D or 5-D, got %v", op, qs)
		}
		if hk == 0 || hv == 0 {
			return nil, errf("%s: zero head size", op)
		}
		D, Dv := N*hk, N*hv
		bias, err := msVec(input(in, 3), 2*D+Dv, op, "bias")
		if err != nil {
			return nil, err
		}
		pk, pv := input(in, 6), input(in, 7)
		if (pk == nil) != (pv == nil) {
			return nil, errf("%s: past_key and past_value must be given together", op)
		}
		P := 0
		if pk != nil {
			a, b := pk.Shape(), pv.Shape()
			if len(a) != 4 || len(b) != 4 || a[0] != B || a[1] != N || a[3] != hk || b[0] != B || b[1] != N || b[2] != a[2] || b[3] != hv {
				return nil, errf("%s: past_key %v / past_value %v, want [%d, %d, P, %d/%d]", op, a, b, B, N, hk, hv)
			}
			P = a[2]
		}
		T := P + L
		th := nnThreads(ec)
		// Q with bias: a [B, S, N*hk] float32 copy when a bias must be added
		// or the query is packed, else read in place.
		var qOff func(b, n int) int
		if bias != nil {
			qb := make([]float32, B*S*D)
			for r := 0; r < B*S; r++ {
				for h := 0; h < N; h++ {
					d := qb[r*D+h*hk : r*D+h*hk+hk]
					s := qv[r*ldq+h*qHead:][:hk]
					bb := bias[h*hk : h*hk+hk]
					for i := range d {
						d[i] = s[i] + bb[i]
					}
				}
			}
			qv, ldq, qHead = qb, D, hk
		}
		{
			l, hs := ldq, qHead
			qOff = func(b, n int) int { return b*S*l + n*hs }
		}
		var kAll, vAll []float32
		if bnsh {
			kAll, vAll = kv, vv
		} else {
			kAll = make([]float32, B*N*T*hk)
			vAll = make([]float32, B*N*T*hv)
			if pk != nil {
				msCopyPast(kAll, toF32(pk), B, N, P, hk, T)
				msCopyPast(vAll, toF32(pv), B, N, P, hv, T)
			}
			var kb, vb []float32
			if bias != nil {
				kb, vb = bias[D:2*D], bias[2*D:]
			}
			msScatterBNTH(kAll, kv[kBase:], kb, B, L, N, hk, T, P, kRow, kHead)
			msScatterBNTH(vAll, vv[vBase:], vb, B, L, N, hv, T, P, vRow, vHead)
		}
		mask, err := msPrepareMask(op, input(in, 4), causal, B, S, T, P, filter)
		if err != nil {
			return nil, err
		}
		ab, abB, abN, err := msAttnBias(op, input(in, 5), B, N, S, T)
		if err != nil {
			return nil, err
		}
		sc := scale
		if sc == 0 {
			sc = float32(1 / math.Sqrt(float64(hk)))
		}
		p := &msAttn{B: B, N: N, S: S, T: T, dk: hk, dv: hv, scale: sc,
			q: qv, ldq: ldq, qOff: qOff, k: kAll, v: vAll, mask: mask, bias: ab, biasB: abB, biasHeads: abN}
		out := msNewOut(ec, dt, []int{B, S, Dv})
		p.run(th, out.f)
		res := make([]*tensor.Tensor, nOut)
		res[0] = out.finish(th)
		if wantPK {
			res[1] = msHalfOut(ec, dt, []int{B, N, T, hk}, kAll, th)
		}
		if wantPV {
			res[2] = msHalfOut(ec, dt, []int{B, N, T, hv}, vAll, th)
		}
		return res, nil
	}), nil
}
