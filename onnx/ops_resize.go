package onnx

import (
	"math"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/kernels"
	"github.com/txt2img/engine/tensor"
)

// Resize (opsets 10, 11, 13, 18, 19) and Upsample (opsets 7-9).
//
// The resize is separable: for every resized dim a table maps each output
// coordinate to input taps and weights (following the ONNX reference
// implementation: neighbours are chosen around the original coordinate with
// edge clamping, exclude_outside renormalises, antialias widens the filter),
// and the tensor is resized one dim at a time, innermost dim first. Nearest
// mode copies values exactly; linear/cubic compute in float64.

func init() {
	reg("Upsample", 7, 9, nnUpsampleFactory)
	reg("Resize", 10, 10, nnResize10Factory)
	reg("Resize", 11, 0, nnResizeFactory)
}

type nnResizeAttrs struct {
	mode         string // nearest, linear, cubic
	coord        string
	nearest      string
	cubicA       float64
	exclude      bool
	extrap       float64
	antialias    bool
	axes         []int
	aspectPolicy string
}

func (a *nnResizeAttrs) validate() error {
	switch a.mode {
	case "nearest", "linear", "cubic":
	default:
		return errf("Resize: unknown mode %q", a.mode)
	}
	switch a.coord {
	case "half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_crop_and_resize", "tf_half_pixel_for_nn":
	default:
		return errf("Resize: unknown coordinate_transformation_mode %q", a.coord)
	}
	switch a.nearest {
	case "round_prefer_floor", "round_prefer_ceil", "floor", "ceil":
	default:
		return errf("Resize: unknown nearest_mode %q", a.nearest)
	}
	switch a.aspectPolicy {
	case "stretch", "not_larger", "not_smaller":
	default:
		return errf("Resize: unknown keep_aspect_ratio_policy %q", a.aspectPolicy)
	}
	if a.antialias && a.mode == "nearest" {
		return errf("Resize: antialias is not supported with mode nearest")
	}
	return nil
}

// nnResizeFactory: https://onnx.ai/onnx/operators/onnx__Resize.html
// 11: roi/scales/sizes inputs and coordinate_transformation_mode, cubic,
// nearest_mode, exclude_outside, extrapolation_value; 13: roi and scales
// optional; 18: antialias, axes, keep_aspect_ratio_policy; 19:
// half_pixel_symmetric.
func nnResizeFactory(n *graph.Node, opset int) (graph.Kernel, error) {
	a := &nnResizeAttrs{
		mode:         n.Str("mode", "nearest"),
		coord:        n.Str("coordinate_transformation_mode", "half_pixel"),
		nearest:      n.Str("nearest_mode", "round_prefer_floor"),
		cubicA:       float64(n.Float("cubic_coeff_a", -0.75)),
		exclude:      n.Int("exclude_outside", 0) != 0,
		extrap:       float64(n.Float("extrapolation_value", 0)),
		antialias:    n.Int("antialias", 0) != 0,
		aspectPolicy: n.Str("keep_aspect_ratio_policy", "stretch"),
	}
	if n.Has("axes") {
		a.axes = ints64(n.Ints("axes", nil))
	}
	if err := a.validate(); err != nil {
		return nil, err
	}
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x := input(in, 0)
		if x == nil {
			return nil, errf("Resize needs an input")
		}
		roi, scales, sizes := nnNonEmpty(input(in, 1)), nnNonEmpty(input(in, 2)), nnNonEmpty(input(in, 3))
		return nnResize(ec, a, x, roi, scales, sizes)
	}), nil
}

// nnResize10Factory: https://onnx.ai/onnx/operators/onnx__Resize.html opset 10
// (inputs X, scales; same behaviour as
// Upsample-9: asymmetric coordinates, nearest rounds down).
func nnResize10Factory(n *graph.Node, opset int) (graph.Kernel, error) {
	return nnUpsampleFactory(n, opset)
}

