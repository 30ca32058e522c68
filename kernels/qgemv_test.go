package kernels

import (
	"math"
	"math/rand"
	"testing"

	"github.com/x448/float16"
)

// qtCase describes a random quantized matrix.
type qtCase struct {
	name              string
	n, k, bs, bits, m int
	zp                string // "", "codes", "f32", "f16"
	f16Scales, gidx   bool
	bias              bool
}

// qtBuild makes a random QMatrix and, independently of the kernel code, its
// dense float64 dequantization [n][k].
func qtBuild(c qtCase, rng *rand.Rand) (*QMatrix, [][]float64) {
	nb := (c.k + c.bs - 1) / c.bs
	w := &QMatrix{N: c.n, K: c.k, BlockSize: c.bs, Bits: c.bits}
	w.Data = make([]byte, c.n*nb*c.bs*c.bits/8)
	rng.Read(w.Data)
	scales := make([]float32, c.n*nb)
	for i := range scales {
		scales[i] = float32(rng.Float64()*0.2 + 0.01)
	}
	if c.f16Scales {
		w.ScalesF16 = make([]uint16, len(scales))
		for i, s := range scales {
			w.ScalesF16[i] = float16.Fromfloat32(s).Bits()
			scales[i] = float16.Frombits(w.ScalesF16[i]).Float32()
		}
	} else {
		w.ScalesF32 = scales
	}
	zps := make([]float64, c.n*nb)
	for i := range zps {
		zps[i] = float64(int(1) << (c.bits - 1))
	}
	switch c.zp {
	case "codes":
		row := (nb*c.bits + 7) / 8
		w.ZPCodes = make([]byte, c.n*row)
		rng.Read(w.ZPCodes)
		for n := 0; n < c.n; n++ {
			for b := 0; b < nb; b++ {
				bit := b * c.bits
				zps[n*nb+b] = float64(int(w.ZPCodes[n*row+bit/8]>>(bit%8)) & (1<<c.bits - 1))
			}
		}
	case "f32":
		w.ZPF32 = make([]float32, c.n*nb)
		for i := range w.ZPF32 {
			w.ZPF32[i] = float32(rng.Float64() * 15)
			zps[i] = float64(w.ZPF32[i])
		}
	case "f16":
		w.ZPF16 = make([]uint16, c.n*nb)
		for i := range w.ZPF16 {
			w.ZPF16[i] = float16.Fromfloat32(float32(rng.Float64() * 15)).Bits()
			zps[i] = float64(float16.Frombits(w.ZPF16[i]).Float32())
		}
	}
	if c.gidx {
		w.GIdx = make([]int32, c.k)
		for i := range w.GIdx {
			w.GIdx[i] = int32(rng.Intn(nb))
		}
	}
	dense := make([][]float64, c.n)
	blob := c.bs * c.bits / 8
	for n := range dense {
		dense[n] = make([]float64, c.k)
		for k := 0; k < c.k; k++ {
			b, j := k/c.bs, k%c.bs
			// unpack bit by bit, low bits first
			code := 0
			for t := 0; t < c.bits; t++ {
				bit := j*c.bits + t
				code |= int(w.Data[(n*nb+b)*blob+bit/8]>>(bit%8)&1) << t
			}
			g := b
			if c.gidx {
				g = int(w.GIdx[k])
			}
			dense[n][k] = (float64(code) - zps[n*nb+g]) * float64(scales[n*nb+g])
		}
	}
	return w, dense
}

func qtRandA(rng *rand.Rand, m, k int) []float32 {
	a := make([]float32, m*k)
	for i := range a {
		a[i] = float32(rng.NormFloat64())
	}
	return a
}

var qtCases = []qtCase{
	{name: "gemv4", n: 37, k: 64, bs: 32, bits: 4, m: 1},
	{name: "gemv4_m2_padded", n: 64, k: 176, bs: 32, bits: 4, m: 2},
	{name: "gemv4_bias_codes", n: 20, k: 100, bs: 16, bits: 4, m: 3, zp: "codes", bias: true},
	{name: "gemv4_f16", n: 9, k: 128, bs: 64, bits: 4, m: 4, f16Scales: true, zp: "f16"},
	{name: "gemv8", n: 33, k: 96, bs: 32, bits: 8, m: 2, zp: "codes"},
	{name: "gemv2", n: 17, k: 80, bs: 16, bits: 2, m: 1, zp: "codes"},
	{name: "gemm4", n: 130, k: 176, bs: 32, bits: 4, m: 9, zp: "f32", bias: true},
	{name: "gemm8", n: 70, k: 64, bs: 32, bits: 8, m: 5},
	{name: "gidx", n: 21, k: 72, bs: 32, bits: 4, m: 2, gidx: true, zp: "codes"},
}

