package onnx

import (
	"math"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/tensor"
)

// Linear quantization ops: QuantizeLinear, DequantizeLinear,
// DynamicQuantizeLinear and MatMulInteger. The arithmetic follows the ONNX
// numpy reference implementation (onnx/reference/ops/op_*quantize*.py).

func init() {
	reg("QuantizeLinear", 10, 0, quantizeFactory)
	reg("DequantizeLinear", 10, 0, dequantizeFactory)
	reg("DynamicQuantizeLinear", 11, 0, fn(dynQuantKernel))
	reg("MatMulInteger", 10, 0, fn(matMulIntegerKernel))
}

// castQuantRange gives the integer range of a quantized integer dtype.
func castQuantRange(dt tensor.DType) (lo, hi float64, ok bool) {
	switch dt {
	case tensor.Uint8:
		return 0, 255, true
	case tensor.Int8:
		return -128, 127, true
	case tensor.Uint16:
		return 0, 65535, true
	case tensor.Int16:
		return -32768, 32767, true
	case tensor.Uint4:
		return 0, 15, true
	case tensor.Int4:
		return -8, 7, true
	case tensor.Uint2:
		return 0, 3, true
	case tensor.Int2:
		return -2, 1, true
	}
	return 0, 0, false
}

// castQuantLayout maps every element of x to the index of its scale / zero
// point. x is viewed as [outer, dim, inner] around axis; element (o, a, i)
// uses index base(o, a) + step*i.
type castQuantLayout struct {
	outer, dim, inner int
	mode              int // 0 per-tensor, 1 per-axis, 2 blocked
	block, nblk       int
}

func (l *castQuantLayout) base(o, a int) (int, int) {
	switch l.mode {
	case 1:
		return a, 0
	case 2:
		return (o*l.nblk + a/l.block) * l.inner, 1
	}
	return 0, 0
}

// castQuantLayoutFor validates the scale shape against x for the given axis
// and block size (opset 21+ blocked quantization).
func castQuantLayoutFor(op string, xs, ss []int, axis, block int) (*castQuantLayout, error) {
	rank := len(xs)
	l := &castQuantLayout{outer: 1, dim: 1, inner: 1}
	sn := tensor.Numel(ss)
	if sn == 1 && block <= 0 {
		l.outer = tensor.Numel(xs)
		return l, nil
	}
	ax, err := normAxis(axis, rank)
	if err != nil {
		return nil, errf("%s: %v", op, err)
	}
	if rank == 0 {
		return nil, errf("%s: scale of shape %v for a scalar input", op, ss)
	}
	for i, d := range xs {
		switch {
		case i < ax:
			l.outer *= d
		case i == ax:
			l.dim = d
		default:
			l.inner *= d
		}
	}
	if block <= 0 {
		if len(ss) != 1 || ss[0] != xs[ax] {
			return nil, errf("%s: per-axis scale shape %v does not match dim %d of input %v", op, ss, ax, xs)
		}
		l.mode = 1
		return l, nil
	}
	if len(ss) != rank {
		return nil, errf("%s: blocked scale rank %d, input rank %d", op, len(ss), rank)
	}
	for i := range xs {
		want := xs[i]
		if i == ax {
			want = (xs[i] + block - 1) / block
		}
		if ss[i] != want {
			return nil, errf("%s: blocked scale shape %v does not fit input %v with block_size %d on axis %d", op, ss, xs, block, ax)
		}
	}
	l.mode, l.block, l.nblk = 2, block, ss[ax]
	return l, nil
}

// castQuantZP checks that a zero point has the scale's shape and returns its
// values (nil when absent).
func castQuantZP(op string, zp, scale *tensor.Tensor) ([]float64, error) {
	if zp == nil {
		return nil, nil
	}
	if zp.Numel() != scale.Numel() {
		return nil, errf("%s: zero point shape %v differs from scale shape %v", op, zp.Shape(), scale.Shape())
	}
	if zp.DType() == tensor.String || zp.Kind != tensor.KindTensor {
		return nil, errf("%s: bad zero point dtype %s", op, zp.DType())
	}
	return zp.Float64s(), nil
}

