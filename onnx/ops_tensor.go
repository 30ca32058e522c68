package onnx

import (
	"cmp"
	"slices"
	"sync"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/tensor"
)

// Data-movement ops: Transpose, Concat, Split, Slice, Gather, GatherElements,
// GatherND, ScatterND, Tile, Pad, Trilu, CumSum, TopK. They work on every
// dtype (strings included) by moving elements of the dtype's size; only
// ScatterND reductions, CumSum and TopK look at the values.

func init() {
	reg("Transpose", 1, 0, shpTransposeFactory)
	reg("Concat", 1, 0, shpConcatFactory)
	reg("Split", 1, 0, shpSplitFactory)
	reg("Slice", 1, 9, shpSliceAttrFactory)
	reg("Slice", 10, 0, fn(shpSliceKernel))
	reg("Gather", 1, 0, shpGatherFactory)
	reg("GatherElements", 11, 0, shpGatherElementsFactory)
	reg("GatherND", 11, 0, shpGatherNDFactory)
	reg("ScatterND", 11, 0, shpScatterNDFactory)
	reg("Tile", 6, 0, fn(shpTileKernel))
	reg("Pad", 1, 10, shpPadAttrFactory)
	reg("Pad", 11, 0, shpPadFactory)
	reg("Trilu", 14, 0, shpTriluFactory)
	reg("CumSum", 11, 0, shpCumSumFactory)
	reg("TopK", 1, 9, shpTopKAttrFactory)
	reg("TopK", 10, 0, shpTopKFactory)
}

// ---------------------------------------------------------------------------
// Shared helpers

// shpBuf is a dtype-agnostic view of a tensor's elements, used to move
// elements without looking at their values. es is the element size in bytes
// (0 for strings); the typed slices alias b for the common sizes.
type shpBuf struct {
	es  int
	b   []byte
	u16 []uint16
	u32 []uint32
	u64 []uint64
	s   []string
}

func shpBufOf(t *tensor.Tensor) shpBuf {
	dt := t.DType()
	if dt == tensor.String {
		return shpBuf{s: t.Strings()}
	}
	b := shpBuf{es: dt.Size(), b: t.Bytes()}
	switch b.es {
	case 2:
		b.u16 = tensor.View[uint16](t)
	case 4:
		b.u32 = tensor.View[uint32](t)
	case 8:
		b.u64 = tensor.View[uint64](t)
	}
	return b
}

// copyFrom copies n contiguous elements s[so:] to d[do:].
func (d shpBuf) copyFrom(do int, s shpBuf, so, n int) {
	if d.es == 0 {
		copy(d.s[do:do+n], s.s[so:so+n])
		return
	}
	copy(d.b[do*d.es:(do+n)*d.es], s.b[so*d.es:(so+n)*d.es])
}

// copyStrided copies n elements s[so], s[so+st], ... to d[do:do+n].
func (d shpBuf) copyStrided(do int, s shpBuf, so, st, n int) {
	if st == 1 {
		d.copyFrom(do, s, so, n)
		return
	}
	switch d.es {
	case 0:
		shpStrided(d.s[do:do+n], s.s, so, st)
	case 1:
		shpStrided(d.b[do:do+n], s.b, so, st)
	case 2:
		shpStrided(d.u16[do:do+n], s.u16, so, st)
	case 4:
		shpStrided(d.u32[do:do+n], s.u32, so, st)
	case 8:
		shpStrided(d.u64[do:do+n], s.u64, so, st)
	default:
		for i := 0; i < n; i++ {
			d.copyFrom(do+i, s, so+i*st, 1)
		}
	}
}

func shpStrided[T any](dst, src []T, so, st int) {
	for i := range dst {
		dst[i] = src[so]
		so += st
	}
}

// fill sets d[do:do+n] to the element v[vo].
func (d shpBuf) fill(do, n int, v shpBuf, vo int) {
	if n <= 0 {
		return
	}
	if d.es == 0 {
		x := v.s[vo]
		for i := do; i < do+n; i++ {
			d.s[i] = x
		}
		return
	}
	d.copyFrom(do, v, vo, 1)
	// doubling copy
	for have := 1; have < n; {
		c := min(have, n-have)
		d.copyFrom(do+have, d, do, c)
		have += c
	}
}

// zero clears d[do:do+n].
func (d shpBuf) zero(do, n int) {
	if d.es == 0 {
		clear(d.s[do : do+n])
		return
	}
	clear(d.b[do*d.es : (do+n)*d.es])
}

// shpView returns the contiguous element range [lo, lo+n) of t as a tensor
// of the given shape sharing t's memory.
func shpView(t *tensor.Tensor, lo int, shape []int) (*tensor.Tensor, error) {
	n := tensor.Numel(shape)
	if t.DType() == tensor.String {
		return tensor.FromStrings(shape, t.Strings()[lo:lo+n]), nil
	}
	es := t.DType().Size()
	return tensor.Wrap(t.DType(), shape, t.Bytes()[lo*es:(lo+n)*es])
}

// shpCheck verifies that the first k inputs are present tensors.
func shpCheck(in []*tensor.Tensor, k int) error {
	if len(in) < k {
		return errf("needs %d inputs, got %d", k, len(in))
	}
	for i := 0; i < k; i++ {
		if in[i] == nil {
			return errf("input %d is missing", i)
		}
		if in[i].Kind != tensor.KindTensor {
			return errf("input %d is a %s, want a tensor", i, in[i])
		}
		if !in[i].DType().Valid() {
			return errf("input %d has invalid dtype", i)
		}
	}
	return nil
}

// shpIndexInts reads an integer tensor (int32/int64) as ints.
func shpIndexInts(t *tensor.Tensor) ([]int, error) {
	switch t.DType() {
	case tensor.Int64, tensor.Int32, tensor.Int16, tensor.Int8, tensor.Uint8, tensor.Uint16, tensor.Uint32, tensor.Uint64:
		return shapeInts(t), nil
	}
	return nil, errf("index tensor must be an integer type, got %s", t.DType())
}

// shpScalarInt reads a one-element integer tensor.
func shpScalarInt(t *tensor.Tensor, what string) (int, error) {
	v, err := shpIndexInts(t)
	if err != nil {
		return 0, err
	}
	if len(v) != 1 {
		return 0, errf("%s must have one element, has %d", what, len(v))
	}
	return v[0], nil
}

