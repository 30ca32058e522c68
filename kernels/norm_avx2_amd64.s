//go:build !noasm && !purego && gc

#include "textflag.h"
#include "nk_amd64.h"
#include "nkmacros_amd64.h"

// Normalisation primitives, AVX2+FMA+F16C. See norm_avx2_amd64.go for the
// reference loop of each routine.

// SUMSQ_STEP accumulates four vectors of 4 doubles: d = v - piv (Y15),
// Y0..Y3 += d, Y4..Y7 += d·d.
#define SUMSQ_STEP \
	VSUBPD  Y15, Y8, Y8; \
	VSUBPD  Y15, Y9, Y9; \
	VSUBPD  Y15, Y10, Y10; \
	VSUBPD  Y15, Y11, Y11; \
	VADDPD  Y8, Y0, Y0; \
	VADDPD  Y9, Y1, Y1; \
	VADDPD  Y10, Y2, Y2; \
	VADDPD  Y11, Y3, Y3; \
	VFMADD231PD Y8, Y8, Y4; \
	VFMADD231PD Y9, Y9, Y5; \
	VFMADD231PD Y10, Y10, Y6; \
	VFMADD231PD Y11, Y11, Y7

// SUMSQ_PROLOGUE loads x (SI), n/16 (CX) and piv as doubles (Y15) and
// clears the accumulators.
#define SUMSQ_PROLOGUE \
	MOVQ x+0(FP), SI; \
	MOVQ n+8(FP), CX; \
	VCVTSS2SD piv+16(FP), X15, X15; \
	VBROADCASTSD X15, Y15; \
	VXORPD Y0, Y0, Y0; \
	VXORPD Y1, Y1, Y1; \
	VXORPD Y2, Y2, Y2; \
	VXORPD Y3, Y3, Y3; \
	VXORPD Y4, Y4, Y4; \
	VXORPD Y5, Y5, Y5; \
	VXORPD Y6, Y6, Y6; \
	VXORPD Y7, Y7, Y7; \
	SHRQ $4, CX

// SUMSQ_EPILOGUE: out[0] = ((Y0+Y1)+(Y2+Y3)) summed over lanes (0+2)+(1+3),
// out[1] likewise from Y4..Y7.
#define SUMSQ_EPILOGUE \
	VADDPD Y1, Y0, Y0; \
	VADDPD Y3, Y2, Y2; \
	VADDPD Y2, Y0, Y0; \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPD X1, X0, X0; \
	VPERMILPD $1, X0, X1; \
	VADDSD X1, X0, X0; \
	VADDPD Y5, Y4, Y4; \
	VADDPD Y7, Y6, Y6; \
	VADDPD Y6, Y4, Y4; \
	VEXTRACTF128 $1, Y4, X5; \
	VADDPD X5, X4, X4; \
	VPERMILPD $1, X4, X5; \
	VADDSD X5, X4, X4; \
	MOVQ out+24(FP), DI; \
	VMOVSD X0, (DI); \
	VMOVSD X4, 8(DI); \
	VZEROUPPER

// COLSUMSQ(LOAD, ESIZE): for each block of 8 columns, s/q (4+4 doubles in
// Y0,Y1 / Y2,Y3) += d, d·d over the rows, d = x - piv (Y12, Y13).
#define COLSUMSQ_PROLOGUE(SHIFT) \
	MOVQ x+0(FP), SI; \
	MOVQ rows+8(FP), R8; \
	MOVQ cols+16(FP), CX; \
	MOVQ ld+24(FP), R9; \
	SHLQ $SHIFT, R9; \
	MOVQ piv+32(FP), R10; \
	MOVQ s+40(FP), R11; \
	MOVQ q+48(FP), R12; \
	SHRQ $3, CX

#define COLSUMSQ_BLOCK_START \
	VCVTPS2PD (R10), Y12; \
	VCVTPS2PD 16(R10), Y13; \
	VMOVUPD (R11), Y0; \
	VMOVUPD 32(R11), Y1; \
	VMOVUPD (R12), Y2; \
	VMOVUPD 32(R12), Y3; \
	MOVQ SI, AX; \
	MOVQ R8, DX