func TestQGemm(t *testing.T) {
	for _, c := range qtCases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(int64(len(c.name))))
			w, dense := qtBuild(c, rng)
			if msg := w.Check(); msg != "" {
				t.Fatal(msg)
			}
			a := qtRandA(rng, c.m, c.k)
			var bias []float32
			if c.bias {
				bias = qtRandA(rng, 1, c.n)
			}
			ldc := c.n + 3
			got := make([]float32, c.m*ldc)
			QGemm(c.m, a, c.k, w, bias, got, ldc, 1)
			for i := 0; i < c.m; i++ {
				for n := 0; n < c.n; n++ {
					var want, mag float64
					for k := 0; k < c.k; k++ {
						want += float64(a[i*c.k+k]) * dense[n][k]
						mag += math.Abs(float64(a[i*c.k+k]) * dense[n][k])
					}
					if bias != nil {
						want += float64(bias[n])
					}
					if d := math.Abs(float64(got[i*ldc+n]) - want); d > 1e-5*mag+1e-6 {
						t.Fatalf("C[%d,%d] = %g, want %g", i, n, got[i*ldc+n], want)
					}
				}
			}
			// bit-identical for any thread count
			for _, th := range []int{2, 3, 8} {
				again := make([]float32, c.m*ldc)
				QGemm(c.m, a, c.k, w, bias, again, ldc, th)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(again[i]) {
						t.Fatalf("threads=%d: element %d differs: %g vs %g", th, i, again[i], got[i])
					}
				}
			}
			var row = make([]float32, c.k)
			w.DequantRow(c.n-1, row)
			for k, v := range row {
				if math.Abs(float64(v)-dense[c.n-1][k]) > 1e-6 {
					t.Fatalf("DequantRow[%d] = %g, want %g", k, v, dense[c.n-1][k])
				}
			}
		})
	}
}

// TestQGemmInt8 checks the int8-activation path against a reference written
// from the algorithm's definition (same float32 accumulation order, block b
// into partial sum b mod 8: the result must match bit for bit), and against
// the float path within the error int8 rounding of A allows.
func TestQGemmInt8(t *testing.T) {
	for _, c := range qtCases {
		if c.gidx || c.zp == "f32" || c.zp == "f16" {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(int64(len(c.name)) + 100))
			w, dense := qtBuild(c, rng)
			a := qtRandA(rng, c.m, c.k)
			var bias []float32
			if c.bias {
				bias = qtRandA(rng, 1, c.n)
			}
			var qa QuantizedA
			QuantizeA(&qa, c.m, c.k, c.bs, a, c.k)
			got := make([]float32, c.m*c.n)
			QGemmInt8(&qa, w, bias, got, c.n, 1)
			nb := (c.k + c.bs - 1) / c.bs
			for i := 0; i < c.m; i++ {
				for n := 0; n < c.n; n++ {
					var acc8 [8]float32
					var exact, mag float64
					for b := 0; b < nb; b++ {
						k0, k1 := b*c.bs, min(c.k, (b+1)*c.bs)
						var amax float64
						for k := k0; k < k1; k++ {
							amax = math.Max(amax, math.Abs(float64(a[i*c.k+k])))
						}
						sa := float32(amax) / 127
						ws := w.scale(n, b)
						var s int32
						for k := k0; k < k1; k++ {
							q := int32(0)
							if sa != 0 {
								q = int32(math.RoundToEven(float64(a[i*c.k+k] * (1 / sa))))
							}
							// integer weight code from the dense reference
							code := int32(math.Round(dense[n][k]/float64(ws) + float64(w.zeroPoint(n, b))))
							s += q * (code - int32(w.zeroPoint(n, b)))
							exact += float64(a[i*c.k+k]) * dense[n][k]
							mag += math.Abs(float64(a[i*c.k+k]) * dense[n][k])
						}
						acc8[b%8] += float32(float32(s) * float32(sa*ws))
					}
					acc := ((acc8[0] + acc8[1]) + (acc8[4] + acc8[5])) + ((acc8[2] + acc8[3]) + (acc8[6] + acc8[7]))
					if bias != nil {
						acc += bias[n]
						exact += float64(bias[n])
					}
					if math.Float32bits(acc) != math.Float32bits(got[i*c.n+n]) {
						t.Fatalf("C[%d,%d] = %g, reference %g", i, n, got[i*c.n+n], acc)
					}
					// int8 rounding of A: at most half a step (amax/254) per element
					if d := math.Abs(float64(acc) - exact); d > 0.01*mag+1e-5 {
						t.Fatalf("C[%d,%d] = %g, exact %g (mag %g)", i, n, acc, exact, mag)
					}
				}
			}
			again := make([]float32, c.m*c.n)
			QGemmInt8(&qa, w, bias, again, c.n, 5)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(again[i]) {
					t.Fatalf("threads=5: element %d differs", i)
				}
			}
		})
	}
}

func TestQMatrixCheck(t *testing.T) {
	ok := func() *QMatrix {
		return &QMatrix{N: 2, K: 40, BlockSize: 16, Bits: 4, Data: make([]byte, 2*3*8), ScalesF32: make([]float32, 6)}
	}
	if msg := ok().Check(); msg != "" {
		t.Fatalf("valid matrix rejected: %s", msg)
	}
	bad := []struct {
		name string
		f    func(w *QMatrix)
	}{
		{"bits", func(w *QMatrix) { w.Bits = 3 }},
		{"block", func(w *QMatrix) { w.BlockSize = 24 }},
		{"data", func(w *QMatrix) { w.Data = w.Data[:10] }},
		{"scales", func(w *QMatrix) { w.ScalesF32 = w.ScalesF32[:5] }},
		{"two scales", func(w *QMatrix) { w.ScalesF16 = make([]uint16, 6) }},
		{"zp", func(w *QMatrix) { w.ZPCodes = make([]byte, 3) }},
		{"gidx len", func(w *QMatrix) { w.GIdx = make([]int32, 3) }},
		{"gidx range", func(w *QMatrix) { w.GIdx = make([]int32, 40); w.GIdx[7] = 3 }},
	}
	for _, b := range bad {
		w := ok()
		b.f(w)
		if w.Check() == "" {
			t.Errorf("%s: invalid matrix accepted", b.name)
		}
	}
}
