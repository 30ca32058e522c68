package onnx

import (
	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/tensor"
)

// Sequence ops.

func init() {
	reg("SplitToSequence", 11, 0, shpSplitToSequenceFactory)
}

// shpSplitToSequenceFactory builds SplitToSequence
// (https://onnx.ai/onnx/operators/onnx__SplitToSequence.html). split may be a
// scalar (chunks of that length, the last one shorter) or a 1-D list of
// lengths; without split the axis is cut into length-1 pieces, which are
// squeezed when keepdims is 0.
func shpSplitToSequenceFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	axis := int(n.Int("axis", 0))
	keep := n.Int("keepdims", 1) != 0
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if err := shpCheck(in, 1); err != nil {
			return nil, err
		}
		x := in[0]
		if x.Rank() == 0 {
			return nil, errf("cannot split a scalar")
		}
		ax, err := normAxis(axis, x.Rank())
		if err != nil {
			return nil, err
		}
		dim := x.Shape()[ax]
		var split []int
		squeeze := false
		if st := input(in, 1); st != nil {
			v, err := shpIndexInts(st)
			if err != nil {
				return nil, err
			}
			if st.Rank() == 0 {
				c := v[0]
				if c <= 0 {
					return nil, errf("split length %d must be positive", c)
				}
				for off := 0; off < dim; off += c {
					split = append(split, min(c, dim-off))
				}
			} else {
				split = v
				sum := 0
				for _, s := range split {
					if s < 0 {
						return nil, errf("negative split length %d", s)
					}
					sum += s
				}
				if sum != dim {
					return nil, errf("split lengths %v do not add up to dim %d", split, dim)
				}
			}
		} else {
			split = make([]int, dim)
			for i := range split {
				split[i] = 1
			}
			squeeze = !keep
		}
		parts, err := shpSplit(x, ax, split)
		if err != nil {
			return nil, err
		}
		if squeeze {
			for i, p := range parts {
				s := append(append([]int(nil), p.Shape()[:ax]...), p.Shape()[ax+1:]...)
				if parts[i], err = p.Reshape(s...); err != nil {
					return nil, err
				}
			}
		}
		return one(tensor.NewSequence(x.DType(), parts))
	}), nil
}
