package engine

import (
	"runtime"

	"github.com/klauspost/cpuid/v2"
	"github.com/txt2img/engine/kernels"
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

// Detect reports the machine's capabilities.
func Detect() Capabilities {
	return Capabilities{
		CPU:     cpuid.CPU.BrandName,
		Cores:   runtime.GOMAXPROCS(0),
		Kernels: kernels.Active(),
		F16C:    cpuid.CPU.Supports(cpuid.F16C),
	}
}
