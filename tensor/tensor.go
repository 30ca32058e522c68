package tensor

import (
	"fmt"
	"strings"
	"unsafe"

	"github.com/x448/float16"
)

// Kind says whether a value is a tensor, a sequence of tensors or an optional.
type Kind uint8

const (
	KindTensor   Kind = iota
	KindSequence      // Elems holds the items; DType is the element dtype
	KindOptional      // Elems holds zero (none) or one item
)

// Tensor is a dense, contiguous, row-major array. The zero value is not useful;
// build tensors with New, FromSlice or Wrap.
//
// Sequence and optional values (rare: a few ONNX ops and tests) reuse the
// struct with Kind set and Elems holding the items.
type Tensor struct {
	dtype DType
	shape []int
	buf   []byte    // len = Numel()*dtype.Size() (a non-contiguous view: its span of the backing array); aligned to 8 bytes when allocated here
	strs  []string  // dtype String only
	room  *roomInfo // spare capacity along one axis (see NewWithRoom); nil for most tensors

	Kind  Kind
	Elems []*Tensor
}

// Numel is the product of the dims (1 for a scalar).
func Numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Strides returns the row-major element strides of shape.
func Strides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

// AllocBytes returns a zeroed byte slice of length n whose start is 8-byte aligned.
func AllocBytes(n int) []byte {
	if n == 0 {
		return []byte{}
	}
	w := make([]uint64, (n+7)/8)
	return unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), n)
}

// New allocates a zeroed tensor.
func New(dt DType, shape ...int) *Tensor {
	shape = append([]int(nil), shape...)
	n := Numel(shape)
	t := &Tensor{dtype: dt, shape: shape}
	if dt == String {
		t.strs = make([]string, n)
		return t
	}
	t.buf = AllocBytes(n * dt.Size())
	return t
}

// Wrap makes a tensor over b without copying. len(b) must be Numel(shape)*dt.Size().
// If b is not aligned for dt, Wrap copies it into an aligned buffer.
func Wrap(dt DType, shape []int, b []byte) (*Tensor, error) {
	n := Numel(shape)
	if dt == String {
		return nil, fmt.Errorf("tensor: cannot wrap bytes as string tensor")
	}
	if len(b) != n*dt.Size() {
		return nil, fmt.Errorf("tensor: %s%v needs %d bytes, have %d", dt, shape, n*dt.Size(), len(b))
	}
	if len(b) > 0 && uintptr(unsafe.Pointer(&b[0]))%uintptr(dt.Size()) != 0 {
		c := AllocBytes(len(b))
		copy(c, b)
		b = c
	}
	return &Tensor{dtype: dt, shape: append([]int(nil), shape...), buf: b}, nil
}

// Elem is the set of Go element types a tensor can be viewed as.
type Elem interface {
	~float32 | ~float64 | ~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~bool
}

// View returns the tensor's data as a []T sharing memory. T must have dt.Size() bytes.
func View[T Elem](t *Tensor) []T {
	var z T
	sz := int(unsafe.Sizeof(z))
	if sz != t.dtype.Size() {
		panic(fmt.Sprintf("tensor: view of %s as %T", t.dtype, z))
	}
	if len(t.buf) == 0 {
		return []T{}
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&t.buf[0])), len(t.buf)/sz)
}

// FromSlice builds a tensor that shares data's memory. dt must match T's size.
func FromSlice[T Elem](dt DType, shape []int, data []T) *Tensor {
	var z T
	sz := int(unsafe.Sizeof(z))
	if sz != dt.Size() || len(data) != Numel(shape) {
		panic(fmt.Sprintf("tensor: FromSlice %s%v with %d elements of %T", dt, shape, len(data), z))
	}
	var b []byte
	if len(data) == 0 {
		b = []byte{}
	} else {
		b = unsafe.Slice((*byte)(unsafe.Pointer(&data[0])), len(data)*sz)
	}
	return &Tensor{dtype: dt, shape: append([]int(nil), shape...), buf: b}
}

// FromStrings builds a string tensor.
func FromStrings(shape []int, s []string) *Tensor {
	return &Tensor{dtype: String, shape: append([]int(nil), shape...), strs: s}
}

