package sdturbo

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestLatentsMatchBrowserLibrary(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "testdata", "latents")
	files, _ := filepath.Glob(filepath.Join(dir, "seed_*.f32"))
	if len(files) == 0 {
		t.Skipf("reference latents not found in %s", dir)
	}
	for _, f := range files {
		seed, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "seed_"), ".f32"), 10, 32)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float32, len(b)/4)
		for i := range want {
			want[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		got := make([]float32, len(want))
		Latents(got, uint32(seed))
		bad := 0
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				if bad < 3 {
					t.Errorf("seed %d: element %d = %v (%#x), want %v (%#x)", seed, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
				}
				bad++
			}
		}
		if bad > 0 {
			t.Errorf("seed %d: %d of %d values differ", seed, bad, len(want))
		}
	}
}

func TestFdlibmAgainstMath(t *testing.T) {
	for i := 1; i < 100000; i++ {
		x := float64(i) / 100000
		if d := math.Abs(fdlibmLog(x) - math.Log(x)); d > 1e-15*math.Abs(math.Log(x))+1e-300 {
			t.Fatalf("log(%v): %v vs %v", x, fdlibmLog(x), math.Log(x))
		}
		y := 2 * math.Pi * x
		if d := math.Abs(fdlibmCos(y) - math.Cos(y)); d > 1e-15 {
			t.Fatalf("cos(%v): %v vs %v", y, fdlibmCos(y), math.Cos(y))
		}
	}
}
