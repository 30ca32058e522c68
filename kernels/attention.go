package kernels

import (
	"math"
)

// Fused attention: for each of Heads independent problems ((batch, head)
// pairs), Out = softmax(Scale·Q·Kᵀ + mask)·V with Q [Sq, D], K [Skv, D],
// V [Skv, Dv] and Out [Sq, Dv], computed flash-style: keys are visited in
// tiles with an online softmax (running maximum and sum per query), so at
// most one tile of scores exists per worker and the Sq×Skv matrix is never
// built.
//
// Two schedules share the numerics:
//
//   - Prefill (Sq ≥ impl.minSq): a task owns one head and a block of bq
//     queries. The queries lie along the vector lanes: the block of Q is
//     packed (transposed, scaled) once, each key tile's scores Sᵀ = K·Qᵀ come
//     from a register-blocked micro-kernel reading float32 K [Skv, D] in
//     place, the online softmax runs down the columns of Sᵀ (vertical max,
//     vectorised exp, vertical sums), and Oᵀ = Oᵀ·diag(alpha) + Vᵀ·P is the
//     same micro-kernel reading V in place with the rescale fused into its
//     store. A transposed or float16 K, and a float16 V, are packed to
//     float32 once per call (faPackKV) when a head has several query blocks.
//   - Decode (small Sq): a task owns one head and one query row; scores are
//     dot products along D (or, for a transposed K, a GEMV along the keys)
//     and the output row is accumulated as a GEMV over the V rows.
//
// float16 K and V are widened one tile at a time (F16C / AVX-512 / NEON
// FCVTL); Q may be float16 and Out float16 (rounded once, at the end).
//
// Masks: an additive float32 or boolean (false = masked) mask and an
// additive bias, both addressed as row (query) × key with a row stride that
// may be 0 (one row for every query, e.g. a key padding mask); a per-head
// key count (keys at or past Keys are masked) and a causal frontier (key j
// is visible to query i iff j ≤ i + CausalShift). Masked keys that a whole
// tile or a whole task never sees are skipped, not computed.
//
// A query row with no attendable key (every score -Inf, whether from the
// masks, Keys, the causal frontier or Skv = 0) yields a zero output row.
// This matches the ONNX Attention operator's reference (and
// onnx/ops_attention.go). Finite mask values such as -10000 are ordinary
// scores.
//
// Results are bit-identical for every thread count: tasks and tiles are
// fixed by the shape and the kernel set, and each output row is produced by
// one task in a fixed key order. Sets may differ in the last bits.

// AttentionMask is an optional additive (F32) or boolean (Bool, true =
// attend) mask. Element (query i, key j) of head p is at
// Off + i*LD + j, where Off is that head's offset from Attention.Head; LD 0
// applies one row to every query. Rows are read for keys j < Keys of the
// head only. At most one of F32 and Bool is set.
type AttentionMask struct {
	F32  []float32
	Bool []bool
	LD   int
}

func (m *AttentionMask) set() bool { return m.F32 != nil || m.Bool != nil }

// AttentionHead gives the element offsets of one problem's matrices inside
// Attention.Q, K, V, Out, Mask and Bias, the number of attendable keys
// (keys j ≥ Keys are masked; 0 ≤ Keys ≤ Skv) and the causal shift (used
// when Attention.Causal is set).
type AttentionHead struct {
	Q, K, V, Out int
	Mask, Bias   int
	Keys         int
	CausalShift  int
}

// Attention describes one batched attention call (see Attend).
//
// Q, K, V and Out are read through their row strides (LD) at the offsets
// returned by Head, so callers can pass views such as a KV cache with spare
// room. K.Trans says K is stored transposed ([D, Skv], row stride LD). Q and
// Out may be float32 or float16; Q.Trans, V.Trans and Out.Trans are not
// allowed.
type Attention struct {
	Heads, Sq, Skv, D, Dv int
	Scale                 float32
	Q, K, V, Out          Operand
	Mask, Bias            AttentionMask
	Causal                bool
	Head                  func(p int) AttentionHead
}

