//go:build !noasm && !purego && gc

#include "textflag.h"

// Winograd F(4x4,3x3) transforms, eight tiles per iteration (one tile per
// float lane). Constants: Y12 = 4.0, Y13 = 5.0 (input) or 8.0 (output).

// BT6 is Bᵀ·(d0..d5) on Y0..Y5 (one vector per element); results
// t0..t5 in Y4, Y8, Y9, Y10, Y11, Y5. Clobbers Y0..Y11.
//	a = d1+d2, b = d1-d2, c = d3+d4, e = d4-d3
//	t1 = c - 4a, t2 = e + 4b
//	f = d4-d2, g = 2(d3-d1), t3 = f + g, t4 = f - g
//	t0 = (d4 + 4d0) - 5d2, t5 = (d5 + 4d1) - 5d3
#define BT6 \
	VADDPS      Y2, Y1, Y6  \
	VSUBPS      Y2, Y1, Y7  \
	VADDPS      Y4, Y3, Y8  \
	VSUBPS      Y3, Y4, Y9  \
	VFNMADD231PS Y12, Y6, Y8 \
	VFMADD231PS Y12, Y7, Y9 \
	VSUBPS      Y2, Y4, Y6  \
	VSUBPS      Y1, Y3, Y7  \
	VADDPS      Y7, Y7, Y7  \
	VADDPS      Y7, Y6, Y10 \
	VSUBPS      Y7, Y6, Y11 \
	VFMADD231PS Y12, Y0, Y4 \
	VFNMADD231PS Y13, Y2, Y4 \
	VFMADD231PS Y12, Y1, Y5 \
	VFNMADD231PS Y13, Y3, Y5

// INROW loads row i (at R10) of eight 6-wide tile windows (stride 4
// floats) transposed to Y0..Y5 (Y0 = element 0 of tiles 0..7, …),
// transforms it and stores t0..t5 to the frame at off, off+32, …, off+160.
#define INROW(off) \
	VMOVUPS      0(R10), X0         \
	VINSERTF128  $1, 64(R10), Y0, Y0 \
	VMOVUPS      16(R10), X1        \
	VINSERTF128  $1, 80(R10), Y1, Y1 \
	VMOVUPS      32(R10), X2        \
	VINSERTF128  $1, 96(R10), Y2, Y2 \
	VMOVUPS      48(R10), X3        \
	VINSERTF128  $1, 112(R10), Y3, Y3 \
	VUNPCKLPS    Y1, Y0, Y4         \
	VUNPCKHPS    Y1, Y0, Y5         \
	VUNPCKLPS    Y3, Y2, Y6         \
	VUNPCKHPS    Y3, Y2, Y7         \
	VSHUFPS      $0x44, Y6, Y4, Y0  \
	VSHUFPS      $0xEE, Y6, Y4, Y1  \
	VSHUFPS      $0x44, Y7, Y5, Y2  \
	VSHUFPS      $0xEE, Y7, Y5, Y3  \
	VPERMPS      Y0, Y15, Y4        \
	VBROADCASTSS 128(R10), Y6       \
	VBLENDPS     $0x80, Y6, Y4, Y4  \
	VPERMPS      Y1, Y15, Y5        \
	VBROADCASTSS 132(R10), Y7       \
	VBLENDPS     $0x80, Y7, Y5, Y5  \
	BT6                              \
	VMOVUPS      Y4, (off)(SP)      \
	VMOVUPS      Y8, (off+32)(SP)   \
	VMOVUPS      Y9, (off+64)(SP)   \
	VMOVUPS      Y10, (off+96)(SP)  \
	VMOVUPS      Y11, (off+128)(SP) \
	VMOVUPS      Y5, (off+160)(SP)  \
	ADDQ         AX, R10

