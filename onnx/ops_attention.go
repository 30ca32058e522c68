package onnx

import (
	"math"
	"sync"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/kernels"
	"github.com/txt2img/engine/tensor"
)

// Scaled dot-product attention (Attention, opsets 23 and 24) and rotary
// position embedding (RotaryEmbedding, opset 23). float16/bfloat16 inputs are
// computed in float32 and rounded once at the end.

func init() {
	reg("Attention", 23, 23, attnFactory(23))
	reg("Attention", 24, 0, attnFactory(24))
	reg("RotaryEmbedding", 23, 0, attnRotaryFactory)
}

// attnNegInf is the additive bias of a masked-out key.
var attnNegInf = float32(math.Inf(-1))

// attnOp holds the attributes of one Attention node.
type attnOp struct {
	opset       int
	causal      bool
	qHeads      int // q_num_heads (3-D inputs only)
	kvHeads     int // kv_num_heads (3-D inputs only)
	mode        int // qk_matmul_output_mode
	scale       float32
	hasScale    bool
	softcap     float32
	wantPresent [2]bool // present_key, present_value requested
	wantQK      bool    // qk_matmul_output requested
}

// attnFactory compiles an Attention node
// (https://onnx.ai/onnx/operators/onnx__Attention.html).
//
// Inputs Q, K, V are either 3-D [batch, seq, heads*head_size] (q_num_heads and
// kv_num_heads required) or 4-D [batch, heads, seq, head_size]. K/V heads must
// divide Q heads (grouped-query attention: query head h uses K/V head
// h/(q_heads/kv_heads)). past_key/past_value [batch, kv_heads, past, size] are
// prepended along the sequence axis and returned as present_key/present_value.
// attn_mask is boolean (true = attend) or additive, broadcastable to
// [batch, q_heads, q_seq, total_seq]; a mask shorter than total_seq along its
// last axis is padded with -inf. is_causal masks key j for query i when
// j > i + offset, offset = past length (or, opset 24 without past,
// nonpad_kv_seqlen[b] - q_seq). softcap (c > 0) maps scores to c*tanh(s/c)
// before the bias is added. A query row with no attendable key yields zero
// probabilities and a zero output row. qk_matmul_output_mode selects the 4th
// output: 0 scaled QK^T, 1 after softcap, 2 after adding the bias, 3 after
// softmax.
//
// Opset 24 adds the nonpad_kv_seqlen input (int64 [batch]): keys at or past
// nonpad_kv_seqlen[b] are masked, and causal masking is bottom-right aligned
// to that length when no past_key is given.
func attnFactory(opset int) graph.Factory {
	return func(n *graph.Node, _ int) (graph.Kernel, error) {
		op := &attnOp{
			opset:   opset,
			causal:  n.Int("is_causal", 0) != 0,
			qHeads:  int(n.Int("q_num_heads", 0)),
			kvHeads: int(n.Int("kv_num_heads", 0)),
			mode:    int(n.Int("qk_matmul_output_mode", 0)),
			softcap: n.Float("softcap", 0),
		}
		if n.Has("scale") {
			op.hasScale = true
			op.scale = n.Float("scale", 0)
		}
		if op.mode < 0 || op.mode > 3 {
			return nil, errf("Attention: qk_matmul_output_mode %d not in [0, 3]", op.mode)
		}
		if op.qHeads < 0 || op.kvHeads < 0 {
			return nil, errf("Attention: negative head count")
		}
		if sp := n.Int("softmax_precision", 0); sp != 0 {
			switch tensor.DType(sp) {
			case tensor.Float, tensor.Float16, tensor.BFloat16, tensor.Double:
			default:
				return nil, errf("Attention: unsupported softmax_precision %d", sp)
			}
		}
		for i := 1; i <= 2; i++ {
			op.wantPresent[i-1] = len(n.Outputs) > i && n.Outputs[i] != ""
		}
		op.wantQK = len(n.Outputs) > 3 && n.Outputs[3] != ""
		return graph.KernelFunc(op.run), nil
	}
}

// attnDims describes one Attention call after shape validation.
type attnDims struct {
	b, hq, hkv, sq, skv, past, total, d, dv int
	is3D                                    bool
}

