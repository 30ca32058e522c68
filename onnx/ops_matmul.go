package onnx

import (
	"sort"
	"strings"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/kernels"
	"github.com/txt2img/engine/tensor"
)

// Matrix products: MatMul, Gemm, Einsum. float32 and float16 (computed in
// float32, fp16 operands read directly by the GEMM packers) use the blocked
// kernels.Gemm; bfloat16 is widened to float32; double and integer types use
// a plain loop.

func init() {
	reg("MatMul", 1, 0, nnMatMulFactory)
	reg("Gemm", 1, 0, nnGemmFactory)
	reg("Einsum", 12, 0, nnEinsumFactory)
}

// nnThreads returns the goroutine budget of a kernel call.
func nnThreads(ec *graph.ExecContext) int {
	if ec == nil || ec.Threads < 1 {
		return kernels.DefaultThreads()
	}
	return ec.Threads
}

// nnOperand describes tensor data as a GEMM operand (float32 or float16
// read in place; bfloat16 widened). ld and trans are filled by the caller.
func nnOperand(t *tensor.Tensor) kernels.Operand {
	switch t.DType() {
	case tensor.Float:
		return kernels.Operand{F32: t.F32()}
	case tensor.Float16:
		return kernels.Operand{F16: tensor.View[uint16](t)}
	}
	return kernels.Operand{F32: toF32(t)}
}

// nnOpAt returns the operand shifted to element offset off.
func nnOpAt(o kernels.Operand, off int, ld int, trans bool) kernels.Operand {
	r := kernels.Operand{LD: ld, Trans: trans}
	if o.F16 != nil {
		r.F16 = o.F16[off:]
	} else {
		r.F32 = o.F32[off:]
	}
	return r
}

func nnGemmDType(dt tensor.DType) bool {
	return dt == tensor.Float || dt == tensor.Float16 || dt == tensor.BFloat16
}

// nnMatMulFactory: https://onnx.ai/onnx/operators/onnx__MatMul.html
// numpy.matmul semantics: 1-D operands are promoted (and the added dim
// removed), batch dims broadcast. Opset 1 (float types), 9 (+ integer
// types), 13 (+ bfloat16): same semantics.
func nnMatMulFactory(n *graph.Node, opset int) (graph.Kernel, error) {
	return graph.AcceptRoom(graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		a, b := input(in, 0), input(in, 1)
		if a == nil || b == nil {
			return nil, errf("MatMul needs two inputs")
		}
		t, err := nnMatMul(ec, a, b, pkMatMulWeight(ec, a, b), nnThreads(ec))
		if err != nil {
			return nil, err
		}
		return one(t)
	})), nil
}

// nbMatStride returns the element distance between consecutive matrices of
// a batched MatMul operand: rows*cols for a contiguous tensor, capacity*cols
// for a float32/float16 tensor with room along its row axis (a KV cache read
// in place); other tensors with room are compacted first.
func nbMatStride(t *tensor.Tensor) (*tensor.Tensor, int) {
	r := t.Rank()
	if r < 2 {
		return t, t.Numel()
	}
	cols := t.Shape()[r-1]
	if t.Contiguous() {
		return t, t.Shape()[r-2] * cols
	}
	if ax, capacity := t.Room(); ax == r-2 && (t.DType() == tensor.Float || t.DType() == tensor.Float16) {
		return t, capacity * cols
	}
	t = t.Compact()
	return t, t.Shape()[r-2] * cols
}

