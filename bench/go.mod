module github.com/txt2img/engine/bench

go 1.26.0

require (
	github.com/txt2img/engine v0.0.0
	golang.org/x/sys v0.41.0
)

require (
	github.com/klauspost/cpuid/v2 v2.4.2 // indirect
	github.com/x448/float16 v0.8.4 // indirect
)

replace github.com/txt2img/engine => ../