func (op *attnOp) dims(q, k, v, pk, pv *tensor.Tensor) (attnDims, error) {
	var a attnDims
	qs, ks, vs := q.Shape(), k.Shape(), v.Shape()
	if len(qs) != len(ks) || len(qs) != len(vs) || (len(qs) != 3 && len(qs) != 4) {
		return a, errf("Attention: Q, K, V must all be 3-D or 4-D, got %v %v %v", qs, ks, vs)
	}
	a.b = qs[0]
	if ks[0] != a.b || vs[0] != a.b {
		return a, errf("Attention: batch sizes differ: %v %v %v", qs, ks, vs)
	}
	if len(qs) == 3 {
		a.is3D = true
		if op.qHeads <= 0 || op.kvHeads <= 0 {
			return a, errf("Attention: 3-D inputs need q_num_heads and kv_num_heads")
		}
		a.hq, a.hkv = op.qHeads, op.kvHeads
		if qs[2]%a.hq != 0 || ks[2]%a.hkv != 0 || vs[2]%a.hkv != 0 {
			return a, errf("Attention: hidden sizes %d/%d/%d not divisible by heads %d/%d", qs[2], ks[2], vs[2], a.hq, a.hkv)
		}
		a.sq, a.skv = qs[1], ks[1]
		a.d, a.dv = qs[2]/a.hq, vs[2]/a.hkv
		if ks[2]/a.hkv != a.d || vs[1] != a.skv {
			return a, errf("Attention: K %v / V %v do not match Q %v", ks, vs, qs)
		}
	} else {
		a.hq, a.sq, a.d = qs[1], qs[2], qs[3]
		a.hkv, a.skv, a.dv = ks[1], ks[2], vs[3]
		if ks[3] != a.d || vs[1] != a.hkv || vs[2] != a.skv {
			return a, errf("Attention: K %v / V %v do not match Q %v", ks, vs, qs)
		}
	}
	if a.hkv == 0 || a.hq%a.hkv != 0 {
		return a, errf("Attention: kv heads %d must divide q heads %d", a.hkv, a.hq)
	}
	pastOf := func(p *tensor.Tensor, size int, name string) (int, error) {
		if p == nil {
			return 0, nil
		}
		s := p.Shape()
		if len(s) != 4 || s[0] != a.b || s[1] != a.hkv || s[3] != size {
			return 0, errf("Attention: %s shape %v, want [%d, %d, past, %d]", name, s, a.b, a.hkv, size)
		}
		return s[2], nil
	}
	pK, err := pastOf(pk, a.d, "past_key")
	if err != nil {
		return a, err
	}
	pV, err := pastOf(pv, a.dv, "past_value")
	if err != nil {
		return a, err
	}
	if pK != pV {
		return a, errf("Attention: past_key length %d != past_value length %d", pK, pV)
	}
	a.past = pK
	a.total = a.past + a.skv
	return a, nil
}

// attnFloats returns t's data as float32 (a view for float32 tensors).
func attnFloats(t *tensor.Tensor) ([]float32, error) {
	switch t.DType() {
	case tensor.Float, tensor.Float16, tensor.BFloat16, tensor.Double:
		return toF32(t), nil
	}
	return nil, errf("Attention: unsupported dtype %s", t.DType())
}

// attnCache builds the present K or V cache [b, h, past+s, size] from the
// optional past cache and the new values cur (3-D [b, s, h*size] or 4-D
// [b, h, s, size] layout). Without past and in 4-D layout cur is returned as is.
func attnCache(past *tensor.Tensor, cur []float32, a attnDims, size int) ([]float32, error) {
	if past == nil && !a.is3D {
		return cur, nil
	}
	h, s, total := a.hkv, a.skv, a.total
	out := make([]float32, a.b*h*total*size)
	var pd []float32
	if past != nil {
		var err error
		if pd, err = attnFloats(past); err != nil {
			return nil, err
		}
	}
	for b := 0; b < a.b; b++ {
		for hh := 0; hh < h; hh++ {
			dst := out[((b*h+hh)*total)*size:]
			if past != nil {
				n := a.past * size
				copy(dst[:n], pd[(b*h+hh)*n:])
				dst = dst[n:]
			}
			for j := 0; j < s; j++ {
				var src []float32
				if a.is3D {
					src = cur[((b*s+j)*h+hh)*size:]
				} else {
					src = cur[((b*h+hh)*s+j)*size:]
				}
				copy(dst[j*size:(j+1)*size], src[:size])
			}
		}
	}
	return out, nil
}

