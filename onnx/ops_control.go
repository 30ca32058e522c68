package onnx

import (
	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/tensor"
)

// Control flow: If and Loop run their body graphs with ExecContext.RunGraph,
// which lets the body read values of the enclosing graphs.

func init() {
	reg("If", 1, 0, shpIfFactory)
	reg("Loop", 1, 0, shpLoopFactory)
}

// shpIfFactory builds If (https://onnx.ai/onnx/operators/onnx__If.html): runs
// then_branch or else_branch (graphs without inputs) depending on the
// one-element bool condition and returns that branch's outputs.
func shpIfFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	thenG, elseG := n.GraphAttr("then_branch"), n.GraphAttr("else_branch")
	if thenG == nil || elseG == nil {
		return nil, errf("If: needs then_branch and else_branch graphs")
	}
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if err := shpCheck(in, 1); err != nil {
			return nil, err
		}
		c, err := shpCond(in[0])
		if err != nil {
			return nil, err
		}
		g := elseG
		if c {
			g = thenG
		}
		return ec.RunGraph(g, nil)
	}), nil
}

func shpCond(t *tensor.Tensor) (bool, error) {
	if t.Numel() != 1 {
		return false, errf("condition must have one element, has shape %v", t.Shape())
	}
	if t.DType() == tensor.String {
		return false, errf("condition cannot be a string")
	}
	return t.At(0) != 0, nil
}

// shpLoopFactory builds Loop (https://onnx.ai/onnx/operators/onnx__Loop.html).
// Inputs: optional trip count M, optional condition, N loop-carried values.
// The body takes (iteration, cond, N values) and returns (cond, N values,
// K scan outputs); the node returns the final N values and the K scan outputs
// stacked along a new first axis. Opset 11+ allows sequence values and later
// versions only widen the dtypes, so one kernel serves all versions.
func shpLoopFactory(n *graph.Node, _ int) (graph.Kernel, error) {
	body := n.GraphAttr("body")
	if body == nil {
		return nil, errf("Loop: missing body graph")
	}
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		if len(in) < 2 {
			return nil, errf("Loop needs at least 2 inputs (M, cond), got %d", len(in))
		}
		nc := len(in) - 2
		if len(body.Inputs) != nc+2 {
			return nil, errf("Loop body has %d inputs, want %d", len(body.Inputs), nc+2)
		}
		k := len(body.Outputs) - 1 - nc
		if k < 0 {
			return nil, errf("Loop body has %d outputs, want at least %d", len(body.Outputs), nc+1)
		}
		var maxIter int64 = -1
		if m := in[0]; m != nil {
			if m.Numel() != 1 || !m.DType().IsInt() {
				return nil, errf("trip count must be an integer scalar")
			}
			maxIter = m.Int64s()[0]
		}
		cond := true
		if c := in[1]; c != nil {
			var err error
			if cond, err = shpCond(c); err != nil {
				return nil, err
			}
		}
		carried := make([]*tensor.Tensor, nc)
		for i := range carried {
			if in[2+i] == nil {
				return nil, errf("loop-carried input %d is missing", i)
			}
			carried[i] = in[2+i]
		}
		scans := make([][]*tensor.Tensor, k)
		args := make([]*tensor.Tensor, nc+2)
		for it := int64(0); cond && (maxIter < 0 || it < maxIter); it++ {
			if err := ec.Ctx.Err(); err != nil {
				return nil, err
			}
			args[0] = tensor.ScalarI64(it)
			args[1] = tensor.FromSlice(tensor.Bool, nil, []bool{true})
			copy(args[2:], carried)
			outs, err := ec.RunGraph(body, args)
			if err != nil {
				return nil, err
			}
			if len(outs) != 1+nc+k {
				return nil, errf("Loop body returned %d values, want %d", len(outs), 1+nc+k)
			}
			if cond, err = shpCond(outs[0]); err != nil {
				return nil, err
			}
			copy(carried, outs[1:1+nc])
			for j := 0; j < k; j++ {
				scans[j] = append(scans[j], outs[1+nc+j])
			}
		}
		res := append([]*tensor.Tensor(nil), carried...)
		for j := 0; j < k; j++ {
			t, err := shpStack(scans[j], body.Outputs[1+nc+j].Type)
			if err != nil {
				return nil, err
			}
			res = append(res, t)
		}
		return res, nil
	}), nil
}

// shpStack stacks same-shaped tensors along a new first axis; with no items it
// returns an empty tensor of the declared type.
func shpStack(items []*tensor.Tensor, vt graph.ValueType) (*tensor.Tensor, error) {
	if len(items) == 0 {
		dt := vt.DType
		if !dt.Valid() {
			dt = tensor.Float
		}
		shape := []int{0}
		for _, d := range vt.Shape {
			shape = append(shape, max(d, 0))
		}
		return tensor.New(dt, shape...), nil
	}
	first := items[0]
	if first.Kind != tensor.KindTensor {
		return nil, errf("scan output must be a tensor, got %s", first)
	}
	shape := append([]int{len(items)}, first.Shape()...)
	out := tensor.New(first.DType(), shape...)
	d := shpBufOf(out)
	n := first.Numel()
	for i, t := range items {
		if t.Kind != tensor.KindTensor || t.DType() != first.DType() || !tensor.SameShape(t.Shape(), first.Shape()) {
			return nil, errf("scan output of iteration %d is %s, iteration 0 gave %s", i, t, first)
		}
		d.copyFrom(i*n, shpBufOf(t), 0, n)
	}
	return out, nil
}
