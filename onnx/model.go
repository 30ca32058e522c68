package onnx

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/tensor"
)

// Model is a loaded ONNX model: the decoded protobuf, the graph built from it
// and the mappings that back its initializers. Close unmaps the files; the
// graph's initializers must not be used afterwards.
type Model struct {
	Proto *ModelProto
	Graph *graph.Graph
	Dir   string

	unmap func() error
	res   *mmapResolver
}

// Load maps the model file read-only and decodes it. Initializers are views of
// the mapping (or of mapped external-data files) in their stored dtype.
func Load(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	b, unmap, err := mapFile(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("onnx: map %s: %w", path, err)
	}
	m, err := decodeAndImport(b, filepath.Dir(path))
	if err != nil {
		unmap()
		return nil, err
	}
	m.unmap = unmap
	return m, nil
}

// LoadBytes decodes a model held in memory. dir resolves external data
// ("" refuses it). b must stay unchanged while the model is in use.
func LoadBytes(b []byte, dir string) (*Model, error) {
	return decodeAndImport(b, dir)
}

func decodeAndImport(b []byte, dir string) (*Model, error) {
	p, err := DecodeModel(b)
	if err != nil {
		return nil, err
	}
	res := newMmapResolver(dir)
	g, err := Import(p, res)
	if err != nil {
		res.Close()
		return nil, err
	}
	return &Model{Proto: p, Graph: g, Dir: dir, res: res}, nil
}

// Close releases the file mappings.
func (m *Model) Close() error {
	var err error
	if m.res != nil {
		err = m.res.Close()
		m.res = nil
	}
	if m.unmap != nil {
		if e := m.unmap(); e != nil && err == nil {
			err = e
		}
		m.unmap = nil
	}
	return err
}

// Import builds a graph.Graph from a decoded model.
func Import(p *ModelProto, res DataResolver) (*graph.Graph, error) {
	if p.Graph == nil {
		return nil, &FormatError{Msg: "model has no graph"}
	}
	opsets := map[string]int{}
	for _, o := range p.OpsetImport {
		d := o.Domain
		if d == "ai.onnx" {
			d = ""
		}
		opsets[d] = int(o.Version)
	}
	if _, ok := opsets[""]; !ok && p.IRVersion < 3 {
		opsets[""] = 1
	}
	im := &importer{res: res, funcs: map[string]*FunctionProto{}}
	for _, f := range p.Functions {
		im.funcs[f.Domain+"\x00"+f.Name] = f
	}
	return im.graph(p.Graph, opsets, 0)
}

type importer struct {
	res   DataResolver
	funcs map[string]*FunctionProto
	uniq  int
}

func (im *importer) graph(gp *GraphProto, opsets map[string]int, depth int) (*graph.Graph, error) {
	if depth > maxDepth {
		return nil, &FormatError{Msg: "subgraphs nested too deeply"}
	}
	g := &graph.Graph{
		Name:         gp.Name,
		Initializers: map[string]*tensor.Tensor{},
		ValueInfo:    map[string]graph.ValueInfo{},
		Opsets:       opsets,
	}
	for _, ip := range gp.Initializers {
		t, err := TensorFromProto(ip, im.res)
		if err != nil {
			return nil, fmt.Errorf("onnx: initializer %q: %w", ip.Name, err)
		}
		g.Initializers[ip.Name] = t
	}
	for _, sp := range gp.Sparse {
		t, err := sparseToDense(sp, im.res)
		if err != nil {
			return nil, err
		}
		if sp.Values != nil {
			g.Initializers[sp.Values.Name] = t
		}
	}
	for _, v := range gp.Inputs {
		g.Inputs = append(g.Inputs, valueInfo(v))
	}
	for _, v := range gp.Outputs {
		g.Outputs = append(g.Outputs, valueInfo(v))
	}
	for _, v := range gp.ValueInfo {
		g.ValueInfo[v.Name] = valueInfo(v)
	}
	for _, np := range gp.Nodes {
		nodes, err := im.node(np, opsets, depth)
		if err != nil {
			return nil, err
		}
		g.Nodes = append(g.Nodes, nodes...)
	}
	return g, nil
}

