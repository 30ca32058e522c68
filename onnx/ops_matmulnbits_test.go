package onnx

import (
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/tensor"
)

func nbNode(attrs map[string]int64) *graph.Node {
	n := &graph.Node{OpType: "MatMulNBits", Domain: "com.microsoft"}
	for k, v := range attrs {
		n.Attrs = append(n.Attrs, graph.Attr{Name: k, Kind: graph.AttrInt, Int: v})
	}
	return n
}

func nbRun(t *testing.T, attrs map[string]int64, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	t.Helper()
	k, err := nbMatMulNBitsFactory(nbNode(attrs), 1)
	if err != nil {
		return nil, err
	}
	out, err := k.Run(&graph.ExecContext{Threads: 2}, in)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// nbRandom returns A [2,3,K], packed 4-bit B, scales, and the dense weight
// [N][K] (dequantized independently with zero point 8).
func nbRandom(rng *rand.Rand, N, K, bs int) (a, b, scales *tensor.Tensor, dense [][]float64) {
	nb := (K + bs - 1) / bs
	av := make([]float32, 6*K)
	for i := range av {
		av[i] = float32(rng.NormFloat64())
	}
	bv := make([]uint8, N*nb*bs/2)
	rng.Read(bv)
	sv := make([]float32, N*nb)
	for i := range sv {
		sv[i] = float32(rng.Float64()*0.1 + 0.01)
	}
	dense = make([][]float64, N)
	for n := range dense {
		dense[n] = make([]float64, K)
		for k := range dense[n] {
			byt := bv[n*nb*bs/2+(k/bs)*bs/2+(k%bs)/2]
			code := int(byt & 15)
			if k%2 == 1 {
				code = int(byt >> 4)
			}
			dense[n][k] = float64(code-8) * float64(sv[n*nb+k/bs])
		}
	}
	return tensor.FromSlice(tensor.Float, []int{2, 3, K}, av),
		tensor.FromSlice(tensor.Uint8, []int{N, nb, bs / 2}, bv),
		tensor.FromSlice(tensor.Float, []int{N, nb}, sv), dense
}

func TestMatMulNBits(t *testing.T) {
	const N, K, bs = 24, 72, 32 // K padded: 3 blocks of 32
	rng := rand.New(rand.NewSource(3))
	a, b, s, dense := nbRandom(rng, N, K, bs)
	attrs := map[string]int64{"K": K, "N": N, "bits": 4, "block_size": bs}
	av := a.F32()
	want := make([]float64, 6*N)
	for i := 0; i < 6; i++ {
		for n := 0; n < N; n++ {
			for k := 0; k < K; k++ {
				want[i*N+n] += float64(av[i*K+k]) * dense[n][k]
			}
		}
	}
	check := func(name string, y *tensor.Tensor, err error, dt tensor.DType, tol float64) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if y.DType() != dt || !tensor.SameShape(y.Shape(), []int{2, 3, N}) {
			t.Fatalf("%s: got %s, want %s[2 3 %d]", name, y, dt, N)
		}
		for i, w := range want {
			if d := math.Abs(y.At(i) - w); d > tol*(1+math.Abs(w)) {
				t.Fatalf("%s: y[%d] = %g, want %g", name, i, y.At(i), w)
			}
		}
	}
	y, err := nbRun(t, attrs, a, b, s)
	check("float", y, err, tensor.Float, 1e-5)

	// float16 A and scales: float32 compute, one rounding.
	a16 := tensor.New(tensor.Float16, 2, 3, K)
	for i, v := range av {
		tensor.View[uint16](a16)[i] = tensor.F32ToF16(v)
	}
	s16 := tensor.New(tensor.Float16, N, 3)
	for i, v := range s.F32() {
		tensor.View[uint16](s16)[i] = tensor.F32ToF16(v)
	}
	y, err = nbRun(t, attrs, a16, b, s16)
	check("fp16", y, err, tensor.Float16, 1e-2)

	// accuracy_level 4: int8 activations, close to the float result.
	attrs4 := map[string]int64{"K": K, "N": N, "bits": 4, "block_size": bs, "accuracy_level": 4}
	y, err = nbRun(t, attrs4, a, b, s)
	check("int8", y, err, tensor.Float, 2e-2)

	// explicit packed zero points equal to 8 and a bias
	zp := tensor.New(tensor.Uint8, N*2)
	for i := range zp.U8() {
		zp.U8()[i] = 0x88
	}
	bias := tensor.New(tensor.Float, N)
	y, err = nbRun(t, attrs, a, b, s, zp, nil, bias)
	check("zp+bias", y, err, tensor.Float, 1e-5)
}

