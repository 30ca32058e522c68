package onnx

import (
	"math"
	"math/rand"
	"testing"

	"github.com/txt2img/engine/kernels"
	"github.com/txt2img/engine/tensor"
)

// nnNaiveConv is a direct N-d convolution in float64.
func nnNaiveConv(x, w, b []float64, xs, ws []int, G int, g *nnGeom) []float64 {
	N, C, M := xs[0], xs[1], ws[0]
	Cg, Mg := C/G, M/G
	nd := len(g.in)
	inSz, outSz, ksz := tensor.Numel(g.in), tensor.Numel(g.out), tensor.Numel(g.k)
	out := make([]float64, N*M*outSz)
	oi := make([]int, nd)
	ki := make([]int, nd)
	for n := 0; n < N; n++ {
		for m := 0; m < M; m++ {
			gi := m / Mg
			for o := 0; o < outSz; o++ {
				r := o
				for d := nd - 1; d >= 0; d-- {
					oi[d] = r % g.out[d]
					r /= g.out[d]
				}
				s := 0.0
				if b != nil {
					s = b[m]
				}
				for c := 0; c < Cg; c++ {
					for k := 0; k < ksz; k++ {
						r := k
						for d := nd - 1; d >= 0; d-- {
							ki[d] = r % g.k[d]
							r /= g.k[d]
						}
						off, ok := 0, true
						for d := 0; d < nd; d++ {
							ix := oi[d]*g.s[d] - g.pb[d] + ki[d]*g.d[d]
							if ix < 0 || ix >= g.in[d] {
								ok = false
								break
							}
							off = off*g.in[d] + ix
						}
						if ok {
							s += x[(n*C+gi*Cg+c)*inSz+off] * w[(m*Cg+c)*ksz+k]
						}
					}
				}
				out[(n*M+m)*outSz+o] = s
			}
		}
	}
	return out
}

func nnRandT(r *rand.Rand, dt tensor.DType, shape ...int) *tensor.Tensor {
	v := make([]float64, tensor.Numel(shape))
	for i := range v {
		v[i] = r.Float64()*2 - 1
	}
	return tensor.FromFloat64s(dt, shape, v)
}

func TestNNConvAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	cases := []struct {
		xs, ws     []int
		group      int
		s, d, pads []int
		autoPad    string
		bias, half bool
	}{
		{xs: []int{2, 4, 9}, ws: []int{6, 2, 3}, group: 2, s: []int{2}, d: []int{2}, pads: []int{1, 2}, bias: true},
		{xs: []int{1, 3, 7, 8}, ws: []int{5, 3, 3, 2}, group: 1, s: []int{1, 2}, d: []int{2, 1}, pads: []int{1, 0, 2, 1}},
		{xs: []int{1, 4, 6, 5}, ws: []int{4, 1, 3, 3}, group: 4, autoPad: "SAME_LOWER", s: []int{2, 2}, bias: true},
		{xs: []int{1, 6, 5, 5}, ws: []int{3, 6, 1, 1}, group: 1, bias: true, half: true},
		{xs: []int{1, 2, 7, 6}, ws: []int{3, 2, 3, 3}, group: 1, pads: []int{1, 1, 1, 1}, bias: true, half: true},
		{xs: []int{1, 2, 4, 5, 6}, ws: []int{3, 2, 2, 3, 2}, group: 1, s: []int{1, 2, 1}, d: []int{1, 1, 2}, autoPad: "SAME_UPPER"},
	}
	for ci, c := range cases {
		dt := tensor.Float
		if c.half {
			dt = tensor.Float16
		}
		x := nnRandT(r, dt, c.xs...)
		w := nnRandT(r, dt, c.ws...)
		var b *tensor.Tensor
		var bv []float64
		if c.bias {
			b = nnRandT(r, dt, c.ws[0])
			bv = b.Float64s()
		}
		a := nnConvAttrs{autoPad: c.autoPad, strides: c.s, dilations: c.d, pads: c.pads, group: c.group}
		if a.autoPad == "" {
			a.autoPad = "NOTSET"
		}
		got, _, err := nnConv(nil, &a, x, w, b, nil, 3)
		if err != nil {
			t.Fatalf("case %d: %v", ci, err)
		}
		g, _ := a.nnResolve(c.xs[2:], c.ws[2:], false)
		want := nnNaiveConv(x.Float64s(), w.Float64s(), bv, c.xs, c.ws, c.group, g)
		if got.DType() != dt || tensor.Numel(got.Shape()) != len(want) {
			t.Fatalf("case %d: got %s, want %d elements", ci, got, len(want))
		}
		tol := 1e-4
		if c.half {
			tol = 2e-2
		}
		for i, v := range got.Float64s() {
			if math.Abs(v-want[i]) > tol*(1+math.Abs(want[i])) {
				t.Fatalf("case %d: y[%d]=%g want %g", ci, i, v, want[i])
			}
		}
	}
}

