package onnx

import (
	"errors"
	"math"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/tensor"
)

// Graph fusions for the patterns that the SD-Turbo and Janus exports contain.
// Each is a graph pass (see graph.RegisterPass) that can be switched off by
// name through graph.Options.DisablePasses. A fusion fires only when every
// intermediate value is read inside the pattern alone and is no graph output
// (graph.PassGraph.Replace checks this again before rewriting).
//
//	cancel-casts       Cast to the value's own dtype, and exact round trips
//	                   (fp16→fp32→fp16 …) are removed; lossy ones are kept
//	fuse-layernorm     decomposed LayerNorm and RMSNorm over the last axis
//	fuse-attention     MatMul(Q, Kᵀ) → Mul/Div by scalars → Add(mask)? →
//	                   Softmax(last) → MatMul(·, V), with the scalar Muls on Q
//	                   and Kᵀ and a last-two-axes Transpose of K absorbed
//	fuse-gelu          x·0.5·(1+Erf(x/√2)) in its exported orderings
//	fuse-groupnorm     Reshape → InstanceNormalization → Reshape → Mul → Add
//	                   (→ Sigmoid+Mul)
//	fuse-matmul-bias   MatMul(A, B 2-D) + constant bias
//	fuse-conv          Conv → Add / SiLU / Mul or Div by a constant
//	fuse-cast-matmul   Cast(constant fp16 weight → fp32) → MatMul B: the
//	                   MatMul reads the fp16 weight (no fp32 copy per run)

func init() {
	for _, p := range []struct {
		name string
		fn   func(*graph.PassGraph, *graph.Node) (bool, error)
		op   string
	}{
		{"cancel-casts", fzCancelCast, "Cast"},
		{"fuse-layernorm", fzFuseNorm, "Pow"},
		{"fuse-attention", fzFuseAttention, "Softmax"},
		{"fuse-gelu", fzFuseGelu, "Erf"},
		{"fuse-groupnorm", fzFuseGroupNorm, "InstanceNormalization"},
		{"fuse-matmul-bias", fzFuseMatMulBias, "MatMul"},
		{"fuse-conv", fzFuseConv, "Conv"},
		{"fuse-cast-matmul", qkFuseCastMatMul, "Cast"},
	} {
		graph.RegisterPass(graph.PassFunc{PassName: p.name, Fn: fzEach(p.op, p.fn)})
	}
}

// fzEach runs fn on every live ai.onnx node of type op, in order. fn returns
// whether it rewrote; ErrUnsafeRewrite from fn means "no match".
func fzEach(op string, fn func(*graph.PassGraph, *graph.Node) (bool, error)) func(*graph.PassGraph) (bool, error) {
	return func(g *graph.PassGraph) (bool, error) {
		changed := false
		for _, n := range g.Nodes() {
			if n.OpType != op || n.Domain != "" || !g.Alive(n) {
				continue
			}
			ok, err := fn(g, n)
			if errors.Is(err, graph.ErrUnsafeRewrite) {
				continue
			}
			if err != nil {
				return changed, err
			}
			changed = changed || ok
		}
		return changed, nil
	}
}

// fzOut returns a node's first output ("" if none).
func fzOut(n *graph.Node) string {
	if n == nil || len(n.Outputs) == 0 {
		return ""
	}
	return n.Outputs[0]
}

// fzIn returns input i ("" if absent).
func fzIn(n *graph.Node, i int) string {
	if i < len(n.Inputs) {
		return n.Inputs[i]
	}
	return ""
}

// fzIs reports whether n is the ai.onnx op with the given number of inputs.
func fzIs(n *graph.Node, op string, inputs int) bool {
	return n != nil && n.Domain == "" && n.OpType == op && len(n.Inputs) == inputs && len(n.Outputs) >= 1
}

// fzSole returns the only reader of value if it is the ai.onnx op op.
func fzSole(g *graph.PassGraph, value, op string, inputs int) *graph.Node {
	c := g.SoleConsumer(value)
	if !fzIs(c, op, inputs) {
		return nil
	}
	return c
}

// fzOther returns the input of binary node n that is not v ("" if n does not
// read v, or reads it twice).
func fzOther(n *graph.Node, v string) string {
	switch {
	case n.Inputs[0] == v && n.Inputs[1] != v:
		return n.Inputs[1]
	case n.Inputs[1] == v && n.Inputs[0] != v:
		return n.Inputs[0]
	}
	return ""
}

