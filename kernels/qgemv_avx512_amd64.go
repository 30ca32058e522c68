//go:build !noasm && !purego && gc

package kernels

// qkI8VNNI is qkI8AVX2 with each pair of VPMADDUBSW/VPADDW replaced by
// one VPDPBUSD (AVX512_VNNI + AVX512VL, EVEX on 256-bit vectors) summing
// straight into int32 lanes:
//
//	for g < groups, r < mp: for b < nb: acc[r][0:8] += float32(s[r][b][0:8]) * (sa[b,r] * ws[0:8,b])
//
//go:noescape
func qkI8VNNI(p *qkI8Args)
