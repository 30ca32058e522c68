//go:build !noasm && !purego && gc

package kernels

// The AVX-512 twins of the routines in act_avx2_amd64.go, 16 floats per
// step (n a multiple of 16):
//
//	for i := 0; i < n; i++ { dst[i] = f(src[i]) }

//go:noescape
func expF32AVX512(dst, src *float32, n int)

//go:noescape
func erfF32AVX512(dst, src *float32, n int)

//go:noescape
func tanhF32AVX512(dst, src *float32, n int)

//go:noescape
func sigmoidF32AVX512(dst, src *float32, n int)

//go:noescape
func siluF32AVX512(dst, src *float32, n int)

//go:noescape
func geluF32AVX512(dst, src *float32, n int)
