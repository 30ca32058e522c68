//go:build !noasm && !purego && gc

package kernels

import "github.com/klauspost/cpuid/v2"

// archSets returns the amd64 assembly sets the CPU supports: avx2 needs
// AVX2, FMA3 and F16C; avx512 needs AVX-512 F, BW, VL and DQ as well (the
// kernel itself uses only F; BW/VL/DQ mark the server cores where the 512-bit
// path is worth it).
//
// The default is avx512 except on AMD Zen 4 (family 0x19), which executes
// 512-bit FMAs as two 256-bit halves: there the 6x16 AVX2 kernel measured
// 91-95 GFLOP/s single-threaded and 169 GFLOP/s on 2 cores for 1024^3 against
// 88-90 and 153 GFLOP/s for the 12x32 AVX-512 kernel (EPYC, 2 vCPUs, shared
// host). ENGINE_CPU=avx512 still selects it.
func archSets() (sets []*Set, def string) {
	if !cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3, cpuid.F16C) {
		return nil, ""
	}
	vnni := cpuid.CPU.Supports(cpuid.AVX512VNNI, cpuid.AVX512VL)
	sets = append(sets, &Set{Name: "avx2", gemm: gemmAVX2, h2f: h2fAVX2, f16c: true, nk: nkAVX2, qk: qkAMD64(vnni)})
	if cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512BW, cpuid.AVX512VL, cpuid.AVX512DQ) {
		sets = append(sets, &Set{Name: "avx512", gemm: gemmAVX512, h2f: h2fAVX2, f16c: true, nk: nkAVX512, qk: qkAMD64(vnni)})
		if cpuid.CPU.VendorID == cpuid.AMD && cpuid.CPU.Family == 0x19 {
			def = "avx2"
		}
	}
	return sets, def
}