// nnUpsampleFactory: https://onnx.ai/onnx/operators/onnx__Upsample.html
// Opset 7 takes scales as an attribute, opset 9 as the second input.
// Coordinates are asymmetric; nearest rounds down (numpy.repeat for integer
// scales).
func nnUpsampleFactory(n *graph.Node, opset int) (graph.Kernel, error) {
	mode := n.Str("mode", "nearest")
	if mode == "bilinear" {
		mode = "linear"
	}
	a := &nnResizeAttrs{mode: mode, coord: "asymmetric", nearest: "floor", cubicA: -0.75, aspectPolicy: "stretch"}
	if err := a.validate(); err != nil {
		return nil, err
	}
	attrScales := n.Floats("scales", nil)
	return graph.KernelFunc(func(ec *graph.ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
		x := input(in, 0)
		if x == nil {
			return nil, errf("Upsample needs an input")
		}
		scales := nnNonEmpty(input(in, 1))
		if scales == nil {
			if attrScales == nil {
				return nil, errf("Upsample needs scales")
			}
			scales = tensor.FromSlice(tensor.Float, []int{len(attrScales)}, attrScales)
		}
		return nnResize(ec, a, x, nil, scales, nil)
	}), nil
}

// nnNonEmpty treats an empty tensor as an absent input.
func nnNonEmpty(t *tensor.Tensor) *tensor.Tensor {
	if t == nil || t.Numel() == 0 {
		return nil
	}
	return t
}

// nnTaps maps each output coordinate of one dim to n input taps.
type nnTaps struct {
	out    int
	n      int
	idx    []int
	w      []float64
	extrap []bool
}

func nnResize(ec *graph.ExecContext, a *nnResizeAttrs, x, roiT, scalesT, sizesT *tensor.Tensor) ([]*tensor.Tensor, error) {
	shape := x.Shape()
	r := len(shape)
	axes := make([]int, 0, r)
	if a.axes != nil {
		seen := map[int]bool{}
		for _, ax := range a.axes {
			v, err := normAxis(ax, r)
			if err != nil {
				return nil, err
			}
			if seen[v] {
				return nil, errf("Resize: repeated axis %d", ax)
			}
			seen[v] = true
			axes = append(axes, v)
		}
	} else {
		for i := 0; i < r; i++ {
			axes = append(axes, i)
		}
	}
	if (scalesT == nil) == (sizesT == nil) {
		return nil, errf("Resize needs exactly one of scales and sizes")
	}
	scale := make([]float64, r)
	out := append([]int(nil), shape...)
	for i := range scale {
		scale[i] = 1
	}
	if scalesT != nil {
		sv := scalesT.Float64s()
		if len(sv) != len(axes) {
			return nil, errf("Resize: %d scales for %d axes", len(sv), len(axes))
		}
		for i, ax := range axes {
			if !(sv[i] > 0) {
				return nil, errf("Resize: scales must be positive, got %v", sv)
			}
			scale[ax] = sv[i]
			out[ax] = int(sv[i] * float64(shape[ax]))
		}
	} else {
		sz := sizesT.Int64s()
		if len(sz) != len(axes) {
			return nil, errf("Resize: %d sizes for %d axes", len(sz), len(axes))
		}
		for i, ax := range axes {
			if sz[i] < 0 {
				return nil, errf("Resize: negative sizes %v", sz)
			}
			out[ax] = int(sz[i])
			scale[ax] = float64(sz[i]) / float64(shape[ax])
		}
		if a.aspectPolicy != "stretch" {
			s := scale[axes[0]]
			for _, ax := range axes[1:] {
				if a.aspectPolicy == "not_larger" {
					s = math.Min(s, scale[ax])
				} else {
					s = math.Max(s, scale[ax])
				}
			}
			for _, ax := range axes {
				scale[ax] = s
				out[ax] = int(s*float64(shape[ax]) + 0.5)
			}
		}
	}
	// roi: [starts..., ends...] over all dims (or over axes).
	roiS, roiE := make([]float64, r), make([]float64, r)
	for i := range roiE {
		roiE[i] = 1
	}
	if a.coord == "tf_crop_and_resize" {
		if roiT == nil {
			return nil, errf("Resize: tf_crop_and_resize needs roi")
		}
		rv := roiT.Float64s()
		if len(rv) != 2*len(axes) {
			return nil, errf("Resize: roi has %d values, want %d", len(rv), 2*len(axes))
		}
		for i, ax := range axes {
			roiS[ax], roiE[ax] = rv[i], rv[len(axes)+i]
		}
	}
	taps := make([]*nnTaps, r)
	for d := 0; d < r; d++ {
		if shape[d] == 0 && out[d] > 0 {
			return nil, errf("Resize: cannot resize an empty dim to %d", out[d])
		}
		t := nnMakeTaps(a, shape[d], out[d], scale[d], roiS[d], roiE[d])
		if !nnIdentity(t, shape[d]) {
			taps[d] = t
		}
	}
	dt := x.DType()
	threads := nnThreads(ec)
	if a.mode == "nearest" && x.Contiguous() && rsPlanar(taps) {
		switch dt.Size() {
		case 2:
			o := ec.Alloc(dt, out...)
			rsNearestPlanes(tensor.View[uint16](x), tensor.View[uint16](o), shape, taps, threads)
			return one(o)
		case 4:
			o := ec.Alloc(dt, out...)
			rsNearestPlanes(tensor.View[uint32](x), tensor.View[uint32](o), shape, taps, threads)
			return one(o)
		}
	}
	if a.mode == "nearest" && (dt == tensor.Float || isHalf(dt)) {
		v := toF32(x)
		if dt == tensor.Float {
			v = append([]float32(nil), v...)
		}
		res := nnResizeAll(v, shape, taps, float32(a.extrap), threads)
		return one(fromF32(dt, out, res))
	}
	if !dt.IsFloat() && !dt.IsInt() {
		return nil, errf("Resize: unsupported dtype %s", dt)
	}
	res := nnResizeAll(x.Float64s(), shape, taps, a.extrap, threads)
	if dt == tensor.Float {
		f := make([]float32, len(res))
		for i, v := range res {
			f[i] = float32(v)
		}
		return one(tensor.FromSlice(dt, out, f))
	}
	return one(tensor.FromFloat64s(dt, out, res))
}