func shpProd(s []int) int { return tensor.Numel(s) }

// shpParallel splits [0, n) into up to threads chunks run concurrently
// (serially when the work is small).
func shpParallel(threads, n, work int, f func(lo, hi int)) {
	if threads <= 1 || n < 2 || work < 1<<16 {
		f(0, n)
		return
	}
	parts := min(threads, n)
	var wg sync.WaitGroup
	for p := 0; p < parts; p++ {
		lo, hi := p*n/parts, (p+1)*n/parts
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, hi)
		}()
	}
	wg.Wait()
}

// ---------------------------------------------------------------------------
// Transpose

// shpTransposeFactory builds Transpose
// (https://onnx.ai/onnx/operators/onnx__Transpose.html). perm defaults to
// reversing the dims; all versions (1, 13, 21, 23, 24, 25) share semantics
// and differ only in the dtypes allowed.
func shpTransposeFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	var perm []int
	if n.Has("perm") {
		perm = ints64(n.Ints("perm", nil))
	}
	return graph.AcceptRoom(graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if err := shpCheck(in, 1); err != nil {
			return nil, err
		}
		x := in[0]
		r := x.Rank()
		p := perm
		if p == nil {
			p = make([]int, r)
			for i := range p {
				p[i] = r - 1 - i
			}
		}
		if len(p) != r {
			return nil, errf("perm %v has length %d, input rank is %d", p, len(p), r)
		}
		seen := make([]bool, r)
		for _, a := range p {
			if a < 0 || a >= r || seen[a] {
				return nil, errf("perm %v is not a permutation of 0..%d", p, r-1)
			}
			seen[a] = true
		}
		t, err := shpTranspose(x, p, ec.Threads)
		if err != nil {
			return nil, err
		}
		return one(t)
	})), nil
}

// shpTranspose permutes the dims of x. It collapses size-1 dims and runs of
// dims that stay adjacent, then copies rows (when the innermost dim stays
// innermost), transposes 2-D tiles (batched matrix transposes such as
// NCHW<->NHWC) or gathers strided rows.
func shpTranspose(x *tensor.Tensor, perm []int, threads int) (*tensor.Tensor, error) {
	shape := x.Shape()
	r := len(shape)
	oshape := make([]int, r)
	for i, a := range perm {
		oshape[i] = shape[a]
	}
	st := x.Strides() // strides over the room of a tensor with room
	// Effective dims in output order: (size, source stride).
	var size, sst []int
	for _, a := range perm {
		if shape[a] == 1 {
			continue
		}
		k := len(size)
		if k > 0 && sst[k-1] == shape[a]*st[a] {
			size[k-1] *= shape[a]
			sst[k-1] = st[a]
			continue
		}
		size = append(size, shape[a])
		sst = append(sst, st[a])
	}
	total := tensor.Numel(oshape)
	if total == 0 || len(size) == 0 || (len(size) == 1 && sst[0] == 1) {
		return x.Reshape(oshape...) // pure relabelling: a view
	}
	out := tensor.New(x.DType(), oshape...)
	d, s := shpBufOf(out), shpBufOf(x)
	k := len(size)
	inner := size[k-1]
	// Batched 2-D transpose: the last two effective dims swapped.
	if k >= 2 && sst[k-2] == 1 && sst[k-1] == size[k-2] && x.DType().Size() <= 8 {
		a, b := size[k-2], size[k-1] // output [.., a, b] from source [.., b, a]
		batch := total / (a * b)
		bsz := a * b
		shpParallel(threads, batch*((a+31)/32), total, func(lo, hi int) {
			nb := (a + 31) / 32
			for w := lo; w < hi; w++ {
				bi, blk := w/nb, w%nb
				// source batch offset: dims before the last two
				so := 0
				rem := bi
				for j := k - 3; j >= 0; j-- {
					so += (rem % size[j]) * sst[j]
					rem /= size[j]
				}
				a0, a1 := blk*32, min(blk*32+32, a)
				shpTile2D(d, s, bi*bsz, so, a0, a1, a, b)
			}
		})
		return out, nil
	}
	rows := total / inner
	shpParallel(threads, rows, total, func(lo, hi int) {
		idx := make([]int, k-1)
		so := 0
		rem := lo
		for j := k - 2; j >= 0; j-- {
			idx[j] = rem % size[j]
			so += idx[j] * sst[j]
			rem /= size[j]
		}
		for row := lo; row < hi; row++ {
			d.copyStrided(row*inner, s, so, sst[k-1], inner)
			for j := k - 2; j >= 0; j-- {
				idx[j]++
				so += sst[j]
				if idx[j] < size[j] {
					break
				}
				so -= sst[j] * size[j]
				idx[j] = 0
			}
		}
	})
	return out, nil
}

// shpTile2D writes output rows [a0, a1) of an a×b matrix at d[do:] from the
// b×a source matrix at s[so:], in 32-wide column blocks.
func shpTile2D(d, s shpBuf, do, so, a0, a1, a, b int) {
	switch d.es {
	case 0:
		shpTileT(d.s[do:], s.s[so:], a0, a1, a, b)
	case 1:
		shpTileT(d.b[do:], s.b[so:], a0, a1, a, b)
	case 2:
		shpTileT(d.u16[do:], s.u16[so:], a0, a1, a, b)
	case 4:
		shpTileT(d.u32[do:], s.u32[so:], a0, a1, a, b)
	case 8:
		shpTileT(d.u64[do:], s.u64[so:], a0, a1, a, b)
	}
}

func shpTileT[T any](dst, src []T, a0, a1, a, b int) {
	for b0 := 0; b0 < b; b0 += 32 {
		b1 := min(b0+32, b)
		for i := a0; i < a1; i++ {
			row := dst[i*b : i*b+b]
			for j := b0; j < b1; j++ {
				row[j] = src[j*a+i]
			}
		}
	}
}

// ---------------------------------------------------------------------------
// Concat

