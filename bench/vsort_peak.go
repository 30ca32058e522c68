package bench

import (
	"runtime"
	"sync"
	"time"
)

// fmaGoFlopsPerIter is the flop count of one iteration of fmaLoopGo.
const fmaGoFlopsPerIter = 24

// fmaSink keeps fmaLoopGo's result alive.
var fmaSink float32

// fmaLoopGo is the pure-Go fallback: 12 independent scalar multiply-add
// chains, 24 flops per iteration.
func fmaLoopGo(n int) {
	var a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11 float32
	x, y := float32(0.999999), float32(1e-7)
	for i := 0; i < n; i++ {
		a0 = a0*x + y
		a1 = a1*x + y
		a2 = a2*x + y
		a3 = a3*x + y
		a4 = a4*x + y
		a5 = a5*x + y
		a6 = a6*x + y
		a7 = a7*x + y
		a8 = a8*x + y
		a9 = a9*x + y
		a10 = a10*x + y
		a11 = a11*x + y
	}
	fmaSink = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11
}

// Peak is the machine's measured float32 FMA throughput.
type Peak struct {
	ISA     string  `json:"isa"`      // "avx2-fma" (asm loop) or "go-scalar" (fallback)
	PerCore float64 `json:"per_core"` // GFLOP/s of one goroutine, best of several trials
	Threads int     `json:"threads"`
	// GFlops is PerCore × Threads: the reference for pct_peak.
	GFlops float64 `json:"gflops"`
	// Concurrent is what Threads goroutines reached together (below GFlops
	// when other work shares the cores).
	Concurrent float64 `json:"concurrent"`
}

// MeasurePeak times the FMA loop on one goroutine (best of trials) and on
// threads goroutines at once. Each trial lasts about dur.
func MeasurePeak(threads, trials int, dur time.Duration) Peak {
	loop, fpi, isa := fmaPeakRoutine()
	if threads < 1 {
		threads = 1
	}
	if trials < 1 {
		trials = 1
	}
	// Calibrate the iteration count for about dur per trial.
	n := 1 << 16
	for {
		t0 := time.Now()
		loop(n)
		if el := time.Since(t0); el >= dur/8 || n >= 1<<34 {
			n = int(float64(n) * float64(dur) / float64(max(el, time.Microsecond)))
			break
		}
		n *= 4
	}
	n = max(n, 1)
	one := func() float64 {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		t0 := time.Now()
		loop(n)
		return time.Since(t0).Seconds()
	}
	p := Peak{ISA: isa, Threads: threads}
	for i := 0; i < trials; i++ {
		p.PerCore = max(p.PerCore, float64(n)*fpi/one()/1e9)
	}
	p.GFlops = p.PerCore * float64(threads)
	for i := 0; i < trials; i++ {
		var wg sync.WaitGroup
		t0 := time.Now()
		for j := 0; j < threads; j++ {
			wg.Add(1)
			go func() { defer wg.Done(); one() }()
		}
		wg.Wait()
		p.Concurrent = max(p.Concurrent, float64(threads)*float64(n)*fpi/time.Since(t0).Seconds()/1e9)
	}
	return p
}
