package engine

import (
	"runtime"

	"github.com/klauspost/cpuid/v2"
)

// Capabilities describes what this machine can run.
type Capabilities struct {
	CPU     string // CPU model name
	Cores   int    // logical cores usable by the process
	Kernels string // kernel set in use: generic, avx2, avx512 or neon
	F16C    bool   // hardware fp16 conversion
	// Vulkan reports whether a Vulkan backend is built in (build tag
	// "vulkan") and which devices it sees.
	Vulkan        bool
	VulkanDevices []string
}

// kernelSet names the kernels the engine runs; every kernel is pure Go
// until the assembly kernels land.
var kernelSet = func() string { return "generic" }

// Detect reports the machine's capabilities.
func Detect() Capabilities {
	return Capabilities{
		CPU:     cpuid.CPU.BrandName,
		Cores:   runtime.GOMAXPROCS(0),
		Kernels: kernelSet(),
		F16C:    cpuid.CPU.Supports(cpuid.F16C),
	}
}
