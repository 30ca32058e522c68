package onnx

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/tensor"
)

// ReadValueFile reads a .pb file holding a TensorProto, or a SequenceProto /
// OptionalProto when vt says the value is a sequence / optional. It returns the
// value and the name stored in the file.
func ReadValueFile(path string, vt graph.ValueType) (*tensor.Tensor, string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("onnx: %w", err)
	}
	return DecodeValue(b, vt)
}

// DecodeValue decodes a serialized value of type vt (see ReadValueFile).
func DecodeValue(b []byte, vt graph.ValueType) (*tensor.Tensor, string, error) {
	switch vt.Kind {
	case tensor.KindSequence:
		sp, err := DecodeSequence(b)
		if err != nil {
			return nil, "", err
		}
		v, err := sequenceValue(sp)
		return v, sp.Name, err
	case tensor.KindOptional:
		op, err := DecodeOptional(b)
		if err != nil {
			return nil, "", err
		}
		v, err := optionalValue(op)
		return v, op.Name, err
	}
	tp, err := DecodeTensor(b)
	if err != nil {
		return nil, "", err
	}
	t, err := TensorFromProto(tp, nil)
	if err != nil {
		return nil, "", err
	}
	// Files hold their own copy of the bytes; detach from b.
	return t.Clone(), tp.Name, nil
}

func sequenceValue(sp *SequenceProto) (*tensor.Tensor, error) {
	var items []*tensor.Tensor
	dt := tensor.Undefined
	for _, tp := range sp.Tensors {
		t, err := TensorFromProto(tp, nil)
		if err != nil {
			return nil, err
		}
		dt = t.DType()
		items = append(items, t.Clone())
	}
	for _, s := range sp.Sequences {
		v, err := sequenceValue(s)
		if err != nil {
			return nil, err
		}
		items = append(items, v)
	}
	return tensor.NewSequence(dt, items), nil
}

func optionalValue(op *OptionalProto) (*tensor.Tensor, error) {
	switch {
	case op.Tensor != nil:
		t, err := TensorFromProto(op.Tensor, nil)
		if err != nil {
			return nil, err
		}
		return tensor.NewOptional(t.DType(), t.Clone()), nil
	case op.Sequence != nil:
		s, err := sequenceValue(op.Sequence)
		if err != nil {
			return nil, err
		}
		return tensor.NewOptional(s.DType(), s), nil
	}
	return tensor.NewOptional(tensor.Undefined, nil), nil
}

// TestCase is one data set of a model test folder (ONNX node-test layout).
type TestCase struct {
	Inputs      map[string]*tensor.Tensor
	InputOrder  []string
	Outputs     []*tensor.Tensor // expected, in graph output order (nil where absent)
	OutputNames []string
}

// ReadTestCase reads dir/input_N.pb and dir/output_N.pb. Inputs are matched to
// the graph inputs by the tensor name stored in the file when it names an
// input, otherwise by position (skipping inputs backed by initializers).
func ReadTestCase(dir string, g *graph.Graph) (*TestCase, error) {
	tc := &TestCase{Inputs: map[string]*tensor.Tensor{}}
	inputs := map[string]graph.ValueInfo{}
	var free []graph.ValueInfo
	for _, in := range g.Inputs {
		inputs[in.Name] = in
		if _, ok := g.Initializers[in.Name]; !ok {
			free = append(free, in)
		}
	}
	files, err := numbered(dir, "input_")
	if err != nil {
		return nil, err
	}
	for i, f := range files {
		var vt graph.ValueType
		var pos *graph.ValueInfo
		if i < len(free) {
			pos = &free[i]
			vt = pos.Type
		}
		v, name, err := ReadValueFile(f, vt)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(f), err)
		}
		target := ""
		if vi, ok := inputs[name]; ok && name != "" {
			target = vi.Name
			if vi.Type.Kind != vt.Kind { // re-read with the right type
				if v, _, err = ReadValueFile(f, vi.Type); err != nil {
					return nil, err
				}
			}
		} else if pos != nil {
			target = pos.Name
		} else {
			return nil, fmt.Errorf("onnx: %s: no graph input for it (graph has %d inputs)", filepath.Base(f), len(free))
		}
		tc.Inputs[target] = v
		tc.InputOrder = append(tc.InputOrder, target)
	}
	outFiles, err := numbered(dir, "output_")
	if err != nil {
		return nil, err
	}
	for i, o := range g.Outputs {
		tc.OutputNames = append(tc.OutputNames, o.Name)
		if i >= len(outFiles) {
			tc.Outputs = append(tc.Outputs, nil)
			continue
		}
		v, _, err := ReadValueFile(outFiles[i], o.Type)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(outFiles[i]), err)
		}
		tc.Outputs = append(tc.Outputs, v)
	}
	return tc, nil
}

