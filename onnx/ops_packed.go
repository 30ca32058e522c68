package onnx

import (
	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/kernels"
	"github.com/txt2img/engine/tensor"
)

// Prepacked constant weights.
//
// A MatMul, fused MatMul+bias or convolution whose weight is a constant of
// the session packs it once, on first use, into the GEMM micro-kernel's
// panel layout (kernels.PackB; fp16 weights stay fp16) and keeps it in the
// session's memo, keyed by the weight tensor so nodes sharing a weight
// share the packed copy. The weight's pages in the file mapping are then
// released (releaseMapped): the packed copy replaces them in memory rather
// than doubling it.

// pkKey identifies one packed form of a constant in a session's memo.
type pkKey struct {
	t     *tensor.Tensor
	trans bool
	k, n  int
}

// pkWeight returns the constant t, as the k x n GEMM operand op, packed
// for kernels.GemmPacked; nil when t is not a constant of the session.
func pkWeight(ec *graph.ExecContext, t *tensor.Tensor, op kernels.Operand, k, n int) *kernels.PackedB {
	if k < 1 || n < 1 || !ec.IsConst(t) || (op.F32 == nil && op.F16 == nil) {
		return nil
	}
	v := ec.Memo(pkKey{t, op.Trans, k, n}, func() any {
		pb := kernels.PackB(k, n, op, nnThreads(ec))
		releaseMapped(t.Bytes())
		return pb
	})
	return v.(*kernels.PackedB)
}

// pkMatMulWeight returns MatMul's B packed when it is a constant 2-D
// float32 or float16 matrix worth packing for A: always for float32
// weights, and for float16 weights when A has more than 4 rows (fewer rows
// run kernels.HGemv on the weight in place, which is faster).
func pkMatMulWeight(ec *graph.ExecContext, a, b *tensor.Tensor) *kernels.PackedB {
	if b.Rank() != 2 || !b.Contiguous() || a.Rank() < 1 {
		return nil
	}
	dt := a.DType()
	if !nnGemmDType(dt) || !(b.DType() == dt || dt == tensor.Float && b.DType() == tensor.Float16) {
		return nil
	}
	K, N := b.Shape()[0], b.Shape()[1]
	if K < 1 || a.Shape()[a.Rank()-1] != K {
		return nil
	}
	if b.DType() == tensor.Float16 && a.Numel()/K <= 4 {
		return nil
	}
	return pkWeight(ec, b, nnOpAt(nnOperand(b), 0, N, false), K, N)
}
