// Vector constants of the normalisation/activation kernels, 64 bytes each
// (16 float32 lanes; the AVX2 code reads the first 32). Included by the
// avx2 and avx512 .s files (each gets its own static copy).

#define NKC(off, v) DATA nkc<>+(off+0)(SB)/8, $v; DATA nkc<>+(off+8)(SB)/8, $v; DATA nkc<>+(off+16)(SB)/8, $v; DATA nkc<>+(off+24)(SB)/8, $v; DATA nkc<>+(off+32)(SB)/8, $v; DATA nkc<>+(off+40)(SB)/8, $v; DATA nkc<>+(off+48)(SB)/8, $v; DATA nkc<>+(off+56)(SB)/8, $v

#define NK_HI nkc<>+0(SB)  // exp: upper clamp (results overflow to +Inf)
#define NK_LO nkc<>+64(SB)  // exp: lower clamp (results round to 0)
#define NK_LOG2E nkc<>+128(SB)  // log2(e)
#define NK_HALF nkc<>+192(SB)
#define NK_ONE nkc<>+256(SB)
#define NK_C1 nkc<>+320(SB)  // ln2 high part
#define NK_C2 nkc<>+384(SB)  // ln2 low part
#define NK_EP0 nkc<>+448(SB)  // exp polynomial
#define NK_EP1 nkc<>+512(SB)
#define NK_EP2 nkc<>+576(SB)
#define NK_EP3 nkc<>+640(SB)
#define NK_EP4 nkc<>+704(SB)
#define NK_EP5 nkc<>+768(SB)
#define NK_I127 nkc<>+832(SB)  // int32 127
#define NK_IM126 nkc<>+896(SB)  // int32 -126
#define NK_SIGN nkc<>+960(SB)  // sign bit
#define NK_ERFLIM nkc<>+1024(SB)  // erf: |x| clamp
#define NK_NERFLIM nkc<>+1088(SB)
#define NK_EA0 nkc<>+1152(SB)  // erf numerator
#define NK_EA1 nkc<>+1216(SB)
#define NK_EA2 nkc<>+1280(SB)
#define NK_EA3 nkc<>+1344(SB)
#define NK_EA4 nkc<>+1408(SB)
#define NK_EA5 nkc<>+1472(SB)
#define NK_EA6 nkc<>+1536(SB)
#define NK_EB0 nkc<>+1600(SB)  // erf denominator
#define NK_EB1 nkc<>+1664(SB)
#define NK_EB2 nkc<>+1728(SB)
#define NK_EB3 nkc<>+1792(SB)
#define NK_EB4 nkc<>+1856(SB)
#define NK_TLIM nkc<>+1920(SB)  // tanh: |x| clamp
#define NK_NTLIM nkc<>+1984(SB)
#define NK_TA0 nkc<>+2048(SB)  // tanh numerator
#define NK_TA1 nkc<>+2112(SB)
#define NK_TA2 nkc<>+2176(SB)
#define NK_TA3 nkc<>+2240(SB)
#define NK_TA4 nkc<>+2304(SB)
#define NK_TA5 nkc<>+2368(SB)
#define NK_TA6 nkc<>+2432(SB)
#define NK_TB0 nkc<>+2496(SB)  // tanh denominator
#define NK_TB1 nkc<>+2560(SB)
#define NK_TB2 nkc<>+2624(SB)
#define NK_TB3 nkc<>+2688(SB)
#define NK_NONE nkc<>+2752(SB)
#define NK_TWO nkc<>+2816(SB)
#define NK_RSQRT2 nkc<>+2880(SB)  // 1/sqrt(2)
#define NK_CP0 nkc<>+2944(SB)  // erfc P, 1<=z<2
#define NK_CP1 nkc<>+3008(SB)
#define NK_CP2 nkc<>+3072(SB)
#define NK_CP3 nkc<>+3136(SB)
#define NK_CP4 nkc<>+3200(SB)
#define NK_CP5 nkc<>+3264(SB)
#define NK_CP6 nkc<>+3328(SB)
#define NK_CP7 nkc<>+3392(SB)
#define NK_CP8 nkc<>+3456(SB)
#define NK_CR0 nkc<>+3520(SB)  // erfc R, z>=2
#define NK_CR1 nkc<>+3584(SB)
#define NK_CR2 nkc<>+3648(SB)
#define NK_CR3 nkc<>+3712(SB)
#define NK_CR4 nkc<>+3776(SB)
#define NK_CR5 nkc<>+3840(SB)
#define NK_CR6 nkc<>+3904(SB)
#define NK_CR7 nkc<>+3968(SB)

