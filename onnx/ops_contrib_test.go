package onnx

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/tensor"
)

// Unit tests of the com.microsoft contrib ops against plain float64
// references written from the ONNX Runtime ContribOperators definitions.

func msAttrI(name string, v int64) graph.Attr {
	return graph.Attr{Name: name, Kind: graph.AttrInt, Int: v}
}
func msAttrF(name string, v float32) graph.Attr {
	return graph.Attr{Name: name, Kind: graph.AttrFloat, Float: v}
}
func msAttrIs(name string, v ...int64) graph.Attr {
	return graph.Attr{Name: name, Kind: graph.AttrInts, Ints: v}
}

// msRun compiles and runs one com.microsoft node (two threads, so the
// parallel paths run).
func msRun(op string, attrs []graph.Attr, outs []string, in ...*tensor.Tensor) ([]*tensor.Tensor, error) {
	f, ok := graph.Lookup("com.microsoft", op, 1)
	if !ok {
		return nil, fmt.Errorf("%s not registered", op)
	}
	k, err := f(&graph.Node{OpType: op, Domain: "com.microsoft", Attrs: attrs, Outputs: outs}, 1)
	if err != nil {
		return nil, err
	}
	return k.Run(&graph.ExecContext{Threads: 2}, in)
}

// msRandT returns a random tensor of dtype dt and its values (after rounding
// to dt) as float64.
func msRandT(r *rand.Rand, dt tensor.DType, shape ...int) (*tensor.Tensor, []float64) {
	n := tensor.Numel(shape)
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	t := fromF32(dt, shape, v)
	return t, t.Float64s()
}

func msInts(shape []int, v ...int64) *tensor.Tensor {
	t := tensor.New(tensor.Int32, shape...)
	for i, x := range v {
		t.I32()[i] = int32(x)
	}
	return t
}

// msClose checks got (any float dtype) against want with |d| <= atol + rtol*|want|.
func msClose(t *testing.T, name string, got *tensor.Tensor, shape []int, want []float64, atol, rtol float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: no output", name)
		return
	}
	if !tensor.SameShape(got.Shape(), shape) {
		t.Errorf("%s: shape %v, want %v", name, got.Shape(), shape)
		return
	}
	g := got.Float64s()
	for i := range want {
		if d := math.Abs(g[i] - want[i]); !(d <= atol+rtol*math.Abs(want[i])) {
			t.Errorf("%s: element %d = %v, want %v", name, i, g[i], want[i])
			return
		}
	}
}

func msGelu64(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }

// msTol returns (atol, rtol) for outputs of dtype dt.
func msTol(dt tensor.DType) (float64, float64) {
	if dt == tensor.Float16 {
		return 2e-3, 2e-3
	}
	return 1e-4, 1e-4
}

func TestMSBiasOps(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for _, dt := range []tensor.DType{tensor.Float, tensor.Float16} {
		at, rt := msTol(dt)
		sh := []int{2, 5, 6}
		x, xv := msRandT(r, dt, sh...)
		b, bv := msRandT(r, dt, 6)
		s, sv := msRandT(r, dt, sh...)
		// BiasGelu
		want := make([]float64, len(xv))
		for i := range xv {
			want[i] = msGelu64(xv[i] + bv[i%6])
		}
		out, err := msRun("BiasGelu", nil, []string{"y"}, x, b)
		if err != nil {
			t.Fatal(err)
		}
		msClose(t, "BiasGelu "+dt.String(), out[0], sh, want, at, rt)
		// BiasAdd
		for i := range xv {
			want[i] = xv[i] + bv[i%6] + sv[i]
		}
		out, err = msRun("BiasAdd", nil, []string{"y"}, x, b, s)
		if err != nil {
			t.Fatal(err)
		}
		msClose(t, "BiasAdd "+dt.String(), out[0], sh, want, at, rt)
		// BiasSplitGelu: [2, 5, 6] -> [2, 5, 3]
		sw := make([]float64, 2*5*3)
		for row := 0; row < 10; row++ {
			for j := 0; j < 3; j++ {
				a := xv[row*6+j] + bv[j]
				g := xv[row*6+3+j] + bv[3+j]
				sw[row*3+j] = a * msGelu64(g)
			}
		}
		out, err = msRun("BiasSplitGelu", nil, []string{"y"}, x, b)
		if err != nil {
			t.Fatal(err)
		}
		msClose(t, "BiasSplitGelu "+dt.String(), out[0], []int{2, 5, 3}, sw, at, rt)
	}
	// Bad inputs.
	x := attnRand(2, 3, 4)
	bad := []struct {
		op string
		in []*tensor.Tensor
	}{
		{"BiasGelu", []*tensor.Tensor{x}},
		{"BiasGelu", []*tensor.Tensor{x, attnRand(3)}},
		{"BiasGelu", []*tensor.Tensor{x, attnRand(1, 4)}},
		{"BiasGelu", []*tensor.Tensor{tensor.New(tensor.Int64, 2, 4), tensor.New(tensor.Int64, 4)}},
		{"BiasAdd", []*tensor.Tensor{x, attnRand(4)}},
		{"BiasAdd", []*tensor.Tensor{x, attnRand(4), attnRand(2, 3, 5)}},
		{"BiasAdd", []*tensor.Tensor{x, attnRand(5), x}},
		{"BiasAdd", []*tensor.Tensor{attnRand(3, 4), attnRand(4), attnRand(3, 4)}},
		{"BiasSplitGelu", []*tensor.Tensor{attnRand(2, 3, 5), attnRand(5)}},
		{"BiasSplitGelu", []*tensor.Tensor{x, attnRand(2)}},
		{"BiasSplitGelu", []*tensor.Tensor{attnRand(3, 4), attnRand(4)}},
	}
	for i, c := range bad {
		if _, err := msRun(c.op, nil, []string{"y"}, c.in...); err == nil {
			t.Errorf("bad case %d (%s): no error", i, c.op)
		}
	}
}

