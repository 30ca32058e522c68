package kernels

// Elementwise activations and vectorised elementary functions on float32
// slices. The vector exp follows Exp32 (Cephes range reduction by ln 2 and a
// degree-6 polynomial, 2^n applied in two steps so that subnormal and
// near-overflow results are exact to rounding), erf and tanh evaluate the
// rational approximations of Erf32 and Tanh32, and Gelu switches to the
// Cephes erfc where 1+erf cancels. The results stay within a few ulp of
// the scalar functions in math32.go (tested). Each function runs on the
// calling goroutine; dst may alias src and must be at least as long.

// ExpF32 writes dst[i] = exp(src[i]).
func ExpF32(dst, src []float32) { nkCheckAct(dst, src); active.Load().nk.exp(dst, src) }

// ErfF32 writes dst[i] = erf(src[i]).
func ErfF32(dst, src []float32) { nkCheckAct(dst, src); active.Load().nk.erf(dst, src) }

// TanhF32 writes dst[i] = tanh(src[i]).
func TanhF32(dst, src []float32) { nkCheckAct(dst, src); active.Load().nk.tanh(dst, src) }

// SigmoidF32 writes dst[i] = 1/(1+exp(-src[i])).
func SigmoidF32(dst, src []float32) { nkCheckAct(dst, src); active.Load().nk.sigmoid(dst, src) }

// SiLUF32 writes dst[i] = src[i]·sigmoid(src[i]).
func SiLUF32(dst, src []float32) { nkCheckAct(dst, src); active.Load().nk.silu(dst, src) }

// GeluF32 writes the exact GELU dst[i] = 0.5·x·(1+erf(x/√2)), x = src[i].
func GeluF32(dst, src []float32) { nkCheckAct(dst, src); active.Load().nk.gelu(dst, src) }

// F16ToF32 widens float16 bits: dst[i] = float32(src[i]).
func F16ToF32(dst []float32, src []uint16) { active.Load().h2f(dst, src) }

// F32ToF16 narrows to float16 bits, rounding to nearest even.
func F32ToF16(dst []uint16, src []float32) { active.Load().nk.f2h(dst, src) }

// cvtChunk is the element count of one task of the parallel conversions.
const cvtChunk = 1 << 16

// F16ToF32Par is F16ToF32 split over up to threads goroutines.
func F16ToF32Par(dst []float32, src []uint16, threads int) {
	if len(dst) < len(src) {
		panic(errShortConv)
	}
	s := active.Load()
	n := len(src)
	Parallel(nkThreads(threads, n), (n+cvtChunk-1)/cvtChunk, func(t int) {
		lo, hi := t*cvtChunk, min(n, (t+1)*cvtChunk)
		s.h2f(dst[lo:hi], src[lo:hi])
	})
}

// F32ToF16Par is F32ToF16 split over up to threads goroutines.
func F32ToF16Par(dst []uint16, src []float32, threads int) {
	if len(dst) < len(src) {
		panic(errShortConv)
	}
	s := active.Load()
	n := len(src)
	Parallel(nkThreads(threads, n), (n+cvtChunk-1)/cvtChunk, func(t int) {
		lo, hi := t*cvtChunk, min(n, (t+1)*cvtChunk)
		s.nk.f2h(dst[lo:hi], src[lo:hi])
	})
}

func nkCheckAct(dst, src []float32) {
	if len(dst) < len(src) {
		panic(nkErrShortY)
	}
}
