package kernels

// faGeneric is the pure-Go attention set (the oracle of the assembly sets).
var faGeneric = faImpl{
	r: 4, l: 8, w: 1, bq: 32, bk: 128, minSq: 4,
	kern:      faKern4x8Generic,
	softmax:   faSoftmaxGeneric,
	expSum:    faExpSumGeneric,
	dot:       faDotGeneric,
	gemv:      faGemvGeneric,
	transpose: faTransposeGeneric,
	h2f:       h2fGeneric,
}

// faCheckKern panics unless the operands of an r x l attention micro-kernel
// call are long enough.
func faCheckKern(r, l, kc int, a []float32, ais, aps int, b []float32, ldb int, c []float32, ldc int, scale []float32) {
	if kc < 1 {
		panic(errBadKC)
	}
	if ais < 0 || aps < 0 || len(a) < (r-1)*ais+(kc-1)*aps+1 {
		panic(errShortA)
	}
	if ldb < l || len(b) < (kc-1)*ldb+l {
		panic(errShortB)
	}
	if ldc < l || len(c) < (r-1)*ldc+l {
		panic(errShortC)
	}
	if scale != nil && len(scale) < l {
		panic(errShortC)
	}
}

// faKernGeneric is the reference attention micro-kernel for any r x l tile
// (the pure-Go twin of every assembly version):
//
//	for i < r, j < l:
//		acc := float32(0)
//		for p := 0; p < kc; p++ { acc += a[i*ais+p*aps] * b[p*ldb+j] }
//		if scale == nil { c[i*ldc+j] = acc } else { c[i*ldc+j] = c[i*ldc+j]*scale[j] + acc }
func faKernGeneric(r, l, kc int, a []float32, ais, aps int, b []float32, ldb int, c []float32, ldc int, scale []float32) {
	faCheckKern(r, l, kc, a, ais, aps, b, ldb, c, ldc, scale)
	var acc [maxMR * maxNR]float32
	for p := 0; p < kc; p++ {
		bp := b[p*ldb : p*ldb+l]
		for i := 0; i < r; i++ {
			av := a[i*ais+p*aps]
			row := acc[i*l : i*l+l]
			for j, bv := range bp {
				row[j] += av * bv
			}
		}
	}
	for i := 0; i < r; i++ {
		cr := c[i*ldc : i*ldc+l]
		ar := acc[i*l : i*l+l]
		if scale == nil {
			copy(cr, ar)
			continue
		}
		for j := range cr {
			cr[j] = cr[j]*scale[j] + ar[j]
		}
	}
}

// faKern4x8Generic is faKernGeneric for the generic set's 4x8 tile.
func faKern4x8Generic(kc int, a []float32, ais, aps int, b []float32, ldb int, c []float32, ldc int, scale []float32) {
	faKernGeneric(4, 8, kc, a, ais, aps, b, ldb, c, ldc, scale)
}

// faSoftmaxGeneric is the online-softmax step on a score tile s (rows x
// cols, row stride lds), column by column (one column per query):
//
//	mx := max(m[j], s[0..rows-1][j])      // -Inf if every score is -Inf
//	use := mx, or 0 when mx is -Inf       // keeps exp(-Inf - use) = 0
//	alpha[j] = exp(m[j] - use)            // rescale of the old sum/output
//	s[i][j] = exp(s[i][j] - use)          // probabilities (unnormalised)
//	l[j] = l[j]*alpha[j] + sum_i s[i][j]  // i in order
//	m[j] = mx
func faSoftmaxGeneric(s []float32, lds, rows, cols int, m, l, alpha []float32) {
	faCheckSoftmax(s, lds, rows, cols, m, l, alpha)
	for j := 0; j < cols; j++ {
		mx := m[j]
		for i := 0; i < rows; i++ {
			if v := s[i*lds+j]; v > mx {
				mx = v
			}
		}
		use := mx
		if mx == faNegInf {
			use = 0
		}
		al := faExp(m[j] - use)
		var sum float32
		for i := 0; i < rows; i++ {
			e := faExp(s[i*lds+j] - use)
			s[i*lds+j] = e
			sum += e
		}
		alpha[j] = al
		l[j] = l[j]*al + sum
		m[j] = mx
	}
}

