//go:build !noasm && !purego && gc

package kernels

import "github.com/klauspost/cpuid/v2"

// qkAMD64 returns the GEMV kernels of the amd64 sets (avx2 and avx512).
// The int8 kernel is the VNNI one (EVEX VPDPBUSD on 256-bit vectors: no
// 512-bit instruction, so it suits the avx2 set too) when the CPU has
// AVX512_VNNI and AVX512VL, otherwise the VPMADDUBSW one: on the EPYC Zen 4
// project machine, 2x2048x5632 4-bit int8 took 0.27-0.29 ms against
// 0.32-0.37 ms single-threaded (kernel only). The float and fp16 kernels
// are AVX2 in both sets: they are bound by memory or by the nibble
// unpacking, which 512-bit vectors (split in two halves on Zen 4) would
// not speed up.
func qkAMD64(vnni bool) qkImpl {
	q := qkImpl{
		i8:  func(j qkI8Job) { qkI8Call(qkI8AVX2, j) },
		f32: func(j qkF32Job) { qkF32Call(qkF32AVX2, j) },
		hg:  func(j hgJob) { hgCall(hgAVX2, j) },
		dot: "vpmaddubsw",
	}
	if vnni {
		q.i8 = func(j qkI8Job) { qkI8Call(qkI8VNNI, j) }
		q.dot = "vpdpbusd"
	}
	return q
}

// qkI8Variants lists every int8 kernel this CPU can run, for the tests
// (the sets use only one of them).
func qkI8Variants() map[string]func(qkI8Job) {
	v := map[string]func(qkI8Job){"vpmaddubsw": qkAMD64(false).i8}
	if cpuid.CPU.Supports(cpuid.AVX512VNNI, cpuid.AVX512VL) {
		v["vpdpbusd"] = qkAMD64(true).i8
	}
	return v
}
