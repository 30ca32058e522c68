package onnx

import (
	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/tensor"
)

func init() {
	reg("NonZero", 9, 0, fn(nbNonZero))
}

// nbNonZero implements NonZero (https://onnx.ai/onnx/operators/onnx__NonZero.html):
// the indices of the non-zero elements of X as int64 [rank(X), nnz], in
// row-major order (numpy.nonzero). Opset 9 and 13 differ only in the dtypes
// allowed (13 adds bfloat16). A scalar is treated as a one-element vector, as
// ONNX Runtime does, giving [1, nnz].
func nbNonZero(_ *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := input(in, 0)
	if x == nil || len(in) != 1 {
		return nil, errf("NonZero needs exactly one input")
	}
	if x.Kind != tensor.KindTensor || x.DType() == tensor.String {
		return nil, errf("NonZero: unsupported input %s", x)
	}
	shape := x.Shape()
	if len(shape) == 0 {
		shape = []int{1}
	}
	n := x.Numel()
	nz := make([]bool, n)
	cnt := 0
	es := x.DType().Size()
	b := x.Bytes()
	for i := 0; i < n; i++ {
		var v bool
		switch x.DType() {
		case tensor.Float16, tensor.BFloat16:
			v = b[2*i]|b[2*i+1]&0x7f != 0 // -0 is zero
		case tensor.Float, tensor.Double:
			v = x.At(i) != 0
		default:
			for _, c := range b[i*es : (i+1)*es] {
				v = v || c != 0
			}
		}
		if v {
			nz[i] = true
			cnt++
		}
	}
	r := len(shape)
	out := tensor.New(tensor.Int64, r, cnt)
	o := out.I64()
	st := tensor.Strides(shape)
	j := 0
	for i, v := range nz {
		if !v {
			continue
		}
		rem := i
		for d := 0; d < r; d++ {
			o[d*cnt+j] = int64(rem / st[d])
			rem %= st[d]
		}
		j++
	}
	return one(out)
}
