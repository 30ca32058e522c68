//go:build !noasm && !purego && gc

package kernels

// winoInAVX2 is winoInGeneric for the first n&^7 tiles, eight tiles (one
// per float lane) per iteration; the window rows are transposed with
// unpack/shuffle so every tile's six elements land in six vectors:
//
//	for k := 0; k < n&^7; k++ { for a, b < 6 {
//		v[(6a+b)*vs+k] = sum_{i,j} BT[a][i] * d[i*ld+4k+j] * BT[b][j] } }
//
// ld >= 4n+2; d must hold 5*ld+4*(n&^7)+2 floats and v 35*vs+n&^7.
//
//go:noescape
func winoInAVX2(d *float32, ld, n int, v *float32, vs int)

// winoOutAVX2 is winoOutGeneric for the first n&^7 tiles, eight per
// iteration:
//
//	for k := 0; k < n&^7; k++ { for r, c < 4 {
//		o[r*ld+4k+c] = bias + sum_{a,b} AT[r][a] * y[(6a+b)*ys+k] * AT[c][b] } }
//
// ld >= 4n; y must hold 35*ys+n&^7 floats and o 3*ld+4*(n&^7).
//
//go:noescape
func winoOutAVX2(y *float32, ys, n int, bias float32, o *float32, ld int)