// nnMatMul computes numpy.matmul(a, b). pb, when not nil, is the 2-D b
// prepacked (pkMatMulWeight).
func nnMatMul(ec *graph.ExecContext, a, b *tensor.Tensor, pb *kernels.PackedB, threads int) (*tensor.Tensor, error) {
	dt := a.DType()
	// float32 A with float16 B only comes from the fuse-cast-matmul pass
	// (a Cast of a constant fp16 weight folded into the product).
	if b.DType() != dt && !(dt == tensor.Float && b.DType() == tensor.Float16) {
		return nil, errf("MatMul input dtypes differ: %s and %s", dt, b.DType())
	}
	a, aMat := nbMatStride(a)
	b, bMat := nbMatStride(b)
	sa, sb := a.Shape(), b.Shape()
	if len(sa) == 0 || len(sb) == 0 {
		return nil, errf("MatMul inputs must have rank >= 1, got %v and %v", sa, sb)
	}
	a1, b1 := len(sa) == 1, len(sb) == 1
	if a1 {
		sa = []int{1, sa[0]}
	}
	if b1 {
		sb = []int{sb[0], 1}
	}
	M, K := sa[len(sa)-2], sa[len(sa)-1]
	K2, N := sb[len(sb)-2], sb[len(sb)-1]
	if K != K2 {
		return nil, errf("MatMul inner dims differ: %v x %v", a.Shape(), b.Shape())
	}
	batch, err := broadcastShapes(sa[:len(sa)-2], sb[:len(sb)-2])
	if err != nil {
		return nil, err
	}
	outShape := append([]int(nil), batch...)
	if !a1 {
		outShape = append(outShape, M)
	}
	if !b1 {
		outShape = append(outShape, N)
	}
	nb := tensor.Numel(batch)
	// Offsets of each batch's matrices in a and b.
	aOff := make([]int, nb)
	bOff := make([]int, nb)
	if nb > 0 {
		sta := bcastStrides(sa[:len(sa)-2], batch)
		stb := bcastStrides(sb[:len(sb)-2], batch)
		idx := make([]int, len(batch))
		for i := 0; i < nb; i++ {
			oa, ob := 0, 0
			for d := range batch {
				oa += idx[d] * sta[d]
				ob += idx[d] * stb[d]
			}
			aOff[i], bOff[i] = oa*aMat, ob*bMat
			for d := len(batch) - 1; d >= 0; d-- {
				idx[d]++
				if idx[d] < batch[d] {
					break
				}
				idx[d] = 0
			}
		}
	}
	if nnGemmDType(dt) {
		// float32 results land in the output itself; others in a pooled
		// scratch, narrowed in parallel.
		var res *tensor.Tensor
		var out []float32
		if dt == tensor.Float {
			res = ec.Alloc(dt, outShape...)
			out = res.F32()
		} else {
			out = ec.TempF32(nb * M * N)
		}
		oa, ob := nnOperand(a), nnOperand(b)
		// B shared by every batch and A contiguous: one tall GEMM.
		shared := nb > 1
		for i := 1; i < nb && shared; i++ {
			shared = bOff[i] == 0 && aOff[i] == i*M*K
		}
		if pb != nil && (nb == 1 || shared) && pb.K == K && pb.N == N {
			kernels.GemmPacked(nb*M, 1, nnOpAt(oa, 0, K, false), pb, 0, out, N, kernels.Epilogue{}, threads)
		} else if ob.F16 != nil && (nb == 1 || shared) && nb*M <= 4 {
			// Decode-sized product with fp16 weights: GEMV reading B in place.
			kernels.HGemv(nb*M, N, K, qkRowsF32(a, nb*M*K), K, ob.F16, N, out, N, threads)
		} else if shared {
			kernels.Gemm(nb*M, N, K, 1, nnOpAt(oa, 0, K, false), nnOpAt(ob, 0, N, false), 0, out, N, threads)
		} else {
			for i := 0; i < nb; i++ {
				kernels.Gemm(M, N, K, 1, nnOpAt(oa, aOff[i], K, false), nnOpAt(ob, bOff[i], N, false), 0, out[i*M*N:], N, threads)
			}
		}
		if dt != tensor.Float {
			res = ec.Alloc(dt, outShape...)
			narrowT(ec, res, 0, out)
		}
		return res, nil
	}
	switch dt {
	case tensor.Double:
		return tensor.FromSlice(dt, outShape, nnMatMulLoop(a.F64(), b.F64(), aOff, bOff, M, N, K)), nil
	case tensor.Int64:
		return tensor.FromSlice(dt, outShape, nnMatMulLoop(a.I64(), b.I64(), aOff, bOff, M, N, K)), nil
	case tensor.Int32:
		return tensor.FromSlice(dt, outShape, nnMatMulLoop(a.I32(), b.I32(), aOff, bOff, M, N, K)), nil
	case tensor.Uint64:
		return tensor.FromSlice(dt, outShape, nnMatMulLoop(tensor.View[uint64](a), tensor.View[uint64](b), aOff, bOff, M, N, K)), nil
	case tensor.Uint32:
		return tensor.FromSlice(dt, outShape, nnMatMulLoop(tensor.View[uint32](a), tensor.View[uint32](b), aOff, bOff, M, N, K)), nil
	}
	return nil, errf("MatMul: unsupported dtype %s", dt)
}

