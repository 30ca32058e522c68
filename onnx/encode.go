package onnx

import (
	"encoding/binary"
	"math"
)

// EncodeModel serializes a ModelProto. It writes every field the decoder
// reads, so DecodeModel(EncodeModel(m)) round-trips. Tools use it to build
// single-op benchmark models and test fixtures.
func EncodeModel(m *ModelProto) []byte {
	var w writer
	w.varintField(1, uint64(m.IRVersion))
	w.strField(2, m.ProducerName)
	w.strField(3, m.ProducerVersion)
	w.strField(4, m.Domain)
	if m.ModelVersion != 0 {
		w.varintField(5, uint64(m.ModelVersion))
	}
	w.strField(6, m.DocString)
	if m.Graph != nil {
		w.bytesField(7, encodeGraph(m.Graph))
	}
	for _, o := range m.OpsetImport {
		var s writer
		s.strField(1, o.Domain)
		s.varintField(2, uint64(o.Version))
		w.bytesField(8, s.b)
	}
	for _, e := range m.Metadata {
		w.bytesField(14, encodeEntry(e))
	}
	for _, f := range m.Functions {
		w.bytesField(25, encodeFunction(f))
	}
	return w.b
}

func (w *writer) strField(f int, s string) {
	if s != "" {
		w.bytesField(f, []byte(s))
	}
}

func encodeEntry(e StringEntry) []byte {
	var s writer
	s.strField(1, e.Key)
	s.strField(2, e.Value)
	return s.b
}

func encodeGraph(g *GraphProto) []byte {
	var w writer
	for _, n := range g.Nodes {
		w.bytesField(1, encodeNode(n))
	}
	w.strField(2, g.Name)
	for _, t := range g.Initializers {
		w.bytesField(5, EncodeTensorProto(t))
	}
	w.strField(10, g.DocString)
	for _, v := range g.Inputs {
		w.bytesField(11, encodeValueInfo(v))
	}
	for _, v := range g.Outputs {
		w.bytesField(12, encodeValueInfo(v))
	}
	for _, v := range g.ValueInfo {
		w.bytesField(13, encodeValueInfo(v))
	}
	return w.b
}

func encodeNode(n *NodeProto) []byte {
	var w writer
	for _, s := range n.Inputs {
		w.bytesField(1, []byte(s))
	}
	for _, s := range n.Outputs {
		w.bytesField(2, []byte(s))
	}
	w.strField(3, n.Name)
	w.strField(4, n.OpType)
	for _, a := range n.Attributes {
		w.bytesField(5, encodeAttr(a))
	}
	w.strField(6, n.DocString)
	w.strField(7, n.Domain)
	w.strField(8, n.Overload)
	return w.b
}

func encodeAttr(a *AttributeProto) []byte {
	var w writer
	w.strField(1, a.Name)
	switch a.Type {
	case AttrFloat:
		w.float32Field(2, a.F)
	case AttrInt:
		w.varintField(3, uint64(a.I))
	case AttrString:
		w.bytesField(4, a.S)
	case AttrTensor:
		if a.T != nil {
			w.bytesField(5, EncodeTensorProto(a.T))
		}
	case AttrGraph:
		if a.G != nil {
			w.bytesField(6, encodeGraph(a.G))
		}
	case AttrFloats:
		var p []byte
		for _, f := range a.Floats {
			p = binary.LittleEndian.AppendUint32(p, math.Float32bits(f))
		}
		w.bytesField(7, p)
	case AttrInts:
		var p []byte
		for _, v := range a.Ints {
			p = binary.AppendUvarint(p, uint64(v))
		}
		w.bytesField(8, p)
	case AttrStrings:
		for _, s := range a.Strings {
			w.bytesField(9, s)
		}
	case AttrTensors:
		for _, t := range a.Tensors {
			w.bytesField(10, EncodeTensorProto(t))
		}
	case AttrGraphs:
		for _, g := range a.Graphs {
			w.bytesField(11, encodeGraph(g))
		}
	}
	w.strField(13, a.DocString)
	w.varintField(20, uint64(a.Type))
	w.strField(21, a.RefAttrName)
	return w.b
}

