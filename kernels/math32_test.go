package kernels

import (
	"math"
	"testing"
)

func TestMath32Accuracy(t *testing.T) {
	cases := []struct {
		name     string
		f        func(float32) float32
		ref      func(float64) float64
		lo, hi   float64
		floor    float64 // absolute error floor
		maxRelEr float64
	}{
		{"exp", Exp32, math.Exp, -87, 88.7, 0, 3e-7},
		{"tanh", Tanh32, math.Tanh, -12, 12, 1e-7, 2e-6},
		{"erf", Erf32, math.Erf, -6, 6, 1e-7, 1e-6},
	}
	for _, c := range cases {
		worst := 0.0
		for i := 0; i <= 200000; i++ {
			x := c.lo + (c.hi-c.lo)*float64(i)/200000
			got := float64(c.f(float32(x)))
			want := c.ref(float64(float32(x)))
			e := math.Abs(got-want) / (math.Abs(want) + c.floor)
			worst = math.Max(worst, e)
		}
		if worst > c.maxRelEr {
			t.Errorf("%s: max relative error %.3g > %.3g", c.name, worst, c.maxRelEr)
		}
	}
	if !math.IsInf(float64(Exp32(89)), 1) || Exp32(-200) != 0 || Exp32(float32(math.NaN())) == Exp32(float32(math.NaN())) {
		t.Error("exp edge cases")
	}
}
