//go:build !unix

package kernels

// bigAlloc returns n zeroed bytes from the Go heap where anonymous
// mappings are not available.
func bigAlloc(n int) ([]byte, bool) { return make([]byte, n), false }

// bigFree is a no-op for heap memory.
func bigFree([]byte, bool) {}
