//go:build !noasm && !purego && gc

#include "textflag.h"
#include "nk_amd64.h"
#include "nkmacros_amd64.h"

// Elementwise activations, AVX-512F, 16 floats per step (n is a multiple
// of 16); the same formulas as act_avx2_amd64.s.

#define ACT_PROLOGUE \
	MOVQ dst+0(FP), DI; \
	MOVQ src+8(FP), SI; \
	MOVQ n+16(FP), CX; \
	NK_LOADZ; \
	SHRQ $4, CX

// func nkExpF32AVX512(dst, src *float32, n int)
TEXT ·nkExpF32AVX512(SB), NOSPLIT, $0-24
	ACT_PROLOGUE
	JZ   expdone
exploop:
	VMOVUPS (SI), Z0
	EXP_AVX512(Z0, Z1, Z2, Z3)
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  exploop
expdone:
	VZEROUPPER
	RET

// func nkErfF32AVX512(dst, src *float32, n int)
TEXT ·nkErfF32AVX512(SB), NOSPLIT, $0-24
	ACT_PROLOGUE
	JZ   erfdone
erfloop:
	VMOVUPS (SI), Z0
	ERF_AVX512(Z0, Z1, Z2, Z3)
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  erfloop
erfdone:
	VZEROUPPER
	RET

// func nkTanhF32AVX512(dst, src *float32, n int)
TEXT ·nkTanhF32AVX512(SB), NOSPLIT, $0-24
	ACT_PROLOGUE
	JZ   tanhdone
tanhloop:
	VMOVUPS (SI), Z0
	TANH_AVX512(Z0, Z1, Z2, Z3)
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  tanhloop
tanhdone:
	VZEROUPPER
	RET

// func nkSigmoidF32AVX512(dst, src *float32, n int)
TEXT ·nkSigmoidF32AVX512(SB), NOSPLIT, $0-24
	ACT_PROLOGUE
	JZ   sigdone
sigloop:
	VMOVUPS (SI), Z0
	SIGMOID_AVX512(Z0, Z1, Z2, Z3, Z4)
	VMOVUPS Z1, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  sigloop
sigdone:
	VZEROUPPER
	RET

// func nkSiluF32AVX512(dst, src *float32, n int)
TEXT ·nkSiluF32AVX512(SB), NOSPLIT, $0-24
	ACT_PROLOGUE
	JZ   siludone
siluloop:
	VMOVUPS (SI), Z0
	SILU_AVX512(Z0, Z1, Z2, Z3, Z4)
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  siluloop
siludone:
	VZEROUPPER
	RET

// func nkGeluF32AVX512(dst, src *float32, n int)
// As nkGeluF32AVX2, with the tail lanes in mask K1 and z < 2 in K2.
TEXT ·nkGeluF32AVX512(SB), NOSPLIT, $0-24
	ACT_PROLOGUE
	JZ   geludone
geluloop:
	VMOVUPS (SI), Z0
	VMULPS  NK_RSQRT2, Z0, Z1      // t
	VMULPS  NK_HALF, Z0, Z2        // h
	VMOVUPS Z1, Z3
	ERF_AVX512(Z3, Z4, Z5, Z6)     // erf(t)
	VFMADD213PS Z2, Z2, Z3         // y = h·erf(t) + h
	VCMPPS  $1, NK_NONEZ, Z1, K1   // tail lanes: t < -1
	KORTESTW K1, K1
	JZ      gelustore
	VXORPS  NK_SIGN, Z1, Z8        // z = -t
	VMULPS  Z8, Z8, Z9
	VXORPS  NK_SIGN, Z9, Z9        // -z²
	EXP_AVX512(Z9, Z10, Z11, Z12)  // e = exp(-z²)
	VDIVPS  Z8, NK_ONEZ, Z10       // q = 1/z
	VMULPS  Z10, Z10, Z11          // w = q²
	VMOVUPS NK_CP0, Z12            // P(w)
	VFMADD213PS NK_CP1, Z11, Z12
	VFMADD213PS NK_CP2, Z11, Z12
	VFMADD213PS NK_CP3, Z11, Z12
	VFMADD213PS NK_CP4, Z11, Z12
	VFMADD213PS NK_CP5, Z11, Z12
	VFMADD213PS NK_CP6, Z11, Z12
	VFMADD213PS NK_CP7, Z11, Z12
	VFMADD213PS NK_CP8, Z11, Z12
	VMOVUPS NK_CR0, Z13            // R(w)
	VFMADD213PS NK_CR1, Z11, Z13
	VFMADD213PS NK_CR2, Z11, Z13
	VFMADD213PS NK_CR3, Z11, Z13
	VFMADD213PS NK_CR4, Z11, Z13
	VFMADD213PS NK_CR5, Z11, Z13
	VFMADD213PS NK_CR6, Z11, Z13
	VFMADD213PS NK_CR7, Z11, Z13
	VCMPPS  $1, NK_TWO, Z8, K2     // z < 2
	VBLENDMPS Z12, Z13, K2, Z13    // p = z < 2 ? P : R
	VMULPS  Z10, Z9, Z9            // e·q
	VMULPS  Z13, Z9, Z9            // e·q·p
	VMULPS  Z9, Z2, Z9             // h·(e·q·p)
	VBLENDMPS Z9, Z3, K1, Z3
gelustore:
	VMOVUPS Z3, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  geluloop
geludone:
	VZEROUPPER
	RET
