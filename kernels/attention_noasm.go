//go:build !(amd64 || arm64) || noasm || purego || !gc

package kernels

// faPlug keeps the generic attention kernels (no assembly in this build).
func faPlug(s *Set) { s.attn = &faGeneric }
