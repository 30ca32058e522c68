package kernels

// winoGeneric holds the pure-Go Winograd transforms (the oracle for the
// assembly ones).
var winoGeneric = winoImpl{in: winoInGeneric, out: winoOutGeneric, filtH: winoFiltHGeneric, filtF: winoFiltFGeneric}

// winoInGeneric is the F(4×4,3×3) input transform of n ≥ 1 horizontally
// adjacent tiles: tile k reads the 6×6 window d[i*ld+4k+j] (i, j < 6) and
// writes V = Bᵀ d B to v[ξ*vs+k] for ξ = 6a+b < 36:
//
//	for k < n: for a, b < 6:
//		v[(6a+b)*vs+k] = sum_{i,j} BT[a][i] * d[i*ld+4k+j] * BT[b][j]
//
// computed as rows first (t = d Bᵀᵀ per row), then columns.
func winoInGeneric(d []float32, ld, n int, v []float32, vs int) {
	if n < 1 || ld < 4*n+2 || len(d) < 5*ld+4*n+2 || vs < n || len(v) < 35*vs+n {
		panic(errConvTile)
	}
	for k := 0; k < n; k++ {
		var t [6][6]float32 // t[i][b]: row i of d times B
		for i := 0; i < 6; i++ {
			r := d[i*ld+4*k : i*ld+4*k+6]
			t[i] = cvBT1(r[0], r[1], r[2], r[3], r[4], r[5])
		}
		for b := 0; b < 6; b++ {
			col := cvBT1(t[0][b], t[1][b], t[2][b], t[3][b], t[4][b], t[5][b])
			for a := 0; a < 6; a++ {
				v[(6*a+b)*vs+k] = col[a]
			}
		}
	}
}

// cvBT1 is Bᵀ times the vector (d0..d5).
func cvBT1(d0, d1, d2, d3, d4, d5 float32) [6]float32 {
	return [6]float32{
		4*d0 - 5*d2 + d4,
		(d3 + d4) - 4*(d1+d2),
		(d4 - d3) + 4*(d1-d2),
		(d4 - d2) + 2*(d3-d1),
		(d4 - d2) - 2*(d3-d1),
		4*d1 - 5*d3 + d5,
	}
}

// winoOutGeneric is the F(4×4,3×3) output transform of n ≥ 1 horizontally
// adjacent tiles: tile k reads Y[ξ] = y[ξ*ys+k] (ξ = 6a+b) and writes the
// 4×4 block o[r*ld+4k+c] = (Aᵀ Y A)[r][c] + bias:
//
//	for k < n: for r, c < 4:
//		o[r*ld+4k+c] = bias + sum_{a,b} AT[r][a] * y[(6a+b)*ys+k] * AT[c][b]
//
// computed as columns first (Aᵀ Y), then rows.
func winoOutGeneric(y []float32, ys, n int, bias float32, o []float32, ld int) {
	if n < 1 || ld < 4*n || len(o) < 3*ld+4*n || ys < n || len(y) < 35*ys+n {
		panic(errConvTile)
	}
	for k := 0; k < n; k++ {
		var t [4][6]float32 // t[r][b] = (Aᵀ Y)[r][b]
		for b := 0; b < 6; b++ {
			col := cvAT1(y[b*ys+k], y[(6+b)*ys+k], y[(12+b)*ys+k], y[(18+b)*ys+k], y[(24+b)*ys+k], y[(30+b)*ys+k])
			for r := 0; r < 4; r++ {
				t[r][b] = col[r]
			}
		}
		for r := 0; r < 4; r++ {
			row := cvAT1(t[r][0], t[r][1], t[r][2], t[r][3], t[r][4], t[r][5])
			dst := o[r*ld+4*k : r*ld+4*k+4]
			for c := range dst {
				dst[c] = row[c] + bias
			}
		}
	}
}

