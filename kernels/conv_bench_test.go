package kernels

import (
	"fmt"
	"math/rand"
	"testing"
)

// BenchmarkConv3x3 reports GFLOP/s (direct-convolution FLOPs, 2·M·C·9·oH·oW)
// of the Winograd 3×3 convolution, pad 1, on the SD-Turbo UNet/VAE shapes
// for the active kernel set (go test -run xxx -bench Conv3x3 -benchtime 3x;
// ENGINE_CPU selects another set).
func BenchmarkConv3x3(b *testing.B) {
	r := rand.New(rand.NewSource(5))
	for _, s := range [][2]int{{320, 64}, {640, 32}, {1280, 16}, {128, 256}} {
		c, hw := s[0], s[1]
		p := Conv2D{N: 1, C: c, H: hw, W: hw, M: c, PadT: 1, PadL: 1, PadB: 1, PadR: 1}
		x, w, bias := nnRand(r, c*hw*hw), nnRand(r, c*c*9), nnRand(r, c)
		y := make([]float32, c*hw*hw)
		f := NewWinogradFilter(c, c, Operand{F32: w}, false, DefaultThreads())
		for _, th := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/%dto%d_%dx%d/threads=%d", Active(), c, c, hw, hw, th), func(b *testing.B) {
				f.Conv(p, x, bias, ConvEpilogue{}, y, th)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					f.Conv(p, x, bias, ConvEpilogue{}, y, th)
				}
				flops := 2 * float64(c) * float64(c) * 9 * float64(hw*hw)
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