// nnResizeAll applies the per-dim tables, innermost dim first.
func nnResizeAll[T float32 | float64](v []T, shape []int, taps []*nnTaps, extrap T, threads int) []T {
	cur := append([]int(nil), shape...)
	for d := len(shape) - 1; d >= 0; d-- {
		t := taps[d]
		if t == nil {
			continue
		}
		outer := tensor.Numel(cur[:d])
		inner := tensor.Numel(cur[d+1:])
		v = nnResizePass(v, outer, cur[d], inner, t, extrap, threads)
		cur[d] = t.out
	}
	return v
}

// nnResizePass resizes the middle dim of a [outer, in, inner] array.
func nnResizePass[T float32 | float64](src []T, outer, in, inner int, t *nnTaps, extrap T, threads int) []T {
	dst := make([]T, outer*t.out*inner)
	n := t.n
	kernels.Parallel(threads, outer, func(ob int) {
		sb := src[ob*in*inner : (ob+1)*in*inner]
		db := dst[ob*t.out*inner : (ob+1)*t.out*inner]
		if inner == 1 {
			for o := range db {
				if t.extrap[o] {
					db[o] = extrap
					continue
				}
				if n == 1 {
					db[o] = sb[t.idx[o]]
					continue
				}
				var s T
				for j := 0; j < n; j++ {
					s += T(t.w[o*n+j]) * sb[t.idx[o*n+j]]
				}
				db[o] = s
			}
			return
		}
		for o := 0; o < t.out; o++ {
			d := db[o*inner : (o+1)*inner]
			if t.extrap[o] {
				for i := range d {
					d[i] = extrap
				}
				continue
			}
			if n == 1 {
				copy(d, sb[t.idx[o]*inner:])
				continue
			}
			for j := 0; j < n; j++ {
				w := T(t.w[o*n+j])
				if w == 0 {
					continue
				}
				s := sb[t.idx[o*n+j]*inner : (t.idx[o*n+j]+1)*inner]
				for i := range d {
					d[i] += w * s[i]
				}
			}
		}
	})
	return dst
}

