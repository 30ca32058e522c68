package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// qkSetsWith returns the usable sets whose GEMV entry chosen by has is set.
func qkSetsWith(has func(*Set) bool) []*Set {
	var out []*Set
	for _, s := range sets {
		if has(s) {
			out = append(out, s)
		}
	}
	return out
}

// qkRandJobI8 builds a random int8 job (inputs only; c is set by the caller).
func qkRandJobI8(r *rand.Rand, cols, nb, sub, mp int, f16, zp bool) qkI8Job {
	bs := sub * 32
	ng := (nb + 7) / 8
	j := qkI8Job{rowBytes: nb * sub * 16, cols: cols, nb: nb, sub: sub, mp: mp}
	j.w = make([]byte, cols*j.rowBytes)
	r.Read(j.w)
	qa := &QuantizedA{M: mp, K: nb * bs, BlockSize: bs, Q: make([]int8, mp*nb*bs), Scale: make([]float32, mp*nb)}
	for i := range qa.Q {
		qa.Q[i] = int8(r.Intn(255) - 127)
	}
	for i := range qa.Scale {
		qa.Scale[i] = r.Float32() * 0.05
	}
	j.aq, j.asum, j.sa = make([]int8, ng*256*sub*mp), make([]int32, ng*8*mp), make([]float32, ng*8*mp)
	qkPrepI8(qa, nb, sub, !zp, j.aq, j.asum, j.sa)
	// Values past the job's data are NaN scales and 0xff bytes: a kernel
	// that lets them into the result fails.
	if f16 {
		j.wsF16 = make([]uint16, cols*nb+1+r.Intn(9))
		for i := range j.wsF16 {
			j.wsF16[i] = f16bits(r.Float32()*0.1 + 0.001)
		}
		j.wsF16[cols*nb] = 0x7e00
	} else {
		j.wsF32 = nnRand(r, cols*nb+r.Intn(9))
		for i := cols * nb; i < len(j.wsF32); i++ {
			j.wsF32[i] = float32(math.NaN())
		}
	}
	if zp {
		j.zrow = (nb*4+7)/8 + r.Intn(2)
		j.zp = make([]byte, (cols-1)*j.zrow+4*ng)
		r.Read(j.zp)
	}
	return j
}

// TestQGemvI8Kernel cross-checks every int8 kernel against qkI8Generic bit
// for bit, with guard bands around the output and read-only inputs.
func TestQGemvI8Kernel(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	type kern struct {
		Name string
		i8   func(qkI8Job)
	}
	var ks []kern
	for _, s := range qkSetsWith(func(s *Set) bool { return s.qk.i8 != nil }) {
		ks = append(ks, kern{s.Name, s.qk.i8})
	}
	for name, f := range qkI8Variants() {
		ks = append(ks, kern{name, f})
	}
	if len(ks) == 0 {
		t.Skip("no int8 GEMV kernel in this build")
	}
	for _, s := range ks {
		for _, cols := range []int{1, 2, 5} {
			for _, nb := range []int{1, 2, 3, 7, 8, 9, 16, 21} {
				for _, sub := range []int{1, 2, 4} {
					for _, mp := range []int{1, 2} {
						for v := 0; v < 4; v++ {
							f16, zp := v&1 != 0, v&2 != 0
							name := fmt.Sprintf("%s/c%d_nb%d_sub%d_m%d_f16=%v_zp=%v", s.Name, cols, nb, sub, mp, f16, zp)
							j := qkRandJobI8(r, cols, nb, sub, mp, f16, zp)
							off := r.Intn(4)
							ldc := cols + r.Intn(3)
							n := (mp-1)*ldc + cols
							fill := nnRand(r, n)
							buf, payload := guarded(n, off, fill)
							want := append([]float32(nil), fill...)
							wj := j
							wj.c, wj.ldc = want, ldc
							qkI8Generic(wj)
							wsave, aqsave := append([]byte(nil), j.w...), append([]int8(nil), j.aq...)
							j.c, j.ldc = payload, ldc
							s.i8(j)
							checkGuards(t, name, buf, off, n, fill, cols, ldc)
							for i := range want {
								if math.Float32bits(payload[i]) != math.Float32bits(want[i]) {
									t.Fatalf("%s: c[%d] = %g, generic %g", name, i, payload[i], want[i])
								}
							}
							if string(wsave) != string(j.w) || fmt.Sprint(aqsave) != fmt.Sprint(j.aq) {
								t.Fatalf("%s: inputs modified", name)
							}
						}
					}
				}
			}
		}
	}
}

