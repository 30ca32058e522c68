package onnx

import (
	"math"
	"math/rand"
	"testing"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/kernels"
	"github.com/txt2img/engine/tensor"
)

// redNaive reduces by visiting every input index and mapping it to its output index.
func redNaive(x []float64, shape []int, mask []bool, op redOp) []float64 {
	var oshape []int
	for i, d := range shape {
		if !mask[i] {
			oshape = append(oshape, d)
		}
	}
	n := tensor.Numel(oshape)
	acc := make([]float64, n)
	cnt := make([]int, n)
	for i := range acc {
		acc[i] = redIdentityF(op)
	}
	idx := make([]int, len(shape))
	for i := range x {
		r := i
		for d := len(shape) - 1; d >= 0; d-- {
			idx[d] = r % shape[d]
			r /= shape[d]
		}
		o := 0
		for d := range shape {
			if !mask[d] {
				o = o*shape[d] + idx[d]
			}
		}
		v := x[i]
		cnt[o]++
		switch op {
		case redOpSum, redOpMean:
			acc[o] += v
		case redOpProd:
			acc[o] *= v
		case redOpL2:
			acc[o] += v * v
		case redOpMax:
			acc[o] = math.Max(acc[o], v)
		case redOpMin:
			acc[o] = math.Min(acc[o], v)
		}
	}
	for i := range acc {
		switch op {
		case redOpMean:
			acc[i] /= float64(cnt[i])
		case redOpL2:
			acc[i] = math.Sqrt(acc[i])
		}
	}
	return acc
}

func TestRedReduceRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for iter := 0; iter < 300; iter++ {
		rank := rng.Intn(5)
		shape := make([]int, rank)
		mask := make([]bool, rank)
		for i := range shape {
			shape[i] = 1 + rng.Intn(4)
			mask[i] = rng.Intn(2) == 0
		}
		n := tensor.Numel(shape)
		xf := make([]float32, n)
		xi := make([]int64, n)
		xd := make([]float64, n)
		for i := range xf {
			xi[i] = int64(rng.Intn(3) - 1)
			xf[i] = float32(rng.NormFloat64())
			xd[i] = float64(xf[i])
		}
		for op := redOpSum; op <= redOpL2; op++ {
			keep := rng.Intn(2) == 0
			want := redNaive(xd, shape, mask, op)
			got, err := redReduce(tensor.FromSlice(tensor.Float, shape, xf), op, mask, keep)
			if err != nil {
				t.Fatal(err)
			}
			if got.Rank() != rank && keep || got.Numel() != len(want) {
				t.Fatalf("shape %v mask %v keep %v: got %v", shape, mask, keep, got.Shape())
			}
			for i, w := range want {
				if g := float64(got.F32()[i]); math.Abs(g-w) > 1e-5+1e-4*math.Abs(w) {
					t.Fatalf("op %d shape %v mask %v [%d]: got %v want %v", op, shape, mask, i, g, w)
				}
			}
			// integers: exact except mean (truncated) and L2 (truncated sqrt)
			xi64 := make([]float64, n)
			for i, v := range xi {
				xi64[i] = float64(v)
			}
			wi := redNaive(xi64, shape, mask, op)
			gi, err := redReduce(tensor.FromSlice(tensor.Int64, shape, xi), op, mask, keep)
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range wi {
				if g := gi.I64()[i]; g != int64(w) {
					t.Fatalf("int op %d shape %v mask %v [%d]: got %v want %v", op, shape, mask, i, g, int64(w))
				}
			}
		}
	}
}

func TestRedReduceEmptyAndHalf(t *testing.T) {
	x := tensor.New(tensor.Float, 2, 0, 3)
	for op, want := range map[redOp]float64{redOpSum: 0, redOpProd: 1, redOpMax: math.Inf(-1), redOpMin: math.Inf(1), redOpL2: 0} {
		got, err := redReduce(x, op, []bool{false, true, false}, true)
		if err != nil || !tensor.SameShape(got.Shape(), []int{2, 1, 3}) {
			t.Fatalf("op %d: %v %v", op, got, err)
		}
		for _, v := range got.F32() {
			if float64(v) != want {
				t.Fatalf("op %d: got %v want %v", op, v, want)
			}
		}
	}
	h := fromF32(tensor.Float16, []int{2, 2}, []float32{1, 2, 3, 4})
	got, err := redReduce(h, redOpMean, []bool{true, false}, false)
	if err != nil || got.DType() != tensor.Float16 || got.At(0) != 2 || got.At(1) != 3 {
		t.Fatalf("fp16 mean: %v %v", got, err)
	}
	// noop over no axes: ReduceL2 acts as Abs
	got, err = redReduce(tensor.FromSlice(tensor.Float, []int{2}, []float32{-3, 4}), redOpL2, []bool{false}, true)
	if err != nil || got.F32()[0] != 3 || got.F32()[1] != 4 {
		t.Fatalf("noop L2: %v %v", got.F32(), err)
	}
}

func TestRedArgMiddleAxis(t *testing.T) {
	x := tensor.FromSlice(tensor.Float, []int{2, 3, 2}, []float32{
		1, 9, 5, 9, 5, 0,
		7, 7, 7, 2, float32(math.NaN()), 1})
	k, err := redArgFactory(true)(&graph.Node{OpType: "ArgMax", Attrs: []graph.Attr{{Name: "axis", Kind: graph.AttrInt, Int: 1}, {Name: "keepdims", Kind: graph.AttrInt, Int: 0}}}, 13)
	if err != nil {
		t.Fatal(err)
	}
	out, err := k.Run(nil, []*tensor.Tensor{x})
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{1, 0, 2, 0}
	for i, w := range want {
		if out[0].I64()[i] != w {
			t.Fatalf("argmax: got %v want %v", out[0].I64(), want)
		}
	}
}

