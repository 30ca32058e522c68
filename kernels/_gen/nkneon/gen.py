#!/usr/bin/env python3
"""Generates ../../norm_neon_arm64.s: the NEON normalisation, softmax and
activation kernels. Go's arm64 assembler has no floating-point vector
arithmetic (fadd, fmul, frintm, fcvtl ...), so every NEON instruction is
written in GNU syntax here, assembled with llvm-mc and emitted as a WORD with
the instruction as its comment; argument loads and loop control stay Go
assembly. Run: python3 gen.py (needs llvm-mc)."""
import struct, subprocess, sys, os

def fb(v):
    return struct.unpack('<I', struct.pack('<f', v))[0]

CONSTS = [
 ("HI", 89.0), ("LO", -104.0), ("LOG2E", 1.44269504088896341), ("HALF", 0.5),
 ("ONE", 1.0), ("C1", 0.693359375), ("C2", -2.12194440e-4),
 ("EP0", 1.9875691500e-4), ("EP1", 1.3981999507e-3), ("EP2", 8.3334519073e-3),
 ("EP3", 4.1665795894e-2), ("EP4", 1.6666665459e-1), ("EP5", 5.0000001201e-1),
 ("I127", ('i', 127)), ("IM126", ('i', -126)),
 ("ERFLIM", 4.0), ("NERFLIM", -4.0),
 ("EA0", -2.72614225801306e-10), ("EA1", 2.77068142495902e-08), ("EA2", -2.10102402082508e-06),
 ("EA3", -5.69250639462346e-05), ("EA4", -7.34990630326855e-04), ("EA5", -2.95459980854025e-03),
 ("EA6", -1.60960333262415e-02),
 ("EB0", -1.45660718464996e-05), ("EB1", -2.13374055278905e-04), ("EB2", -1.68282697438203e-03),
 ("EB3", -7.37332916720468e-03), ("EB4", -1.42647390514189e-02),
 ("TLIM", 7.90531110763549805), ("NTLIM", -7.90531110763549805),
 ("TA0", -2.76076847742355e-16), ("TA1", 2.00018790482477e-13), ("TA2", -8.60467152213735e-11),
 ("TA3", 5.12229709037114e-08), ("TA4", 1.48572235717979e-05), ("TA5", 6.37261928875436e-04),
 ("TA6", 4.89352455891786e-03),
 ("TB0", 1.19825839466702e-06), ("TB1", 1.18534705686654e-04), ("TB2", 2.26843463243900e-03),
 ("TB3", 4.89352518554385e-03),
 ("NONE", -1.0), ("TWO", 2.0), ("RSQRT2", 0.70710678118654752440),
]
P = [2.326819970068386e-02, -1.387039388740657e-01, 3.687424674597105e-01,
     -5.824733027278666e-01, 6.210004621745983e-01, -4.944515323274145e-01,
     3.404879937665872e-01, -2.741127028184656e-01, 5.638259427386472e-01]
R = [-1.047766399936249e+01, 1.297719955372516e+01, -7.495518717768503e+00,
     2.921019019210786e+00, -1.015265279202700e+00, 4.218463358204948e-01,
     -2.820767439740514e-01, 5.641895067754075e-01]
CONSTS += [("CP%d" % i, v) for i, v in enumerate(P)] + [("CR%d" % i, v) for i, v in enumerate(R)]
OFF = {n: 16 * i for i, (n, _) in enumerate(CONSTS)}

out = []      # lines of the .s file
pending = []  # (index in out, gnu instruction)

def g(line):   # Go assembly line
    out.append(line)

def a(ins):    # NEON instruction, encoded later
    pending.append((len(out), ins))
    out.append(None)

def label(l):
    out.append(l + ":")