// shpConcatFactory builds Concat
// (https://onnx.ai/onnx/operators/onnx__Concat.html). Opset 1-3 default axis
// to 1; from opset 4 axis is required; from opset 11 it may be negative.
func shpConcatFactory(n *graph.Node, opset int) (graph.Kernel, error) {
	def := int64(1)
	if opset >= 4 && !n.Has("axis") {
		return nil, errf("Concat: missing axis attribute")
	}
	axis := int(n.Int("axis", def))
	return graph.AcceptRoom(graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if err := shpCheck(in, len(in)); err != nil {
			return nil, err
		}
		if len(in) == 0 {
			return nil, errf("Concat needs at least one input")
		}
		if ax, _ := in[0].Room(); ax >= 0 && len(in) > 1 {
			if a, err := normAxis(axis, in[0].Rank()); err == nil && a == ax {
				return nbConcatAppend(in, ax)
			}
		}
		args, copied := in, false
		for i, t := range in {
			if !t.Contiguous() {
				if !copied {
					args, copied = append([]*tensor.Tensor(nil), in...), true
				}
				args[i] = t.Compact()
			}
		}
		t, err := shpConcat(args, axis)
		if err != nil {
			return nil, err
		}
		return one(t)
	})), nil
}

// nbConcatAppend concatenates along the room axis of in[0] (a KV cache made
// with tensor.NewWithRoom) by writing the other inputs into its room: the
// output is a view of in[0]'s backing array and nothing in[0] holds is
// copied. When the room is short or already claimed by another view, the
// result goes to a new backing array with twice the capacity (a copy, as
// Go's append does), so later steps append in place again.
func nbConcatAppend(in []*tensor.Tensor, ax int) ([]*tensor.Tensor, error) {
	first := in[0]
	add := 0
	for i, t := range in[1:] {
		if t.DType() != first.DType() || t.Rank() != first.Rank() {
			return nil, errf("input %d is %s, input 0 is %s", i+1, t, first)
		}
		for j, d := range t.Shape() {
			if j != ax && d != first.Shape()[j] {
				return nil, errf("input %d shape %v does not match input 0 shape %v off axis %d", i+1, t.Shape(), first.Shape(), ax)
			}
		}
		add += t.Shape()[ax]
	}
	out, ok := first.Extend(add)
	start := 0
	if !ok {
		_, capacity := first.Room()
		shape := append([]int(nil), first.Shape()...)
		need := shape[ax] + add
		var err error
		out, err = tensor.NewWithRoom(first.DType(), shape, ax, max(need, 2*capacity))
		if err != nil {
			return nil, err
		}
		out, _ = out.Extend(add)
	} else {
		start = 1 // in[0] is already in place
	}
	// Copy each input's rows into the output's slabs.
	shape := out.Shape()
	es := out.DType().Size()
	outer := shpProd(shape[:ax])
	st := out.Strides()
	slab := es * shpProd(shape[ax:]) // bytes of a slab when there is no outer dim
	if ax > 0 {
		slab = st[ax-1] * es
	}
	row := st[ax] * es
	dst := out.Bytes()
	off := 0
	for i, t := range in {
		n := t.Shape()[ax]
		if i >= start {
			src := t.Bytes()
			if !t.Contiguous() {
				src = t.Compact().Bytes()
			}
			run := n * row
			for o := 0; o < outer; o++ {
				copy(dst[o*slab+off*row:o*slab+off*row+run], src[o*run:(o+1)*run])
			}
		}
		off += n
	}
	return one(out)
}

func shpConcat(in []*tensor.Tensor, axis int) (*tensor.Tensor, error) {
	first := in[0]
	r := first.Rank()
	if r == 0 {
		return nil, errf("cannot concatenate scalars")
	}
	ax, err := normAxis(axis, r)
	if err != nil {
		return nil, err
	}
	oshape := append([]int(nil), first.Shape()...)
	oshape[ax] = 0
	for i, t := range in {
		if t.DType() != first.DType() {
			return nil, errf("input %d has dtype %s, input 0 has %s", i, t.DType(), first.DType())
		}
		if t.Rank() != r {
			return nil, errf("input %d has rank %d, input 0 has %d", i, t.Rank(), r)
		}
		for j, dim := range t.Shape() {
			if j != ax && dim != first.Shape()[j] {
				return nil, errf("input %d shape %v does not match input 0 shape %v off axis %d", i, t.Shape(), first.Shape(), ax)
			}
		}
		oshape[ax] += t.Shape()[ax]
	}
	if len(in) == 1 {
		return first.Reshape(oshape...)
	}
	out := tensor.New(first.DType(), oshape...)
	d := shpBufOf(out)
	outer := shpProd(oshape[:ax])
	inner := shpProd(oshape[ax+1:])
	srcs := make([]shpBuf, len(in))
	chunks := make([]int, len(in))
	for i, t := range in {
		srcs[i] = shpBufOf(t)
		chunks[i] = t.Shape()[ax] * inner
	}
	o := 0
	for i := 0; i < outer; i++ {
		for j := range in {
			c := chunks[j]
			d.copyFrom(o, srcs[j], i*c, c)
			o += c
		}
	}
	return out, nil
}

// ---------------------------------------------------------------------------
// Split

