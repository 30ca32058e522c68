//go:build !noasm && !purego && gc

package kernels

func faPlug(s *Set) { s.attn = &faGeneric }