// nnMatMulLoop is the plain batched product for non-GEMM dtypes.
func nnMatMulLoop[T float64 | int64 | int32 | uint64 | uint32](a, b []T, aOff, bOff []int, M, N, K int) []T {
	out := make([]T, len(aOff)*M*N)
	for bi := range aOff {
		A, B, C := a[aOff[bi]:], b[bOff[bi]:], out[bi*M*N:]
		for i := 0; i < M; i++ {
			row := C[i*N : i*N+N]
			for p := 0; p < K; p++ {
				av := A[i*K+p]
				br := B[p*N : p*N+N]
				for j := range row {
					row[j] += av * br[j]
				}
			}
		}
	}
	return out
}

// nnGemmFactory: https://onnx.ai/onnx/operators/onnx__Gemm.html
// Y = alpha*op(A)*op(B) + beta*C with C unidirectionally broadcast to (M, N).
// Opsets 1-6 had a `broadcast` attribute (always treated as on here); since
// 11 C is optional; 13 adds bfloat16.
func nnGemmFactory(n *graph.Node, opset int) (graph.Kernel, error) {
	alpha := n.Float("alpha", 1)
	beta := n.Float("beta", 1)
	tA := n.Int("transA", 0) != 0
	tB := n.Int("transB", 0) != 0
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		a, b, c := input(in, 0), input(in, 1), input(in, 2)
		if a == nil || b == nil {
			return nil, errf("Gemm needs inputs A and B")
		}
		dt := a.DType()
		if b.DType() != dt || (c != nil && c.DType() != dt) {
			return nil, errf("Gemm input dtypes differ")
		}
		sa, sb := a.Shape(), b.Shape()
		if len(sa) != 2 || len(sb) != 2 {
			return nil, errf("Gemm needs 2-D A and B, got %v and %v", sa, sb)
		}
		M, K := sa[0], sa[1]
		if tA {
			M, K = K, M
		}
		K2, N := sb[0], sb[1]
		if tB {
			K2, N = N, K2
		}
		if K != K2 {
			return nil, errf("Gemm inner dims differ: %v x %v (transA=%v transB=%v)", sa, sb, tA, tB)
		}
		out := []int{M, N}
		if nnGemmDType(dt) {
			y := make([]float32, M*N)
			cb := float32(0)
			if c != nil {
				if err := nnBroadcastInto(y, out, toF32(c), c.Shape()); err != nil {
					return nil, err
				}
				cb = beta
			}
			oa, ob := nnOperand(a), nnOperand(b)
			kernels.Gemm(M, N, K, alpha, nnOpAt(oa, 0, sa[1], tA), nnOpAt(ob, 0, sb[1], tB), cb, y, N, nnThreads(ec))
			return one(fromF32(dt, out, y))
		}
		// Other types: float64 reference loop.
		av, bv := a.Float64s(), b.Float64s()
		y := make([]float64, M*N)
		if c != nil {
			if err := nnBroadcastInto(y, out, c.Float64s(), c.Shape()); err != nil {
				return nil, err
			}
		}
		for i := 0; i < M; i++ {
			for j := 0; j < N; j++ {
				var s float64
				for p := 0; p < K; p++ {
					x, w := av[i*sa[1]+p], bv[p*sb[1]+j]
					if tA {
						x = av[p*sa[1]+i]
					}
					if tB {
						w = bv[j*sb[1]+p]
					}
					s += x * w
				}
				y[i*N+j] = float64(alpha)*s + float64(beta)*y[i*N+j]
			}
		}
		return one(tensor.FromFloat64s(dt, out, y))
	}), nil
}