// faImpl is one set's attention kernels and blocking.
type faImpl struct {
	r, l  int // micro-kernel rows (keys or Dv) x lanes (queries)
	w     int // vector width of expSum/dot/gemv (their n is a multiple of w)
	bq    int // queries per prefill task (a multiple of l)
	bk    int // keys per tile
	minSq int // prefill schedule from this many queries on
	// kern: acc[i][j] = sum_p a[i*ais+p*aps]*b[p*ldb+j] (i < r, j < l, p < kc
	// in order); c[i*ldc+j] = acc (scale nil) or c*scale[j] + acc.
	kern func(kc int, a []float32, ais, aps int, b []float32, ldb int, c []float32, ldc int, scale []float32)
	// softmax: the online-softmax update of a score tile s (rows x cols,
	// row stride lds, cols a multiple of w) per column (see faSoftmaxGeneric).
	softmax func(s []float32, lds, rows, cols int, m, l, alpha []float32)
	// expSum: dst[i] = exp(src[i]-sub), returns their sum (len(src) % w == 0).
	expSum func(dst, src []float32, sub float32) float32
	// dot: out[j] = sum_t q[t]*k[j*ldk+t] for j < len(out) (len(q) % w == 0).
	dot func(out, q, k []float32, ldk int)
	// gemv: c[j] = (add ? c[j]*alpha : 0) + sum_p a[p]*b[p*ldb+j] for
	// j < len(c) (a multiple of w), p < len(a) (>= 1).
	gemv func(c, a, b []float32, ldb int, add bool, alpha float32)
	// dotF16 and gemvF16 (optional) are dot and gemv reading float16 K or
	// B, widened in registers; without them decode widens a tile first.
	dotF16  func(out, q []float32, k []uint16, ldk int)
	gemvF16 func(c, a []float32, b []uint16, ldb int, add bool, alpha float32)
	// transpose: dst[j*ldd+i] = src[i*lds+j] * sv[j] (i < rows, j < cols).
	transpose func(dst []float32, ldd int, src []float32, lds int, sv []float32, rows, cols int)
	h2f       func(dst []float32, src []uint16)
}

// Attend computes a (see Attention) on up to threads goroutines.
func Attend(a *Attention, threads int) {
	faCheck(a)
	if a.Heads == 0 || a.Sq == 0 || a.Dv == 0 {
		return
	}
	if threads < 1 {
		threads = 1
	}
	im := active.Load().attn
	if a.Sq >= im.minSq {
		nb := (a.Sq + im.bq - 1) / im.bq
		// Small problems run on fewer goroutines.
		if w := a.Heads*a.Sq*a.Skv*(a.D+a.Dv)/(1<<16) + 1; threads > w {
			threads = w
		}
		var pk *faPacked
		if nb > 1 {
			pk = faPackKV(im, a, threads)
			defer pk.free()
		}
		nnParallel(threads, a.Heads*nb, func(t int) { faPrefill(im, a, pk, t/nb, (t%nb)*im.bq) })
		return
	}
	if w := a.Heads*a.Sq*a.Skv*(a.D+a.Dv)/(1<<14) + 1; threads > w {
		threads = w
	}
	nnParallel(threads, a.Heads*a.Sq, func(t int) { faDecode(im, a, t/a.Sq, t%a.Sq) })
}

const (
	errAttnShape = "kernels: attention dimensions must be >= 0"
	errAttnOp    = "kernels: attention operand has no data, a bad stride or is too short"
	errAttnMask  = "kernels: attention mask has both F32 and Bool, a bad stride or is too short"
	errAttnHead  = "kernels: attention head offsets out of range"
	errAttnCols  = "kernels: attention vector kernel length is not a multiple of the vector width"
)

func faOpLen(o Operand) int {
	if o.F32 != nil {
		return len(o.F32)
	}
	return len(o.F16)
}

// faCheckOp panics unless o holds an r x c matrix at offset off (stored
// transposed when o.Trans).
func faCheckOp(o Operand, off, r, c int) {
	if r == 0 || c == 0 {
		return
	}
	if o.Trans {
		r, c = c, r
	}
	if (o.F32 == nil) == (o.F16 == nil) || o.LD < c || off < 0 || off+(r-1)*o.LD+c > faOpLen(o) {
		panic(errAttnOp)
	}
}

