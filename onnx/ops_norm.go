package onnx

import (
	"math"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/kernels"
	"github.com/txt2img/engine/tensor"
)

// Normalizations: LayerNormalization, RMSNormalization, GroupNormalization,
// InstanceNormalization, BatchNormalization.
//
// float32 and float16 data run the vectorised kernels of package kernels
// (float64 statistics, float32 arithmetic, float16 converted in registers;
// bfloat16 is widened to float32 first). float64 data uses the Go code below:
// statistics accumulated in float64 (two passes: mean, then the centered sum
// of squares) and one fused multiply-add per element.

func init() {
	reg("LayerNormalization", 17, 0, redLayerNormFactory(false))
	reg("RMSNormalization", 23, 0, redLayerNormFactory(true))
	reg("GroupNormalization", 18, 20, redGroupNormFactory(true))
	reg("GroupNormalization", 21, 0, redGroupNormFactory(false))
	reg("InstanceNormalization", 1, 0, redInstanceNormFactory)
	reg("BatchNormalization", 1, 0, redBatchNormFactory)
}

type redFloat interface{ ~float32 | ~float64 }

// redMoments returns the mean and the population variance of x, in float64.
func redMoments[F redFloat](x []F) (mean, variance float64) {
	n := len(x)
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= n; i += 4 {
		s0 += float64(x[i])
		s1 += float64(x[i+1])
		s2 += float64(x[i+2])
		s3 += float64(x[i+3])
	}
	for ; i < n; i++ {
		s0 += float64(x[i])
	}
	mean = (s0 + s1 + s2 + s3) / float64(n)
	s0, s1, s2, s3 = 0, 0, 0, 0
	i = 0
	for ; i+4 <= n; i += 4 {
		d0 := float64(x[i]) - mean
		d1 := float64(x[i+1]) - mean
		d2 := float64(x[i+2]) - mean
		d3 := float64(x[i+3]) - mean
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < n; i++ {
		d := float64(x[i]) - mean
		s0 += d * d
	}
	return mean, (s0 + s1 + s2 + s3) / float64(n)
}

// redMeanSquare returns the mean of x*x in float64.
func redMeanSquare[F redFloat](x []F) float64 {
	n := len(x)
	if n == 0 {
		return math.NaN()
	}
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= n; i += 4 {
		a, b, c, d := float64(x[i]), float64(x[i+1]), float64(x[i+2]), float64(x[i+3])
		s0 += a * a
		s1 += b * b
		s2 += c * c
		s3 += d * d
	}
	for ; i < n; i++ {
		a := float64(x[i])
		s0 += a * a
	}
	return (s0 + s1 + s2 + s3) / float64(n)
}

// redAffine writes y = (x-m)*a + b.
func redAffine[F redFloat](x, y []F, m, a, b F) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] = (v-m)*a + b
	}
}

// redParams reads a small parameter tensor (scale, bias, mean, var) as F.
func redParams[F redFloat](t *tensor.Tensor) []F {
	v := t.Float64s()
	out := make([]F, len(v))
	for i, x := range v {
		out[i] = F(x)
	}
	return out
}

// redIsFloatT reports whether dt is a floating type the norm kernels accept.
func redIsFloatT(dt tensor.DType) bool {
	return dt == tensor.Float || dt == tensor.Double || isHalf(dt)
}

// redExpandTo broadcasts p (right-aligned) onto the trailing dims ns, returning
// prod(ns) values; a nil p gives nil.
func redExpandTo[F redFloat](p *tensor.Tensor, ns []int, what string) ([]F, error) {
	if p == nil {
		return nil, nil
	}
	ps := p.Shape()
	// drop leading 1s beyond the normalized rank
	for len(ps) > len(ns) && ps[0] == 1 {
		ps = ps[1:]
	}
	if len(ps) > len(ns) {
		return nil, errf("%s shape %v does not broadcast to normalized shape %v", what, p.Shape(), ns)
	}
	off := len(ns) - len(ps)
	for i, d := range ps {
		if d != 1 && d != ns[off+i] {
			return nil, errf("%s shape %v does not broadcast to normalized shape %v", what, p.Shape(), ns)
		}
	}
	v := redParams[F](p)
	n := tensor.Numel(ns)
	if len(v) == n {
		return v, nil
	}
	out := make([]F, n)
	st := bcastStrides(ps, ns)
	bcastRuns(ns, [][]int{st}, func(o int, offs []int, k int, steps []int) {
		j := offs[0]
		for i := 0; i < k; i++ {
			out[o+i] = v[j]
			j += steps[0]
		}
	})
	return out, nil
}