// castRoundTo rounds v to the precision of dtype dt (float32/16/bf16; float64 unchanged).
func castRoundTo(dt tensor.DType, v float64) float64 {
	switch dt {
	case tensor.Float:
		return float64(float32(v))
	case tensor.Float16:
		return float64(tensor.F16ToF32(castF64ToF16(v)))
	case tensor.BFloat16:
		return float64(tensor.BF16ToF32(tensor.F32ToBF16(float32(v))))
	}
	return v
}

// castComputeType is numpy's result type of dividing a by b (float types).
func castComputeType(a, b tensor.DType) tensor.DType {
	if a == b {
		return a
	}
	if a == tensor.Double || b == tensor.Double {
		return tensor.Double
	}
	return tensor.Float
}

func castIsQuantInput(dt tensor.DType) bool {
	switch dt {
	case tensor.Float, tensor.Float16, tensor.BFloat16, tensor.Double, tensor.Int32:
		return true
	}
	return false
}

// quantizeFactory builds QuantizeLinear
// (https://onnx.ai/onnx/operators/onnx__QuantizeLinear.html):
// y = saturate(round_half_even(x / y_scale) + y_zero_point).
// Versions: 10 per-tensor uint8/int8; 13 adds per-axis (axis); 19 adds
// float8 outputs and saturate; 21 adds blocked quantization (block_size),
// output_dtype, int16/uint16/int4/uint4; 23 adds float4e2m1 and precision;
// 25 adds int2/uint2. Float8 outputs ignore the zero point (which must be 0)
// and clamp to the finite range when saturate is set; float4e2m1 adds the
// zero point and always saturates.
func quantizeFactory(n *graph.Node, opset int) (graph.Kernel, error) {
	axis := int(n.Int("axis", 1))
	saturate := n.Int("saturate", 1) != 0
	block := int(n.Int("block_size", 0))
	outAttr := tensor.DType(n.Int("output_dtype", 0))
	precision := tensor.DType(n.Int("precision", 0))
	if block < 0 {
		return nil, errf("QuantizeLinear: negative block_size %d", block)
	}
	if precision != 0 && !castIsQuantInput(precision) {
		return nil, errf("QuantizeLinear: bad precision %s", precision)
	}
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, sc, zpT := input(in, 0), input(in, 1), input(in, 2)
		if x == nil || sc == nil {
			return nil, errf("QuantizeLinear: needs x and y_scale")
		}
		if !castIsQuantInput(x.DType()) || !castIsQuantInput(sc.DType()) {
			return nil, errf("QuantizeLinear: unsupported input dtypes %s, %s", x.DType(), sc.DType())
		}
		out := outAttr
		if zpT != nil {
			if out != 0 && out != zpT.DType() {
				return nil, errf("QuantizeLinear: output_dtype %s differs from zero point dtype %s", out, zpT.DType())
			}
			out = zpT.DType()
		}
		if out == 0 {
			out = tensor.Uint8
		}
		lo, hi, isInt := castQuantRange(out)
		isF8 := out == tensor.Float8E4M3FN || out == tensor.Float8E4M3FNUZ || out == tensor.Float8E5M2 || out == tensor.Float8E5M2FNUZ
		if !isInt && !isF8 && out != tensor.Float4E2M1 {
			return nil, errf("QuantizeLinear: unsupported output dtype %s", out)
		}
		lay, err := castQuantLayoutFor("QuantizeLinear", x.Shape(), sc.Shape(), axis, block)
		if err != nil {
			return nil, err
		}
		zp, err := castQuantZP("QuantizeLinear", zpT, sc)
		if err != nil {
			return nil, err
		}
		cd := precision
		if cd == 0 {
			cd = castComputeType(x.DType(), sc.DType())
			if cd == tensor.Int32 {
				cd = tensor.Float
			}
		}
		scale := sc.Float64s()
		if cd != tensor.Double {
			for i, s := range scale {
				scale[i] = castRoundTo(cd, s)
			}
		}
		xv := castLoadQuantX(x, cd)
		y := tensor.New(out, x.Shape()...)
		yb := y.Bytes()
		var y16 []uint16
		if out == tensor.Uint16 || out == tensor.Int16 {
			y16 = tensor.View[uint16](y)
		}
		i := 0
		for o := 0; o < lay.outer; o++ {
			for a := 0; a < lay.dim; a++ {
				b, st := lay.base(o, a)
				for k := 0; k < lay.inner; k++ {
					si := b + st*k
					q := castRoundTo(cd, xv[i]/scale[si])
					switch {
					case isInt:
						r := math.RoundToEven(q)
						if zp != nil {
							r += zp[si]
						}
						if r != r || r < lo {
							r = lo
						} else if r > hi {
							r = hi
						}
						if y16 != nil {
							y16[i] = uint16(int32(r))
						} else {
							yb[i] = uint8(int32(r))
						}
					case isF8:
						yb[i] = tensor.F64ToSmallFloat(out, q, saturate)
					default: // float4e2m1
						if zp != nil {
							q += zp[si]
						}
						yb[i] = tensor.F64ToSmallFloat(out, q, true)
					}
					i++
				}
			}
		}
		return one(y)
	}), nil
}

