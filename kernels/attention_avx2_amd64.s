//go:build !noasm && !purego && gc

#include "textflag.h"

// Attention kernels, AVX2 + FMA (hand-written; the pure-Go twins are in
// attention_generic.go). Constants are replicated eight times (faA*<>) so
// they can be FMA memory operands.

// FA_EXP_AVX2 sets X = exp(X) for eight floats, Cephes expf as Exp32:
//
//	x := min(HI, max(LO, X))           // LO = -88: n = -127 gives 2^n = +0
//	n := floor(x*log2e + 0.5)
//	r := x - n*c1 - n*c2               // ln2 = c1 + c2
//	p := ((((p0*r+p1)*r+p2)*r+p3)*r+p4)*r+p5
//	X = ((p*r + 1)*r + 1) * 2^n        // 2^n from the exponent bits
//
// -Inf and x < -87.68 give 0; NaN propagates. LO and HI hold the clamps
// (faALo, faAHi); F and Y are clobbered.
// Both evaluate the polynomial by Horner's rule, finishing with
// y = (p(r)*r + 1)*r + 1 = 1 + r + r²p(r); FA_EXP4_AVX2 runs four
// independent vectors interleaved (the chain is ~14 operations deep).
#define FA_EXP_AVX2(X, F, Y, LO, HI) \
	VMAXPS X, LO, X \
	VMINPS X, HI, X \
	VMOVUPS faALog2e<>(SB), F \
	VFMADD213PS faAHalf<>(SB), X, F \
	VROUNDPS $1, F, F \
	VFNMADD231PS faAC1<>(SB), F, X \
	VFNMADD231PS faAC2<>(SB), F, X \
	VCVTTPS2DQ F, F \
	VPADDD faABias<>(SB), F, F \
	VPSLLD $23, F, F \
	VMOVUPS faAP0<>(SB), Y \
	VFMADD213PS faAP1<>(SB), X, Y \
	VFMADD213PS faAP2<>(SB), X, Y \
	VFMADD213PS faAP3<>(SB), X, Y \
	VFMADD213PS faAP4<>(SB), X, Y \
	VFMADD213PS faAP5<>(SB), X, Y \
	VFMADD213PS faAOne<>(SB), X, Y \
	VFMADD213PS faAOne<>(SB), X, Y \
	VMULPS F, Y, X

#define FA_EXP4_AVX2(X0, F0, Y0, X1, F1, Y1, X2, F2, Y2, X3, F3, Y3, LO, HI) \
	VMAXPS X0, LO, X0 \
	VMAXPS X1, LO, X1 \
	VMAXPS X2, LO, X2 \
	VMAXPS X3, LO, X3 \
	VMINPS X0, HI, X0 \
	VMINPS X1, HI, X1 \
	VMINPS X2, HI, X2 \
	VMINPS X3, HI, X3 \
	VMOVUPS faALog2e<>(SB), F0 \
	VMOVUPS faALog2e<>(SB), F1 \
	VMOVUPS faALog2e<>(SB), F2 \
	VMOVUPS faALog2e<>(SB), F3 \
	VFMADD213PS faAHalf<>(SB), X0, F0 \
	VFMADD213PS faAHalf<>(SB), X1, F1 \
	VFMADD213PS faAHalf<>(SB), X2, F2 \
	VFMADD213PS faAHalf<>(SB), X3, F3 \
	VROUNDPS $1, F0, F0 \
	VROUNDPS $1, F1, F1 \
	VROUNDPS $1, F2, F2 \
	VROUNDPS $1, F3, F3 \
	VFNMADD231PS faAC1<>(SB), F0, X0 \
	VFNMADD231PS faAC1<>(SB), F1, X1 \
	VFNMADD231PS faAC1<>(SB), F2, X2 \
	VFNMADD231PS faAC1<>(SB), F3, X3 \
	VFNMADD231PS faAC2<>(SB), F0, X0 \
	VFNMADD231PS faAC2<>(SB), F1, X1 \
	VFNMADD231PS faAC2<>(SB), F2, X2 \
	VFNMADD231PS faAC2<>(SB), F3, X3 \
	VCVTTPS2DQ F0, F0 \
	VCVTTPS2DQ F1, F1 \
	VCVTTPS2DQ F2, F2 \
	VCVTTPS2DQ F3, F3 \
	VPADDD faABias<>(SB), F0, F0 \
	VPADDD faABias<>(SB), F1, F1 \
	VPADDD faABias<>(SB), F2, F2 \
	VPADDD faABias<>(SB), F3, F3 \
	VPSLLD $23, F0, F0 \
	VPSLLD $23, F1, F1 \
	VPSLLD $23, F2, F2 \
	VPSLLD $23, F3, F3 \
	VMOVUPS faAP0<>(SB), Y0 \
	VMOVUPS faAP0<>(SB), Y1 \
	VMOVUPS faAP0<>(SB), Y2 \
	VMOVUPS faAP0<>(SB), Y3 \
	VFMADD213PS faAP1<>(SB), X0, Y0 \
	VFMADD213PS faAP1<>(SB), X1, Y1 \
	VFMADD213PS faAP1<>(SB), X2, Y2 \
	VFMADD213PS faAP1<>(SB), X3, Y3 \
	VFMADD213PS faAP2<>(SB), X0, Y0 \
	VFMADD213PS faAP2<>(SB), X1, Y1 \
	VFMADD213PS faAP2<>(SB), X2, Y2 \
	VFMADD213PS faAP2<>(SB), X3, Y3 \
	VFMADD213PS faAP3<>(SB), X0, Y0 \
	VFMADD213PS faAP3<>(SB), X1, Y1 \
	VFMADD213PS faAP3<>(SB), X2, Y2 \
	VFMADD213PS faAP3<>(SB), X3, Y3 \
	VFMADD213PS faAP4<>(SB), X0, Y0 \
	VFMADD213PS faAP4<>(SB), X1, Y1 \
	VFMADD213PS faAP4<>(SB), X2, Y2 \
	VFMADD213PS faAP4<>(SB), X3, Y3 \
	VFMADD213PS faAP5<>(SB), X0, Y0 \
	VFMADD213PS faAP5<>(SB), X1, Y1 \
	VFMADD213PS faAP5<>(SB), X2, Y2 \
	VFMADD213PS faAP5<>(SB), X3, Y3 \
	VFMADD213PS faAOne<>(SB), X0, Y0 \
	VFMADD213PS faAOne<>(SB), X1, Y1 \
	VFMADD213PS faAOne<>(SB), X2, Y2 \
	VFMADD213PS faAOne<>(SB), X3, Y3 \
	VFMADD213PS faAOne<>(SB), X0, Y0 \
	VFMADD213PS faAOne<>(SB), X1, Y1 \
	VFMADD213PS faAOne<>(SB), X2, Y2 \
	VFMADD213PS faAOne<>(SB), X3, Y3 \
	VMULPS F0, Y0, X0 \
	VMULPS F1, Y1, X1 \
	VMULPS F2, Y2, X2 \
	VMULPS F3, Y3, X3