func faCheckMask(m *AttentionMask, off, sq, skv int) {
	if !m.set() {
		return
	}
	n := len(m.F32)
	if m.Bool != nil {
		n = len(m.Bool)
		if m.F32 != nil {
			panic(errAttnMask)
		}
	}
	if m.LD < 0 || off < 0 || skv > 0 && off+(sq-1)*m.LD+skv > n {
		panic(errAttnMask)
	}
}

// faCheck validates the shapes, strides and every head's offsets.
func faCheck(a *Attention) {
	if a.Heads < 0 || a.Sq < 0 || a.Skv < 0 || a.D < 0 || a.Dv < 0 {
		panic(errAttnShape)
	}
	if a.Heads == 0 || a.Sq == 0 || a.Dv == 0 {
		return
	}
	if a.Q.Trans || a.V.Trans || a.Out.Trans || a.Head == nil {
		panic(errAttnOp)
	}
	for p := 0; p < a.Heads; p++ {
		h := a.Head(p)
		if h.Keys < 0 || h.Keys > a.Skv {
			panic(errAttnHead)
		}
		if a.Skv > 0 && a.D > 0 {
			faCheckOp(a.Q, h.Q, a.Sq, a.D)
			faCheckOp(a.K, h.K, a.Skv, a.D)
		}
		if a.Skv > 0 {
			faCheckOp(a.V, h.V, a.Skv, a.Dv)
		}
		faCheckOp(a.Out, h.Out, a.Sq, a.Dv)
		faCheckMask(&a.Mask, h.Mask, a.Sq, h.Keys) // keys >= Keys are not read
		faCheckMask(&a.Bias, h.Bias, a.Sq, h.Keys)
	}
}

// faKeyEnd is the end of the keys query i can attend before the masks:
// min(Keys, i+CausalShift+1) clamped to >= 0.
func faKeyEnd(a *Attention, h *AttentionHead, i int) int {
	e := h.Keys
	if a.Causal {
		e = min(e, i+h.CausalShift+1)
	}
	return max(e, 0)
}

var faNegInf = float32(math.Inf(-1))

// faTake cuts the first n floats off *s.
func faTake(s *[]float32, n int) []float32 {
	v := (*s)[:n:n]
	*s = (*s)[n:]
	return v
}

// faRound returns n rounded up to a multiple of m.
func faRound(n, m int) int { return (n + m - 1) / m * m }

// faWiden copies n elements of o starting at off into dst as float32.
func faWiden(im *faImpl, dst []float32, o Operand, off, n int) {
	if o.F32 != nil {
		copy(dst[:n], o.F32[off:off+n])
		return
	}
	im.h2f(dst[:n], o.F16[off:off+n])
}

// faWidenRows copies rows x cols elements of o (row stride ld, from off)
// into dst (row stride ldd) as float32, in one run when both are packed.
func faWidenRows(im *faImpl, dst []float32, ldd int, o Operand, off, ld, rows, cols int) {
	if ld == cols && ldd == cols {
		faWiden(im, dst, o, off, rows*cols)
		return
	}
	for i := 0; i < rows; i++ {
		faWiden(im, dst[i*ldd:i*ldd+cols], o, off+i*ld, cols)
	}
}

// faStoreRow writes src (float32) to row i of a's output.
func faStoreRow(a *Attention, h *AttentionHead, i int, src []float32) {
	off := h.Out + i*a.Out.LD
	if a.Out.F32 != nil {
		copy(a.Out.F32[off:off+len(src)], src)
		return
	}
	active.Load().nk.f2h(a.Out.F16[off:off+len(src)], src)
}

// faPacked holds K and/or V of every head as float32, packed once per
// call when the prefill tasks of a head would otherwise each copy them: K
// stored transposed or as float16 becomes [roundup(Skv, r)][D] (zero rows
// after Skv), V as float16 or with Dv not a multiple of r becomes
// [Skv][roundup(Dv, r)] (zero columns after Dv). nil fields are read in place.
type faPacked struct {
	k, v       *[]float32
	kLen, vLen int // floats per head
}

func (pk *faPacked) free() {
	if pk == nil {
		return
	}
	if pk.k != nil {
		nnPutBuf(pk.k)
	}
	if pk.v != nil {
		nnPutBuf(pk.v)
	}
}