class Consts:
    """Constants preloaded into registers (name -> vN), others loaded from
    the table (x9) into a temporary when used."""
    def __init__(self, regs):
        self.regs = dict(regs)
    def preload(self):
        for n, r in self.regs.items():
            a("ldr q%d, [x9, #%d]" % (r, OFF[n]))
    def get(self, n, tmp):
        if n in self.regs:
            return self.regs[n]
        a("ldr q%d, [x9, #%d]" % (tmp, OFF[n]))
        return tmp
    def into(self, n, dst):  # dst = constant
        if n in self.regs:
            a("mov v%d.16b, v%d.16b" % (dst, self.regs[n]))
        else:
            a("ldr q%d, [x9, #%d]" % (dst, OFF[n]))

def horner(C, x, names, p, q, tmp):
    """Leaves names[0]*x^(k-1)+...+names[-1] in a register it returns,
    alternating p and q (d = c + acc*x via fmla)."""
    acc = C.get(names[0], p)
    if acc != p:
        a("mov v%d.16b, v%d.16b" % (p, acc))
    acc = p
    other = q
    for n in names[1:]:
        C.into(n, other)
        a("fmla v%d.4s, v%d.4s, v%d.4s" % (other, acc, x))
        acc, other = other, acc
    return acc

def EXP(C, x, t1, t2, t3, t4):
    """v[x] = exp(v[x]) (Exp32's algorithm; see nkmacros_amd64.h)."""
    a("fmin v%d.4s, v%d.4s, v%d.4s" % (x, x, C.get("HI", t1)))
    a("fmax v%d.4s, v%d.4s, v%d.4s" % (x, x, C.get("LO", t1)))
    C.into("HALF", t1)
    a("fmla v%d.4s, v%d.4s, v%d.4s" % (t1, x, C.get("LOG2E", t2)))
    a("frintm v%d.4s, v%d.4s" % (t1, t1))
    a("fmls v%d.4s, v%d.4s, v%d.4s" % (x, t1, C.get("C1", t2)))
    a("fmls v%d.4s, v%d.4s, v%d.4s" % (x, t1, C.get("C2", t2)))
    a("fcvtzs v%d.4s, v%d.4s" % (t1, t1))
    y = horner(C, x, ["EP0", "EP1", "EP2", "EP3", "EP4", "EP5"], t3, t4, t2)
    o = t4 if y == t3 else t3
    a("fmul v%d.4s, v%d.4s, v%d.4s" % (t2, x, x))          # z = r*r
    a("mov v%d.16b, v%d.16b" % (o, x))                      # r
    a("fmla v%d.4s, v%d.4s, v%d.4s" % (o, y, t2))           # r + y*z
    a("fadd v%d.4s, v%d.4s, v%d.4s" % (o, o, C.get("ONE", t2)))
    i127 = C.get("I127", y)
    a("smin v%d.4s, v%d.4s, v%d.4s" % (t2, t1, i127))
    a("smax v%d.4s, v%d.4s, v%d.4s" % (t2, t2, C.get("IM126", y)))   # n1
    a("sub v%d.4s, v%d.4s, v%d.4s" % (t1, t1, t2))                     # n2
    i127 = C.get("I127", y)
    a("add v%d.4s, v%d.4s, v%d.4s" % (t2, t2, i127))
    a("shl v%d.4s, v%d.4s, #23" % (t2, t2))
    a("add v%d.4s, v%d.4s, v%d.4s" % (t1, t1, i127))
    a("shl v%d.4s, v%d.4s, #23" % (t1, t1))
    a("fmul v%d.4s, v%d.4s, v%d.4s" % (o, o, t1))
    a("fmul v%d.4s, v%d.4s, v%d.4s" % (x, o, t2))