// shpSplitFactory builds Split (https://onnx.ai/onnx/operators/onnx__Split.html).
// Opset 1: split from attribute or input 1; 2-12: split attribute (negative
// axis from 11); 13+: split input; 18+: num_outputs attribute, where the
// chunks are ceil(dim/num_outputs) long and the last one may be shorter.
// Without split the axis is divided evenly among the outputs.
func shpSplitFactory(n *graph.Node, opset int) (graph.Kernel, error) {
	axis := int(n.Int("axis", 0))
	nout := len(n.Outputs)
	var attrSplit []int
	if opset < 13 && n.Has("split") {
		attrSplit = ints64(n.Ints("split", nil))
	}
	numOutputs := 0
	if opset >= 18 && n.Has("num_outputs") {
		numOutputs = int(n.Int("num_outputs", 0))
		if numOutputs < 1 {
			return nil, errf("Split: num_outputs %d must be positive", numOutputs)
		}
		if numOutputs != nout {
			return nil, errf("Split: num_outputs %d but node has %d outputs", numOutputs, nout)
		}
	}
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if err := shpCheck(in, 1); err != nil {
			return nil, err
		}
		x := in[0]
		ax, err := normAxis(axis, x.Rank())
		if err != nil {
			return nil, err
		}
		if x.Rank() == 0 {
			return nil, errf("cannot split a scalar")
		}
		dim := x.Shape()[ax]
		split := attrSplit
		if s := input(in, 1); s != nil && (opset >= 13 || opset == 1) {
			if split, err = shpIndexInts(s); err != nil {
				return nil, err
			}
		}
		if split == nil {
			split = make([]int, nout)
			if numOutputs > 0 {
				c := (dim + numOutputs - 1) / numOutputs
				for i := range split {
					split[i] = max(0, min(c, dim-i*c))
				}
			} else {
				if nout == 0 || dim%nout != 0 {
					return nil, errf("dim %d cannot be split evenly into %d outputs", dim, nout)
				}
				for i := range split {
					split[i] = dim / nout
				}
			}
		}
		if len(split) != nout {
			return nil, errf("split has %d entries for %d outputs", len(split), nout)
		}
		sum := 0
		for _, v := range split {
			if v < 0 {
				return nil, errf("negative split size %d", v)
			}
			sum += v
		}
		if sum != dim {
			return nil, errf("split sizes %v do not add up to dim %d", split, dim)
		}
		return shpSplit(x, ax, split)
	}), nil
}

// shpSplit cuts x along ax into pieces of the given sizes (views when the
// pieces are contiguous).
func shpSplit(x *tensor.Tensor, ax int, split []int) ([]*tensor.Tensor, error) {
	shape := x.Shape()
	outer := shpProd(shape[:ax])
	inner := shpProd(shape[ax+1:])
	dim := shape[ax]
	s := shpBufOf(x)
	outs := make([]*tensor.Tensor, len(split))
	off := 0
	for i, sz := range split {
		os := append([]int(nil), shape...)
		os[ax] = sz
		if outer == 1 {
			v, err := shpView(x, off*inner, os)
			if err != nil {
				return nil, err
			}
			outs[i] = v
		} else {
			t := tensor.New(x.DType(), os...)
			d := shpBufOf(t)
			c := sz * inner
			for o := 0; o < outer; o++ {
				d.copyFrom(o*c, s, (o*dim+off)*inner, c)
			}
			outs[i] = t
		}
		off += sz
	}
	return outs, nil
}

// ---------------------------------------------------------------------------
// Slice

// shpSliceAttrFactory builds Slice-1 (starts, ends, axes as attributes,
// unit steps). https://onnx.ai/onnx/operators/onnx__Slice.html
func shpSliceAttrFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	starts := ints64(n.Ints("starts", nil))
	ends := ints64(n.Ints("ends", nil))
	var axes []int
	if n.Has("axes") {
		axes = ints64(n.Ints("axes", nil))
	}
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if err := shpCheck(in, 1); err != nil {
			return nil, err
		}
		t, err := shpSlice(in[0], starts, ends, axes, nil)
		if err != nil {
			return nil, err
		}
		return one(t)
	}), nil
}

// shpSliceKernel is Slice-10+ (starts, ends, axes, steps as inputs; negative
// axes from 11). https://onnx.ai/onnx/operators/onnx__Slice.html
func shpSliceKernel(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if err := shpCheck(in, 3); err != nil {
		return nil, err
	}
	var v [4][]int
	for i := 1; i < 5; i++ {
		if t := input(in, i); t != nil {
			x, err := shpIndexInts(t)
			if err != nil {
				return nil, err
			}
			v[i-1] = x
		}
	}
	t, err := shpSlice(in[0], v[0], v[1], v[2], v[3])
	if err != nil {
		return nil, err
	}
	return one(t)
}

func shpSlice(x *tensor.Tensor, starts, ends, axes, steps []int) (*tensor.Tensor, error) {
	shape := x.Shape()
	r := len(shape)
	if len(starts) != len(ends) {
		return nil, errf("starts has %d entries, ends %d", len(starts), len(ends))
	}
	if axes == nil {
		axes = make([]int, len(starts))
		for i := range axes {
			axes[i] = i
		}
	}
	if len(axes) != len(starts) {
		return nil, errf("axes has %d entries, starts %d", len(axes), len(starts))
	}
	if steps != nil && len(steps) != len(starts) {
		return nil, errf("steps has %d entries, starts %d", len(steps), len(starts))
	}
	begin := make([]int, r)
	step := make([]int, r)
	oshape := append([]int(nil), shape...)
	for i := range step {
		step[i] = 1
	}
	done := make([]bool, r)
	for i, a := range axes {
		if a < -r || a >= r {
			return nil, errf("axis %d out of range for rank %d", a, r)
		}
		if a < 0 {
			a += r
		}
		if done[a] {
			return nil, errf("axis %d repeated", a)
		}
		done[a] = true
		dim := shape[a]
		st := 1
		if steps != nil {
			st = steps[i]
		}
		if st == 0 {
			return nil, errf("slice step cannot be 0")
		}
		s, e := starts[i], ends[i]
		if s < 0 {
			s += dim
		}
		if e < 0 {
			e += dim
		}
		var cnt int
		if st > 0 {
			s = max(0, min(s, dim))
			e = max(0, min(e, dim))
			cnt = (e - s + st - 1) / st
		} else {
			s = max(0, min(s, dim-1))
			e = max(-1, min(e, dim-1))
			cnt = (s - e + (-st) - 1) / (-st)
		}
		cnt = max(cnt, 0)
		begin[a], step[a], oshape[a] = s, st, cnt
	}
	total := tensor.Numel(oshape)
	if total == 0 || r == 0 {
		if r == 0 {
			return x.Reshape()
		}
		return tensor.New(x.DType(), oshape...), nil
	}
	strides := tensor.Strides(shape)
	base := 0
	for i := range begin {
		base += begin[i] * strides[i]
	}
	// Contiguous block (leading dims of size 1, then one unit-step dim,
	// then full dims): a view.
	contig := true
	p := 0
	for p < r && oshape[p] == 1 {
		p++
	}
	for j := p; j < r; j++ {
		if step[j] != 1 || (j > p && oshape[j] != shape[j]) {
			contig = false
			break
		}
	}
	if contig {
		return shpView(x, base, oshape)
	}
	out := tensor.New(x.DType(), oshape...)
	d, s := shpBufOf(out), shpBufOf(x)
	inner := oshape[r-1]
	ist := step[r-1] * strides[r-1]
	idx := make([]int, r-1)
	so := base
	for o := 0; o < total; o += inner {
		d.copyStrided(o, s, so, ist, inner)
		for j := r - 2; j >= 0; j-- {
			idx[j]++
			so += step[j] * strides[j]
			if idx[j] < oshape[j] {
				break
			}
			so -= step[j] * strides[j] * oshape[j]
			idx[j] = 0
		}
	}
	return out, nil
}

