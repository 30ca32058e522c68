package graph

import (
	"sync"

	"github.com/txt2img/engine/tensor"
)

// ShapeFunc infers a node's output types from its input types. consts holds
// the value of each input that is a compile-time constant (nil otherwise), so
// shape-carrying inputs (Reshape's shape, Slice's starts …) can be read.
// Unknown dims are -1; a func returns ok=false when it cannot say anything.
type ShapeFunc func(n *Node, in []ValueType, consts []*tensor.Tensor) (out []ValueType, ok bool)

var (
	shapeMu    sync.RWMutex
	shapeFuncs = map[string]ShapeFunc{}
)

// RegisterShape sets the shape function of an op (any opset).
func RegisterShape(domain, op string, f ShapeFunc) {
	shapeMu.Lock()
	shapeFuncs[regKey(domain, op)] = f
	shapeMu.Unlock()
}

func lookupShape(domain, op string) ShapeFunc {
	shapeMu.RLock()
	defer shapeMu.RUnlock()
	return shapeFuncs[regKey(domain, op)]
}

// Static reports whether t is a tensor type with every dim known.
func (t ValueType) Static() bool {
	if t.Kind != tensor.KindTensor || !t.HasShape {
		return false
	}
	for _, d := range t.Shape {
		if d < 0 {
			return false
		}
	}
	return true
}

// TensorType builds a fully known tensor type.
func TensorType(dt tensor.DType, shape ...int) ValueType {
	return ValueType{Kind: tensor.KindTensor, DType: dt, HasShape: true, Shape: append([]int{}, shape...)}
}

// inferShapes propagates types from the graph inputs (specialised by
// Options.InputShapes), initializers and folded constants through the
// compiled nodes in order. The result is kept in s.types, by value id.
func (s *Session) inferShapes() {
	s.types = make([]ValueType, len(s.names))
	known := make([]bool, len(s.names))
	for id, c := range s.consts {
		if c != nil {
			s.types[id] = valueTypeOf(c)
			known[id] = true
		}
	}
	for i, id := range s.inIDs {
		if s.consts[id] != nil {
			continue
		}
		vt := s.g.Inputs[i].Type
		if shp, ok := s.opts.InputShapes[s.names[id]]; ok {
			vt.HasShape = true
			vt.Shape = append([]int(nil), shp...)
		}
		s.types[id] = vt
		known[id] = true
	}
	for _, cn := range s.nodes {
		f := lookupShape(cn.n.Domain, cn.n.OpType)
		if f == nil {
			continue
		}
		in := make([]ValueType, len(cn.in))
		consts := make([]*tensor.Tensor, len(cn.in))
		for i, id := range cn.in {
			if id < 0 {
				continue
			}
			in[i] = s.types[id]
			consts[i] = s.consts[id]
		}
		out, ok := safeShape(f, cn.n, in, consts)
		if !ok {
			continue
		}
		for i, id := range cn.out {
			if id >= 0 && i < len(out) {
				s.types[id] = out[i]
				known[id] = true
			}
		}
	}
}

func safeShape(f ShapeFunc, n *Node, in []ValueType, consts []*tensor.Tensor) (out []ValueType, ok bool) {
	defer func() {
		if recover() != nil {
			out, ok = nil, false
		}
	}()
	return f(n, in, consts)
}

func valueTypeOf(t *tensor.Tensor) ValueType {
	if t.Kind != tensor.KindTensor {
		return ValueType{Kind: t.Kind, DType: t.DType()}
	}
	return TensorType(t.DType(), t.Shape()...)
}

// ValueType returns the inferred type of a value (ok=false if never inferred).
func (s *Session) ValueType(name string) (ValueType, bool) {
	id, ok := s.ids[name]
	if !ok || s.types == nil {
		return ValueType{}, false
	}
	t := s.types[id]
	return t, t.Kind != tensor.KindTensor || t.DType != tensor.Undefined || t.HasShape
}

// foldShapes replaces Shape and Size nodes whose input has a fully static
// inferred shape with constants, so the shape arithmetic that exporters emit
// (Shape → Gather → Unsqueeze → Concat → Reshape) folds away.
func (s *Session) foldShapes() bool {
	changed := false
	kept := s.nodes[:0]
	for _, cn := range s.nodes {
		if cn.n.Domain != "" || (cn.n.OpType != "Shape" && cn.n.OpType != "Size") || len(cn.in) == 0 || cn.in[0] < 0 || len(cn.out) == 0 || cn.out[0] < 0 {
			kept = append(kept, cn)
			continue
		}
		t := s.types[cn.in[0]]
		if !t.Static() {
			kept = append(kept, cn)
			continue
		}
		var v *tensor.Tensor
		if cn.n.OpType == "Size" {
			v = tensor.ScalarI64(int64(tensor.Numel(t.Shape)))
		} else {
			r := len(t.Shape)
			start, end := int(cn.n.Int("start", 0)), int(cn.n.Int("end", int64(r)))
			start, end = clampAxis(start, r), clampAxis(end, r)
			dims := []int64{}
			for i := start; i < end; i++ {
				dims = append(dims, int64(t.Shape[i]))
			}
			v = tensor.FromSlice(tensor.Int64, []int{len(dims)}, dims)
		}
		s.consts[cn.out[0]] = v
		s.types[cn.out[0]] = valueTypeOf(v)
		changed = true
	}
	s.nodes = kept
	return changed
}

func clampAxis(a, r int) int {
	if a < 0 {
		a += r
	}
	if a < 0 {
		return 0
	}
	if a > r {
		return r
	}
	return a
}
