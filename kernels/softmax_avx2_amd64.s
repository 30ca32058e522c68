//go:build !noasm && !purego && gc

#include "textflag.h"
#include "nk_amd64.h"
#include "nkmacros_amd64.h"

// func nkMaxF32AVX2(x *float32, n int) float32
// n is a multiple of 8 and >= 8.
TEXT ·nkMaxF32AVX2(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	SHRQ $3, CX
	VMOVUPS (SI), Y0
	ADDQ $32, SI
	DECQ CX
	JZ   maxred
maxloop:
	VMAXPS (SI), Y0, Y0
	ADDQ $32, SI
	DECQ CX
	JNZ  maxloop
maxred:
	VEXTRACTF128 $1, Y0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0x4e, X0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0xb1, X0, X1
	VMAXPS X1, X0, X0
	MOVSS X0, ret+16(FP)
	VZEROUPPER
	RET

// func nkExpSumF32AVX2(dst, src *float32, n int, m float32) float64
// n is a multiple of 8: dst[i] = exp(src[i]-m); the values are summed in
// two 4-double accumulators (low and high halves), added at the end.
TEXT ·nkExpSumF32AVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS m+24(FP), Y15
	VXORPD Y13, Y13, Y13
	VXORPD Y14, Y14, Y14
	SHRQ $3, CX
	JZ   esred
esloop:
	VMOVUPS (SI), Y0
	VSUBPS  Y15, Y0, Y0
	EXP_AVX2(Y0, Y1, Y2, Y3)
	VMOVUPS Y0, (DI)
	VCVTPS2PD X0, Y1
	VEXTRACTF128 $1, Y0, X2
	VCVTPS2PD X2, Y2
	VADDPD Y1, Y13, Y13
	VADDPD Y2, Y14, Y14
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  esloop
esred:
	VADDPD Y14, Y13, Y13
	VEXTRACTF128 $1, Y13, X14
	VADDPD X14, X13, X13
	VPERMILPD $1, X13, X14
	VADDSD X14, X13, X13
	VMOVSD X13, ret+32(FP)
	VZEROUPPER
	RET
