// Package kernels holds pure-Go compute kernels shared by the operator
// implementations: a cache-blocked, register-blocked float32 GEMM (Sgemm and
// Gemm, which also reads float16 operands directly).
//
// Results are deterministic: every output element is reduced by exactly one
// goroutine in a fixed k order, so the bits do not depend on the thread count.
package kernels