// nnBroadcastInto fills dst (shape out) with src (shape s) broadcast to out.
func nnBroadcastInto[T float32 | float64](dst []T, out []int, src []T, s []int) error {
	if len(s) > len(out) {
		return errf("cannot broadcast %v to %v", s, out)
	}
	off := len(out) - len(s)
	for i, d := range s {
		if d != 1 && d != out[off+i] {
			return errf("cannot broadcast %v to %v", s, out)
		}
	}
	if tensor.SameShape(s, out) {
		copy(dst, src)
		return nil
	}
	bcastRuns(out, [][]int{bcastStrides(s, out)}, func(o int, offs []int, n int, st []int) {
		j := offs[0]
		for i := 0; i < n; i++ {
			dst[o+i] = src[j]
			j += st[0]
		}
	})
	return nil
}

// ---- Einsum ----

// nnEinsumSpec is a parsed equation: each operand's and the output's labels,
// where labels >= 256 stand for ellipsis dims (256 + position).
type nnEinsumSpec struct {
	ins   [][]int
	out   []int
	inEll []bool
}

func nnParseEinsum(eq string) (*nnEinsumSpec, error) {
	eq = strings.ReplaceAll(eq, " ", "")
	lhs, rhs, hasOut := strings.Cut(eq, "->")
	sp := &nnEinsumSpec{}
	parse := func(term string) ([]int, bool, error) {
		var labels []int
		ell := false
		for i := 0; i < len(term); i++ {
			ch := term[i]
			switch {
			case ch == '.':
				if ell || !strings.HasPrefix(term[i:], "...") {
					return nil, false, errf("Einsum: bad ellipsis in %q", term)
				}
				ell = true
				labels = append(labels, -1) // placeholder for the ellipsis
				i += 2
			case ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z':
				labels = append(labels, int(ch))
			default:
				return nil, false, errf("Einsum: bad character %q in equation %q", ch, eq)
			}
		}
		return labels, ell, nil
	}
	for _, term := range strings.Split(lhs, ",") {
		l, e, err := parse(term)
		if err != nil {
			return nil, err
		}
		sp.ins = append(sp.ins, l)
		sp.inEll = append(sp.inEll, e)
	}
	if hasOut {
		l, _, err := parse(rhs)
		if err != nil {
			return nil, err
		}
		sp.out = l
	} else {
		// Implicit output: ellipsis dims, then labels seen exactly once, sorted.
		count := map[int]int{}
		anyEll := false
		for i, l := range sp.ins {
			anyEll = anyEll || sp.inEll[i]
			for _, x := range l {
				if x >= 0 {
					count[x]++
				}
			}
		}
		var once []int
		for x, c := range count {
			if c == 1 {
				once = append(once, x)
			}
		}
		sort.Ints(once)
		if anyEll {
			sp.out = append(sp.out, -1)
		}
		sp.out = append(sp.out, once...)
	}
	return sp, nil
}

// nnEinsumFactory: https://onnx.ai/onnx/operators/onnx__Einsum.html
// (opset 12+). Implemented as one loop over every label: each operand's
// offset advances by the sum of its strides for that label (so repeated
// labels read diagonals), summed labels accumulate into the output.
func nnEinsumFactory(n *graph.Node, opset int) (graph.Kernel, error) {
	if !n.Has("equation") {
		return nil, errf("Einsum needs an equation attribute")
	}
	spec, err := nnParseEinsum(n.Str("equation", ""))
	if err != nil {
		return nil, err
	}
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		return nnEinsumRun(spec, in)
	}), nil
}

