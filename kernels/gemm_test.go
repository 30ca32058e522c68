package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/cpuid/v2"
)

func TestSets(t *testing.T) {
	names := Sets()
	if len(names) == 0 || names[0] != "generic" {
		t.Fatalf("Sets() = %v, want generic first", names)
	}
	if _, err := Use("no-such-set"); err == nil {
		t.Fatal("Use(no-such-set) succeeded")
	}
	for _, name := range names {
		restore, err := Use(name)
		if err != nil {
			t.Fatalf("Use(%s): %v", name, err)
		}
		if Active() != name || !strings.Contains(Describe(), "kernels: "+name+" ") {
			t.Errorf("after Use(%s): Active %s, Describe %q", name, Active(), Describe())
		}
		restore()
	}
	// ENGINE_CPU: a name the CPU cannot run is an error, not a downgrade.
	prev := Active()
	for _, v := range []string{"bogus", "avx512", "neon", "avx2"} {
		err := useEnv(v)
		if ok := slices.Contains(names, v); ok != (err == nil) || (ok && Active() != v) {
			t.Errorf("useEnv(%s) = %v with sets %v (active %s)", v, err, names, Active())
		}
	}
	if err := useEnv(prev); err != nil {
		t.Fatal(err)
	}
	// A set is listed only if the CPU has every feature its kernels use.
	need := map[string]func() bool{
		"avx2": func() bool {
			return runtime.GOARCH == "amd64" && cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3, cpuid.F16C)
		},
		"avx512": func() bool {
			return runtime.GOARCH == "amd64" && cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512BW, cpuid.AVX512VL, cpuid.AVX512DQ)
		},
		"neon": func() bool { return runtime.GOARCH == "arm64" },
	}
	for _, name := range names[1:] {
		if f, ok := need[name]; !ok || !f() {
			t.Errorf("set %s listed but not supported here", name)
		}
	}
}

// TestMicroKernel cross-checks every set's micro-kernel against its pure-Go
// twin sgemmTileGeneric on the same tile: k tails, odd ldc, misaligned
// offsets, both store modes, guard bands around C and read-only inputs.
func TestMicroKernel(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	for _, s := range sets {
		g := s.gemm
		mr, nr := g.mr, g.nr
		for _, kc := range []int{1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 100, 257} {
			for ci, ldc := range []int{nr, nr + 1, nr + 3, 2*nr + 5} {
				off := (kc + ci) % 4
				add := ci%2 == 1
				alpha := []float32{1, -0.5, 3}[kc%3]
				name := fmt.Sprintf("%s/kc=%d/ldc=%d/off=%d/add=%v", s.Name, kc, ldc, off, add)
				a, b := nnRand(r, kc*mr+off), nnRand(r, kc*nr+off)
				a, b = a[off:], b[off:]
				a0, b0 := slices.Clone(a), slices.Clone(b)
				n := (mr-1)*ldc + nr
				c0 := nnRand(r, n)
				want := slices.Clone(c0)
				sgemmTileGeneric(mr, nr, kc, a, b, want, ldc, add, alpha)
				buf, c := guarded(n, off, c0)
				g.kern(kc, a, b, c, ldc, add, alpha)
				checkGuards(t, name, buf, off, n, c0, nr, ldc)
				checkUnchanged(t, name+" a", a, a0)
				checkUnchanged(t, name+" b", b, b0)
				for i := 0; i < mr; i++ {
					for j := 0; j < nr; j++ {
						x := i*ldc + j
						var sc float64
						for p := 0; p < kc; p++ {
							sc += math.Abs(float64(a[p*mr+i]) * float64(b[p*nr+j]))
						}
						tol := 2e-6*(math.Abs(float64(alpha))*sc+math.Abs(float64(c0[x]))) + 1e-7
						if d := math.Abs(float64(c[x] - want[x])); !(d <= tol) {
							t.Fatalf("%s: c[%d][%d] = %g, generic twin %g", name, i, j, c[x], want[x])
						}
					}
				}
			}
		}
	}
}