// faPackKV packs K and V where faPacked says it pays (nil if neither).
func faPackKV(im *faImpl, a *Attention, threads int) *faPacked {
	R, D, Dv, Skv := im.r, a.D, a.Dv, a.Skv
	needK := (a.K.Trans || a.K.F16 != nil) && D > 0 && Skv > 0
	dvp := faRound(Dv, R)
	needV := (a.V.F16 != nil || dvp != Dv) && Skv > 0
	if !needK && !needV {
		return nil
	}
	pk := &faPacked{}
	if needK {
		pk.kLen = faRound(Skv, R) * D
		pk.k = nnGetBuf(a.Heads * pk.kLen)
	}
	if needV {
		pk.vLen = Skv * dvp
		pk.v = nnGetBuf(a.Heads * pk.vLen)
	}
	nnParallel(threads, a.Heads, func(p int) {
		h := a.Head(p)
		if needK {
			dst := (*pk.k)[p*pk.kLen : (p+1)*pk.kLen]
			clear(dst[Skv*D:])
			if !a.K.Trans {
				faWidenRows(im, dst, D, a.K, h.K, a.K.LD, Skv, D)
			} else {
				// Transpose [D][Skv] in blocks of 64 keys (L1-sized).
				var tmp [64]float32
				for j0 := 0; j0 < Skv; j0 += len(tmp) {
					n := min(len(tmp), Skv-j0)
					for t := 0; t < D; t++ {
						faWiden(im, tmp[:n], a.K, h.K+t*a.K.LD+j0, n)
						for j, x := range tmp[:n] {
							dst[(j0+j)*D+t] = x
						}
					}
				}
			}
		}
		if needV {
			dst := (*pk.v)[p*pk.vLen : (p+1)*pk.vLen]
			faWidenRows(im, dst, dvp, a.V, h.V, a.V.LD, Skv, Dv)
			if dvp > Dv {
				for j := 0; j < Skv; j++ {
					clear(dst[j*dvp+Dv : (j+1)*dvp])
				}
			}
		}
	})
	return pk
}

// faPrefill computes queries [q0, q0+bq) of head p with queries along the
// vector lanes (see the package comment above); pk, if not nil, holds
// packed K and/or V.
func faPrefill(im *faImpl, a *Attention, pk *faPacked, p, q0 int) {
	h := a.Head(p)
	R, L := im.r, im.l
	mq := min(im.bq, a.Sq-q0)
	mqp := faRound(mq, L)
	D, Dv := a.D, a.Dv
	dvp := faRound(Dv, R)
	bk := im.bk
	// Keys any query of the block can see.
	kend := faKeyEnd(a, &h, q0+mq-1)
	// Scratch: Qp [D][mqp], Sᵀ [bk][mqp], Oᵀ [dvp][mqp], m, l, alpha
	// [mqp], a K tile [bk][D] (or [D][bk]) and a V tile [bk][dvp].
	kTile := faRound(bk, R) * max(D, 1)
	need := D*mqp + faRound(bk, R)*mqp + dvp*mqp + 3*mqp + kTile + bk*dvp + max(mqp, 2*D, Dv)
	buf := nnGetBuf(need)
	defer nnPutBuf(buf)
	s := *buf
	qp, st, ot := faTake(&s, D*mqp), faTake(&s, faRound(bk, R)*mqp), faTake(&s, dvp*mqp)
	mx, sum, alpha := faTake(&s, mqp), faTake(&s, mqp), faTake(&s, mqp)
	ks, vs, row := faTake(&s, kTile), faTake(&s, bk*dvp), faTake(&s, max(mqp, 2*D, Dv))
	clear(ot)
	clear(sum)
	for i := range mx {
		mx[i] = faNegInf
	}
	// Qp[d][q] = Scale * Q[q0+q][d], zero for the padded lanes.
	if kend > 0 && D > 0 {
		faPackQ(im, a, qp, row, h.Q+q0*a.Q.LD, mq, mqp)
	}
	for j0 := 0; j0 < kend; j0 += bk {
		nk := min(bk, kend-j0)
		nkp := faRound(nk, R)
		// Scores Sᵀ[k][q] for keys j0..j0+nk (rows padded to R).
		if D == 0 {
			clear(st[:nkp*mqp])
		} else {
			var ka []float32
			var ais, aps int
			if pk != nil && pk.k != nil {
				ka, ais, aps = (*pk.k)[p*pk.kLen+j0*D:(p+1)*pk.kLen], D, 1
			} else {
				ka, ais, aps = faKTile(im, a, &h, ks, j0, nk, nkp)
			}
			for c0 := 0; c0 < mqp; c0 += L {
				for r0 := 0; r0 < nkp; r0 += R {
					im.kern(D, ka[r0*ais:], ais, aps, qp[c0:], mqp, st[r0*mqp+c0:], mqp, nil)
				}
			}
		}
		faMaskTile(a, &h, st, mqp, q0, mq, j0, nk)
		im.softmax(st, mqp, nk, mqp, mx, sum, alpha)
		// Oᵀ = Oᵀ·diag(alpha) + Vᵀ·P.
		var va []float32
		var vais, vaps int
		if pk != nil && pk.v != nil {
			va, vais, vaps = (*pk.v)[p*pk.vLen+j0*dvp:(p+1)*pk.vLen], 1, dvp
		} else {
			va, vais, vaps = faVTile(im, a, &h, vs, j0, nk, dvp)
		}
		for c0 := 0; c0 < mqp; c0 += L {
			for r0 := 0; r0 < dvp; r0 += R {
				im.kern(nk, va[r0*vais:], vais, vaps, st[c0:], mqp, ot[r0*mqp+c0:], mqp, alpha[c0:])
			}
		}
	}
	// Out[q][:] = Oᵀ[:][q] / l[q]; zero where no key was attendable.
	for q := range mq {
		inv := float32(0)
		if l := sum[q]; kend > 0 && l != 0 {
			inv = 1 / l
		}
		sum[q] = inv
	}
	if a.Out.F32 != nil {
		im.transpose(a.Out.F32[h.Out+q0*a.Out.LD:], a.Out.LD, ot, mqp, sum, Dv, mq)
		return
	}
	for q := 0; q < mq; q++ {
		o := row[:Dv]
		for d := range o {
			o[d] = ot[d*mqp+q] * sum[q]
		}
		faStoreRow(a, &h, q0+q, o)
	}
}