func TestMSSkipLayerNorm(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	const B, S, H = 2, 3, 8
	eps := 1e-5
	for _, tc := range []struct {
		name       string
		dt         tensor.DType
		skipShape  []int
		beta, bias bool
	}{
		{"full", tensor.Float, []int{B, S, H}, true, true},
		{"no beta/bias", tensor.Float, []int{B, S, H}, false, false},
		{"skip [1,S,H]", tensor.Float, []int{1, S, H}, true, false},
		{"skip [S,H]", tensor.Float, []int{S, H}, false, true},
		{"fp16", tensor.Float16, []int{B, S, H}, true, true},
	} {
		x, xv := msRandT(r, tc.dt, B, S, H)
		sk, sv := msRandT(r, tc.dt, tc.skipShape...)
		g, gv := msRandT(r, tc.dt, H)
		in := []*tensor.Tensor{x, sk, g, nil, nil}
		bev, biv := make([]float64, H), make([]float64, H)
		if tc.beta {
			in[3], bev = msRandT(r, tc.dt, H)
		}
		if tc.bias {
			in[4], biv = msRandT(r, tc.dt, H)
		}
		want := make([]float64, B*S*H)
		sum := make([]float64, B*S*H)
		mean := make([]float64, B*S)
		inv := make([]float64, B*S)
		for row := 0; row < B*S; row++ {
			var m float64
			for j := 0; j < H; j++ {
				v := xv[row*H+j] + sv[(row*H+j)%len(sv)] + biv[j]
				sum[row*H+j] = v
				m += v
			}
			m /= H
			var vv float64
			for j := 0; j < H; j++ {
				vv += (sum[row*H+j] - m) * (sum[row*H+j] - m)
			}
			is := 1 / math.Sqrt(vv/H+eps)
			mean[row], inv[row] = m, is
			for j := 0; j < H; j++ {
				want[row*H+j] = (sum[row*H+j]-m)*is*gv[j] + bev[j]
			}
		}
		out, err := msRun("SkipLayerNormalization", []graph.Attr{msAttrF("epsilon", float32(eps))}, []string{"y", "m", "i", "s"}, in...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		at, rt := msTol(tc.dt)
		msClose(t, tc.name+" Y", out[0], []int{B, S, H}, want, at, rt)
		msClose(t, tc.name+" mean", out[1], []int{B, S, 1}, mean, 1e-5, 1e-5)
		msClose(t, tc.name+" inv_std", out[2], []int{B, S, 1}, inv, 1e-5, 1e-4)
		msClose(t, tc.name+" sum", out[3], []int{B, S, H}, sum, at, rt)
		if out[3].DType() != tc.dt || out[1].DType() != tensor.Float {
			t.Errorf("%s: output dtypes %s / %s", tc.name, out[3].DType(), out[1].DType())
		}
	}
	// Only Y requested: optional outputs stay nil.
	x := attnRand(1, 2, 4)
	out, err := msRun("SkipLayerNormalization", nil, []string{"y", "", "", ""}, x, x, attnRand(4))
	if err != nil || len(out) != 4 || out[0] == nil || out[3] != nil {
		t.Errorf("Y only: %v %v", out, err)
	}
	bad := [][]*tensor.Tensor{
		{x, x},
		{x, attnRand(1, 2, 5), attnRand(4)},
		{x, attnRand(2, 2, 4), attnRand(4)},
		{x, attnRand(3, 4), attnRand(4)},
		{x, x, attnRand(5)},
		{x, x, attnRand(4), attnRand(3)},
		{x, x, attnRand(4), nil, attnRand(2, 2)},
		{attnRand(4), attnRand(4), attnRand(4)},
		{x, fromF32(tensor.Float16, []int{1, 2, 4}, make([]float32, 8)), attnRand(4)},
	}
	for i, in := range bad {
		if _, err := msRun("SkipLayerNormalization", nil, []string{"y"}, in...); err == nil {
			t.Errorf("bad case %d: no error", i)
		}
	}
}

// msRefGroupNorm normalizes x (NHWC when nhwc, else NCHW) per (n, group).
func msRefGroupNorm(x []float64, N, HW, C, G int, nhwc bool, gamma, beta []float64, eps float64, silu bool) []float64 {
	idx := func(n, p, c int) int {
		if nhwc {
			return (n*HW+p)*C + c
		}
		return (n*C+c)*HW + p
	}
	y := make([]float64, len(x))
	cpg := C / G
	for n := 0; n < N; n++ {
		for g := 0; g < G; g++ {
			var m, vv float64
			for c := g * cpg; c < (g+1)*cpg; c++ {
				for p := 0; p < HW; p++ {
					m += x[idx(n, p, c)]
				}
			}
			m /= float64(cpg * HW)
			for c := g * cpg; c < (g+1)*cpg; c++ {
				for p := 0; p < HW; p++ {
					d := x[idx(n, p, c)] - m
					vv += d * d
				}
			}
			is := 1 / math.Sqrt(vv/float64(cpg*HW)+eps)
			for c := g * cpg; c < (g+1)*cpg; c++ {
				for p := 0; p < HW; p++ {
					i := idx(n, p, c)
					v := (x[i]-m)*is*gamma[c] + beta[c]
					if silu {
						v = v / (1 + math.Exp(-v))
					}
					y[i] = v
				}
			}
		}
	}
	return y
}

func TestMSGroupNorm(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	const N, H, W, C, G = 2, 3, 4, 6, 3
	eps := 1e-5
	for _, tc := range []struct {
		dt    tensor.DType
		gdt   tensor.DType
		nhwc  bool
		act   int64
		label string
	}{
		{tensor.Float, tensor.Float, true, 0, "fp32 nhwc"},
		{tensor.Float, tensor.Float, true, 1, "fp32 nhwc silu"},
		{tensor.Float, tensor.Float16, false, 1, "fp32 nchw silu"},
		{tensor.Float16, tensor.Float, true, 1, "fp16 nhwc silu, fp32 gamma"},
	} {
		shape := []int{N, H, W, C}
		if !tc.nhwc {
			shape = []int{N, C, H, W}
		}
		x, xv := msRandT(r, tc.dt, shape...)
		g, gv := msRandT(r, tc.gdt, C)
		b, bv := msRandT(r, tc.gdt, C)
		last := int64(0)
		if tc.nhwc {
			last = 1
		}
		attrs := []graph.Attr{msAttrI("groups", G), msAttrI("activation", tc.act), msAttrF("epsilon", float32(eps)), msAttrI("channels_last", last)}
		out, err := msRun("GroupNorm", attrs, []string{"y"}, x, g, b)
		if err != nil {
			t.Fatalf("%s: %v", tc.label, err)
		}
		at, rt := msTol(tc.dt)
		msClose(t, tc.label, out[0], shape, msRefGroupNorm(xv, N, H*W, C, G, tc.nhwc, gv, bv, eps, tc.act == 1), at, rt)
	}
	// SkipGroupNorm: full skip, [N,1,1,C] skip, [N,C] skip; bias optional.
	for i, sk := range [][]int{{N, H, W, C}, {N, 1, 1, C}, {N, C}} {
		for _, withBias := range []bool{true, false} {
			dt := tensor.Float
			if i == 1 {
				dt = tensor.Float16
			}
			x, xv := msRandT(r, dt, N, H, W, C)
			s, sv := msRandT(r, dt, sk...)
			g, gv := msRandT(r, tensor.Float, C)
			b, bv := msRandT(r, tensor.Float, C)
			in := []*tensor.Tensor{x, g, b, s}
			biv := make([]float64, C)
			if withBias {
				var bt *tensor.Tensor
				bt, biv = msRandT(r, dt, C)
				in = append(in, bt)
			}
			sum := make([]float64, len(xv))
			for j := range xv {
				n, c := j/(H*W*C), j%C
				si := j
				if len(sv) != len(xv) {
					si = n*C + c
				}
				sum[j] = xv[j] + sv[si] + biv[c]
			}
			attrs := []graph.Attr{msAttrI("groups", G), msAttrI("activation", 1), msAttrF("epsilon", float32(eps))}
			out, err := msRun("SkipGroupNorm", attrs, []string{"y", "s"}, in...)
			if err != nil {
				t.Fatal(err)
			}
			at, rt := msTol(dt)
			label := fmt.Sprintf("SkipGroupNorm skip %v bias %v", sk, withBias)
			msClose(t, label+" Y", out[0], []int{N, H, W, C}, msRefGroupNorm(sum, N, H*W, C, G, true, gv, bv, eps, true), at, rt)
			msClose(t, label+" S", out[1], []int{N, H, W, C}, sum, at, rt)
		}
	}
	// Bad attributes and inputs.
	x := attnRand(1, 2, 2, 6)
	gb := attnRand(6)
	badAttrs := [][]graph.Attr{
		{msAttrI("activation", 1)},
		{msAttrI("groups", 4)},
		{msAttrI("groups", 2), msAttrI("activation", 2)},
		{msAttrI("groups", 2), msAttrI("channels_last", 3)},
	}
	for i, a := range badAttrs {
		if _, err := msRun("GroupNorm", a, []string{"y"}, x, gb, gb); err == nil {
			t.Errorf("bad attrs %d: no error", i)
		}
	}
	ok := []graph.Attr{msAttrI("groups", 2)}
	for i, in := range [][]*tensor.Tensor{
		{x, gb},
		{attnRand(2, 6), gb, gb},
		{x, attnRand(5), gb},
		{x, gb, attnRand(2, 3)},
		{tensor.New(tensor.Int32, 1, 2, 2, 6), gb, gb},
	} {
		if _, err := msRun("GroupNorm", ok, []string{"y"}, in...); err == nil {
			t.Errorf("bad GroupNorm inputs %d: no error", i)
		}
	}
	for i, in := range [][]*tensor.Tensor{
		{x, gb, gb},
		{x, gb, gb, attnRand(1, 2, 1, 6)},
		{x, gb, gb, attnRand(1, 2, 2, 6), attnRand(3)},
		{x, gb, gb, fromF32(tensor.Float16, []int{1, 6}, make([]float32, 6))},
	} {
		if _, err := msRun("SkipGroupNorm", ok, []string{"y"}, in...); err == nil {
			t.Errorf("bad SkipGroupNorm inputs %d: no error", i)
		}
	}
	if _, err := msRun("SkipGroupNorm", []graph.Attr{msAttrI("groups", 2), msAttrI("channels_last", 0)}, []string{"y"}, x, gb, gb, x); err == nil {
		t.Errorf("SkipGroupNorm channels_last 0: no error")
	}
}

// msRefNhwcConv is a direct NHWC/OHWI convolution.
func msRefNhwcConv(x, w, b []float64, xs, ws []int, G int, s, d, pb, pe []int) ([]float64, []int) {
	N, H, W, C := xs[0], xs[1], xs[2], xs[3]
	M, kH, kW, Cg := ws[0], ws[1], ws[2], ws[3]
	oH := (H+pb[0]+pe[0]-((kH-1)*d[0]+1))/s[0] + 1
	oW := (W+pb[1]+pe[1]-((kW-1)*d[1]+1))/s[1] + 1
	Mg := M / G
	y := make([]float64, N*oH*oW*M)
	for n := 0; n < N; n++ {
		for oy := 0; oy < oH; oy++ {
			for ox := 0; ox < oW; ox++ {
				for m := 0; m < M; m++ {
					g := m / Mg
					acc := 0.0
					if b != nil {
						acc = b[m]
					}
					for kh := 0; kh < kH; kh++ {
						for kw := 0; kw < kW; kw++ {
							iy, ix := oy*s[0]-pb[0]+kh*d[0], ox*s[1]-pb[1]+kw*d[1]
							if iy < 0 || iy >= H || ix < 0 || ix >= W {
								continue
							}
							for c := 0; c < Cg; c++ {
								acc += x[((n*H+iy)*W+ix)*C+g*Cg+c] * w[((m*kH+kh)*kW+kw)*Cg+c]
							}
						}
					}
					y[((n*oH+oy)*oW+ox)*M+m] = acc
				}
			}
		}
	}
	return y, []int{N, oH, oW, M}
}

func TestMSNhwcConv(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	defer func(e, m int) { msConvChunkElems, msConvMinChunk = e, m }(msConvChunkElems, msConvMinChunk)
	for _, tc := range []struct {
		name          string
		dt, wdt       tensor.DType
		xs, ws        []int
		G             int
		s, d, pb, pe  []int
		bias, chunked bool
	}{
		{"3x3 pad1", tensor.Float, tensor.Float, []int{2, 5, 6, 4}, []int{3, 3, 3, 4}, 1, []int{1, 1}, []int{1, 1}, []int{1, 1}, []int{1, 1}, true, false},
		{"3x3 pad1 chunked", tensor.Float, tensor.Float, []int{2, 5, 6, 4}, []int{3, 3, 3, 4}, 1, []int{1, 1}, []int{1, 1}, []int{1, 1}, []int{1, 1}, true, true},
		{"stride2 dil2 asym pads", tensor.Float, tensor.Float, []int{1, 9, 8, 3}, []int{4, 3, 2, 3}, 1, []int{2, 2}, []int{2, 3}, []int{2, 0}, []int{1, 1}, false, false},
		{"group2", tensor.Float, tensor.Float, []int{1, 4, 5, 6}, []int{4, 3, 3, 3}, 2, []int{1, 1}, []int{1, 1}, []int{1, 1}, []int{1, 1}, true, false},
		{"1x1 direct", tensor.Float, tensor.Float, []int{2, 3, 4, 5}, []int{7, 1, 1, 5}, 1, []int{1, 1}, []int{1, 1}, []int{0, 0}, []int{0, 0}, true, false},
		{"1x1 direct group2", tensor.Float16, tensor.Float16, []int{1, 3, 3, 4}, []int{6, 1, 1, 2}, 2, []int{1, 1}, []int{1, 1}, []int{0, 0}, []int{0, 0}, true, false},
		{"fp16 3x3 stride2", tensor.Float16, tensor.Float16, []int{1, 8, 8, 4}, []int{5, 3, 3, 4}, 1, []int{2, 2}, []int{1, 1}, []int{1, 1}, []int{1, 1}, true, true},
	} {
		x, xv := msRandT(r, tc.dt, tc.xs...)
		w, wv := msRandT(r, tc.wdt, tc.ws...)
		in := []*tensor.Tensor{x, w}
		var bv []float64
		if tc.bias {
			var bt *tensor.Tensor
			bt, bv = msRandT(r, tc.wdt, tc.ws[0])
			in = append(in, bt)
		}
		if tc.chunked {
			msConvChunkElems, msConvMinChunk = 1, 5
		} else {
			msConvChunkElems, msConvMinChunk = 1<<21, 64
		}
		pads := append(append([]int64{}, int64(tc.pb[0]), int64(tc.pb[1])), int64(tc.pe[0]), int64(tc.pe[1]))
		attrs := []graph.Attr{msAttrIs("strides", int64(tc.s[0]), int64(tc.s[1])), msAttrIs("dilations", int64(tc.d[0]), int64(tc.d[1])),
			msAttrIs("pads", pads...), msAttrI("group", int64(tc.G)), msAttrIs("kernel_shape", int64(tc.ws[1]), int64(tc.ws[2]))}
		out, err := msRun("NhwcConv", attrs, []string{"y"}, in...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		want, shape := msRefNhwcConv(xv, wv, bv, tc.xs, tc.ws, tc.G, tc.s, tc.d, tc.pb, tc.pe)
		at, rt := msTol(tc.dt)
		msClose(t, tc.name, out[0], shape, want, at*4, rt)
	}
	msConvChunkElems, msConvMinChunk = 1<<21, 64
	// auto_pad SAME_UPPER keeps the spatial size at stride 1.
	x, xv := msRandT(r, tensor.Float, 1, 4, 4, 2)
	w, wv := msRandT(r, tensor.Float, 3, 3, 3, 2)
	out, err := msRun("NhwcConv", []graph.Attr{{Name: "auto_pad", Kind: graph.AttrString, Str: "SAME_UPPER"}}, []string{"y"}, x, w)
	if err != nil {
		t.Fatal(err)
	}
	want, shape := msRefNhwcConv(xv, wv, nil, []int{1, 4, 4, 2}, []int{3, 3, 3, 2}, 1, []int{1, 1}, []int{1, 1}, []int{1, 1}, []int{1, 1})
	msClose(t, "SAME_UPPER", out[0], shape, want, 1e-4, 1e-4)
	// Bad inputs.
	for i, c := range []struct {
		attrs []graph.Attr
		in    []*tensor.Tensor
	}{
		{nil, []*tensor.Tensor{x}},
		{nil, []*tensor.Tensor{attnRand(1, 4, 2), attnRand(3, 3, 2)}},
		{nil, []*tensor.Tensor{x, attnRand(3, 3, 3, 4)}},
		{[]graph.Attr{msAttrI("group", 2)}, []*tensor.Tensor{x, attnRand(3, 3, 3, 1)}},
		{nil, []*tensor.Tensor{x, w, attnRand(2)}},
		{[]graph.Attr{msAttrIs("kernel_shape", 2, 2)}, []*tensor.Tensor{x, w}},
		{[]graph.Attr{msAttrIs("strides", 0, 1)}, []*tensor.Tensor{x, w}},
		{nil, []*tensor.Tensor{x, attnRand(3, 5, 5, 2)}},
		{nil, []*tensor.Tensor{tensor.New(tensor.Int32, 1, 4, 4, 2), w}},
	} {
		if _, err := msRun("NhwcConv", c.attrs, []string{"y"}, c.in...); err == nil {
			t.Errorf("bad case %d: no error", i)
		}
	}
}

// msRefAttention computes softmax(scale*Q K^T + add(b, n, s, j)) V with
// Q [B][N][S][dk], K [B][N][T][dk], V [B][N][T][dv] as accessor functions;
// the output is [B, S, N*dv].
func msRefAttention(B, N, S, T, dk, dv int, scale float64, q, k, v func(b, n, i, d int) float64, add func(b, n, s, j int) float64) []float64 {
	out := make([]float64, B*S*N*dv)
	sc := make([]float64, T)
	for b := 0; b < B; b++ {
		for n := 0; n < N; n++ {
			for s := 0; s < S; s++ {
				mx := math.Inf(-1)
				for j := 0; j < T; j++ {
					var dot float64
					for d := 0; d < dk; d++ {
						dot += q(b, n, s, d) * k(b, n, j, d)
					}
					sc[j] = dot*scale + add(b, n, s, j)
					mx = math.Max(mx, sc[j])
				}
				var sum float64
				for j := range sc {
					sc[j] = math.Exp(sc[j] - mx)
					sum += sc[j]
				}
				for d := 0; d < dv; d++ {
					var acc float64
					for j := 0; j < T; j++ {
						acc += sc[j] / sum * v(b, n, j, d)
					}
					out[(b*S+s)*N*dv+n*dv+d] = acc
				}
			}
		}
	}
	return out
}

// msRefMask returns the additive mask of a mask_index form: keep(b, s, j)
// says whether key j is visible to query s, following the documented forms.
func msRefMask(form string, m []int64, B, S, T, past int, causal bool) func(b, n, s, j int) float64 {
	return func(b, n, s, j int) float64 {
		keep := true
		switch form {
		case "1d":
			keep = j < int(m[b])
		case "2b":
			keep = j < int(m[b]) && j >= int(m[B+b])
		case "2d":
			keep = m[b*T+j] != 0
		case "3d":
			keep = m[(b*S+s)*T+j] != 0
		}
		if causal && j > past+s {
			keep = false
		}
		if keep {
			return 0
		}
		return -10000
	}
}

func TestMSAttention(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	const B, S, Din, N = 2, 4, 6, 2
	for _, tc := range []struct {
		name     string
		dt, wdt  tensor.DType
		dq, dv   int
		form     string
		mask     *tensor.Tensor
		mv       []int64
		causal   bool
		past     int
		scale    float32
		attnBias []int
		noBias   bool
	}{
		{name: "plain", dt: tensor.Float, wdt: tensor.Float, dq: 8, dv: 8},
		{name: "fp16 weights", dt: tensor.Float16, wdt: tensor.Float16, dq: 8, dv: 8, noBias: true},
		{name: "qkv_hidden_sizes dv!=dq + scale", dt: tensor.Float, wdt: tensor.Float, dq: 4, dv: 6, scale: 0.3},
		{name: "mask [B]", dt: tensor.Float, wdt: tensor.Float, dq: 8, dv: 8, form: "1d", mv: []int64{2, 4}},
		{name: "mask [2B]", dt: tensor.Float, wdt: tensor.Float, dq: 8, dv: 8, form: "2b", mv: []int64{3, 4, 1, 2}},
		{name: "mask [B,T]", dt: tensor.Float, wdt: tensor.Float, dq: 8, dv: 8, form: "2d", mv: []int64{1, 0, 1, 1, 0, 1, 1, 0}},
		{name: "mask [B,S,T] causal", dt: tensor.Float, wdt: tensor.Float, dq: 8, dv: 8, form: "3d", causal: true},
		{name: "unidirectional", dt: tensor.Float, wdt: tensor.Float, dq: 8, dv: 8, causal: true},
		{name: "past causal", dt: tensor.Float, wdt: tensor.Float, dq: 8, dv: 8, past: 3, causal: true},
		{name: "attention_bias [1,N,S,T]", dt: tensor.Float, wdt: tensor.Float, dq: 8, dv: 8, attnBias: []int{1, N, S, S}},
		{name: "attention_bias [B,1,S,T]", dt: tensor.Float, wdt: tensor.Float, dq: 8, dv: 8, attnBias: []int{B, 1, S, S}},
	} {
		T := tc.past + S
		dt := tc.dq*2 + tc.dv
		x, xv := msRandT(r, tc.dt, B, S, Din)
		w, wv := msRandT(r, tc.wdt, Din, dt)
		in := []*tensor.Tensor{x, w, nil, nil, nil, nil}
		bv := make([]float64, dt)
		if !tc.noBias {
			in[2], bv = msRandT(r, tc.wdt, dt)
		}
		mv := tc.mv
		switch tc.form {
		case "1d":
			in[3] = msInts([]int{B}, mv...)
		case "2b":
			in[3] = msInts([]int{2 * B}, mv...)
		case "2d":
			in[3] = msInts([]int{B, T}, mv...)
		case "3d":
			mv = make([]int64, B*S*T)
			for i := range mv {
				mv[i] = int64(r.Intn(4) % 3) // mostly ones
				if i%T == 0 {
					mv[i] = 1
				}
			}
			in[3] = msInts([]int{B, S, T}, mv...)
		}
		hk, hv := tc.dq/N, tc.dv/N
		var pastv []float64
		if tc.past > 0 {
			in[4], pastv = msRandT(r, tc.dt, 2, B, N, tc.past, hk)
		}
		var abv []float64
		if tc.attnBias != nil {
			in[5], abv = msRandT(r, tc.dt, tc.attnBias...)
		}
		// Reference projections.
		proj := func(b, s, col int) float64 {
			acc := bv[col]
			for i := 0; i < Din; i++ {
				acc += xv[(b*S+s)*Din+i] * wv[i*dt+col]
			}
			return acc
		}
		q := func(b, n, s, d int) float64 { return proj(b, s, n*hk+d) }
		kvAt := func(which, off, h int) func(b, n, j, d int) float64 {
			return func(b, n, j, d int) float64 {
				if j < tc.past {
					return pastv[((((which*B+b)*N+n)*tc.past)+j)*h+d]
				}
				return proj(b, j-tc.past, off+n*h+d)
			}
		}
		add := msRefMask(tc.form, mv, B, S, T, tc.past, tc.causal)
		addAll := func(b, n, s, j int) float64 {
			v := add(b, n, s, j)
			if abv != nil {
				o := 0
				if tc.attnBias[0] != 1 {
					o += b * tc.attnBias[1] * S * T
				}
				if tc.attnBias[1] != 1 {
					o += n * S * T
				}
				v += abv[o+s*T+j]
			}
			return v
		}
		scale := 1 / math.Sqrt(float64(hk))
		if tc.scale != 0 {
			scale = float64(tc.scale)
		}
		want := msRefAttention(B, N, S, T, hk, hv, scale, q, kvAt(0, tc.dq, hk), kvAt(1, 2*tc.dq, hv), addAll)
		attrs := []graph.Attr{msAttrI("num_heads", N), msAttrIs("qkv_hidden_sizes", int64(tc.dq), int64(tc.dq), int64(tc.dv))}
		if tc.causal {
			attrs = append(attrs, msAttrI("unidirectional", 1))
		}
		if tc.scale != 0 {
			attrs = append(attrs, msAttrF("scale", tc.scale))
		}
		outs := []string{"y"}
		if tc.past > 0 {
			outs = append(outs, "present")
		}
		out, err := msRun("Attention", attrs, outs, in...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		at, rt := msTol(tc.dt)
		msClose(t, tc.name, out[0], []int{B, S, tc.dv}, want, at*2, rt)
		if tc.past > 0 {
			pw := make([]float64, 2*B*N*T*hk)
			for which := 0; which < 2; which++ {
				f := kvAt(which, (which+1)*tc.dq, hk)
				for b := 0; b < B; b++ {
					for n := 0; n < N; n++ {
						for j := 0; j < T; j++ {
							for d := 0; d < hk; d++ {
								pw[((((which*B+b)*N+n)*T)+j)*hk+d] = f(b, n, j, d)
							}
						}
					}
				}
			}
			msClose(t, tc.name+" present", out[1], []int{2, B, N, T, hk}, pw, at, rt)
		}
	}
	// Bad inputs and attributes.
	x, w := attnRand(1, 3, 4), attnRand(4, 12)
	for i, c := range []struct {
		attrs []graph.Attr
		in    []*tensor.Tensor
	}{
		{[]graph.Attr{msAttrI("num_heads", 2)}, []*tensor.Tensor{x}},
		{[]graph.Attr{msAttrI("num_heads", 2)}, []*tensor.Tensor{x, attnRand(5, 12)}},
		{[]graph.Attr{msAttrI("num_heads", 3)}, []*tensor.Tensor{x, attnRand(4, 6)}},
		{[]graph.Attr{msAttrI("num_heads", 2)}, []*tensor.Tensor{x, w, attnRand(11)}},
		{[]graph.Attr{msAttrI("num_heads", 2)}, []*tensor.Tensor{x, w, nil, msInts([]int{3}, 1, 1, 1)}},
		{[]graph.Attr{msAttrI("num_heads", 2)}, []*tensor.Tensor{x, w, nil, msInts([]int{1, 1, 3, 3}, make([]int64, 9)...)}},
		{[]graph.Attr{msAttrI("num_heads", 2)}, []*tensor.Tensor{x, w, nil, attnRand(1, 3)}},
		{[]graph.Attr{msAttrI("num_heads", 2)}, []*tensor.Tensor{x, w, nil, nil, attnRand(2, 1, 2, 1, 3)}},
		{[]graph.Attr{msAttrI("num_heads", 2)}, []*tensor.Tensor{x, w, nil, nil, nil, attnRand(1, 2, 3, 4)}},
		{[]graph.Attr{msAttrI("num_heads", 2), msAttrIs("qkv_hidden_sizes", 4, 2, 6)}, []*tensor.Tensor{x, w}},
		{[]graph.Attr{msAttrI("num_heads", 0)}, []*tensor.Tensor{x, w}},
		{[]graph.Attr{msAttrI("num_heads", 2), msAttrI("do_rotary", 1)}, []*tensor.Tensor{x, w}},
	} {
		if _, err := msRun("Attention", c.attrs, []string{"y"}, c.in...); err == nil {
			t.Errorf("bad case %d: no error", i)
		}
	}
}

func TestMSMultiHeadAttention(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	const B, S, L, N, H, Hv = 2, 3, 5, 2, 4, 3
	D := N * H
	for _, tc := range []struct {
		name     string
		dt       tensor.DType
		form     string // "sep", "qkv", "kv", "bnsh"
		bias     bool
		kpm      string // "", "1d", "2d", "3d"
		causal   bool
		past     int
		attnBias []int
		present  bool
	}{
		{name: "separate + bias", dt: tensor.Float, form: "sep", bias: true},
		{name: "separate fp16", dt: tensor.Float16, form: "sep", bias: true},
		{name: "packed QKV + bias", dt: tensor.Float, form: "qkv", bias: true},
		{name: "packed QKV causal", dt: tensor.Float16, form: "qkv", causal: true},
		{name: "packed KV + bias", dt: tensor.Float, form: "kv", bias: true},
		{name: "BNSH key/value", dt: tensor.Float, form: "bnsh"},
		{name: "key_padding_mask [B]", dt: tensor.Float, form: "sep", kpm: "1d"},
		{name: "key_padding_mask [B,T]", dt: tensor.Float, form: "sep", bias: true, kpm: "2d"},
		{name: "key_padding_mask [B,S,T]", dt: tensor.Float, form: "kv", kpm: "3d"},
		{name: "attention_bias", dt: tensor.Float, form: "sep", attnBias: []int{B, N, S, L}},
		{name: "past + present", dt: tensor.Float, form: "sep", bias: true, past: 2, present: true},
		{name: "present only", dt: tensor.Float, form: "kv", present: true},
	} {
		kvLen := L
		if tc.form == "qkv" {
			kvLen = S
		}
		hv := Hv
		if tc.form == "qkv" || tc.form == "kv" {
			hv = H
		}
		T := tc.past + kvLen
		var qF, kF, vF func(b, n, i, d int) float64 // raw (no bias, no past), new positions only
		in := make([]*tensor.Tensor, 8)
		switch tc.form {
		case "sep":
			qt, qv := msRandT(r, tc.dt, B, S, D)
			kt, kv := msRandT(r, tc.dt, B, kvLen, D)
			vt, vv := msRandT(r, tc.dt, B, kvLen, N*hv)
			in[0], in[1], in[2] = qt, kt, vt
			qF = func(b, n, i, d int) float64 { return qv[(b*S+i)*D+n*H+d] }
			kF = func(b, n, i, d int) float64 { return kv[(b*kvLen+i)*D+n*H+d] }
			vF = func(b, n, i, d int) float64 { return vv[(b*kvLen+i)*N*hv+n*hv+d] }
		case "qkv":
			qt, qv := msRandT(r, tc.dt, B, S, N, 3, H)
			in[0] = qt
			at := func(m int) func(b, n, i, d int) float64 {
				return func(b, n, i, d int) float64 { return qv[(((b*S+i)*N+n)*3+m)*H+d] }
			}
			qF, kF, vF = at(0), at(1), at(2)
		case "kv":
			qt, qv := msRandT(r, tc.dt, B, S, D)
			kt, kv := msRandT(r, tc.dt, B, kvLen, N, 2, H)
			in[0], in[1] = qt, kt
			qF = func(b, n, i, d int) float64 { return qv[(b*S+i)*D+n*H+d] }
			kF = func(b, n, i, d int) float64 { return kv[(((b*kvLen+i)*N+n)*2+0)*H+d] }
			vF = func(b, n, i, d int) float64 { return kv[(((b*kvLen+i)*N+n)*2+1)*H+d] }
		case "bnsh":
			qt, qv := msRandT(r, tc.dt, B, S, D)
			kt, kv := msRandT(r, tc.dt, B, N, kvLen, H)
			vt, vv := msRandT(r, tc.dt, B, N, kvLen, hv)
			in[0], in[1], in[2] = qt, kt, vt
			qF = func(b, n, i, d int) float64 { return qv[(b*S+i)*D+n*H+d] }
			kF = func(b, n, i, d int) float64 { return kv[((b*N+n)*kvLen+i)*H+d] }
			vF = func(b, n, i, d int) float64 { return vv[((b*N+n)*kvLen+i)*hv+d] }
		}
		bv := make([]float64, 2*D+N*hv)
		if tc.bias {
			in[3], bv = msRandT(r, tc.dt, 2*D+N*hv)
		}
		var mv []int64
		switch tc.kpm {
		case "1d":
			mv = []int64{3, 5}
			in[4] = msInts([]int{B}, mv...)
		case "2d":
			mv = make([]int64, B*T)
			for i := range mv {
				mv[i] = int64(1 - i%3/2)
			}
			in[4] = msInts([]int{B, T}, mv...)
		case "3d":
			mv = make([]int64, B*S*T)
			for i := range mv {
				mv[i] = int64(1 - i%4/3)
			}
			in[4] = msInts([]int{B, S, T}, mv...)
		}
		var abv []float64
		if tc.attnBias != nil {
			in[5], abv = msRandT(r, tc.dt, tc.attnBias...)
		}
		var pkv, pvv []float64
		if tc.past > 0 {
			in[6], pkv = msRandT(r, tc.dt, B, N, tc.past, H)
			in[7], pvv = msRandT(r, tc.dt, B, N, tc.past, hv)
		}
		q := func(b, n, s, d int) float64 { return qF(b, n, s, d) + bv[n*H+d] }
		k := func(b, n, j, d int) float64 {
			if j < tc.past {
				return pkv[((b*N+n)*tc.past+j)*H+d]
			}
			return kF(b, n, j-tc.past, d) + bv[D+n*H+d]
		}
		v := func(b, n, j, d int) float64 {
			if j < tc.past {
				return pvv[((b*N+n)*tc.past+j)*hv+d]
			}
			return vF(b, n, j-tc.past, d) + bv[2*D+n*hv+d]
		}
		add := msRefMask(tc.kpm, mv, B, S, T, tc.past, tc.causal)
		addAll := func(b, n, s, j int) float64 {
			a := add(b, n, s, j)
			if abv != nil {
				a += abv[((b*N+n)*S+s)*T+j]
			}
			return a
		}
		want := msRefAttention(B, N, S, T, H, hv, 1/math.Sqrt(H), q, k, v, addAll)
		attrs := []graph.Attr{msAttrI("num_heads", N)}
		if tc.causal {
			attrs = append(attrs, msAttrI("unidirectional", 1))
		}
		outs := []string{"y"}
		if tc.present {
			outs = append(outs, "pk", "pv")
		}
		out, err := msRun("MultiHeadAttention", attrs, outs, in...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		at, rt := msTol(tc.dt)
		msClose(t, tc.name, out[0], []int{B, S, N * hv}, want, at*2, rt)
		if tc.present {
			pk := make([]float64, B*N*T*H)
			pv := make([]float64, B*N*T*hv)
			for b := 0; b < B; b++ {
				for n := 0; n < N; n++ {
					for j := 0; j < T; j++ {
						for d := 0; d < H; d++ {
							pk[((b*N+n)*T+j)*H+d] = k(b, n, j, d)
						}
						for d := 0; d < hv; d++ {
							pv[((b*N+n)*T+j)*hv+d] = v(b, n, j, d)
						}
					}
				}
			}
			msClose(t, tc.name+" present_key", out[1], []int{B, N, T, H}, pk, at, rt)
			msClose(t, tc.name+" present_value", out[2], []int{B, N, T, hv}, pv, at, rt)
		}
	}
	// Scale attribute: doubling scale equals doubling Q.
	qt, qv := msRandT(r, tensor.Float, 1, 2, 4)
	kt, _ := msRandT(r, tensor.Float, 1, 3, 4)
	q2 := make([]float32, len(qv))
	for i, x := range qv {
		q2[i] = float32(2 * x)
	}
	a, err1 := msRun("MultiHeadAttention", []graph.Attr{msAttrI("num_heads", 1), msAttrF("scale", 1)}, []string{"y"}, tensor.FromSlice(tensor.Float, []int{1, 2, 4}, q2), kt, kt)
	b, err2 := msRun("MultiHeadAttention", []graph.Attr{msAttrI("num_heads", 1), msAttrF("scale", 2)}, []string{"y"}, qt, kt, kt)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	msClose(t, "scale", a[0], []int{1, 2, 4}, b[0].Float64s(), 1e-5, 1e-5)
	// Bad inputs.
	q, k := attnRand(1, 2, 8), attnRand(1, 3, 8)
	nh := []graph.Attr{msAttrI("num_heads", 2)}
	for i, in := range [][]*tensor.Tensor{
		{q},
		{q, k},
		{q, k, attnRand(2, 3, 8)},
		{attnRand(1, 2, 7), k, k},
		{attnRand(1, 2, 2, 3, 4), k, k},
		{attnRand(1, 2, 3, 3, 4)},
		{q, attnRand(1, 3, 2, 3, 4)},
		{q, attnRand(1, 2, 3, 4), attnRand(1, 2, 3, 4), attnRand(24)},
		{q, k, k, attnRand(23)},
		{q, k, k, nil, msInts([]int{5}, 1, 1, 1, 1, 1)},
		{q, k, k, nil, nil, attnRand(1, 2, 2, 4)},
		{q, k, k, nil, nil, nil, attnRand(1, 2, 1, 4)},
		{q, k, k, nil, nil, nil, attnRand(1, 2, 1, 3), attnRand(1, 2, 1, 4)},
		{q, fromF32(tensor.Float16, []int{1, 3, 8}, make([]float32, 24)), k},
		{attnRand(2, 8), k, k},
	} {
		if _, err := msRun("MultiHeadAttention", nh, []string{"y"}, in...); err == nil {
			t.Errorf("bad case %d: no error", i)
		}
	}
	if _, err := msRun("MultiHeadAttention", nil, []string{"y"}, q, k, k); err == nil {
		t.Errorf("missing num_heads: no error")
	}
}
