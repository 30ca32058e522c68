//go:build !noasm && !purego && gc

package kernels

// winoInNEON is winoInGeneric for the first n&^3 tiles, four tiles (one per
// float lane) per iteration; LD4 deinterleaves the stride-4 windows. tmp is
// 144 floats of scratch.
//
//	for k := 0; k < n&^3; k++ { for a, b < 6 {
//		v[(6a+b)*vs+k] = sum_{i,j} BT[a][i] * d[i*ld+4k+j] * BT[b][j] } }
//
// ld >= 4n+2; d must hold 5*ld+4*(n&^3)+2 floats and v 35*vs+n&^3.
//
//go:noescape
func winoInNEON(d *float32, ld, n int, v *float32, vs int, tmp *float32)

// winoOutNEON is winoOutGeneric for the first n&^3 tiles, four per
// iteration (ST4 interleaves each tile's four columns). tmp is 96 floats of
// scratch.
//
//	for k := 0; k < n&^3; k++ { for r, c < 4 {
//		o[r*ld+4k+c] = bias + sum_{a,b} AT[r][a] * y[(6a+b)*ys+k] * AT[c][b] } }
//
// ld >= 4n; y must hold 35*ys+n&^3 floats and o 3*ld+4*(n&^3).
//
//go:noescape
func winoOutNEON(y *float32, ys, n int, bias float32, o *float32, ld int, tmp *float32)

// plugConv installs the NEON convolution transforms.
func plugConv(s *Set) {
	if s.Name == "neon" {
		s.wino = winoImpl{in: winoInNEONGo, out: winoOutNEONGo, filtH: winoFiltHGeneric, filtF: winoFiltFGeneric}
		return
	}
	s.wino = winoGeneric
}

// winoInNEONGo checks the operands, transforms groups of four tiles with
// winoInNEON and the rest with winoInGeneric.
func winoInNEONGo(d []float32, ld, n int, v []float32, vs int) {
	if n < 1 || ld < 4*n+2 || len(d) < 5*ld+4*n+2 || vs < n || len(v) < 35*vs+n {
		panic(errConvTile)
	}
	n4 := n &^ 3
	if n4 > 0 {
		var tmp [144]float32
		winoInNEON(&d[0], ld, n4, &v[0], vs, &tmp[0])
	}
	if n > n4 {
		winoInGeneric(d[4*n4:], ld, n-n4, v[n4:], vs)
	}
}

// winoOutNEONGo checks the operands, transforms groups of four tiles with
// winoOutNEON and the rest with winoOutGeneric.
func winoOutNEONGo(y []float32, ys, n int, bias float32, o []float32, ld int) {
	if n < 1 || ld < 4*n || len(o) < 3*ld+4*n || ys < n || len(y) < 35*ys+n {
		panic(errConvTile)
	}
	n4 := n &^ 3
	if n4 > 0 {
		var tmp [96]float32
		winoOutNEON(&y[0], ys, n4, bias, &o[0], ld, &tmp[0])
	}
	if n > n4 {
		winoOutGeneric(y[n4:], ys, n-n4, bias, o[4*n4:], ld)
	}
}
