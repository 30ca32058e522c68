//go:build !(amd64 || arm64) || noasm || purego || !gc

package kernels

// qkI8Variants lists the int8 GEMV kernels of this build: none, the sets
// keep the pure-Go code.
func qkI8Variants() map[string]func(qkI8Job) { return nil }
