package graph

import (
	"fmt"

	"github.com/txt2img/engine/tensor"
)

// Graph is a dataflow graph of Nodes over named values.
type Graph struct {
	Name         string
	Nodes        []*Node
	Inputs       []ValueInfo
	Outputs      []ValueInfo
	Initializers map[string]*tensor.Tensor
	ValueInfo    map[string]ValueInfo
	// Opsets maps an operator domain ("" for ai.onnx) to its version.
	Opsets map[string]int
}

// ValueType describes a value: a tensor (dtype + shape), a sequence or an optional.
type ValueType struct {
	Kind     tensor.Kind
	DType    tensor.DType
	HasShape bool
	Shape    []int    // -1 for an unknown dim
	Params   []string // symbolic names of unknown dims, where the file gave one
	Elem     *ValueType
}

// ValueInfo names a value and its type.
type ValueInfo struct {
	Name string
	Type ValueType
}

// Node is one operation.
type Node struct {
	Name    string
	OpType  string
	Domain  string   // "" means ai.onnx
	Inputs  []string // "" marks an omitted optional input
	Outputs []string
	Attrs   []Attr
}

// AttrKind says which field of an Attr is set.
type AttrKind uint8

const (
	AttrFloat AttrKind = iota + 1
	AttrInt
	AttrString
	AttrTensor
	AttrGraph
	AttrFloats
	AttrInts
	AttrStrings
	AttrTensors
	AttrGraphs
	AttrType
	AttrTypes
)

// Attr is a typed node attribute.
type Attr struct {
	Name    string
	Kind    AttrKind
	Float   float32
	Int     int64
	Str     string
	Tensor  *tensor.Tensor
	Graph   *Graph
	Floats  []float32
	Ints    []int64
	Strs    []string
	Tensors []*tensor.Tensor
	Graphs  []*Graph
	Type    *ValueType
	Types   []ValueType
}

func (n *Node) String() string {
	d := n.Domain
	if d != "" {
		d += "."
	}
	return fmt.Sprintf("node %q (%s%s)", n.Name, d, n.OpType)
}

// Attr returns the attribute called name, or nil.
func (n *Node) Attr(name string) *Attr {
	for i := range n.Attrs {
		if n.Attrs[i].Name == name {
			return &n.Attrs[i]
		}
	}
	return nil
}

// Has reports whether the attribute is present.
func (n *Node) Has(name string) bool { return n.Attr(name) != nil }

// Int returns an int attribute or def.
func (n *Node) Int(name string, def int64) int64 {
	if a := n.Attr(name); a != nil && a.Kind == AttrInt {
		return a.Int
	}
	return def
}

// Float returns a float attribute or def.
func (n *Node) Float(name string, def float32) float32 {
	if a := n.Attr(name); a != nil {
		switch a.Kind {
		case AttrFloat:
			return a.Float
		case AttrInt:
			return float32(a.Int)
		}
	}
	return def
}

// Str returns a string attribute or def.
func (n *Node) Str(name, def string) string {
	if a := n.Attr(name); a != nil && a.Kind == AttrString {
		return a.Str
	}
	return def
}

// Ints returns an ints attribute or def.
func (n *Node) Ints(name string, def []int64) []int64 {
	if a := n.Attr(name); a != nil {
		switch a.Kind {
		case AttrInts:
			return a.Ints
		case AttrInt:
			return []int64{a.Int}
		}
	}
	return def
}

// Floats returns a floats attribute or def.
func (n *Node) Floats(name string, def []float32) []float32 {
	if a := n.Attr(name); a != nil && a.Kind == AttrFloats {
		return a.Floats
	}
	return def
}

// Strs returns a strings attribute or def.
func (n *Node) Strs(name string, def []string) []string {
	if a := n.Attr(name); a != nil && a.Kind == AttrStrings {
		return a.Strs
	}
	return def
}

// TensorAttr returns a tensor attribute or nil.
func (n *Node) TensorAttr(name string) *tensor.Tensor {
	if a := n.Attr(name); a != nil && a.Kind == AttrTensor {
		return a.Tensor
	}
	return nil
}

// GraphAttr returns a graph attribute or nil.
func (n *Node) GraphAttr(name string) *Graph {
	if a := n.Attr(name); a != nil && a.Kind == AttrGraph {
		return a.Graph
	}
	return nil
}

// Subgraphs lists every graph held in the node's attributes.
func (n *Node) Subgraphs() []*Graph {
	var gs []*Graph
	for _, a := range n.Attrs {
		if a.Graph != nil {
			gs = append(gs, a.Graph)
		}
		gs = append(gs, a.Graphs...)
	}
	return gs
}

// Opset returns the version of domain imported by g (0 if absent).
func (g *Graph) Opset(domain string) int {
	if domain == "ai.onnx" {
		domain = ""
	}
	return g.Opsets[domain]
}