// func faKern4x24AVX2(kc int, a *float32, ais, aps int, b *float32, ldb int, c *float32, ldc int, scale *float32)
// acc[i][j] = sum_p a[i*ais+p*aps] * b[p*ldb+j]  (i < 4, j < 24, p < kc in order, fused)
// c[i*ldc+j] = acc[i][j] (scale nil) or c[i*ldc+j]*scale[j] + acc[i][j] (fused).
// Accumulators: row i in Y(3i)..Y(3i+2); B row in Y12..Y14; broadcast A in Y15.
TEXT ·faKern4x24AVX2(SB), NOSPLIT, $0-72
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ ais+16(FP), R8
	SHLQ $2, R8             // R8 = ais bytes
	MOVQ aps+24(FP), R10
	SHLQ $2, R10            // R10 = aps bytes
	MOVQ b+32(FP), DX
	MOVQ ldb+40(FP), R11
	SHLQ $2, R11            // R11 = ldb bytes
	MOVQ c+48(FP), DI
	MOVQ ldc+56(FP), R12
	SHLQ $2, R12            // R12 = ldc bytes
	MOVQ scale+64(FP), R9
	LEAQ (SI)(R8*2), BX     // BX = &a[2*ais] (rows 2, 3)
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
kloop:
	// acc[i][:] += a[i*ais+p*aps] * b[p*ldb:][:24]
	VMOVUPS (DX), Y12
	VMOVUPS 32(DX), Y13
	VMOVUPS 64(DX), Y14
	VBROADCASTSS (SI), Y15
	VFMADD231PS Y12, Y15, Y0
	VFMADD231PS Y13, Y15, Y1
	VFMADD231PS Y14, Y15, Y2
	VBROADCASTSS (SI)(R8*1), Y15
	VFMADD231PS Y12, Y15, Y3
	VFMADD231PS Y13, Y15, Y4
	VFMADD231PS Y14, Y15, Y5
	VBROADCASTSS (BX), Y15
	VFMADD231PS Y12, Y15, Y6
	VFMADD231PS Y13, Y15, Y7
	VFMADD231PS Y14, Y15, Y8
	VBROADCASTSS (BX)(R8*1), Y15
	VFMADD231PS Y12, Y15, Y9
	VFMADD231PS Y13, Y15, Y10
	VFMADD231PS Y14, Y15, Y11
	ADDQ R10, SI
	ADDQ R10, BX
	ADDQ R11, DX
	DECQ CX
	JNZ  kloop
	LEAQ (DI)(R12*2), BX    // BX = C row 2
	TESTQ R9, R9
	JZ   kstore
	// c[i][:] = c[i][:]*scale[:] + acc[i][:]
	VMOVUPS (R9), Y12
	VMOVUPS 32(R9), Y13
	VMOVUPS 64(R9), Y14
	VMOVUPS (DI), Y15
	VFMADD213PS Y0, Y12, Y15
	VMOVUPS Y15, (DI)
	VMOVUPS 32(DI), Y15
	VFMADD213PS Y1, Y13, Y15
	VMOVUPS Y15, 32(DI)
	VMOVUPS 64(DI), Y15
	VFMADD213PS Y2, Y14, Y15
	VMOVUPS Y15, 64(DI)
	VMOVUPS (DI)(R12*1), Y15
	VFMADD213PS Y3, Y12, Y15
	VMOVUPS Y15, (DI)(R12*1)
	VMOVUPS 32(DI)(R12*1), Y15
	VFMADD213PS Y4, Y13, Y15
	VMOVUPS Y15, 32(DI)(R12*1)
	VMOVUPS 64(DI)(R12*1), Y15
	VFMADD213PS Y5, Y14, Y15
	VMOVUPS Y15, 64(DI)(R12*1)
	VMOVUPS (BX), Y15
	VFMADD213PS Y6, Y12, Y15
	VMOVUPS Y15, (BX)
	VMOVUPS 32(BX), Y15
	VFMADD213PS Y7, Y13, Y15
	VMOVUPS Y15, 32(BX)
	VMOVUPS 64(BX), Y15
	VFMADD213PS Y8, Y14, Y15
	VMOVUPS Y15, 64(BX)
	VMOVUPS (BX)(R12*1), Y15
	VFMADD213PS Y9, Y12, Y15
	VMOVUPS Y15, (BX)(R12*1)
	VMOVUPS 32(BX)(R12*1), Y15
	VFMADD213PS Y10, Y13, Y15
	VMOVUPS Y15, 32(BX)(R12*1)
	VMOVUPS 64(BX)(R12*1), Y15
	VFMADD213PS Y11, Y14, Y15
	VMOVUPS Y15, 64(BX)(R12*1)
	VZEROUPPER
	RET
