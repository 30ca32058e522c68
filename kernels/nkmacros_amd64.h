// Vector math macros of the normalisation/activation kernels (AVX2 on Y
// registers, AVX-512 on Z registers). Each evaluates, lane by lane, the
// formula of the Go twin named in its comment; constants come from
// nk_amd64.h. Operand order is Go's (sources first, destination last).

// EXP_AVX2: X = exp(X) (Exp32's algorithm): clamp X to [-104, 89] keeping
// NaN; n = floor(X·log2e + 0.5); r = X - n·c1 - n·c2;
// y = ((((p0·r+p1)·r+p2)·r+p3)·r+p4)·r+p5; y = y·r² + r + 1;
// X = y·2^n2·2^n1 with n1 = clamp(n, -126, 127), n2 = n - n1.
#define EXP_AVX2(X, T1, T2, T3) \
	VMOVUPS NK_HI, T1; \
	VMINPS X, T1, X; \
	VMOVUPS NK_LO, T1; \
	VMAXPS X, T1, X; \
	VMOVUPS NK_HALF, T1; \
	VFMADD231PS NK_LOG2E, X, T1; \
	VROUNDPS $1, T1, T1; \
	VFNMADD231PS NK_C1, T1, X; \
	VFNMADD231PS NK_C2, T1, X; \
	VCVTTPS2DQ T1, T1; \
	VMULPS X, X, T2; \
	VMOVUPS NK_EP0, T3; \
	VFMADD213PS NK_EP1, X, T3; \
	VFMADD213PS NK_EP2, X, T3; \
	VFMADD213PS NK_EP3, X, T3; \
	VFMADD213PS NK_EP4, X, T3; \
	VFMADD213PS NK_EP5, X, T3; \
	VFMADD213PS X, T2, T3; \
	VADDPS NK_ONE, T3, T3; \
	VPMINSD NK_I127, T1, T2; \
	VPMAXSD NK_IM126, T2, T2; \
	VPSUBD T2, T1, T1; \
	VPADDD NK_I127, T2, T2; \
	VPSLLD $23, T2, T2; \
	VPADDD NK_I127, T1, T1; \
	VPSLLD $23, T1, T1; \
	VMULPS T1, T3, T3; \
	VMULPS T2, T3, X

// SIGMOID_AVX2: T0 = sigmoid(X) (nkSigmoid32): e = exp(-|X|),
// r = 1/(1+e), T0 = X < 0 ? e·r : r (selected by the sign bit of X).
#define SIGMOID_AVX2(X, T0, T1, T2, T3) \
	VORPS NK_SIGN, X, T0; \
	EXP_AVX2(T0, T1, T2, T3); \
	VADDPS NK_ONE, T0, T1; \
	VMOVUPS NK_ONE, T2; \
	VDIVPS T1, T2, T2; \
	VMULPS T2, T0, T0; \
	VBLENDVPS X, T0, T2, T0

// SILU_AVX2: X = X·sigmoid(X) (nkSiLU32).
#define SILU_AVX2(X, T0, T1, T2, T3) \
	SIGMOID_AVX2(X, T0, T1, T2, T3); \
	VMULPS T0, X, X

// ERF_AVX2: X = erf(X) (Erf32): x clamped to [-4, 4] keeping NaN,
// X = x·P(x²)/Q(x²), clamped to [-1, 1].
#define ERF_AVX2(X, T1, T2, T3) \
	VMOVUPS NK_ERFLIM, T1; \
	VMINPS X, T1, X; \
	VMOVUPS NK_NERFLIM, T1; \
	VMAXPS X, T1, X; \
	VMULPS X, X, T2; \
	VMOVUPS NK_EA0, T3; \
	VFMADD213PS NK_EA1, T2, T3; \
	VFMADD213PS NK_EA2, T2, T3; \
	VFMADD213PS NK_EA3, T2, T3; \
	VFMADD213PS NK_EA4, T2, T3; \
	VFMADD213PS NK_EA5, T2, T3; \
	VFMADD213PS NK_EA6, T2, T3; \
	VMOVUPS NK_EB0, T1; \
	VFMADD213PS NK_EB1, T2, T1; \
	VFMADD213PS NK_EB2, T2, T1; \
	VFMADD213PS NK_EB3, T2, T1; \
	VFMADD213PS NK_EB4, T2, T1; \
	VMULPS T3, X, X; \
	VDIVPS T1, X, X; \
	VMOVUPS NK_ONE, T1; \
	VMINPS X, T1, X; \
	VMOVUPS NK_NONE, T1; \
	VMAXPS X, T1, X