def SIGMOID(C, x, d, t1, t2, t3, t4, t5):
    """v[d] = sigmoid(v[x]) (nkSigmoid32): e = exp(-|x|), r = 1/(1+e),
    x < 0 ? e*r : r."""
    a("fabs v%d.4s, v%d.4s" % (d, x))
    a("fneg v%d.4s, v%d.4s" % (d, d))
    EXP(C, d, t1, t2, t3, t4)
    one = C.get("ONE", t5)
    a("fadd v%d.4s, v%d.4s, v%d.4s" % (t1, d, one))
    a("fdiv v%d.4s, v%d.4s, v%d.4s" % (t1, one, t1))        # r
    a("fmul v%d.4s, v%d.4s, v%d.4s" % (d, d, t1))           # e*r
    a("cmlt v%d.4s, v%d.4s, #0" % (t2, x))                  # x < 0 (sign bit, as an integer)
    a("bif v%d.16b, v%d.16b, v%d.16b" % (d, t1, t2))        # d = mask ? e*r : r

def SILU(C, x, t0, t1, t2, t3, t4, t5):
    SIGMOID(C, x, t0, t1, t2, t3, t4, t5)
    a("fmul v%d.4s, v%d.4s, v%d.4s" % (x, x, t0))

def RATIONAL(C, x, lim, nlim, pn, qn, t1, t2, t3, t4, exact):
    """v[x] = x·P(x²)/Q(x²) with x clamped to ±lim (erf, tanh)."""
    a("fmin v%d.4s, v%d.4s, v%d.4s" % (x, x, C.get(lim, t1)))
    a("fmax v%d.4s, v%d.4s, v%d.4s" % (x, x, C.get(nlim, t1)))
    a("fmul v%d.4s, v%d.4s, v%d.4s" % (t1, x, x))
    p = horner(C, t1, pn, t2, t3, t4)
    a("fmul v%d.4s, v%d.4s, v%d.4s" % (t2 if p == t2 else t3, p, x))
    p = t2 if p == t2 else t3
    q = horner(C, t1, qn, t4, t1 if False else (t3 if p == t2 else t2), t4)
    # the Horner above alternated t4 and the free one of t2/t3
    a("fdiv v%d.4s, v%d.4s, v%d.4s" % (p, p, q))
    if exact:   # tanh: exactly ±1 where x reached the clamp
        a("fcmeq v%d.4s, v%d.4s, v%d.4s" % (t1, x, C.get(lim, t1)))
        a("bit v%d.16b, v%d.16b, v%d.16b" % (p, C.get("ONE", q), t1))
        a("fcmeq v%d.4s, v%d.4s, v%d.4s" % (t1, x, C.get(nlim, t1)))
        a("bit v%d.16b, v%d.16b, v%d.16b" % (p, C.get("NONE", q), t1))
    else:       # erf: clamp to [-1, 1]
        a("fmin v%d.4s, v%d.4s, v%d.4s" % (p, p, C.get("ONE", q)))
        a("fmax v%d.4s, v%d.4s, v%d.4s" % (p, p, C.get("NONE", q)))
    a("mov v%d.16b, v%d.16b" % (x, p))

ERF_P = ["EA%d" % i for i in range(7)]
ERF_Q = ["EB%d" % i for i in range(5)]
TANH_P = ["TA%d" % i for i in range(7)]
TANH_Q = ["TB%d" % i for i in range(4)]

def ERF(C, x, t1, t2, t3, t4):
    RATIONAL(C, x, "ERFLIM", "NERFLIM", ERF_P, ERF_Q, t1, t2, t3, t4, False)

def TANH(C, x, t1, t2, t3, t4):
    RATIONAL(C, x, "TLIM", "NTLIM", TANH_P, TANH_Q, t1, t2, t3, t4, True)

EXPREGS = {"HI": 16, "LO": 17, "LOG2E": 18, "HALF": 19, "C1": 20, "C2": 21, "EP0": 22, "EP1": 23,
           "EP2": 24, "EP3": 25, "EP4": 26, "EP5": 27, "ONE": 28, "I127": 29, "IM126": 30}

def text(name, args, frame):
    g("")
    g("// func %s(%s)" % (name, args))
    g("TEXT ·%s(SB), NOSPLIT, $0-%d" % (name, frame))

