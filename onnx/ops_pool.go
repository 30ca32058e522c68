package onnx

import (
	"math"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/kernels"
	"github.com/txt2img/engine/tensor"
)

// Pooling: AveragePool, MaxPool (with the optional Indices output) and
// GlobalAveragePool. float16/bfloat16 compute in float32; MaxPool also takes
// float64 and 8-bit integers.

func init() {
	reg("AveragePool", 1, 0, nnPoolFactory(false))
	reg("MaxPool", 1, 0, nnPoolFactory(true))
	reg("GlobalAveragePool", 1, 0, fn(nnGlobalAveragePool))
}

// nnPoolFactory: https://onnx.ai/onnx/operators/onnx__AveragePool.html and
// https://onnx.ai/onnx/operators/onnx__MaxPool.html.
// AveragePool: count_include_pad since 7, ceil_mode since 10, dilations since
// 19. MaxPool: Indices output and storage_order since 8, ceil_mode and
// dilations since 10, 8-bit integers since 12. Older opsets simply never set
// the newer attributes, so one factory serves all versions.
func nnPoolFactory(isMax bool) graph.Factory {
	return func(n *graph.Node, opset int) (graph.Kernel, error) {
		a, err := nnReadConvAttrs(n)
		if err != nil {
			return nil, err
		}
		if a.kernel == nil {
			return nil, errf("pooling needs kernel_shape")
		}
		ceil := n.Int("ceil_mode", 0) != 0
		includePad := n.Int("count_include_pad", 0) != 0
		colMajor := n.Int("storage_order", 0) != 0
		wantIdx := isMax && len(n.Outputs) > 1 && n.Outputs[1] != ""
		return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
			x := input(in, 0)
			if x == nil {
				return nil, errf("pooling needs an input")
			}
			xs := x.Shape()
			if len(xs) < 3 {
				return nil, errf("pooling needs rank >= 3 input, got %v", xs)
			}
			g, err := a.nnResolve(xs[2:], a.kernel, ceil)
			if err != nil {
				return nil, err
			}
			outShape := append([]int{xs[0], xs[1]}, g.out...)
			planes := xs[0] * xs[1]
			p := nnPlan(g, includePad)
			dt := x.DType()
			var idx []int64
			if wantIdx {
				idx = make([]int64, planes*tensor.Numel(g.out))
			}
			var res *tensor.Tensor
			switch {
			case dt == tensor.Float || isHalf(dt):
				xv := toF32(x)
				y := make([]float32, planes*tensor.Numel(g.out))
				nnPoolPlanes(xv, y, idx, p, g, planes, isMax, colMajor, nnThreads(ec))
				res = fromF32(dt, outShape, y)
			case isMax && (dt == tensor.Double || dt == tensor.Int8 || dt == tensor.Uint8):
				xv := x.Float64s()
				y := make([]float64, planes*tensor.Numel(g.out))
				nnPoolPlanes(xv, y, idx, p, g, planes, isMax, colMajor, nnThreads(ec))
				res = tensor.FromFloat64s(dt, outShape, y)
			case !isMax && dt == tensor.Double:
				xv := x.F64()
				y := make([]float64, planes*tensor.Numel(g.out))
				nnPoolPlanes(xv, y, idx, p, g, planes, isMax, colMajor, nnThreads(ec))
				res = tensor.FromSlice(dt, outShape, y)
			default:
				return nil, errf("pooling: unsupported dtype %s", dt)
			}
			if idx != nil {
				return []*tensor.Tensor{res, tensor.FromSlice(tensor.Int64, outShape, idx)}, nil
			}
			return one(res)
		}), nil
	}
}

// nnPoolPlan lists, per spatial dim and output index, the input coordinates
// a window covers and the window's element count including padding.
type nnPoolPlan struct {
	valid [][][]int // [dim][out] -> input coords
	cnt   [][]int   // [dim][out] -> count including pads
}

func nnPlan(g *nnGeom, includePad bool) *nnPoolPlan {
	nd := len(g.in)
	p := &nnPoolPlan{valid: make([][][]int, nd), cnt: make([][]int, nd)}
	for d := 0; d < nd; d++ {
		p.valid[d] = make([][]int, g.out[d])
		p.cnt[d] = make([]int, g.out[d])
		for o := 0; o < g.out[d]; o++ {
			start := o*g.s[d] - g.pb[d]
			for j := 0; j < g.k[d]; j++ {
				ix := start + j*g.d[d]
				if ix >= 0 && ix < g.in[d] {
					p.valid[d][o] = append(p.valid[d][o], ix)
				}
				if ix < g.in[d]+g.pe[d] {
					p.cnt[d][o]++
				}
			}
			if !includePad {
				p.cnt[d][o] = len(p.valid[d][o])
			}
		}
	}
	return p
}

