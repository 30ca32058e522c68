// Package bench holds the engine's benchmarks that compare it with other
// runtimes or measure whole graphs. It is a separate module so that heavier
// tools used only for comparison never enter the main module's dependencies.
package bench
