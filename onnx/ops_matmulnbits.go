package onnx

import (
	"sync"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/kernels"
	"github.com/txt2img/engine/tensor"
)

// Block-quantized matrix product: com.microsoft MatMulNBits, as written by
// ONNX Runtime's matmul_nbits_quantizer (the Janus-Pro q4 / q4f16 language
// models). The weights stay packed; kernels.QGemm dequantizes them per block
// inside the product, and for decode-sized inputs (up to 4 rows) the kernel
// sets' GEMV assembly reads the nibbles straight into the dot products.

func init() {
	regMS("MatMulNBits", nbMatMulNBitsFactory)
}

// nbMatMulNBitsFactory builds com.microsoft MatMulNBits
// (https://github.com/microsoft/onnxruntime/blob/main/docs/ContribOperators.md#com.microsoft.MatMulNBits):
// Y = A * dequant(B)^T (+ bias), A [..., K] float32 or float16, B uint8
// [N, ceil(K/block_size), block_size*bits/8] codes packed low bits first,
// scales [N*blocks] (or [N, blocks]), optional zero_points (packed uint8
// codes, N*ceil(blocks*bits/8) bytes, or unpacked floats [N*blocks]; absent:
// 2^(bits-1)), optional g_idx (int32 [K], block of each k), optional bias [N].
// accuracy_level 4 quantizes A per block to int8 and uses integer dot
// products (ORT's CompInt8); other levels compute in float32. Y has A's
// dtype; float16 computes in float32 and rounds once.
func nbMatMulNBitsFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	K := int(n.Int("K", 0))
	N := int(n.Int("N", 0))
	bits := int(n.Int("bits", 4))
	bs := int(n.Int("block_size", 0))
	acc := int(n.Int("accuracy_level", 0))
	switch {
	case K <= 0 || N <= 0:
		return nil, errf("MatMulNBits: K and N must be positive, got K=%d N=%d", K, N)
	case bits != 2 && bits != 4 && bits != 8:
		return nil, errf("MatMulNBits: bits=%d not supported (2, 4 or 8)", bits)
	case bs < 16 || bs&(bs-1) != 0:
		return nil, errf("MatMulNBits: block_size %d must be a power of two >= 16", bs)
	case acc < 0 || acc > 4:
		return nil, errf("MatMulNBits: accuracy_level %d out of range 0..4", acc)
	}
	k := &nbKernel{K: K, N: N, bits: bits, bs: bs, int8A: acc == 4}
	return k, nil
}

// qkQAPool recycles the int8 activations of accuracy_level 4 products.
var qkQAPool = sync.Pool{New: func() any { return new(kernels.QuantizedA) }}

type nbKernel struct {
	K, N, bits, bs int
	int8A          bool
}

func (k *nbKernel) Run(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	a, b, scales := input(in, 0), input(in, 1), input(in, 2)
	zp, gidx, bias := input(in, 3), input(in, 4), input(in, 5)
	if a == nil || b == nil || scales == nil {
		return nil, errf("MatMulNBits needs inputs A, B and scales")
	}
	dt := a.DType()
	if dt != tensor.Float && dt != tensor.Float16 {
		return nil, errf("MatMulNBits: A must be float or float16, got %s", dt)
	}
	as := a.Shape()
	if len(as) == 0 || as[len(as)-1] != k.K {
		return nil, errf("MatMulNBits: A shape %v does not end in K=%d", as, k.K)
	}
	if b.DType() != tensor.Uint8 {
		return nil, errf("MatMulNBits: B must be uint8, got %s", b.DType())
	}
	w := &kernels.QMatrix{N: k.N, K: k.K, BlockSize: k.bs, Bits: k.bits, Data: b.U8()}
	switch scales.DType() {
	case tensor.Float:
		w.ScalesF32 = scales.F32()
	case tensor.Float16:
		w.ScalesF16 = tensor.View[uint16](scales)
	default:
		return nil, errf("MatMulNBits: scales must be float or float16, got %s", scales.DType())
	}
	if zp != nil {
		switch zp.DType() {
		case tensor.Uint8:
			w.ZPCodes = zp.U8()
		case tensor.Float:
			w.ZPF32 = zp.F32()
		case tensor.Float16:
			w.ZPF16 = tensor.View[uint16](zp)
		default:
			return nil, errf("MatMulNBits: zero_points must be uint8, float or float16, got %s", zp.DType())
		}
	}
	if gidx != nil {
		if gidx.DType() != tensor.Int32 {
			return nil, errf("MatMulNBits: g_idx must be int32, got %s", gidx.DType())
		}
		w.GIdx = gidx.I32()
	}
	if msg := w.Check(); msg != "" {
		return nil, errf("MatMulNBits: %s (B %v, scales %v)", msg, b.Shape(), scales.Shape())
	}
	var bf []float32
	if bias != nil {
		if bias.Numel() != k.N || (bias.DType() != tensor.Float && bias.DType() != tensor.Float16) {
			return nil, errf("MatMulNBits: bias must be %d float values, got %s", k.N, bias)
		}
		bf = toF32(bias)
	}
	m := a.Numel() / k.K
	oshape := append(append([]int(nil), as[:len(as)-1]...), k.N)
	out := ec.Alloc(dt, oshape...)
	if m == 0 {
		return one(out)
	}
	af := toF32(a)
	var c []float32
	if dt == tensor.Float {
		c = out.F32()
	} else {
		c = make([]float32, m*k.N)
	}
	threads := nnThreads(ec)
	if k.int8A && w.ZPF32 == nil && w.ZPF16 == nil && w.GIdx == nil {
		qa := qkQAPool.Get().(*kernels.QuantizedA)
		kernels.QuantizeA(qa, m, k.K, k.bs, af, k.K)
		kernels.QGemmInt8(qa, w, bf, c, k.N, threads)
		qkQAPool.Put(qa)
	} else {
		kernels.QGemm(m, af, k.K, w, bf, c, k.N, threads)
	}
	if dt == tensor.Float16 {
		d := tensor.View[uint16](out)
		for i, v := range c {
			d[i] = tensor.F32ToF16(v)
		}
	}
	return one(out)
}
