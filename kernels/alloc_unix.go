//go:build unix

package kernels

import "syscall"

// bigAlloc returns n zeroed bytes outside the Go heap (an anonymous
// mapping), for long-lived derived weights: memory the garbage collector
// neither scans nor counts toward its heap goal (1.6 GB of packed UNet
// weights on the heap would let the collector defer work until the heap
// doubled). ok is false when the memory came from make instead.
func bigAlloc(n int) (b []byte, ok bool) {
	if n <= 0 {
		return nil, false
	}
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]byte, n), false
	}
	return b, true
}

// bigFree returns memory from bigAlloc (ok as it reported).
func bigFree(b []byte, ok bool) {
	if ok && len(b) > 0 {
		_ = syscall.Munmap(b)
	}
}
