package tensor

import (
	"strings"
	"testing"
)

// roomFill makes a [2,3,n,2] float32 tensor with room for capacity entries
// along axis 2, element (b,h,s,d) = 1000b + 100h + 10s + d.
func roomFill(t *testing.T, n, capacity int) *Tensor {
	t.Helper()
	r, err := NewWithRoom(Float, []int{2, 3, 0, 2}, 2, capacity)
	if err != nil {
		t.Fatal(err)
	}
	v, ok := r.Extend(n)
	if !ok {
		t.Fatalf("Extend(%d) failed", n)
	}
	for i := 0; i < v.Numel(); i++ {
		b, h, s, d := i/(3*n*2), i/(n*2)%3, i/2%n, i%2
		v.Set(i, float64(1000*b+100*h+10*s+d))
	}
	return v
}

func TestRoomViews(t *testing.T) {
	v := roomFill(t, 2, 5)
	if v.Contiguous() {
		t.Fatal("[2,3,2,2] view of capacity 5 reported contiguous")
	}
	if ax, c := v.Room(); ax != 2 || c != 5 {
		t.Fatalf("Room() = %d, %d", ax, c)
	}
	if got, want := v.Strides(), []int{30, 10, 2, 1}; !SameShape(got, want) {
		t.Fatalf("Strides() = %v, want %v", got, want)
	}
	c := v.Compact()
	if !c.Contiguous() || c.Numel() != 24 {
		t.Fatalf("Compact() = %s", c)
	}
	for i, x := range c.F32() {
		if float64(x) != v.At(i) {
			t.Fatalf("Compact()[%d] = %g, At = %g", i, x, v.At(i))
		}
	}
	if c.F32()[23] != 1000+200+10+1 {
		t.Fatalf("last element %g", c.F32()[23])
	}
	if got := v.Float64s(); got[5] != 1*100+0+1 || len(got) != 24 {
		t.Fatalf("Float64s() = %v", got)
	}
	if _, err := v.Reshape(24); err == nil {
		t.Error("Reshape of a non-contiguous view succeeded")
	}
	if cl := v.Clone(); !cl.Contiguous() || cl.F32()[23] != c.F32()[23] {
		t.Error("Clone of a view is not a compact copy")
	}

	// Extend writes nothing of its own and keeps the old rows in place.
	w, ok := v.Extend(1)
	if !ok || !SameShape(w.Shape(), []int{2, 3, 3, 2}) || &w.Bytes()[0] != &v.Bytes()[0] {
		t.Fatalf("Extend(1) = %v, %v", w, ok)
	}
	if w.At(3*3*2+2*3*2-1) != 0 || w.At(3*2+2) != 100+10 {
		t.Fatal("Extend moved data")
	}
	// The room after v is now claimed by w: a second Extend of v fails.
	if _, ok := v.Extend(1); ok {
		t.Error("Extend of a view whose room is claimed succeeded")
	}
	if _, ok := w.Extend(3); ok {
		t.Error("Extend beyond the capacity succeeded")
	}
	if full, ok := w.Extend(2); !ok || !full.Contiguous() {
		t.Error("a view filling the capacity should be contiguous")
	}
}

func TestRoomContiguousCases(t *testing.T) {
	one, err := NewWithRoom(Float16, []int{1, 1, 3, 4}, 2, 8)
	if err != nil {
		t.Fatal(err)
	}
	if !one.Contiguous() || len(one.Bytes()) != 3*4*2 {
		t.Errorf("single-slab view: contiguous %v, %d bytes", one.Contiguous(), len(one.Bytes()))
	}
	if r, err := one.Reshape(12); err != nil || r.Numel() != 12 {
		t.Errorf("Reshape of a contiguous view: %v", err)
	}
	empty, _ := NewWithRoom(Float, []int{2, 2, 0, 4}, 2, 8)
	if !empty.Contiguous() || len(empty.Bytes()) != 0 {
		t.Error("empty view")
	}
	if ax, _ := New(Float, 2).Room(); ax != -1 {
		t.Error("ordinary tensor reports room")
	}
	for _, c := range []struct {
		dt    DType
		shape []int
		axis  int
		cap   int
		want  string
	}{
		{Float, []int{2, 3}, 2, 4, "axis"},
		{Float, []int{2, 3}, 1, 2, "capacity"},
		{String, []int{2}, 0, 4, "no room"},
		{Float, []int{-1, 3}, 1, 4, "negative"},
	} {
		if _, err := NewWithRoom(c.dt, c.shape, c.axis, c.cap); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewWithRoom(%s, %v, %d, %d): %v, want error with %q", c.dt, c.shape, c.axis, c.cap, err, c.want)
		}
	}
}