// INCOL transforms column b of the frame (rows at b*32 + i*192) and stores
// V[6a+b] for a = 0..5 at R11 + a*6*vs (R9 = 6*vs bytes); R11 += vs.
#define INCOL(b) \
	VMOVUPS (b*32)(SP), Y0     \
	VMOVUPS (b*32+192)(SP), Y1 \
	VMOVUPS (b*32+384)(SP), Y2 \
	VMOVUPS (b*32+576)(SP), Y3 \
	VMOVUPS (b*32+768)(SP), Y4 \
	VMOVUPS (b*32+960)(SP), Y5 \
	BT6                        \
	MOVQ    R11, BX            \
	VMOVUPS Y4, (BX)           \
	ADDQ    R9, BX             \
	VMOVUPS Y8, (BX)           \
	ADDQ    R9, BX             \
	VMOVUPS Y9, (BX)           \
	ADDQ    R9, BX             \
	VMOVUPS Y10, (BX)          \
	ADDQ    R9, BX             \
	VMOVUPS Y11, (BX)          \
	ADDQ    R9, BX             \
	VMOVUPS Y5, (BX)           \
	ADDQ    R8, R11

DATA cvShift1<>+0(SB)/4, $1
DATA cvShift1<>+4(SB)/4, $2
DATA cvShift1<>+8(SB)/4, $3
DATA cvShift1<>+12(SB)/4, $4
DATA cvShift1<>+16(SB)/4, $5
DATA cvShift1<>+20(SB)/4, $6
DATA cvShift1<>+24(SB)/4, $7
DATA cvShift1<>+28(SB)/4, $7
GLOBL cvShift1<>(SB), RODATA|NOPTR, $32

// func winoInAVX2(d *float32, ld, n int, v *float32, vs int)
TEXT ·winoInAVX2(SB), 0, $1152-40
	MOVQ d+0(FP), SI
	MOVQ ld+8(FP), AX
	SHLQ $2, AX              // AX = ld in bytes
	MOVQ n+16(FP), CX
	SHRQ $3, CX              // CX = groups of 8 tiles
	JZ   indone
	MOVQ v+24(FP), DI
	MOVQ vs+32(FP), R8
	SHLQ $2, R8              // R8 = vs in bytes
	LEAQ (R8)(R8*2), R9
	SHLQ $1, R9              // R9 = 6*vs in bytes
	MOVL $0x40800000, DX     // 4.0
	MOVL DX, X12
	VBROADCASTSS X12, Y12
	MOVL $0x40a00000, DX     // 5.0
	MOVL DX, X13
	VBROADCASTSS X13, Y13
	VMOVUPS cvShift1<>(SB), Y15

inloop:
	MOVQ SI, R10
	INROW(0)
	INROW(192)
	INROW(384)
	INROW(576)
	INROW(768)
	INROW(960)
	MOVQ DI, R11
	INCOL(0)
	INCOL(1)
	INCOL(2)
	INCOL(3)
	INCOL(4)
	INCOL(5)
	ADDQ $128, SI            // next 8 tiles: 32 floats
	ADDQ $32, DI             // 8 columns of V
	DECQ CX
	JNZ  inloop
	VZEROUPPER

indone:
	RET

// AT6 is Aᵀ·(m0..m5) on Y0..Y5; results o0..o3 in Y0, Y6, Y7, Y8.
// Y12 = 4.0, Y13 = 8.0, Y14 = bias (or 0). Clobbers Y0..Y9.
//	a = m1+m2, b = m1-m2, c = m3+m4, d = m3-m4
//	o0 = (m0 + a) + c, o1 = b + 2d, o2 = a + 4c, o3 = (b + 8d) + m5
#define AT6 \
	VADDPS      Y2, Y1, Y6 \
	VSUBPS      Y2, Y1, Y7 \
	VADDPS      Y4, Y3, Y8 \
	VSUBPS      Y4, Y3, Y9 \
	VADDPS      Y6, Y0, Y0 \
	VADDPS      Y8, Y0, Y0 \
	VFMADD231PS Y12, Y8, Y6 \
	VMOVAPS     Y7, Y8     \
	VFMADD231PS Y13, Y9, Y8 \
	VADDPS      Y5, Y8, Y8 \
	VADDPS      Y9, Y9, Y9 \
	VADDPS      Y9, Y7, Y9 \
	VMOVAPS     Y6, Y7     \
	VMOVAPS     Y9, Y6