// gemmCase runs one Sgemm case with the active set at several thread
// counts, checking accuracy against float64, guard bands, read-only inputs
// and bit-identical results across thread counts.
func gemmCase(t *testing.T, r *rand.Rand, m, n, k int, tA, tB bool, alpha, beta float32, off int, threads []int) {
	t.Helper()
	lda, ldb, ldc := k+1, n+2, n+3
	if tA {
		lda = m + 1
	}
	if tB {
		ldb = k + 2
	}
	name := fmt.Sprintf("%s m=%d n=%d k=%d tA=%v tB=%v alpha=%g beta=%g off=%d", Active(), m, n, k, tA, tB, alpha, beta, off)
	aLen, bLen := max(m, k)*lda+off, max(n, k)*ldb+off
	a, b := nnRand(r, aLen)[off:], nnRand(r, bLen)[off:]
	a0, b0 := slices.Clone(a), slices.Clone(b)
	cLen := max(0, (m-1)*ldc+n)
	c0 := nnRand(r, cLen)
	if beta == 0 {
		for i := range c0 {
			c0[i] = float32(math.NaN()) // must not be read
		}
	}
	want, scale := refGemm(m, n, k, alpha, a, lda, tA, b, ldb, tB, beta, c0, ldc)
	var first []float32
	for _, th := range threads {
		buf, c := guarded(cLen, off, c0)
		Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, th)
		checkGuards(t, name, buf, off, cLen, c0, n, ldc)
		checkUnchanged(t, name+" a", a, a0)
		checkUnchanged(t, name+" b", b, b0)
		if err := compareF32(c, ldc, want, scale, m, n); err != nil {
			t.Fatalf("%s threads=%d: %v", name, th, err)
		}
		if first == nil {
			first = slices.Clone(c)
			continue
		}
		for i := range c {
			if math.Float32bits(c[i]) != math.Float32bits(first[i]) {
				t.Fatalf("%s: threads=%d changes bits at %d", name, th, i)
			}
		}
	}
}

func TestSgemm(t *testing.T) {
	for _, set := range Sets() {
		t.Run(set, func(t *testing.T) {
			useSet(t, set)
			g := active.Load().gemm
			mr, nr := g.mr, g.nr
			r := rand.New(rand.NewSource(1))
			ms := []int{0, 1, mr - 1, mr, mr + 1, 2*mr + 1, 37}
			ns := []int{0, 1, nr - 1, nr, nr + 1, 2*nr + 3, 50}
			ks := []int{0, 1, 2, 7, 17, g.kc - 1, g.kc + 1}
			cs := 0
			for _, m := range ms {
				for _, n := range ns {
					for _, k := range ks {
						if k >= g.kc && (m > 2*mr+1 || n > 2*nr+3) {
							continue
						}
						cs++
						gemmCase(t, r, m, n, k, cs%2 == 1, cs%4 >= 2,
							[]float32{1, 0.5, -2}[cs%3], []float32{0, 1, 0.25}[cs%3], cs%4, []int{1, 2, 3})
					}
				}
			}
			// Large, non-power-of-two, crossing kc and split over threads.
			gemmCase(t, r, 130, 200, 300, false, false, 1, 0, 1, []int{1, 4})
			gemmCase(t, r, 97, 61, 513, true, true, -1, 0.5, 3, []int{1, 3})
		})
	}
}