func (im *importer) node(np *NodeProto, opsets map[string]int, depth int) ([]*graph.Node, error) {
	if np == nil {
		return nil, &FormatError{Msg: "nil node"}
	}
	if f, ok := im.funcs[np.Domain+"\x00"+np.OpType]; ok {
		return im.inlineFunction(np, f, opsets, depth)
	}
	n := &graph.Node{Name: np.Name, OpType: np.OpType, Domain: np.Domain, Inputs: np.Inputs, Outputs: np.Outputs}
	if n.Domain == "ai.onnx" {
		n.Domain = ""
	}
	for _, ap := range np.Attributes {
		a, err := im.attr(ap, opsets, depth)
		if err != nil {
			return nil, fmt.Errorf("onnx: node %q (%s): attribute %q: %w", np.Name, np.OpType, ap.Name, err)
		}
		n.Attrs = append(n.Attrs, a)
	}
	return []*graph.Node{n}, nil
}

func (im *importer) attr(ap *AttributeProto, opsets map[string]int, depth int) (graph.Attr, error) {
	a := graph.Attr{Name: ap.Name}
	typ := ap.Type
	if typ == AttrUndefined { // old files: infer from the set field
		switch {
		case ap.T != nil:
			typ = AttrTensor
		case ap.G != nil:
			typ = AttrGraph
		case len(ap.Floats) > 0:
			typ = AttrFloats
		case len(ap.Ints) > 0:
			typ = AttrInts
		case len(ap.Strings) > 0:
			typ = AttrStrings
		case ap.S != nil:
			typ = AttrString
		case ap.F != 0:
			typ = AttrFloat
		default:
			typ = AttrInt
		}
	}
	var err error
	switch typ {
	case AttrFloat:
		a.Kind, a.Float = graph.AttrFloat, ap.F
	case AttrInt:
		a.Kind, a.Int = graph.AttrInt, ap.I
	case AttrString:
		a.Kind, a.Str = graph.AttrString, string(ap.S)
	case AttrTensor:
		a.Kind = graph.AttrTensor
		if ap.T == nil {
			return a, &FormatError{Msg: "tensor attribute without a tensor"}
		}
		a.Tensor, err = TensorFromProto(ap.T, im.res)
	case AttrSparseTensor:
		a.Kind = graph.AttrTensor
		if ap.SparseTensor == nil {
			return a, &FormatError{Msg: "sparse tensor attribute without a tensor"}
		}
		a.Tensor, err = sparseToDense(ap.SparseTensor, im.res)
	case AttrGraph:
		a.Kind = graph.AttrGraph
		if ap.G == nil {
			return a, &FormatError{Msg: "graph attribute without a graph"}
		}
		a.Graph, err = im.graph(ap.G, opsets, depth+1)
	case AttrFloats:
		a.Kind, a.Floats = graph.AttrFloats, ap.Floats
	case AttrInts:
		a.Kind, a.Ints = graph.AttrInts, ap.Ints
	case AttrStrings:
		a.Kind = graph.AttrStrings
		for _, s := range ap.Strings {
			a.Strs = append(a.Strs, string(s))
		}
	case AttrTensors:
		a.Kind = graph.AttrTensors
		for _, tp := range ap.Tensors {
			t, e := TensorFromProto(tp, im.res)
			if e != nil {
				return a, e
			}
			a.Tensors = append(a.Tensors, t)
		}
	case AttrGraphs:
		a.Kind = graph.AttrGraphs
		for _, gp := range ap.Graphs {
			g, e := im.graph(gp, opsets, depth+1)
			if e != nil {
				return a, e
			}
			a.Graphs = append(a.Graphs, g)
		}
	case AttrTypeProto:
		a.Kind = graph.AttrType
		if ap.TP != nil {
			vt := valueType(ap.TP)
			a.Type = &vt
		}
	case AttrTypeProtos:
		a.Kind = graph.AttrTypes
		for _, tp := range ap.TypeProtos {
			a.Types = append(a.Types, valueType(tp))
		}
	default:
		return a, &UnsupportedError{Msg: fmt.Sprintf("attribute type %d", typ)}
	}
	return a, err
}

func valueInfo(v *ValueInfoProto) graph.ValueInfo {
	vi := graph.ValueInfo{Name: v.Name}
	if v.Type != nil {
		vi.Type = valueType(v.Type)
	}
	return vi
}