// ---------------------------------------------------------------------------
// Gather, GatherElements, GatherND, ScatterND

// shpGatherFactory builds Gather (https://onnx.ai/onnx/operators/onnx__Gather.html):
// out = data[:axis] + indices.shape + data[axis+1:]; negative indices count
// from the end (opset 11+; accepted for all versions).
func shpGatherFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	axis := int(n.Int("axis", 0))
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if err := shpCheck(in, 2); err != nil {
			return nil, err
		}
		x := in[0]
		if x.Rank() == 0 {
			return nil, errf("cannot gather from a scalar")
		}
		ax, err := normAxis(axis, x.Rank())
		if err != nil {
			return nil, err
		}
		idx, err := shpIndexInts(in[1])
		if err != nil {
			return nil, err
		}
		shape := x.Shape()
		dim := shape[ax]
		for i, v := range idx {
			if v < 0 {
				v += dim
			}
			if v < 0 || v >= dim {
				return nil, errf("index %d out of range [-%d, %d)", idx[i], dim, dim)
			}
			idx[i] = v
		}
		oshape := append(append(append([]int(nil), shape[:ax]...), in[1].Shape()...), shape[ax+1:]...)
		outer := shpProd(shape[:ax])
		inner := shpProd(shape[ax+1:])
		if outer == 1 && len(idx) == 1 {
			t, err := shpView(x, idx[0]*inner, oshape)
			if err != nil {
				return nil, err
			}
			return one(t)
		}
		out := tensor.New(x.DType(), oshape...)
		d, s := shpBufOf(out), shpBufOf(x)
		o := 0
		for i := 0; i < outer; i++ {
			for _, v := range idx {
				d.copyFrom(o, s, (i*dim+v)*inner, inner)
				o += inner
			}
		}
		return one(out)
	}), nil
}

// shpGatherElementsFactory builds GatherElements
// (https://onnx.ai/onnx/operators/onnx__GatherElements.html): out has the
// indices' shape; out[i][j][k] = data[idx][j][k] along axis (axis 0 shown).
func shpGatherElementsFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	axis := int(n.Int("axis", 0))
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if err := shpCheck(in, 2); err != nil {
			return nil, err
		}
		x, it := in[0], in[1]
		r := x.Rank()
		if it.Rank() != r || r == 0 {
			return nil, errf("data rank %d and indices rank %d must match and be >= 1", r, it.Rank())
		}
		ax, err := normAxis(axis, r)
		if err != nil {
			return nil, err
		}
		idx, err := shpIndexInts(it)
		if err != nil {
			return nil, err
		}
		shape, ishape := x.Shape(), it.Shape()
		for j := range ishape {
			if j != ax && ishape[j] > shape[j] {
				return nil, errf("indices shape %v exceeds data shape %v", ishape, shape)
			}
		}
		out := tensor.New(x.DType(), ishape...)
		d, s := shpBufOf(out), shpBufOf(x)
		st := tensor.Strides(shape)
		dim := shape[ax]
		pos := make([]int, r)
		for o, v := range idx {
			if v < 0 {
				v += dim
			}
			if v < 0 || v >= dim {
				return nil, errf("index %d out of range for dim %d", idx[o], dim)
			}
			so := 0
			for j := 0; j < r; j++ {
				c := pos[j]
				if j == ax {
					c = v
				}
				so += c * st[j]
			}
			d.copyFrom(o, s, so, 1)
			for j := r - 1; j >= 0; j-- {
				pos[j]++
				if pos[j] < ishape[j] {
					break
				}
				pos[j] = 0
			}
		}
		return one(out)
	}), nil
}

// shpNDOffsets resolves the index tuples of GatherND/ScatterND: for each of
// the batch*tuples rows it returns the element offset into data (inside the
// row's batch) and the slice size.
func shpNDOffsets(shape []int, it *tensor.Tensor, b int) (offs []int, chunk int, err error) {
	ishape := it.Shape()
	q := len(ishape)
	if q < 1 {
		return nil, 0, errf("indices must have rank >= 1")
	}
	m := ishape[q-1]
	r := len(shape)
	if b < 0 || b >= q || b >= r || b+m > r {
		return nil, 0, errf("bad batch_dims %d / index depth %d for data rank %d, indices rank %d", b, m, r, q)
	}
	for i := 0; i < b; i++ {
		if shape[i] != ishape[i] {
			return nil, 0, errf("batch dims of data %v and indices %v differ", shape, ishape)
		}
	}
	idx, err := shpIndexInts(it)
	if err != nil {
		return nil, 0, err
	}
	st := tensor.Strides(shape)
	batchSize := shpProd(shape[b:])
	perBatch := shpProd(ishape[b : q-1])
	chunk = shpProd(shape[b+m:])
	n := len(idx) / max(m, 1)
	if m == 0 {
		n = shpProd(ishape[:q-1])
	}
	offs = make([]int, n)
	for t := 0; t < n; t++ {
		o := (t / max(perBatch, 1)) * batchSize
		for j := 0; j < m; j++ {
			v := idx[t*m+j]
			dim := shape[b+j]
			if v < 0 {
				v += dim
			}
			if v < 0 || v >= dim {
				return nil, 0, errf("index %d out of range for dim %d", idx[t*m+j], dim)
			}
			o += v * st[b+j]
		}
		offs[t] = o
	}
	return offs, chunk, nil
}