// fzConstScalar returns the value of a one-element constant of rank <= 1.
func fzConstScalar(g *graph.PassGraph, v string) (float64, bool) {
	c := g.Const(v)
	if c == nil || c.Kind != tensor.KindTensor || c.Numel() != 1 || c.Rank() > 1 || !c.DType().IsFloat() && !fzIntType(c.DType()) {
		return 0, false
	}
	return c.At(0), true
}

// fzConstFor is fzConstScalar for a constant combined elementwise with x: a
// rank-1 constant must not raise the rank of a rank-0 x.
func fzConstFor(g *graph.PassGraph, v, x string) (float64, bool) {
	k, ok := fzConstScalar(g, v)
	if !ok {
		return 0, false
	}
	if g.Const(v).Rank() == 1 {
		if r, known := fzRank(g, x); !known || r < 1 {
			return 0, false
		}
	}
	return k, true
}

func fzIntType(dt tensor.DType) bool {
	switch dt {
	case tensor.Int8, tensor.Int16, tensor.Int32, tensor.Int64, tensor.Uint8, tensor.Uint16, tensor.Uint32, tensor.Uint64:
		return true
	}
	return false
}

// fzIsScalar reports whether v is known to hold exactly one element and has
// rank <= 2 (so it cannot raise the rank of attention scores).
func fzIsScalar(g *graph.PassGraph, v string) bool {
	t, ok := g.Type(v)
	return ok && t.Static() && tensor.Numel(t.Shape) == 1 && len(t.Shape) <= 2
}

// fzNear compares a constant with a target within a relative 1e-3 (the
// exporters store √2, 1/√2 … in fp16).
func fzNear(x, want float64) bool { return math.Abs(x-want) <= 1e-3*math.Abs(want) }

// fzRank returns the rank of v when known.
func fzRank(g *graph.PassGraph, v string) (int, bool) {
	t, ok := g.Type(v)
	if !ok || t.Kind != tensor.KindTensor || !t.HasShape {
		return 0, false
	}
	return len(t.Shape), true
}

// fzDType returns the element type of v: from shape inference where known,
// else by following dtype-preserving producers back (ReduceMean has no shape
// function, yet its dtype is its input's).
func fzDType(g *graph.PassGraph, v string, depth int) tensor.DType {
	if t, ok := g.Type(v); ok && t.Kind == tensor.KindTensor && t.DType != tensor.Undefined {
		return t.DType
	}
	p := g.Producer(v)
	if p == nil || depth > 64 || len(p.Inputs) == 0 {
		return tensor.Undefined
	}
	if p.Domain == fzDomain { // every fused op keeps its first input's dtype
		return fzDType(g, p.Inputs[0], depth+1)
	}
	if p.Domain != "" {
		return tensor.Undefined
	}
	switch p.OpType {
	case "Cast":
		return tensor.DType(p.Int("to", 0))
	case "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Reciprocal", "Neg", "Abs", "Exp", "Log", "Erf", "Tanh",
		"Sigmoid", "Relu", "Softmax", "LogSoftmax", "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin",
		"Transpose", "Reshape", "Squeeze", "Unsqueeze", "Flatten", "Identity", "MatMul", "Gemm", "Conv",
		"Concat", "Slice", "Gather", "Expand", "InstanceNormalization", "LayerNormalization", "Clip", "Max", "Min":
		return fzDType(g, p.Inputs[0], depth+1)
	case "Where":
		if len(p.Inputs) == 3 {
			return fzDType(g, p.Inputs[1], depth+1)
		}
	}
	return tensor.Undefined
}