#define COLSUMSQ_ROW \
	VSUBPD Y12, Y4, Y4; \
	VSUBPD Y13, Y5, Y5; \
	VADDPD Y4, Y0, Y0; \
	VADDPD Y5, Y1, Y1; \
	VFMADD231PD Y4, Y4, Y2; \
	VFMADD231PD Y5, Y5, Y3; \
	ADDQ R9, AX; \
	DECQ DX

#define COLSUMSQ_BLOCK_END \
	VMOVUPD Y0, (R11); \
	VMOVUPD Y1, 32(R11); \
	VMOVUPD Y2, (R12); \
	VMOVUPD Y3, 32(R12); \
	ADDQ $32, R10; \
	ADDQ $64, R11; \
	ADDQ $64, R12; \
	DECQ CX

#define AFFINE_PROLOGUE \
	MOVQ dst+0(FP), DI; \
	MOVQ src+8(FP), SI; \
	MOVQ n+16(FP), CX; \
	VBROADCASTSS m+24(FP), Y13; \
	VBROADCASTSS a+28(FP), Y14; \
	VBROADCASTSS b+32(FP), Y15; \
	MOVBLZX silu+36(FP), AX; \
	SHRQ $3, CX

#define NORMVEC_PROLOGUE \
	MOVQ dst+0(FP), DI; \
	MOVQ src+8(FP), SI; \
	MOVQ n+16(FP), CX; \
	VBROADCASTSS m+24(FP), Y13; \
	VBROADCASTSS s+28(FP), Y14; \
	VBROADCASTSS c+32(FP), Y12; \
	MOVQ gm+40(FP), R8; \
	MOVQ bt+48(FP), R9; \
	MOVBLZX silu+56(FP), AX; \
	SHRQ $3, CX

// NORMVEC_BODY: Y0 = ((Y0-m)·s + c)·g + b, then g, b advance one vector.
#define NORMVEC_BODY \
	VSUBPS  Y13, Y0, Y0; \
	VFMADD213PS Y12, Y14, Y0; \
	VMOVUPS (R8), Y1; \
	VFMADD213PS (R9), Y1, Y0; \
	ADDQ $32, R8; \
	ADDQ $32, R9

#define AFFINEVEC_PROLOGUE \
	MOVQ dst+0(FP), DI; \
	MOVQ src+8(FP), SI; \
	MOVQ n+16(FP), CX; \
	MOVQ m+24(FP), R10; \
	MOVQ a+32(FP), R8; \
	MOVQ b+40(FP), R9; \
	MOVBLZX silu+48(FP), AX; \
	SHRQ $3, CX

// AFFINEVEC_BODY: the first vector register = (X0-m)·a + b, then m, a, b advance one vector.
#define AFFINEVEC_BODY \
	VSUBPS  (R10), Y0, Y0; \
	VMOVUPS (R8), Y1; \
	VFMADD213PS (R9), Y1, Y0; \
	ADDQ $32, R8; \
	ADDQ $32, R9; \
	ADDQ $32, R10

// func nkSumSqF32AVX2(x *float32, n int, piv float32, out *[2]float64)
TEXT ·nkSumSqF32AVX2(SB), NOSPLIT, $0-32
	SUMSQ_PROLOGUE
	JZ   ssfdone
ssfloop:
	VCVTPS2PD (SI), Y8
	VCVTPS2PD 16(SI), Y9
	VCVTPS2PD 32(SI), Y10
	VCVTPS2PD 48(SI), Y11
	SUMSQ_STEP
	ADDQ $64, SI
	DECQ CX
	JNZ  ssfloop
ssfdone:
	SUMSQ_EPILOGUE
	RET

