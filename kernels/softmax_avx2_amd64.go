//go:build !noasm && !purego && gc

package kernels

// nkMaxF32AVX2 is nkMaxGeneric for n a multiple of 8, n >= 8 (NaNs are not
// propagated: a NaN in the row still makes the softmax NaN through exp).
//
//go:noescape
func nkMaxF32AVX2(x *float32, n int) float32

// nkExpSumF32AVX2 is nkExpSumGeneric for n a multiple of 8 (vector exp, the
// sum in float64 lanes combined in a fixed order):
//
//	for i < n { e := Exp32(src[i]-m); dst[i] = e; sum += float64(e) }
//
//go:noescape
func nkExpSumF32AVX2(dst, src *float32, n int, m float32) float64