// attnMask is the additive attention bias from attn_mask, aligned to
// [batch, q_heads, q_seq, width] with broadcast (zero) strides; keys at or past
// width are masked.
type attnMask struct {
	bias    []float32
	strides [4]int
	width   int
}

func attnPrepMask(m *tensor.Tensor, qdt tensor.DType, a attnDims) (*attnMask, error) {
	s := m.Shape()
	if len(s) < 1 || len(s) > 4 {
		return nil, errf("Attention: attn_mask rank %d not in [1, 4]", len(s))
	}
	am := &attnMask{width: s[len(s)-1]}
	if am.width > a.total {
		return nil, errf("Attention: attn_mask length %d exceeds total sequence %d", am.width, a.total)
	}
	switch dt := m.DType(); {
	case dt == tensor.Bool:
		bs := m.Bools()
		am.bias = make([]float32, len(bs))
		for i, ok := range bs {
			if !ok {
				am.bias[i] = attnNegInf
			}
		}
	case dt == qdt:
		var err error
		if am.bias, err = attnFloats(m); err != nil {
			return nil, err
		}
	default:
		return nil, errf("Attention: attn_mask dtype %s must be bool or %s", dt, qdt)
	}
	target := [4]int{a.b, a.hq, a.sq, am.width}
	off := 4 - len(s)
	acc := 1
	for i := len(s) - 1; i >= 0; i-- {
		d := s[i]
		switch {
		case d == target[off+i]:
			if d != 1 {
				am.strides[off+i] = acc
			}
		case d == 1:
		default:
			return nil, errf("Attention: attn_mask shape %v does not broadcast to %v", s, target)
		}
		acc *= d
	}
	return am, nil
}