def table():
    g("\tMOVD $nkc<>(SB), R9")

# ---------------------------------------------------------------- elementwise
def act(name, body, consts):
    text(name, "dst, src *float32, n int", 24)
    g("\tMOVD dst+0(FP), R0")
    g("\tMOVD src+8(FP), R1")
    g("\tMOVD n+16(FP), R2")
    g("\tLSR $2, R2, R2")
    g("\tCBZ R2, %sdone" % name)
    table()
    C = Consts(consts)
    C.preload()
    label(name + "loop")
    a("ld1 {v0.4s}, [x1], #16")
    r = body(C)
    a("st1 {v%d.4s}, [x0], #16" % r)
    g("\tSUBS $1, R2, R2")
    g("\tBNE %sloop" % name)
    label(name + "done")
    g("\tRET")

def b_exp(C):
    EXP(C, 0, 1, 2, 3, 4); return 0
def b_erf(C):
    ERF(C, 0, 1, 2, 3, 4); return 0
def b_tanh(C):
    TANH(C, 0, 1, 2, 3, 4); return 0
def b_sigmoid(C):
    SIGMOID(C, 0, 5, 1, 2, 3, 4, 6); return 5
def b_silu(C):
    SILU(C, 0, 5, 1, 2, 3, 4, 6); return 0

def b_gelu(C):
    # t = x/√2 (v1), h = x/2 (v2), y = h·erf(t) + h (v3); tail lanes t < -1:
    # h·exp(-z²)·(1/z)·(z < 2 ? P : R)(1/z²), z = -t.
    a("fmul v1.4s, v0.4s, v%d.4s" % C.get("RSQRT2", 7))
    a("fmul v2.4s, v0.4s, v%d.4s" % C.get("HALF", 7))
    a("mov v3.16b, v1.16b")
    ERF(C, 3, 4, 5, 6, 7)
    a("mov v4.16b, v2.16b")
    a("fmla v4.4s, v2.4s, v3.4s")                      # y
    a("fcmgt v5.4s, v%d.4s, v1.4s" % C.get("NONE", 5))  # -1 > t
    a("umaxv s6, v5.4s")
    a("fmov w10, s6")
    g("\tCBZW R10, geluNEONstore")
    a("fneg v8.4s, v1.4s")                             # z
    a("fmul v9.4s, v8.4s, v8.4s")
    a("fneg v9.4s, v9.4s")                             # -z²
    EXP(C, 9, 10, 11, 12, 13)                          # e
    a("fdiv v10.4s, v%d.4s, v8.4s" % C.get("ONE", 10))  # q = 1/z
    a("fmul v11.4s, v10.4s, v10.4s")                   # w = q²
    pp = horner(C, 11, ["CP%d" % i for i in range(9)], 12, 13, 14)
    if pp != 12:
        a("mov v12.16b, v%d.16b" % pp)
    rr = horner(C, 11, ["CR%d" % i for i in range(8)], 13, 14, 15)
    if rr != 13:
        a("mov v13.16b, v%d.16b" % rr)
    a("fcmgt v14.4s, v%d.4s, v8.4s" % C.get("TWO", 14))  # 2 > z
    a("bit v13.16b, v12.16b, v14.16b")                 # p = z < 2 ? P : R
    a("fmul v9.4s, v9.4s, v10.4s")                     # e·q
    a("fmul v9.4s, v9.4s, v13.4s")                     # e·q·p
    a("fmul v9.4s, v2.4s, v9.4s")                      # h·(e·q·p)
    a("bit v4.16b, v9.16b, v5.16b")
    label("geluNEONstore")
    return 4

