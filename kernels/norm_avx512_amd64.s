//go:build !noasm && !purego && gc

#include "textflag.h"
#include "nk_amd64.h"
#include "nkmacros_amd64.h"

// Normalisation primitives, AVX-512F (+F16C conversions on 512-bit
// registers). See norm_avx512_amd64.go for the reference loops.

#define SUMSQ_STEP \
	VSUBPD  Z15, Z8, Z8; \
	VSUBPD  Z15, Z9, Z9; \
	VSUBPD  Z15, Z10, Z10; \
	VSUBPD  Z15, Z11, Z11; \
	VADDPD  Z8, Z0, Z0; \
	VADDPD  Z9, Z1, Z1; \
	VADDPD  Z10, Z2, Z2; \
	VADDPD  Z11, Z3, Z3; \
	VFMADD231PD Z8, Z8, Z4; \
	VFMADD231PD Z9, Z9, Z5; \
	VFMADD231PD Z10, Z10, Z6; \
	VFMADD231PD Z11, Z11, Z7

#define SUMSQ_PROLOGUE \
	MOVQ x+0(FP), SI; \
	MOVQ n+8(FP), CX; \
	VCVTSS2SD piv+16(FP), X15, X15; \
	VBROADCASTSD X15, Z15; \
	VPXORQ Z0, Z0, Z0; \
	VPXORQ Z1, Z1, Z1; \
	VPXORQ Z2, Z2, Z2; \
	VPXORQ Z3, Z3, Z3; \
	VPXORQ Z4, Z4, Z4; \
	VPXORQ Z5, Z5, Z5; \
	VPXORQ Z6, Z6, Z6; \
	VPXORQ Z7, Z7, Z7; \
	SHRQ $5, CX

#define SUMSQ_EPILOGUE \
	VADDPD Z1, Z0, Z0; \
	VADDPD Z3, Z2, Z2; \
	VADDPD Z2, Z0, Z0; \
	VEXTRACTF64X4 $1, Z0, Y1; \
	VADDPD Y1, Y0, Y0; \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPD X1, X0, X0; \
	VPERMILPD $1, X0, X1; \
	VADDSD X1, X0, X0; \
	VADDPD Z5, Z4, Z4; \
	VADDPD Z7, Z6, Z6; \
	VADDPD Z6, Z4, Z4; \
	VEXTRACTF64X4 $1, Z4, Y5; \
	VADDPD Y5, Y4, Y4; \
	VEXTRACTF128 $1, Y4, X5; \
	VADDPD X5, X4, X4; \
	VPERMILPD $1, X4, X5; \
	VADDSD X5, X4, X4; \
	MOVQ out+24(FP), DI; \
	VMOVSD X0, (DI); \
	VMOVSD X4, 8(DI); \
	VZEROUPPER

#define COLSUMSQ_PROLOGUE(SHIFT) \
	MOVQ x+0(FP), SI; \
	MOVQ rows+8(FP), R8; \
	MOVQ cols+16(FP), CX; \
	MOVQ ld+24(FP), R9; \
	SHLQ $SHIFT, R9; \
	MOVQ piv+32(FP), R10; \
	MOVQ s+40(FP), R11; \
	MOVQ q+48(FP), R12; \
	SHRQ $4, CX

#define COLSUMSQ_BLOCK_START \
	VCVTPS2PD (R10), Z12; \
	VCVTPS2PD 32(R10), Z13; \
	VMOVUPD (R11), Z0; \
	VMOVUPD 64(R11), Z1; \
	VMOVUPD (R12), Z2; \
	VMOVUPD 64(R12), Z3; \
	MOVQ SI, AX; \
	MOVQ R8, DX

#define COLSUMSQ_ROW \
	VSUBPD Z12, Z4, Z4; \
	VSUBPD Z13, Z5, Z5; \
	VADDPD Z4, Z0, Z0; \
	VADDPD Z5, Z1, Z1; \
	VFMADD231PD Z4, Z4, Z2; \
	VFMADD231PD Z5, Z5, Z3; \
	ADDQ R9, AX; \
	DECQ DX

#define COLSUMSQ_BLOCK_END \
	VMOVUPD Z0, (R11); \
	VMOVUPD Z1, 64(R11); \
	VMOVUPD Z2, (R12); \
	VMOVUPD Z3, 64(R12); \
	ADDQ $64, R10; \
	ADDQ $128, R11; \
	ADDQ $128, R12; \
	DECQ CX

#define AFFINE_PROLOGUE \
	MOVQ dst+0(FP), DI; \
	MOVQ src+8(FP), SI; \
	MOVQ n+16(FP), CX; \
	VBROADCASTSS m+24(FP), Z13; \
	VBROADCASTSS a+28(FP), Z14; \
	VBROADCASTSS b+32(FP), Z15; \
	MOVBLZX silu+36(FP), AX; \
	NK_LOADZ; \
	SHRQ $4, CX