// fzExactWiden reports whether every value of from is exactly representable
// in to (so a Cast from→to→from is the identity).
func fzExactWiden(from, to tensor.DType) bool {
	switch from {
	case tensor.Float16, tensor.BFloat16:
		return to == tensor.Float || to == tensor.Double
	case tensor.Float:
		return to == tensor.Double
	case tensor.Int8:
		return to == tensor.Int16 || to == tensor.Int32 || to == tensor.Int64
	case tensor.Int16:
		return to == tensor.Int32 || to == tensor.Int64
	case tensor.Int32:
		return to == tensor.Int64
	case tensor.Uint8:
		return to == tensor.Uint16 || to == tensor.Uint32 || to == tensor.Uint64 || to == tensor.Int16 || to == tensor.Int32 || to == tensor.Int64
	case tensor.Uint16:
		return to == tensor.Uint32 || to == tensor.Uint64 || to == tensor.Int32 || to == tensor.Int64
	case tensor.Uint32:
		return to == tensor.Uint64 || to == tensor.Int64
	}
	return false
}

// fzCancelCast removes a Cast to the dtype its input already has, and the
// second Cast of an exact round trip x(T) → Cast(U) → Cast(T).
func fzCancelCast(g *graph.PassGraph, c *graph.Node) (bool, error) {
	if !fzIs(c, "Cast", 1) || len(c.Outputs) != 1 || c.Has("saturate") && c.Int("saturate", 1) == 0 {
		return false, nil
	}
	to := tensor.DType(c.Int("to", 0))
	x, y := c.Inputs[0], c.Outputs[0]
	dx := fzDType(g, x, 0)
	if to == tensor.Undefined || dx == tensor.Undefined {
		return false, nil
	}
	if dx == to {
		return g.Bypass(y, x), nil
	}
	p := g.Producer(x)
	if !fzIs(p, "Cast", 1) {
		return false, nil
	}
	src := p.Inputs[0]
	if fzDType(g, src, 0) != to || !fzExactWiden(to, dx) {
		return false, nil
	}
	if !g.Bypass(y, src) {
		return false, nil
	}
	g.RemoveDead(p)
	return true, nil
}

// fzNode builds a fused node named after the node it replaces.
func fzNode(op string, last *graph.Node, inputs []string, attrs ...graph.Attr) *graph.Node {
	return &graph.Node{
		Name:    last.Name + "/fused_" + op,
		OpType:  op,
		Domain:  fzDomain,
		Inputs:  inputs,
		Outputs: []string{fzOut(last)},
		Attrs:   attrs,
	}
}

func fzIntAttr(name string, v int64) graph.Attr {
	return graph.Attr{Name: name, Kind: graph.AttrInt, Int: v}
}

func fzFloatAttr(name string, v float32) graph.Attr {
	return graph.Attr{Name: name, Kind: graph.AttrFloat, Float: v}
}

// fzSoftmaxLast reports whether Softmax node sm normalizes the last axis.
func fzSoftmaxLast(g *graph.PassGraph, sm *graph.Node) bool {
	def := int64(-1)
	if g.Opset("") < 13 {
		def = 1
	}
	ax := sm.Int("axis", def)
	if ax == -1 {
		return true
	}
	r, ok := fzRank(g, sm.Inputs[0])
	return ok && ax == int64(r-1)
}

// fzScale is one scalar factor of the attention scores.
type fzScale struct {
	value string
	div   bool
	node  *graph.Node
}

// fzScoreChain walks back from v (the input of the Softmax or of the mask
// Add) over Mul/Div by scalars to the MatMul producing the scores.
func fzScoreChain(g *graph.PassGraph, v string) (*graph.Node, []fzScale) {
	var scales []fzScale
	for i := 0; i < 8; i++ {
		p := g.Producer(v)
		switch {
		case fzIs(p, "MatMul", 2):
			return p, scales
		case fzIs(p, "Mul", 2):
			a, b := p.Inputs[0], p.Inputs[1]
			switch {
			case fzIsScalar(g, b) && !fzIsScalar(g, a):
				scales = append(scales, fzScale{value: b, node: p})
				v = a
			case fzIsScalar(g, a) && !fzIsScalar(g, b):
				scales = append(scales, fzScale{value: a, node: p})
				v = b
			default:
				return nil, nil
			}
		case fzIs(p, "Div", 2) && fzIsScalar(g, p.Inputs[1]) && !fzIsScalar(g, p.Inputs[0]):
			scales = append(scales, fzScale{value: p.Inputs[1], div: true, node: p})
			v = p.Inputs[0]
		default:
			return nil, nil
		}
	}
	return nil, nil
}

