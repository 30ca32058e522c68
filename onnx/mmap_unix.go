//go:build unix

package onnx

import (
	"os"
	"sync"
	"syscall"
	"unsafe"
)

// mapped lists the live read-only file mappings, so releaseMapped can tell
// mapped weights from heap memory (where MADV_DONTNEED would zero data).
var mapped struct {
	sync.Mutex
	regions [][]byte
}

// mapFile maps a file read-only. Empty files map to an empty slice.
func mapFile(f *os.File, size int64) ([]byte, func() error, error) {
	if size == 0 {
		return []byte{}, func() error { return nil }, nil
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	mapped.Lock()
	mapped.regions = append(mapped.regions, b)
	mapped.Unlock()
	return b, func() error {
		mapped.Lock()
		defer mapped.Unlock()
		for i, r := range mapped.regions {
			if &r[0] == &b[0] {
				mapped.regions = append(mapped.regions[:i], mapped.regions[i+1:]...)
				break
			}
		}
		return syscall.Munmap(b)
	}, nil
}

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