func (op *attnOp) run(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	q, k, v := input(in, 0), input(in, 1), input(in, 2)
	if q == nil || k == nil || v == nil {
		return nil, errf("Attention: Q, K and V are required")
	}
	maxIn := 6
	if op.opset >= 24 {
		maxIn = 7
	}
	if len(in) > maxIn {
		return nil, errf("Attention: opset %d takes at most %d inputs, got %d", op.opset, maxIn, len(in))
	}
	mask, pk, pv, nonpad := input(in, 3), input(in, 4), input(in, 5), input(in, 6)
	dt := q.DType()
	if k.DType() != dt || v.DType() != dt {
		return nil, errf("Attention: Q, K, V dtypes differ: %s %s %s", dt, k.DType(), v.DType())
	}
	for _, p := range []*tensor.Tensor{pk, pv} {
		if p != nil && p.DType() != dt {
			return nil, errf("Attention: past cache dtype %s != %s", p.DType(), dt)
		}
	}
	a, err := op.dims(q, k, v, pk, pv)
	if err != nil {
		return nil, err
	}
	qd, err := attnFloats(q)
	if err != nil {
		return nil, err
	}
	kd, err := attnFloats(k)
	if err != nil {
		return nil, err
	}
	vd, err := attnFloats(v)
	if err != nil {
		return nil, err
	}
	kAll, err := attnCache(pk, kd, a, a.d)
	if err != nil {
		return nil, err
	}
	vAll, err := attnCache(pv, vd, a, a.dv)
	if err != nil {
		return nil, err
	}
	var am *attnMask
	if mask != nil {
		if am, err = attnPrepMask(mask, dt, a); err != nil {
			return nil, err
		}
	}
	var valid []int // per-batch count of non-padding keys
	if nonpad != nil {
		if nonpad.DType() != tensor.Int64 && nonpad.DType() != tensor.Int32 {
			return nil, errf("Attention: nonpad_kv_seqlen dtype %s, want int64", nonpad.DType())
		}
		if nonpad.Numel() != a.b {
			return nil, errf("Attention: nonpad_kv_seqlen has %d values, want %d", nonpad.Numel(), a.b)
		}
		valid = make([]int, a.b)
		for i, x := range nonpad.Int64s() {
			valid[i] = int(min(max(x, 0), int64(a.total)))
		}
	}
	scale := op.scale
	if !op.hasScale {
		scale = float32(1 / math.Sqrt(float64(a.d)))
	}

	y := make([]float32, a.b*a.hq*a.sq*a.dv)
	var qk []float32
	if op.wantQK {
		qk = make([]float32, a.b*a.hq*a.sq*a.total)
	}
	groups := a.hq / a.hkv
	work := func(lo, hi int) {
		scores := make([]float32, a.total)
		acc := make([]float32, a.dv)
		for bh := lo; bh < hi; bh++ {
			b, h := bh/a.hq, bh%a.hq
			kh := b*a.hkv + h/groups
			kBase := kAll[kh*a.total*a.d : (kh+1)*a.total*a.d]
			vBase := vAll[kh*a.total*a.dv : (kh+1)*a.total*a.dv]
			// causal frontier: key j is visible to query i iff j <= i+offset
			offset := 0
			if op.causal {
				if pk != nil {
					offset = a.past
				} else if valid != nil {
					offset = valid[b] - a.sq
				}
			}
			keys := a.total
			if valid != nil {
				keys = valid[b]
			}
			for i := 0; i < a.sq; i++ {
				var qrow, yrow []float32
				if a.is3D {
					qrow = qd[((b*a.sq+i)*a.hq+h)*a.d:][:a.d]
					yrow = y[((b*a.sq+i)*a.hq+h)*a.dv:][:a.dv]
				} else {
					qrow = qd[((b*a.hq+h)*a.sq+i)*a.d:][:a.d]
					yrow = y[((b*a.hq+h)*a.sq+i)*a.dv:][:a.dv]
				}
				var qkRow []float32
				if qk != nil {
					qkRow = qk[((b*a.hq+h)*a.sq+i)*a.total:][:a.total]
				}
				for j := range scores {
					kr := kBase[j*a.d : (j+1)*a.d]
					var s float32
					for t, x := range qrow {
						s += x * kr[t]
					}
					scores[j] = s * scale
				}
				if op.mode == 0 && qkRow != nil {
					copy(qkRow, scores)
				}
				if c := op.softcap; c > 0 {
					for j, s := range scores {
						scores[j] = c * float32(math.Tanh(float64(s/c)))
					}
				}
				if op.mode == 1 && qkRow != nil {
					copy(qkRow, scores)
				}
				// bias: attn_mask, causal frontier, padding
				limit := keys
				if op.causal {
					limit = min(limit, i+offset+1)
				}
				if am != nil {
					mrow := am.bias[b*am.strides[0]+h*am.strides[1]+i*am.strides[2]:]
					st := am.strides[3]
					for j := 0; j < am.width; j++ {
						scores[j] += mrow[j*st]
					}
					limit = min(limit, am.width)
				}
				for j := max(limit, 0); j < a.total; j++ {
					scores[j] = attnNegInf
				}
				if op.mode == 2 && qkRow != nil {
					copy(qkRow, scores)
				}
				attnSoftmax(scores)
				if op.mode == 3 && qkRow != nil {
					copy(qkRow, scores)
				}
				clear(acc)
				for j, p := range scores {
					if p == 0 {
						continue
					}
					vr := vBase[j*a.dv : (j+1)*a.dv]
					for t, x := range vr {
						acc[t] += p * x
					}
				}
				copy(yrow, acc)
			}
		}
	}
	if op.softcap <= 0 && qk == nil {
		faAttend(ec, a, qd, kAll, vAll, y, am, valid, op.causal, pk != nil, scale)
	} else {
		attnParallel(a.b*a.hq, ec.Threads, a.sq*a.total*(a.d+a.dv), work)
	}

	outs := make([]*tensor.Tensor, 4)
	if a.is3D {
		outs[0] = fromF32(dt, []int{a.b, a.sq, a.hq * a.dv}, y)
	} else {
		outs[0] = fromF32(dt, []int{a.b, a.hq, a.sq, a.dv}, y)
	}
	if op.wantPresent[0] {
		outs[1] = attnOut(dt, []int{a.b, a.hkv, a.total, a.d}, kAll, k, pk == nil && !a.is3D)
	}
	if op.wantPresent[1] {
		outs[2] = attnOut(dt, []int{a.b, a.hkv, a.total, a.dv}, vAll, v, pv == nil && !a.is3D)
	}
	if qk != nil {
		outs[3] = fromF32(dt, []int{a.b, a.hq, a.sq, a.total}, qk)
	}
	return outs, nil
}