// TestQGemvF32Kernel cross-checks every float kernel against qkF32Generic
// (within float32 rounding: the kernels fuse multiply-adds), with guard
// bands around the output, NaN scales and zero points past the job's data
// and read-only inputs.
func TestQGemvF32Kernel(t *testing.T) {
	r := rand.New(rand.NewSource(12))
	ks := qkSetsWith(func(s *Set) bool { return s.qk.f32 != nil })
	if len(ks) == 0 {
		t.Skip("no float GEMV kernel in this build")
	}
	for _, s := range ks {
		for _, cols := range []int{1, 2, 7, 9} {
			for _, nb := range []int{1, 2, 3} {
				for _, sub := range []int{1, 2, 4} {
					for m := 1; m <= 4; m++ {
						for zpMode := qkZPNone; zpMode <= qkZPF16; zpMode++ {
							f16 := (m+zpMode+cols)%2 == 0
							name := fmt.Sprintf("%s/c%d_nb%d_sub%d_m%d_zp%d_f16=%v", s.Name, cols, nb, sub, m, zpMode, f16)
							k := nb*sub*32 - r.Intn(20)
							a := nnRand(r, m*k)
							j := qkF32Job{rowBytes: nb * sub * 16, cols: cols, nb: nb, sub: sub, m: m, zpMode: zpMode}
							j.w = make([]byte, cols*j.rowBytes)
							r.Read(j.w)
							j.a, j.asum = make([]float32, nb*sub*32*m), make([]float32, nb*8*m)
							qkPrepF32(m, a, k, k, nb, sub, j.a, j.asum)
							// Values past the job's data are NaN: a kernel that
							// lets them into the result fails.
							extra := 1 + r.Intn(4)
							if f16 {
								j.wsF16 = make([]uint16, cols*nb+extra)
								for i := range j.wsF16 {
									j.wsF16[i] = f16bits(r.Float32()*0.1 + 0.001)
								}
								j.wsF16[cols*nb] = 0x7e00
							} else {
								j.wsF32 = nnRand(r, cols*nb+extra)
								j.wsF32[cols*nb] = float32(math.NaN())
							}
							switch zpMode {
							case qkZPCodes:
								j.zrow = (nb*4+7)/8 + r.Intn(2)
								j.zpCodes = make([]byte, cols*j.zrow)
								r.Read(j.zpCodes)
							case qkZPF32:
								j.zpF32 = nnRand(r, cols*nb+extra)
								j.zpF32[cols*nb] = float32(math.NaN())
							case qkZPF16:
								j.zpF16 = make([]uint16, cols*nb+extra)
								for i := range j.zpF16 {
									j.zpF16[i] = f16bits(r.Float32() * 15)
								}
								j.zpF16[cols*nb] = 0x7e00
							}
							off, ldc := r.Intn(4), cols+r.Intn(3)
							n := (m-1)*ldc + cols
							fill := nnRand(r, n)
							buf, payload := guarded(n, off, fill)
							want := append([]float32(nil), fill...)
							wj := j
							wj.c, wj.ldc = want, ldc
							qkF32Generic(wj)
							wsave, asave := append([]byte(nil), j.w...), append([]float32(nil), j.a...)
							j.c, j.ldc = payload, ldc
							s.qk.f32(j)
							checkGuards(t, name, buf, off, n, fill, cols, ldc)
							for i := range want {
								if d := math.Abs(float64(payload[i] - want[i])); !(d <= 1e-4*(1+math.Abs(float64(want[i])))) {
									t.Fatalf("%s: c[%d] = %g, generic %g", name, i, payload[i], want[i])
								}
							}
							if string(wsave) != string(j.w) {
								t.Fatalf("%s: weights modified", name)
							}
							checkUnchanged(t, name, j.a, asave)
						}
					}
				}
			}
		}
	}
}

// qkShapes are the public-API shapes run over every set: tails in N (around
// the 8-column groups and 64-column chunks) and in K (padded last block).
var qkShapes = []qtCase{
	{name: "n1", n: 1, k: 64, bs: 32, bits: 4, m: 1},
	{name: "n7_k33", n: 7, k: 33, bs: 32, bits: 4, m: 2},
	{name: "n8", n: 8, k: 96, bs: 32, bits: 4, m: 1, f16Scales: true},
	{name: "n9_zp", n: 9, k: 100, bs: 32, bits: 4, m: 2, zp: "codes"},
	{name: "n63_b64", n: 63, k: 176, bs: 64, bits: 4, m: 3, bias: true},
	{name: "n65_b128_zp16", n: 65, k: 300, bs: 128, bits: 4, m: 4, zp: "codes", f16Scales: true},
	{name: "n130_m5", n: 130, k: 64, bs: 32, bits: 4, m: 5, bias: true},
	{name: "n200_k2048", n: 200, k: 2048, bs: 32, bits: 4, m: 2, f16Scales: true},
	{name: "b16", n: 20, k: 70, bs: 16, bits: 4, m: 2},
	{name: "b256", n: 20, k: 512, bs: 256, bits: 4, m: 1},
	{name: "zpf32", n: 33, k: 96, bs: 32, bits: 4, m: 2, zp: "f32"},
	{name: "zpf16", n: 17, k: 160, bs: 32, bits: 4, m: 3, zp: "f16", f16Scales: true},
	{name: "bits8", n: 17, k: 64, bs: 32, bits: 8, m: 2},
}

