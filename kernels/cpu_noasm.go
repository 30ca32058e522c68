//go:build !(amd64 || arm64) || noasm || purego || !gc

package kernels

// archSets returns no assembly sets: this build keeps the generic kernels.
func archSets() (sets []*Set, def string) { return nil, "" }
