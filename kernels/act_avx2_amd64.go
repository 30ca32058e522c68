//go:build !noasm && !purego && gc

package kernels

// Each routine processes n floats (n a multiple of 8) with the formula of
// its Go twin, one 8-lane vector at a time:
//
//	for i := 0; i < n; i++ { dst[i] = f(src[i]) }
//
// f is Exp32 (nkExpGeneric), Erf32, Tanh32, nkSigmoid32, nkSiLU32 or
// nkGelu32; nkF2hF16C narrows to float16 (nkF2hGeneric).

//go:noescape
func nkExpF32AVX2(dst, src *float32, n int)

//go:noescape
func nkErfF32AVX2(dst, src *float32, n int)

//go:noescape
func nkTanhF32AVX2(dst, src *float32, n int)

//go:noescape
func nkSigmoidF32AVX2(dst, src *float32, n int)

//go:noescape
func nkSiluF32AVX2(dst, src *float32, n int)

//go:noescape
func nkGeluF32AVX2(dst, src *float32, n int)

//go:noescape
func nkF2hF16C(dst *uint16, src *float32, n int)
