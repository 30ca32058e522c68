//go:build !noasm && !purego && gc

package kernels

// plugConv installs the convolution transforms of set s: the AVX2
// transforms serve the avx512 set too (they are a small share of the time
// next to the GEMMs, and Zen 4 splits 512-bit operations anyway).
func plugConv(s *Set) {
	if s.Name == "avx2" || s.Name == "avx512" {
		s.wino = winoImpl{in: winoInAVX2Go, out: winoOutAVX2Go, filtH: winoFiltHAVX2Go, filtF: winoFiltFAVX2Go}
		return
	}
	s.wino = winoGeneric
}

// winoInAVX2Go checks the operands, transforms groups of eight tiles with
// winoInAVX2 and the rest with winoInGeneric.
func winoInAVX2Go(d []float32, ld, n int, v []float32, vs int) {
	if n < 1 || ld < 4*n+2 || len(d) < 5*ld+4*n+2 || vs < n || len(v) < 35*vs+n {
		panic(errConvTile)
	}
	n8 := n &^ 7
	if n8 > 0 {
		winoInAVX2(&d[0], ld, n8, &v[0], vs)
	}
	if n > n8 {
		winoInGeneric(d[4*n8:], ld, n-n8, v[n8:], vs)
	}
}

// winoOutAVX2Go checks the operands, transforms groups of eight tiles with
// winoOutAVX2 and the rest with winoOutGeneric.
func winoOutAVX2Go(y []float32, ys, n int, bias float32, o []float32, ld int) {
	if n < 1 || ld < 4*n || len(o) < 3*ld+4*n || ys < n || len(y) < 35*ys+n {
		panic(errConvTile)
	}
	n8 := n &^ 7
	if n8 > 0 {
		winoOutAVX2(&y[0], ys, n8, bias, &o[0], ld)
	}
	if n > n8 {
		winoOutGeneric(y[n8:], ys, n-n8, bias, o[4*n8:], ld)
	}
}

// winoFiltH8AVX2 and winoFiltF8AVX2 are winoFiltHGeneric and
// winoFiltFGeneric (eight filters, one per lane, the same operations with
// FMA where the Go code multiplies then adds), for n groups: w advances
// wstep elements and u ustep floats after each.
//
//go:noescape
func winoFiltH8AVX2(w *uint16, ldw int, u *float32, us int, n, wstep, ustep int)

//go:noescape
func winoFiltF8AVX2(w *float32, ldw int, u *float32, us int, n, wstep, ustep int)

func winoFiltHAVX2Go(w []uint16, ldw int, u []float32, us, n, wstep, ustep int) {
	if !winoFiltOK(len(w), ldw, len(u), us, n, wstep, ustep) {
		panic(errConvTile)
	}
	if n > 0 {
		winoFiltH8AVX2(&w[0], ldw, &u[0], us, n, wstep, ustep)
	}
}

func winoFiltFAVX2Go(w []float32, ldw int, u []float32, us, n, wstep, ustep int) {
	if !winoFiltOK(len(w), ldw, len(u), us, n, wstep, ustep) {
		panic(errConvTile)
	}
	if n > 0 {
		winoFiltF8AVX2(&w[0], ldw, &u[0], us, n, wstep, ustep)
	}
}
