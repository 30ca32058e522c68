// Package kernels holds the compute kernels shared by the operator
// implementations: a cache-blocked, register-blocked float32 GEMM (Sgemm and
// Gemm, which also reads float16 operands directly, widening them while
// packing; GemmEpilogue adds a bias / residual / scale / activation
// epilogue and a transposed store; PackB and GemmPacked keep a constant
// weight prepacked, float16 panels widened in the micro-kernel), a
// Winograd F(4x4,3x3) convolution for 3x3 stride-1 layers (WinogradFilter,
// conv.go: transformed filters, or lazy ones transformed during each call
// with no more memory than the weights), a fused flash-style attention (Attend: online
// softmax over key tiles with a vectorised exp, float16 K/V widened per tile
// or in registers, additive/boolean/causal masks, prefill and decode
// schedules), and vectorised normalisation, softmax and activation kernels.
//
// Kernel sets. At start-up the package detects the CPU (klauspost/cpuid) and
// selects one set of micro-kernels: "generic" (pure Go, always available and
// the oracle for the others), "avx2" (AVX2+FMA+F16C, 6x16 tile), "avx512"
// (AVX-512 F/BW/VL/DQ, 12x32 tile) or "neon" (arm64, 8x8 tile). The
// environment variable ENGINE_CPU=generic|avx2|avx512|neon overrides the
// choice but never selects a set the CPU cannot run (see EnvError); Sets and
// Use do the same programmatically, and Describe returns a one-line summary.
// The build tags noasm and purego (and non-gc compilers) keep only the
// generic set.
//
// Results are deterministic: every output element is reduced by exactly one
// goroutine in a fixed k order with a tile layout fixed per set, so the bits
// do not depend on the thread count (they may differ in the last bits between
// sets).
package kernels
