package onnx

import (
	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/tensor"
)

func init() {
	reg("NonZero", 9, 0, fn(janusNonZeroKernel))
}

// janusNonZeroKernel is NonZero (https://onnx.ai/onnx/operators/onnx__NonZero.html):
// int64 [rank, n] indices of the n non-zero elements in row-major order (a
// scalar input gives [0, n]). NaN counts as non-zero.
func janusNonZeroKernel(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if len(in) != 1 || in[0] == nil {
		return nil, errf("NonZero: want 1 input, got %d", len(in))
	}
	x := in[0]
	if x.DType() == tensor.String || x.DType().Bits() < 8 {
		return nil, errf("NonZero: unsupported dtype %s", x.DType())
	}
	n := x.Numel()
	var hits []int
	for i := 0; i < n; i++ {
		if x.At(i) != 0 {
			hits = append(hits, i)
		}
	}
	shape := x.Shape()
	r := len(shape)
	out := ec.Alloc(tensor.Int64, r, len(hits))
	o := out.I64()
	strides := tensor.Strides(shape)
	for j, h := range hits {
		for d := 0; d < r; d++ {
			o[d*len(hits)+j] = int64(h / strides[d] % shape[d])
		}
	}
	return one(out)
}
