//go:build (amd64 || arm64) && !noasm && !purego && gc

package kernels

import (
	"testing"
	"unsafe"
)

// TestQGemvArgsLayout pins the field offsets of the argument blocks that
// the assembly reads by number.
func TestQGemvArgsLayout(t *testing.T) {
	var i qkI8Args
	var f qkF32Args
	var h hgArgs
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"i8.rowBytes", unsafe.Offsetof(i.rowBytes), 8}, {"i8.cols", unsafe.Offsetof(i.cols), 16},
		{"i8.groups", unsafe.Offsetof(i.groups), 24}, {"i8.sub", unsafe.Offsetof(i.sub), 32},
		{"i8.aq", unsafe.Offsetof(i.aq), 40}, {"i8.mp", unsafe.Offsetof(i.mp), 48},
		{"i8.asum", unsafe.Offsetof(i.asum), 56}, {"i8.sa", unsafe.Offsetof(i.sa), 64},
		{"i8.ws", unsafe.Offsetof(i.ws), 72}, {"i8.wsF16", unsafe.Offsetof(i.wsF16), 80},
		{"i8.wsColStep", unsafe.Offsetof(i.wsColStep), 88}, {"i8.zp", unsafe.Offsetof(i.zp), 96},
		{"i8.zrow", unsafe.Offsetof(i.zrow), 104}, {"i8.c", unsafe.Offsetof(i.c), 112},
		{"i8.ldc", unsafe.Offsetof(i.ldc), 120}, {"i8.tail", unsafe.Offsetof(i.tail), 128},
		{"i8.tmask", unsafe.Offsetof(i.tmask), 136}, {"i8.pmask", unsafe.Offsetof(i.pmask), 168},
		{"i8.hmask", unsafe.Offsetof(i.hmask), 296},
		{"f32.cols", unsafe.Offsetof(f.cols), 8}, {"f32.nb", unsafe.Offsetof(f.nb), 16},
		{"f32.sub", unsafe.Offsetof(f.sub), 24}, {"f32.a", unsafe.Offsetof(f.a), 32},
		{"f32.aStep", unsafe.Offsetof(f.aStep), 40}, {"f32.m", unsafe.Offsetof(f.m), 48},
		{"f32.asum", unsafe.Offsetof(f.asum), 56}, {"f32.asumStep", unsafe.Offsetof(f.asumStep), 64},
		{"f32.ws", unsafe.Offsetof(f.ws), 72}, {"f32.wsF16", unsafe.Offsetof(f.wsF16), 80},
		{"f32.zp", unsafe.Offsetof(f.zp), 88}, {"f32.zpMode", unsafe.Offsetof(f.zpMode), 96},
		{"f32.zpColStep", unsafe.Offsetof(f.zpColStep), 104}, {"f32.c", unsafe.Offsetof(f.c), 112},
		{"f32.ldc", unsafe.Offsetof(f.ldc), 120},
		{"hg.ldb", unsafe.Offsetof(h.ldb), 8}, {"hg.k", unsafe.Offsetof(h.k), 16},
		{"hg.a", unsafe.Offsetof(h.a), 24}, {"hg.lda", unsafe.Offsetof(h.lda), 32},
		{"hg.m", unsafe.Offsetof(h.m), 40}, {"hg.c", unsafe.Offsetof(h.c), 48},
		{"hg.ldc", unsafe.Offsetof(h.ldc), 56}, {"hg.cols", unsafe.Offsetof(h.cols), 64},
	} {
		if c.got != c.want {
			t.Errorf("offset of %s = %d, the assembly reads %d", c.name, c.got, c.want)
		}
	}
}
