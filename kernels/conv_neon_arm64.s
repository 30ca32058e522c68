//go:build !noasm && !purego && gc

#include "textflag.h"

// Winograd F(4x4,3x3) transforms, four tiles per iteration (one tile per
// float lane). V28 = 4.0, V29 = 5.0 (input) or bias (output).
// Go's assembler has no vector FADD/FSUB, so they are encoded as WORDs:
// FADD4(m, n, d) is FADD Vd.4S, Vn.4S, Vm.4S (d = n + m) and FSUB4(m, n, d)
// is FSUB Vd.4S, Vn.4S, Vm.4S (d = n - m).
#define FADD4(m, n, d) WORD $(0x4E20D400 | ((m)<<16) | ((n)<<5) | (d))
#define FSUB4(m, n, d) WORD $(0x4EA0D400 | ((m)<<16) | ((n)<<5) | (d))

// BT6 is Bᵀ·(d0..d5) on V0..V5; results t0..t5 in V4, V8, V9, V10, V11,
// V5 (clobbers V0..V11):
//	a = d1+d2, b = d1-d2, c = d3+d4, e = d4-d3, t1 = c - 4a, t2 = e + 4b
//	f = d4-d2, g = 2(d3-d1), t3 = f + g, t4 = f - g
//	t0 = (d4 + 4d0) - 5d2, t5 = (d5 + 4d1) - 5d3
#define BT6 \
	FADD4(2, 1, 6)               \
	FSUB4(2, 1, 7)               \
	FADD4(4, 3, 8)               \
	FSUB4(3, 4, 9)               \
	VFMLS V6.S4, V28.S4, V8.S4   \
	VFMLA V7.S4, V28.S4, V9.S4   \
	FSUB4(2, 4, 6)               \
	FSUB4(1, 3, 7)               \
	FADD4(7, 7, 7)               \
	FADD4(7, 6, 10)              \
	FSUB4(7, 6, 11)              \
	VFMLA V0.S4, V28.S4, V4.S4   \
	VFMLS V2.S4, V29.S4, V4.S4   \
	VFMLA V1.S4, V28.S4, V5.S4   \
	VFMLS V3.S4, V29.S4, V5.S4

// INROW deinterleaves row i (at R10) of four 6-wide tile windows (stride 4
// floats) into V0..V5 with LD4 and EXT, transforms it and stores t_b to
// tmp[(6b+i)*4] (R12 = tmp + 16i, stride 96 bytes); R10 += ld.
#define INROW \
	VLD4  (R10), [V0.S4, V1.S4, V2.S4, V3.S4] \
	ADD   $64, R10, R13                       \
	VLD1R.P 4(R13), [V6.S4]                   \
	VLD1R (R13), [V7.S4]                      \
	VEXT  $4, V6.B16, V0.B16, V4.B16          \
	VEXT  $4, V7.B16, V1.B16, V5.B16          \
	BT6                                       \
	MOVD  R12, R13                            \
	VST1  [V4.S4], (R13)                      \
	ADD   $96, R13                            \
	VST1  [V8.S4], (R13)                      \
	ADD   $96, R13                            \
	VST1  [V9.S4], (R13)                      \
	ADD   $96, R13                            \
	VST1  [V10.S4], (R13)                     \
	ADD   $96, R13                            \
	VST1  [V11.S4], (R13)                     \
	ADD   $96, R13                            \
	VST1  [V5.S4], (R13)                      \
	ADD   $16, R12                            \
	ADD   R4, R10

// INCOL transforms column b (tmp at R12, six contiguous vectors; R12 += 96)
// and stores V[6a+b] at R11 + a*6*vs (R9 = 6*vs bytes); R11 += vs.
#define INCOL \
	VLD1.P 64(R12), [V0.S4, V1.S4, V2.S4, V3.S4] \
	VLD1.P 32(R12), [V4.S4, V5.S4]               \
	BT6                                          \
	MOVD  R11, R13                               \
	VST1  [V4.S4], (R13)                         \
	ADD   R9, R13                                \
	VST1  [V8.S4], (R13)                         \
	ADD   R9, R13                                \
	VST1  [V9.S4], (R13)                         \
	ADD   R9, R13                                \
	VST1  [V10.S4], (R13)                        \
	ADD   R9, R13                                \
	VST1  [V11.S4], (R13)                        \
	ADD   R9, R13                                \
	VST1  [V5.S4], (R13)                         \
	ADD   R8, R11

// func winoInNEON(d *float32, ld, n int, v *float32, vs int, tmp *float32)
TEXT ·winoInNEON(SB), NOSPLIT, $0-48
	MOVD d+0(FP), R0
	MOVD ld+8(FP), R4
	LSL  $2, R4, R4          // R4 = ld in bytes
	MOVD n+16(FP), R3
	LSR  $2, R3, R3          // R3 = groups of 4 tiles
	CBZ  R3, indone
	MOVD v+24(FP), R1
	MOVD vs+32(FP), R8
	LSL  $2, R8, R8          // R8 = vs in bytes
	ADD  R8<<1, R8, R9
	LSL  $1, R9, R9          // R9 = 6*vs in bytes
	MOVD tmp+40(FP), R2
	FMOVS $4.0, F28
	VDUP V28.S[0], V28.S4
	FMOVS $5.0, F29
	VDUP V29.S[0], V29.S4