// fzScalarMul matches v = Mul(x, scalar) (either side) and returns x and the scalar.
func fzScalarMul(g *graph.PassGraph, v string) (*graph.Node, string, string) {
	p := g.Producer(v)
	if !fzIs(p, "Mul", 2) {
		return nil, "", ""
	}
	a, b := p.Inputs[0], p.Inputs[1]
	switch {
	case fzIsScalar(g, b) && !fzIsScalar(g, a):
		return p, a, b
	case fzIsScalar(g, a) && !fzIsScalar(g, b):
		return p, b, a
	}
	return nil, "", ""
}

// fzSwapLastTwo reports whether Transpose node t swaps exactly its last two axes.
func fzSwapLastTwo(t *graph.Node) bool {
	perm := t.Ints("perm", nil)
	r := len(perm)
	if r < 2 || perm[r-2] != int64(r-1) || perm[r-1] != int64(r-2) {
		return false
	}
	for i := 0; i < r-2; i++ {
		if perm[i] != int64(i) {
			return false
		}
	}
	return true
}

// fzFuseAttention matches the attention core around Softmax node sm.
func fzFuseAttention(g *graph.PassGraph, sm *graph.Node) (bool, error) {
	if !fzIs(sm, "Softmax", 1) || len(sm.Outputs) != 1 || !fzSoftmaxLast(g, sm) {
		return false, nil
	}
	mm2 := fzSole(g, sm.Outputs[0], "MatMul", 2)
	if mm2 == nil || mm2.Inputs[0] != sm.Outputs[0] || mm2.Inputs[1] == sm.Outputs[0] {
		return false, nil
	}
	nodes := []*graph.Node{sm, mm2}
	mask := ""
	mm1, scales := fzScoreChain(g, sm.Inputs[0])
	if mm1 == nil {
		add := g.Producer(sm.Inputs[0])
		if !fzIs(add, "Add", 2) || add.Inputs[0] == add.Inputs[1] {
			return false, nil
		}
		for side := 0; side < 2 && mm1 == nil; side++ {
			mm1, scales = fzScoreChain(g, add.Inputs[side])
			mask = add.Inputs[1-side]
		}
		if mm1 == nil {
			return false, nil
		}
		nodes = append(nodes, add)
	}
	nodes = append(nodes, mm1)
	for _, s := range scales {
		nodes = append(nodes, s.node)
	}
	q, k := mm1.Inputs[0], mm1.Inputs[1]
	if p, x, s := fzScalarMul(g, q); p != nil && g.SoleConsumer(q) == mm1 {
		scales = append(scales, fzScale{value: s})
		nodes = append(nodes, p)
		q = x
	}
	kCons := mm1
	if p, x, s := fzScalarMul(g, k); p != nil && g.SoleConsumer(k) == mm1 {
		scales = append(scales, fzScale{value: s})
		nodes = append(nodes, p)
		kCons, k = p, x
	}
	kT := int64(1)
	// Transpose(K) swapping the last two axes (possibly under the scalar
	// Mul, which commutes with it) is absorbed: K is read transposed.
	if t := g.Producer(k); fzIs(t, "Transpose", 1) && fzSwapLastTwo(t) && g.SoleConsumer(k) == kCons {
		nodes = append(nodes, t)
		k, kT = t.Inputs[0], 0
	}
	// The mask must not broadcast the scores to a larger shape; where the
	// ranks are unknown here the kernel checks the shapes at run time.
	if mask != "" {
		mr, ok1 := fzRank(g, mask)
		sr, ok2 := fzRank(g, mm1.Outputs[0])
		if ok1 && ok2 && mr > sr {
			return false, nil
		}
	}
	inputs := []string{q, k, mm2.Inputs[1], mask}
	var ops []int64
	for _, s := range scales {
		inputs = append(inputs, s.value)
		if s.div {
			ops = append(ops, 1)
		} else {
			ops = append(ops, 0)
		}
	}
	n := fzNode("FusedAttention", mm2, inputs, fzIntAttr("k_transposed", kT),
		graph.Attr{Name: "scale_ops", Kind: graph.AttrInts, Ints: ops})
	if err := g.Replace(nodes, n); err != nil {
		return false, err
	}
	return true, nil
}