// TANH_AVX2: X = tanh(X) (Tanh32): x clamped to ±7.905 keeping NaN,
// X = x·P(x²)/Q(x²), and exactly ±1 where x reached the clamp.
#define TANH_AVX2(X, T1, T2, T3) \
	VMOVUPS NK_TLIM, T1; \
	VMINPS X, T1, X; \
	VMOVUPS NK_NTLIM, T1; \
	VMAXPS X, T1, X; \
	VMULPS X, X, T2; \
	VMOVUPS NK_TA0, T3; \
	VFMADD213PS NK_TA1, T2, T3; \
	VFMADD213PS NK_TA2, T2, T3; \
	VFMADD213PS NK_TA3, T2, T3; \
	VFMADD213PS NK_TA4, T2, T3; \
	VFMADD213PS NK_TA5, T2, T3; \
	VFMADD213PS NK_TA6, T2, T3; \
	VMOVUPS NK_TB0, T1; \
	VFMADD213PS NK_TB1, T2, T1; \
	VFMADD213PS NK_TB2, T2, T1; \
	VFMADD213PS NK_TB3, T2, T1; \
	VMULPS X, T3, T3; \
	VDIVPS T1, T3, T3; \
	VCMPPS $0, NK_TLIM, X, T2; \
	VBLENDVPS T2, NK_ONE, T3, T3; \
	VCMPPS $0, NK_NTLIM, X, T2; \
	VBLENDVPS T2, NK_NONE, T3, X

// The AVX-512 versions: the same sequences on Z registers (VRNDSCALEPS
// replaces VROUNDPS; $9 = floor, precision exception suppressed).
#define EXP_AVX512(X, T1, T2, T3) \
	VMINPS X, NK_HIZ, X; \
	VMAXPS X, NK_LOZ, X; \
	VMOVUPS NK_HALF, T1; \
	VFMADD231PS NK_LOG2E, X, T1; \
	VRNDSCALEPS $9, T1, T1; \
	VFNMADD231PS NK_C1, T1, X; \
	VFNMADD231PS NK_C2, T1, X; \
	VCVTTPS2DQ T1, T1; \
	VMULPS X, X, T2; \
	VMOVUPS NK_EP0, T3; \
	VFMADD213PS NK_EP1, X, T3; \
	VFMADD213PS NK_EP2, X, T3; \
	VFMADD213PS NK_EP3, X, T3; \
	VFMADD213PS NK_EP4, X, T3; \
	VFMADD213PS NK_EP5, X, T3; \
	VFMADD213PS X, T2, T3; \
	VADDPS NK_ONE, T3, T3; \
	VPMINSD NK_I127, T1, T2; \
	VPMAXSD NK_IM126, T2, T2; \
	VPSUBD T2, T1, T1; \
	VPADDD NK_I127, T2, T2; \
	VPSLLD $23, T2, T2; \
	VPADDD NK_I127, T1, T1; \
	VPSLLD $23, T1, T1; \
	VMULPS T1, T3, T3; \
	VMULPS T2, T3, X

