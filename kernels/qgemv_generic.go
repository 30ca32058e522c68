package kernels

// Data layouts and pure-Go twins of the 4-bit GEMV kernels.
//
// A 32-code sub-block of a weight row is 16 bytes; byte q holds code 2q in
// its low nibble and code 2q+1 in its high nibble. The kernels split a
// sub-block into its 16 low nibbles (even codes) and 16 high nibbles (odd
// codes) with one AND and one shift, so the activations are stored permuted
// to match, once per call (qkPrepI8, qkPrepF32), instead of shuffling the
// weights.

// qkI8Job is one call of an int8 kernel: cols consecutive columns (column
// n of the job is weight row n, w[n*rowBytes:]), mp = 1 or 2 rows. The
// kernels hold 8 consecutive blocks (a group) of one column in the 8 lanes
// of a vector, in the lane order qkLanes (block 8g+qkLanes[l] in lane l,
// the order a VPHADDD reduction leaves them in). Per group g the prepared
// activations are:
//
//	aq   for each block pair q < 4 (blocks 2q, 2q+1 of the group), each
//	     32-code unit u < sub and each row r, 64 bytes: the 16 even
//	     activations of block 2q, those of block 2q+1, then the 16 odd
//	     ones of both; blocks past nb are zero
//	asum per row, 8 lanes: the sum of the block's activations (times 8
//	     when zp is nil, the implicit zero point)
//	sa   per row, 8 lanes: the activation scale (0 past nb)
//
// wsF32 or wsF16 hold the scales from column 0 (nb per column), zp the
// packed 4-bit zero points from column 0 (zrow bytes per column) or nil.
// Per column and row: acc[lane] += float32(s) * float32(sa*ws) for each
// group (two roundings), s the exact sum of aq*(code - zp) over the block;
// c[r*ldc+n] = qgI8Sum of the lanes mapped back to blocks mod 8.
type qkI8Job struct {
	w                           []byte
	rowBytes, cols, nb, sub, mp int
	aq                          []int8
	asum                        []int32
	sa, wsF32                   []float32
	wsF16                       []uint16
	zp                          []byte
	zrow                        int
	c                           []float32
	ldc                         int
}

// qkLanes maps the lanes of a group vector to blocks of the group.
var qkLanes = [8]int{0, 2, 4, 6, 1, 3, 5, 7}

// Zero-point modes of qkF32Job.
const (
	qkZPNone  = iota // 2^(bits-1) = 8
	qkZPCodes        // packed 4-bit codes, zrow bytes per column
	qkZPF32          // float32, nb per column
	qkZPF16          // float16 bits, nb per column
)

// qkF32Job is one call of a float kernel: cols consecutive columns from
// weight row 0 of the job, m = 1..4 rows.
//
//	a    nb*sub sub-blocks; per sub-block and row 32 floats (row r at +32r):
//	     codes 0,2,..,14 | 1,3,..,15 | 16,18,..,30 | 17,19,..,31
//	asum nb blocks; per block and row 8 lane sums over the block of the
//	     four 8-float groups of a (for the zero point)
//
// Per column and row: t = sum over the block of a*code in 8 lanes, then
// acc += (t - zp*asum) * scale (8 lanes), c = the lane sum of acc.
type qkF32Job struct {
	w                          []byte
	rowBytes, cols, nb, sub, m int
	a, asum, wsF32             []float32
	wsF16                      []uint16
	zpMode                     int
	zpCodes                    []byte
	zpF32                      []float32
	zpF16                      []uint16
	zrow                       int
	c                          []float32
	ldc                        int
}

// qkPrepI8 writes the int8 activations of every row pair of qa (pair p
// covers rows 2p, 2p+1; the last pair may have one row) into aq, asum and
// sa, pair after pair, in the layout of qkI8Job. implicitZP multiplies asum
// by the implicit zero point 8.
func qkPrepI8(qa *QuantizedA, nb, sub int, implicitZP bool, aq []int8, asum []int32, sa []float32) {
	bs := qa.BlockSize
	m := qa.M
	ng := (nb + 7) / 8
	mul := int32(1)
	if implicitZP {
		mul = 8
	}
	for p := 0; p < (m+1)/2; p++ {
		mp := min(2, m-2*p)
		pq := aq[ng*256*sub*2*p:]
		ps := asum[ng*8*2*p:]
		pa := sa[ng*8*2*p:]
		for r := 0; r < mp; r++ {
			row := 2*p + r
			for g := 0; g < ng; g++ {
				for q := 0; q < 4; q++ {
					for u := 0; u < sub; u++ {
						d := pq[(((g*4+q)*sub+u)*mp+r)*64:][:64]
						for h := 0; h < 2; h++ {
							b := 8*g + 2*q + h
							if b >= nb {
								clear(d[16*h : 16*h+16])
								clear(d[32+16*h : 32+16*h+16])
								continue
							}
							s := qa.Q[(row*nb+b)*bs+u*32:][:32]
							for x := 0; x < 16; x++ {
								d[16*h+x], d[32+16*h+x] = s[2*x], s[2*x+1]
							}
						}
					}
				}
				for l, j := range qkLanes {
					b := 8*g + j
					var sum int32
					var sc float32
					if b < nb {
						for _, v := range qa.Q[(row*nb+b)*bs : (row*nb+b+1)*bs] {
							sum += int32(v)
						}
						sc = qa.Scale[row*nb+b]
					}
					ps[(g*mp+r)*8+l] = sum * mul
					pa[(g*mp+r)*8+l] = sc
				}
			}
		}
	}
}