kstore:
	// c[i][:] = acc[i][:]
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, (DI)(R12*1)
	VMOVUPS Y4, 32(DI)(R12*1)
	VMOVUPS Y5, 64(DI)(R12*1)
	VMOVUPS Y6, (BX)
	VMOVUPS Y7, 32(BX)
	VMOVUPS Y8, 64(BX)
	VMOVUPS Y9, (BX)(R12*1)
	VMOVUPS Y10, 32(BX)(R12*1)
	VMOVUPS Y11, 64(BX)(R12*1)
	VZEROUPPER
	RET

// func faSoftmaxAVX2(s *float32, lds, rows, cols int, m, l, alpha *float32)
// faSoftmaxGeneric for 8 columns at a time (rows >= 1, cols % 8 == 0):
//
//	for each block of 8 columns:
//		mx := max(m, s[0..rows-1])           // vertical, two accumulators
//		use := mx == -Inf ? 0 : mx
//		alpha = exp(m - use)
//		sum := 0; for i { s[i] = exp(s[i] - use); sum += s[i] }  // four rows at a time
//		l = l*alpha + sum (fused); m = mx
TEXT ·faSoftmaxAVX2(SB), NOSPLIT, $0-56
	MOVQ s+0(FP), SI
	MOVQ lds+8(FP), R8
	SHLQ $2, R8
	MOVQ rows+16(FP), R9
	MOVQ cols+24(FP), R10
	SHRQ $3, R10
	JZ   sdone
	MOVQ m+32(FP), R11
	MOVQ l+40(FP), R12
	MOVQ alpha+48(FP), R13
	VMOVUPS faALo<>(SB), Y14
	VMOVUPS faAHi<>(SB), Y13
scol:
	VMOVUPS (R11), Y0     // m (old)
	VMOVAPS Y0, Y1      // running max, even rows
	VMOVAPS Y0, Y2      // running max, odd rows
	MOVQ SI, DI
	MOVQ R9, CX
	SHRQ $1, CX
	JZ   smax1
smax2:
	VMAXPS (DI), Y1, Y1
	VMAXPS (DI)(R8*1), Y2, Y2
	LEAQ (DI)(R8*2), DI
	DECQ CX
	JNZ  smax2
smax1:
	TESTQ $1, R9
	JZ   smaxd
	VMAXPS (DI), Y1, Y1
smaxd:
	VMAXPS Y2, Y1, Y1
	VMOVUPS Y1, (R11)     // m = mx
	VCMPPS $0, faANegInf<>(SB), Y1, Y2 // Y2 = mx == -Inf
	VANDNPS Y1, Y2, Y1      // Y1 = use
	VSUBPS Y1, Y0, Y0 // m - use
	FA_EXP_AVX2(Y0, Y2, Y3, Y14, Y13)
	VMOVUPS Y0, (R13)     // alpha
	VXORPS Y7, Y7, Y7       // sum
	MOVQ SI, DI
	MOVQ R9, CX
	SHRQ $2, CX
	JZ   sexp1
sexp4:
	LEAQ (DI)(R8*2), DX     // DX = row 2
	VMOVUPS (DI), Y0
	VMOVUPS (DI)(R8*1), Y4
	VMOVUPS (DX), Y8
	VMOVUPS (DX)(R8*1), Y11
	VSUBPS Y1, Y0, Y0
	VSUBPS Y1, Y4, Y4
	VSUBPS Y1, Y8, Y8
	VSUBPS Y1, Y11, Y11
	FA_EXP4_AVX2(Y0, Y2, Y3, Y4, Y5, Y6, Y8, Y9, Y10, Y11, Y12, Y15, Y14, Y13)
	VMOVUPS Y0, (DI)
	VMOVUPS Y4, (DI)(R8*1)
	VMOVUPS Y8, (DX)
	VMOVUPS Y11, (DX)(R8*1)
	VADDPS Y0, Y7, Y7
	VADDPS Y4, Y7, Y7
	VADDPS Y8, Y7, Y7
	VADDPS Y11, Y7, Y7
	LEAQ (DX)(R8*2), DI
	DECQ CX
	JNZ  sexp4
sexp1:
	MOVQ R9, CX
	ANDQ $3, CX
	JZ   sexpd
