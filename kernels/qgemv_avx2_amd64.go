//go:build !noasm && !purego && gc

package kernels

// qkI8AVX2 is qkI8Generic on the argument block p (see qkI8Args), with the
// products summed by VPMADDUBSW/VPMADDWD: for each group of 8 columns and
// each block, the 16 low and 16 high nibbles of columns c and c+4 are
// unpacked into one vector, multiplied with the permuted activations and
// summed in int16 lanes over the sub-blocks, widened to int32 and reduced
// across lanes with VPHADDD, giving the exact s of all 8 columns in one
// vector; then acc += float32(s) * (sa*ws) (VCVTDQ2PS, VMULPS, VMULPS,
// VADDPS, no FMA), the 8 scales fetched with one gather:
//
//	for g < groups, r < mp: for b < nb: acc[r][0:8] += float32(s[r][b][0:8]) * (sa[b,r] * ws[0:8,b])
//
//go:noescape
func qkI8AVX2(p *qkI8Args)

// qkF32AVX2 is the float kernel (see qkF32Job): codes widened with
// VPMOVZXBD, split into nibbles, converted with VCVTDQ2PS and multiplied
// into 8-lane sums with VFMADD231PS against the permuted activations:
//
//	for n < cols, r < m: for b < nb:
//		t = sum over the block of a*code (8 lanes, fused)
//		acc[r] += (t - zp*asum[b,r]) * scale[n,b] (fused)
//	c[r*ldc+n] = lane sum of acc[r]
//
//go:noescape
func qkF32AVX2(p *qkF32Args)
