//go:build !noasm && !purego && gc

#include "textflag.h"

// The store step shared by the float32-B and float16-B kernels.
#define K6X16_TAIL1 \
	VBROADCASTSS alpha+44(FP), Y14; \
	LEAQ (R8)(R8*2), AX; \
	LEAQ (DI)(AX*1), R9; \
	MOVBLZX add+40(FP), AX; \
	TESTQ AX, AX; \
	JZ store; \
	VMOVUPS (DI), Y12; \
	VFMADD231PS Y0, Y14, Y12; \
	VMOVUPS Y12, (DI); \
	VMOVUPS 32(DI), Y13; \
	VFMADD231PS Y1, Y14, Y13; \
	VMOVUPS Y13, 32(DI); \
	VMOVUPS (DI)(R8*1), Y12; \
	VFMADD231PS Y2, Y14, Y12; \
	VMOVUPS Y12, (DI)(R8*1); \
	VMOVUPS 32(DI)(R8*1), Y13; \
	VFMADD231PS Y3, Y14, Y13; \
	VMOVUPS Y13, 32(DI)(R8*1); \
	VMOVUPS (DI)(R8*2), Y12; \
	VFMADD231PS Y4, Y14, Y12; \
	VMOVUPS Y12, (DI)(R8*2); \
	VMOVUPS 32(DI)(R8*2), Y13; \
	VFMADD231PS Y5, Y14, Y13; \
	VMOVUPS Y13, 32(DI)(R8*2); \
	VMOVUPS (R9), Y12; \
	VFMADD231PS Y6, Y14, Y12; \
	VMOVUPS Y12, (R9); \
	VMOVUPS 32(R9), Y13; \
	VFMADD231PS Y7, Y14, Y13; \
	VMOVUPS Y13, 32(R9); \
	VMOVUPS (R9)(R8*1), Y12; \
	VFMADD231PS Y8, Y14, Y12; \
	VMOVUPS Y12, (R9)(R8*1); \
	VMOVUPS 32(R9)(R8*1), Y13; \
	VFMADD231PS Y9, Y14, Y13; \
	VMOVUPS Y13, 32(R9)(R8*1); \
	VMOVUPS (R9)(R8*2), Y12; \
	VFMADD231PS Y10, Y14, Y12; \
	VMOVUPS Y12, (R9)(R8*2); \
	VMOVUPS 32(R9)(R8*2), Y13; \
	VFMADD231PS Y11, Y14, Y13; \
	VMOVUPS Y13, 32(R9)(R8*2); \
	VZEROUPPER; \
	RET
#define K6X16_TAIL2 \
	VMULPS Y14, Y0, Y0; \
	VMOVUPS Y0, (DI); \
	VMULPS Y14, Y1, Y1; \
	VMOVUPS Y1, 32(DI); \
	VMULPS Y14, Y2, Y2; \
	VMOVUPS Y2, (DI)(R8*1); \
	VMULPS Y14, Y3, Y3; \
	VMOVUPS Y3, 32(DI)(R8*1); \
	VMULPS Y14, Y4, Y4; \
	VMOVUPS Y4, (DI)(R8*2); \
	VMULPS Y14, Y5, Y5; \
	VMOVUPS Y5, 32(DI)(R8*2); \
	VMULPS Y14, Y6, Y6; \
	VMOVUPS Y6, (R9); \
	VMULPS Y14, Y7, Y7; \
	VMOVUPS Y7, 32(R9); \
	VMULPS Y14, Y8, Y8; \
	VMOVUPS Y8, (R9)(R8*1); \
	VMULPS Y14, Y9, Y9; \
	VMOVUPS Y9, 32(R9)(R8*1); \
	VMULPS Y14, Y10, Y10; \
	VMOVUPS Y10, (R9)(R8*2); \
	VMULPS Y14, Y11, Y11; \
	VMOVUPS Y11, 32(R9)(R8*2); \
	VZEROUPPER; \
	RET