func valueType(tp *TypeProto) graph.ValueType {
	var vt graph.ValueType
	if tp == nil {
		return vt
	}
	switch tp.Kind {
	case TypeSequence, TypeOptional:
		vt.Kind = tensor.KindSequence
		if tp.Kind == TypeOptional {
			vt.Kind = tensor.KindOptional
		}
		if tp.Elem != nil {
			e := valueType(tp.Elem)
			vt.Elem = &e
			vt.DType = e.DType
		}
	default:
		vt.Kind = tensor.KindTensor
		vt.DType = tensor.DType(tp.ElemType)
		vt.HasShape = tp.HasShape
		for _, d := range tp.Shape {
			if d.HasValue {
				vt.Shape = append(vt.Shape, int(d.Value))
			} else {
				vt.Shape = append(vt.Shape, -1)
			}
			vt.Params = append(vt.Params, d.Param)
		}
	}
	return vt
}

func sparseToDense(sp *SparseTensorProto, res DataResolver) (*tensor.Tensor, error) {
	if sp.Values == nil || sp.Indices == nil {
		return nil, &FormatError{Msg: "sparse tensor without values or indices"}
	}
	vals, err := TensorFromProto(sp.Values, res)
	if err != nil {
		return nil, err
	}
	idx, err := TensorFromProto(sp.Indices, res)
	if err != nil {
		return nil, err
	}
	shape := make([]int, len(sp.Dims))
	n := int64(1)
	for i, d := range sp.Dims {
		if d < 0 || (d != 0 && n > maxElems/d) {
			return nil, &FormatError{Msg: "bad sparse dims"}
		}
		n *= d
		shape[i] = int(d)
	}
	out := tensor.New(vals.DType(), shape...)
	ix := idx.Int64s()
	nv := vals.Numel()
	sz := vals.DType().Size()
	strides := tensor.Strides(shape)
	for i := 0; i < nv; i++ {
		var lin int64
		if idx.Rank() == 1 {
			lin = ix[i]
		} else {
			for d := range shape {
				lin += ix[i*len(shape)+d] * int64(strides[d])
			}
		}
		if lin < 0 || lin >= n {
			return nil, &FormatError{Msg: "sparse index out of range"}
		}
		copy(out.Bytes()[int(lin)*sz:], vals.Bytes()[i*sz:(i+1)*sz])
	}
	return out, nil
}

// inlineFunction expands a call to a model-local function into its body,
// renaming internal values and substituting attribute references.
func (im *importer) inlineFunction(call *NodeProto, f *FunctionProto, opsets map[string]int, depth int) ([]*graph.Node, error) {
	if depth > maxDepth {
		return nil, &FormatError{Msg: "functions nested too deeply"}
	}
	im.uniq++
	prefix := fmt.Sprintf("%s__%s_%d/", call.Name, f.Name, im.uniq)
	rename := map[string]string{}
	for i, in := range f.Inputs {
		if i < len(call.Inputs) {
			rename[in] = call.Inputs[i]
		} else {
			rename[in] = ""
		}
	}
	for i, out := range f.Outputs {
		if i < len(call.Outputs) {
			rename[out] = call.Outputs[i]
		}
	}
	name := func(s string) string {
		if s == "" {
			return ""
		}
		if r, ok := rename[s]; ok {
			return r
		}
		return prefix + s
	}
	callAttrs := map[string]*AttributeProto{}
	for _, a := range f.AttrProtos {
		callAttrs[a.Name] = a // defaults
	}
	for _, a := range call.Attributes {
		callAttrs[a.Name] = a
	}
	fopsets := map[string]int{}
	for k, v := range opsets {
		fopsets[k] = v
	}
	for _, o := range f.OpsetImport {
		d := o.Domain
		if d == "ai.onnx" {
			d = ""
		}
		fopsets[d] = int(o.Version)
	}
	var out []*graph.Node
	for _, np := range f.Nodes {
		c := *np
		c.Name = prefix + np.Name
		c.Inputs = make([]string, len(np.Inputs))
		for i, s := range np.Inputs {
			c.Inputs[i] = name(s)
		}
		c.Outputs = make([]string, len(np.Outputs))
		for i, s := range np.Outputs {
			c.Outputs[i] = name(s)
		}
		c.Attributes = nil
		for _, a := range np.Attributes {
			if a.RefAttrName != "" {
				ref, ok := callAttrs[a.RefAttrName]
				if !ok {
					continue
				}
				cp := *ref
				cp.Name = a.Name
				c.Attributes = append(c.Attributes, &cp)
				continue
			}
			c.Attributes = append(c.Attributes, a)
		}
		nodes, err := im.node(&c, fopsets, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, nodes...)
	}
	return out, nil
}