// fzLastAxisMean reports whether node r is ReduceMean over the last axis of
// x with keepdims.
func fzLastAxisMean(g *graph.PassGraph, r *graph.Node, x string) bool {
	if r == nil || r.Domain != "" || r.OpType != "ReduceMean" || len(r.Inputs) == 0 || r.Inputs[0] != x || r.Int("keepdims", 1) != 1 {
		return false
	}
	var axes []int64
	if len(r.Inputs) > 1 && r.Inputs[1] != "" {
		c := g.Const(r.Inputs[1])
		if c == nil {
			return false
		}
		axes = c.Int64s()
	} else {
		axes = r.Ints("axes", nil)
	}
	if len(axes) != 1 {
		return false
	}
	if axes[0] == -1 {
		return true
	}
	rk, ok := fzRank(g, x)
	return ok && axes[0] == int64(rk-1)
}

// fzFuseNorm matches decomposed LayerNorm and RMSNorm from their Pow(·, 2).
func fzFuseNorm(g *graph.PassGraph, pw *graph.Node) (bool, error) {
	if !fzIs(pw, "Pow", 2) {
		return false, nil
	}
	if e, ok := fzConstScalar(g, pw.Inputs[1]); !ok || e != 2 {
		return false, nil
	}
	base := pw.Inputs[0]
	rm := g.SoleConsumer(fzOut(pw))
	if !fzLastAxisMean(g, rm, fzOut(pw)) {
		return false, nil
	}
	ad := fzSole(g, fzOut(rm), "Add", 2)
	if ad == nil {
		return false, nil
	}
	eps, ok := fzConstFor(g, fzOther(ad, fzOut(rm)), base)
	if !ok {
		return false, nil
	}
	sq := fzSole(g, fzOut(ad), "Sqrt", 1)
	if sq == nil {
		return false, nil
	}
	nodes := []*graph.Node{pw, rm, ad, sq}
	var x, out string
	var last *graph.Node
	rms := true
	if sub := g.Producer(base); fzIs(sub, "Sub", 2) && sub.Inputs[0] != sub.Inputs[1] && fzLastAxisMean(g, g.Producer(sub.Inputs[1]), sub.Inputs[0]) {
		// LayerNorm: d = x - mean(x); d / sqrt(mean(d²) + eps)
		div := fzSole(g, fzOut(sq), "Div", 2)
		if div == nil || div.Inputs[0] != base || div.Inputs[1] != fzOut(sq) {
			return false, nil
		}
		rms = false
		x = sub.Inputs[0]
		nodes = append(nodes, sub, g.Producer(sub.Inputs[1]), div)
		last = div
	} else {
		x = base
		r := g.SoleConsumer(fzOut(sq))
		switch {
		case fzIs(r, "Div", 2) && r.Inputs[0] == x && r.Inputs[1] == fzOut(sq):
			last = r
			nodes = append(nodes, r)
		case fzIs(r, "Reciprocal", 1) || fzIs(r, "Div", 2) && r.Inputs[1] == fzOut(sq) && func() bool {
			one, ok := fzConstScalar(g, r.Inputs[0])
			return ok && one == 1
		}():
			m := fzSole(g, fzOut(r), "Mul", 2)
			if m == nil || fzOther(m, fzOut(r)) != x {
				return false, nil
			}
			last = m
			nodes = append(nodes, r, m)
		default:
			return false, nil
		}
	}
	out = fzOut(last)
	xr, xRankKnown := fzRank(g, x)
	affine := func(op string) string {
		m := fzSole(g, out, op, 2)
		if m == nil {
			return ""
		}
		p := fzOther(m, out)
		c := g.Const(p)
		if c == nil || c.Kind != tensor.KindTensor || !c.DType().IsFloat() {
			return ""
		}
		s := c.Shape()
		if len(s) > 1 && !(xRankKnown && len(s) <= xr) {
			return ""
		}
		for _, d := range s[:max(0, len(s)-1)] {
			if d != 1 {
				return ""
			}
		}
		nodes = append(nodes, m)
		last, out = m, fzOut(m)
		return p
	}
	scale := affine("Mul")
	bias := ""
	if !rms {
		bias = affine("Add")
	}
	op := "FusedLayerNorm"
	inputs := []string{x, scale, bias}
	if rms {
		op, inputs = "FusedRMSNorm", inputs[:2]
	}
	n := fzNode(op, last, inputs, fzFloatAttr("epsilon", float32(eps)))
	if err := g.Replace(nodes, n); err != nil {
		return false, err
	}
	return true, nil
}

