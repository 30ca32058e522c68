//go:build !noasm && !purego && gc

package kernels

// Each routine processes n floats (n a multiple of 8) with the formula of
// its Go twin, one 8-lane vector at a time:
//
//	for i := 0; i < n; i++ { dst[i] = f(src[i]) }
//
// f is Exp32 (expGeneric), Erf32, Tanh32, nkSigmoid32, nkSiLU32 or
// nkGelu32; f2hF16C narrows to float16 (f2hGeneric).

//go:noescape
func expF32AVX2(dst, src *float32, n int)

//go:noescape
func erfF32AVX2(dst, src *float32, n int)

//go:noescape
func tanhF32AVX2(dst, src *float32, n int)

//go:noescape
func sigmoidF32AVX2(dst, src *float32, n int)

//go:noescape
func siluF32AVX2(dst, src *float32, n int)

//go:noescape
func geluF32AVX2(dst, src *float32, n int)

//go:noescape
func f2hF16C(dst *uint16, src *float32, n int)
