//go:build !noasm && !purego && gc

#include "textflag.h"
#include "nk_amd64.h"
#include "nkmacros_amd64.h"

// Elementwise activations, AVX2+FMA, 8 floats per step (n is a multiple
// of 8). Each loop body is the Go twin's formula (act_generic.go) on one
// vector: Y0 = src[i:i+8], dst[i:i+8] = f(Y0).

#define ACT_PROLOGUE \
	MOVQ dst+0(FP), DI; \
	MOVQ src+8(FP), SI; \
	MOVQ n+16(FP), CX; \
	SHRQ $3, CX

// func nkExpF32AVX2(dst, src *float32, n int)
TEXT ·nkExpF32AVX2(SB), NOSPLIT, $0-24
	ACT_PROLOGUE
	JZ   expdone
exploop:
	VMOVUPS (SI), Y0
	EXP_AVX2(Y0, Y1, Y2, Y3)
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  exploop
expdone:
	VZEROUPPER
	RET

// func nkErfF32AVX2(dst, src *float32, n int)
TEXT ·nkErfF32AVX2(SB), NOSPLIT, $0-24
	ACT_PROLOGUE
	JZ   erfdone
erfloop:
	VMOVUPS (SI), Y0
	ERF_AVX2(Y0, Y1, Y2, Y3)
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  erfloop
erfdone:
	VZEROUPPER
	RET

// func nkTanhF32AVX2(dst, src *float32, n int)
TEXT ·nkTanhF32AVX2(SB), NOSPLIT, $0-24
	ACT_PROLOGUE
	JZ   tanhdone
tanhloop:
	VMOVUPS (SI), Y0
	TANH_AVX2(Y0, Y1, Y2, Y3)
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  tanhloop
tanhdone:
	VZEROUPPER
	RET

// func nkSigmoidF32AVX2(dst, src *float32, n int)
TEXT ·nkSigmoidF32AVX2(SB), NOSPLIT, $0-24
	ACT_PROLOGUE
	JZ   sigdone
sigloop:
	VMOVUPS (SI), Y0
	SIGMOID_AVX2(Y0, Y1, Y2, Y3, Y4)
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  sigloop
sigdone:
	VZEROUPPER
	RET

// func nkSiluF32AVX2(dst, src *float32, n int)
TEXT ·nkSiluF32AVX2(SB), NOSPLIT, $0-24
	ACT_PROLOGUE
	JZ   siludone
siluloop:
	VMOVUPS (SI), Y0
	SILU_AVX2(Y0, Y1, Y2, Y3, Y4)
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  siluloop
siludone:
	VZEROUPPER
	RET

// func nkGeluF32AVX2(dst, src *float32, n int)
// t = x/√2, h = x/2; y = h·erf(t) + h; lanes with t < -1 (if any) take
// h·(exp(-z²)·(1/z)·P(1/z²)) with z = -t and P the Cephes erfc polynomial
// for z < 2, R for z >= 2.
TEXT ·nkGeluF32AVX2(SB), NOSPLIT, $0-24
	ACT_PROLOGUE
	JZ   geludone
geluloop:
	VMOVUPS (SI), Y0
	VMULPS  NK_RSQRT2, Y0, Y1      // t
	VMULPS  NK_HALF, Y0, Y2        // h
	VMOVUPS Y1, Y3
	ERF_AVX2(Y3, Y4, Y5, Y6)       // erf(t)
	VFMADD213PS Y2, Y2, Y3         // y = h·erf(t) + h
	VMOVUPS NK_NONE, Y4
	VCMPPS  $1, Y4, Y1, Y7         // tail lanes: t < -1
	VMOVMSKPS Y7, AX
	TESTL   AX, AX
	JZ      gelustore
	VXORPS  NK_SIGN, Y1, Y8        // z = -t
	VMULPS  Y8, Y8, Y9
	VXORPS  NK_SIGN, Y9, Y9        // -z²
	EXP_AVX2(Y9, Y10, Y11, Y12)    // e = exp(-z²)
	VMOVUPS NK_ONE, Y10
	VDIVPS  Y8, Y10, Y10           // q = 1/z
	VMULPS  Y10, Y10, Y11          // w = q²
	VMOVUPS NK_CP0, Y12            // P(w)
	VFMADD213PS NK_CP1, Y11, Y12
	VFMADD213PS NK_CP2, Y11, Y12
	VFMADD213PS NK_CP3, Y11, Y12
	VFMADD213PS NK_CP4, Y11, Y12
	VFMADD213PS NK_CP5, Y11, Y12
	VFMADD213PS NK_CP6, Y11, Y12
	VFMADD213PS NK_CP7, Y11, Y12
	VFMADD213PS NK_CP8, Y11, Y12
	VMOVUPS NK_CR0, Y13            // R(w)
	VFMADD213PS NK_CR1, Y11, Y13
	VFMADD213PS NK_CR2, Y11, Y13
	VFMADD213PS NK_CR3, Y11, Y13
	VFMADD213PS NK_CR4, Y11, Y13
	VFMADD213PS NK_CR5, Y11, Y13
	VFMADD213PS NK_CR6, Y11, Y13
	VFMADD213PS NK_CR7, Y11, Y13
	VMOVUPS NK_TWO, Y14
	VCMPPS  $1, Y14, Y8, Y14       // z < 2
	VBLENDVPS Y14, Y12, Y13, Y13   // p = z < 2 ? P : R
	VMULPS  Y10, Y9, Y9            // e·q
	VMULPS  Y13, Y9, Y9            // e·q·p
	VMULPS  Y9, Y2, Y9             // h·(e·q·p)
	VBLENDVPS Y7, Y9, Y3, Y3
gelustore:
	VMOVUPS Y3, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  geluloop
geludone:
	VZEROUPPER
	RET

// func nkF2hF16C(dst *uint16, src *float32, n int)
// dst[i] = float16(src[i]) rounded to nearest even, 8 per step.
TEXT ·nkF2hF16C(SB), NOSPLIT, $0-24
	ACT_PROLOGUE
	JZ   f2hdone
f2hloop:
	VMOVUPS (SI), Y0
	VCVTPS2PH $0, Y0, (DI)
	ADDQ $32, SI
	ADDQ $16, DI
	DECQ CX
	JNZ  f2hloop
f2hdone:
	VZEROUPPER
	RET
