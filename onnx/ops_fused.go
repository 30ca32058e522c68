package onnx

import (
	"sync"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/kernels"
	"github.com/txt2img/engine/tensor"
)

// Kernels of the fused ops that the passes in fuse.go emit, in the internal
// domain fzDomain (never found in model files). Each computes in float32 for
// float32/float16/bfloat16 data and rounds once, at its output.
//
//	FusedAttention(Q, K, V, mask?, s0?, s1?, ...)  softmax(alpha·Q·Kᵀ + mask)·V
//	FusedLayerNorm(X, scale?, bias?) / FusedRMSNorm(X, scale?)  over the last axis
//	FusedGroupNorm(X, in_scale, in_bias, gamma?, beta?)  channels-first, optional SiLU
//	FusedMatMulBias(A, B, bias)  A·B + bias, B 2-D
//	FusedConv(X, W, B?, addend?)  Conv with an epilogue (Add, SiLU, Mul/Div by a constant)
//	FusedGelu(X)  exact (Erf) GELU

// fzDomain is the operator domain of the fused ops.
const fzDomain = "engine.fused"

func init() {
	graph.Register(fzDomain, "FusedAttention", 1, 0, fzAttentionFactory)
	graph.Register(fzDomain, "FusedLayerNorm", 1, 0, fzNormFactory(false))
	graph.Register(fzDomain, "FusedRMSNorm", 1, 0, fzNormFactory(true))
	graph.Register(fzDomain, "FusedGroupNorm", 1, 0, fzGroupNormFactory)
	graph.Register(fzDomain, "FusedMatMulBias", 1, 0, fzMatMulBiasFactory)
	graph.Register(fzDomain, "FusedConv", 1, 0, fzConvFactory)
	graph.Register(fzDomain, "FusedGelu", 1, 0, mathGeluFactory)
	for _, op := range []string{"FusedLayerNorm", "FusedRMSNorm", "FusedGroupNorm", "FusedGelu"} {
		graph.RegisterShape(fzDomain, op, shapeSameAsFirst)
	}
	graph.RegisterShape(fzDomain, "FusedMatMulBias", func(n *graph.Node, in []graph.ValueType, c []*tensor.Tensor) ([]graph.ValueType, bool) {
		return shapeMatMul(n, in[:2], c)
	})
	graph.RegisterShape(fzDomain, "FusedConv", fzConvShape)
	graph.RegisterShape(fzDomain, "FusedAttention", fzAttentionShape)
}

// fzConvShape is Conv's shape, broadcast with the epilogue's addend.
func fzConvShape(n *graph.Node, in []graph.ValueType, c []*tensor.Tensor) ([]graph.ValueType, bool) {
	out, ok := shapeConv(n, in, c)
	if !ok || len(n.Inputs) < 4 || n.Inputs[3] == "" {
		return out, ok
	}
	if _, ok := tensorIn(in, 3); !ok {
		return nil, false
	}
	return shapeBroadcast(n, []graph.ValueType{out[0], in[3]}, nil)
}

// fzAttentionShape: Q [..., M, D], K, V [..., N, Dv] → [..., M, Dv] with the
// batch dims of Q, K and V broadcast.
func fzAttentionShape(n *graph.Node, in []graph.ValueType, c []*tensor.Tensor) ([]graph.ValueType, bool) {
	q, ok1 := tensorIn(in, 0)
	k, ok2 := tensorIn(in, 1)
	v, ok3 := tensorIn(in, 2)
	if !ok1 || !ok2 || !ok3 || len(q.Shape) < 2 || len(k.Shape) < 2 || len(v.Shape) < 2 {
		return nil, false
	}
	bt := func(t graph.ValueType) graph.ValueType {
		return graph.ValueType{Kind: tensor.KindTensor, HasShape: true, Shape: t.Shape[:len(t.Shape)-2]}
	}
	batch, ok := shapeBroadcast(n, []graph.ValueType{bt(q), bt(k), bt(v)}, nil)
	if !ok {
		return nil, false
	}
	out := append(append([]int{}, batch[0].Shape...), q.Shape[len(q.Shape)-2], v.Shape[len(v.Shape)-1])
	return shapeOut(q.DType, out), true
}

func fzFloat(dt tensor.DType) bool {
	return dt == tensor.Float || dt == tensor.Float16 || dt == tensor.BFloat16
}