// faPackQ sets qp[d*mqp+q] = Scale*Q[q][d] for the mq query rows at off
// (rows of D, stride Q.LD) and zeroes the lanes mq..mqp; row (D floats)
// is scratch.
func faPackQ(im *faImpl, a *Attention, qp, row []float32, off, mq, mqp int) {
	D, ld := a.D, a.Q.LD
	sv := row[:D]
	for d := range sv {
		sv[d] = a.Scale
	}
	if a.Q.F32 != nil {
		im.transpose(qp, mqp, a.Q.F32[off:], ld, sv, mq, D)
	} else {
		tmp := row[D : 2*D]
		for q := 0; q < mq; q++ {
			faWiden(im, tmp, a.Q, off+q*ld, D)
			for d, v := range tmp {
				qp[d*mqp+q] = a.Scale * v
			}
		}
	}
	if mq < mqp {
		for d := 0; d < D; d++ {
			clear(qp[d*mqp+mq : (d+1)*mqp])
		}
	}
}

// faKTile returns the A operand of the score micro-kernel for keys
// [j0, j0+nk): element (key i, dim t) at k[i*ais+t*aps], valid for i < nkp.
// float32 K is read in place when its rows need no padding; otherwise the
// tile is copied (widened) into ks with zero rows up to nkp.
func faKTile(im *faImpl, a *Attention, h *AttentionHead, ks []float32, j0, nk, nkp int) ([]float32, int, int) {
	D, ld := a.D, a.K.LD
	if a.K.Trans { // stored [D][Skv]: copy D runs of nk keys into [D][nkp]
		for t := 0; t < D; t++ {
			d := ks[t*nkp : (t+1)*nkp]
			faWiden(im, d, a.K, h.K+t*ld+j0, nk)
			clear(d[nk:])
		}
		return ks, 1, nkp
	}
	if a.K.F32 != nil && nk == nkp {
		return a.K.F32[h.K+j0*ld:], ld, 1
	}
	faWidenRows(im, ks, D, a.K, h.K+j0*ld, ld, nk, D)
	clear(ks[nk*D : nkp*D])
	return ks, D, 1
}