// faAttend runs the Attention core with kernels.Attend (used unless
// softcap is set or qk_matmul_output is requested): Q and Y in float32 as
// [b, s, heads*size] or [b, heads, s, size], K/V caches [b, kv_heads,
// total, size]; attn_mask as an additive bias row per query (keys at or
// past its width masked), nonpad_kv_seqlen as the per-batch key count, the
// causal frontier at i + offset. A row with no attendable key is zero, as
// in the loop it replaces.
func faAttend(ec *graph.ExecContext, a attnDims, qd, kAll, vAll, y []float32, am *attnMask, valid []int, causal, hasPast bool, scale float32) {
	groups := a.hq / a.hkv
	k := &kernels.Attention{Heads: a.b * a.hq, Sq: a.sq, Skv: a.total, D: a.d, Dv: a.dv, Scale: scale, Causal: causal,
		Q:   kernels.Operand{F32: qd, LD: a.d},
		K:   kernels.Operand{F32: kAll, LD: a.d},
		V:   kernels.Operand{F32: vAll, LD: a.dv},
		Out: kernels.Operand{F32: y, LD: a.dv}}
	if a.is3D {
		k.Q.LD, k.Out.LD = a.hq*a.d, a.hq*a.dv
	}
	if am != nil {
		k.Mask = kernels.AttentionMask{F32: am.bias, LD: am.strides[2]}
	}
	k.Head = func(p int) kernels.AttentionHead {
		b, h := p/a.hq, p%a.hq
		kh := b*a.hkv + h/groups
		r := kernels.AttentionHead{K: kh * a.total * a.d, V: kh * a.total * a.dv, Keys: a.total}
		if a.is3D {
			r.Q, r.Out = b*a.sq*a.hq*a.d+h*a.d, b*a.sq*a.hq*a.dv+h*a.dv
		} else {
			r.Q, r.Out = p*a.sq*a.d, p*a.sq*a.dv
		}
		if valid != nil {
			r.Keys = valid[b]
		}
		if am != nil {
			r.Mask = b*am.strides[0] + h*am.strides[1]
			r.Keys = min(r.Keys, am.width)
		}
		if causal {
			if hasPast {
				r.CausalShift = a.past
			} else if valid != nil {
				r.CausalShift = valid[b] - a.sq
			}
		}
		return r
	}
	kernels.Attend(k, nnThreads(ec))
}

// attnOut wraps a present cache; when it is the unchanged input itself the
// input tensor is returned (kernels may return views of inputs).
func attnOut(dt tensor.DType, shape []int, data []float32, orig *tensor.Tensor, same bool) *tensor.Tensor {
	if same {
		return orig
	}
	return fromF32(dt, shape, data)
}

// attnSoftmax normalizes row in place; a row with no finite score (fully
// masked) becomes all zeros.
func attnSoftmax(row []float32) {
	m := attnNegInf
	for _, x := range row {
		if x > m {
			m = x
		}
	}
	if math.IsInf(float64(m), -1) || m != m {
		clear(row)
		return
	}
	var sum float32
	for j, x := range row {
		e := float32(math.Exp(float64(x - m)))
		row[j] = e
		sum += e
	}
	inv := 1 / sum
	for j := range row {
		row[j] *= inv
	}
}

// attnParallel runs fn over [0, n) split across up to threads goroutines when
// the total work (cost per item) is large enough to pay for them.
func attnParallel(n, threads, cost int, fn func(lo, hi int)) {
	if threads < 1 {
		threads = 1
	}
	if threads > n {
		threads = n
	}
	if threads <= 1 || n*cost < 1<<15 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + threads - 1) / threads
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}