sexp1l:
	VMOVUPS (DI), Y0
	VSUBPS Y1, Y0, Y0
	FA_EXP_AVX2(Y0, Y2, Y3, Y14, Y13)
	VMOVUPS Y0, (DI)
	VADDPS Y0, Y7, Y7
	ADDQ R8, DI
	DECQ CX
	JNZ  sexp1l
sexpd:
	VMOVUPS (R13), Y0     // alpha
	VMOVUPS (R12), Y8
	VFMADD213PS Y7, Y0, Y8 // l = l*alpha + sum
	VMOVUPS Y8, (R12)
	ADDQ $32, SI
	ADDQ $32, R11
	ADDQ $32, R12
	ADDQ $32, R13
	DECQ R10
	JNZ  scol
	VZEROUPPER
sdone:
	RET

// func faExpSumAVX2(dst, src *float32, n int, sub float32) float32
// for i < n&^7 { dst[i] = exp(src[i] - sub) }; returns their sum (8
// lane sums in index order, then a fixed pairwise reduction).
TEXT ·faExpSumAVX2(SB), NOSPLIT, $0-36
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	VBROADCASTSS sub+24(FP), Y1
	VMOVUPS faALo<>(SB), Y14
	VMOVUPS faAHi<>(SB), Y13
	VXORPS Y7, Y7, Y7
	MOVQ CX, DX
	SHRQ $2, CX
	JZ   eone
equad:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y4
	VMOVUPS 64(SI), Y8
	VMOVUPS 96(SI), Y11
	VSUBPS Y1, Y0, Y0
	VSUBPS Y1, Y4, Y4
	VSUBPS Y1, Y8, Y8
	VSUBPS Y1, Y11, Y11
	FA_EXP4_AVX2(Y0, Y2, Y3, Y4, Y5, Y6, Y8, Y9, Y10, Y11, Y12, Y15, Y14, Y13)
	VMOVUPS Y0, (DI)
	VMOVUPS Y4, 32(DI)
	VMOVUPS Y8, 64(DI)
	VMOVUPS Y11, 96(DI)
	VADDPS Y0, Y7, Y7
	VADDPS Y4, Y7, Y7
	VADDPS Y8, Y7, Y7
	VADDPS Y11, Y7, Y7
	ADDQ $128, SI
	ADDQ $128, DI
	DECQ CX
	JNZ  equad
eone:
	ANDQ $3, DX
	JZ   esum
eonel:
	VMOVUPS (SI), Y0
	VSUBPS Y1, Y0, Y0
	FA_EXP_AVX2(Y0, Y2, Y3, Y14, Y13)
	VMOVUPS Y0, (DI)
	VADDPS Y0, Y7, Y7
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ DX
	JNZ  eonel
esum:
	VEXTRACTF128 $1, Y7, X8
	VADDPS X8, X7, X7
	VHADDPS X7, X7, X7
	VHADDPS X7, X7, X7
	VMOVSS X7, ret+32(FP)
	VZEROUPPER
	RET

// func faDotAVX2(out, q, k *float32, ldk, n, d int)
// out[j] = sum_t q[t] * k[j*ldk+t] for j < n, t < d (d % 8 == 0, d >= 8):
// eight lane sums per key in t order (fused), then a fixed reduction; four
// keys at a time.
TEXT ·faDotAVX2(SB), NOSPLIT, $0-48
	MOVQ out+0(FP), DI
	MOVQ q+8(FP), SI
	MOVQ k+16(FP), DX
	MOVQ ldk+24(FP), R8
	SHLQ $2, R8
	MOVQ n+32(FP), R9
	MOVQ d+40(FP), R10
	SHLQ $2, R10
dfour:
	CMPQ R9, $4
	JLT  done1
	LEAQ (DX)(R8*1), BX
	LEAQ (DX)(R8*2), R11
	LEAQ (BX)(R8*2), R12
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ AX, AX
dloop4:
	VMOVUPS (SI)(AX*1), Y4
	VFMADD231PS (DX)(AX*1), Y4, Y0
	VFMADD231PS (BX)(AX*1), Y4, Y1
	VFMADD231PS (R11)(AX*1), Y4, Y2
	VFMADD231PS (R12)(AX*1), Y4, Y3
	ADDQ $32, AX
	CMPQ AX, R10
	JLT  dloop4
	VHADDPS Y1, Y0, Y0
	VHADDPS Y3, Y2, Y2
	VHADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VMOVUPS X0, (DI)
	ADDQ $16, DI
	LEAQ (DX)(R8*4), DX
	SUBQ $4, R9
	JMP  dfour
done1:
	TESTQ R9, R9
	JZ   ddone
	VXORPS Y0, Y0, Y0
	XORQ AX, AX
dloop1:
	VMOVUPS (SI)(AX*1), Y4
	VFMADD231PS (DX)(AX*1), Y4, Y0
	ADDQ $32, AX
	CMPQ AX, R10
	JLT  dloop1
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VMOVSS X0, (DI)
	ADDQ $4, DI
	ADDQ R8, DX
	DECQ R9
	JMP  done1
ddone:
	VZEROUPPER
	RET

// func faGemvAVX2(c, a, b *float32, ldb, kc, n int, add bool, alpha float32)
// c[j] = (add ? c[j]*alpha : 0) + sum_p a[p] * b[p*ldb+j] for j < n
// (n % 8 == 0), p < kc (kc >= 1) in order, fused; 64 columns at a time.
TEXT ·faGemvAVX2(SB), NOSPLIT, $0-56
	MOVQ c+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ ldb+24(FP), R8
	SHLQ $2, R8
	MOVQ kc+32(FP), R9
	MOVQ n+40(FP), R10
	MOVBLZX add+48(FP), R11
	VBROADCASTSS alpha+52(FP), Y15
