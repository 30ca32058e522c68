package kernels

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"

	"github.com/klauspost/cpuid/v2"
)

// Set is one complete set of kernel entry points ("generic", "avx2",
// "avx512" or "neon"). The generic set is always usable; the others are
// plugged in by the architecture files when the CPU supports them and the
// build allows assembly (no noasm or purego tag).
type Set struct {
	Name string
	gemm gemmImpl
	// h2f widens float16 bits to float32 (len(dst) >= len(src)); it is used
	// while packing fp16 operands.
	h2f  func(dst []float32, src []uint16)
	f16c bool     // h2f uses F16C VCVTPH2PS
	wino winoImpl // Winograd F(4x4,3x3) transforms (conv.go)
	// nk holds the normalisation, softmax and activation primitives.
	nk nkKernels
	// attn holds the fused attention routines (attention.go).
	attn *faImpl
	// qk holds the 4-bit and fp16-weight GEMV kernels (zero: pure Go).
	qk qkImpl
}

// sets lists every usable set, generic first; filled once in init.
var sets []*Set

// active is the set Gemm uses. It is read once per call.
var active atomic.Pointer[Set]

// envErr records why ENGINE_CPU could not be honoured.
var envErr error

func init() {
	arch, def := archSets()
	sets = append([]*Set{genericSet()}, arch...)
	for _, s := range sets {
		plugConv(s)
	}
	for _, s := range arch {
		faPlug(s)
	}
	active.Store(sets[len(sets)-1])
	if def != "" {
		_, _ = Use(def)
	}
	envErr = useEnv(os.Getenv("ENGINE_CPU"))
}

// useEnv applies an ENGINE_CPU value ("" keeps the default).
func useEnv(v string) error {
	if v == "" {
		return nil
	}
	if _, err := Use(v); err != nil {
		return fmt.Errorf("%w (ENGINE_CPU=%s)", err, v)
	}
	return nil
}

// genericSet is the pure-Go set (the oracle for every other set).
func genericSet() *Set {
	return &Set{Name: "generic", gemm: gemmGeneric, h2f: h2fGeneric, nk: nkGeneric, attn: &faGeneric}
}

// Sets returns the names of the kernel sets this CPU and build can run,
// generic first, then by vector width. The default is the widest one except
// where the architecture file documents a measured exception.
func Sets() []string {
	names := make([]string, len(sets))
	for i, s := range sets {
		names[i] = s.Name
	}
	return names
}

// Use selects the kernel set called name for every later call and returns a
// function restoring the previous selection. A set the CPU (or the build)
// cannot run is an error, never a silent downgrade. Use is meant for start-up
// and tests; calls running concurrently keep the set they started with.
func Use(name string) (restore func(), err error) {
	for _, s := range sets {
		if s.Name == name {
			prev := active.Swap(s)
			return func() { active.Store(prev) }, nil
		}
	}
	return func() {}, fmt.Errorf("kernels: kernel set %q not available (usable: %s)", name, strings.Join(Sets(), ", "))
}

// Active returns the name of the selected kernel set.
func Active() string { return active.Load().Name }

// EnvError reports why the ENGINE_CPU environment variable was not honoured
// (nil when it is unset or valid). The library never prints; commands should
// report it.
func EnvError() error { return envErr }

// Describe returns a one-line description of the CPU and the selected kernel
// set, e.g. "kernels: avx2 (gemm 6x16), f16c; AMD EPYC 7763, 2 cores".
func Describe() string {
	s := active.Load()
	var b strings.Builder
	fmt.Fprintf(&b, "kernels: %s (gemm %dx%d)", s.Name, s.gemm.mr, s.gemm.nr)
	if s.f16c {
		b.WriteString(", f16c")
	}
	if s.qk.dot != "" {
		b.WriteString(", qgemv " + s.qk.dot)
	}
	model := strings.TrimSpace(cpuid.CPU.BrandName)
	if model == "" {
		model = runtime.GOARCH
	}
	cores := cpuid.CPU.PhysicalCores
	if cores <= 0 {
		cores = runtime.NumCPU()
	}
	fmt.Fprintf(&b, "; %s, %d cores", model, cores)
	if envErr != nil {
		fmt.Fprintf(&b, "; ignored: %s", strings.TrimPrefix(envErr.Error(), "kernels: "))
	}
	return b.String()
}