func faCheckSoftmax(s []float32, lds, rows, cols int, m, l, alpha []float32) {
	if rows < 1 || cols < 0 || lds < cols || len(s) < (rows-1)*lds+cols {
		panic(errShortA)
	}
	if len(m) < cols || len(l) < cols || len(alpha) < cols {
		panic(errShortC)
	}
}

// faExpSumGeneric sets dst[i] = exp(src[i]-sub) (faExp) and returns the sum
// in index order.
func faExpSumGeneric(dst, src []float32, sub float32) float32 {
	if len(dst) < len(src) {
		panic(errShortC)
	}
	var sum float32
	for i, v := range src {
		e := faExp(v - sub)
		dst[i] = e
		sum += e
	}
	return sum
}

// faDotGeneric sets out[j] = sum_t q[t]*k[j*ldk+t] (t in order).
func faDotGeneric(out, q, k []float32, ldk int) {
	faCheckDot(out, q, k, ldk)
	for j := range out {
		kr := k[j*ldk : j*ldk+len(q)]
		var acc float32
		for t, x := range q {
			acc += x * kr[t]
		}
		out[j] = acc
	}
}

func faCheckDot(out, q, k []float32, ldk int) {
	if len(out) > 0 && (ldk < len(q) || len(k) < (len(out)-1)*ldk+len(q)) {
		panic(errShortB)
	}
}

// faGemvGeneric sets c[j] = (add ? c[j]*alpha : 0) + sum_p a[p]*b[p*ldb+j]
// (p in order).
func faGemvGeneric(c, a, b []float32, ldb int, add bool, alpha float32) {
	faCheckGemv(c, a, b, ldb)
	for j := range c {
		var acc float32
		for p, x := range a {
			acc += x * b[p*ldb+j]
		}
		if add {
			c[j] = c[j]*alpha + acc
		} else {
			c[j] = acc
		}
	}
}

func faCheckGemv(c, a, b []float32, ldb int) {
	if len(a) < 1 {
		panic(errBadKC)
	}
	if len(c) > 0 && (ldb < len(c) || len(b) < (len(a)-1)*ldb+len(c)) {
		panic(errShortB)
	}
}

// faDotF16Generic is faDotGeneric on float16 K (the twin of the dotF16
// kernels): each K row is widened, then dotted in t order.
func faDotF16Generic(out, q []float32, k []uint16, ldk int) {
	if len(out) > 0 && (ldk < len(q) || len(k) < (len(out)-1)*ldk+len(q)) {
		panic(errShortB)
	}
	for j := range out {
		var acc float32
		for t, x := range q {
			acc += x * nnH2F(k[j*ldk+t])
		}
		out[j] = acc
	}
}

// faGemvF16Generic is faGemvGeneric on float16 B (the twin of the gemvF16
// kernels).
func faGemvF16Generic(c, a []float32, b []uint16, ldb int, add bool, alpha float32) {
	if len(a) < 1 {
		panic(errBadKC)
	}
	if len(c) > 0 && (ldb < len(c) || len(b) < (len(a)-1)*ldb+len(c)) {
		panic(errShortB)
	}
	for j := range c {
		var acc float32
		for p, x := range a {
			acc += x * nnH2F(b[p*ldb+j])
		}
		if add {
			c[j] = c[j]*alpha + acc
		} else {
			c[j] = acc
		}
	}
}

func faCheckTranspose(dst []float32, ldd int, src []float32, lds int, sv []float32, rows, cols int) {
	if rows == 0 || cols == 0 {
		return
	}
	if lds < cols || len(src) < (rows-1)*lds+cols || len(sv) < cols {
		panic(errShortA)
	}
	if ldd < rows || len(dst) < (cols-1)*ldd+rows {
		panic(errShortC)
	}
}

// faTransposeGeneric sets dst[j*ldd+i] = src[i*lds+j] * sv[j] for i < rows,
// j < cols (a scaled transpose: packs Q and stores the output).
func faTransposeGeneric(dst []float32, ldd int, src []float32, lds int, sv []float32, rows, cols int) {
	faCheckTranspose(dst, ldd, src, lds, sv, rows, cols)
	for i := 0; i < rows; i++ {
		r := src[i*lds : i*lds+cols]
		for j, x := range r {
			dst[j*ldd+i] = x * sv[j]
		}
	}
}
