//go:build linux

package onnx

import (
	"os"
	"syscall"
	"unsafe"
)

// releaseMapped tells the kernel that the whole pages inside b, a weight
// read from a file mapping, will not be needed soon (MADV_DONTNEED): they
// leave the process's resident set and are read back from the page cache
// if touched again, with the same contents (the mapping is read-only and
// shared). Used after a kernel has made its own packed copy of a weight.
// b outside every mapping (heap memory) is left alone.
func releaseMapped(b []byte) {
	if len(b) == 0 {
		return
	}
	start := uintptr(unsafe.Pointer(&b[0]))
	end := start + uintptr(len(b))
	ps := uintptr(os.Getpagesize())
	mapped.Lock()
	defer mapped.Unlock()
	for _, r := range mapped.regions {
		base := uintptr(unsafe.Pointer(&r[0]))
		if start < base || end > base+uintptr(len(r)) {
			continue
		}
		// base is page-aligned (mmap), so offsets rounded to pages are pages.
		lo := (start - base + ps - 1) &^ (ps - 1)
		hi := (end - base) &^ (ps - 1)
		if hi > lo {
			_ = syscall.Madvise(r[lo:hi], syscall.MADV_DONTNEED)
		}
		return
	}
}
