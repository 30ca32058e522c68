package tensor

import (
	"fmt"
	"sync/atomic"
)

// Tensors with room: spare capacity along one axis, for caches that grow by
// appending (a transformer's KV cache grows along the sequence axis of
// [batch, heads, seq, head_dim]). The backing array is laid out as the shape
// with that axis' length replaced by the capacity; the tensor views the first
// Shape()[axis] entries. Appending writes into the room of every slab, so the
// tensor grows without moving what it holds.
//
// Such a tensor is not Contiguous when more than one slab precedes the axis
// and the room is not full: its elements are then at Strides() offsets of
// Bytes(), which spans the backing array from the first element to the last
// (room between slabs included). Code that only knows contiguous tensors uses
// Compact. The graph executor hands kernels that do not declare support a
// compact copy, so ordinary kernels never see one.
//
// Growth follows Go's append with one safety net: the views of one backing
// array share a claim on it, and Extend only succeeds for the view whose end
// is the claimed length, so two views never write the same room.

// roomInfo is shared by the views of one backing array.
type roomInfo struct {
	axis, capacity int
	full           []byte        // the whole backing array
	claimed        *atomic.Int64 // length along axis claimed by some view
}

// NewWithRoom allocates a zeroed tensor of the given shape whose backing
// array has room for capacity entries along axis (capacity >= shape[axis]).
func NewWithRoom(dt DType, shape []int, axis, capacity int) (*Tensor, error) {
	if dt == String || dt.Size() == 0 {
		return nil, fmt.Errorf("tensor: no room for %s tensors", dt)
	}
	if axis < 0 || axis >= len(shape) {
		return nil, fmt.Errorf("tensor: room axis %d out of range for shape %v", axis, shape)
	}
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("tensor: negative dim in shape %v", shape)
		}
	}
	if capacity < shape[axis] {
		return nil, fmt.Errorf("tensor: capacity %d below length %d of axis %d", capacity, shape[axis], axis)
	}
	phys := append([]int(nil), shape...)
	phys[axis] = capacity
	full := AllocBytes(Numel(phys) * dt.Size())
	r := &roomInfo{axis: axis, capacity: capacity, full: full, claimed: new(atomic.Int64)}
	r.claimed.Store(int64(shape[axis]))
	return r.view(dt, shape), nil
}

// view builds the tensor of the given logical shape over r's backing array.
func (r *roomInfo) view(dt DType, shape []int) *Tensor {
	t := &Tensor{dtype: dt, shape: append([]int(nil), shape...), room: r}
	n := Numel(shape)
	if n == 0 {
		t.buf = r.full[:0]
		return t
	}
	st := t.Strides()
	last := 0
	for i, d := range shape {
		last += (d - 1) * st[i]
	}
	t.buf = r.full[:(last+1)*dt.Size()]
	return t
}

// Room returns the axis with spare capacity and that capacity, or (-1, 0)
// for an ordinary tensor.
func (t *Tensor) Room() (axis, capacity int) {
	if t.room == nil {
		return -1, 0
	}
	return t.room.axis, t.room.capacity
}

// Contiguous reports whether the elements are packed row-major in Bytes().
// Only a tensor with room can be non-contiguous.
func (t *Tensor) Contiguous() bool {
	r := t.room
	if r == nil || t.shape[r.axis] == r.capacity || t.Numel() == 0 {
		return true
	}
	return Numel(t.shape[:r.axis]) <= 1
}

// Compact returns t itself when it is contiguous, else a contiguous copy.
func (t *Tensor) Compact() *Tensor {
	if t.Contiguous() {
		return t
	}
	c := New(t.dtype, t.shape...)
	r := t.room
	es := t.dtype.Size()
	inner := Numel(t.shape[r.axis+1:]) * es
	run := t.shape[r.axis] * inner
	slab := r.capacity * inner
	outer := Numel(t.shape[:r.axis])
	for o := 0; o < outer; o++ {
		copy(c.buf[o*run:(o+1)*run], r.full[o*slab:o*slab+run])
	}
	return c
}

// Extend returns a view of t's backing array with n more entries along the
// room axis, for the caller to fill, and true; t itself is unchanged. It
// returns false, and allocates nothing, when t has no room, the room is
// short, or another view has already claimed the entries after t's end.
func (t *Tensor) Extend(n int) (*Tensor, bool) {
	r := t.room
	if r == nil || n < 0 {
		return nil, false
	}
	cur := t.shape[r.axis]
	if cur+n > r.capacity || !r.claimed.CompareAndSwap(int64(cur), int64(cur+n)) {
		return nil, false
	}
	shape := append([]int(nil), t.shape...)
	shape[r.axis] += n
	return r.view(t.dtype, shape), true
}

// phys maps the row-major index i of t's logical shape to the element index
// in Bytes().
func (t *Tensor) phys(i int) int {
	if t.Contiguous() {
		return i
	}
	r := t.room
	inner := Numel(t.shape[r.axis+1:])
	run := t.shape[r.axis] * inner
	return i/run*r.capacity*inner + i%run
}