// fzStore writes float32 values into t (float32, float16 or bfloat16) at off.
func fzStore(t *tensor.Tensor, off int, src []float32) {
	switch t.DType() {
	case tensor.Float:
		copy(t.F32()[off:off+len(src)], src)
	case tensor.Float16:
		kernels.F32ToF16(tensor.View[uint16](t)[off:off+len(src)], src)
	case tensor.BFloat16:
		d := tensor.View[uint16](t)[off : off+len(src)]
		for i, v := range src {
			d[i] = tensor.F32ToBF16(v)
		}
	}
}

// fzScalar reads a one-element tensor as float64.
func fzScalar(t *tensor.Tensor, what string) (float64, error) {
	if t == nil || t.Kind != tensor.KindTensor || t.Numel() != 1 {
		return 0, errf("%s must be a one-element tensor", what)
	}
	return t.At(0), nil
}

var fzBufPool sync.Pool

func fzGetBuf(n int) *[]float32 {
	if p, ok := fzBufPool.Get().(*[]float32); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	b := make([]float32, n)
	return &b
}

// fzBatchOffsets returns, for every index of the broadcast batch shape, the
// element offset of the matching matrix of an operand with batch dims s and
// matrix size msz.
func fzBatchOffsets(s, batch []int, msz int) []int {
	return fzOffsets(bcastStrides(s, batch), batch, msz)
}

// fzOffsets returns sum(idx·st)·msz for every index idx of batch.
func fzOffsets(st, batch []int, msz int) []int {
	nb := tensor.Numel(batch)
	offs := make([]int, nb)
	idx := make([]int, len(batch))
	for i := 0; i < nb; i++ {
		o := 0
		for d := range batch {
			o += idx[d] * st[d]
		}
		offs[i] = o * msz
		for d := len(batch) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < batch[d] {
				break
			}
			idx[d] = 0
		}
	}
	return offs
}