# ------------------------------------------------------------------ statistics
def sumsq(name, half):
    T = "uint16" if half else "float32"
    text(name, "x *%s, n int, piv float32, out *[2]float64" % T, 32)
    g("\tMOVD x+0(FP), R0")
    g("\tMOVD n+8(FP), R1")
    g("\tFMOVS piv+16(FP), F7")
    a("fcvtl v7.2d, v7.2s")
    a("dup v7.2d, v7.d[0]")
    for r in range(8):
        a("movi v%d.2d, #0" % (16 + r))
    g("\tLSR $3, R1, R1")
    g("\tCBZ R1, %sred" % name)
    label(name + "loop")
    if half:
        a("ld1 {v0.8h}, [x0], #16")
        a("fcvtl2 v1.4s, v0.8h")
        a("fcvtl v0.4s, v0.4h")
    else:
        a("ld1 {v0.4s, v1.4s}, [x0], #32")
    a("fcvtl2 v3.2d, v1.4s")
    a("fcvtl v2.2d, v1.2s")
    a("fcvtl2 v1.2d, v0.4s")
    a("fcvtl v0.2d, v0.2s")
    for r in range(4):
        a("fsub v%d.2d, v%d.2d, v7.2d" % (r, r))
        a("fadd v%d.2d, v%d.2d, v%d.2d" % (16 + r, 16 + r, r))
        a("fmla v%d.2d, v%d.2d, v%d.2d" % (20 + r, r, r))
    g("\tSUBS $1, R1, R1")
    g("\tBNE %sloop" % name)
    label(name + "red")
    # ((a0+a1)+(a2+a3)), then the two lanes
    for base in (16, 20):
        a("fadd v%d.2d, v%d.2d, v%d.2d" % (base, base, base + 1))
        a("fadd v%d.2d, v%d.2d, v%d.2d" % (base + 2, base + 2, base + 3))
        a("fadd v%d.2d, v%d.2d, v%d.2d" % (base, base, base + 2))
        a("faddp d%d, v%d.2d" % (base, base))
    g("\tMOVD out+24(FP), R2")
    g("\tFMOVD F16, 0(R2)")
    g("\tFMOVD F20, 8(R2)")
    g("\tRET")

def colsumsq(name, half):
    T = "uint16" if half else "float32"
    text(name, "x *%s, rows, cols, ld int, piv *float32, s, q *float64" % T, 56)
    g("\tMOVD x+0(FP), R0")
    g("\tMOVD rows+8(FP), R1")
    g("\tMOVD cols+16(FP), R2")
    g("\tMOVD ld+24(FP), R3")
    g("\tLSL $%d, R3, R3" % (1 if half else 2))
    g("\tMOVD piv+32(FP), R4")
    g("\tMOVD s+40(FP), R5")
    g("\tMOVD q+48(FP), R6")
    g("\tLSR $2, R2, R2")
    g("\tCBZ R2, %sdone" % name)
    label(name + "col")
    a("ld1 {v6.4s}, [x4], #16")
    a("fcvtl2 v7.2d, v6.4s")
    a("fcvtl v6.2d, v6.2s")
    a("ld1 {v16.2d, v17.2d}, [x5]")
    a("ld1 {v18.2d, v19.2d}, [x6]")
    g("\tMOVD R0, R7")
    g("\tMOVD R1, R8")
    label(name + "row")
    if half:
        a("ldr d0, [x7]")
        a("fcvtl v0.4s, v0.4h")
    else:
        a("ldr q0, [x7]")
    a("fcvtl2 v1.2d, v0.4s")
    a("fcvtl v0.2d, v0.2s")
    a("fsub v0.2d, v0.2d, v6.2d")
    a("fsub v1.2d, v1.2d, v7.2d")
    a("fadd v16.2d, v16.2d, v0.2d")
    a("fadd v17.2d, v17.2d, v1.2d")
    a("fmla v18.2d, v0.2d, v0.2d")
    a("fmla v19.2d, v1.2d, v1.2d")
    g("\tADD R3, R7, R7")
    g("\tSUBS $1, R8, R8")
    g("\tBNE %srow" % name)
    a("st1 {v16.2d, v17.2d}, [x5], #32")
    a("st1 {v18.2d, v19.2d}, [x6], #32")
    g("\tADD $%d, R0, R0" % (8 if half else 16))
    g("\tSUBS $1, R2, R2")
    g("\tBNE %scol" % name)
    label(name + "done")
    g("\tRET")