// nnIdentity reports whether the taps map every output to the same input.
func nnIdentity(t *nnTaps, in int) bool {
	if t.out != in {
		return false
	}
	for o := 0; o < t.out; o++ {
		if t.extrap[o] {
			return false
		}
		for j := 0; j < t.n; j++ {
			w := t.w[o*t.n+j]
			if (t.idx[o*t.n+j] == o && w != 1) || (t.idx[o*t.n+j] != o && w != 0) {
				return false
			}
		}
	}
	return true
}

// nnOrigCoord maps an output coordinate to the input coordinate system.
// ok is false when tf_crop_and_resize falls outside the input.
func nnOrigCoord(a *nnResizeAttrs, o, in, outInt int, scale, roiS, roiE float64) (float64, bool) {
	x := float64(o)
	outW := scale * float64(in)
	switch a.coord {
	case "align_corners":
		if outW == 1 {
			return 0, true
		}
		return x * float64(in-1) / (outW - 1), true
	case "asymmetric":
		return x / scale, true
	case "tf_crop_and_resize":
		var xo float64
		if outW == 1 {
			xo = (roiE - roiS) * float64(in-1) / 2
		} else {
			xo = x * (roiE - roiS) * float64(in-1) / (outW - 1)
		}
		xo += roiS * float64(in-1)
		if xo < 0 || xo > float64(in-1) {
			return 0, false
		}
		return xo, true
	case "pytorch_half_pixel":
		if outW == 1 {
			return -0.5, true
		}
		return (x+0.5)/scale - 0.5, true
	case "half_pixel_symmetric":
		adj := float64(outInt) / outW
		center := float64(in) / 2
		return center*(1-adj) + (x+0.5)/scale - 0.5, true
	case "tf_half_pixel_for_nn":
		return (x + 0.5) / scale, true
	}
	return (x+0.5)/scale - 0.5, true // half_pixel
}

func nnMakeTaps(a *nnResizeAttrs, in, out int, scale, roiS, roiE float64) *nnTaps {
	n := 1
	sa := math.Min(scale, 1)
	linStart, cubStart := 0, -1
	switch a.mode {
	case "linear":
		n = 2
		if a.antialias {
			linStart = int(math.Floor(-1/sa) + 1)
			n = 2 - 2*linStart
		}
	case "cubic":
		n = 4
		if a.antialias {
			cubStart = int(math.Floor(-2/sa) + 1)
			n = 2 - 2*cubStart
		}
	}
	t := &nnTaps{out: out, n: n, idx: make([]int, out*n), w: make([]float64, out*n), extrap: make([]bool, out)}
	for o := 0; o < out; o++ {
		x, ok := nnOrigCoord(a, o, in, out, scale, roiS, roiE)
		if !ok {
			t.extrap[o] = true
			continue
		}
		base := math.Floor(x)
		ratio := x - base
		if ratio == 0 {
			ratio, base = 1, base-1
		}
		b := int(base)
		idx, w := t.idx[o*n:(o+1)*n], t.w[o*n:(o+1)*n]
		switch a.mode {
		case "nearest":
			up := true // pick base+1
			if ratio != 1 {
				switch a.nearest {
				case "round_prefer_floor":
					up = ratio > 0.5
				case "round_prefer_ceil":
					up = ratio >= 0.5
				case "floor":
					up = false
				}
			}
			idx[0], w[0] = b, 1
			if up {
				idx[0] = b + 1
			}
		case "linear":
			for j := 0; j < n; j++ {
				p := linStart + j
				idx[j] = b + p
				if a.antialias {
					w[j] = math.Max(0, math.Min(1, 1-math.Abs((float64(p)-ratio)*sa)))
				} else if j == 0 {
					w[j] = 1 - ratio
				} else {
					w[j] = ratio
				}
			}
		case "cubic":
			A := a.cubicA
			for j := 0; j < n; j++ {
				p := cubStart + j
				idx[j] = b + p
				if a.antialias {
					w[j] = nnCubic(sa*(float64(p)-ratio), A)
				}
			}
			if !a.antialias {
				r1 := ratio + 1
				q := 1 - ratio
				q1 := q + 1
				w[0] = ((A*r1-5*A)*r1+8*A)*r1 - 4*A
				w[1] = ((A+2)*ratio-(A+3))*ratio*ratio + 1
				w[2] = ((A+2)*q-(A+3))*q*q + 1
				w[3] = ((A*q1-5*A)*q1+8*A)*q1 - 4*A
			}
		}
		if a.antialias {
			nnNormalize(w)
		}
		if a.exclude {
			for j := range idx {
				if idx[j] < 0 || idx[j] >= in {
					w[j] = 0
				}
			}
			nnNormalize(w)
		}
		for j := range idx {
			idx[j] = min(max(idx[j], 0), in-1)
		}
	}
	return t
}