// fzFuseGelu matches x·0.5·(1+Erf(x/√2)) from its Erf node.
func fzFuseGelu(g *graph.PassGraph, erf *graph.Node) (bool, error) {
	if !fzIs(erf, "Erf", 1) {
		return false, nil
	}
	d := g.Producer(erf.Inputs[0])
	var x string
	switch {
	case fzIs(d, "Div", 2):
		if c, ok := fzConstFor(g, d.Inputs[1], d.Inputs[0]); ok && fzNear(c, math.Sqrt2) {
			x = d.Inputs[0]
		}
	case fzIs(d, "Mul", 2):
		for side := 0; side < 2; side++ {
			if c, ok := fzConstFor(g, d.Inputs[side], d.Inputs[1-side]); ok && fzNear(c, 1/math.Sqrt2) {
				x = d.Inputs[1-side]
			}
		}
	}
	if x == "" {
		return false, nil
	}
	add := fzSole(g, fzOut(erf), "Add", 2)
	if add == nil {
		return false, nil
	}
	if c, ok := fzConstFor(g, fzOther(add, fzOut(erf)), x); !ok || c != 1 {
		return false, nil
	}
	isHalfConst := func(v string) bool { c, ok := fzConstFor(g, v, x); return ok && c == 0.5 }
	nodes := []*graph.Node{d, erf, add}
	m1 := fzSole(g, fzOut(add), "Mul", 2)
	if m1 == nil {
		return false, nil
	}
	p := fzOther(m1, fzOut(add))
	var last *graph.Node
	switch {
	case p == x: // (x·(1+erf))·0.5
		m2 := fzSole(g, fzOut(m1), "Mul", 2)
		if m2 == nil || !isHalfConst(fzOther(m2, fzOut(m1))) {
			return false, nil
		}
		nodes, last = append(nodes, m1, m2), m2
	case isHalfConst(p): // (0.5·(1+erf))·x
		m2 := fzSole(g, fzOut(m1), "Mul", 2)
		if m2 == nil || fzOther(m2, fzOut(m1)) != x {
			return false, nil
		}
		nodes, last = append(nodes, m1, m2), m2
	default: // (x·0.5)·(1+erf)
		h := g.Producer(p)
		if !fzIs(h, "Mul", 2) || g.SoleConsumer(p) != m1 {
			return false, nil
		}
		hx := ""
		for side := 0; side < 2; side++ {
			if h.Inputs[side] == x && isHalfConst(h.Inputs[1-side]) {
				hx = x
			}
		}
		if hx == "" {
			return false, nil
		}
		nodes, last = append(nodes, h, m1), m1
	}
	if err := g.Replace(nodes, fzNode("FusedGelu", last, []string{x})); err != nil {
		return false, err
	}
	return true, nil
}