g64:
	CMPQ R10, $64
	JLT  g8
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	MOVQ SI, AX
	MOVQ DX, BX
	MOVQ R9, CX
gp64:
	VBROADCASTSS (AX), Y8
	VFMADD231PS (BX), Y8, Y0
	VFMADD231PS 32(BX), Y8, Y1
	VFMADD231PS 64(BX), Y8, Y2
	VFMADD231PS 96(BX), Y8, Y3
	VFMADD231PS 128(BX), Y8, Y4
	VFMADD231PS 160(BX), Y8, Y5
	VFMADD231PS 192(BX), Y8, Y6
	VFMADD231PS 224(BX), Y8, Y7
	ADDQ $4, AX
	ADDQ R8, BX
	DECQ CX
	JNZ  gp64
	TESTQ R11, R11
	JZ   gs64
	VFMADD231PS (DI), Y15, Y0
	VFMADD231PS 32(DI), Y15, Y1
	VFMADD231PS 64(DI), Y15, Y2
	VFMADD231PS 96(DI), Y15, Y3
	VFMADD231PS 128(DI), Y15, Y4
	VFMADD231PS 160(DI), Y15, Y5
	VFMADD231PS 192(DI), Y15, Y6
	VFMADD231PS 224(DI), Y15, Y7
gs64:
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, 128(DI)
	VMOVUPS Y5, 160(DI)
	VMOVUPS Y6, 192(DI)
	VMOVUPS Y7, 224(DI)
	ADDQ $256, DI
	ADDQ $256, DX
	SUBQ $64, R10
	JMP  g64
g8:
	TESTQ R10, R10
	JZ   gdone
	VXORPS Y0, Y0, Y0
	MOVQ SI, AX
	MOVQ DX, BX
	MOVQ R9, CX
gp8:
	VBROADCASTSS (AX), Y8
	VFMADD231PS (BX), Y8, Y0
	ADDQ $4, AX
	ADDQ R8, BX
	DECQ CX
	JNZ  gp8
	TESTQ R11, R11
	JZ   gs8
	VFMADD231PS (DI), Y15, Y0
gs8:
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, DX
	SUBQ $8, R10
	JMP  g8
gdone:
	VZEROUPPER
	RET

// func faDotF16AVX2(out, q *float32, k *uint16, ldk, n, d int)
// faDotAVX2 with float16 K widened in registers (VCVTPH2PS):
// out[j] = sum_t q[t] * float32(k[j*ldk+t]) for j < n, t < d (d % 8 == 0).
TEXT ·faDotF16AVX2(SB), NOSPLIT, $0-48
	MOVQ out+0(FP), DI
	MOVQ q+8(FP), SI
	MOVQ k+16(FP), DX
	MOVQ ldk+24(FP), R8
	SHLQ $1, R8             // R8 = ldk bytes
	MOVQ n+32(FP), R9
	MOVQ d+40(FP), R10      // elements
hfour:
	CMPQ R9, $4
	JLT  hone
	LEAQ (DX)(R8*1), BX
	LEAQ (DX)(R8*2), R11
	LEAQ (BX)(R8*2), R12
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ AX, AX             // AX = t
hloop4:
	VMOVUPS (SI)(AX*4), Y4
	VCVTPH2PS (DX)(AX*2), Y5
	VFMADD231PS Y5, Y4, Y0
	VCVTPH2PS (BX)(AX*2), Y6
	VFMADD231PS Y6, Y4, Y1
	VCVTPH2PS (R11)(AX*2), Y7
	VFMADD231PS Y7, Y4, Y2
	VCVTPH2PS (R12)(AX*2), Y8
	VFMADD231PS Y8, Y4, Y3
	ADDQ $8, AX
	CMPQ AX, R10
	JLT  hloop4
	VHADDPS Y1, Y0, Y0
	VHADDPS Y3, Y2, Y2
	VHADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VMOVUPS X0, (DI)
	ADDQ $16, DI
	LEAQ (DX)(R8*4), DX
	SUBQ $4, R9
	JMP  hfour
hone:
	TESTQ R9, R9
	JZ   hdone
	VXORPS Y0, Y0, Y0
	XORQ AX, AX
hloop1:
	VMOVUPS (SI)(AX*4), Y4
	VCVTPH2PS (DX)(AX*2), Y5
	VFMADD231PS Y5, Y4, Y0
	ADDQ $8, AX
	CMPQ AX, R10
	JLT  hloop1
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VMOVSS X0, (DI)
	ADDQ $4, DI
	ADDQ R8, DX
	DECQ R9
	JMP  hone
hdone:
	VZEROUPPER
	RET

// func faGemvF16AVX2(c, a *float32, b *uint16, ldb, kc, n int, add bool, alpha float32)
// faGemvAVX2 with float16 B widened in registers (VCVTPH2PS):
// c[j] = (add ? c[j]*alpha : 0) + sum_p a[p] * float32(b[p*ldb+j]) for j < n
// (n % 8 == 0), p < kc (kc >= 1) in order, fused; 64 columns at a time.
TEXT ·faGemvF16AVX2(SB), NOSPLIT, $0-56
	MOVQ c+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ ldb+24(FP), R8
	SHLQ $1, R8             // R8 = ldb bytes
	MOVQ kc+32(FP), R9
	MOVQ n+40(FP), R10
	MOVBLZX add+48(FP), R11
	VBROADCASTSS alpha+52(FP), Y15