# -------------------------------------------------------------- normalisation
def load(half, r, src):
    if half:
        a("ld1 {v%d.4h}, [x%d], #8" % (r, src))
        a("fcvtl v%d.4s, v%d.4h" % (r, r))
    else:
        a("ld1 {v%d.4s}, [x%d], #16" % (r, src))

def store(half, r, dst):
    if half:
        a("fcvtn v%d.4h, v%d.4s" % (r, r))
        a("st1 {v%d.4h}, [x%d], #8" % (r, dst))
    else:
        a("st1 {v%d.4s}, [x%d], #16" % (r, dst))

def elemloop(name, half, body, silu_reg):
    """Loop over n/4 vectors (R2) with a plain and a SiLU body (R5 = silu)."""
    g("\tLSR $2, R2, R2")
    g("\tCBZ R2, %sdone" % name)
    table()
    C = Consts(EXPREGS)
    C.preload()
    g("\tCBNZ R5, %ssilu" % name)
    for silu in (False, True):
        label(name + ("silu" if silu else "loop"))
        load(half, 0, 1)
        body()
        if silu:
            SILU(C, 0, 1, 2, 3, 4, 5, 6)
        store(half, 0, 0)
        g("\tSUBS $1, R2, R2")
        g("\tBNE %s%s" % (name, "silu" if silu else "loop"))
        if not silu:
            g("\tB %sdone" % name)
    label(name + "done")
    g("\tRET")

def affine(name, half):
    T = "uint16" if half else "float32"
    text(name, "dst, src *%s, n int, m, a, b float32, silu bool" % T, 37)
    g("\tMOVD dst+0(FP), R0")
    g("\tMOVD src+8(FP), R1")
    g("\tMOVD n+16(FP), R2")
    g("\tFMOVS m+24(FP), F8")
    g("\tFMOVS a+28(FP), F9")
    g("\tFMOVS b+32(FP), F10")
    g("\tMOVBU silu+36(FP), R5")
    a("dup v8.4s, v8.s[0]")
    a("dup v9.4s, v9.s[0]")
    a("dup v10.4s, v10.s[0]")
    def body():
        a("fsub v0.4s, v0.4s, v8.4s")
        a("mov v7.16b, v10.16b")
        a("fmla v7.4s, v0.4s, v9.4s")
        a("mov v0.16b, v7.16b")
    elemloop(name, half, body, 0)

def normvec(name, half):
    T = "uint16" if half else "float32"
    text(name, "dst, src *%s, n int, m, s, c float32, gm, bt *float32, silu bool" % T, 57)
    g("\tMOVD dst+0(FP), R0")
    g("\tMOVD src+8(FP), R1")
    g("\tMOVD n+16(FP), R2")
    g("\tFMOVS m+24(FP), F8")
    g("\tFMOVS s+28(FP), F9")
    g("\tFMOVS c+32(FP), F10")
    g("\tMOVD gm+40(FP), R3")
    g("\tMOVD bt+48(FP), R4")
    g("\tMOVBU silu+56(FP), R5")
    a("dup v8.4s, v8.s[0]")
    a("dup v9.4s, v9.s[0]")
    a("dup v10.4s, v10.s[0]")
    def body():
        a("fsub v0.4s, v0.4s, v8.4s")
        a("mov v7.16b, v10.16b")
        a("fmla v7.4s, v0.4s, v9.4s")        # (x-m)·s + c
        a("ld1 {v11.4s}, [x3], #16")
        a("ld1 {v0.4s}, [x4], #16")
        a("fmla v0.4s, v7.4s, v11.4s")       # ·g + b
    elemloop(name, half, body, 0)

