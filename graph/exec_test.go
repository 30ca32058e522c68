package graph

import (
	"context"
	"errors"
	"testing"
	"time"
	"unsafe"

	"github.com/txt2img/engine/tensor"
)

const testDomain = "test.graph"

// seenBuffers records the output buffers the "Twice" kernel wrote.
var seenBuffers = map[uintptr]bool{}

func init() {
	// Twice: y = 2x, allocated through the pool.
	Register(testDomain, "Twice", 1, 0, func(*Node, int) (Kernel, error) {
		return KernelFunc(func(ec *ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
			out := ec.Alloc(tensor.Float, in[0].Shape()...)
			o, x := out.F32(), in[0].F32()
			for i := range o {
				o[i] = 2 * x[i]
			}
			seenBuffers[uintptr(unsafe.Pointer(&out.Bytes()[0]))] = true
			return []*tensor.Tensor{out}, nil
		}), nil
	})
	// Slow: identity that takes 20 ms.
	Register(testDomain, "Slow", 1, 0, func(*Node, int) (Kernel, error) {
		return KernelFunc(func(ec *ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
			time.Sleep(20 * time.Millisecond)
			return []*tensor.Tensor{in[0]}, nil
		}), nil
	})
	// CallBody: runs attribute graph "body" with in[0] as its input.
	Register(testDomain, "CallBody", 1, 0, func(n *Node, _ int) (Kernel, error) {
		body := n.GraphAttr("body")
		return KernelFunc(func(ec *ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
			return ec.RunGraph(body, in[:1])
		}), nil
	})
}

func f32(shape []int, v ...float32) *tensor.Tensor { return tensor.FromSlice(tensor.Float, shape, v) }

func chain(op string, n int) *Graph {
	g := &Graph{Opsets: map[string]int{testDomain: 1}, Initializers: map[string]*tensor.Tensor{}}
	g.Inputs = []ValueInfo{{Name: "v0", Type: ValueType{DType: tensor.Float}}}
	prev := "v0"
	for i := 1; i <= n; i++ {
		name := "v" + string(rune('a'+i%26)) + string(rune('0'+i/26))
		g.Nodes = append(g.Nodes, &Node{Name: name, OpType: op, Domain: testDomain, Inputs: []string{prev}, Outputs: []string{name}})
		prev = name
	}
	g.Outputs = []ValueInfo{{Name: prev}}
	return g
}