func TestRedExp32(t *testing.T) {
	for x := -100.0; x < 88.7; x += 0.01 {
		got := float64(kernels.Exp32(float32(x)))
		want := math.Exp(float64(float32(x)))
		if math.Abs(got-want) > 4e-7*want+1e-44 {
			t.Fatalf("exp(%v) = %v, want %v", x, got, want)
		}
	}
	if !math.IsInf(float64(kernels.Exp32(89)), 1) || kernels.Exp32(-200) != 0 {
		t.Fatal("exp overflow/underflow")
	}
}

func TestRedSoftmaxHalfAndCols(t *testing.T) {
	// opset 13 softmax over axis 0 of a [3, 2] float16 input
	x := fromF32(tensor.Float16, []int{3, 2}, []float32{1, 0, 2, 0, 3, 0})
	k, _ := redSoftmaxFactory(false, false)(&graph.Node{OpType: "Softmax", Attrs: []graph.Attr{{Name: "axis", Kind: graph.AttrInt, Int: 0}}}, 13)
	out, err := k.Run(&graph.ExecContext{Threads: 2}, []*tensor.Tensor{x})
	if err != nil {
		t.Fatal(err)
	}
	s := math.Exp(1) + math.Exp(2) + math.Exp(3)
	want := []float64{math.Exp(1) / s, 1.0 / 3, math.Exp(2) / s, 1.0 / 3, math.Exp(3) / s, 1.0 / 3}
	for i, w := range want {
		if g := out[0].At(i); math.Abs(g-w) > 1e-3 {
			t.Fatalf("softmax fp16 [%d]: got %v want %v", i, g, w)
		}
	}
}

func TestRedGroupNormPerGroup(t *testing.T) {
	// opset 18: scale/bias per group. 1 batch, 4 channels, 2 groups, 2 spatial.
	x := tensor.FromSlice(tensor.Float, []int{1, 4, 2}, []float32{1, 2, 3, 4, 10, 10, 20, 20})
	sc := tensor.FromSlice(tensor.Float, []int{2}, []float32{2, 1})
	bs := tensor.FromSlice(tensor.Float, []int{2}, []float32{0, 5})
	n := &graph.Node{OpType: "GroupNormalization", Attrs: []graph.Attr{{Name: "num_groups", Kind: graph.AttrInt, Int: 2}, {Name: "epsilon", Kind: graph.AttrFloat, Float: 0}}}
	k, err := redGroupNormFactory(true)(n, 18)
	if err != nil {
		t.Fatal(err)
	}
	out, err := k.Run(nil, []*tensor.Tensor{x, sc, bs})
	if err != nil {
		t.Fatal(err)
	}
	sd := math.Sqrt(1.25)
	want := []float64{2 * -1.5 / sd, 2 * -0.5 / sd, 2 * 0.5 / sd, 2 * 1.5 / sd, 4, 4, 6, 6}
	for i, w := range want {
		if g := float64(out[0].F32()[i]); math.Abs(g-w) > 1e-5 {
			t.Fatalf("groupnorm [%d]: got %v want %v", i, g, w)
		}
	}
}

func TestRedNormParallelMatchesSerial(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	x := make([]float32, 2*64*32*32)
	for i := range x {
		x[i] = float32(rng.NormFloat64()*3 + 1)
	}
	xt := tensor.FromSlice(tensor.Float, []int{2, 64, 32, 32}, x)
	sc := tensor.FromSlice(tensor.Float, []int{64}, make([]float32, 64))
	bs := tensor.FromSlice(tensor.Float, []int{64}, make([]float32, 64))
	for i := range sc.F32() {
		sc.F32()[i] = float32(i)
		bs.F32()[i] = float32(-i)
	}
	n := &graph.Node{OpType: "GroupNormalization", Attrs: []graph.Attr{{Name: "num_groups", Kind: graph.AttrInt, Int: 8}}}
	k, _ := redGroupNormFactory(false)(n, 21)
	a, err := k.Run(&graph.ExecContext{Threads: 1}, []*tensor.Tensor{xt, sc, bs})
	if err != nil {
		t.Fatal(err)
	}
	b, err := k.Run(&graph.ExecContext{Threads: 4}, []*tensor.Tensor{xt, sc, bs})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range a[0].F32() {
		if b[0].F32()[i] != v {
			t.Fatalf("parallel differs at %d", i)
		}
	}
	// LayerNorm over the last two dims with the stats outputs
	ln := &graph.Node{OpType: "LayerNormalization", Attrs: []graph.Attr{{Name: "axis", Kind: graph.AttrInt, Int: -2}}}
	k, _ = redLayerNormFactory(false)(ln, 17)
	s2 := tensor.FromSlice(tensor.Float, []int{32}, make([]float32, 32))
	for i := range s2.F32() {
		s2.F32()[i] = 1
	}
	out, err := k.Run(&graph.ExecContext{Threads: 4}, []*tensor.Tensor{xt, s2})
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.SameShape(out[1].Shape(), []int{2, 64, 1, 1}) {
		t.Fatalf("mean shape %v", out[1].Shape())
	}
	m, v := redMoments(x[:1024])
	if math.Abs(float64(out[1].F32()[0])-m) > 1e-6 || math.Abs(float64(out[2].F32()[0])-1/math.Sqrt(v+1e-5)) > 1e-5 {
		t.Fatalf("layernorm stats %v %v", out[1].F32()[0], out[2].F32()[0])
	}
}