// shpGatherNDFactory builds GatherND
// (https://onnx.ai/onnx/operators/onnx__GatherND.html); batch_dims from opset 12.
func shpGatherNDFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	bd := int(n.Int("batch_dims", 0))
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if err := shpCheck(in, 2); err != nil {
			return nil, err
		}
		x, it := in[0], in[1]
		offs, chunk, err := shpNDOffsets(x.Shape(), it, bd)
		if err != nil {
			return nil, err
		}
		ishape := it.Shape()
		m := ishape[len(ishape)-1]
		oshape := append(append([]int(nil), ishape[:len(ishape)-1]...), x.Shape()[bd+m:]...)
		out := tensor.New(x.DType(), oshape...)
		d, s := shpBufOf(out), shpBufOf(x)
		for i, o := range offs {
			d.copyFrom(i*chunk, s, o, chunk)
		}
		return one(out)
	}), nil
}

// shpScatterNDFactory builds ScatterND
// (https://onnx.ai/onnx/operators/onnx__ScatterND.html). Reduction "add" and
// "mul" from opset 16, "max" and "min" from 18; "none" overwrites.
func shpScatterNDFactory(n *graph.Node, opset int) (graph.Kernel, error) {
	red := n.Str("reduction", "none")
	switch red {
	case "none", "add", "mul", "max", "min":
	default:
		return nil, errf("ScatterND: unknown reduction %q", red)
	}
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if err := shpCheck(in, 3); err != nil {
			return nil, err
		}
		x, it, up := in[0], in[1], in[2]
		if up.DType() != x.DType() {
			return nil, errf("updates dtype %s differs from data %s", up.DType(), x.DType())
		}
		offs, chunk, err := shpNDOffsets(x.Shape(), it, 0)
		if err != nil {
			return nil, err
		}
		if up.Numel() != len(offs)*chunk {
			return nil, errf("updates shape %v does not match indices %v and data %v", up.Shape(), it.Shape(), x.Shape())
		}
		out := x.Clone()
		if red == "none" {
			d, s := shpBufOf(out), shpBufOf(up)
			for i, o := range offs {
				d.copyFrom(o, s, i*chunk, chunk)
			}
			return one(out)
		}
		switch x.DType() {
		case tensor.Float:
			shpScatterReduce(out.F32(), up.F32(), offs, chunk, red)
		case tensor.Double:
			shpScatterReduce(out.F64(), up.F64(), offs, chunk, red)
		case tensor.Int64:
			shpScatterReduce(out.I64(), up.I64(), offs, chunk, red)
		case tensor.Int32:
			shpScatterReduce(out.I32(), up.I32(), offs, chunk, red)
		case tensor.Float16, tensor.BFloat16:
			o := out.Float32s()
			shpScatterReduce(o, up.Float32s(), offs, chunk, red)
			return one(fromF32(x.DType(), x.Shape(), o))
		default:
			if x.DType() == tensor.String || x.DType().Size() > 8 {
				return nil, errf("reduction %s unsupported for %s", red, x.DType())
			}
			o, u := out.Float64s(), up.Float64s()
			shpScatterReduce(o, u, offs, chunk, red)
			return one(tensor.FromFloat64s(x.DType(), x.Shape(), o))
		}
		return one(out)
	}), nil
}

func shpScatterReduce[T int32 | int64 | float32 | float64](d, u []T, offs []int, chunk int, red string) {
	for i, o := range offs {
		dst, src := d[o:o+chunk], u[i*chunk:(i+1)*chunk]
		switch red {
		case "add":
			for j, v := range src {
				dst[j] += v
			}
		case "mul":
			for j, v := range src {
				dst[j] *= v
			}
		case "max":
			for j, v := range src {
				dst[j] = max(dst[j], v)
			}
		case "min":
			for j, v := range src {
				dst[j] = min(dst[j], v)
			}
		}
	}
}

// ---------------------------------------------------------------------------
// Tile

// shpTileKernel is Tile-6+ (https://onnx.ai/onnx/operators/onnx__Tile.html):
// repeats is a 1-D int64 input with one entry per dim.
func shpTileKernel(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if err := shpCheck(in, 2); err != nil {
		return nil, err
	}
	x := in[0]
	rep, err := shpIndexInts(in[1])
	if err != nil {
		return nil, err
	}
	shape := x.Shape()
	r := len(shape)
	if len(rep) != r {
		return nil, errf("repeats has %d entries for rank %d", len(rep), r)
	}
	oshape := make([]int, r)
	for i := range shape {
		if rep[i] < 0 {
			return nil, errf("negative repeat %d", rep[i])
		}
		oshape[i] = shape[i] * rep[i]
	}
	out := tensor.New(x.DType(), oshape...)
	total := out.Numel()
	if total == 0 {
		return one(out)
	}
	if r == 0 {
		return one(x.Clone())
	}
	d, s := shpBufOf(out), shpBufOf(x)
	st := tensor.Strides(shape)
	inner := shape[r-1]
	idx := make([]int, r-1)
	for o := 0; o < total; o += oshape[r-1] {
		so := 0
		for j := range idx {
			so += (idx[j] % shape[j]) * st[j]
		}
		for k := 0; k < rep[r-1]; k++ {
			d.copyFrom(o+k*inner, s, so, inner)
		}
		for j := r - 2; j >= 0; j-- {
			idx[j]++
			if idx[j] < oshape[j] {
				break
			}
			idx[j] = 0
		}
	}
	return one(out)
}

// ---------------------------------------------------------------------------
// Pad

// shpPadAttrFactory builds Pad-1/2 (pads, value and mode as attributes;
// opset 1 calls pads "paddings"). https://onnx.ai/onnx/operators/onnx__Pad.html
func shpPadAttrFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	mode := n.Str("mode", "constant")
	pads := n.Ints("pads", nil)
	if pads == nil {
		pads = n.Ints("paddings", nil)
	}
	value := float64(n.Float("value", 0))
	if err := shpPadMode(mode, 2); err != nil {
		return nil, err
	}
	p := ints64(pads)
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if err := shpCheck(in, 1); err != nil {
			return nil, err
		}
		x := in[0]
		var cv *tensor.Tensor
		if x.DType() != tensor.String {
			cv = tensor.FromFloat64s(x.DType(), nil, []float64{value})
		}
		t, err := shpPad(x, p, nil, mode, cv)
		if err != nil {
			return nil, err
		}
		return one(t)
	}), nil
}