#define NORMVEC_PROLOGUE \
	MOVQ dst+0(FP), DI; \
	MOVQ src+8(FP), SI; \
	MOVQ n+16(FP), CX; \
	VBROADCASTSS m+24(FP), Z13; \
	VBROADCASTSS s+28(FP), Z14; \
	VBROADCASTSS c+32(FP), Z12; \
	MOVQ gm+40(FP), R8; \
	MOVQ bt+48(FP), R9; \
	MOVBLZX silu+56(FP), AX; \
	NK_LOADZ; \
	SHRQ $4, CX

#define NORMVEC_BODY \
	VSUBPS  Z13, Z0, Z0; \
	VFMADD213PS Z12, Z14, Z0; \
	VMOVUPS (R8), Z1; \
	VFMADD213PS (R9), Z1, Z0; \
	ADDQ $64, R8; \
	ADDQ $64, R9

#define AFFINEVEC_PROLOGUE \
	MOVQ dst+0(FP), DI; \
	MOVQ src+8(FP), SI; \
	MOVQ n+16(FP), CX; \
	MOVQ m+24(FP), R10; \
	MOVQ a+32(FP), R8; \
	MOVQ b+40(FP), R9; \
	MOVBLZX silu+48(FP), AX; \
	NK_LOADZ; \
	SHRQ $4, CX

// AFFINEVEC_BODY: the first vector register = (X0-m)·a + b, then m, a, b advance one vector.
#define AFFINEVEC_BODY \
	VSUBPS  (R10), Z0, Z0; \
	VMOVUPS (R8), Z1; \
	VFMADD213PS (R9), Z1, Z0; \
	ADDQ $64, R8; \
	ADDQ $64, R9; \
	ADDQ $64, R10

// func nkSumSqF32AVX512(x *float32, n int, piv float32, out *[2]float64)
TEXT ·nkSumSqF32AVX512(SB), NOSPLIT, $0-32
	SUMSQ_PROLOGUE
	JZ   ssfdone
ssfloop:
	VCVTPS2PD (SI), Z8
	VCVTPS2PD 32(SI), Z9
	VCVTPS2PD 64(SI), Z10
	VCVTPS2PD 96(SI), Z11
	SUMSQ_STEP
	ADDQ $128, SI
	DECQ CX
	JNZ  ssfloop
ssfdone:
	SUMSQ_EPILOGUE
	RET

// func nkSumSqF16AVX512(x *uint16, n int, piv float32, out *[2]float64)
TEXT ·nkSumSqF16AVX512(SB), NOSPLIT, $0-32
	SUMSQ_PROLOGUE
	JZ   sshdone
sshloop:
	VCVTPH2PS (SI), Z8
	VCVTPH2PS 32(SI), Z10
	VEXTRACTF32X8 $1, Z8, Y9
	VEXTRACTF32X8 $1, Z10, Y11
	VCVTPS2PD Y8, Z8
	VCVTPS2PD Y9, Z9
	VCVTPS2PD Y10, Z10
	VCVTPS2PD Y11, Z11
	SUMSQ_STEP
	ADDQ $64, SI
	DECQ CX
	JNZ  sshloop
sshdone:
	SUMSQ_EPILOGUE
	RET

// func nkColSumSqF32AVX512(x *float32, rows, cols, ld int, piv *float32, s, q *float64)
TEXT ·nkColSumSqF32AVX512(SB), NOSPLIT, $0-56
	COLSUMSQ_PROLOGUE(2)
	JZ   csfdone
csfcol:
	COLSUMSQ_BLOCK_START
csfrow:
	VCVTPS2PD (AX), Z4
	VCVTPS2PD 32(AX), Z5
	COLSUMSQ_ROW
	JNZ  csfrow
	COLSUMSQ_BLOCK_END
	LEAQ 64(SI), SI
	JNZ  csfcol
csfdone:
	VZEROUPPER
	RET

// func nkColSumSqF16AVX512(x *uint16, rows, cols, ld int, piv *float32, s, q *float64)
TEXT ·nkColSumSqF16AVX512(SB), NOSPLIT, $0-56
	COLSUMSQ_PROLOGUE(1)
	JZ   cshdone
cshcol:
	COLSUMSQ_BLOCK_START
cshrow:
	VCVTPH2PS (AX), Z4
	VEXTRACTF32X8 $1, Z4, Y5
	VCVTPS2PD Y4, Z4
	VCVTPS2PD Y5, Z5
	COLSUMSQ_ROW
	JNZ  cshrow
	COLSUMSQ_BLOCK_END
	LEAQ 32(SI), SI
	JNZ  cshcol