func TestGemmF16(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for _, set := range Sets() {
		for _, tc := range []struct {
			name    string
			m, n, k int
			aH, bH  bool
			tA, tB  bool
			threads int
		}{
			{"bF16", 13, 37, 21, false, true, false, false, 2},
			{"bF16T", 13, 33, 300, false, true, false, true, 1},
			{"aF16", 19, 9, 40, true, false, false, false, 1},
			{"aF16T", 25, 17, 30, true, false, true, false, 2},
			{"both", 7, 50, 259, true, true, true, true, 3},
		} {
			t.Run(set+"/"+tc.name, func(t *testing.T) {
				useSet(t, set)
				m, n, k := tc.m, tc.n, tc.k
				lda, ldb := k, n
				if tc.tA {
					lda = m
				}
				if tc.tB {
					ldb = k
				}
				a, b := nnRand(r, m*k), nnRand(r, k*n)
				oa := Operand{F32: a, LD: lda, Trans: tc.tA}
				ob := Operand{F32: b, LD: ldb, Trans: tc.tB}
				if tc.aH {
					oa = Operand{F16: make([]uint16, len(a)), LD: lda, Trans: tc.tA}
					for i, v := range a {
						oa.F16[i] = f16bits(v)
						a[i] = nnH2F(oa.F16[i])
					}
				}
				if tc.bH {
					ob = Operand{F16: make([]uint16, len(b)), LD: ldb, Trans: tc.tB}
					for i, v := range b {
						ob.F16[i] = f16bits(v)
						b[i] = nnH2F(ob.F16[i])
					}
				}
				want, scale := refGemm(m, n, k, 1, a, lda, tc.tA, b, ldb, tc.tB, 0, nil, n)
				got := make([]float32, m*n)
				Gemm(m, n, k, 1, oa, ob, 0, got, n, tc.threads)
				if err := compareF32(got, n, want, scale, m, n); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// TestH2F checks every set's float16 widening against the generic one for
// all 65536 values at every length tail (F16C handles runs of eight).
func TestH2F(t *testing.T) {
	src := make([]uint16, 1<<16)
	for i := range src {
		src[i] = uint16(i)
	}
	want := make([]float32, len(src))
	h2fGeneric(want, src)
	for _, s := range sets {
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, len(src)} {
			got := make([]float32, n+1)
			got[n] = guard
			s.h2f(got[:n], src[:n])
			if math.Float32bits(got[n]) != math.Float32bits(guard) {
				t.Fatalf("%s n=%d: wrote past the end", s.Name, n)
			}
			for i := 0; i < n; i++ {
				g, w := got[i], want[i]
				if math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
					t.Fatalf("%s: h2f(%#04x) = %g, want %g", s.Name, src[i], g, w)
				}
			}
		}
	}
}

func TestGemmBadInput(t *testing.T) {
	a, b, c := make([]float32, 12), make([]float32, 12), make([]float32, 9)
	for _, tc := range []struct {
		name string
		want string
		call func()
	}{
		{"shortC", errShortC, func() { Sgemm(false, false, 3, 4, 4, 1, a, 4, b, 4, 0, c, 4, 1) }},
		{"badLdC", errBadLdC, func() { Sgemm(false, false, 3, 4, 4, 1, a, 4, b, 4, 0, c, 3, 1) }},
		{"shortA", errShortA, func() { Sgemm(false, false, 3, 3, 5, 1, a, 5, b, 3, 0, c, 3, 1) }},
		{"badLdB", errBadLdB, func() { Sgemm(false, false, 3, 3, 4, 1, a, 4, b, 2, 0, c, 3, 1) }},
		{"noData", errNoData, func() { Gemm(3, 3, 4, 1, Operand{LD: 4}, Operand{F32: b, LD: 3}, 0, c, 3, 1) }},
		{"kernelKC", errBadKC, func() { sets[len(sets)-1].gemm.kern(0, a, b, c, 16, false, 1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != tc.want {
					t.Fatalf("panic %v, want %q", r, tc.want)
				}
			}()
			tc.call()
		})
	}
}

// FuzzGemm is a differential fuzzer: every usable set against the float64
// reference (and so against generic) on random shapes, transposes, scalars
// and misaligned offsets.
func FuzzGemm(f *testing.F) {
	f.Add(uint8(6), uint8(16), uint8(1), uint8(0), int64(1))
	f.Add(uint8(13), uint8(33), uint8(40), uint8(7), int64(2))
	f.Add(uint8(1), uint8(1), uint8(0), uint8(3), int64(3))
	f.Add(uint8(25), uint8(65), uint8(255), uint8(12), int64(4))
	f.Fuzz(func(t *testing.T, m8, n8, k8, flags uint8, seed int64) {
		m, n, k := int(m8%48), int(n8%80), int(k8)+int(flags>>6)*100
		r := rand.New(rand.NewSource(seed))
		alpha := []float32{1, -1.5, 0.25, 0}[flags&3]
		beta := []float32{0, 1, -0.5, 2}[(flags>>2)&3]
		for _, set := range Sets() {
			restore, err := Use(set)
			if err != nil {
				t.Fatal(err)
			}
			gemmCase(t, r, m, n, k, flags&16 != 0, flags&32 != 0, alpha, beta, int(seed&3), []int{1, 2})
			restore()
		}
	})
}