inloop:
	MOVD R0, R10
	MOVD R2, R12
	INROW
	INROW
	INROW
	INROW
	INROW
	INROW
	MOVD R2, R12
	MOVD R1, R11
	INCOL
	INCOL
	INCOL
	INCOL
	INCOL
	INCOL
	ADD  $64, R0             // next 4 tiles: 16 floats
	ADD  $16, R1             // 4 columns of V
	SUBS $1, R3, R3
	BNE  inloop

indone:
	RET

// AT6 is Aᵀ·(m0..m5) on V0..V5; results o0..o3 in V12..V15 (clobbers
// V6..V9):
//	a = m1+m2, b = m1-m2, c = m3+m4, d = m3-m4
//	o0 = (m0 + a) + c, o1 = b + 2d, o2 = a + 4c, o3 = (b + 8d) + m5
#define AT6 \
	FADD4(2, 1, 6)   \
	FSUB4(2, 1, 7)   \
	FADD4(4, 3, 8)   \
	FSUB4(4, 3, 9)   \
	FADD4(6, 0, 12)  \
	FADD4(8, 12, 12) \
	FADD4(9, 9, 13)  \
	FADD4(13, 7, 13) \
	FADD4(8, 8, 14)  \
	FADD4(14, 14, 14) \
	FADD4(14, 6, 14) \
	FADD4(9, 9, 15)  \
	FADD4(15, 15, 15) \
	FADD4(15, 15, 15) \
	FADD4(15, 7, 15) \
	FADD4(5, 15, 15)

// OUTCOL loads Y[6a+b] (R11 + a*6*ys; R9 = 6*ys bytes), transforms and
// stores (AᵀY)[r][b] to tmp[(6r+b)*4] (R12 = tmp + 16b); R11 += ys.
#define OUTCOL \
	MOVD  R11, R13           \
	VLD1  (R13), [V0.S4]     \
	ADD   R9, R13            \
	VLD1  (R13), [V1.S4]     \
	ADD   R9, R13            \
	VLD1  (R13), [V2.S4]     \
	ADD   R9, R13            \
	VLD1  (R13), [V3.S4]     \
	ADD   R9, R13            \
	VLD1  (R13), [V4.S4]     \
	ADD   R9, R13            \
	VLD1  (R13), [V5.S4]     \
	AT6                      \
	MOVD  R12, R13           \
	VST1  [V12.S4], (R13)    \
	ADD   $96, R13           \
	VST1  [V13.S4], (R13)    \
	ADD   $96, R13           \
	VST1  [V14.S4], (R13)    \
	ADD   $96, R13           \
	VST1  [V15.S4], (R13)    \
	ADD   $16, R12           \
	ADD   R8, R11

// OUTROW transforms tmp row r (R12, six contiguous vectors; R12 += 96), adds
// the bias (V29) and stores the four values of each tile contiguously with
// ST4 at R10; R10 += ld.
#define OUTROW \
	VLD1.P 64(R12), [V0.S4, V1.S4, V2.S4, V3.S4]   \
	VLD1.P 32(R12), [V4.S4, V5.S4]                 \
	AT6                                            \
	FADD4(29, 12, 12)                              \
	FADD4(29, 13, 13)                              \
	FADD4(29, 14, 14)                              \
	FADD4(29, 15, 15)                              \
	VST4  [V12.S4, V13.S4, V14.S4, V15.S4], (R10)  \
	ADD   R4, R10

// func winoOutNEON(y *float32, ys, n int, bias float32, o *float32, ld int, tmp *float32)
TEXT ·winoOutNEON(SB), NOSPLIT, $0-56
	MOVD y+0(FP), R0
	MOVD ys+8(FP), R8
	LSL  $2, R8, R8          // R8 = ys in bytes
	ADD  R8<<1, R8, R9
	LSL  $1, R9, R9          // R9 = 6*ys in bytes
	MOVD n+16(FP), R3
	LSR  $2, R3, R3
	CBZ  R3, outdone
	FMOVS bias+24(FP), F29
	VDUP V29.S[0], V29.S4
	MOVD o+32(FP), R1
	MOVD ld+40(FP), R4
	LSL  $2, R4, R4          // R4 = ld in bytes
	MOVD tmp+48(FP), R2

outloop:
	MOVD R0, R11
	MOVD R2, R12
	OUTCOL
	OUTCOL
	OUTCOL
	OUTCOL
	OUTCOL
	OUTCOL
	MOVD R2, R12
	MOVD R1, R10
	OUTROW
	OUTROW
	OUTROW
	OUTROW
	ADD  $16, R0             // next 4 tiles of Y
	ADD  $64, R1             // next 16 output columns
	SUBS $1, R3, R3
	BNE  outloop

outdone:
	RET