// redLayerNormFactory builds LayerNormalization (rms=false) and RMSNormalization.
//
// https://onnx.ai/onnx/operators/onnx__LayerNormalization.html (opset 17):
// inputs X, Scale, optional B; attributes axis (-1), epsilon (1e-5),
// stash_type (1); outputs Y and the optional Mean and InvStdDev, shaped like X
// with dims [axis:] set to 1, of the stash type (float32 unless stash_type=11).
// https://onnx.ai/onnx/operators/onnx__RMSNormalization.html (opset 23):
// inputs X, scale; Y = X / sqrt(mean(X^2 over dims [axis:]) + epsilon) * scale.
// Scale and B broadcast (right-aligned) onto the normalized dims.
func redLayerNormFactory(rms bool) graph.Factory {
	return func(n *graph.Node, opset int) (graph.Kernel, error) {
		axisAttr := int(n.Int("axis", -1))
		eps := float64(n.Float("epsilon", 1e-5))
		stash := tensor.DType(n.Int("stash_type", 1))
		if stash != tensor.Float && stash != tensor.Double && stash != tensor.Float16 && stash != tensor.BFloat16 {
			return nil, errf("unsupported stash_type %d", stash)
		}
		return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
			x, scale := input(in, 0), input(in, 1)
			if x == nil || scale == nil {
				return nil, errf("%s needs X and Scale", n.OpType)
			}
			var bias *tensor.Tensor
			if !rms {
				bias = input(in, 2)
			}
			dt := x.DType()
			if !redIsFloatT(dt) {
				return nil, errf("unsupported dtype %s", dt)
			}
			shape := x.Shape()
			if len(shape) == 0 {
				return nil, errf("%s needs an input of rank >= 1", n.OpType)
			}
			axis, err := normAxis(axisAttr, len(shape))
			if err != nil {
				return nil, err
			}
			rows := tensor.Numel(shape[:axis])
			cols := tensor.Numel(shape[axis:])
			statShape := append([]int(nil), shape...)
			for i := axis; i < len(statShape); i++ {
				statShape[i] = 1
			}
			var y *tensor.Tensor
			var mean, inv []float64
			if !rms {
				mean, inv = make([]float64, rows), make([]float64, rows)
			}
			if dt != tensor.Double {
				y, err = nkLayerNorm(ec, x, axis, rows, cols, scale, bias, eps, rms, mean, inv)
			} else {
				y, err = redLayerNormRun[float64](ec, x.F64(), dt, shape, axis, rows, cols, scale, bias, eps, rms, mean, inv)
			}
			if err != nil {
				return nil, err
			}
			if rms {
				return one(y)
			}
			return []*tensor.Tensor{y,
				tensor.FromFloat64s(stash, statShape, mean),
				tensor.FromFloat64s(stash, statShape, inv)}, nil
		}), nil
	}
}

func redLayerNormRun[F redFloat](ec *graph.ExecContext, x []F, dt tensor.DType, shape []int, axis, rows, cols int,
	scale, bias *tensor.Tensor, eps float64, rms bool, mean, inv []float64) (*tensor.Tensor, error) {
	ns := shape[axis:]
	sc, err := redExpandTo[F](scale, ns, "Scale")
	if err != nil {
		return nil, err
	}
	b, err := redExpandTo[F](bias, ns, "B")
	if err != nil {
		return nil, err
	}
	y := make([]F, len(x))
	redParallel(ec, rows, cols, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, yr := x[r*cols:(r+1)*cols], y[r*cols:(r+1)*cols]
			var m, is float64
			if rms {
				is = 1 / math.Sqrt(redMeanSquare(xr)+eps)
			} else {
				var v float64
				m, v = redMoments(xr)
				is = 1 / math.Sqrt(v+eps)
				mean[r], inv[r] = m, is
			}
			mf, isf := F(m), F(is)
			yr, scr := yr[:len(xr)], sc[:len(xr)]
			if b != nil {
				br := b[:len(xr)]
				for i, v := range xr {
					yr[i] = (v-mf)*isf*scr[i] + br[i]
				}
			} else {
				for i, v := range xr {
					yr[i] = (v - mf) * isf * scr[i]
				}
			}
		}
	})
	return redOut(dt, shape, y), nil
}

