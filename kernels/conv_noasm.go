//go:build !(amd64 || arm64) || noasm || purego || !gc

package kernels

// plugConv gives every set the pure-Go convolution transforms.
func plugConv(s *Set) { s.wino = winoGeneric }