func TestMatMulNBitsErrors(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	a, b, s, _ := nbRandom(rng, 8, 64, 32)
	good := map[string]int64{"K": 64, "N": 8, "bits": 4, "block_size": 32}
	if _, err := nbRun(t, good, a, b, s); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		attrs map[string]int64
		in    []*tensor.Tensor
		want  string
	}{
		{"no K", map[string]int64{"N": 8, "block_size": 32}, []*tensor.Tensor{a, b, s}, "positive"},
		{"bits", map[string]int64{"K": 64, "N": 8, "bits": 3, "block_size": 32}, []*tensor.Tensor{a, b, s}, "bits"},
		{"block", map[string]int64{"K": 64, "N": 8, "block_size": 20}, []*tensor.Tensor{a, b, s}, "block_size"},
		{"accuracy", map[string]int64{"K": 64, "N": 8, "block_size": 32, "accuracy_level": 7}, []*tensor.Tensor{a, b, s}, "accuracy_level"},
		{"missing", good, []*tensor.Tensor{a, b}, "needs"},
		{"K mismatch", map[string]int64{"K": 32, "N": 16, "block_size": 32}, []*tensor.Tensor{a, b, s}, "does not end in K"},
		{"B size", map[string]int64{"K": 64, "N": 9, "block_size": 32}, []*tensor.Tensor{a, b, tensor.New(tensor.Float, 18)}, "weight data size"},
		{"scales size", good, []*tensor.Tensor{a, b, tensor.New(tensor.Float, 15)}, "scales"},
		{"A dtype", good, []*tensor.Tensor{tensor.New(tensor.Int32, 1, 64), b, s}, "float or float16"},
		{"zp dtype", good, []*tensor.Tensor{a, b, s, tensor.New(tensor.Int64, 8)}, "zero_points"},
		{"zp size", good, []*tensor.Tensor{a, b, s, tensor.New(tensor.Uint8, 5)}, "zero points"},
		{"g_idx range", good, []*tensor.Tensor{a, b, s, nil, tensor.FromSlice(tensor.Int32, []int{64}, append(make([]int32, 63), 9))}, "g_idx"},
		{"bias size", good, []*tensor.Tensor{a, b, s, nil, nil, tensor.New(tensor.Float, 3)}, "bias"},
	}
	for _, c := range cases {
		_, err := nbRun(t, c.attrs, c.in...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got error %v, want one mentioning %q", c.name, err, c.want)
		}
	}
}

func TestNonZero(t *testing.T) {
	cases := []struct {
		name  string
		in    *tensor.Tensor
		shape []int
		want  []int64
	}{
		{"2d", tensor.FromSlice(tensor.Float, []int{2, 3}, []float32{0, 1, 0, 2, 0, -3}), []int{2, 3}, []int64{0, 1, 1, 1, 0, 2}},
		{"bool", tensor.FromSlice(tensor.Bool, []int{4}, []bool{true, false, false, true}), []int{1, 2}, []int64{0, 3}},
		{"int64 none", tensor.FromSlice(tensor.Int64, []int{2, 2}, []int64{0, 0, 0, 0}), []int{2, 0}, nil},
		{"fp16 -0", tensor.FromSlice(tensor.Float16, []int{3}, []uint16{0x8000, 0x3c00, 0}), []int{1, 1}, []int64{1}},
		{"scalar", tensor.ScalarF32(5), []int{1, 1}, []int64{0}},
	}
	for _, c := range cases {
		out, err := nbNonZero(nil, []*tensor.Tensor{c.in})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		y := out[0]
		if y.DType() != tensor.Int64 || !tensor.SameShape(y.Shape(), c.shape) {
			t.Fatalf("%s: got %s, want int64%v", c.name, y, c.shape)
		}
		for i, w := range c.want {
			if y.I64()[i] != w {
				t.Fatalf("%s: got %v, want %v", c.name, y.I64(), c.want)
			}
		}
	}
	if _, err := nbNonZero(nil, nil); err == nil {
		t.Error("NonZero without input: no error")
	}
}