// func nkSumSqF16AVX2(x *uint16, n int, piv float32, out *[2]float64)
TEXT ·nkSumSqF16AVX2(SB), NOSPLIT, $0-32
	SUMSQ_PROLOGUE
	JZ   sshdone
sshloop:
	VCVTPH2PS (SI), Y8
	VCVTPH2PS 16(SI), Y10
	VEXTRACTF128 $1, Y8, X9
	VEXTRACTF128 $1, Y10, X11
	VCVTPS2PD X8, Y8
	VCVTPS2PD X9, Y9
	VCVTPS2PD X10, Y10
	VCVTPS2PD X11, Y11
	SUMSQ_STEP
	ADDQ $32, SI
	DECQ CX
	JNZ  sshloop
sshdone:
	SUMSQ_EPILOGUE
	RET

// func nkColSumSqF32AVX2(x *float32, rows, cols, ld int, piv *float32, s, q *float64)
TEXT ·nkColSumSqF32AVX2(SB), NOSPLIT, $0-56
	COLSUMSQ_PROLOGUE(2)
	JZ   csfdone
csfcol:
	COLSUMSQ_BLOCK_START
csfrow:
	VCVTPS2PD (AX), Y4
	VCVTPS2PD 16(AX), Y5
	COLSUMSQ_ROW
	JNZ  csfrow
	COLSUMSQ_BLOCK_END
	LEAQ 32(SI), SI
	JNZ  csfcol
csfdone:
	VZEROUPPER
	RET

// func nkColSumSqF16AVX2(x *uint16, rows, cols, ld int, piv *float32, s, q *float64)
TEXT ·nkColSumSqF16AVX2(SB), NOSPLIT, $0-56
	COLSUMSQ_PROLOGUE(1)
	JZ   cshdone
cshcol:
	COLSUMSQ_BLOCK_START
cshrow:
	VCVTPH2PS (AX), Y4
	VEXTRACTF128 $1, Y4, X5
	VCVTPS2PD X4, Y4
	VCVTPS2PD X5, Y5
	COLSUMSQ_ROW
	JNZ  cshrow
	COLSUMSQ_BLOCK_END
	LEAQ 16(SI), SI
	JNZ  cshcol
cshdone:
	VZEROUPPER
	RET

// func nkAffineF32AVX2(dst, src *float32, n int, m, a, b float32, silu bool)
TEXT ·nkAffineF32AVX2(SB), NOSPLIT, $0-37
	AFFINE_PROLOGUE
	JZ   afdone
	TESTL AX, AX
	JNZ  afsilu
	TESTQ $1, CX
	JZ   afpair
	VMOVUPS (SI), Y0               // odd vector first
	VSUBPS  Y13, Y0, Y0
	VFMADD213PS Y15, Y14, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
afpair:
	SHRQ $1, CX
	JZ   afdone
afloop:
	VMOVUPS (SI), Y0               // y = (x-m)·a + b, two vectors a step
	VMOVUPS 32(SI), Y1
	VSUBPS  Y13, Y0, Y0
	VSUBPS  Y13, Y1, Y1
	VFMADD213PS Y15, Y14, Y0
	VFMADD213PS Y15, Y14, Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  afloop
	JMP  afdone
afsilu:
	VMOVUPS (SI), Y0
	VSUBPS  Y13, Y0, Y0
	VFMADD213PS Y15, Y14, Y0
	SILU_AVX2(Y0, Y1, Y2, Y3, Y4)
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  afsilu
afdone:
	VZEROUPPER
	RET

// func nkAffineF16AVX2(dst, src *uint16, n int, m, a, b float32, silu bool)
TEXT ·nkAffineF16AVX2(SB), NOSPLIT, $0-37
	AFFINE_PROLOGUE
	JZ   ahdone
	TESTL AX, AX
	JNZ  ahsilu
ahloop:
	VCVTPH2PS (SI), Y0
	VSUBPS  Y13, Y0, Y0
	VFMADD213PS Y15, Y14, Y0
	VCVTPS2PH $0, Y0, (DI)
	ADDQ $16, SI
	ADDQ $16, DI
	DECQ CX
	JNZ  ahloop
	JMP  ahdone