// qkPrepF32 writes the permuted float activations of m rows (see qkF32Job);
// elements past k are zero.
func qkPrepF32(m int, a []float32, lda, k, nb, sub int, ap, asum []float32) {
	for b := 0; b < nb; b++ {
		for r := 0; r < m; r++ {
			var s [8]float32
			for sb := 0; sb < sub; sb++ {
				k0 := (b*sub + sb) * 32
				d := ap[((b*sub+sb)*m+r)*32 : ((b*sub+sb)*m+r)*32+32]
				for e := 0; e < 32; e++ {
					v := float32(0)
					if k0+e < k {
						v = a[r*lda+k0+e]
					}
					d[(e/16)*16+(e%2)*8+(e%16)/2] = v
				}
				for l := range s {
					s[l] += (d[l] + d[8+l]) + (d[16+l] + d[24+l])
				}
			}
			copy(asum[(b*m+r)*8:], s[:])
		}
	}
}

// qkI8Generic is the pure-Go twin of the int8 kernels (same bits).
func qkI8Generic(j qkI8Job) {
	ng := (j.nb + 7) / 8
	for n := 0; n < j.cols; n++ {
		row := j.w[n*j.rowBytes:]
		for r := 0; r < j.mp; r++ {
			var acc [8]float32 // by block mod 8
			for g := 0; g < ng; g++ {
				for l, jb := range qkLanes {
					b := 8*g + jb
					if b >= j.nb {
						continue
					}
					q, h := jb/2, jb%2
					var s int32
					for u := 0; u < j.sub; u++ {
						codes := row[(b*j.sub+u)*16:][:16]
						d := j.aq[(((g*4+q)*j.sub+u)*j.mp+r)*64:]
						for x, v := range codes {
							s += int32(v&15)*int32(d[16*h+x]) + int32(v>>4)*int32(d[32+16*h+x])
						}
					}
					as := j.asum[(g*j.mp+r)*8+l]
					if j.zp != nil {
						as *= int32(j.zp[n*j.zrow+b/2]>>(4*(b&1))) & 15
					}
					var ws float32
					if j.wsF32 != nil {
						ws = j.wsF32[n*j.nb+b]
					} else {
						ws = nnH2F(j.wsF16[n*j.nb+b])
					}
					acc[jb] += qgI8Term(s-as, j.sa[(g*j.mp+r)*8+l], ws)
				}
			}
			j.c[r*j.ldc+n] = qgI8Sum(&acc)
		}
	}
}

// qkF32Generic is the pure-Go twin of the float kernels (the kernels fuse
// multiply-adds, so they agree within rounding, not bit for bit).
func qkF32Generic(j qkF32Job) {
	for n := 0; n < j.cols; n++ {
		row := j.w[n*j.rowBytes:]
		var acc [4][8]float32
		for b := 0; b < j.nb; b++ {
			var t [4][8]float32
			for sb := 0; sb < j.sub; sb++ {
				codes := row[(b*j.sub+sb)*16 : (b*j.sub+sb)*16+16]
				for r := 0; r < j.m; r++ {
					d := j.a[((b*j.sub+sb)*j.m+r)*32:]
					for l := 0; l < 8; l++ {
						t[r][l] += float32(codes[l]&15) * d[l]
						t[r][l] += float32(codes[l]>>4) * d[8+l]
						t[r][l] += float32(codes[8+l]&15) * d[16+l]
						t[r][l] += float32(codes[8+l]>>4) * d[24+l]
					}
				}
			}
			var sc, zp float32
			if j.wsF32 != nil {
				sc = j.wsF32[n*j.nb+b]
			} else {
				sc = nnH2F(j.wsF16[n*j.nb+b])
			}
			switch j.zpMode {
			case qkZPNone:
				zp = 8
			case qkZPCodes:
				zp = float32(j.zpCodes[n*j.zrow+b/2] >> (4 * (b & 1)) & 15)
			case qkZPF32:
				zp = j.zpF32[n*j.nb+b]
			case qkZPF16:
				zp = nnH2F(j.zpF16[n*j.nb+b])
			}
			for r := 0; r < j.m; r++ {
				s := j.asum[(b*j.m+r)*8:]
				for l := 0; l < 8; l++ {
					acc[r][l] += (t[r][l] - zp*s[l]) * sc
				}
			}
		}
		for r := 0; r < j.m; r++ {
			x := &acc[r]
			u0, u1, u2, u3 := x[0]+x[4], x[1]+x[5], x[2]+x[6], x[3]+x[7]
			j.c[r*j.ldc+n] = (u0 + u2) + (u1 + u3)
		}
	}
}