// fzAttentionFactory: Y = softmax(alpha·Q·Kᵀ + mask, last axis)·V with Q
// [..., M, D], V [..., N, Dv] and K [..., N, D] (k_transposed=0) or its
// transpose [..., D, N] (k_transposed=1); batch dims broadcast as in MatMul,
// mask broadcasts onto the scores [..., M, N]. alpha is the product of the
// one-element inputs 4.. (each multiplied, or divided where scale_ops is 1).
// It runs kernels.Attend (flash-style: one tile of scores per worker);
// float32/float16 Q, K, V are read in place, also as views with room (a KV
// cache), and a query row whose scores are all -Inf yields zeros.
func fzAttentionFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	kT := n.Int("k_transposed", 0) != 0
	ops := n.Ints("scale_ops", nil)
	for _, o := range ops {
		if o != 0 && o != 1 {
			return nil, errf("Attention: scale_ops must be 0 or 1, got %v", ops)
		}
	}
	return graph.AcceptRoom(graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		q, k, v, mask := input(in, 0), input(in, 1), input(in, 2), input(in, 3)
		if q == nil || k == nil || v == nil {
			return nil, errf("Attention needs Q, K and V")
		}
		if len(in) != 4+len(ops) {
			return nil, errf("Attention: %d inputs for %d scales", len(in), len(ops))
		}
		alpha := 1.0
		for i, o := range ops {
			s, err := fzScalar(input(in, 4+i), "Attention scale")
			if err != nil {
				return nil, err
			}
			if o == 0 {
				alpha *= s
			} else {
				alpha /= s
			}
		}
		dt := q.DType()
		if !fzFloat(dt) || k.DType() != dt || v.DType() != dt || (mask != nil && mask.DType() != dt) {
			return nil, errf("Attention: Q, K, V (and mask) must share a float dtype, got %s %s %s", dt, k.DType(), v.DType())
		}
		qs, ks, vs := q.Shape(), k.Shape(), v.Shape()
		if len(qs) < 2 || len(ks) < 2 || len(vs) < 2 {
			return nil, errf("Attention needs Q, K, V of rank >= 2, got %v %v %v", qs, ks, vs)
		}
		M, D := qs[len(qs)-2], qs[len(qs)-1]
		N, D2 := ks[len(ks)-2], ks[len(ks)-1]
		if kT {
			N, D2 = D2, N
		}
		N2, Dv := vs[len(vs)-2], vs[len(vs)-1]
		if D != D2 || N != N2 {
			return nil, errf("Attention shapes do not match: Q %v, K %v (transposed %v), V %v", qs, ks, kT, vs)
		}
		qb, kb, vb := qs[:len(qs)-2], ks[:len(ks)-2], vs[:len(vs)-2]
		batch, err := broadcastShapes(qb, kb, vb)
		if err != nil {
			return nil, err
		}
		scoreShape := append(append([]int(nil), batch...), M, N)
		var maskF []float32
		var mst []int
		if mask != nil {
			mask = mask.Compact()
			bs, err := broadcastShapes(scoreShape, mask.Shape())
			if err != nil || !tensor.SameShape(bs, scoreShape) {
				return nil, errf("Attention: mask %v does not broadcast onto scores %v", mask.Shape(), scoreShape)
			}
			maskF, mst = fzKeyMask(toF32(mask), mask.Shape(), scoreShape)
		}
		outShape := append(append([]int(nil), batch...), M, Dv)
		out := ec.Alloc(dt, outShape...)
		nb := tensor.Numel(batch)
		if nb == 0 || M == 0 || Dv == 0 {
			return one(out)
		}
		// Matrix strides (a view with room along its row axis, such as a KV
		// cache, is read in place; other non-contiguous views are compacted).
		q, qMat := nbMatStride(q)
		k, kMat := nbMatStride(k)
		v, vMat := nbMatStride(v)
		qOff := fzBatchOffsets(qb, batch, qMat)
		kOff := fzBatchOffsets(kb, batch, kMat)
		vOff := fzBatchOffsets(vb, batch, vMat)
		a := &kernels.Attention{Heads: nb, Sq: M, Skv: N, D: D, Dv: Dv, Scale: float32(alpha),
			Q: nnOpAt(nnOperand(q), 0, D, false), V: nnOpAt(nnOperand(v), 0, Dv, false),
			K: nnOpAt(nnOperand(k), 0, D, false)}
		if kT {
			a.K = nnOpAt(nnOperand(k), 0, N, true)
		}
		var mOff []int
		if mask != nil {
			mOff = fzOffsets(mst[:len(batch)], batch, 1)
			a.Mask = kernels.AttentionMask{F32: maskF, LD: mst[len(batch)]}
		}
		var tmp *[]float32
		switch dt {
		case tensor.Float:
			a.Out = kernels.Operand{F32: out.F32(), LD: Dv}
		case tensor.Float16:
			a.Out = kernels.Operand{F16: tensor.View[uint16](out), LD: Dv}
		default:
			tmp = fzGetBuf(out.Numel())
			defer fzBufPool.Put(tmp)
			a.Out = kernels.Operand{F32: *tmp, LD: Dv}
		}
		a.Head = func(p int) kernels.AttentionHead {
			h := kernels.AttentionHead{Q: qOff[p], K: kOff[p], V: vOff[p], Out: p * M * Dv, Keys: N}
			if mOff != nil {
				h.Mask = mOff[p]
			}
			return h
		}
		kernels.Attend(a, nnThreads(ec))
		if tmp != nil {
			fzStore(out, 0, *tmp)
		}
		return one(out)
	})), nil
}

// fzKeyMask returns the mask values and their strides aligned to the score
// shape; a mask broadcast along the key axis is expanded along it (the
// kernel reads mask rows with unit key stride).
func fzKeyMask(m []float32, ms, scoreShape []int) ([]float32, []int) {
	r := len(scoreShape)
	if n := scoreShape[r-1]; n > 1 && (len(ms) == 0 || ms[len(ms)-1] == 1) {
		rows := len(m)
		e := make([]float32, rows*n)
		for i, x := range m {
			row := e[i*n : (i+1)*n]
			for j := range row {
				row[j] = x
			}
		}
		if len(ms) == 0 {
			ms = []int{n}
		} else {
			ms = append(append([]int(nil), ms[:len(ms)-1]...), n)
		}
		m = e
	}
	return m, bcastStrides(ms, scoreShape)
}