// redOut wraps F results as dtype dt.
func redOut[F redFloat](dt tensor.DType, shape []int, y []F) *tensor.Tensor {
	switch v := any(y).(type) {
	case []float64:
		return tensor.FromSlice(tensor.Double, shape, v)
	case []float32:
		return fromF32(dt, shape, v)
	}
	return nil
}

// redGroupNormFactory builds GroupNormalization.
//
// https://onnx.ai/onnx/operators/onnx__GroupNormalization.html. Inputs X
// (N, C, ...), scale, bias; attributes num_groups (required), epsilon (1e-5),
// stash_type (opset 21, 1). Each group of C/num_groups channels of each batch
// item is normalized over its channels and spatial dims. Opset 18: scale and
// bias hold one value per group; opset 21: one value per channel.
func redGroupNormFactory(perGroup bool) graph.Factory {
	return func(n *graph.Node, opset int) (graph.Kernel, error) {
		if !n.Has("num_groups") {
			return nil, errf("GroupNormalization needs num_groups")
		}
		groups := int(n.Int("num_groups", 0))
		eps := float64(n.Float("epsilon", 1e-5))
		if groups <= 0 {
			return nil, errf("num_groups must be positive, got %d", groups)
		}
		return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
			x, scale, bias := input(in, 0), input(in, 1), input(in, 2)
			if x == nil || scale == nil || bias == nil {
				return nil, errf("GroupNormalization needs X, scale and bias")
			}
			if x.Rank() < 2 {
				return nil, errf("GroupNormalization needs rank >= 2, got %v", x.Shape())
			}
			c := x.Shape()[1]
			if c%groups != 0 {
				return nil, errf("channels %d not divisible by num_groups %d", c, groups)
			}
			want := c
			if perGroup {
				want = groups
			}
			if scale.Numel() != want || bias.Numel() != want {
				return nil, errf("scale %v and bias %v must have %d elements", scale.Shape(), bias.Shape(), want)
			}
			return redGroupNormDispatch(ec, x, scale, bias, groups, perGroup, eps)
		}), nil
	}
}

// redInstanceNormFactory builds InstanceNormalization.
//
// https://onnx.ai/onnx/operators/onnx__InstanceNormalization.html. Inputs
// input (N, C, ...), scale (C), B (C); attribute epsilon (1e-5). Each channel
// of each batch item is normalized over its spatial dims. Versions 1, 6 and 22
// differ only in type constraints (v1 had a consumed_inputs attribute).
func redInstanceNormFactory(n *graph.Node, opset int) (graph.Kernel, error) {
	eps := float64(n.Float("epsilon", 1e-5))
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x, scale, bias := input(in, 0), input(in, 1), input(in, 2)
		if x == nil || scale == nil || bias == nil {
			return nil, errf("InstanceNormalization needs input, scale and B")
		}
		if x.Rank() < 2 {
			return nil, errf("InstanceNormalization needs rank >= 2, got %v", x.Shape())
		}
		c := x.Shape()[1]
		if scale.Numel() != c || bias.Numel() != c {
			return nil, errf("scale %v and B %v must have %d elements", scale.Shape(), bias.Shape(), c)
		}
		return redGroupNormDispatch(ec, x, scale, bias, c, false, eps)
	}), nil
}

func redGroupNormDispatch(ec *graph.ExecContext, x, scale, bias *tensor.Tensor, groups int, perGroup bool, eps float64) ([]*tensor.Tensor, error) {
	dt := x.DType()
	switch dt {
	case tensor.Double:
		return one(redGroupNorm(ec, x.F64(), dt, x.Shape(), redParams[float64](scale), redParams[float64](bias), groups, perGroup, eps))
	case tensor.Float, tensor.Float16, tensor.BFloat16:
		shape := x.Shape()
		c := shape[1]
		g, b := redParams[float32](scale), redParams[float32](bias)
		if perGroup { // opset 18: one value per group
			g, b = nkPerChannel(g, c), nkPerChannel(b, c)
		}
		p := kernels.GroupNormParams{N: shape[0], C: c, Spatial: tensor.Numel(shape[2:]), Groups: groups, Eps: eps, Gamma: g, Beta: b}
		return one(nkGroupNorm(ec, x, p))
	}
	return nil, errf("unsupported dtype %s", dt)
}