func TestNNMatMulHalfBroadcast(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	for _, c := range [][2][]int{{{2, 1, 3, 5}, {4, 5, 6}}, {{3, 4, 5}, {5, 2}}, {{5}, {2, 5, 3}}, {{2, 3, 5}, {5}}} {
		for _, dt := range []tensor.DType{tensor.Float, tensor.Float16} {
			a, b := nnRandT(r, dt, c[0]...), nnRandT(r, tensor.Double, c[1]...)
			b64 := b
			b = tensor.FromFloat64s(dt, b.Shape(), b.Float64s())
			a64 := tensor.FromFloat64s(tensor.Double, a.Shape(), a.Float64s())
			b64 = tensor.FromFloat64s(tensor.Double, b.Shape(), b.Float64s())
			got, err := nnMatMul(nil, a, b, nil, 2)
			if err != nil {
				t.Fatal(err)
			}
			want, err := nnMatMul(nil, a64, b64, nil, 1)
			if err != nil {
				t.Fatal(err)
			}
			if !tensor.SameShape(got.Shape(), want.Shape()) || got.DType() != dt {
				t.Fatalf("%v x %v: shape %v want %v", c[0], c[1], got.Shape(), want.Shape())
			}
			wv := want.Float64s()
			for i, v := range got.Float64s() {
				if math.Abs(v-wv[i]) > 1e-2*(1+math.Abs(wv[i])) {
					t.Fatalf("%v x %v %s: [%d]=%g want %g", c[0], c[1], dt, i, v, wv[i])
				}
			}
		}
	}
}

func TestNNEinsum(t *testing.T) {
	x := tensor.FromFloat64s(tensor.Double, []int{2, 3, 3}, []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18})
	y := tensor.FromFloat64s(tensor.Double, []int{3, 2}, []float64{1, 2, 3, 4, 5, 6})
	for _, c := range []struct {
		eq    string
		in    []*tensor.Tensor
		shape []int
		want  []float64
	}{
		{"bii->bi", []*tensor.Tensor{x}, []int{2, 3}, []float64{1, 5, 9, 10, 14, 18}},
		{"...ii", []*tensor.Tensor{x}, []int{2}, []float64{15, 42}},
		{"bij,jk", []*tensor.Tensor{x, y}, []int{2, 3, 2}, []float64{22, 28, 49, 64, 76, 100, 103, 136, 130, 172, 157, 208}},
		{"...j,jk->...k", []*tensor.Tensor{x, y}, []int{2, 3, 2}, []float64{22, 28, 49, 64, 76, 100, 103, 136, 130, 172, 157, 208}},
		{"ij->", []*tensor.Tensor{y}, nil, []float64{21}},
	} {
		sp, err := nnParseEinsum(c.eq)
		if err != nil {
			t.Fatal(err)
		}
		out, err := nnEinsumRun(sp, c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.eq, err)
		}
		if !tensor.SameShape(out[0].Shape(), c.shape) {
			t.Fatalf("%s: shape %v want %v", c.eq, out[0].Shape(), c.shape)
		}
		for i, v := range out[0].Float64s() {
			if v != c.want[i] {
				t.Fatalf("%s: got %v want %v", c.eq, out[0].Float64s(), c.want)
			}
		}
	}
}

