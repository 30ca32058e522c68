//go:build !noasm && !purego && gc

package kernels

// qkAVX2 and qkAVX512 are the GEMV kernels of the amd64 sets. The avx512
// set takes the VNNI int8 kernel (EVEX VPDPBUSD on 256-bit vectors) when the
// CPU has AVX512_VNNI, otherwise the AVX2 one; its float and fp16 kernels
// are the AVX2 ones (memory-bound: 512-bit vectors would not read faster,
// and Zen 4 splits them in two halves anyway).
var qkAVX2 = qkImpl{
	i8:  func(j qkI8Job) { qkI8Call(qkI8AVX2, j) },
	f32: func(j qkF32Job) { qkF32Call(qkF32AVX2, j) },
	hg:  func(j hgJob) { hgCall(hgAVX2, j) },
	dot: "vpmaddubsw",
}

func qkAVX512(vnni bool) qkImpl {
	q := qkAVX2
	if vnni {
		q.i8 = func(j qkI8Job) { qkI8Call(qkI8VNNI, j) }
		q.dot = "vpdpbusd"
	}
	return q
}