// fzNormFactory: LayerNorm (rms=false: (x-mean)/sqrt(var+eps)) and RMSNorm
// (x/sqrt(mean(x²)+eps)) over the last axis, then ·scale and +bias where
// given (both broadcast onto the last dim): kernels.LayerNormF32/F16
// (statistics in float64).
func fzNormFactory(rms bool) graph.Factory {
	return func(n *graph.Node, _ int) (graph.Kernel, error) {
		eps := float64(n.Float("epsilon", 1e-5))
		return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
			x, scale, bias := input(in, 0), input(in, 1), input(in, 2)
			if x == nil {
				return nil, errf("%s needs X", n.OpType)
			}
			dt := x.DType()
			shape := x.Shape()
			if !fzFloat(dt) || len(shape) == 0 {
				return nil, errf("%s: unsupported input %s %v", n.OpType, dt, shape)
			}
			cols := shape[len(shape)-1]
			rows := tensor.Numel(shape) / max(1, cols)
			ns := shape[len(shape)-1:]
			sc, err := redExpandTo[float32](scale, ns, "scale")
			if err != nil {
				return nil, err
			}
			bi, err := redExpandTo[float32](bias, ns, "bias")
			if err != nil {
				return nil, err
			}
			p := kernels.LayerNormParams{Rows: rows, Cols: cols, Eps: eps, RMS: rms, Gamma: sc, Beta: bi}
			return one(nkLayerNormRun(ec, x, p))
		}), nil
	}
}

// fzGroupNormFactory: the exported GroupNorm, Reshape(X, [N, G, -1]) →
// InstanceNormalization(in_scale[G], in_bias[G]) → Reshape back → ·gamma
// → +beta (per channel, or one value), then y·sigmoid(y) when silu=1; run
// by kernels.GroupNormF32/F16 with the instance scale and bias folded into
// per-channel ones: ((x-m)·inv·s + b)·γ + β = (x-m)·inv·(s·γ) + (b·γ + β).
func fzGroupNormFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	groups := int(n.Int("groups", 0))
	eps := float64(n.Float("epsilon", 1e-5))
	silu := n.Int("silu", 0) != 0
	if groups <= 0 {
		return nil, errf("GroupNorm: groups must be positive, got %d", groups)
	}
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, is, ib, gamma, beta := input(in, 0), input(in, 1), input(in, 2), input(in, 3), input(in, 4)
		if x == nil || is == nil || ib == nil {
			return nil, errf("GroupNorm needs X, in_scale and in_bias")
		}
		dt := x.DType()
		shape := x.Shape()
		if !fzFloat(dt) || len(shape) < 2 {
			return nil, errf("GroupNorm: unsupported input %s %v", dt, shape)
		}
		N, C := shape[0], shape[1]
		if C%groups != 0 {
			return nil, errf("GroupNorm: %d channels not divisible by %d groups", C, groups)
		}
		if is.Numel() != groups || ib.Numel() != groups {
			return nil, errf("GroupNorm: in_scale %v / in_bias %v must have %d elements", is.Shape(), ib.Shape(), groups)
		}
		per := func(t *tensor.Tensor, what string) ([]float32, error) {
			if t == nil {
				return nil, nil
			}
			if _, err := fzChannelShape(t.Shape(), shape); err != nil {
				return nil, errf("GroupNorm: %s: %v", what, err)
			}
			v := t.Float32s()
			if len(v) == C {
				return v, nil
			}
			r := make([]float32, C)
			for i := range r {
				r[i] = v[0]
			}
			return r, nil
		}
		g, err := per(gamma, "gamma")
		if err != nil {
			return nil, err
		}
		b, err := per(beta, "beta")
		if err != nil {
			return nil, err
		}
		isv, ibv := is.Float64s(), ib.Float64s()
		cg := C / groups
		gam, bet := make([]float32, C), make([]float32, C)
		for ch := range gam {
			s, b0 := isv[ch/cg], ibv[ch/cg]
			if g != nil {
				s, b0 = s*float64(g[ch]), b0*float64(g[ch])
			}
			if b != nil {
				b0 += float64(b[ch])
			}
			gam[ch], bet[ch] = float32(s), float32(b0)
		}
		p := kernels.GroupNormParams{N: N, C: C, Spatial: tensor.Numel(shape[2:]), Groups: groups, Eps: eps, Gamma: gam, Beta: bet, SiLU: silu}
		return one(nkGroupNorm(ec, x, p))
	}), nil
}