// redGroupNorm normalizes x (N, C, spatial...) in groups of C/groups channels.
// sc and bs have one value per channel, or per group when perGroup.
func redGroupNorm[F redFloat](ec *graph.ExecContext, x []F, dt tensor.DType, shape []int, sc, bs []F, groups int, perGroup bool, eps float64) *tensor.Tensor {
	nb, c := shape[0], shape[1]
	sp := tensor.Numel(shape[2:])
	cpg := c / groups
	blk := cpg * sp
	y := make([]F, len(x))
	redParallel(ec, nb*groups, blk, func(lo, hi int) {
		for bg := lo; bg < hi; bg++ {
			g := bg % groups
			xb, yb := x[bg*blk:(bg+1)*blk], y[bg*blk:(bg+1)*blk]
			m, v := redMoments(xb)
			is := 1 / math.Sqrt(v+eps)
			for k := 0; k < cpg; k++ {
				ch := g*cpg + k
				if perGroup {
					ch = g
				}
				redAffine(xb[k*sp:(k+1)*sp], yb[k*sp:(k+1)*sp], F(m), F(float64(sc[ch])*is), bs[ch])
			}
		}
	})
	return redOut(dt, shape, y)
}

// redBatchNormFactory builds BatchNormalization.
//
// https://onnx.ai/onnx/operators/onnx__BatchNormalization.html. Inputs X
// (N, C, ...), scale, B, input_mean, input_var (each C); attribute epsilon
// (1e-5). Inference: Y = (X - mean) / sqrt(var + epsilon) * scale + B. From
// opset 14, training_mode=1 normalizes with the batch statistics over all dims
// but C and also outputs running_mean = input_mean*momentum +
// batch_mean*(1-momentum) and running_var likewise (population variance).
// Before opset 14 the op runs in inference mode (older is_test/spatial
// attributes are ignored).
func redBatchNormFactory(n *graph.Node, opset int) (graph.Kernel, error) {
	eps := float64(n.Float("epsilon", 1e-5))
	momentum := float64(n.Float("momentum", 0.9))
	training := opset >= 14 && n.Int("training_mode", 0) != 0
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if len(in) < 5 {
			return nil, errf("BatchNormalization needs 5 inputs, got %d", len(in))
		}
		for i := 0; i < 5; i++ {
			if in[i] == nil {
				return nil, errf("BatchNormalization input %d is missing", i)
			}
		}
		x := in[0]
		if x.Rank() < 2 {
			return nil, errf("BatchNormalization needs rank >= 2, got %v", x.Shape())
		}
		shape := x.Shape()
		c := shape[1]
		for i := 1; i < 5; i++ {
			if in[i].Numel() != c {
				return nil, errf("BatchNormalization input %d has shape %v, want %d elements", i, in[i].Shape(), c)
			}
		}
		dt := x.DType()
		switch dt {
		case tensor.Double:
			return redBatchNorm(ec, x.F64(), dt, shape, in, eps, momentum, training)
		case tensor.Float, tensor.Float16, tensor.BFloat16:
			return redBatchNorm(ec, toF32(x), dt, shape, in, eps, momentum, training)
		}
		return nil, errf("unsupported dtype %s", dt)
	}), nil
}