// OUTCOL loads Y[6a+b] for a = 0..5 (R11 + a*6*ys), transforms and stores
// (AᵀY)[r][b] to the frame at b*32 + r*192; R11 += ys.
#define OUTCOL(b) \
	MOVQ    R11, BX          \
	VMOVUPS (BX), Y0         \
	ADDQ    R9, BX           \
	VMOVUPS (BX), Y1         \
	ADDQ    R9, BX           \
	VMOVUPS (BX), Y2         \
	ADDQ    R9, BX           \
	VMOVUPS (BX), Y3         \
	ADDQ    R9, BX           \
	VMOVUPS (BX), Y4         \
	ADDQ    R9, BX           \
	VMOVUPS (BX), Y5         \
	AT6                      \
	VMOVUPS Y0, (b*32)(SP)     \
	VMOVUPS Y6, (b*32+192)(SP) \
	VMOVUPS Y7, (b*32+384)(SP) \
	VMOVUPS Y8, (b*32+576)(SP) \
	ADDQ    R8, R11

// OUTROW transforms frame row r (at off = r*192), adds the bias and stores
// the 4x8 result transposed: tile q's four values at R10 + 16q; R10 += ld.
#define OUTROW(off) \
	VMOVUPS      (off)(SP), Y0     \
	VMOVUPS      (off+32)(SP), Y1  \
	VMOVUPS      (off+64)(SP), Y2  \
	VMOVUPS      (off+96)(SP), Y3  \
	VMOVUPS      (off+128)(SP), Y4 \
	VMOVUPS      (off+160)(SP), Y5 \
	AT6                            \
	VADDPS       Y14, Y0, Y0       \
	VADDPS       Y14, Y6, Y6       \
	VADDPS       Y14, Y7, Y7       \
	VADDPS       Y14, Y8, Y8       \
	VUNPCKLPS    Y6, Y0, Y1        \
	VUNPCKHPS    Y6, Y0, Y2        \
	VUNPCKLPS    Y8, Y7, Y3        \
	VUNPCKHPS    Y8, Y7, Y4        \
	VSHUFPS      $0x44, Y3, Y1, Y0 \
	VSHUFPS      $0xEE, Y3, Y1, Y5 \
	VSHUFPS      $0x44, Y4, Y2, Y6 \
	VSHUFPS      $0xEE, Y4, Y2, Y7 \
	VMOVUPS      X0, 0(R10)        \
	VEXTRACTF128 $1, Y0, 64(R10)   \
	VMOVUPS      X5, 16(R10)       \
	VEXTRACTF128 $1, Y5, 80(R10)   \
	VMOVUPS      X6, 32(R10)       \
	VEXTRACTF128 $1, Y6, 96(R10)   \
	VMOVUPS      X7, 48(R10)       \
	VEXTRACTF128 $1, Y7, 112(R10)  \
	ADDQ         AX, R10

// func winoOutAVX2(y *float32, ys, n int, bias float32, o *float32, ld int)
TEXT ·winoOutAVX2(SB), 0, $768-48
	MOVQ y+0(FP), SI
	MOVQ ys+8(FP), R8
	SHLQ $2, R8              // R8 = ys in bytes
	LEAQ (R8)(R8*2), R9
	SHLQ $1, R9              // R9 = 6*ys in bytes
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   outdone
	VBROADCASTSS bias+24(FP), Y14
	MOVQ o+32(FP), DI
	MOVQ ld+40(FP), AX
	SHLQ $2, AX              // AX = ld in bytes
	MOVL $0x40800000, DX     // 4.0
	MOVL DX, X12
	VBROADCASTSS X12, Y12
	MOVL $0x41000000, DX     // 8.0
	MOVL DX, X13
	VBROADCASTSS X13, Y13

outloop:
	MOVQ SI, R11
	OUTCOL(0)
	OUTCOL(1)
	OUTCOL(2)
	OUTCOL(3)
	OUTCOL(4)
	OUTCOL(5)
	MOVQ DI, R10
	OUTROW(0)
	OUTROW(192)
	OUTROW(384)
	OUTROW(576)
	ADDQ $32, SI             // next 8 tiles of Y
	ADDQ $128, DI            // next 32 output columns
	DECQ CX
	JNZ  outloop
	VZEROUPPER

outdone:
	RET
