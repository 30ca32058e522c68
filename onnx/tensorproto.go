package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/txt2img/engine/tensor"
)

// maxElems bounds a tensor's declared element count (2^40) before any
// allocation, so a hostile header cannot request absurd memory.
const maxElems = 1 << 40

// TensorFromProto converts a TensorProto into a tensor. Raw data (inline or
// external) is wrapped without copying when it is aligned; typed fields are
// converted. res resolves external data (nil: external data is an error).
func TensorFromProto(p *TensorProto, res DataResolver) (*tensor.Tensor, error) {
	dt := tensor.DType(p.DataType)
	if !dt.Valid() || dt == tensor.Complex64 || dt == tensor.Complex128 {
		return nil, &UnsupportedError{Msg: fmt.Sprintf("tensor %q: data type %d", p.Name, p.DataType)}
	}
	shape := make([]int, len(p.Dims))
	n := int64(1)
	for i, d := range p.Dims {
		if d < 0 {
			return nil, &FormatError{Msg: fmt.Sprintf("tensor %q: negative dim %d", p.Name, d)}
		}
		shape[i] = int(d)
		if d != 0 && n > maxElems/d {
			return nil, &FormatError{Msg: fmt.Sprintf("tensor %q: shape %v too large", p.Name, p.Dims)}
		}
		n *= d
	}
	if n > maxElems {
		return nil, &FormatError{Msg: fmt.Sprintf("tensor %q: shape %v too large", p.Name, p.Dims)}
	}
	numel := int(n)
	raw, hasRaw := p.RawData, p.HasRawData
	if p.DataLocation == LocationExternal {
		if res == nil {
			return nil, &FormatError{Msg: fmt.Sprintf("tensor %q: external data but no model folder", p.Name)}
		}
		loc, off, length, err := externalRef(p)
		if err != nil {
			return nil, err
		}
		b, err := res.Resolve(loc, off, length)
		if err != nil {
			return nil, err
		}
		raw, hasRaw = b, true
	}
	if dt == tensor.String {
		if len(p.StringData) != numel {
			return nil, &FormatError{Msg: fmt.Sprintf("tensor %q: %d strings for shape %v", p.Name, len(p.StringData), shape)}
		}
		s := make([]string, numel)
		for i, b := range p.StringData {
			s[i] = string(b)
		}
		return tensor.FromStrings(shape, s), nil
	}
	bits := dt.Bits()
	if hasRaw {
		if bits < 8 {
			want := (int64(numel)*int64(bits) + 7) / 8
			if int64(len(raw)) != want {
				return nil, &FormatError{Msg: fmt.Sprintf("tensor %q: %s%v needs %d raw bytes, have %d", p.Name, dt, shape, want, len(raw))}
			}
			return unpackSubByte(dt, shape, raw), nil
		}
		want := int64(numel) * int64(dt.Size())
		if int64(len(raw)) != want {
			return nil, &FormatError{Msg: fmt.Sprintf("tensor %q: %s%v needs %d raw bytes, have %d", p.Name, dt, shape, want, len(raw))}
		}
		return tensor.Wrap(dt, shape, raw)
	}
	// Typed fields.
	t := tensor.New(dt, shape...)
	count := func(have int) error {
		if have != numel {
			return &FormatError{Msg: fmt.Sprintf("tensor %q: %d values for shape %v", p.Name, have, shape)}
		}
		return nil
	}
	switch dt {
	case tensor.Float:
		if err := count(len(p.FloatData)); err != nil {
			return nil, err
		}
		copy(t.F32(), p.FloatData)
	case tensor.Double:
		if err := count(len(p.DoubleData)); err != nil {
			return nil, err
		}
		copy(t.F64(), p.DoubleData)
	case tensor.Int64:
		if err := count(len(p.Int64Data)); err != nil {
			return nil, err
		}
		copy(t.I64(), p.Int64Data)
	case tensor.Uint32, tensor.Uint64:
		if err := count(len(p.Uint64Data)); err != nil {
			return nil, err
		}
		for i, v := range p.Uint64Data {
			if dt == tensor.Uint32 {
				tensor.View[uint32](t)[i] = uint32(v)
			} else {
				tensor.View[uint64](t)[i] = v
			}
		}
	default:
		if bits < 8 {
			// int32_data holds the packed bytes, one per entry.
			want := (numel*bits + 7) / 8
			if len(p.Int32Data) != want {
				return nil, &FormatError{Msg: fmt.Sprintf("tensor %q: %d packed values for %s%v", p.Name, len(p.Int32Data), dt, shape)}
			}
			packed := make([]byte, want)
			for i, v := range p.Int32Data {
				packed[i] = byte(v)
			}
			return unpackSubByte(dt, shape, packed), nil
		}
		if err := count(len(p.Int32Data)); err != nil {
			return nil, err
		}
		b := t.Bytes()
		for i, v := range p.Int32Data {
			switch dt.Size() {
			case 1:
				b[i] = byte(v)
			case 2:
				binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
			case 4:
				binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
			}
		}
	}
	return t, nil
}

// unpackSubByte expands packed 4-/2-bit values (low bits first) to one per byte,
// sign-extending signed integer types.
func unpackSubByte(dt tensor.DType, shape []int, packed []byte) *tensor.Tensor {
	t := tensor.New(dt, shape...)
	out := t.Bytes()
	bits := dt.Bits()
	per := 8 / bits
	mask := byte(1<<bits - 1)
	for i := range out {
		v := (packed[i/per] >> (uint(i%per) * uint(bits))) & mask
		if dt == tensor.Int4 || dt == tensor.Int2 {
			shift := 8 - uint(bits)
			v = byte(int8(v<<shift) >> shift)
		}
		out[i] = v
	}
	return t
}

// packSubByte is the inverse of unpackSubByte.
func packSubByte(dt tensor.DType, vals []byte) []byte {
	bits := dt.Bits()
	per := 8 / bits
	mask := byte(1<<bits - 1)
	out := make([]byte, (len(vals)+per-1)/per)
	for i, v := range vals {
		out[i/per] |= (v & mask) << (uint(i%per) * uint(bits))
	}
	return out
}

// EncodeTensor serializes a tensor as a TensorProto with raw_data (strings use string_data).
func EncodeTensor(name string, t *tensor.Tensor) []byte {
	var w writer
	for _, d := range t.Shape() {
		w.varintField(1, uint64(d))
	}
	w.varintField(2, uint64(t.DType()))
	if name != "" {
		w.bytesField(8, []byte(name))
	}
	switch {
	case t.DType() == tensor.String:
		for _, s := range t.Strings() {
			w.bytesField(6, []byte(s))
		}
	case t.DType().Bits() < 8:
		w.bytesField(9, packSubByte(t.DType(), t.Bytes()))
	default:
		w.bytesField(9, t.Bytes())
	}
	return w.b
}

type writer struct{ b []byte }

func (w *writer) varint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *writer) varintField(f int, v uint64) {
	w.varint(uint64(f)<<3 | wireVarint)
	w.varint(v)
}
func (w *writer) bytesField(f int, b []byte) {
	w.varint(uint64(f)<<3 | wireBytes)
	w.varint(uint64(len(b)))
	w.b = append(w.b, b...)
}
func (w *writer) float32Field(f int, v float32) {
	w.varint(uint64(f)<<3 | wireFixed32)
	w.b = binary.LittleEndian.AppendUint32(w.b, math.Float32bits(v))
}
