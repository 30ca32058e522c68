package onnx

// maxDepth bounds nesting of graphs/types so hostile files cannot exhaust the stack.
const maxDepth = 64

// DecodeModel decodes a serialized ModelProto. Byte fields alias b.
func DecodeModel(b []byte) (*ModelProto, error) {
	r := &reader{b: b, msg: "ModelProto"}
	m := &ModelProto{}
	for !r.done() {
		f, wt := r.next()
		switch {
		case f == 1 && wt == wireVarint:
			m.IRVersion = int64(r.varint())
		case f == 2 && wt == wireBytes:
			m.ProducerName = r.str()
		case f == 3 && wt == wireBytes:
			m.ProducerVersion = r.str()
		case f == 4 && wt == wireBytes:
			m.Domain = r.str()
		case f == 5 && wt == wireVarint:
			m.ModelVersion = int64(r.varint())
		case f == 6 && wt == wireBytes:
			m.DocString = r.str()
		case f == 7 && wt == wireBytes:
			m.Graph = decodeGraph(r, r.bytes(), 0)
		case f == 8 && wt == wireBytes:
			m.OpsetImport = append(m.OpsetImport, decodeOpset(r, r.bytes()))
		case f == 14 && wt == wireBytes:
			m.Metadata = append(m.Metadata, decodeEntry(r, r.bytes()))
		case f == 25 && wt == wireBytes:
			m.Functions = append(m.Functions, decodeFunction(r, r.bytes()))
		default:
			r.skip(wt)
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return m, nil
}

// DecodeTensor decodes a serialized TensorProto (as in the node tests' .pb files).
func DecodeTensor(b []byte) (*TensorProto, error) {
	r := &reader{b: b, msg: "TensorProto"}
	t := decodeTensor(r, b)
	if r.err != nil {
		return nil, r.err
	}
	return t, nil
}

// DecodeSequence decodes a serialized SequenceProto.
func DecodeSequence(b []byte) (*SequenceProto, error) {
	r := &reader{b: b, msg: "SequenceProto"}
	s := decodeSequence(r, b, 0)
	if r.err != nil {
		return nil, r.err
	}
	return s, nil
}

// DecodeOptional decodes a serialized OptionalProto.
func DecodeOptional(b []byte) (*OptionalProto, error) {
	r := &reader{b: b, msg: "OptionalProto"}
	o := decodeOptional(r, b, 0)
	if r.err != nil {
		return nil, r.err
	}
	return o, nil
}

// sub runs a decoder over a nested message, propagating errors to the parent.
func sub(parent *reader, b []byte, msg string) *reader {
	return &reader{b: b, msg: msg, err: parent.err}
}

func join(parent, child *reader) {
	if parent.err == nil && child.err != nil {
		parent.err = child.err
	}
}

func decodeOpset(p *reader, b []byte) OpsetID {
	r := sub(p, b, "OperatorSetIdProto")
	var o OpsetID
	for !r.done() {
		f, wt := r.next()
		switch {
		case f == 1 && wt == wireBytes:
			o.Domain = r.str()
		case f == 2 && wt == wireVarint:
			o.Version = int64(r.varint())
		default:
			r.skip(wt)
		}
	}
	join(p, r)
	return o
}

func decodeEntry(p *reader, b []byte) StringEntry {
	r := sub(p, b, "StringStringEntryProto")
	var e StringEntry
	for !r.done() {
		f, wt := r.next()
		switch {
		case f == 1 && wt == wireBytes:
			e.Key = r.str()
		case f == 2 && wt == wireBytes:
			e.Value = r.str()
		default:
			r.skip(wt)
		}
	}
	join(p, r)
	return e
}

func decodeGraph(p *reader, b []byte, depth int) *GraphProto {
	if depth > maxDepth {
		p.fail("graphs nested deeper than %d", maxDepth)
		return nil
	}
	r := sub(p, b, "GraphProto")
	g := &GraphProto{}
	for !r.done() {
		f, wt := r.next()
		switch {
		case f == 1 && wt == wireBytes:
			g.Nodes = append(g.Nodes, decodeNode(r, r.bytes(), depth))
		case f == 2 && wt == wireBytes:
			g.Name = r.str()
		case f == 5 && wt == wireBytes:
			g.Initializers = append(g.Initializers, decodeTensor(r, r.bytes()))
		case f == 10 && wt == wireBytes:
			g.DocString = r.str()
		case f == 11 && wt == wireBytes:
			g.Inputs = append(g.Inputs, decodeValueInfo(r, r.bytes(), depth))
		case f == 12 && wt == wireBytes:
			g.Outputs = append(g.Outputs, decodeValueInfo(r, r.bytes(), depth))
		case f == 13 && wt == wireBytes:
			g.ValueInfo = append(g.ValueInfo, decodeValueInfo(r, r.bytes(), depth))
		case f == 15 && wt == wireBytes:
			g.Sparse = append(g.Sparse, decodeSparse(r, r.bytes()))
		default:
			r.skip(wt)
		}
	}
	join(p, r)
	return g
}

func decodeNode(p *reader, b []byte, depth int) *NodeProto {
	r := sub(p, b, "NodeProto")
	n := &NodeProto{}
	for !r.done() {
		f, wt := r.next()
		switch {
		case f == 1 && wt == wireBytes:
			n.Inputs = append(n.Inputs, r.str())
		case f == 2 && wt == wireBytes:
			n.Outputs = append(n.Outputs, r.str())
		case f == 3 && wt == wireBytes:
			n.Name = r.str()
		case f == 4 && wt == wireBytes:
			n.OpType = r.str()
		case f == 5 && wt == wireBytes:
			n.Attributes = append(n.Attributes, decodeAttr(r, r.bytes(), depth))
		case f == 6 && wt == wireBytes:
			n.DocString = r.str()
		case f == 7 && wt == wireBytes:
			n.Domain = r.str()
		case f == 8 && wt == wireBytes:
			n.Overload = r.str()
		default:
			r.skip(wt)
		}
	}
	join(p, r)
	return n
}

func decodeAttr(p *reader, b []byte, depth int) *AttributeProto {
	r := sub(p, b, "AttributeProto")
	a := &AttributeProto{}
	for !r.done() {
		f, wt := r.next()
		switch {
		case f == 1 && wt == wireBytes:
			a.Name = r.str()
		case f == 2:
			a.F = r.float32v(wt)
		case f == 3:
			a.I = r.int64v(wt)
		case f == 4 && wt == wireBytes:
			a.S = r.bytes()
		case f == 5 && wt == wireBytes:
			a.T = decodeTensor(r, r.bytes())
		case f == 6 && wt == wireBytes:
			a.G = decodeGraph(r, r.bytes(), depth+1)
		case f == 7:
			a.Floats = r.appendFloat32s(a.Floats, wt)
		case f == 8:
			a.Ints = r.appendInt64s(a.Ints, wt)
		case f == 9 && wt == wireBytes:
			a.Strings = append(a.Strings, r.bytes())
		case f == 10 && wt == wireBytes:
			a.Tensors = append(a.Tensors, decodeTensor(r, r.bytes()))
		case f == 11 && wt == wireBytes:
			a.Graphs = append(a.Graphs, decodeGraph(r, r.bytes(), depth+1))
		case f == 13 && wt == wireBytes:
			a.DocString = r.str()
		case f == 14 && wt == wireBytes:
			a.TP = decodeType(r, r.bytes(), depth+1)
		case f == 15 && wt == wireBytes:
			a.TypeProtos = append(a.TypeProtos, decodeType(r, r.bytes(), depth+1))
		case f == 20:
			a.Type = int(r.int64v(wt))
		case f == 21 && wt == wireBytes:
			a.RefAttrName = r.str()
		case f == 22 && wt == wireBytes:
			a.SparseTensor = decodeSparse(r, r.bytes())
		case f == 23 && wt == wireBytes:
			a.SparseTensors = append(a.SparseTensors, decodeSparse(r, r.bytes()))
		default:
			r.skip(wt)
		}
	}
	join(p, r)
	return a
}

func decodeTensor(p *reader, b []byte) *TensorProto {
	r := sub(p, b, "TensorProto")
	t := &TensorProto{}
	for !r.done() {
		f, wt := r.next()
		switch {
		case f == 1:
			t.Dims = r.appendInt64s(t.Dims, wt)
		case f == 2:
			t.DataType = int32(r.int64v(wt))
		case f == 3 && wt == wireBytes:
			r.bytes() // segment: unsupported, ignored
		case f == 4:
			t.FloatData = r.appendFloat32s(t.FloatData, wt)
		case f == 5:
			t.Int32Data = r.appendInt64s(t.Int32Data, wt)
		case f == 6 && wt == wireBytes:
			t.StringData = append(t.StringData, r.bytes())
		case f == 7:
			t.Int64Data = r.appendInt64s(t.Int64Data, wt)
		case f == 8 && wt == wireBytes:
			t.Name = r.str()
		case f == 9 && wt == wireBytes:
			t.RawData = r.bytes()
			t.HasRawData = true
		case f == 10:
			t.DoubleData = r.appendFloat64s(t.DoubleData, wt)
		case f == 11:
			var v []int64
			v = r.appendInt64s(v, wt)
			for _, x := range v {
				t.Uint64Data = append(t.Uint64Data, uint64(x))
			}
		case f == 12 && wt == wireBytes:
			t.DocString = r.str()
		case f == 13 && wt == wireBytes:
			t.ExternalData = append(t.ExternalData, decodeEntry(r, r.bytes()))
		case f == 14:
			t.DataLocation = int(r.int64v(wt))
		default:
			r.skip(wt)
		}
	}
	join(p, r)
	return t
}

func decodeSparse(p *reader, b []byte) *SparseTensorProto {
	r := sub(p, b, "SparseTensorProto")
	s := &SparseTensorProto{}
	for !r.done() {
		f, wt := r.next()
		switch {
		case f == 1 && wt == wireBytes:
			s.Values = decodeTensor(r, r.bytes())
		case f == 2 && wt == wireBytes:
			s.Indices = decodeTensor(r, r.bytes())
		case f == 3:
			s.Dims = r.appendInt64s(s.Dims, wt)
		default:
			r.skip(wt)
		}
	}
	join(p, r)
	return s
}

func decodeValueInfo(p *reader, b []byte, depth int) *ValueInfoProto {
	r := sub(p, b, "ValueInfoProto")
	v := &ValueInfoProto{}
	for !r.done() {
		f, wt := r.next()
		switch {
		case f == 1 && wt == wireBytes:
			v.Name = r.str()
		case f == 2 && wt == wireBytes:
			v.Type = decodeType(r, r.bytes(), depth+1)
		case f == 3 && wt == wireBytes:
			v.DocString = r.str()
		default:
			r.skip(wt)
		}
	}
	join(p, r)
	return v
}

func decodeType(p *reader, b []byte, depth int) *TypeProto {
	if depth > maxDepth {
		p.fail("types nested deeper than %d", maxDepth)
		return nil
	}
	r := sub(p, b, "TypeProto")
	t := &TypeProto{}
	for !r.done() {
		f, wt := r.next()
		switch {
		case (f == 1 || f == 8) && wt == wireBytes: // tensor_type, sparse_tensor_type
			t.Kind = TypeTensor
			if f == 8 {
				t.Kind = TypeSparseTensor
			}
			decodeTensorType(r, r.bytes(), t)
		case (f == 4 || f == 9) && wt == wireBytes: // sequence_type, optional_type
			t.Kind = TypeSequence
			if f == 9 {
				t.Kind = TypeOptional
			}
			s := sub(r, r.bytes(), "TypeProto.Sequence")
			for !s.done() {
				ff, w := s.next()
				if ff == 1 && w == wireBytes {
					t.Elem = decodeType(s, s.bytes(), depth+1)
				} else {
					s.skip(w)
				}
			}
			join(r, s)
		case f == 5 && wt == wireBytes:
			t.Kind = TypeMap
			r.bytes()
		default:
			r.skip(wt)
		}
	}
	join(p, r)
	return t
}

func decodeTensorType(p *reader, b []byte, t *TypeProto) {
	r := sub(p, b, "TypeProto.Tensor")
	for !r.done() {
		f, wt := r.next()
		switch {
		case f == 1:
			t.ElemType = int32(r.int64v(wt))
		case f == 2 && wt == wireBytes:
			t.HasShape = true
			s := sub(r, r.bytes(), "TensorShapeProto")
			for !s.done() {
				ff, w := s.next()
				if ff == 1 && w == wireBytes {
					d := sub(s, s.bytes(), "Dimension")
					var dim Dim
					for !d.done() {
						f3, w3 := d.next()
						switch {
						case f3 == 1 && w3 == wireVarint:
							dim.Value = int64(d.varint())
							dim.HasValue = true
						case f3 == 2 && w3 == wireBytes:
							dim.Param = d.str()
						default:
							d.skip(w3)
						}
					}
					join(s, d)
					t.Shape = append(t.Shape, dim)
				} else {
					s.skip(w)
				}
			}
			join(r, s)
		default:
			r.skip(wt)
		}
	}
	join(p, r)
}

func decodeFunction(p *reader, b []byte) *FunctionProto {
	r := sub(p, b, "FunctionProto")
	fn := &FunctionProto{}
	for !r.done() {
		f, wt := r.next()
		switch {
		case f == 1 && wt == wireBytes:
			fn.Name = r.str()
		case f == 4 && wt == wireBytes:
			fn.Inputs = append(fn.Inputs, r.str())
		case f == 5 && wt == wireBytes:
			fn.Outputs = append(fn.Outputs, r.str())
		case f == 6 && wt == wireBytes:
			fn.Attributes = append(fn.Attributes, r.str())
		case f == 7 && wt == wireBytes:
			fn.Nodes = append(fn.Nodes, decodeNode(r, r.bytes(), 1))
		case f == 8 && wt == wireBytes:
			fn.DocString = r.str()
		case f == 9 && wt == wireBytes:
			fn.OpsetImport = append(fn.OpsetImport, decodeOpset(r, r.bytes()))
		case f == 10 && wt == wireBytes:
			fn.Domain = r.str()
		case f == 11 && wt == wireBytes:
			fn.AttrProtos = append(fn.AttrProtos, decodeAttr(r, r.bytes(), 1))
		case f == 13 && wt == wireBytes:
			fn.Overload = r.str()
		default:
			r.skip(wt)
		}
	}
	join(p, r)
	return fn
}

func decodeSequence(p *reader, b []byte, depth int) *SequenceProto {
	if depth > maxDepth {
		p.fail("sequences nested deeper than %d", maxDepth)
		return nil
	}
	r := sub(p, b, "SequenceProto")
	s := &SequenceProto{}
	for !r.done() {
		f, wt := r.next()
		switch {
		case f == 1 && wt == wireBytes:
			s.Name = r.str()
		case f == 2:
			s.ElemType = int32(r.int64v(wt))
		case f == 3 && wt == wireBytes:
			s.Tensors = append(s.Tensors, decodeTensor(r, r.bytes()))
		case f == 5 && wt == wireBytes:
			s.Sequences = append(s.Sequences, decodeSequence(r, r.bytes(), depth+1))
		case f == 7 && wt == wireBytes:
			s.Optionals = append(s.Optionals, decodeOptional(r, r.bytes(), depth+1))
		default:
			r.skip(wt)
		}
	}
	join(p, r)
	return s
}

func decodeOptional(p *reader, b []byte, depth int) *OptionalProto {
	if depth > maxDepth {
		p.fail("optionals nested deeper than %d", maxDepth)
		return nil
	}
	r := sub(p, b, "OptionalProto")
	o := &OptionalProto{}
	for !r.done() {
		f, wt := r.next()
		switch {
		case f == 1 && wt == wireBytes:
			o.Name = r.str()
		case f == 2:
			o.ElemType = int32(r.int64v(wt))
		case f == 3 && wt == wireBytes:
			o.Tensor = decodeTensor(r, r.bytes())
		case f == 5 && wt == wireBytes:
			o.Sequence = decodeSequence(r, r.bytes(), depth+1)
		case f == 7 && wt == wireBytes:
			o.Optional = decodeOptional(r, r.bytes(), depth+1)
		default:
			r.skip(wt)
		}
	}
	join(p, r)
	return o
}