func TestRunChainAndBufferReuse(t *testing.T) {
	s, err := NewSession(chain("Twice", 12), Options{})
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(tensor.Float, 1<<16)
	x.F32()[7] = 1
	var out map[string]*tensor.Tensor
	for run := 0; run < 3; run++ {
		clear(seenBuffers)
		if out, err = s.Run(context.Background(), map[string]*tensor.Tensor{"v0": x}); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range out {
		if got := v.F32()[7]; got != 4096 {
			t.Fatalf("got %v, want 4096", got)
		}
	}
	// 12 nodes, each input released after its only reader: a handful of
	// buffers should serve the whole chain.
	if len(seenBuffers) > 4 {
		t.Fatalf("chain of 12 used %d distinct buffers; liveness-based reuse is not working", len(seenBuffers))
	}
}

func TestCancelWithinOneNode(t *testing.T) {
	s, err := NewSession(chain("Slow", 100), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	start := time.Now()
	_, err = s.Run(ctx, map[string]*tensor.Tensor{"v0": f32([]int{1}, 1)})
	took := time.Since(start)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// cancel at 50 ms + at most one 20 ms node (+ scheduling slack)
	if took > 200*time.Millisecond {
		t.Fatalf("cancel took %v", took)
	}
}

func TestConstantFolding(t *testing.T) {
	g := chain("Twice", 1)
	// c = Twice(Twice(w)) folds; y = Twice(x) stays.
	g.Initializers["w"] = f32([]int{1}, 3)
	g.Nodes = append(g.Nodes,
		&Node{Name: "c1", OpType: "Twice", Domain: testDomain, Inputs: []string{"w"}, Outputs: []string{"c1"}},
		&Node{Name: "c2", OpType: "Twice", Domain: testDomain, Inputs: []string{"c1"}, Outputs: []string{"c2"}},
	)
	g.Outputs = append(g.Outputs, ValueInfo{Name: "c2"})
	s, err := NewSession(g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.NodeCount() != 1 {
		t.Fatalf("%d nodes after folding, want 1", s.NodeCount())
	}
	out, err := s.Run(context.Background(), map[string]*tensor.Tensor{"v0": f32([]int{1}, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if out["c2"].F32()[0] != 12 {
		t.Fatalf("folded value %v, want 12", out["c2"].F32()[0])
	}
	s2, err := NewSession(g, Options{DisablePasses: []string{"fold-constants"}})
	if err != nil {
		t.Fatal(err)
	}
	if s2.NodeCount() != 3 {
		t.Fatalf("%d nodes with folding off, want 3", s2.NodeCount())
	}
}

func TestUnsupportedOp(t *testing.T) {
	g := chain("NoSuchOp", 1)
	_, err := NewSession(g, Options{})
	var ue *UnsupportedOpError
	if !errors.As(err, &ue) || ue.OpType != "NoSuchOp" || ue.Domain != testDomain {
		t.Fatalf("err = %v, want UnsupportedOpError for NoSuchOp", err)
	}
}

func TestUnsortedGraphAndSubgraphScope(t *testing.T) {
	// body reads "outer" from the enclosing graph.
	body := &Graph{Opsets: map[string]int{testDomain: 1}, Initializers: map[string]*tensor.Tensor{}}
	body.Inputs = []ValueInfo{{Name: "b_in"}}
	body.Nodes = []*Node{{Name: "b", OpType: "Twice", Domain: testDomain, Inputs: []string{"outer"}, Outputs: []string{"b_out"}}}
	body.Outputs = []ValueInfo{{Name: "b_out"}}
	g := &Graph{Opsets: map[string]int{testDomain: 1}, Initializers: map[string]*tensor.Tensor{}}
	g.Inputs = []ValueInfo{{Name: "x"}}
	g.Nodes = []*Node{ // deliberately out of order
		{Name: "call", OpType: "CallBody", Domain: testDomain, Inputs: []string{"x"}, Outputs: []string{"y"},
			Attrs: []Attr{{Name: "body", Kind: AttrGraph, Graph: body}}},
		{Name: "mk", OpType: "Twice", Domain: testDomain, Inputs: []string{"x"}, Outputs: []string{"outer"}},
	}
	g.Outputs = []ValueInfo{{Name: "y"}}
	s, err := NewSession(g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Run(context.Background(), map[string]*tensor.Tensor{"x": f32([]int{1}, 5)})
	if err != nil {
		t.Fatal(err)
	}
	if out["y"].F32()[0] != 20 {
		t.Fatalf("got %v, want 20", out["y"].F32()[0])
	}
}

func TestInputChecks(t *testing.T) {
	g := chain("Twice", 1)
	g.Inputs[0].Type = ValueType{DType: tensor.Float, HasShape: true, Shape: []int{2}}
	s, err := NewSession(g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]map[string]*tensor.Tensor{
		"missing":     {},
		"wrong dtype": {"v0": tensor.New(tensor.Int64, 2)},
		"wrong shape": {"v0": tensor.New(tensor.Float, 3)},
		"unknown":     {"v0": tensor.New(tensor.Float, 2), "zz": tensor.New(tensor.Float, 2)},
	} {
		if _, err := s.Run(context.Background(), in); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestRegisterOverlapPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("overlapping registration did not panic")
		}
	}()
	Register(testDomain, "Twice", 1, 3, nil)
}