// castLoadQuantX returns x's values rounded to the compute dtype cd.
func castLoadQuantX(x *tensor.Tensor, cd tensor.DType) []float64 {
	v := x.Float64s()
	if x.DType() == tensor.Int32 || (cd != tensor.Double && cd != x.DType()) {
		for i, f := range v {
			v[i] = castRoundTo(cd, f)
		}
	}
	return v
}

// dequantizeFactory builds DequantizeLinear
// (https://onnx.ai/onnx/operators/onnx__DequantizeLinear.html):
// y = (x - x_zero_point) * x_scale, computed in float32 and rounded once to
// the output dtype (output_dtype, opset 23+, else the scale's dtype).
// Versions: 10 per-tensor; 13 per-axis; 19 float8 inputs (zero point must be
// 0 and is ignored) and float16/bfloat16 scales; 21 blocked (block_size),
// int16/uint16/int4/uint4; 23 float4e2m1 and output_dtype; 25 int2/uint2.
func dequantizeFactory(n *graph.Node, opset int) (graph.Kernel, error) {
	axis := int(n.Int("axis", 1))
	block := int(n.Int("block_size", 0))
	outAttr := tensor.DType(n.Int("output_dtype", 0))
	if block < 0 {
		return nil, errf("DequantizeLinear: negative block_size %d", block)
	}
	if outAttr != 0 && outAttr != tensor.Float && outAttr != tensor.Float16 && outAttr != tensor.BFloat16 {
		return nil, errf("DequantizeLinear: unsupported output_dtype %s", outAttr)
	}
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, sc, zpT := input(in, 0), input(in, 1), input(in, 2)
		if x == nil || sc == nil {
			return nil, errf("DequantizeLinear: needs x and x_scale")
		}
		xdt := x.DType()
		_, _, isInt := castQuantRange(xdt)
		isInt = isInt || xdt == tensor.Int32
		if !isInt && !castSmall(xdt) || xdt == tensor.Float8E8M0 {
			return nil, errf("DequantizeLinear: unsupported input dtype %s", xdt)
		}
		sdt := sc.DType()
		if sdt != tensor.Float && sdt != tensor.Float16 && sdt != tensor.BFloat16 && sdt != tensor.Double {
			return nil, errf("DequantizeLinear: unsupported scale dtype %s", sdt)
		}
		if zpT != nil && isInt && zpT.DType() != xdt {
			return nil, errf("DequantizeLinear: zero point dtype %s differs from input dtype %s", zpT.DType(), xdt)
		}
		out := outAttr
		if out == 0 {
			out = sdt
		}
		lay, err := castQuantLayoutFor("DequantizeLinear", x.Shape(), sc.Shape(), axis, block)
		if err != nil {
			return nil, err
		}
		zp, err := castQuantZP("DequantizeLinear", zpT, sc)
		if err != nil {
			return nil, err
		}
		if !isInt {
			zp = nil // float8/float4: the reference ignores the (zero) zero point
		}
		cd := tensor.Float // numpy: float32 x, any float scale → float32 (float64 scale → float64)
		if sdt == tensor.Double {
			cd = tensor.Double
		}
		xv := x.Float64s()
		scale := sc.Float64s()
		res := make([]float64, len(xv))
		i := 0
		for o := 0; o < lay.outer; o++ {
			for a := 0; a < lay.dim; a++ {
				b, st := lay.base(o, a)
				for k := 0; k < lay.inner; k++ {
					si := b + st*k
					d := castRoundTo(cd, xv[i])
					if zp != nil {
						d = castRoundTo(cd, d-zp[si])
					}
					res[i] = castRoundTo(cd, d*scale[si])
					i++
				}
			}
		}
		y := tensor.New(out, x.Shape()...)
		castStoreFloat(y, res, castOpts{saturate: true})
		return one(y)
	}), nil
}