func redBatchNorm[F redFloat](ec *graph.ExecContext, x []F, dt tensor.DType, shape []int, in []*tensor.Tensor, eps, momentum float64, training bool) ([]*tensor.Tensor, error) {
	nb, c := shape[0], shape[1]
	sp := tensor.Numel(shape[2:])
	sc, bs := in[1].Float64s(), in[2].Float64s()
	mean, vr := in[3].Float64s(), in[4].Float64s()
	var runMean, runVar []float64
	if training {
		// batch statistics per channel, over N and the spatial dims
		bm, bv := make([]float64, c), make([]float64, c)
		cnt := float64(nb * sp)
		for ch := 0; ch < c; ch++ {
			var s float64
			for b := 0; b < nb; b++ {
				for _, v := range x[(b*c+ch)*sp : (b*c+ch+1)*sp] {
					s += float64(v)
				}
			}
			m := s / cnt
			var q float64
			for b := 0; b < nb; b++ {
				for _, v := range x[(b*c+ch)*sp : (b*c+ch+1)*sp] {
					d := float64(v) - m
					q += d * d
				}
			}
			bm[ch], bv[ch] = m, q/cnt
		}
		runMean, runVar = make([]float64, c), make([]float64, c)
		for ch := range bm {
			runMean[ch] = mean[ch]*momentum + bm[ch]*(1-momentum)
			runVar[ch] = vr[ch]*momentum + bv[ch]*(1-momentum)
		}
		mean, vr = bm, bv
	}
	m, a, b := make([]F, c), make([]F, c), make([]F, c)
	for ch := range a {
		m[ch] = F(mean[ch])
		a[ch] = F(sc[ch] / math.Sqrt(vr[ch]+eps))
		b[ch] = F(bs[ch])
	}
	y := make([]F, len(x))
	redParallel(ec, nb*c, sp, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			ch := i % c
			redAffine(x[i*sp:(i+1)*sp], y[i*sp:(i+1)*sp], m[ch], a[ch], b[ch])
		}
	})
	yt := redOut(dt, shape, y)
	if !training {
		return one(yt)
	}
	pdt := func(i int) tensor.DType { return in[i].DType() }
	return []*tensor.Tensor{yt,
		tensor.FromFloat64s(pdt(3), in[3].Shape(), runMean),
		tensor.FromFloat64s(pdt(4), in[4].Shape(), runVar)}, nil
}

// nkPerChannel expands one value per group to one per channel.
func nkPerChannel(v []float32, c int) []float32 {
	out := make([]float32, c)
	per := c / len(v)
	for i := range out {
		out[i] = v[i/per]
	}
	return out
}

// nkGroupNorm runs kernels.GroupNormF32/F16 on x (float32, float16 or
// bfloat16, which is widened to float32 and rounded back).
func nkGroupNorm(ec *graph.ExecContext, x *tensor.Tensor, p kernels.GroupNormParams) *tensor.Tensor {
	dt, shape := x.DType(), x.Shape()
	th := nnThreads(ec)
	out := ec.Alloc(dt, shape...)
	switch dt {
	case tensor.Float:
		kernels.GroupNormF32(out.F32(), x.F32(), p, th)
	case tensor.Float16:
		kernels.GroupNormF16(tensor.View[uint16](out), tensor.View[uint16](x), p, th)
	default:
		y := make([]float32, x.Numel())
		kernels.GroupNormF32(y, toF32(x), p, th)
		fzStore(out, 0, y)
	}
	return out
}

// nkLayerNorm runs kernels.LayerNormF32/F16 over the last rows x cols view
// of x, with scale and bias broadcast onto the normalized dims [axis:];
// mean and inv (nil: not wanted) receive the row statistics.
func nkLayerNorm(ec *graph.ExecContext, x *tensor.Tensor, axis, rows, cols int, scale, bias *tensor.Tensor, eps float64, rms bool, mean, inv []float64) (*tensor.Tensor, error) {
	shape := x.Shape()
	ns := shape[axis:]
	sc, err := redExpandTo[float32](scale, ns, "Scale")
	if err != nil {
		return nil, err
	}
	b, err := redExpandTo[float32](bias, ns, "B")
	if err != nil {
		return nil, err
	}
	p := kernels.LayerNormParams{Rows: rows, Cols: cols, Eps: eps, RMS: rms, Gamma: sc, Beta: b, Mean: mean, InvStd: inv}
	return nkLayerNormRun(ec, x, p), nil
}

// nkLayerNormRun runs kernels.LayerNormF32/F16 on x (bfloat16 through
// float32).
func nkLayerNormRun(ec *graph.ExecContext, x *tensor.Tensor, p kernels.LayerNormParams) *tensor.Tensor {
	dt, shape := x.DType(), x.Shape()
	th := nnThreads(ec)
	out := ec.Alloc(dt, shape...)
	switch dt {
	case tensor.Float:
		kernels.LayerNormF32(out.F32(), x.F32(), p, th)
	case tensor.Float16:
		kernels.LayerNormF16(tensor.View[uint16](out), tensor.View[uint16](x), p, th)
	default:
		y := make([]float32, x.Numel())
		kernels.LayerNormF32(y, toF32(x), p, th)
		fzStore(out, 0, y)
	}
	return out
}