// cvAT1 is Aᵀ times the vector (m0..m5).
func cvAT1(m0, m1, m2, m3, m4, m5 float32) [4]float32 {
	a, b := m1+m2, m1-m2
	c, d := m3+m4, m3-m4
	return [4]float32{
		m0 + a + c,
		b + 2*d,
		a + 4*c,
		(b + 8*d) + m5,
	}
}

// winoFiltGeneric is the F(4×4,3×3) filter transform U = G g Gᵀ of eight
// 3×3 filters (lanes j < 8) stored tap-major, g[kh][kw] = w[(3kh+kw)*ldw+j]
// (ldw may be below 8: lanes past it read the next tap, and their outputs
// are garbage the caller overwrites),
// into u[ξ*us+j] for ξ = 6a+b < 36, in float32 with G applied in its
// factored form (the operations of the assembly twins):
//
//	t0 = x/4; a = -(x+z)/6; t1 = a - y/6; t2 = a + y/6
//	b = x/24 + z/6; t3 = b + y/12; t4 = b - y/12; t5 = z
//
// down each column (x, y, z) = g[0..2][kw], then along each row of t.
func winoFiltGeneric(g *[9][8]float32, u []float32, us int) {
	if len(u) < 35*us+8 {
		panic(errConvTile)
	}
	var t [6][3][8]float32
	for kw := 0; kw < 3; kw++ {
		for j := 0; j < 8; j++ {
			o := winoFilt1(g[kw][j], g[3+kw][j], g[6+kw][j])
			for i := 0; i < 6; i++ {
				t[i][kw][j] = o[i]
			}
		}
	}
	for i := 0; i < 6; i++ {
		for j := 0; j < 8; j++ {
			o := winoFilt1(t[i][0][j], t[i][1][j], t[i][2][j])
			for b := 0; b < 6; b++ {
				u[(6*i+b)*us+j] = o[b]
			}
		}
	}
}

// winoFilt1 applies G in its factored form to one column (x, y, z).
func winoFilt1(x, y, z float32) [6]float32 {
	const c4, c6, c24, c12 = float32(1.0 / 4), float32(1.0 / 6), float32(1.0 / 24), float32(1.0 / 12)
	a := (x + z) * -c6
	b := x*c24 + z*c6
	return [6]float32{x * c4, a - y*c6, a + y*c6, b + y*c12, b - y*c12, z}
}

// winoFiltOK reports whether n groups of the filter transform stay inside
// w (length lw) and u (length lu).
func winoFiltOK(lw, ldw, lu, us, n, wstep, ustep int) bool {
	if n <= 0 {
		return n == 0
	}
	return ldw >= 1 && us >= 8 && wstep >= 0 && ustep >= 0 &&
		lw >= (n-1)*wstep+8*ldw+8 && lu >= (n-1)*ustep+35*us+8
}

// winoFiltHGeneric is winoFiltGeneric for n groups of float16 weights.
func winoFiltHGeneric(w []uint16, ldw int, u []float32, us, n, wstep, ustep int) {
	if !winoFiltOK(len(w), ldw, len(u), us, n, wstep, ustep) {
		panic(errConvTile)
	}
	var g [9][8]float32
	for i := 0; i < n; i++ {
		wi := w[i*wstep:]
		for k := range g {
			h2fGeneric(g[k][:], wi[k*ldw:k*ldw+8])
		}
		winoFiltGeneric(&g, u[i*ustep:], us)
	}
}

// winoFiltFGeneric is winoFiltGeneric for n groups of float32 weights.
func winoFiltFGeneric(w []float32, ldw int, u []float32, us, n, wstep, ustep int) {
	if !winoFiltOK(len(w), ldw, len(u), us, n, wstep, ustep) {
		panic(errConvTile)
	}
	var g [9][8]float32
	for i := 0; i < n; i++ {
		wi := w[i*wstep:]
		for k := range g {
			copy(g[k][:], wi[k*ldw:k*ldw+8])
		}
		winoFiltGeneric(&g, u[i*ustep:], us)
	}
}