// fzChannelShape checks that a parameter of shape p multiplies channel axis
// 1 of an x of shape xs (nil: any x rank, only p's form is checked): p is
// one value of rank <= rank(x), or [C,1,…,1] of rank(x)-1, or [1,C,1,…,1] of
// rank(x). It returns C (1 for a single value).
func fzChannelShape(p, xs []int) (int, error) {
	n := tensor.Numel(p)
	if n == 1 {
		if xs != nil && len(p) > len(xs) {
			return 0, errf("parameter %v has a higher rank than X %v", p, xs)
		}
		return 1, nil
	}
	q := p
	if xs == nil {
		if len(q) > 1 && q[0] == 1 {
			q = q[1:]
		}
	} else {
		switch len(p) {
		case len(xs):
			if p[0] != 1 {
				return 0, errf("parameter %v does not match X %v per channel", p, xs)
			}
			q = p[1:]
		case len(xs) - 1:
		default:
			return 0, errf("parameter %v does not match X %v per channel", p, xs)
		}
	}
	if len(q) == 0 || (xs != nil && xs[1] >= 0 && q[0] != xs[1]) {
		return 0, errf("parameter %v does not match X %v per channel", p, xs)
	}
	for _, d := range q[1:] {
		if d != 1 {
			return 0, errf("parameter %v is not per channel", p)
		}
	}
	return q[0], nil
}

// fzSiLU applies y·sigmoid(y) in place.
func fzSiLU(y []float32) {
	var tmp [256]float32
	for lo := 0; lo < len(y); lo += len(tmp) {
		hi := min(len(y), lo+len(tmp))
		s := tmp[:hi-lo]
		mathSigmoidSlice32(s, y[lo:hi])
		for i := range s {
			y[lo+i] *= s[i]
		}
	}
}

// fzMatMulBiasFactory: Y = A·B + bias with B [K, N] and bias of N elements,
// A [..., K] (1-D A gives [N]); one GEMM over all rows of A, bias preloaded
// into the float32 accumulator.
func fzMatMulBiasFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		a, b, bias := input(in, 0), input(in, 1), input(in, 2)
		if a == nil || b == nil || bias == nil {
			return nil, errf("MatMulBias needs A, B and bias")
		}
		dt := a.DType()
		if !fzFloat(dt) || b.DType() != dt || bias.DType() != dt {
			return nil, errf("MatMulBias: A, B and bias must share a float dtype")
		}
		as, bs := a.Shape(), b.Shape()
		if len(as) == 0 || len(bs) != 2 || as[len(as)-1] != bs[0] {
			return nil, errf("MatMulBias: shapes %v x %v", as, bs)
		}
		K, N := bs[0], bs[1]
		if bias.Numel() != N {
			return nil, errf("MatMulBias: bias %v does not have %d elements", bias.Shape(), N)
		}
		M := tensor.Numel(as) / max(1, K)
		if K == 0 {
			M = tensor.Numel(as[:len(as)-1])
		}
		outShape := append(append([]int(nil), as[:len(as)-1]...), N)
		out := ec.Alloc(dt, outShape...)
		var y []float32
		if dt == tensor.Float {
			y = out.F32()
		} else {
			y = ec.TempF32(M * N)
		}
		bv := toF32(bias)
		if pb := pkMatMulWeight(ec, a, b); pb != nil {
			kernels.GemmPacked(M, 1, nnOpAt(nnOperand(a), 0, K, false), pb, 0, y, N, kernels.Epilogue{Bias: bv}, nnThreads(ec))
		} else {
			kernels.GemmEpilogue(M, N, K, 1, nnOpAt(nnOperand(a), 0, K, false), nnOpAt(nnOperand(b), 0, N, false), 0, y, N, kernels.Epilogue{Bias: bv}, nnThreads(ec))
		}
		if dt != tensor.Float {
			narrowT(ec, out, 0, y)
		}
		return one(out)
	}), nil
}

// Conv epilogue steps (the "epilogue" attribute, in order).
const (
	fzEpiAdd  = "add"  // + addend (input 3), broadcast
	fzEpiSiLU = "silu" // y·sigmoid(y)
	fzEpiMul  = "mul"  // · constant (next of "consts")
	fzEpiDiv  = "div"  // / constant (next of "consts")
)