cshdone:
	VZEROUPPER
	RET

// func nkAffineF32AVX512(dst, src *float32, n int, m, a, b float32, silu bool)
TEXT ·nkAffineF32AVX512(SB), NOSPLIT, $0-37
	AFFINE_PROLOGUE
	JZ   afdone
	TESTL AX, AX
	JNZ  afsilu
afloop:
	VMOVUPS (SI), Z0
	VSUBPS  Z13, Z0, Z0
	VFMADD213PS Z15, Z14, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  afloop
	JMP  afdone
afsilu:
	VMOVUPS (SI), Z0
	VSUBPS  Z13, Z0, Z0
	VFMADD213PS Z15, Z14, Z0
	SILU_AVX512(Z0, Z1, Z2, Z3, Z4)
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  afsilu
afdone:
	VZEROUPPER
	RET

// func nkAffineF16AVX512(dst, src *uint16, n int, m, a, b float32, silu bool)
TEXT ·nkAffineF16AVX512(SB), NOSPLIT, $0-37
	AFFINE_PROLOGUE
	JZ   ahdone
	TESTL AX, AX
	JNZ  ahsilu
ahloop:
	VCVTPH2PS (SI), Z0
	VSUBPS  Z13, Z0, Z0
	VFMADD213PS Z15, Z14, Z0
	VCVTPS2PH $0, Z0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  ahloop
	JMP  ahdone
ahsilu:
	VCVTPH2PS (SI), Z0
	VSUBPS  Z13, Z0, Z0
	VFMADD213PS Z15, Z14, Z0
	SILU_AVX512(Z0, Z1, Z2, Z3, Z4)
	VCVTPS2PH $0, Z0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  ahsilu
ahdone:
	VZEROUPPER
	RET

// func nkNormVecF32AVX512(dst, src *float32, n int, m, s, c float32, gm, bt *float32, silu bool)
TEXT ·nkNormVecF32AVX512(SB), NOSPLIT, $0-57
	NORMVEC_PROLOGUE
	JZ   nfdone
	TESTL AX, AX
	JNZ  nfsilu
nfloop:
	VMOVUPS (SI), Z0
	NORMVEC_BODY
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  nfloop
	JMP  nfdone
nfsilu:
	VMOVUPS (SI), Z0
	NORMVEC_BODY
	SILU_AVX512(Z0, Z1, Z2, Z3, Z4)
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  nfsilu
nfdone:
	VZEROUPPER
	RET

// func nkNormVecF16AVX512(dst, src *uint16, n int, m, s, c float32, gm, bt *float32, silu bool)
TEXT ·nkNormVecF16AVX512(SB), NOSPLIT, $0-57
	NORMVEC_PROLOGUE
	JZ   nhdone
	TESTL AX, AX
	JNZ  nhsilu
nhloop:
	VCVTPH2PS (SI), Z0
	NORMVEC_BODY
	VCVTPS2PH $0, Z0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  nhloop
	JMP  nhdone
nhsilu:
	VCVTPH2PS (SI), Z0
	NORMVEC_BODY
	SILU_AVX512(Z0, Z1, Z2, Z3, Z4)
	VCVTPS2PH $0, Z0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  nhsilu
nhdone:
	VZEROUPPER
	RET

// func nkAffineVecF32AVX512(dst, src *float32, n int, m, a, b *float32, silu bool)
TEXT ·nkAffineVecF32AVX512(SB), NOSPLIT, $0-49
	AFFINEVEC_PROLOGUE
	JZ   avfdone
	TESTL AX, AX
	JNZ  avfsilu
avfloop:
	VMOVUPS (SI), Z0
	AFFINEVEC_BODY
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  avfloop
	JMP  avfdone
avfsilu:
	VMOVUPS (SI), Z0
	AFFINEVEC_BODY
	SILU_AVX512(Z0, Z1, Z2, Z3, Z4)
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  avfsilu
avfdone:
	VZEROUPPER
	RET

// func nkAffineVecF16AVX512(dst, src *uint16, n int, m, a, b *float32, silu bool)
TEXT ·nkAffineVecF16AVX512(SB), NOSPLIT, $0-49
	AFFINEVEC_PROLOGUE
	JZ   avhdone
	TESTL AX, AX
	JNZ  avhsilu
avhloop:
	VCVTPH2PS (SI), Z0
	AFFINEVEC_BODY
	VCVTPS2PH $0, Z0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  avhloop
	JMP  avhdone
avhsilu:
	VCVTPH2PS (SI), Z0
	AFFINEVEC_BODY
	SILU_AVX512(Z0, Z1, Z2, Z3, Z4)
	VCVTPS2PH $0, Z0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  avhsilu
avhdone:
	VZEROUPPER
	RET
