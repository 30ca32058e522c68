package kernels

// winoGeneric holds the pure-Go Winograd transforms (the oracle for the
// assembly ones).
var winoGeneric = winoImpl{in: winoInGeneric, out: winoOutGeneric}

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