hbig:
	CMPQ R10, $64
	JLT  hsmall
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	MOVQ SI, AX
	MOVQ DX, BX
	MOVQ R9, CX
hpbig:
	VBROADCASTSS (AX), Y8
	VCVTPH2PS 0(BX), Y9
	VFMADD231PS Y9, Y8, Y0
	VCVTPH2PS 16(BX), Y10
	VFMADD231PS Y10, Y8, Y1
	VCVTPH2PS 32(BX), Y11
	VFMADD231PS Y11, Y8, Y2
	VCVTPH2PS 48(BX), Y12
	VFMADD231PS Y12, Y8, Y3
	VCVTPH2PS 64(BX), Y13
	VFMADD231PS Y13, Y8, Y4
	VCVTPH2PS 80(BX), Y14
	VFMADD231PS Y14, Y8, Y5
	VCVTPH2PS 96(BX), Y9
	VFMADD231PS Y9, Y8, Y6
	VCVTPH2PS 112(BX), Y10
	VFMADD231PS Y10, Y8, Y7
	ADDQ $4, AX
	ADDQ R8, BX
	DECQ CX
	JNZ  hpbig
	TESTQ R11, R11
	JZ   hsbig
	VFMADD231PS 0(DI), Y15, Y0
	VFMADD231PS 32(DI), Y15, Y1
	VFMADD231PS 64(DI), Y15, Y2
	VFMADD231PS 96(DI), Y15, Y3
	VFMADD231PS 128(DI), Y15, Y4
	VFMADD231PS 160(DI), Y15, Y5
	VFMADD231PS 192(DI), Y15, Y6
	VFMADD231PS 224(DI), Y15, Y7
hsbig:
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, 128(DI)
	VMOVUPS Y5, 160(DI)
	VMOVUPS Y6, 192(DI)
	VMOVUPS Y7, 224(DI)
	ADDQ $256, DI
	ADDQ $128, DX
	SUBQ $64, R10
	JMP  hbig
hsmall:
	TESTQ R10, R10
	JZ   hdone
	VXORPS Y0, Y0, Y0
	MOVQ SI, AX
	MOVQ DX, BX
	MOVQ R9, CX
hpsmall:
	VBROADCASTSS (AX), Y8
	VCVTPH2PS (BX), Y9
	VFMADD231PS Y9, Y8, Y0
	ADDQ $4, AX
	ADDQ R8, BX
	DECQ CX
	JNZ  hpsmall
	TESTQ R11, R11
	JZ   hssmall
	VFMADD231PS (DI), Y15, Y0
hssmall:
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $16, DX
	SUBQ $8, R10
	JMP  hsmall
hdone:
	VZEROUPPER
	RET

