package main

import (
	"fmt"
	"math"
	"strings"

	"github.com/txt2img/engine/onnx"
	"github.com/txt2img/engine/tensor"
)

// rule says how one initializer is filled.
type rule struct {
	kind   string  // matrix, conv, embedding, norm-scale, bias, bn-mean, bn-var, nbits-weight, nbits-scale, nbits-zero-point, fallback
	why    string  // the consumer that decided it, for -v
	center float64 // float rules: uniform in center ± half
	half   float64
	random bool // byte rules: uniform random bytes
	fill   byte // byte rules: this constant byte (when !random)
	bytes  bool // the rule produces raw bytes, not float values
}

func uniform(kind, why string, center, half float64) rule {
	return rule{kind: kind, why: why, center: center, half: half}
}

// use is one read of a value: input idx of node n, with the shape the node
// sees (after transparent ops such as Cast or Transpose).
type use struct {
	n     *onnx.NodeProto
	idx   int
	shape []int
}

type graphIndex struct {
	consumers map[string][]use // shape unset
	producer  map[string]*onnx.NodeProto
}

func indexGraph(g *onnx.GraphProto) *graphIndex {
	ix := &graphIndex{consumers: map[string][]use{}, producer: map[string]*onnx.NodeProto{}}
	for _, n := range g.Nodes {
		for i, in := range n.Inputs {
			if in != "" {
				ix.consumers[in] = append(ix.consumers[in], use{n: n, idx: i})
			}
		}
		for _, out := range n.Outputs {
			ix.producer[out] = n
		}
	}
	return ix
}

func attrInt(n *onnx.NodeProto, name string, def int64) int64 {
	for _, a := range n.Attributes {
		if a.Name == name {
			return a.I
		}
	}
	return def
}

func attrInts(n *onnx.NodeProto, name string) []int64 {
	for _, a := range n.Attributes {
		if a.Name == name {
			return a.Ints
		}
	}
	return nil
}

// uses returns the reads of name, looking through Cast, Identity and
// Transpose (whose perm is applied to the shape).
func (ix *graphIndex) uses(name string, shape []int, depth int) []use {
	var out []use
	for _, u := range ix.consumers[name] {
		switch {
		case u.n.Domain == "" && (u.n.OpType == "Cast" || u.n.OpType == "Identity") && depth < 4 && len(u.n.Outputs) > 0:
			out = append(out, ix.uses(u.n.Outputs[0], shape, depth+1)...)
		case u.n.Domain == "" && u.n.OpType == "Transpose" && depth < 4 && len(u.n.Outputs) > 0:
			perm := attrInts(u.n, "perm")
			ts := make([]int, len(shape))
			for i := range shape {
				src := len(shape) - 1 - i
				if len(perm) == len(shape) {
					src = int(perm[i])
				}
				if src < 0 || src >= len(shape) {
					ts = shape
					break
				}
				ts[i] = shape[src]
			}
			out = append(out, ix.uses(u.n.Outputs[0], ts, depth+1)...)
		default:
			out = append(out, use{n: u.n, idx: u.idx, shape: shape})
		}
	}
	return out
}

// fromNormalization reports whether value is the output of a normalization
// (possibly decomposed, possibly behind Reshape/Cast): a Mul by a per-channel
// initializer there is a norm scale.
func (ix *graphIndex) fromNormalization(value string, depth int) bool {
	p := ix.producer[value]
	if p == nil || depth > 4 {
		return false
	}
	switch p.OpType {
	case "InstanceNormalization", "LayerNormalization", "GroupNormalization", "BatchNormalization",
		"SimplifiedLayerNormalization", "GroupNorm", "SkipLayerNormalization", "SkipSimplifiedLayerNormalization":
		return true
	case "Reshape", "Cast", "Identity", "Unsqueeze", "Squeeze":
		return len(p.Inputs) > 0 && ix.fromNormalization(p.Inputs[0], depth+1)
	case "Div": // (x - mean) / sqrt(var + eps)
		return len(p.Inputs) > 1 && ix.producedBy(p.Inputs[1], "Sqrt", 2)
	case "Mul": // x * rsqrt(…) or x * (1 / sqrt(…))
		for _, in := range p.Inputs {
			if ix.producedBy(in, "Reciprocal", 2) || ix.producedBy(in, "Div", 2) && ix.producer[in] != nil &&
				len(ix.producer[in].Inputs) > 1 && ix.producedBy(ix.producer[in].Inputs[1], "Sqrt", 2) {
				return true
			}
		}
	}
	return false
}