// nnCubic is the cubic convolution kernel with parameter A.
func nnCubic(x, A float64) float64 {
	x = math.Abs(x)
	x2 := x * x
	x3 := x * x2
	if x <= 1 {
		return (A+2)*x3 - (A+3)*x2 + 1
	}
	if x < 2 {
		return A*x3 - 5*A*x2 + 8*A*x - 4*A
	}
	return 0
}

func nnNormalize(w []float64) {
	var s float64
	for _, v := range w {
		s += v
	}
	if s != 0 {
		for i := range w {
			w[i] /= s
		}
	}
}

// rsPlanar reports whether only the last two dims are resized, with one
// tap each and no extrapolated outputs (nearest-neighbour upsampling of
// images, as the SD-Turbo decoders do).
func rsPlanar(taps []*nnTaps) bool {
	r := len(taps)
	if r < 2 {
		return false
	}
	for d, t := range taps {
		if t == nil {
			continue
		}
		if d < r-2 || t.n != 1 {
			return false
		}
		for _, e := range t.extrap {
			if e {
				return false
			}
		}
	}
	return true
}

// rsNearestPlanes copies elements (any 2- or 4-byte dtype, bit for bit)
// of each [H, W] plane of src into the resized planes of dst: an output row
// is gathered once and copied to the following outputs that read the same
// input row.
func rsNearestPlanes[T uint16 | uint32](src, dst []T, shape []int, taps []*nnTaps, threads int) {
	r := len(shape)
	h, w := shape[r-2], shape[r-1]
	oh, ow := h, w
	var hIdx, wIdx []int
	if t := taps[r-2]; t != nil {
		oh, hIdx = t.out, t.idx
	}
	if t := taps[r-1]; t != nil {
		ow, wIdx = t.out, t.idx
	}
	planes := tensor.Numel(shape[:r-2])
	if planes == 0 || oh == 0 || ow == 0 {
		return
	}
	kernels.Parallel(threads, planes, func(pl int) {
		sp := src[pl*h*w : (pl+1)*h*w]
		dp := dst[pl*oh*ow : (pl+1)*oh*ow]
		prev := -1
		for oy := 0; oy < oh; oy++ {
			iy := oy
			if hIdx != nil {
				iy = hIdx[oy]
			}
			drow := dp[oy*ow : (oy+1)*ow]
			if iy == prev {
				copy(drow, dp[(oy-1)*ow:oy*ow])
				continue
			}
			prev = iy
			srow := sp[iy*w : (iy+1)*w]
			if wIdx == nil {
				copy(drow, srow)
				continue
			}
			for ox, ix := range wIdx[:ow] {
				drow[ox] = srow[ix]
			}
		}
	})
}
