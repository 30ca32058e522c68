//go:build !noasm && !purego && gc

package kernels

// The AVX-512 twins of the routines in act_avx2_amd64.go, 16 floats per
// step (n a multiple of 16):
//
//	for i := 0; i < n; i++ { dst[i] = f(src[i]) }

//go:noescape
func nkExpF32AVX512(dst, src *float32, n int)

//go:noescape
func nkErfF32AVX512(dst, src *float32, n int)

//go:noescape
func nkTanhF32AVX512(dst, src *float32, n int)

//go:noescape
func nkSigmoidF32AVX512(dst, src *float32, n int)

//go:noescape
func nkSiluF32AVX512(dst, src *float32, n int)

//go:noescape
func nkGeluF32AVX512(dst, src *float32, n int)