NKC(0, 0x42b2000042b20000) // HI = 89.0
NKC(64, 0xc2d00000c2d00000) // LO = -104.0
NKC(128, 0x3fb8aa3b3fb8aa3b) // LOG2E = 1.4426950408889634
NKC(192, 0x3f0000003f000000) // HALF = 0.5
NKC(256, 0x3f8000003f800000) // ONE = 1.0
NKC(320, 0x3f3180003f318000) // C1 = 0.693359375
NKC(384, 0xb95e8083b95e8083) // C2 = -0.00021219444
NKC(448, 0x3950696739506967) // EP0 = 0.000198756915
NKC(512, 0x3ab743ce3ab743ce) // EP1 = 0.0013981999507
NKC(576, 0x3c0889083c088908) // EP2 = 0.0083334519073
NKC(640, 0x3d2aa9c13d2aa9c1) // EP3 = 0.041665795894
NKC(704, 0x3e2aaaaa3e2aaaaa) // EP4 = 0.16666665459
NKC(768, 0x3f0000003f000000) // EP5 = 0.50000001201
NKC(832, 0x0000007f0000007f) // I127 = 127
NKC(896, 0xffffff82ffffff82) // IM126 = -126
NKC(960, 0x8000000080000000) // SIGN = 2147483648
NKC(1024, 0x4080000040800000) // ERFLIM = 4.0
NKC(1088, 0xc0800000c0800000) // NERFLIM = -4.0
NKC(1152, 0xaf95df0baf95df0b) // EA0 = -2.72614225801306e-10
NKC(1216, 0x32edffee32edffee) // EA1 = 2.77068142495902e-08
NKC(1280, 0xb60cff51b60cff51) // EA2 = -2.10102402082508e-06
NKC(1344, 0xb86ec2d2b86ec2d2) // EA3 = -5.69250639462346e-05
NKC(1408, 0xba40ac63ba40ac63) // EA4 = -0.000734990630326855
NKC(1472, 0xbb41a1f6bb41a1f6) // EA5 = -0.00295459980854025
NKC(1536, 0xbc83dbd4bc83dbd4) // EA6 = -0.0160960333262415
NKC(1600, 0xb77460cdb77460cd) // EB0 = -1.45660718464996e-05
NKC(1664, 0xb95fbd29b95fbd29) // EB1 = -0.000213374055278905
NKC(1728, 0xbadc924ebadc924e) // EB2 = -0.00168282697438203
NKC(1792, 0xbbf19bf8bbf19bf8) // EB3 = -0.00737332916720468
NKC(1856, 0xbc69b6a7bc69b6a7) // EB4 = -0.0142647390514189
NKC(1920, 0x40fcf84f40fcf84f) // TLIM = 7.905311107635498
NKC(1984, 0xc0fcf84fc0fcf84f) // NTLIM = -7.905311107635498
NKC(2048, 0xa59f25c0a59f25c0) // TA0 = -2.76076847742355e-16
NKC(2112, 0x2a61337e2a61337e) // TA1 = 2.00018790482477e-13
NKC(2176, 0xaebd37ffaebd37ff) // TA2 = -8.60467152213735e-11
NKC(2240, 0x335c0041335c0041) // TA3 = 5.12229709037114e-08
NKC(2304, 0x3779434a3779434a) // TA4 = 1.48572235717979e-05
NKC(2368, 0x3a270ded3a270ded) // TA5 = 0.000637261928875436
NKC(2432, 0x3ba059dc3ba059dc) // TA6 = 0.00489352455891786
NKC(2496, 0x35a0d3d835a0d3d8) // TB0 = 1.19825839466702e-06
NKC(2560, 0x38f895d638f895d6) // TB1 = 0.000118534705686654
NKC(2624, 0x3b14aa053b14aa05) // TB2 = 0.002268434632439
NKC(2688, 0x3ba059dd3ba059dd) // TB3 = 0.00489352518554385
NKC(2752, 0xbf800000bf800000) // NONE = -1.0
NKC(2816, 0x4000000040000000) // TWO = 2.0
NKC(2880, 0x3f3504f33f3504f3) // RSQRT2 = 0.7071067811865476
NKC(2944, 0x3cbe9cf43cbe9cf4) // CP0 = 0.02326819970068386
NKC(3008, 0xbe0e0868be0e0868) // CP1 = -0.1387039388740657
NKC(3072, 0x3ebccbd03ebccbd0) // CP2 = 0.3687424674597105
NKC(3136, 0xbf151cf8bf151cf8) // CP3 = -0.5824733027278666
NKC(3200, 0x3f1ef9e33f1ef9e3) // CP4 = 0.6210004621745983
NKC(3264, 0xbefd28c0befd28c0) // CP5 = -0.4944515323274145
NKC(3328, 0x3eae54713eae5471) // CP6 = 0.3404879937665872
NKC(3392, 0xbe8c5880be8c5880) // CP7 = -0.2741127028184656
NKC(3456, 0x3f1056e63f1056e6) // CP8 = 0.5638259427386472
NKC(3520, 0xc127a483c127a483) // CR0 = -10.47766399936249
NKC(3584, 0x414fa29c414fa29c) // CR1 = 12.97719955372516
NKC(3648, 0xc0efdb4ac0efdb4a) // CR2 = -7.495518717768503
NKC(3712, 0x403af1fa403af1fa) // CR3 = 2.921019019210786
NKC(3776, 0xbf81f436bf81f436) // CR4 = -1.0152652792027
NKC(3840, 0x3ed7fc3e3ed7fc3e) // CR5 = 0.4218463358204948
NKC(3904, 0xbe906c5dbe906c5d) // CR6 = -0.2820767439740514
NKC(3968, 0x3f106eb93f106eb9) // CR7 = 0.5641895067754075
GLOBL nkc<>(SB), RODATA|NOPTR, $4032
