//go:build !noasm && !purego && gc

package kernels

// plugConv installs the convolution transforms of set s.
func plugConv(s *Set) { s.wino = winoGeneric }