// fzConvFactory: Conv (same attributes as ai.onnx Conv) followed by the
// elementwise steps of the "epilogue" attribute, computed in float32 on the
// convolution's result. When the addend broadcasts the result to a larger
// shape the output takes that shape, as the Add did.
func fzConvFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	a, err := nnReadConvAttrs(n)
	if err != nil {
		return nil, err
	}
	steps := n.Strs("epilogue", nil)
	consts := n.Floats("consts", nil)
	nc, nadd := 0, 0
	for _, s := range steps {
		switch s {
		case fzEpiAdd:
			nadd++
		case fzEpiSiLU:
		case fzEpiMul, fzEpiDiv:
			nc++
		default:
			return nil, errf("Conv: unknown epilogue step %q", s)
		}
	}
	if nc != len(consts) || nadd > 1 {
		return nil, errf("Conv: epilogue %v needs %d constants (got %d) and at most one add", steps, nc, len(consts))
	}
	wc := &cvWino{}
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, w, b, add := input(in, 0), input(in, 1), input(in, 2), input(in, 3)
		if x == nil || w == nil {
			return nil, errf("Conv needs X and W")
		}
		if (add != nil) != (nadd == 1) {
			return nil, errf("Conv: epilogue %v and addend presence disagree", steps)
		}
		c, fused, err := cvConvFused(ec, wc, &a, x, w, b, add, steps, consts, nnThreads(ec))
		if err != nil {
			return nil, err
		}
		if fused {
			return one(c)
		}
		dt := c.DType()
		if !fzFloat(dt) {
			return nil, errf("Conv epilogue: unsupported dtype %s", dt)
		}
		cs := c.Shape()
		outShape := cs
		var addF []float32
		var cst, ast []int
		if add != nil {
			if add.DType() != dt {
				return nil, errf("Conv epilogue: addend dtype %s, want %s", add.DType(), dt)
			}
			outShape, err = broadcastShapes(cs, add.Shape())
			if err != nil {
				return nil, err
			}
			addF = toF32T(ec, add)
			cst, ast = bcastStrides(cs, outShape), bcastStrides(add.Shape(), outShape)
		}
		cf := toF32T(ec, c) // c is fresh: float32 data is modified in place
		if add == nil {
			run := fzEpiSubset(steps, consts)
			fzParallelChunks(ec, cf, run)
			if dt == tensor.Float {
				return one(c)
			}
			out := ec.Alloc(dt, cs...)
			narrowT(ec, out, 0, cf)
			return one(out)
		}
		// Steps before the add run on the conv result, then the add, then the rest.
		k := 0
		for k < len(steps) && steps[k] != fzEpiAdd {
			k++
		}
		pre := fzEpiSubset(steps[:k], consts)
		post := fzEpiSubset(steps[k+1:], consts[fzEpiCount(steps[:k]):])
		fzParallelChunks(ec, cf, pre)
		out := ec.Alloc(dt, outShape...)
		var y []float32
		if dt == tensor.Float {
			y = out.F32()
		} else {
			y = ec.TempF32(tensor.Numel(outShape))
		}
		bcastRuns(outShape, [][]int{cst, ast}, func(o int, offs []int, n int, st []int) {
			ic, ia := offs[0], offs[1]
			for i := 0; i < n; i++ {
				y[o+i] = cf[ic] + addF[ia]
				ic += st[0]
				ia += st[1]
			}
		})
		fzParallelChunks(ec, y, post)
		if dt != tensor.Float {
			narrowT(ec, out, 0, y)
		}
		return one(out)
	}), nil
}

// fzParallelChunks runs f over chunks of y on the session's workers.
func fzParallelChunks(ec *graph.ExecContext, y []float32, f func([]float32)) {
	const chunk = 1 << 14
	kernels.Parallel(nnThreads(ec), (len(y)+chunk-1)/chunk, func(t int) {
		f(y[t*chunk : min(len(y), (t+1)*chunk)])
	})
}

// fzEpiCount counts the constants the steps use.
func fzEpiCount(steps []string) int {
	n := 0
	for _, s := range steps {
		if s == fzEpiMul || s == fzEpiDiv {
			n++
		}
	}
	return n
}

// fzEpiSubset returns a function applying steps (no add) with their constants.
func fzEpiSubset(steps []string, consts []float32) func([]float32) {
	return func(seg []float32) {
		ci := 0
		for _, s := range steps {
			switch s {
			case fzEpiSiLU:
				fzSiLU(seg)
			case fzEpiMul, fzEpiDiv:
				k := consts[ci]
				ci++
				for i := range seg {
					if s == fzEpiMul {
						seg[i] *= k
					} else {
						seg[i] /= k
					}
				}
			}
		}
	}
}