// TestQGemmInt8Sets runs QGemmInt8 on every set: the result must match the
// generic set bit for bit for every thread count, with guard bands intact.
func TestQGemmInt8Sets(t *testing.T) {
	for _, c := range qkShapes {
		if c.zp == "f32" || c.zp == "f16" {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(int64(c.n*1000 + c.k)))
			w, _ := qtBuild(c, rng)
			a := qtRandA(rng, c.m, c.k)
			var bias []float32
			if c.bias {
				bias = qtRandA(rng, 1, c.n)
			}
			var qa QuantizedA
			QuantizeA(&qa, c.m, c.k, c.bs, a, c.k)
			ldc := c.n + 2
			size := (c.m-1)*ldc + c.n
			run := func(set string, threads, off int) ([]float32, []float32) {
				useSet(t, set)
				fill := nnRand(rng, size)
				buf, payload := guarded(size, off, fill)
				QGemmInt8(&qa, w, bias, payload, ldc, threads)
				checkGuards(t, set, buf, off, size, fill, c.n, ldc)
				return payload, fill
			}
			want, _ := run("generic", 1, 0)
			for _, set := range Sets() {
				for _, th := range []int{1, 2, 3, 8} {
					got, _ := run(set, th, th%4)
					for i := 0; i < c.m; i++ {
						for n := 0; n < c.n; n++ {
							if g, x := got[i*ldc+n], want[i*ldc+n]; math.Float32bits(g) != math.Float32bits(x) {
								t.Fatalf("%s threads=%d: C[%d,%d] = %g, generic %g", set, th, i, n, g, x)
							}
						}
					}
				}
			}
		})
	}
}

// TestQGemmSets runs QGemm on every set against a float64 reference, and
// checks that each set's result does not depend on the thread count.
func TestQGemmSets(t *testing.T) {
	for _, c := range qkShapes {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(int64(c.n*100 + c.k)))
			w, dense := qtBuild(c, rng)
			a := qtRandA(rng, c.m, c.k)
			var bias []float32
			if c.bias {
				bias = qtRandA(rng, 1, c.n)
			}
			ldc := c.n + 1
			size := (c.m-1)*ldc + c.n
			for _, set := range Sets() {
				useSet(t, set)
				var first []float32
				for _, th := range []int{1, 2, 5} {
					fill := nnRand(rng, size)
					buf, got := guarded(size, th%4, fill)
					asave := append([]float32(nil), a...)
					QGemm(c.m, a, c.k, w, bias, got, ldc, th)
					checkGuards(t, set, buf, th%4, size, fill, c.n, ldc)
					checkUnchanged(t, set, a, asave)
					if first == nil {
						first = append([]float32(nil), got...)
						for i := 0; i < c.m; i++ {
							for n := 0; n < c.n; n++ {
								var want, mag float64
								for k := 0; k < c.k; k++ {
									want += float64(a[i*c.k+k]) * dense[n][k]
									mag += math.Abs(float64(a[i*c.k+k]) * dense[n][k])
								}
								if bias != nil {
									want += float64(bias[n])
									mag += math.Abs(float64(bias[n]))
								}
								if d := math.Abs(float64(got[i*ldc+n]) - want); d > 2e-6*mag+1e-6 {
									t.Fatalf("%s: C[%d,%d] = %g, want %g (mag %g)", set, i, n, got[i*ldc+n], want, mag)
								}
							}
						}
						continue
					}
					for i := 0; i < c.m; i++ {
						for n := 0; n < c.n; n++ {
							if math.Float32bits(got[i*ldc+n]) != math.Float32bits(first[i*ldc+n]) {
								t.Fatalf("%s threads=%d: C[%d,%d] differs from threads=1", set, th, i, n)
							}
						}
					}
				}
			}
		})
	}
}

// TestQuantizeARounding checks QuantizeA's float32 rounding against
// math.RoundToEven in float64 on random values, exact ties included.
func TestQuantizeARounding(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for it := 0; it < 2000; it++ {
		k := 1 + r.Intn(300)
		a := make([]float32, k)
		for i := range a {
			switch r.Intn(4) {
			case 0:
				a[i] = float32(r.NormFloat64() * 1e-3)
			case 1:
				a[i] = float32(r.Intn(255) - 127) // exact ties
			default:
				a[i] = float32(r.NormFloat64() * 10)
			}
		}
		var q QuantizedA
		QuantizeA(&q, 1, k, 32, a, k)
		nb := (k + 31) / 32
		for b := 0; b < nb; b++ {
			var amax float32
			for _, v := range a[b*32 : min(k, b*32+32)] {
				amax = max(amax, float32(math.Abs(float64(v))))
			}
			sc := amax / 127
			inv := float32(0)
			if sc != 0 {
				inv = 1 / sc
			}
			for j, v := range a[b*32 : min(k, b*32+32)] {
				want := int8(max(-127, min(127, math.RoundToEven(float64(v*inv)))))
				if q.Q[b*32+j] != want {
					t.Fatalf("it %d: %g -> %d, want %d", it, v*inv, q.Q[b*32+j], want)
				}
			}
		}
	}
}