#define SIGMOID_AVX512(X, T0, T1, T2, T3) \
	VORPS NK_SIGN, X, T0; \
	EXP_AVX512(T0, T1, T2, T3); \
	VADDPS NK_ONE, T0, T1; \
	VDIVPS T1, NK_ONEZ, T2; \
	VMULPS T2, T0, T0; \
	VPMOVD2M X, K2; \
	VBLENDMPS T0, T2, K2, T0

#define SILU_AVX512(X, T0, T1, T2, T3) \
	SIGMOID_AVX512(X, T0, T1, T2, T3); \
	VMULPS T0, X, X

#define ERF_AVX512(X, T1, T2, T3) \
	VMINPS X, NK_ERFLIMZ, X; \
	VMAXPS X, NK_NERFLIMZ, X; \
	VMULPS X, X, T2; \
	VMOVUPS NK_EA0, T3; \
	VFMADD213PS NK_EA1, T2, T3; \
	VFMADD213PS NK_EA2, T2, T3; \
	VFMADD213PS NK_EA3, T2, T3; \
	VFMADD213PS NK_EA4, T2, T3; \
	VFMADD213PS NK_EA5, T2, T3; \
	VFMADD213PS NK_EA6, T2, T3; \
	VMOVUPS NK_EB0, T1; \
	VFMADD213PS NK_EB1, T2, T1; \
	VFMADD213PS NK_EB2, T2, T1; \
	VFMADD213PS NK_EB3, T2, T1; \
	VFMADD213PS NK_EB4, T2, T1; \
	VMULPS T3, X, X; \
	VDIVPS T1, X, X; \
	VMINPS X, NK_ONEZ, X; \
	VMAXPS X, NK_NONEZ, X

#define TANH_AVX512(X, T1, T2, T3) \
	VMINPS X, NK_TLIMZ, X; \
	VMAXPS X, NK_NTLIMZ, X; \
	VMULPS X, X, T2; \
	VMOVUPS NK_TA0, T3; \
	VFMADD213PS NK_TA1, T2, T3; \
	VFMADD213PS NK_TA2, T2, T3; \
	VFMADD213PS NK_TA3, T2, T3; \
	VFMADD213PS NK_TA4, T2, T3; \
	VFMADD213PS NK_TA5, T2, T3; \
	VFMADD213PS NK_TA6, T2, T3; \
	VMOVUPS NK_TB0, T1; \
	VFMADD213PS NK_TB1, T2, T1; \
	VFMADD213PS NK_TB2, T2, T1; \
	VFMADD213PS NK_TB3, T2, T1; \
	VMULPS X, T3, T3; \
	VDIVPS T1, T3, T3; \
	VCMPPS $0, NK_TLIMZ, X, K3; \
	VBLENDMPS NK_ONEZ, T3, K3, T3; \
	VCMPPS $0, NK_NTLIMZ, X, K3; \
	VBLENDMPS NK_NONEZ, T3, K3, X

// Constants the AVX-512 macros need in registers (the NaN-keeping VMINPS/
// VMAXPS take the constant as the first source, which must be a register);
// every AVX-512 routine using the macros runs NK_LOADZ first.
#define NK_HIZ Z24
#define NK_LOZ Z25
#define NK_ERFLIMZ Z26
#define NK_NERFLIMZ Z27
#define NK_TLIMZ Z28
#define NK_NTLIMZ Z29
#define NK_ONEZ Z30
#define NK_NONEZ Z31
#define NK_LOADZ \
	VMOVUPS NK_HI, NK_HIZ; \
	VMOVUPS NK_LO, NK_LOZ; \
	VMOVUPS NK_ERFLIM, NK_ERFLIMZ; \
	VMOVUPS NK_NERFLIM, NK_NERFLIMZ; \
	VMOVUPS NK_TLIM, NK_TLIMZ; \
	VMOVUPS NK_NTLIM, NK_NTLIMZ; \
	VMOVUPS NK_ONE, NK_ONEZ; \
	VMOVUPS NK_NONE, NK_NONEZ
