package onnx

import (
	"encoding/binary"
	"math"
)

// Protobuf wire types.
const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireStartGr = 3
	wireEndGr   = 4
	wireFixed32 = 5
)

// reader walks one protobuf message. All errors are sticky in r.err; after an
// error every read returns zero values, so decoders can check once at the end.
type reader struct {
	b   []byte
	off int
	err error
	msg string // message type, for error text
}

func (r *reader) fail(format string, a ...any) {
	if r.err == nil {
		r.err = formatErr(r.msg, r.off, format, a...)
	}
}

func (r *reader) done() bool { return r.err != nil || r.off >= len(r.b) }

func (r *reader) varint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.off += n
	return v
}

// next reads a field tag.
func (r *reader) next() (field int, wt int) {
	t := r.varint()
	if r.err != nil {
		return 0, 0
	}
	field, wt = int(t>>3), int(t&7)
	if field <= 0 || field > 1<<29 {
		r.fail("bad field number %d", field)
	}
	return
}

func (r *reader) bytes() []byte {
	n := r.varint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)-r.off) {
		r.fail("length %d beyond end of message", n)
		return nil
	}
	s := r.b[r.off : r.off+int(n) : r.off+int(n)]
	r.off += int(n)
	return s
}

func (r *reader) fixed32() uint32 {
	if r.err != nil {
		return 0
	}
	if len(r.b)-r.off < 4 {
		r.fail("truncated fixed32")
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v
}

func (r *reader) fixed64() uint64 {
	if r.err != nil {
		return 0
	}
	if len(r.b)-r.off < 8 {
		r.fail("truncated fixed64")
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b[r.off:])
	r.off += 8
	return v
}

// skip skips a field of wire type wt.
func (r *reader) skip(wt int) {
	switch wt {
	case wireVarint:
		r.varint()
	case wireFixed64:
		r.fixed64()
	case wireBytes:
		r.bytes()
	case wireFixed32:
		r.fixed32()
	case wireStartGr:
		// groups are obsolete; skip nested fields until the matching end
		for depth := 1; depth > 0 && !r.done(); {
			_, w := r.next()
			switch w {
			case wireStartGr:
				depth++
			case wireEndGr:
				depth--
			default:
				r.skip(w)
			}
		}
	default:
		r.fail("bad wire type %d", wt)
	}
}

func (r *reader) str() string { return string(r.bytes()) }

func (r *reader) int64v(wt int) int64 {
	if wt != wireVarint {
		r.fail("want varint, wire type %d", wt)
		return 0
	}
	return int64(r.varint())
}

func (r *reader) float32v(wt int) float32 {
	if wt != wireFixed32 {
		r.fail("want fixed32, wire type %d", wt)
		return 0
	}
	return math.Float32frombits(r.fixed32())
}

// appendInt64s reads a repeated int64/int32/uint64 field in packed or unpacked form.
func (r *reader) appendInt64s(dst []int64, wt int) []int64 {
	switch wt {
	case wireVarint:
		return append(dst, int64(r.varint()))
	case wireBytes:
		sub := reader{b: r.bytes(), msg: r.msg}
		for !sub.done() {
			dst = append(dst, int64(sub.varint()))
		}
		if sub.err != nil && r.err == nil {
			r.err = sub.err
		}
		return dst
	}
	r.fail("want varint list, wire type %d", wt)
	return dst
}

// appendFloat32s reads a repeated float field in packed or unpacked form.
func (r *reader) appendFloat32s(dst []float32, wt int) []float32 {
	switch wt {
	case wireFixed32:
		return append(dst, math.Float32frombits(r.fixed32()))
	case wireBytes:
		b := r.bytes()
		if len(b)%4 != 0 {
			r.fail("packed float length %d not a multiple of 4", len(b))
			return dst
		}
		for i := 0; i < len(b); i += 4 {
			dst = append(dst, math.Float32frombits(binary.LittleEndian.Uint32(b[i:])))
		}
		return dst
	}
	r.fail("want float list, wire type %d", wt)
	return dst
}

// appendFloat64s reads a repeated double field in packed or unpacked form.
func (r *reader) appendFloat64s(dst []float64, wt int) []float64 {
	switch wt {
	case wireFixed64:
		return append(dst, math.Float64frombits(r.fixed64()))
	case wireBytes:
		b := r.bytes()
		if len(b)%8 != 0 {
			r.fail("packed double length %d not a multiple of 8", len(b))
			return dst
		}
		for i := 0; i < len(b); i += 8 {
			dst = append(dst, math.Float64frombits(binary.LittleEndian.Uint64(b[i:])))
		}
		return dst
	}
	r.fail("want double list, wire type %d", wt)
	return dst
}