// nnPoolPlanes pools every (n, c) plane of x into y (and argmax into idx).
func nnPoolPlanes[T float32 | float64](x, y []T, idx []int64, p *nnPoolPlan, g *nnGeom, planes int, isMax, colMajor bool, threads int) {
	nd := len(g.in)
	inSz, outSz := tensor.Numel(g.in), tensor.Numel(g.out)
	inStr := tensor.Strides(g.in)
	// Column-major strides for storage_order=1 indices.
	colStr := make([]int, nd)
	acc := 1
	for d := 0; d < nd; d++ {
		colStr[d] = acc
		acc *= g.in[d]
	}
	kernels.Parallel(threads, planes, func(pl int) {
		xp := x[pl*inSz : (pl+1)*inSz]
		yp := y[pl*outSz : (pl+1)*outSz]
		o := make([]int, nd)
		lists := make([][]int, nd)
		pos := make([]int, nd)
		for oi := 0; oi < outSz; oi++ {
			empty := false
			count := 1
			for d := 0; d < nd; d++ {
				lists[d] = p.valid[d][o[d]]
				empty = empty || len(lists[d]) == 0
				count *= p.cnt[d][o[d]]
			}
			var sum float64
			best := T(math.Inf(-1))
			bestIdx := -1
			if !empty {
				clear(pos)
				for {
					off := 0
					for d := 0; d < nd; d++ {
						off += lists[d][pos[d]] * inStr[d]
					}
					v := xp[off]
					if isMax {
						if v > best || bestIdx < 0 {
							best, bestIdx = v, off
						}
					} else {
						sum += float64(v)
					}
					d := nd - 1
					for ; d >= 0; d-- {
						pos[d]++
						if pos[d] < len(lists[d]) {
							break
						}
						pos[d] = 0
					}
					if d < 0 {
						break
					}
				}
			}
			switch {
			case isMax:
				yp[oi] = best
				if idx != nil {
					flat := bestIdx
					if colMajor && bestIdx >= 0 {
						flat = 0
						r := bestIdx
						for d := 0; d < nd; d++ {
							flat += (r / inStr[d]) * colStr[d]
							r %= inStr[d]
						}
					}
					idx[pl*outSz+oi] = int64(pl*inSz + flat)
				}
			case count == 0:
				yp[oi] = T(math.NaN())
			default:
				yp[oi] = T(sum / float64(count))
			}
			for d := nd - 1; d >= 0; d-- {
				o[d]++
				if o[d] < g.out[d] {
					break
				}
				o[d] = 0
			}
		}
	})
}

// nnGlobalAveragePool: https://onnx.ai/onnx/operators/onnx__GlobalAveragePool.html
// Mean over all spatial dims (opsets 1, 22).
func nnGlobalAveragePool(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := input(in, 0)
	if x == nil {
		return nil, errf("GlobalAveragePool needs an input")
	}
	xs := x.Shape()
	if len(xs) < 2 {
		return nil, errf("GlobalAveragePool needs rank >= 2, got %v", xs)
	}
	outShape := []int{xs[0], xs[1]}
	for range xs[2:] {
		outShape = append(outShape, 1)
	}
	planes := xs[0] * xs[1]
	sz := tensor.Numel(xs[2:])
	dt := x.DType()
	if !dt.IsFloat() {
		return nil, errf("GlobalAveragePool: unsupported dtype %s", dt)
	}
	if dt == tensor.Double {
		xv := x.F64()
		y := make([]float64, planes)
		for p := range y {
			var s float64
			for _, v := range xv[p*sz : (p+1)*sz] {
				s += v
			}
			y[p] = s / float64(sz)
		}
		return one(tensor.FromSlice(dt, outShape, y))
	}
	xv := toF32(x)
	y := make([]float32, planes)
	for p := range y {
		var s float64
		for _, v := range xv[p*sz : (p+1)*sz] {
			s += float64(v)
		}
		y[p] = float32(s / float64(sz))
	}
	return one(fromF32(dt, outShape, y))
}
