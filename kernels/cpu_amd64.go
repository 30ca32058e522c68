//go:build !noasm && !purego && gc

package kernels

import "github.com/klauspost/cpuid/v2"

// archSets returns the amd64 assembly sets the CPU supports: avx2 needs
// AVX2, FMA3 and F16C; avx512 needs AVX-512 F, BW, VL and DQ as well (the
// kernel itself uses only F; BW/VL/DQ mark the server cores where the 512-bit
// path is worth it).
func archSets() []*Set {
	var out []*Set
	if !cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3, cpuid.F16C) {
		return nil
	}
	out = append(out, &Set{Name: "avx2", gemm: gemmAVX2, h2f: h2fAVX2, f16c: true})
	if cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512BW, cpuid.AVX512VL, cpuid.AVX512DQ) {
		out = append(out, &Set{Name: "avx512", gemm: gemmAVX512, h2f: h2fAVX2, f16c: true})
	}
	return out
}