// attnRotaryFactory compiles a RotaryEmbedding node
// (https://onnx.ai/onnx/operators/onnx__RotaryEmbedding.html, opset 23).
//
// input is 4-D [batch, heads, seq, head_size] or 3-D [batch, seq, hidden]
// with num_heads set. The first rotary_embedding_dim (default head_size)
// channels of each head are rotated: with interleaved=0 as two halves
// (x1 = x[:r/2], x2 = x[r/2:r]), with interleaved=1 as pairs (x[2i], x[2i+1]):
// x1' = cos*x1 - sin*x2, x2' = sin*x1 + cos*x2. With position_ids [batch, seq]
// the caches are [max_pos, r/2] tables indexed by position; without them
// the caches are [batch, seq, r/2] (a leading batch of 1, or a 2-D [seq, r/2]
// cache, broadcasts).
func attnRotaryFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	interleaved := n.Int("interleaved", 0) != 0
	rotDim := int(n.Int("rotary_embedding_dim", 0))
	numHeads := int(n.Int("num_heads", 0))
	if rotDim < 0 || numHeads < 0 {
		return nil, errf("RotaryEmbedding: negative rotary_embedding_dim or num_heads")
	}
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, cosT, sinT, pos := input(in, 0), input(in, 1), input(in, 2), input(in, 3)
		if x == nil || cosT == nil || sinT == nil {
			return nil, errf("RotaryEmbedding: input, cos_cache and sin_cache are required")
		}
		dt := x.DType()
		if dt != tensor.Float && dt != tensor.Float16 && dt != tensor.BFloat16 && dt != tensor.Double {
			return nil, errf("RotaryEmbedding: unsupported dtype %s", dt)
		}
		if cosT.DType() != dt || sinT.DType() != dt {
			return nil, errf("RotaryEmbedding: cache dtype %s/%s != %s", cosT.DType(), sinT.DType(), dt)
		}
		xs := x.Shape()
		var b, s, h, d int
		var sS, sH int // element strides of the seq and head axes
		switch len(xs) {
		case 4:
			b, h, s, d = xs[0], xs[1], xs[2], xs[3]
			sH, sS = s*d, d
		case 3:
			if numHeads == 0 {
				return nil, errf("RotaryEmbedding: 3-D input needs num_heads")
			}
			if xs[2]%numHeads != 0 {
				return nil, errf("RotaryEmbedding: hidden %d not divisible by num_heads %d", xs[2], numHeads)
			}
			b, s, h, d = xs[0], xs[1], numHeads, xs[2]/numHeads
			sS, sH = h*d, d
		default:
			return nil, errf("RotaryEmbedding: input rank %d, want 3 or 4", len(xs))
		}
		r := rotDim
		if r == 0 {
			r = d
		}
		if r > d || r%2 != 0 {
			return nil, errf("RotaryEmbedding: rotary_embedding_dim %d invalid for head size %d", r, d)
		}
		half := r / 2
		cs, ss := cosT.Shape(), sinT.Shape()
		if !tensor.SameShape(cs, ss) || len(cs) < 2 || cs[len(cs)-1] != half {
			return nil, errf("RotaryEmbedding: cache shapes %v/%v, want last dim %d", cs, ss, half)
		}
		// rowOf(bi, si) gives the cache row (offset in halves) for a token.
		var rowOf func(bi, si int) int
		if pos != nil {
			if len(cs) != 2 {
				return nil, errf("RotaryEmbedding: with position_ids the caches must be 2-D, got %v", cs)
			}
			ps := pos.Shape()
			if len(ps) != 2 || ps[0] != b || ps[1] != s {
				return nil, errf("RotaryEmbedding: position_ids shape %v, want [%d %d]", ps, b, s)
			}
			pv := pos.Int64s()
			for _, p := range pv {
				if p < 0 || p >= int64(cs[0]) {
					return nil, errf("RotaryEmbedding: position id %d out of range [0, %d)", p, cs[0])
				}
			}
			rowOf = func(bi, si int) int { return int(pv[bi*s+si]) }
		} else {
			switch {
			case len(cs) == 3 && (cs[0] == b || cs[0] == 1) && cs[1] == s:
				bStride := s
				if cs[0] == 1 {
					bStride = 0
				}
				rowOf = func(bi, si int) int { return bi*bStride + si }
			case len(cs) == 2 && cs[0] == s:
				rowOf = func(_, si int) int { return si }
			default:
				return nil, errf("RotaryEmbedding: cache shape %v, want [%d %d %d]", cs, b, s, half)
			}
		}
		xd := toF32(x)
		cd, sd := toF32(cosT), toF32(sinT)
		out := make([]float32, len(xd))
		copy(out, xd)
		for bi := 0; bi < b; bi++ {
			base := bi * s * h * d
			for si := 0; si < s; si++ {
				row := rowOf(bi, si) * half
				cr, sr := cd[row:row+half], sd[row:row+half]
				for hi := 0; hi < h; hi++ {
					o := base + si*sS + hi*sH
					src, dst := xd[o:o+r], out[o:o+r]
					if interleaved {
						for i := 0; i < half; i++ {
							x1, x2 := src[2*i], src[2*i+1]
							dst[2*i] = cr[i]*x1 - sr[i]*x2
							dst[2*i+1] = sr[i]*x1 + cr[i]*x2
						}
					} else {
						for i := 0; i < half; i++ {
							x1, x2 := src[i], src[half+i]
							dst[i] = cr[i]*x1 - sr[i]*x2
							dst[half+i] = sr[i]*x1 + cr[i]*x2
						}
					}
				}
			}
		}
		return one(fromF32(dt, xs, out))
	}), nil
}