func shpPadMode(mode string, opset int) error {
	switch mode {
	case "constant", "reflect", "edge":
		return nil
	case "wrap":
		if opset >= 19 {
			return nil
		}
	}
	return errf("Pad: unsupported mode %q at opset %d", mode, opset)
}

// shpPadFactory builds Pad-11+ (https://onnx.ai/onnx/operators/onnx__Pad.html):
// pads and the optional constant_value are inputs; opset 18 adds the optional
// axes input, opset 19 the "wrap" mode. Negative pads crop.
func shpPadFactory(n *graph.Node, opset int) (graph.Kernel, error) {
	mode := n.Str("mode", "constant")
	if err := shpPadMode(mode, opset); err != nil {
		return nil, err
	}
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if err := shpCheck(in, 2); err != nil {
			return nil, err
		}
		x := in[0]
		pads, err := shpIndexInts(in[1])
		if err != nil {
			return nil, err
		}
		cv := input(in, 2)
		if cv != nil {
			if cv.DType() != x.DType() {
				return nil, errf("constant_value dtype %s differs from data %s", cv.DType(), x.DType())
			}
			if cv.Numel() == 0 {
				cv = nil
			}
		}
		var axes []int
		if a := input(in, 3); a != nil && opset >= 18 {
			if axes, err = shpIndexInts(a); err != nil {
				return nil, err
			}
		}
		t, err := shpPad(x, pads, axes, mode, cv)
		if err != nil {
			return nil, err
		}
		return one(t)
	}), nil
}

func shpPad(x *tensor.Tensor, pads, axes []int, mode string, cv *tensor.Tensor) (*tensor.Tensor, error) {
	shape := x.Shape()
	r := len(shape)
	if axes == nil {
		axes = make([]int, r)
		for i := range axes {
			axes[i] = i
		}
	}
	na := len(axes)
	if len(pads) != 2*na {
		return nil, errf("pads has %d entries, want %d", len(pads), 2*na)
	}
	lo := make([]int, r)
	hi := make([]int, r)
	for i, a := range axes {
		ax, err := normAxis(a, r)
		if err != nil {
			return nil, err
		}
		lo[ax], hi[ax] = pads[i], pads[i+na]
	}
	oshape := make([]int, r)
	// maps[ax][o] is the source coordinate of output coordinate o, -1 for the constant.
	maps := make([][]int, r)
	for ax := 0; ax < r; ax++ {
		dim := shape[ax]
		od := dim + lo[ax] + hi[ax]
		if od < 0 {
			return nil, errf("pads %v crop dim %d below zero", pads, dim)
		}
		oshape[ax] = od
		m := make([]int, od)
		for o := range m {
			c := o - lo[ax]
			if c < 0 || c >= dim {
				switch {
				case mode == "constant":
					c = -1
				case dim == 0:
					return nil, errf("cannot %s-pad an empty dim", mode)
				case mode == "edge":
					c = max(0, min(c, dim-1))
				case mode == "wrap":
					c = ((c % dim) + dim) % dim
				default: // reflect
					if dim == 1 {
						c = 0
					} else {
						p := 2 * (dim - 1)
						c = ((c % p) + p) % p
						if c >= dim {
							c = p - c
						}
					}
				}
			}
			m[o] = c
		}
		maps[ax] = m
	}
	out := tensor.New(x.DType(), oshape...)
	total := out.Numel()
	if total == 0 {
		return out, nil
	}
	d, s := shpBufOf(out), shpBufOf(x)
	var v shpBuf
	if cv != nil {
		v = shpBufOf(cv)
	}
	constFill := func(o, n int) {
		if cv != nil {
			d.fill(o, n, v, 0)
		} else {
			d.zero(o, n)
		}
	}
	if r == 0 {
		d.copyFrom(0, s, 0, 1)
		return out, nil
	}
	st := tensor.Strides(shape)
	inner := oshape[r-1]
	im := maps[r-1]
	idx := make([]int, r-1)
	for o := 0; o < total; o += inner {
		so, outside := 0, false
		for j := range idx {
			c := maps[j][idx[j]]
			if c < 0 {
				outside = true
				break
			}
			so += c * st[j]
		}
		if outside {
			constFill(o, inner)
		} else {
			for j := 0; j < inner; {
				c := im[j]
				k := j + 1
				if c < 0 {
					for k < inner && im[k] < 0 {
						k++
					}
					constFill(o+j, k-j)
				} else {
					for k < inner && im[k] == im[k-1]+1 {
						k++
					}
					d.copyFrom(o+j, s, so+c, k-j)
				}
				j = k
			}
		}
		for j := r - 2; j >= 0; j-- {
			idx[j]++
			if idx[j] < oshape[j] {
				break
			}
			idx[j] = 0
		}
	}
	return out, nil
}

// ---------------------------------------------------------------------------
// Trilu

// shpTriluFactory builds Trilu (https://onnx.ai/onnx/operators/onnx__Trilu.html):
// keeps the upper (upper=1, j-i >= k) or lower (j-i <= k) triangle of the
// last two dims and zeroes the rest; k is an optional int64 scalar input.
func shpTriluFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	upper := n.Int("upper", 1) != 0
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if err := shpCheck(in, 1); err != nil {
			return nil, err
		}
		x := in[0]
		if x.Rank() < 2 {
			return nil, errf("Trilu needs rank >= 2, got %v", x.Shape())
		}
		k := 0
		if kt := input(in, 1); kt != nil {
			var err error
			if k, err = shpScalarInt(kt, "k"); err != nil {
				return nil, err
			}
		}
		shape := x.Shape()
		rows, cols := shape[len(shape)-2], shape[len(shape)-1]
		out := x.Clone()
		d := shpBufOf(out)
		if d.es == 0 {
			return nil, errf("Trilu does not support %s", x.DType())
		}
		mats := x.Numel() / max(rows*cols, 1)
		if rows*cols == 0 {
			return one(out)
		}
		for b := 0; b < mats; b++ {
			for i := 0; i < rows; i++ {
				o := (b*rows + i) * cols
				// keep columns j with j-i >= k (upper) or j-i <= k (lower)
				c := max(0, min(i+k, cols))
				if upper {
					d.zero(o, c)
				} else {
					c = max(0, min(i+k+1, cols))
					d.zero(o+c, cols-c)
				}
			}
		}
		return one(out)
	}), nil
}

