//go:build !linux

package onnx

// releaseMapped does nothing where madvise(MADV_DONTNEED) is not used
// (non-Linux systems, or weights read into memory): the mapped pages of a
// packed weight stay until the kernel reclaims them.
func releaseMapped([]byte) {}
