package onnx

import (
	"math"
	"sync"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/kernels"
	"github.com/txt2img/engine/tensor"
)

// Softmax and LogSoftmax. The input is viewed as [outer, n, inner] with the
// normalized dim in the middle. When it is the last one (inner = 1) float32
// and float16 rows run kernels.SoftmaxF32/F16 (vector exp, a few ulp);
// otherwise float32 uses kernels.Exp32 column by column. float64 uses
// math.Exp; bfloat16 computes in float32.

func init() {
	reg("Softmax", 1, 12, redSoftmaxFactory(false, true))
	reg("Softmax", 13, 0, redSoftmaxFactory(false, false))
	reg("LogSoftmax", 1, 12, redSoftmaxFactory(true, true))
	reg("LogSoftmax", 13, 0, redSoftmaxFactory(true, false))
}

// redSoftmaxFactory builds Softmax (log=false) and LogSoftmax.
//
// https://onnx.ai/onnx/operators/onnx__Softmax.html,
// https://onnx.ai/onnx/operators/onnx__LogSoftmax.html. Before opset 13 the
// input is coerced to 2-D [prod(shape[:axis]), prod(shape[axis:])] and each row
// is normalized (axis default 1); from opset 13 only the single dim axis
// (default -1) is normalized.
func redSoftmaxFactory(log, coerce2D bool) graph.Factory {
	return func(n *graph.Node, opset int) (graph.Kernel, error) {
		def := int64(-1)
		if coerce2D {
			def = 1
		}
		axisAttr := int(n.Int("axis", def))
		return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
			x := input(in, 0)
			if x == nil {
				return nil, errf("%s needs an input", n.OpType)
			}
			shape := x.Shape()
			axis, err := normAxis(axisAttr, len(shape))
			if err != nil {
				return nil, err
			}
			outer, dim, inner := 1, 1, 1
			for i, d := range shape {
				switch {
				case i < axis:
					outer *= d
				case i == axis || (coerce2D && i > axis):
					dim *= d
				default:
					inner *= d
				}
			}
			dt := x.DType()
			if inner == 1 && (dt == tensor.Float || dt == tensor.Float16) {
				out := ec.Alloc(dt, shape...)
				if dt == tensor.Float {
					kernels.SoftmaxF32(out.F32(), x.F32(), outer, dim, log, nnThreads(ec))
				} else {
					kernels.SoftmaxF16(tensor.View[uint16](out), tensor.View[uint16](x), outer, dim, log, nnThreads(ec))
				}
				return one(out)
			}
			switch dt {
			case tensor.Float, tensor.Float16, tensor.BFloat16:
				src := toF32(x)
				dst := make([]float32, len(src))
				redSoftmaxRun(ec, src, dst, outer, dim, inner, log, redSoftmaxRow32, redSoftmaxCols32)
				return one(fromF32(dt, shape, dst))
			case tensor.Double:
				src := x.F64()
				dst := make([]float64, len(src))
				redSoftmaxRun(ec, src, dst, outer, dim, inner, log, redSoftmaxRow64, redSoftmaxCols64)
				return one(tensor.FromSlice(dt, shape, dst))
			}
			return nil, errf("unsupported dtype %s", dt)
		}), nil
	}
}

// redSoftmaxRun splits the outer dim over workers.
func redSoftmaxRun[F float32 | float64](ec *graph.ExecContext, x, y []F, outer, dim, inner int, log bool,
	row func(x, y []F, log bool), cols func(x, y []F, dim, inner int, log bool)) {
	if outer == 0 || dim == 0 || inner == 0 {
		return
	}
	blk := dim * inner
	redParallel(ec, outer, blk, func(lo, hi int) {
		for o := lo; o < hi; o++ {
			xs, ys := x[o*blk:(o+1)*blk], y[o*blk:(o+1)*blk]
			if inner == 1 {
				row(xs, ys, log)
			} else {
				cols(xs, ys, dim, inner, log)
			}
		}
	})
}