ahsilu:
	VCVTPH2PS (SI), Y0
	VSUBPS  Y13, Y0, Y0
	VFMADD213PS Y15, Y14, Y0
	SILU_AVX2(Y0, Y1, Y2, Y3, Y4)
	VCVTPS2PH $0, Y0, (DI)
	ADDQ $16, SI
	ADDQ $16, DI
	DECQ CX
	JNZ  ahsilu
ahdone:
	VZEROUPPER
	RET

// func nkNormVecF32AVX2(dst, src *float32, n int, m, s, c float32, gm, bt *float32, silu bool)
TEXT ·nkNormVecF32AVX2(SB), NOSPLIT, $0-57
	NORMVEC_PROLOGUE
	JZ   nfdone
	TESTL AX, AX
	JNZ  nfsilu
nfloop:
	VMOVUPS (SI), Y0
	NORMVEC_BODY
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  nfloop
	JMP  nfdone
nfsilu:
	VMOVUPS (SI), Y0
	NORMVEC_BODY
	SILU_AVX2(Y0, Y1, Y2, Y3, Y4)
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  nfsilu
nfdone:
	VZEROUPPER
	RET

// func nkNormVecF16AVX2(dst, src *uint16, n int, m, s, c float32, gm, bt *float32, silu bool)
TEXT ·nkNormVecF16AVX2(SB), NOSPLIT, $0-57
	NORMVEC_PROLOGUE
	JZ   nhdone
	TESTL AX, AX
	JNZ  nhsilu
nhloop:
	VCVTPH2PS (SI), Y0
	NORMVEC_BODY
	VCVTPS2PH $0, Y0, (DI)
	ADDQ $16, SI
	ADDQ $16, DI
	DECQ CX
	JNZ  nhloop
	JMP  nhdone
nhsilu:
	VCVTPH2PS (SI), Y0
	NORMVEC_BODY
	SILU_AVX2(Y0, Y1, Y2, Y3, Y4)
	VCVTPS2PH $0, Y0, (DI)
	ADDQ $16, SI
	ADDQ $16, DI
	DECQ CX
	JNZ  nhsilu
nhdone:
	VZEROUPPER
	RET

// func nkAffineVecF32AVX2(dst, src *float32, n int, m, a, b *float32, silu bool)
TEXT ·nkAffineVecF32AVX2(SB), NOSPLIT, $0-49
	AFFINEVEC_PROLOGUE
	JZ   avfdone
	TESTL AX, AX
	JNZ  avfsilu
avfloop:
	VMOVUPS (SI), Y0
	AFFINEVEC_BODY
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  avfloop
	JMP  avfdone
avfsilu:
	VMOVUPS (SI), Y0
	AFFINEVEC_BODY
	SILU_AVX2(Y0, Y1, Y2, Y3, Y4)
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  avfsilu
avfdone:
	VZEROUPPER
	RET

// func nkAffineVecF16AVX2(dst, src *uint16, n int, m, a, b *float32, silu bool)
TEXT ·nkAffineVecF16AVX2(SB), NOSPLIT, $0-49
	AFFINEVEC_PROLOGUE
	JZ   avhdone
	TESTL AX, AX
	JNZ  avhsilu
avhloop:
	VCVTPH2PS (SI), Y0
	AFFINEVEC_BODY
	VCVTPS2PH $0, Y0, (DI)
	ADDQ $16, SI
	ADDQ $16, DI
	DECQ CX
	JNZ  avhloop
	JMP  avhdone
avhsilu:
	VCVTPH2PS (SI), Y0
	AFFINEVEC_BODY
	SILU_AVX2(Y0, Y1, Y2, Y3, Y4)
	VCVTPS2PH $0, Y0, (DI)
	ADDQ $16, SI
	ADDQ $16, DI
	DECQ CX
	JNZ  avhsilu
avhdone:
	VZEROUPPER
	RET