// EncodeTensorProto serializes a TensorProto, including typed fields and
// external-data references.
func EncodeTensorProto(t *TensorProto) []byte {
	var w writer
	if len(t.Dims) > 0 {
		var p []byte
		for _, d := range t.Dims {
			p = binary.AppendUvarint(p, uint64(d))
		}
		w.bytesField(1, p)
	}
	w.varintField(2, uint64(t.DataType))
	if len(t.FloatData) > 0 {
		var p []byte
		for _, f := range t.FloatData {
			p = binary.LittleEndian.AppendUint32(p, math.Float32bits(f))
		}
		w.bytesField(4, p)
	}
	if len(t.Int32Data) > 0 {
		var p []byte
		for _, v := range t.Int32Data {
			p = binary.AppendUvarint(p, uint64(v))
		}
		w.bytesField(5, p)
	}
	for _, s := range t.StringData {
		w.bytesField(6, s)
	}
	if len(t.Int64Data) > 0 {
		var p []byte
		for _, v := range t.Int64Data {
			p = binary.AppendUvarint(p, uint64(v))
		}
		w.bytesField(7, p)
	}
	w.strField(8, t.Name)
	if t.HasRawData || len(t.RawData) > 0 {
		w.bytesField(9, t.RawData)
	}
	if len(t.DoubleData) > 0 {
		var p []byte
		for _, f := range t.DoubleData {
			p = binary.LittleEndian.AppendUint64(p, math.Float64bits(f))
		}
		w.bytesField(10, p)
	}
	if len(t.Uint64Data) > 0 {
		var p []byte
		for _, v := range t.Uint64Data {
			p = binary.AppendUvarint(p, v)
		}
		w.bytesField(11, p)
	}
	w.strField(12, t.DocString)
	for _, e := range t.ExternalData {
		w.bytesField(13, encodeEntry(e))
	}
	if t.DataLocation != 0 {
		w.varintField(14, uint64(t.DataLocation))
	}
	return w.b
}

func encodeValueInfo(v *ValueInfoProto) []byte {
	var w writer
	w.strField(1, v.Name)
	if v.Type != nil {
		w.bytesField(2, encodeType(v.Type))
	}
	w.strField(3, v.DocString)
	return w.b
}

func encodeType(t *TypeProto) []byte {
	var w writer
	switch t.Kind {
	case TypeTensor, TypeSparseTensor:
		var tt writer
		tt.varintField(1, uint64(t.ElemType))
		if t.HasShape {
			var sh writer
			for _, d := range t.Shape {
				var dw writer
				if d.HasValue {
					dw.varintField(1, uint64(d.Value))
				}
				dw.strField(2, d.Param)
				sh.bytesField(1, dw.b)
			}
			tt.bytesField(2, sh.b)
		}
		f := 1
		if t.Kind == TypeSparseTensor {
			f = 8
		}
		w.bytesField(f, tt.b)
	case TypeSequence, TypeOptional:
		var sw writer
		if t.Elem != nil {
			sw.bytesField(1, encodeType(t.Elem))
		}
		f := 4
		if t.Kind == TypeOptional {
			f = 9
		}
		w.bytesField(f, sw.b)
	}
	return w.b
}

func encodeFunction(f *FunctionProto) []byte {
	var w writer
	w.strField(1, f.Name)
	for _, s := range f.Inputs {
		w.bytesField(4, []byte(s))
	}
	for _, s := range f.Outputs {
		w.bytesField(5, []byte(s))
	}
	for _, s := range f.Attributes {
		w.bytesField(6, []byte(s))
	}
	for _, n := range f.Nodes {
		w.bytesField(7, encodeNode(n))
	}
	w.strField(8, f.DocString)
	for _, o := range f.OpsetImport {
		var s writer
		s.strField(1, o.Domain)
		s.varintField(2, uint64(o.Version))
		w.bytesField(9, s.b)
	}
	w.strField(10, f.Domain)
	for _, a := range f.AttrProtos {
		w.bytesField(11, encodeAttr(a))
	}
	w.strField(13, f.Overload)
	return w.b
}