// producedBy reports whether value comes from op, looking through Cast.
func (ix *graphIndex) producedBy(value, op string, depth int) bool {
	p := ix.producer[value]
	for p != nil && p.OpType == "Cast" && depth > 0 && len(p.Inputs) > 0 {
		p, depth = ix.producer[p.Inputs[0]], depth-1
	}
	return p != nil && p.OpType == op
}

// perChannel reports whether a shape has at most one dimension above 1
// ([C], [C,1,1], [1,C]).
func perChannel(shape []int) bool {
	big := 0
	for _, d := range shape {
		if d > 1 {
			big++
		}
	}
	return big <= 1
}

func prod(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

func fanIn(kind, why string, k int) (rule, bool) {
	if k <= 0 {
		return rule{}, false
	}
	return uniform(kind, fmt.Sprintf("%s, fan_in %d", why, k), 0, 1/math.Sqrt(float64(k))), true
}

// ruleFromUse decides a rule from one consumer, if that consumer tells.
func ruleFromUse(ix *graphIndex, u use) (rule, bool) {
	op, s := u.n.OpType, u.shape
	why := fmt.Sprintf("%s input %d", op, u.idx)
	if u.n.Domain != "" && u.n.Domain != "ai.onnx" {
		why = u.n.Domain + "." + why
	}
	r := len(s)
	bias := uniform("bias", why, 0, 0.02)
	norm := uniform("norm-scale", why, 1, 0.1)
	switch op {
	case "MatMulNBits":
		bits := attrInt(u.n, "bits", 4)
		k := attrInt(u.n, "K", 0)
		switch u.idx {
		case 1:
			return rule{kind: "nbits-weight", why: why, random: true, bytes: true}, true
		case 2:
			if k <= 0 || bits <= 0 || bits > 8 {
				return rule{}, false
			}
			s0 := 1 / (float64(int64(1)<<(bits-1)) * math.Sqrt(float64(k)))
			return uniform("nbits-scale", fmt.Sprintf("%s, K %d", why, k), s0, 0.1*s0), true
		case 3:
			if bits != 2 && bits != 4 && bits != 8 {
				return rule{}, false
			}
			var b byte // the middle value 2^(bits-1) in every field of a byte
			for sh := int64(0); sh < 8; sh += bits {
				b |= byte(1<<(bits-1)) << sh
			}
			return rule{kind: "nbits-zero-point", why: why, fill: b, bytes: true, center: float64(int64(1) << (bits - 1))}, true
		case 5:
			return bias, true
		}
	case "MatMul", "FusedMatMul", "MatMulInteger":
		switch {
		case u.idx == 1 && r >= 2:
			return fanIn("matrix", why, s[r-2])
		case u.idx == 1 && r == 1, u.idx == 0 && r >= 1:
			return fanIn("matrix", why, s[r-1])
		}
	case "Gemm":
		if r != 2 {
			break
		}
		switch u.idx {
		case 0:
			if attrInt(u.n, "transA", 0) != 0 {
				return fanIn("matrix", why+" (transA)", s[0])
			}
			return fanIn("matrix", why, s[1])
		case 1:
			if attrInt(u.n, "transB", 0) != 0 {
				return fanIn("matrix", why+" (transB)", s[1])
			}
			return fanIn("matrix", why, s[0])
		case 2:
			return bias, true
		}
	case "Conv", "ConvTranspose", "NhwcConv", "FusedConv", "ConvInteger":
		// Conv [O, I/g, kh, kw] and NhwcConv [O, kh, kw, I/g] both give I/g·kh·kw.
		switch {
		case u.idx == 1 && r >= 2:
			return fanIn("conv", why, prod(s[1:]))
		case u.idx == 2:
			return bias, true
		}
	case "Attention": // com.microsoft: weights [hidden, 3·hidden], bias
		switch {
		case u.idx == 1 && r == 2:
			return fanIn("matrix", why, s[0])
		case u.idx == 2:
			return bias, true
		}
	case "Gather", "GatherElements", "GatherND":
		if u.idx == 0 {
			return uniform("embedding", why, 0, 0.5), true
		}
	case "LayerNormalization", "SimplifiedLayerNormalization", "InstanceNormalization", "GroupNormalization", "GroupNorm":
		switch u.idx {
		case 1:
			return norm, true
		case 2:
			return bias, true
		}
	case "SkipLayerNormalization", "SkipSimplifiedLayerNormalization": // input, skip, gamma, beta, bias
		switch u.idx {
		case 2:
			return norm, true
		case 3, 4:
			return bias, true
		}
	case "SkipGroupNorm": // X, gamma, beta, skip, bias
		switch u.idx {
		case 1:
			return norm, true
		case 2, 3, 4:
			return bias, true
		}
	case "BatchNormalization":
		switch u.idx {
		case 1:
			return norm, true
		case 2:
			return bias, true
		case 3:
			return uniform("bn-mean", why, 0, 0.02), true
		case 4:
			return uniform("bn-var", why, 1, 0.1), true
		}
	case "BiasGelu", "FastGelu", "BiasSplitGelu", "BiasAdd", "BiasDropout":
		if u.idx == 1 {
			return bias, true
		}
	case "MultiHeadAttention", "GroupQueryAttention":
		if u.idx == 3 {
			return bias, true
		}
	case "Mul":
		if perChannel(s) && len(u.n.Inputs) == 2 && ix.fromNormalization(u.n.Inputs[1-u.idx], 0) {
			return uniform("norm-scale", why+" after a normalization", 1, 0.1), true
		}
	}
	return rule{}, false
}

// classify picks a rule for every external initializer.
func classify(p *plan) error {
	ix := indexGraph(p.model.Graph)
	for _, e := range p.entries {
		r, err := chooseRule(ix, e)
		if err != nil {
			return err
		}
		e.rule = r
	}
	return nil
}

func chooseRule(ix *graphIndex, e *entry) (rule, error) {
	uses := ix.uses(e.name, e.shape, 0)
	if e.dt.IsInt() || e.dt == tensor.Bool {
		// Only the packed 4-bit blobs and zero points of MatMulNBits are
		// integer data with a meaning fillweights knows.
		if e.dt == tensor.Uint8 {
			for _, u := range uses {
				if u.n.OpType == "MatMulNBits" && (u.idx == 1 || u.idx == 3) {
					if r, ok := ruleFromUse(ix, u); ok {
						return r, nil
					}
				}
			}
		}
		return rule{}, fmt.Errorf("fillweights: external %s initializer %q%v (read by %s): no rule for random integer data; "+
			"integer initializers (indices, shapes) must stay inline", e.dt, e.name, e.shape, describeUses(uses))
	}
	if !e.dt.IsFloat() || e.dt.Bits() < 16 {
		return rule{}, fmt.Errorf("fillweights: initializer %q: dtype %s is not supported (float32, float16, bfloat16, float64, and uint8 for MatMulNBits)", e.name, e.dt)
	}
	for _, u := range uses {
		r, ok := ruleFromUse(ix, u)
		switch {
		case ok && !r.bytes:
			return r, nil
		case ok && r.kind == "nbits-zero-point": // float zero points: the middle value
			return uniform(r.kind, r.why, r.center, 0), nil
		}
	}
	lname := strings.ToLower(e.name)
	if perChannel(e.shape) {
		switch {
		case strings.Contains(lname, "gamma"),
			strings.Contains(lname, "norm") && (strings.HasSuffix(lname, "weight") || strings.HasSuffix(lname, "scale")):
			return uniform("norm-scale", "name "+e.name, 1, 0.1), nil
		case strings.Contains(lname, "beta"), strings.HasSuffix(lname, "bias"):
			return uniform("bias", "name "+e.name, 0, 0.02), nil
		}
		for _, u := range uses {
			if u.n.OpType == "Add" || u.n.OpType == "Sub" {
				return uniform("bias", fmt.Sprintf("%s input %d", u.n.OpType, u.idx), 0, 0.02), nil
			}
		}
		return uniform("fallback", "per-channel, read by "+describeUses(uses), 0, 0.02), nil
	}
	k := e.shape[len(e.shape)-1]
	if k <= 0 {
		k = 1
	}
	return uniform("fallback", fmt.Sprintf("read by %s, fan_in = last dim %d", describeUses(uses), k), 0, 1/math.Sqrt(float64(k))), nil
}

func describeUses(uses []use) string {
	if len(uses) == 0 {
		return "no node"
	}
	var parts []string
	for i, u := range uses {
		if i == 3 {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, fmt.Sprintf("%s#%d", u.n.OpType, u.idx))
	}
	return strings.Join(parts, ", ")
}
