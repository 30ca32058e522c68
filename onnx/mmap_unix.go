//go:build unix

package onnx

import (
	"os"
	"sync"
	"syscall"
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