def affinevec(name, half):
    T = "uint16" if half else "float32"
    text(name, "dst, src *%s, n int, m, a, b *float32, silu bool" % T, 49)
    g("\tMOVD dst+0(FP), R0")
    g("\tMOVD src+8(FP), R1")
    g("\tMOVD n+16(FP), R2")
    g("\tMOVD m+24(FP), R6")
    g("\tMOVD a+32(FP), R3")
    g("\tMOVD b+40(FP), R4")
    g("\tMOVBU silu+48(FP), R5")
    def body():
        a("ld1 {v8.4s}, [x6], #16")
        a("fsub v7.4s, v0.4s, v8.4s")
        a("ld1 {v11.4s}, [x3], #16")
        a("ld1 {v0.4s}, [x4], #16")
        a("fmla v0.4s, v7.4s, v11.4s")
    elemloop(name, half, body, 0)

# --------------------------------------------------------------------- softmax
def maxf():
    name = "nkMaxF32NEON"
    text(name, "x *float32, n int", 20)
    g("\tMOVD x+0(FP), R0")
    g("\tMOVD n+8(FP), R1")
    g("\tLSR $2, R1, R1")
    a("ld1 {v0.4s}, [x0], #16")
    g("\tSUBS $1, R1, R1")
    g("\tBEQ %sred" % name)
    label(name + "loop")
    a("ld1 {v1.4s}, [x0], #16")
    a("fmaxnm v0.4s, v0.4s, v1.4s")
    g("\tSUBS $1, R1, R1")
    g("\tBNE %sloop" % name)
    label(name + "red")
    a("fmaxnmv s0, v0.4s")
    g("\tFMOVS F0, ret+16(FP)")
    g("\tRET")

def expsum():
    name = "nkExpSumF32NEON"
    text(name, "dst, src *float32, n int, m float32", 40)
    g("\tMOVD dst+0(FP), R0")
    g("\tMOVD src+8(FP), R1")
    g("\tMOVD n+16(FP), R2")
    g("\tFMOVS m+24(FP), F8")
    a("dup v8.4s, v8.s[0]")
    a("movi v14.2d, #0")
    a("movi v15.2d, #0")
    g("\tLSR $2, R2, R2")
    g("\tCBZ R2, %sred" % name)
    table()
    C = Consts(EXPREGS)
    C.preload()
    label(name + "loop")
    a("ld1 {v0.4s}, [x1], #16")
    a("fsub v0.4s, v0.4s, v8.4s")
    EXP(C, 0, 1, 2, 3, 4)
    a("st1 {v0.4s}, [x0], #16")
    a("fcvtl v1.2d, v0.2s")
    a("fcvtl2 v2.2d, v0.4s")
    a("fadd v14.2d, v14.2d, v1.2d")
    a("fadd v15.2d, v15.2d, v2.2d")
    g("\tSUBS $1, R2, R2")
    g("\tBNE %sloop" % name)
    label(name + "red")
    a("fadd v14.2d, v14.2d, v15.2d")
    a("faddp d14, v14.2d")
    g("\tFMOVD F14, ret+32(FP)")
    g("\tRET")