// ---------------------------------------------------------------------------
// CumSum

// shpCumSumFactory builds CumSum (https://onnx.ai/onnx/operators/onnx__CumSum.html):
// axis is a scalar int32/int64 input; exclusive and reverse attributes.
// Opset 14 adds float16/bfloat16, computed in float32 here.
func shpCumSumFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	excl := n.Int("exclusive", 0) != 0
	rev := n.Int("reverse", 0) != 0
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if err := shpCheck(in, 2); err != nil {
			return nil, err
		}
		x := in[0]
		a, err := shpScalarInt(in[1], "axis")
		if err != nil {
			return nil, err
		}
		ax, err := normAxis(a, x.Rank())
		if err != nil {
			return nil, err
		}
		shape := x.Shape()
		var dim, inner int
		if x.Rank() == 0 {
			dim, inner = 1, 1
		} else {
			dim, inner = shape[ax], shpProd(shape[ax+1:])
		}
		outer := x.Numel() / max(dim*inner, 1)
		out := x.Clone()
		g := shpCumGeom{outer, dim, inner, excl, rev}
		switch x.DType() {
		case tensor.Float:
			shpCumSum(out.F32(), g)
		case tensor.Double:
			shpCumSum(out.F64(), g)
		case tensor.Int64:
			shpCumSum(out.I64(), g)
		case tensor.Int32:
			shpCumSum(out.I32(), g)
		case tensor.Uint64:
			shpCumSum(tensor.View[uint64](out), g)
		case tensor.Uint32:
			shpCumSum(tensor.View[uint32](out), g)
		case tensor.Float16, tensor.BFloat16:
			v := x.Float32s()
			shpCumSum(v, g)
			return one(fromF32(x.DType(), shape, v))
		default:
			return nil, errf("CumSum does not support %s", x.DType())
		}
		return one(out)
	}), nil
}

type shpCumGeom struct {
	outer, dim, inner int
	excl, rev         bool
}

func shpCumSum[T int32 | int64 | uint32 | uint64 | float32 | float64](v []T, g shpCumGeom) {
	for o := 0; o < g.outer; o++ {
		base := o * g.dim * g.inner
		for i := 0; i < g.inner; i++ {
			var acc T
			for k := 0; k < g.dim; k++ {
				kk := k
				if g.rev {
					kk = g.dim - 1 - k
				}
				p := base + kk*g.inner + i
				x := v[p]
				if g.excl {
					v[p] = acc
					acc += x
				} else {
					acc += x
					v[p] = acc
				}
			}
		}
	}
}

// ---------------------------------------------------------------------------
// TopK

// shpTopKAttrFactory builds TopK-1 (k as an attribute, largest, sorted).
// https://onnx.ai/onnx/operators/onnx__TopK.html
func shpTopKAttrFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	k := int(n.Int("k", -1))
	axis := int(n.Int("axis", -1))
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if err := shpCheck(in, 1); err != nil {
			return nil, err
		}
		return shpTopK(in[0], k, axis, true)
	}), nil
}

// shpTopKFactory builds TopK-10+ (k is an input; opset 11 adds largest and
// sorted). Results are always sorted; ties keep the lower index first.
func shpTopKFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	axis := int(n.Int("axis", -1))
	largest := n.Int("largest", 1) != 0
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if err := shpCheck(in, 2); err != nil {
			return nil, err
		}
		k, err := shpScalarInt(in[1], "k")
		if err != nil {
			return nil, err
		}
		return shpTopK(in[0], k, axis, largest)
	}), nil
}

func shpTopK(x *tensor.Tensor, k, axis int, largest bool) ([]*tensor.Tensor, error) {
	if x.Rank() == 0 {
		return nil, errf("TopK needs rank >= 1")
	}
	ax, err := normAxis(axis, x.Rank())
	if err != nil {
		return nil, err
	}
	shape := x.Shape()
	dim := shape[ax]
	if k < 0 || k > dim {
		return nil, errf("k %d out of range for dim %d", k, dim)
	}
	inner := shpProd(shape[ax+1:])
	outer := shpProd(shape[:ax])
	oshape := append([]int(nil), shape...)
	oshape[ax] = k
	vals := tensor.New(x.DType(), oshape...)
	inds := tensor.New(tensor.Int64, oshape...)
	dt := x.DType()
	var order func(base int, idx []int)
	switch {
	case dt.IsFloat():
		order = shpTopKOrder(x.Float64s(), inner, largest)
	case dt == tensor.Uint64 || dt == tensor.Uint32 || dt == tensor.Uint16 || dt == tensor.Uint8:
		var keys []uint64
		if dt == tensor.Uint64 {
			keys = tensor.View[uint64](x)
		} else {
			for _, v := range x.Int64s() {
				keys = append(keys, uint64(v))
			}
		}
		order = shpTopKOrder(keys, inner, largest)
	case dt.IsInt():
		order = shpTopKOrder(x.Int64s(), inner, largest)
	default:
		return nil, errf("TopK does not support %s", dt)
	}
	d, s := shpBufOf(vals), shpBufOf(x)
	iv := inds.I64()
	idx := make([]int, dim)
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			base := o*dim*inner + i
			order(base, idx)
			for j := 0; j < k; j++ {
				p := (o*k+j)*inner + i
				iv[p] = int64(idx[j])
				d.copyFrom(p, s, base+idx[j]*inner, 1)
			}
		}
	}
	return []*tensor.Tensor{vals, inds}, nil
}

// shpTopKOrder returns a function that fills idx with the positions along the
// axis (elements base, base+inner, ...) in TopK order, stable on ties (cmp.Compare
// order: NaN below every number).
func shpTopKOrder[T cmp.Ordered](keys []T, inner int, largest bool) func(base int, idx []int) {
	return func(base int, idx []int) {
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int {
			c := cmp.Compare(keys[base+a*inner], keys[base+b*inner])
			if largest {
				return -c
			}
			return c
		})
	}
}