// fzFuseGroupNorm matches the exported GroupNorm around InstanceNormalization node in.
func fzFuseGroupNorm(g *graph.PassGraph, in *graph.Node) (bool, error) {
	if !fzIs(in, "InstanceNormalization", 3) {
		return false, nil
	}
	r1 := g.Producer(in.Inputs[0])
	if !fzIs(r1, "Reshape", 2) || r1.Int("allowzero", 0) != 0 || g.SoleConsumer(fzOut(r1)) != in {
		return false, nil
	}
	shp := g.Const(r1.Inputs[1])
	if shp == nil || shp.Numel() != 3 {
		return false, nil
	}
	sv := shp.Int64s()
	groups := sv[1]
	x := r1.Inputs[0]
	// The batch dim is 0 (copied) or, as torch exports it at batch 1, the
	// literal static batch size of X.
	if xt, ok := g.Type(x); sv[0] != 0 && !(ok && xt.HasShape && len(xt.Shape) > 0 && xt.Shape[0] > 0 && int64(xt.Shape[0]) == sv[0]) {
		return false, nil
	}
	if sv[2] != -1 || groups <= 0 {
		return false, nil
	}
	is, ib := g.Const(in.Inputs[1]), g.Const(in.Inputs[2])
	if is == nil || ib == nil || is.Numel() != int(groups) || ib.Numel() != int(groups) {
		return false, nil
	}
	r2 := fzSole(g, fzOut(in), "Reshape", 2)
	if r2 == nil || r2.Int("allowzero", 0) != 0 {
		return false, nil
	}
	nodes := []*graph.Node{r1, in, r2}
	xt, xKnown := g.Type(x)
	if s := g.Producer(r2.Inputs[1]); fzIs(s, "Shape", 1) && s.Inputs[0] == x && !s.Has("start") && !s.Has("end") && g.SoleConsumer(fzOut(s)) == r2 {
		nodes = append(nodes, s)
	} else if c := g.Const(r2.Inputs[1]); c == nil || !xKnown || !xt.Static() || !tensor.SameShape(shapeInts(c), xt.Shape) {
		return false, nil
	}
	out, last := fzOut(r2), r2
	// Per-channel parameter: [C,1,…,1] or [1,C,1,…,1], or one value. The
	// kernel checks at run time that it lines up with X's channel axis and
	// does not raise X's rank.
	channel := func(op string) string {
		m := fzSole(g, out, op, 2)
		if m == nil {
			return ""
		}
		p := fzOther(m, out)
		c := g.Const(p)
		if c == nil || c.Kind != tensor.KindTensor || !c.DType().IsFloat() {
			return ""
		}
		if _, err := fzChannelShape(c.Shape(), nil); err != nil {
			return ""
		}
		if xKnown && xt.HasShape {
			if _, err := fzChannelShape(c.Shape(), xt.Shape); err != nil {
				return ""
			}
		}
		nodes = append(nodes, m)
		last, out = m, fzOut(m)
		return p
	}
	gamma := channel("Mul")
	beta := ""
	if gamma != "" {
		beta = channel("Add")
	}
	silu := int64(0)
	if sg, m := fzMatchSiLU(g, out); sg != nil {
		nodes = append(nodes, sg, m)
		last, silu = m, 1
	}
	n := fzNode("FusedGroupNorm", last, []string{x, in.Inputs[1], in.Inputs[2], gamma, beta},
		fzIntAttr("groups", groups), fzFloatAttr("epsilon", in.Float("epsilon", 1e-5)), fzIntAttr("silu", silu))
	if err := g.Replace(nodes, n); err != nil {
		return false, err
	}
	return true, nil
}

// fzMatchSiLU matches Sigmoid(y) and Mul(y, sigmoid) being the only readers of y.
func fzMatchSiLU(g *graph.PassGraph, y string) (*graph.Node, *graph.Node) {
	if g.IsOutput(y) {
		return nil, nil
	}
	cs := g.Consumers(y)
	if len(cs) != 2 {
		return nil, nil
	}
	for i := 0; i < 2; i++ {
		sg, m := cs[i], cs[1-i]
		if fzIs(sg, "Sigmoid", 1) && fzIs(m, "Mul", 2) && fzOther(m, y) == fzOut(sg) && g.SoleConsumer(fzOut(sg)) == m {
			return sg, m
		}
	}
	return nil, nil
}

// fzFuseMatMulBias matches MatMul(A, B 2-D) followed by Add of a constant bias.
func fzFuseMatMulBias(g *graph.PassGraph, mm *graph.Node) (bool, error) {
	if !fzIs(mm, "MatMul", 2) {
		return false, nil
	}
	a, b := mm.Inputs[0], mm.Inputs[1]
	bt, ok := g.Type(b)
	if !ok || !bt.HasShape || len(bt.Shape) != 2 || bt.Shape[1] < 0 {
		return false, nil
	}
	add := fzSole(g, fzOut(mm), "Add", 2)
	if add == nil {
		return false, nil
	}
	bias := fzOther(add, fzOut(mm))
	c := g.Const(bias)
	if c == nil || c.Kind != tensor.KindTensor || c.Numel() != bt.Shape[1] || c.Rank() == 0 {
		return false, nil
	}
	if s := c.Shape(); s[len(s)-1] != bt.Shape[1] {
		return false, nil
	}
	// A bias of rank > 1 must not raise the rank of the product ([..., N]).
	if c.Rank() > 1 {
		ar, ok := fzRank(g, a)
		if !ok || ar < c.Rank() {
			return false, nil
		}
	}
	n := fzNode("FusedMatMulBias", add, []string{a, b, bias})
	if err := g.Replace([]*graph.Node{mm, add}, n); err != nil {
		return false, err
	}
	return true, nil
}