// dynQuantKernel is DynamicQuantizeLinear
// (https://onnx.ai/onnx/operators/onnx__DynamicQuantizeLinear.html, opset
// 11): uint8 quantization of a float32 tensor over [min(0, x), max(0, x)],
// in float32 arithmetic as the reference does.
func dynQuantKernel(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := input(in, 0)
	if x == nil || x.DType() != tensor.Float {
		return nil, errf("DynamicQuantizeLinear: needs one float32 input")
	}
	xv := x.F32()
	var mx, mn float32
	for _, v := range xv {
		if v > mx {
			mx = v
		}
		if v < mn {
			mn = v
		}
	}
	scale := float32(1)
	if mx != mn {
		scale = (mx - mn) / 255
	}
	zpf := float32(0) - mn/scale
	if zpf < 0 {
		zpf = 0
	} else if zpf > 255 {
		zpf = 255
	}
	zp := float32(math.RoundToEven(float64(zpf)))
	y := tensor.New(tensor.Uint8, x.Shape()...)
	yb := y.U8()
	for i, v := range xv {
		r := float32(math.RoundToEven(float64(v/scale))) + zp
		if !(r >= 0) {
			r = 0
		} else if r > 255 {
			r = 255
		}
		yb[i] = uint8(r)
	}
	zt := tensor.New(tensor.Uint8)
	zt.U8()[0] = uint8(zp)
	return []*tensor.Tensor{y, tensor.ScalarF32(scale), zt}, nil
}