// numbered lists dir/prefixN.pb sorted by N.
func numbered(dir, prefix string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	type f struct {
		n    int
		path string
	}
	var fs []f
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, ".pb") {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(name, prefix), ".pb"))
		if err != nil {
			continue
		}
		fs = append(fs, f{n, filepath.Join(dir, name)})
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].n < fs[j].n })
	out := make([]string, len(fs))
	for i, x := range fs {
		out[i] = x.path
	}
	return out, nil
}

// Comparison is the result of comparing one output.
type Comparison struct {
	MaxAbs, MaxRel float64
	OK             bool
	Msg            string // why it failed, if it did
}

// Compare checks got against want elementwise: |got−want| ≤ atol + rtol·|want|,
// NaN only where NaN is expected, same kind, shape and dtype; strings exactly.
func Compare(got, want *tensor.Tensor, rtol, atol float64) Comparison {
	if got == nil {
		return Comparison{Msg: "no output"}
	}
	if got.Kind != want.Kind {
		return Comparison{Msg: fmt.Sprintf("got %s, want %s", got, want)}
	}
	if got.Kind != tensor.KindTensor {
		if len(got.Elems) != len(want.Elems) {
			return Comparison{Msg: fmt.Sprintf("got %d elements, want %d", len(got.Elems), len(want.Elems))}
		}
		res := Comparison{OK: true}
		for i := range got.Elems {
			c := Compare(got.Elems[i], want.Elems[i], rtol, atol)
			res.MaxAbs = math.Max(res.MaxAbs, c.MaxAbs)
			res.MaxRel = math.Max(res.MaxRel, c.MaxRel)
			if !c.OK {
				c.Msg = fmt.Sprintf("element %d: %s", i, c.Msg)
				return c
			}
		}
		return res
	}
	if got.DType() != want.DType() {
		return Comparison{Msg: fmt.Sprintf("dtype %s, want %s", got.DType(), want.DType())}
	}
	if !tensor.SameShape(got.Shape(), want.Shape()) {
		return Comparison{Msg: fmt.Sprintf("shape %v, want %v", got.Shape(), want.Shape())}
	}
	res := Comparison{OK: true}
	if got.DType() == tensor.String {
		for i, s := range want.Strings() {
			if got.Strings()[i] != s {
				return Comparison{Msg: fmt.Sprintf("element %d: %q, want %q", i, got.Strings()[i], s)}
			}
		}
		return res
	}
	exact := !got.DType().IsFloat()
	var g, w []float64
	if exact {
		gi, wi := got.Int64s(), want.Int64s()
		for i := range wi {
			if gi[i] != wi[i] {
				d := math.Abs(float64(gi[i]) - float64(wi[i]))
				if d > res.MaxAbs {
					res.MaxAbs = d
				}
				if res.OK {
					res.OK = false
					res.Msg = fmt.Sprintf("element %d: %d, want %d", i, gi[i], wi[i])
				}
			}
		}
		return res
	}
	g, w = got.Float64s(), want.Float64s()
	for i := range w {
		a, b := g[i], w[i]
		if math.IsNaN(b) || math.IsNaN(a) {
			if math.IsNaN(a) != math.IsNaN(b) && res.OK {
				res.OK = false
				res.Msg = fmt.Sprintf("element %d: %v, want %v", i, a, b)
			}
			continue
		}
		if math.IsInf(b, 0) || math.IsInf(a, 0) {
			if a != b && res.OK {
				res.OK = false
				res.Msg = fmt.Sprintf("element %d: %v, want %v", i, a, b)
			}
			continue
		}
		d := math.Abs(a - b)
		if d > res.MaxAbs {
			res.MaxAbs = d
		}
		if b != 0 {
			if r := d / math.Abs(b); r > res.MaxRel {
				res.MaxRel = r
			}
		}
		if d > atol+rtol*math.Abs(b) && res.OK {
			res.OK = false
			res.Msg = fmt.Sprintf("element %d: %v, want %v", i, a, b)
		}
	}
	return res
}