// Scalar helpers.
func ScalarF32(v float32) *Tensor { return FromSlice(Float, nil, []float32{v}) }
func ScalarI64(v int64) *Tensor   { return FromSlice(Int64, nil, []int64{v}) }

// NewSequence builds a sequence value of tensors with element dtype dt.
func NewSequence(dt DType, items []*Tensor) *Tensor {
	return &Tensor{dtype: dt, Kind: KindSequence, Elems: items}
}

// NewOptional builds an optional value; v == nil means "none".
func NewOptional(dt DType, v *Tensor) *Tensor {
	o := &Tensor{dtype: dt, Kind: KindOptional}
	if v != nil {
		o.Elems = []*Tensor{v}
	}
	return o
}

func (t *Tensor) DType() DType      { return t.dtype }
func (t *Tensor) Shape() []int      { return t.shape }
func (t *Tensor) Rank() int         { return len(t.shape) }
func (t *Tensor) Numel() int        { return Numel(t.shape) }
func (t *Tensor) Bytes() []byte     { return t.buf }
func (t *Tensor) Strings() []string { return t.strs }

// Strides returns the element strides of t in Bytes(): row-major strides of
// the shape, except that a tensor with room strides over its capacity.
func (t *Tensor) Strides() []int {
	if t.room == nil {
		return Strides(t.shape)
	}
	phys := append([]int(nil), t.shape...)
	phys[t.room.axis] = t.room.capacity
	return Strides(phys)
}

// Typed views. They panic if the dtype does not match (a programming error).
func (t *Tensor) F32() []float32 { t.must(Float); return View[float32](t) }
func (t *Tensor) F64() []float64 { t.must(Double); return View[float64](t) }
func (t *Tensor) I64() []int64   { t.must(Int64); return View[int64](t) }
func (t *Tensor) I32() []int32   { t.must(Int32); return View[int32](t) }
func (t *Tensor) U8() []uint8    { return t.buf }
func (t *Tensor) Bools() []bool  { t.must(Bool); return View[bool](t) }

// F16 views float16 data.
func (t *Tensor) F16() []float16.Float16 {
	t.must(Float16)
	if len(t.buf) == 0 {
		return []float16.Float16{}
	}
	return unsafe.Slice((*float16.Float16)(unsafe.Pointer(&t.buf[0])), len(t.buf)/2)
}

func (t *Tensor) must(dt DType) {
	if t.dtype != dt {
		panic(fmt.Sprintf("tensor: %s view of %s tensor", dt, t.dtype))
	}
}

// Reshape returns a view with a new shape sharing the same data. A tensor
// that is not Contiguous cannot be reshaped (Compact it first).
func (t *Tensor) Reshape(shape ...int) (*Tensor, error) {
	if !t.Contiguous() {
		return nil, fmt.Errorf("tensor: cannot reshape a non-contiguous %v view", t.shape)
	}
	if Numel(shape) != t.Numel() {
		return nil, fmt.Errorf("tensor: cannot reshape %v to %v", t.shape, shape)
	}
	return &Tensor{dtype: t.dtype, shape: append([]int(nil), shape...), buf: t.buf, strs: t.strs}, nil
}

// Clone returns a deep copy (contiguous, without room).
func (t *Tensor) Clone() *Tensor {
	if !t.Contiguous() {
		return t.Compact()
	}
	c := &Tensor{dtype: t.dtype, shape: append([]int(nil), t.shape...), Kind: t.Kind}
	if t.strs != nil {
		c.strs = append([]string(nil), t.strs...)
	}
	if t.buf != nil {
		c.buf = AllocBytes(len(t.buf))
		copy(c.buf, t.buf)
	}
	for _, e := range t.Elems {
		c.Elems = append(c.Elems, e.Clone())
	}
	return c
}

// SameShape reports whether two shapes are equal.
func SameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (t *Tensor) String() string {
	switch t.Kind {
	case KindSequence:
		return fmt.Sprintf("seq<%s>[%d]", t.dtype, len(t.Elems))
	case KindOptional:
		if len(t.Elems) == 0 {
			return fmt.Sprintf("optional<%s>(none)", t.dtype)
		}
		return "optional(" + t.Elems[0].String() + ")"
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s%v", t.dtype, t.shape)
	return sb.String()
}
