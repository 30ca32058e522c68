//go:build !noasm && !purego && gc

#include "textflag.h"
#include "nk_amd64.h"
#include "nkmacros_amd64.h"

// func nkMaxF32AVX512(x *float32, n int) float32
// n is a multiple of 16 and >= 16.
TEXT ·nkMaxF32AVX512(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	SHRQ $4, CX
	VMOVUPS (SI), Z0
	ADDQ $64, SI
	DECQ CX
	JZ   maxred
maxloop:
	VMAXPS (SI), Z0, Z0
	ADDQ $64, SI
	DECQ CX
	JNZ  maxloop
maxred:
	VEXTRACTF64X4 $1, Z0, Y1
	VMAXPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0x4e, X0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0xb1, X0, X1
	VMAXPS X1, X0, X0
	MOVSS X0, ret+16(FP)
	VZEROUPPER
	RET

// func nkExpSumF32AVX512(dst, src *float32, n int, m float32) float64
// n is a multiple of 16: dst[i] = exp(src[i]-m); the values are summed in
// two 8-double accumulators (low and high halves), added at the end.
TEXT ·nkExpSumF32AVX512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS m+24(FP), Z15
	VPXORQ Z13, Z13, Z13
	VPXORQ Z14, Z14, Z14
	NK_LOADZ
	SHRQ $4, CX
	JZ   esred
esloop:
	VMOVUPS (SI), Z0
	VSUBPS  Z15, Z0, Z0
	EXP_AVX512(Z0, Z1, Z2, Z3)
	VMOVUPS Z0, (DI)
	VCVTPS2PD Y0, Z1
	VEXTRACTF32X8 $1, Z0, Y2
	VCVTPS2PD Y2, Z2
	VADDPD Z1, Z13, Z13
	VADDPD Z2, Z14, Z14
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  esloop
esred:
	VADDPD Z14, Z13, Z13
	VEXTRACTF64X4 $1, Z13, Y14
	VADDPD Y14, Y13, Y13
	VEXTRACTF128 $1, Y13, X14
	VADDPD X14, X13, X13
	VPERMILPD $1, X13, X14
	VADDSD X14, X13, X13
	VMOVSD X13, ret+32(FP)
	VZEROUPPER
	RET