// func sgemmKernel6x16AVX2(kc int, a, b, c *float32, ldc int, add bool, alpha float32)
// AVX2+FMA: C[6][16] (+)= alpha * A(kc x 6 packed) * B(kc x 16 packed)
// Register tile: 6 rows x 2 vectors of 8 floats = 12 accumulators
// (Y0..Y11, row i in Y(2i), Y(2i+1)), B in Y12..Y13, the broadcast A value in Y14.
TEXT ·sgemmKernel6x16AVX2(SB), NOSPLIT, $0-48
	MOVQ kc+0(FP), CX     // CX = kc (>= 1)
	MOVQ a+8(FP), SI      // SI = packed A: kc groups of 6
	MOVQ b+16(FP), DX     // DX = packed B: kc groups of 16
	MOVQ c+24(FP), DI     // DI = &C[0][0]
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8           // R8 = ldc in bytes
	// acc = 0
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
loop1:
	PREFETCHT0 1024(DX)    // B 16 k steps ahead (next sliver at the end)
	// acc[i][:] += A[p][i] * B[p][:]
	VMOVUPS 0(DX), Y12
	VMOVUPS 32(DX), Y13
	VBROADCASTSS 0(SI), Y14
	VFMADD231PS Y12, Y14, Y0
	VFMADD231PS Y13, Y14, Y1
	VBROADCASTSS 4(SI), Y14
	VFMADD231PS Y12, Y14, Y2
	VFMADD231PS Y13, Y14, Y3
	VBROADCASTSS 8(SI), Y14
	VFMADD231PS Y12, Y14, Y4
	VFMADD231PS Y13, Y14, Y5
	VBROADCASTSS 12(SI), Y14
	VFMADD231PS Y12, Y14, Y6
	VFMADD231PS Y13, Y14, Y7
	VBROADCASTSS 16(SI), Y14
	VFMADD231PS Y12, Y14, Y8
	VFMADD231PS Y13, Y14, Y9
	VBROADCASTSS 20(SI), Y14
	VFMADD231PS Y12, Y14, Y10
	VFMADD231PS Y13, Y14, Y11
	ADDQ $24, SI
	ADDQ $64, DX
	DECQ CX
	JNZ loop1
done:
	K6X16_TAIL1
store:
	K6X16_TAIL2

// func h2fF16C(dst *float32, src *uint16, n int)
// for i := 0; i < n&^7; i++ { dst[i] = float32(src[i]) }  (F16C VCVTPH2PS, 8 at a time)
TEXT ·h2fF16C(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   h2fdone
h2floop:
	VCVTPH2PS (SI), Y0
	VMOVUPS   Y0, (DI)
	ADDQ      $16, SI
	ADDQ      $32, DI
	DECQ      CX
	JNZ       h2floop
	VZEROUPPER
h2fdone:
	RET

// func sgemmKernel6x16AVX2H(kc int, a *float32, b *uint16, c *float32, ldc int, add bool, alpha float32)
// sgemmKernel6x16AVX2 with B packed as float16 (kc groups of 16 halves),
// widened in registers with F16C VCVTPH2PS.
TEXT ·sgemmKernel6x16AVX2H(SB), NOSPLIT, $0-48
	MOVQ kc+0(FP), CX     // CX = kc (>= 1)
	MOVQ a+8(FP), SI      // SI = packed A: kc groups of 6
	MOVQ b+16(FP), DX     // DX = packed B: kc groups of 16
	MOVQ c+24(FP), DI     // DI = &C[0][0]
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8           // R8 = ldc in bytes
	// acc = 0
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
loop1:
	PREFETCHT0 512(DX)     // B 16 k steps ahead (next sliver at the end)
	// acc[i][:] += A[p][i] * B[p][:]
	VCVTPH2PS 0(DX), Y12
	VCVTPH2PS 16(DX), Y13
	VBROADCASTSS 0(SI), Y14
	VFMADD231PS Y12, Y14, Y0
	VFMADD231PS Y13, Y14, Y1
	VBROADCASTSS 4(SI), Y14
	VFMADD231PS Y12, Y14, Y2
	VFMADD231PS Y13, Y14, Y3
	VBROADCASTSS 8(SI), Y14
	VFMADD231PS Y12, Y14, Y4
	VFMADD231PS Y13, Y14, Y5
	VBROADCASTSS 12(SI), Y14
	VFMADD231PS Y12, Y14, Y6
	VFMADD231PS Y13, Y14, Y7
	VBROADCASTSS 16(SI), Y14
	VFMADD231PS Y12, Y14, Y8
	VFMADD231PS Y13, Y14, Y9
	VBROADCASTSS 20(SI), Y14
	VFMADD231PS Y12, Y14, Y10
	VFMADD231PS Y13, Y14, Y11
	ADDQ $24, SI
	ADDQ $32, DX
	DECQ CX
	JNZ loop1
done:
	K6X16_TAIL1
store:
	K6X16_TAIL2