func nnEinsumRun(sp *nnEinsumSpec, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if len(in) != len(sp.ins) {
		return nil, errf("Einsum equation has %d operands, got %d inputs", len(sp.ins), len(in))
	}
	dt := in[0].DType()
	nEll := 0
	for i, t := range in {
		if t == nil || t.DType() != dt {
			return nil, errf("Einsum inputs must all be present with one dtype")
		}
		named := len(sp.ins[i])
		if sp.inEll[i] {
			named--
			if e := t.Rank() - named; e > nEll {
				nEll = e
			}
		}
		if t.Rank() < named || (!sp.inEll[i] && t.Rank() != named) {
			return nil, errf("Einsum operand %d has rank %d, equation names %d dims", i, t.Rank(), named)
		}
	}
	// Expand ellipses into labels 256.. (right-aligned across operands).
	expand := func(l []int, ellDims int) []int {
		var r []int
		for _, x := range l {
			if x == -1 {
				for e := nEll - ellDims; e < nEll; e++ {
					r = append(r, 256+e)
				}
			} else {
				r = append(r, x)
			}
		}
		return r
	}
	sizes := map[int]int{}
	ins := make([][]int, len(in))
	for i, t := range in {
		ed := 0
		if sp.inEll[i] {
			ed = t.Rank() - (len(sp.ins[i]) - 1)
		}
		ins[i] = expand(sp.ins[i], ed)
		for d, x := range ins[i] {
			s := t.Shape()[d]
			if old, ok := sizes[x]; ok && old != s {
				if x >= 256 && (old == 1 || s == 1) {
					if s > old {
						sizes[x] = s
					}
					continue
				}
				return nil, errf("Einsum label %q has sizes %d and %d", rune(x), old, s)
			}
			sizes[x] = s
		}
	}
	out := expand(sp.out, nEll)
	for _, x := range out {
		if _, ok := sizes[x]; !ok {
			return nil, errf("Einsum output label %q not in any input", rune(x))
		}
	}
	// All labels: output labels first (in output order), then summed ones.
	labels := append([]int(nil), out...)
	seen := map[int]bool{}
	for _, x := range out {
		if seen[x] {
			return nil, errf("Einsum output repeats label %q", rune(x))
		}
		seen[x] = true
	}
	for _, l := range ins {
		for _, x := range l {
			if !seen[x] {
				seen[x] = true
				labels = append(labels, x)
			}
		}
	}
	dims := make([]int, len(labels))
	pos := map[int]int{}
	for i, x := range labels {
		dims[i] = sizes[x]
		pos[x] = i
	}
	// Strides per label for each operand (broadcast ellipsis dims of size 1: 0).
	strides := make([][]int, len(in)+1)
	for i, t := range in {
		st := make([]int, len(labels))
		ts := t.Strides()
		for d, x := range ins[i] {
			if t.Shape()[d] != 1 || sizes[x] == 1 {
				st[pos[x]] += ts[d]
			}
		}
		strides[i] = st
	}
	outShape := make([]int, len(out))
	for i, x := range out {
		outShape[i] = sizes[x]
	}
	ost := tensor.Strides(outShape)
	strides[len(in)] = make([]int, len(labels))
	copy(strides[len(in)], ost)
	switch {
	case dt.IsFloat():
		vals := make([][]float64, len(in))
		for i, t := range in {
			vals[i] = t.Float64s()
		}
		res := make([]float64, tensor.Numel(outShape))
		nnEinsumLoop(vals, res, dims, strides)
		return one(tensor.FromFloat64s(dt, outShape, res))
	case dt.IsInt():
		vals := make([][]int64, len(in))
		for i, t := range in {
			vals[i] = t.Int64s()
		}
		res := make([]int64, tensor.Numel(outShape))
		nnEinsumLoop(vals, res, dims, strides)
		return one(tensor.FromInt64s(dt, outShape, res))
	}
	return nil, errf("Einsum: unsupported dtype %s", dt)
}

// nnEinsumLoop accumulates prod(vals[i][...]) into res over every label
// combination; strides[len(vals)] are the output strides.
func nnEinsumLoop[T float64 | int64](vals [][]T, res []T, dims []int, strides [][]int) {
	total := 1
	for _, d := range dims {
		total *= d
	}
	if total == 0 {
		return
	}
	nv := len(vals)
	offs := make([]int, nv+1)
	idx := make([]int, len(dims))
	for it := 0; it < total; it++ {
		p := T(1)
		for i := 0; i < nv; i++ {
			p *= vals[i][offs[i]]
		}
		res[offs[nv]] += p
		for d := len(dims) - 1; d >= 0; d-- {
			idx[d]++
			for i := range offs {
				offs[i] += strides[i][d]
			}
			if idx[d] < dims[d] {
				break
			}
			for i := range offs {
				offs[i] -= strides[i][d] * dims[d]
			}
			idx[d] = 0
		}
	}
}

// qkRowsF32 returns the first n elements of a float32 or float16 tensor as
// float32 (a few rows of A for kernels.HGemv).
func qkRowsF32(t *tensor.Tensor, n int) []float32 {
	if t.DType() == tensor.Float {
		return t.F32()[:n]
	}
	h := tensor.View[uint16](t)[:n]
	f := make([]float32, n)
	for i, v := range h {
		f[i] = tensor.F16ToF32(v)
	}
	return f
}