# ----------------------------------------------------------------- conversions
def conv():
    text("nkF2hNEON", "dst *uint16, src *float32, n int", 24)
    g("\tMOVD dst+0(FP), R0")
    g("\tMOVD src+8(FP), R1")
    g("\tMOVD n+16(FP), R2")
    g("\tLSR $3, R2, R2")
    g("\tCBZ R2, f2hNEONdone")
    label("f2hNEONloop")
    a("ld1 {v0.4s, v1.4s}, [x1], #32")
    a("fcvtn v2.4h, v0.4s")
    a("fcvtn2 v2.8h, v1.4s")
    a("st1 {v2.8h}, [x0], #16")
    g("\tSUBS $1, R2, R2")
    g("\tBNE f2hNEONloop")
    label("f2hNEONdone")
    g("\tRET")
    text("nkH2fNEON", "dst *float32, src *uint16, n int", 24)
    g("\tMOVD dst+0(FP), R0")
    g("\tMOVD src+8(FP), R1")
    g("\tMOVD n+16(FP), R2")
    g("\tLSR $3, R2, R2")
    g("\tCBZ R2, h2fNEONdone")
    label("h2fNEONloop")
    a("ld1 {v0.8h}, [x1], #16")
    a("fcvtl2 v2.4s, v0.8h")
    a("fcvtl v1.4s, v0.4h")
    a("st1 {v1.4s, v2.4s}, [x0], #32")
    g("\tSUBS $1, R2, R2")
    g("\tBNE h2fNEONloop")
    label("h2fNEONdone")
    g("\tRET")

# ------------------------------------------------------------------------ main
g("// Code generated by kernels/_gen/nkneon/gen.py. DO NOT EDIT.")
g("")
g("//go:build !noasm && !purego && gc")
g("")
g('#include "textflag.h"')
g("")
g("// NEON normalisation, softmax and activation kernels (see norm_arm64.go for")
g("// the reference loops). Go's assembler has no vector floating-point")
g("// arithmetic, so NEON instructions are WORDs with the instruction as comment.")
g("")
for i, (n, v) in enumerate(CONSTS):
    b = (v[1] & 0xffffffff) if isinstance(v, tuple) else fb(v)
    vv = (b << 32) | b
    g("DATA nkc<>+%d(SB)/8, $0x%016x // %s = %s" % (16 * i, vv, n, v[1] if isinstance(v, tuple) else repr(v)))
    g("DATA nkc<>+%d(SB)/8, $0x%016x" % (16 * i + 8, vv))
g("GLOBL nkc<>(SB), RODATA|NOPTR, $%d" % (16 * len(CONSTS)))

act("nkExpF32NEON", b_exp, EXPREGS)
act("nkErfF32NEON", b_erf, {})
act("nkTanhF32NEON", b_tanh, {})
act("nkSigmoidF32NEON", b_sigmoid, EXPREGS)
act("nkSiluF32NEON", b_silu, EXPREGS)
act("nkGeluF32NEON", b_gelu, EXPREGS)
sumsq("nkSumSqF32NEON", False)
sumsq("nkSumSqF16NEON", True)
colsumsq("nkColSumSqF32NEON", False)
colsumsq("nkColSumSqF16NEON", True)
affine("nkAffineF32NEON", False)
affine("nkAffineF16NEON", True)
normvec("nkNormVecF32NEON", False)
normvec("nkNormVecF16NEON", True)
affinevec("nkAffineVecF32NEON", False)
affinevec("nkAffineVecF16NEON", True)
maxf()
expsum()
conv()

# assemble every NEON instruction in one llvm-mc call
src = "\n".join(ins for _, ins in pending) + "\n"
res = subprocess.run(["llvm-mc", "-triple=aarch64", "-mattr=+neon,+fullfp16", "-show-encoding"],
                     input=src, capture_output=True, text=True)
if res.returncode != 0:
    sys.exit(res.stderr)
encs = []
for line in res.stdout.splitlines():
    if "encoding:" in line:
        bs = line.split("encoding: [")[1].split("]")[0].split(",")
        encs.append(int(bs[3], 16) << 24 | int(bs[2], 16) << 16 | int(bs[1], 16) << 8 | int(bs[0], 16))
if len(encs) != len(pending):
    sys.exit("encoded %d of %d instructions" % (len(encs), len(pending)))
for (i, ins), e in zip(pending, encs):
    out[i] = "\tWORD $0x%08x // %s" % (e, ins)
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "norm_neon_arm64.s")
open(path, "w").write("\n".join(out) + "\n")