// faVTile returns the A operand of the output micro-kernel for keys
// [j0, j0+nk): element (dim i, key t) at v[i*ais+t*aps], valid for i < dvp.
func faVTile(im *faImpl, a *Attention, h *AttentionHead, vs []float32, j0, nk, dvp int) ([]float32, int, int) {
	Dv, ld := a.Dv, a.V.LD
	if a.V.F32 != nil && Dv == dvp {
		return a.V.F32[h.V+j0*ld:], 1, ld
	}
	faWidenRows(im, vs, dvp, a.V, h.V+j0*ld, ld, nk, Dv)
	if dvp > Dv {
		for t := 0; t < nk; t++ {
			clear(vs[t*dvp+Dv : (t+1)*dvp])
		}
	}
	return vs, 1, dvp
}

// faMaskTile applies the masks and the causal frontier to the score tile
// Sᵀ (keys [j0, j0+nk) x queries [q0, q0+mq), row stride lds).
func faMaskTile(a *Attention, h *AttentionHead, st []float32, lds, q0, mq, j0, nk int) {
	for _, mk := range []struct {
		m   *AttentionMask
		off int
	}{{&a.Mask, h.Mask}, {&a.Bias, h.Bias}} {
		m := mk.m
		if !m.set() {
			continue
		}
		base := mk.off + j0
		if m.LD == 0 { // one row for every query: add per key along a row
			for k := 0; k < nk; k++ {
				r := st[k*lds : k*lds+mq]
				if m.Bool != nil {
					if !m.Bool[base+k] {
						for q := range r {
							r[q] = faNegInf
						}
					}
					continue
				}
				v := m.F32[base+k]
				for q := range r {
					r[q] += v
				}
			}
			continue
		}
		for q := 0; q < mq; q++ {
			o := base + (q0+q)*m.LD
			if m.Bool != nil {
				for k, ok := range m.Bool[o : o+nk] {
					if !ok {
						st[k*lds+q] = faNegInf
					}
				}
				continue
			}
			for k, v := range m.F32[o : o+nk] {
				st[k*lds+q] += v
			}
		}
	}
	if !a.Causal && h.Keys >= j0+nk {
		return
	}
	for q := 0; q < mq; q++ {
		for k := max(faKeyEnd(a, h, q0+q)-j0, 0); k < nk; k++ {
			st[k*lds+q] = faNegInf
		}
	}
}

// faDecode computes query row i of head p with the dimensions along the
// vector lanes (see the package comment above).
func faDecode(im *faImpl, a *Attention, p, i int) {
	h := a.Head(p)
	D, Dv, W := a.D, a.Dv, im.w
	bk := im.bk
	kend := faKeyEnd(a, &h, i)
	dw := D &^ (W - 1)
	dvw := Dv &^ (W - 1)
	need := D + Dv + bk + bk*max(D, Dv)
	buf := nnGetBuf(need)
	defer nnPutBuf(buf)
	s := *buf
	q, o, sc, tile := faTake(&s, D), faTake(&s, Dv), faTake(&s, bk), faTake(&s, bk*max(D, Dv))
	clear(o)
	if kend == 0 {
		faStoreRow(a, &h, i, o)
		return
	}
	if D > 0 {
		faWiden(im, q, a.Q, h.Q+i*a.Q.LD, D)
		for t := range q {
			q[t] *= a.Scale
		}
	}
	m, l := faNegInf, float32(0)
	for j0 := 0; j0 < kend; j0 += bk {
		nk := min(bk, kend-j0)
		s := sc[:nk]
		faDecodeScores(im, a, &h, q, s, tile, j0, dw)
		faMaskRow(a, &h, i, j0, s)
		// Online softmax for this row.
		mt := m
		for _, v := range s {
			if v > mt {
				mt = v
			}
		}
		use := mt
		if mt == faNegInf {
			use = 0
		}
		al := Exp32(m - use)
		nw := nk &^ (W - 1)
		e := im.expSum(s[:nw], s[:nw], use)
		for j := nw; j < nk; j++ {
			s[j] = faExp(s[j] - use)
			e += s[j]
		}
		l = l*al + e
		m = mt
		// o = o*al + sum_j s[j]*V[j0+j][:]
		if a.V.F16 != nil && im.gemvF16 != nil && dvw == Dv {
			im.gemvF16(o, s, a.V.F16[h.V+j0*a.V.LD:], a.V.LD, true, al)
			continue
		}
		vb, ldv := faDecodeV(im, a, &h, tile, j0, nk)
		if dvw > 0 {
			im.gemv(o[:dvw], s, vb, ldv, true, al)
		}
		for d := dvw; d < Dv; d++ {
			acc := float32(0)
			for j, pj := range s {
				acc += pj * vb[j*ldv+d]
			}
			o[d] = o[d]*al + acc
		}
	}
	if l != 0 {
		inv := 1 / l
		for d := range o {
			o[d] *= inv
		}
	} else {
		clear(o)
	}
	faStoreRow(a, &h, i, o)
}