// func faTransposeAVX2(dst *float32, ldd int, src *float32, lds int, sv *float32, rows, cols int)
// dst[j*ldd+i] = src[i*lds+j] * sv[j] for i < rows, j < cols (both multiples
// of 8), in 8x8 blocks: eight row loads scaled by sv, UNPCK/SHUFPS/PERM2F128,
// eight row stores.
TEXT ·faTransposeAVX2(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R9
	SHLQ $2, R9             // R9 = ldd bytes
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R8
	SHLQ $2, R8             // R8 = lds bytes
	MOVQ sv+32(FP), DX
	MOVQ rows+40(FP), R10
	SHRQ $3, R10
	JZ   tdone
	MOVQ cols+48(FP), R11
	SHRQ $3, R11
	JZ   tdone
	LEAQ (R8)(R8*2), R13    // 3*lds
	LEAQ (R9)(R9*2), R14    // 3*ldd
trow:
	MOVQ SI, AX             // AX = src block (row block, column 0)
	MOVQ DI, CX             // CX = dst block (row 0, column block)
	MOVQ DX, R15            // R15 = sv
	MOVQ R11, R12
tcol:
	VMOVUPS (R15), Y8
	LEAQ (AX)(R13*1), BX
	VMULPS (AX), Y8, Y0
	VMULPS (AX)(R8*1), Y8, Y1
	VMULPS (AX)(R8*2), Y8, Y2
	VMULPS (BX), Y8, Y3
	VMULPS (AX)(R8*4), Y8, Y4
	VMULPS (BX)(R8*2), Y8, Y5
	VMULPS (AX)(R13*2), Y8, Y6
	VMULPS (BX)(R8*4), Y8, Y7
	VUNPCKLPS Y1, Y0, Y9
	VUNPCKHPS Y1, Y0, Y10
	VUNPCKLPS Y3, Y2, Y0
	VUNPCKHPS Y3, Y2, Y1
	VUNPCKLPS Y5, Y4, Y2
	VUNPCKHPS Y5, Y4, Y3
	VUNPCKLPS Y7, Y6, Y4
	VUNPCKHPS Y7, Y6, Y5
	VSHUFPS $0x44, Y0, Y9, Y6
	VSHUFPS $0xEE, Y0, Y9, Y7
	VSHUFPS $0x44, Y1, Y10, Y11
	VSHUFPS $0xEE, Y1, Y10, Y12
	VSHUFPS $0x44, Y4, Y2, Y13
	VSHUFPS $0xEE, Y4, Y2, Y14
	VSHUFPS $0x44, Y5, Y3, Y15
	VSHUFPS $0xEE, Y5, Y3, Y9
	VPERM2F128 $0x20, Y13, Y6, Y0
	VPERM2F128 $0x31, Y13, Y6, Y1
	VPERM2F128 $0x20, Y14, Y7, Y2
	VPERM2F128 $0x31, Y14, Y7, Y3
	VPERM2F128 $0x20, Y15, Y11, Y4
	VPERM2F128 $0x31, Y15, Y11, Y5
	VPERM2F128 $0x20, Y9, Y12, Y6
	VPERM2F128 $0x31, Y9, Y12, Y7
	LEAQ (CX)(R14*1), BX
	VMOVUPS Y0, (CX)
	VMOVUPS Y2, (CX)(R9*1)
	VMOVUPS Y4, (CX)(R9*2)
	VMOVUPS Y6, (BX)
	VMOVUPS Y1, (CX)(R9*4)
	VMOVUPS Y3, (BX)(R9*2)
	VMOVUPS Y5, (CX)(R14*2)
	VMOVUPS Y7, (BX)(R9*4)
	ADDQ $32, AX
	ADDQ $32, R15
	LEAQ (CX)(R9*8), CX
	DECQ R12
	JNZ  tcol
	LEAQ (SI)(R8*8), SI
	ADDQ $32, DI
	DECQ R10
	JNZ  trow
	VZEROUPPER
tdone:
	RET

DATA faALo<>+0(SB)/4, $0xc2b00000
DATA faALo<>+4(SB)/4, $0xc2b00000
DATA faALo<>+8(SB)/4, $0xc2b00000
DATA faALo<>+12(SB)/4, $0xc2b00000
DATA faALo<>+16(SB)/4, $0xc2b00000
DATA faALo<>+20(SB)/4, $0xc2b00000
DATA faALo<>+24(SB)/4, $0xc2b00000
DATA faALo<>+28(SB)/4, $0xc2b00000
GLOBL faALo<>(SB), RODATA|NOPTR, $32
DATA faAHi<>+0(SB)/4, $0x42b0c0a5
DATA faAHi<>+4(SB)/4, $0x42b0c0a5
DATA faAHi<>+8(SB)/4, $0x42b0c0a5
DATA faAHi<>+12(SB)/4, $0x42b0c0a5
DATA faAHi<>+16(SB)/4, $0x42b0c0a5
DATA faAHi<>+20(SB)/4, $0x42b0c0a5
DATA faAHi<>+24(SB)/4, $0x42b0c0a5
DATA faAHi<>+28(SB)/4, $0x42b0c0a5
GLOBL faAHi<>(SB), RODATA|NOPTR, $32
DATA faALog2e<>+0(SB)/4, $0x3fb8aa3b
DATA faALog2e<>+4(SB)/4, $0x3fb8aa3b
DATA faALog2e<>+8(SB)/4, $0x3fb8aa3b
DATA faALog2e<>+12(SB)/4, $0x3fb8aa3b
DATA faALog2e<>+16(SB)/4, $0x3fb8aa3b
DATA faALog2e<>+20(SB)/4, $0x3fb8aa3b
DATA faALog2e<>+24(SB)/4, $0x3fb8aa3b
DATA faALog2e<>+28(SB)/4, $0x3fb8aa3b
GLOBL faALog2e<>(SB), RODATA|NOPTR, $32
DATA faAHalf<>+0(SB)/4, $0x3f000000
DATA faAHalf<>+4(SB)/4, $0x3f000000
DATA faAHalf<>+8(SB)/4, $0x3f000000
DATA faAHalf<>+12(SB)/4, $0x3f000000
DATA faAHalf<>+16(SB)/4, $0x3f000000
DATA faAHalf<>+20(SB)/4, $0x3f000000
DATA faAHalf<>+24(SB)/4, $0x3f000000
DATA faAHalf<>+28(SB)/4, $0x3f000000
GLOBL faAHalf<>(SB), RODATA|NOPTR, $32
DATA faAC1<>+0(SB)/4, $0x3f318000
DATA faAC1<>+4(SB)/4, $0x3f318000
DATA faAC1<>+8(SB)/4, $0x3f318000
DATA faAC1<>+12(SB)/4, $0x3f318000
DATA faAC1<>+16(SB)/4, $0x3f318000
DATA faAC1<>+20(SB)/4, $0x3f318000
DATA faAC1<>+24(SB)/4, $0x3f318000
DATA faAC1<>+28(SB)/4, $0x3f318000
GLOBL faAC1<>(SB), RODATA|NOPTR, $32
DATA faAC2<>+0(SB)/4, $0xb95e8083
DATA faAC2<>+4(SB)/4, $0xb95e8083
DATA faAC2<>+8(SB)/4, $0xb95e8083
DATA faAC2<>+12(SB)/4, $0xb95e8083
DATA faAC2<>+16(SB)/4, $0xb95e8083
DATA faAC2<>+20(SB)/4, $0xb95e8083
DATA faAC2<>+24(SB)/4, $0xb95e8083
DATA faAC2<>+28(SB)/4, $0xb95e8083
GLOBL faAC2<>(SB), RODATA|NOPTR, $32
DATA faAP0<>+0(SB)/4, $0x39506967
DATA faAP0<>+4(SB)/4, $0x39506967
DATA faAP0<>+8(SB)/4, $0x39506967
DATA faAP0<>+12(SB)/4, $0x39506967
DATA faAP0<>+16(SB)/4, $0x39506967
DATA faAP0<>+20(SB)/4, $0x39506967
DATA faAP0<>+24(SB)/4, $0x39506967
DATA faAP0<>+28(SB)/4, $0x39506967
GLOBL faAP0<>(SB), RODATA|NOPTR, $32
DATA faAP1<>+0(SB)/4, $0x3ab743ce
DATA faAP1<>+4(SB)/4, $0x3ab743ce
DATA faAP1<>+8(SB)/4, $0x3ab743ce
DATA faAP1<>+12(SB)/4, $0x3ab743ce
DATA faAP1<>+16(SB)/4, $0x3ab743ce
DATA faAP1<>+20(SB)/4, $0x3ab743ce
DATA faAP1<>+24(SB)/4, $0x3ab743ce
DATA faAP1<>+28(SB)/4, $0x3ab743ce
GLOBL faAP1<>(SB), RODATA|NOPTR, $32
DATA faAP2<>+0(SB)/4, $0x3c088908
DATA faAP2<>+4(SB)/4, $0x3c088908
DATA faAP2<>+8(SB)/4, $0x3c088908
DATA faAP2<>+12(SB)/4, $0x3c088908
DATA faAP2<>+16(SB)/4, $0x3c088908
DATA faAP2<>+20(SB)/4, $0x3c088908
DATA faAP2<>+24(SB)/4, $0x3c088908
DATA faAP2<>+28(SB)/4, $0x3c088908
GLOBL faAP2<>(SB), RODATA|NOPTR, $32
DATA faAP3<>+0(SB)/4, $0x3d2aa9c1
DATA faAP3<>+4(SB)/4, $0x3d2aa9c1
DATA faAP3<>+8(SB)/4, $0x3d2aa9c1
DATA faAP3<>+12(SB)/4, $0x3d2aa9c1
DATA faAP3<>+16(SB)/4, $0x3d2aa9c1
DATA faAP3<>+20(SB)/4, $0x3d2aa9c1
DATA faAP3<>+24(SB)/4, $0x3d2aa9c1
DATA faAP3<>+28(SB)/4, $0x3d2aa9c1
GLOBL faAP3<>(SB), RODATA|NOPTR, $32
DATA faAP4<>+0(SB)/4, $0x3e2aaaaa
DATA faAP4<>+4(SB)/4, $0x3e2aaaaa
DATA faAP4<>+8(SB)/4, $0x3e2aaaaa
DATA faAP4<>+12(SB)/4, $0x3e2aaaaa
DATA faAP4<>+16(SB)/4, $0x3e2aaaaa
DATA faAP4<>+20(SB)/4, $0x3e2aaaaa
DATA faAP4<>+24(SB)/4, $0x3e2aaaaa
DATA faAP4<>+28(SB)/4, $0x3e2aaaaa
GLOBL faAP4<>(SB), RODATA|NOPTR, $32
DATA faAP5<>+0(SB)/4, $0x3f000000
DATA faAP5<>+4(SB)/4, $0x3f000000
DATA faAP5<>+8(SB)/4, $0x3f000000
DATA faAP5<>+12(SB)/4, $0x3f000000
DATA faAP5<>+16(SB)/4, $0x3f000000
DATA faAP5<>+20(SB)/4, $0x3f000000
DATA faAP5<>+24(SB)/4, $0x3f000000
DATA faAP5<>+28(SB)/4, $0x3f000000
GLOBL faAP5<>(SB), RODATA|NOPTR, $32
DATA faAOne<>+0(SB)/4, $0x3f800000
DATA faAOne<>+4(SB)/4, $0x3f800000
DATA faAOne<>+8(SB)/4, $0x3f800000
DATA faAOne<>+12(SB)/4, $0x3f800000
DATA faAOne<>+16(SB)/4, $0x3f800000
DATA faAOne<>+20(SB)/4, $0x3f800000
DATA faAOne<>+24(SB)/4, $0x3f800000
DATA faAOne<>+28(SB)/4, $0x3f800000
GLOBL faAOne<>(SB), RODATA|NOPTR, $32
DATA faABias<>+0(SB)/4, $0x0000007f
DATA faABias<>+4(SB)/4, $0x0000007f
DATA faABias<>+8(SB)/4, $0x0000007f
DATA faABias<>+12(SB)/4, $0x0000007f
DATA faABias<>+16(SB)/4, $0x0000007f
DATA faABias<>+20(SB)/4, $0x0000007f
DATA faABias<>+24(SB)/4, $0x0000007f
DATA faABias<>+28(SB)/4, $0x0000007f
GLOBL faABias<>(SB), RODATA|NOPTR, $32
DATA faANegInf<>+0(SB)/4, $0xff800000
DATA faANegInf<>+4(SB)/4, $0xff800000
DATA faANegInf<>+8(SB)/4, $0xff800000
DATA faANegInf<>+12(SB)/4, $0xff800000
DATA faANegInf<>+16(SB)/4, $0xff800000
DATA faANegInf<>+20(SB)/4, $0xff800000
DATA faANegInf<>+24(SB)/4, $0xff800000
DATA faANegInf<>+28(SB)/4, $0xff800000
GLOBL faANegInf<>(SB), RODATA|NOPTR, $32