// TestCvConvWinograd checks the Winograd path of Conv/FusedConv (NCHW) and
// NhwcConv against the float64 direct convolution: asymmetric and SAME
// pads, fp16 data, fused add/silu epilogues, and the per-session filter
// cache (transformed once, reused for the same weight tensor).
func TestCvConvWinograd(t *testing.T) {
	// The shapes here are small; let them take the Winograd path.
	defer func(v int) { kernels.WinogradMinTiles = v }(kernels.WinogradMinTiles)
	kernels.WinogradMinTiles = 4
	r := rand.New(rand.NewSource(9))
	cases := []struct {
		name    string
		xs, ws  []int
		pads    []int
		autoPad string
		half    bool
		steps   []string
		eager   bool
	}{
		{name: "pad1", xs: []int{1, 16, 16, 16}, ws: []int{20, 16, 3, 3}, pads: []int{1, 1, 1, 1}},
		{name: "same", xs: []int{1, 24, 18, 15}, ws: []int{18, 24, 3, 3}, autoPad: "SAME_LOWER"},
		{name: "asym", xs: []int{2, 17, 13, 19}, ws: []int{16, 17, 3, 3}, pads: []int{0, 2, 1, 0}, steps: []string{fzEpiAdd}},
		{name: "same_silu", xs: []int{1, 24, 18, 15}, ws: []int{18, 24, 3, 3}, autoPad: "SAME_UPPER", steps: []string{fzEpiSiLU}},
		{name: "fp16_add_silu", xs: []int{1, 16, 20, 20}, ws: []int{16, 16, 3, 3}, pads: []int{1, 1, 1, 1}, half: true, steps: []string{fzEpiAdd, fzEpiSiLU}},
		// Transformed (eager) filters instead of the default lazy ones.
		{name: "eager", xs: []int{1, 70, 12, 13}, ws: []int{40, 70, 3, 3}, pads: []int{1, 1, 1, 1}, eager: true},
		{name: "eager_fp16_add", xs: []int{1, 64, 16, 16}, ws: []int{17, 64, 3, 3}, pads: []int{1, 1, 1, 1}, half: true, steps: []string{fzEpiAdd}, eager: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.eager {
				cvEagerWinograd = true
				defer func() { cvEagerWinograd = false }()
			}
			dt := tensor.Float
			if c.half {
				dt = tensor.Float16
			}
			x, w, b := nnRandT(r, dt, c.xs...), nnRandT(r, dt, c.ws...), nnRandT(r, dt, c.ws[0])
			a := nnConvAttrs{autoPad: "NOTSET", pads: c.pads, group: 1}
			if c.autoPad != "" {
				a.autoPad = c.autoPad
			}
			g, err := a.nnResolve(c.xs[2:], c.ws[2:], false)
			if err != nil {
				t.Fatal(err)
			}
			want := nnNaiveConv(x.Float64s(), w.Float64s(), b.Float64s(), c.xs, c.ws, 1, g)
			outShape := []int{c.xs[0], c.ws[0], g.out[0], g.out[1]}
			var add *tensor.Tensor
			if len(c.steps) > 0 && c.steps[0] == fzEpiAdd {
				add = nnRandT(r, dt, outShape...)
				for i, v := range add.Float64s() {
					want[i] += v
				}
			}
			if len(c.steps) > 0 && c.steps[len(c.steps)-1] == fzEpiSiLU {
				for i, v := range want {
					want[i] = v / (1 + math.Exp(-v))
				}
			}
			tol := 1e-4
			if c.half {
				tol = 2e-2
			}
			wc := &cvWino{}
			for run := 0; run < 2; run++ {
				got, fused, err := cvConvFused(nil, wc, &a, x, w, b, add, c.steps, nil, 2)
				if err != nil {
					t.Fatal(err)
				}
				if wc.f == nil || wc.f.Lazy() == c.eager || fused != (len(c.steps) > 0) {
					t.Fatalf("Winograd not used (filter %v) or epilogue not fused (%v)", wc.f != nil, fused)
				}
				if !tensor.SameShape(got.Shape(), outShape) || got.DType() != dt {
					t.Fatalf("got %s, want %v %s", got, outShape, dt)
				}
				for i, v := range got.Float64s() {
					if math.Abs(v-want[i]) > tol*(1+math.Abs(want[i])) {
						t.Fatalf("run %d: y[%d]=%g want %g", run, i, v, want[i])
					}
				}
				f := wc.f
				p, _ := cvWinoGeom(&a, x.Shape(), w.Shape(), false)
				if run == 1 && f != wc.filter(w, p, false, 1) {
					t.Fatal("transformed filter not reused")
				}
			}
			if len(c.steps) > 0 || c.half {
				return
			}
			// NhwcConv: X [N,H,W,C], W [M,3,3,C].
			N, C, H, W, M := c.xs[0], c.xs[1], c.xs[2], c.xs[3], c.ws[0]
			xv, wv := x.F32(), w.F32()
			xh, wh := make([]float32, len(xv)), make([]float32, len(wv))
			for n := 0; n < N; n++ {
				for ch := 0; ch < C; ch++ {
					for i := 0; i < H*W; i++ {
						xh[(n*H*W+i)*C+ch] = xv[(n*C+ch)*H*W+i]
					}
				}
			}
			for m := 0; m < M; m++ {
				for ch := 0; ch < C; ch++ {
					for k := 0; k < 9; k++ {
						wh[(m*9+k)*C+ch] = wv[(m*C+ch)*9+k]
					}
				}
			}
			xt := tensor.FromSlice(tensor.Float, []int{N, H, W, C}, xh)
			wt := tensor.FromSlice(tensor.Float, []int{M, 3, 3, C}, wh)
			oh, ow := g.out[0], g.out[1]
			y := make([]float32, N*oh*ow*M)
			if !(&cvWino{}).nhwc(&a, xt, wt, b.F32(), y, 2) {
				t.Fatal("NhwcConv: Winograd not used")
			}
			for n := 0; n < N; n++ {
				for m := 0; m < M; m++ {
					for i := 0; i < oh*ow; i++ {
						v, wnt := float64(y[(n*oh*ow+i)*M+m]), want[(n*M+m)*oh*ow+i]
						if math.Abs(v-wnt) > tol*(1+math.Abs(wnt)) {
							t.Fatalf("NhwcConv: y[%d,%d,%d]=%g want %g", n, i, m, v, wnt)
						}
					}
				}
			}
		})
	}
}