// matMulIntegerKernel is MatMulInteger
// (https://onnx.ai/onnx/operators/onnx__MatMulInteger.html, opset 10):
// int32 matmul of (A - a_zero_point) and (B - b_zero_point) with numpy
// matmul broadcasting. a_zero_point is a scalar, a length-M vector (per row)
// or a tensor broadcastable to A; b_zero_point a scalar, a length-N vector
// (per column) or broadcastable to B.
func matMulIntegerKernel(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	a, b := input(in, 0), input(in, 1)
	if a == nil || b == nil {
		return nil, errf("MatMulInteger: needs A and B")
	}
	for _, t := range []*tensor.Tensor{a, b} {
		if t.DType() != tensor.Uint8 && t.DType() != tensor.Int8 {
			return nil, errf("MatMulInteger: unsupported dtype %s", t.DType())
		}
	}
	if a.Rank() == 0 || b.Rank() == 0 {
		return nil, errf("MatMulInteger: inputs must have rank >= 1")
	}
	as, bs := append([]int(nil), a.Shape()...), append([]int(nil), b.Shape()...)
	aVec, bVec := len(as) == 1, len(bs) == 1
	if aVec {
		as = []int{1, as[0]}
	}
	if bVec {
		bs = []int{bs[0], 1}
	}
	m, k := as[len(as)-2], as[len(as)-1]
	k2, nn := bs[len(bs)-2], bs[len(bs)-1]
	if k != k2 {
		return nil, errf("MatMulInteger: inner dims differ: %v x %v", a.Shape(), b.Shape())
	}
	av, err := castMMIOperand(a, input(in, 2), as, true)
	if err != nil {
		return nil, err
	}
	bv, err := castMMIOperand(b, input(in, 3), bs, false)
	if err != nil {
		return nil, err
	}
	batch, err := broadcastShapes(as[:len(as)-2], bs[:len(bs)-2])
	if err != nil {
		return nil, errf("MatMulInteger: %v", err)
	}
	nb := tensor.Numel(batch)
	res := make([]int32, nb*m*nn)
	aSt := bcastStrides(as[:len(as)-2], batch)
	bSt := bcastStrides(bs[:len(bs)-2], batch)
	idx := make([]int, len(batch))
	for bi := 0; bi < nb; bi++ {
		ao, bo := 0, 0
		for d := range idx {
			ao += idx[d] * aSt[d]
			bo += idx[d] * bSt[d]
		}
		A := av[ao*m*k : (ao+1)*m*k]
		B := bv[bo*k*nn : (bo+1)*k*nn]
		C := res[bi*m*nn : (bi+1)*m*nn]
		for i := 0; i < m; i++ {
			row := C[i*nn : (i+1)*nn]
			for p := 0; p < k; p++ {
				x := A[i*k+p]
				if x == 0 {
					continue
				}
				br := B[p*nn : (p+1)*nn]
				for j, y := range br {
					row[j] += x * y
				}
			}
		}
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < batch[d] {
				break
			}
			idx[d] = 0
		}
	}
	outShape := append([]int(nil), batch...)
	if !aVec {
		outShape = append(outShape, m)
	}
	if !bVec {
		outShape = append(outShape, nn)
	}
	return one(tensor.FromSlice(tensor.Int32, outShape, res))
}

// castMMIOperand widens a MatMulInteger operand to int32 and subtracts its
// zero point. shape is the operand's (matrix-promoted) shape.
func castMMIOperand(t, zp *tensor.Tensor, shape []int, isA bool) ([]int32, error) {
	raw := t.Bytes()
	v := make([]int32, len(raw))
	if t.DType() == tensor.Int8 {
		for i, x := range raw {
			v[i] = int32(int8(x))
		}
	} else {
		for i, x := range raw {
			v[i] = int32(x)
		}
	}
	if zp == nil {
		return v, nil
	}
	if zp.DType() != t.DType() {
		return nil, errf("MatMulInteger: zero point dtype %s differs from input dtype %s", zp.DType(), t.DType())
	}
	z64 := zp.Int64s()
	z := make([]int32, len(z64))
	for i, x := range z64 {
		z[i] = int32(x)
	}
	if len(z) == 1 {
		for i := range v {
			v[i] -= z[0]
		}
		return v, nil
	}
	zs := zp.Shape()
	rows := shape[len(shape)-2]
	if isA && len(zs) == 1 && zs[0] == rows {
		zs = []int{rows, 1} // per-row zero point
	}
	r, out, err := binaryBroadcast(v, z, shape, zs, func(x, y int32) int32 { return x - y })
	if err != nil || !tensor.SameShape(out, shape) {
		return nil, errf("MatMulInteger: zero point shape %v does not fit operand shape %v", zp.Shape(), shape)
	}
	return r, nil
}