// faExp is the scalar exp of the attention kernels: Exp32 with results
// below the smallest normal flushed to zero (as the vector kernels do).
func faExp(x float32) float32 {
	if x < faExpLo {
		return 0
	}
	return Exp32(x)
}

// faExpLo is the smallest argument whose exp is a normal float32 result of
// the vector kernels (2^-126 scaling); below it they return 0.
const faExpLo = -87.33654

// faDecodeScores sets s[j] = q·K[j0+j] (q already scaled).
func faDecodeScores(im *faImpl, a *Attention, h *AttentionHead, q, s, tile []float32, j0, dw int) {
	D, ld, nk := a.D, a.K.LD, len(s)
	if D == 0 {
		clear(s)
		return
	}
	if a.K.Trans { // s = sum_t q[t] * Kt[t][j0:j0+nk]: a GEMV along the keys
		var kb []float32
		ldk := ld
		nw := nk &^ (im.w - 1)
		if a.K.F16 != nil && im.gemvF16 != nil && nw == nk {
			im.gemvF16(s, q, a.K.F16[h.K+j0:], ld, false, 0)
			return
		}
		if a.K.F32 != nil {
			kb = a.K.F32[h.K+j0:]
		} else {
			for t := 0; t < D; t++ {
				faWiden(im, tile[t*nk:(t+1)*nk], a.K, h.K+t*ld+j0, nk)
			}
			kb, ldk = tile, nk
		}
		if nw > 0 {
			im.gemv(s[:nw], q, kb, ldk, false, 0)
		}
		for j := nw; j < nk; j++ {
			acc := float32(0)
			for t, x := range q {
				acc += x * kb[t*ldk+j]
			}
			s[j] = acc
		}
		return
	}
	if a.K.F16 != nil && im.dotF16 != nil && dw == D {
		im.dotF16(s, q, a.K.F16[h.K+j0*ld:], ld)
		return
	}
	kb, ldk := a.K.F32, ld
	if kb != nil {
		kb = kb[h.K+j0*ld:]
	} else {
		faWidenRows(im, tile, D, a.K, h.K+j0*ld, ld, nk, D)
		kb, ldk = tile, D
	}
	if dw > 0 {
		im.dot(s, q[:dw], kb, ldk)
	} else {
		clear(s)
	}
	for t := dw; t < D; t++ {
		for j := range s {
			s[j] += q[t] * kb[j*ldk+t]
		}
	}
}

// faDecodeV returns V rows [j0, j0+nk) as float32 with their row stride.
func faDecodeV(im *faImpl, a *Attention, h *AttentionHead, tile []float32, j0, nk int) ([]float32, int) {
	if a.V.F32 != nil {
		return a.V.F32[h.V+j0*a.V.LD:], a.V.LD
	}
	faWidenRows(im, tile, a.Dv, a.V, h.V+j0*a.V.LD, a.V.LD, nk, a.Dv)
	return tile, a.Dv
}

// faMaskRow applies the masks to the scores s of query i, keys j0...
func faMaskRow(a *Attention, h *AttentionHead, i, j0 int, s []float32) {
	for _, mk := range []struct {
		m   *AttentionMask
		off int
	}{{&a.Mask, h.Mask}, {&a.Bias, h.Bias}} {
		m := mk.m
		if !m.set() {
			continue
		}
		o := mk.off + i*m.LD + j0
		if m.Bool != nil {
			for j, ok := range m.Bool[o : o+len(s)] {
				if !ok {
					s[j] = faNegInf
				}
			}
			continue
		}
		for j, v := range m.F32[o : o+len(s)] {
			s[j] += v
		}
	}
}