// fzFuseConv folds the elementwise ops after a Conv into its epilogue.
func fzFuseConv(g *graph.PassGraph, cv *graph.Node) (bool, error) {
	if cv.Domain != "" || cv.OpType != "Conv" || len(cv.Inputs) < 2 || len(cv.Outputs) != 1 {
		return false, nil
	}
	nodes := []*graph.Node{cv}
	out, last := fzOut(cv), cv
	var steps []string
	var consts []float32
	addend := ""
	for len(steps) < 6 {
		if sg, m := fzMatchSiLU(g, out); sg != nil {
			steps = append(steps, fzEpiSiLU)
			nodes = append(nodes, sg, m)
			out, last = fzOut(m), m
			continue
		}
		c := g.SoleConsumer(out)
		switch {
		case fzIs(c, "Add", 2) && addend == "" && fzOther(c, out) != "":
			addend = fzOther(c, out)
			steps = append(steps, fzEpiAdd)
		case fzIs(c, "Mul", 2) && fzOther(c, out) != "":
			k, ok := fzConstScalar(g, fzOther(c, out))
			if !ok {
				c = nil
				break
			}
			steps, consts = append(steps, fzEpiMul), append(consts, float32(k))
		case fzIs(c, "Div", 2) && c.Inputs[0] == out && c.Inputs[1] != out:
			k, ok := fzConstScalar(g, c.Inputs[1])
			if !ok {
				c = nil
				break
			}
			steps, consts = append(steps, fzEpiDiv), append(consts, float32(k))
		default:
			c = nil
		}
		if c == nil {
			break
		}
		nodes = append(nodes, c)
		out, last = fzOut(c), c
	}
	if len(steps) == 0 {
		return false, nil
	}
	bias := fzIn(cv, 2)
	n := fzNode("FusedConv", last, []string{cv.Inputs[0], cv.Inputs[1], bias, addend})
	for _, a := range cv.Attrs {
		n.Attrs = append(n.Attrs, a)
	}
	n.Attrs = append(n.Attrs, graph.Attr{Name: "epilogue", Kind: graph.AttrStrings, Strs: steps},
		graph.Attr{Name: "consts", Kind: graph.AttrFloats, Floats: consts})
	if err := g.Replace(nodes, n); err != nil {
		return false, err
	}
	return true, nil
}

// qkFuseCastMatMul drops a Cast of a constant 2-D float16 weight to float32
// whose only reader is a MatMul's B input: the MatMul then reads the fp16
// weight itself (kernels.Gemm widens it while packing, kernels.HGemv in
// registers) instead of a float32 copy materialized by the Cast every run
// (constants that large are not folded, see graph.FoldMaxBytes). A MatMul
// followed by an Add is left to fuse-matmul-bias.
func qkFuseCastMatMul(g *graph.PassGraph, c *graph.Node) (bool, error) {
	if !fzIs(c, "Cast", 1) || len(c.Outputs) != 1 || tensor.DType(c.Int("to", 0)) != tensor.Float {
		return false, nil
	}
	w := g.Const(c.Inputs[0])
	if w == nil || w.Kind != tensor.KindTensor || w.DType() != tensor.Float16 || w.Rank() != 2 {
		return false, nil
	}
	mm := fzSole(g, c.Outputs[0], "MatMul", 2)
	if mm == nil || mm.Inputs[1] != c.Outputs[0] || mm.Inputs[0] == c.Outputs[0] || len(mm.Outputs) != 1 {
		return false, nil
	}
	if fzSole(g, mm.Outputs[0], "Add", 2) != nil {
		return false, nil
	}
	if at, ok := g.Type(mm.Inputs[0]); !ok || at.DType != tensor.Float {
		return false, nil
	}
	n := &graph.Node{Name: mm.Name, OpType: "MatMul", Inputs: []string{mm.Inputs[0], c.Inputs[0]}, Outputs: mm.Outputs, Attrs: mm.Attrs}
	if err := g.Replace([]*graph.Node{c, mm}, n); err != nil {
		return false, err
	}
	return true, nil
}