// redSoftmaxRow32 normalizes one row (kernels.SoftmaxRow; y may be x).
func redSoftmaxRow32(x, y []float32, log bool) { kernels.SoftmaxRow(y, x, log) }

func redSoftmaxRow64(x, y []float64, log bool) {
	m := x[0]
	for _, v := range x {
		if v > m || v != v {
			m = v
		}
	}
	var s float64
	if log {
		for _, v := range x {
			s += math.Exp(v - m)
		}
		ls := math.Log(s)
		for i, v := range x {
			y[i] = v - m - ls
		}
		return
	}
	for i, v := range x {
		e := math.Exp(v - m)
		y[i] = e
		s += e
	}
	r := 1 / s
	for i := range y {
		y[i] *= r
	}
}

// redSoftmaxCols normalizes each of the inner columns of a [dim, inner] block.
func redSoftmaxCols32(x, y []float32, dim, inner int, log bool) {
	m := make([]float32, inner)
	s := make([]float64, inner)
	copy(m, x[:inner])
	for j := 1; j < dim; j++ {
		for i, v := range x[j*inner : (j+1)*inner] {
			if v > m[i] || v != v {
				m[i] = v
			}
		}
	}
	for j := 0; j < dim; j++ {
		xr, yr := x[j*inner:(j+1)*inner], y[j*inner:(j+1)*inner]
		for i, v := range xr {
			e := kernels.Exp32(v - m[i])
			if !log {
				yr[i] = e
			}
			s[i] += float64(e)
		}
	}
	if log {
		for i := range m {
			m[i] += float32(math.Log(s[i]))
		}
		for j := 0; j < dim; j++ {
			xr, yr := x[j*inner:(j+1)*inner], y[j*inner:(j+1)*inner]
			for i, v := range xr {
				yr[i] = v - m[i]
			}
		}
		return
	}
	r := m // reuse as reciprocal sums
	for i := range r {
		r[i] = float32(1 / s[i])
	}
	for j := 0; j < dim; j++ {
		yr := y[j*inner : (j+1)*inner]
		for i := range yr {
			yr[i] *= r[i]
		}
	}
}

func redSoftmaxCols64(x, y []float64, dim, inner int, log bool) {
	m := make([]float64, inner)
	s := make([]float64, inner)
	copy(m, x[:inner])
	for j := 1; j < dim; j++ {
		for i, v := range x[j*inner : (j+1)*inner] {
			if v > m[i] || v != v {
				m[i] = v
			}
		}
	}
	for j := 0; j < dim; j++ {
		xr, yr := x[j*inner:(j+1)*inner], y[j*inner:(j+1)*inner]
		for i, v := range xr {
			e := math.Exp(v - m[i])
			if !log {
				yr[i] = e
			}
			s[i] += e
		}
	}
	if log {
		for i := range m {
			m[i] += math.Log(s[i])
		}
		for j := 0; j < dim; j++ {
			xr, yr := x[j*inner:(j+1)*inner], y[j*inner:(j+1)*inner]
			for i, v := range xr {
				yr[i] = v - m[i]
			}
		}
		return
	}
	for i := range s {
		s[i] = 1 / s[i]
	}
	for j := 0; j < dim; j++ {
		yr := y[j*inner : (j+1)*inner]
		for i := range yr {
			yr[i] *= s[i]
		}
	}
}

// redParallel runs f over [0, n) split into contiguous chunks on up to
// ec.Threads goroutines; unit is the work per index, used to skip
// parallelism for small inputs.
func redParallel(ec *graph.ExecContext, n, unit int, f func(lo, hi int)) {
	const minWork = 1 << 15
	workers := 1
	if ec != nil {
		workers = ec.Threads
	}
	if w := n * unit / minWork; w < workers {
		workers = w
	}
	if workers > n {
		workers = n
	}
	if workers <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			f(lo, hi)
		}(lo, hi)
	}
	wg.Wait()
}
