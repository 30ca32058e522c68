package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/onnx"
	"github.com/txt2img/engine/tensor"
)

// spec is one initializer of the test graph.
type spec struct {
	name   string
	dt     tensor.DType
	shape  []int64
	inline []int64 // int64 values of an inline initializer (nil: external)
	offset int64   // external: set by layout
	length int64
}

func (s *spec) numel() int64 {
	n := int64(1)
	for _, d := range s.shape {
		n *= d
	}
	return n
}

// testSpecs returns the initializers of the test graph, one per rule.
func testSpecs() []*spec {
	return []*spec{
		{name: "ln.weight", dt: tensor.Float, shape: []int64{16}},
		{name: "ln.bias", dt: tensor.Float, shape: []int64{16}},
		{name: "w1", dt: tensor.Float, shape: []int64{16, 32}},
		{name: "fc1.bias", dt: tensor.Float, shape: []int64{32}},
		{name: "reshape_to", dt: tensor.Int64, shape: []int64{2}, inline: []int64{-1, 32}},
		{name: "w2", dt: tensor.Float, shape: []int64{8, 32}},
		{name: "c2", dt: tensor.Float, shape: []int64{8}},
		{name: "wt", dt: tensor.Float, shape: []int64{64, 16}},
		{name: "w3", dt: tensor.Float16, shape: []int64{16, 4}},
		{name: "conv.w", dt: tensor.Float, shape: []int64{8, 4, 3, 3}},
		{name: "conv.b", dt: tensor.Float, shape: []int64{8}},
		{name: "emb", dt: tensor.Float16, shape: []int64{10, 32}},
		{name: "idx", dt: tensor.Int64, shape: []int64{2}, inline: []int64{3, 7}},
		{name: "q4", dt: tensor.Uint8, shape: []int64{8, 2, 8}},
		{name: "q4_scales", dt: tensor.Float16, shape: []int64{8, 2}},
		{name: "q4_zp", dt: tensor.Uint8, shape: []int64{8, 1}},
	}
}

// layout places the external initializers one after the other, each
// aligned to 64 bytes (so the file has zero gaps).
func layout(specs []*spec) int64 {
	var off int64
	for _, s := range specs {
		if s.inline != nil {
			continue
		}
		off = (off + 63) &^ 63
		s.offset, s.length = off, s.numel()*int64(s.dt.Size())
		off += s.length
	}
	return off
}

func ftype(elem tensor.DType, dims ...any) *onnx.TypeProto {
	t := &onnx.TypeProto{Kind: onnx.TypeTensor, ElemType: int32(elem), HasShape: true}
	for _, d := range dims {
		switch d := d.(type) {
		case int:
			t.Shape = append(t.Shape, onnx.Dim{Value: int64(d), HasValue: true})
		case string:
			t.Shape = append(t.Shape, onnx.Dim{Param: d})
		}
	}
	return t
}

func node(op string, in []string, out string, attrs ...*onnx.AttributeProto) *onnx.NodeProto {
	n := &onnx.NodeProto{OpType: op, Inputs: in, Outputs: []string{out}, Name: out, Attributes: attrs}
	if op == "MatMulNBits" {
		n.Domain = "com.microsoft"
	}
	return n
}

func intAttr(name string, v int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttrInt, I: v}
}

// testModel is a small graph reading each initializer the way the real
// graphs do (not meant to be run).
func testModel(specs []*spec) *onnx.ModelProto {
	var inits []*onnx.TensorProto
	for _, s := range specs {
		t := &onnx.TensorProto{Name: s.name, Dims: s.shape, DataType: int32(s.dt)}
		if s.inline != nil {
			for _, v := range s.inline {
				t.RawData = binary.LittleEndian.AppendUint64(t.RawData, uint64(v))
			}
			t.HasRawData = true
		} else {
			t.DataLocation = onnx.LocationExternal
			t.ExternalData = []onnx.StringEntry{{Key: "location", Value: "model.onnx.data"},
				{Key: "offset", Value: strconv.FormatInt(s.offset, 10)}, {Key: "length", Value: strconv.FormatInt(s.length, 10)}}
		}
		inits = append(inits, t)
	}
	nodes := []*onnx.NodeProto{
		node("LayerNormalization", []string{"hidden_states", "ln.weight", "ln.bias"}, "h1", intAttr("axis", -1)),
		node("MatMul", []string{"h1", "w1"}, "h2"),
		node("Add", []string{"h2", "fc1.bias"}, "h3"),
		node("Reshape", []string{"h3", "reshape_to"}, "h4"),
		node("Gemm", []string{"h4", "w2", "c2"}, "h5", intAttr("transB", 1)),
		node("Transpose", []string{"wt"}, "wt_t", &onnx.AttributeProto{Name: "perm", Type: onnx.AttrInts, Ints: []int64{1, 0}}),
		node("MatMul", []string{"h1", "wt_t"}, "h6"),
		node("Cast", []string{"w3"}, "w3_f32", intAttr("to", int64(tensor.Float))),
		node("MatMul", []string{"h1", "w3_f32"}, "h7"),
		node("Conv", []string{"latent_sample", "conv.w", "conv.b"}, "c", &onnx.AttributeProto{Name: "pads", Type: onnx.AttrInts, Ints: []int64{1, 1, 1, 1}}),
		node("Gather", []string{"emb", "idx"}, "e"),
		node("MatMulNBits", []string{"h3", "q4", "q4_scales", "q4_zp"}, "h8",
			intAttr("K", 32), intAttr("N", 8), intAttr("bits", 4), intAttr("block_size", 16)),
	}
	return &onnx.ModelProto{
		IRVersion:   8,
		OpsetImport: []onnx.OpsetID{{Domain: "", Version: 17}, {Domain: "com.microsoft", Version: 1}},
		Graph: &onnx.GraphProto{
			Name:         "fill_test",
			Nodes:        nodes,
			Initializers: inits,
			Inputs: []*onnx.ValueInfoProto{
				{Name: "hidden_states", Type: ftype(tensor.Float, "batch_size", "sequence_length", 16)},
				{Name: "latent_sample", Type: ftype(tensor.Float, "batch_size", 4, "h", "w")},
			},
			Outputs: []*onnx.ValueInfoProto{
				{Name: "h5", Type: ftype(tensor.Float, "n", 8)},
				{Name: "h6", Type: ftype(tensor.Float, "batch_size", "sequence_length", 64)},
				{Name: "h7", Type: ftype(tensor.Float, "batch_size", "sequence_length", 4)},
				{Name: "c", Type: ftype(tensor.Float, 1, 8, 64, 64)},
				{Name: "e", Type: ftype(tensor.Float16, 2, 32)},
				{Name: "h8", Type: ftype(tensor.Float, "batch_size", "sequence_length", 8)},
			},
		},
	}
}

func initJSON(specs []*spec) *jsonInits {
	ij := &jsonInits{ExternalDataFiles: []string{"model.onnx.data"}}
	for _, s := range specs {
		ji := jsonInit{Name: s.name, DType: s.dt.String(), Shape: s.shape}
		if s.dt == tensor.Float {
			ji.DType = "float" // as the fixture scripts write it
		}
		if s.inline != nil {
			ji.Inline = true
		} else {
			ji.External = &jsonExternal{Location: "model.onnx.data", Offset: s.offset, Length: s.length}
		}
		ij.Initializers = append(ij.Initializers, ji)
	}
	return ij
}

// writeGraphDir writes a graph folder like the shared fullsize-graphs ones.
// mod changes the specs (model and json alike), jmod only the json.
func writeGraphDir(t *testing.T, mod func([]*spec) []*spec, jmod func(*jsonInits, map[string]any)) string {
	t.Helper()
	dir := t.TempDir()
	specs := testSpecs()
	layout(specs)
	if mod != nil {
		specs = mod(specs)
	}
	var end int64
	for _, s := range specs {
		if s.inline == nil {
			end = max(end, s.offset+s.length)
		}
	}
	ij := initJSON(specs)
	gj := map[string]any{
		"io": map[string]any{"inputs": []map[string]any{
			{"name": "hidden_states", "dtype": "float", "shape": []any{"batch_size", "sequence_length", "16"}},
			{"name": "latent_sample", "dtype": "float", "shape": []any{"batch_size", "4", "h", "w"}},
		}},
		"data_bytes": end,
	}
	if jmod != nil {
		jmod(ij, gj)
	}
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("model.onnx", onnx.EncodeModel(testModel(specs)))
	for name, v := range map[string]any{"initializers.json": ij, "graph.json": gj} {
		b, err := json.MarshalIndent(v, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		write(name, b)
	}
	return dir
}

func runTool(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func fill(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runTool(append([]string{"-graph", dir, "-out", out}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}
	return out
}

func values(t *testing.T, x *tensor.Tensor) []float64 {
	t.Helper()
	v := make([]float64, x.Numel())
	for i := range v {
		v[i] = x.At(i)
	}
	return v
}

func TestFillRules(t *testing.T) {
	dir := writeGraphDir(t, nil, nil)
	out := fill(t, dir, "-seed", "7")
	m, err := onnx.Load(filepath.Join(out, "model.onnx"))
	if err != nil {
		t.Fatalf("output does not load: %v", err)
	}
	defer m.Close()

	s0 := 1 / (8 * math.Sqrt(32)) // MatMulNBits scale for K = 32
	const h = 1e-3                // fp16 rounding slack
	cases := []struct {
		name   string
		lo, hi float64 // every value in [lo, hi]
		reach  float64 // some |v - center| ≥ reach: the bound is not smaller than intended
		center float64
	}{
		{"ln.weight", 0.9, 1.1, 0.06, 1},
		{"ln.bias", -0.02, 0.02, 0.01, 0},
		{"w1", -0.25, 0.25, 0.2, 0},                            // MatMul B [16,32]: fan_in 16
		{"fc1.bias", -0.02, 0.02, 0.01, 0},                     // Add, named *bias
		{"w2", -1 / math.Sqrt(32), 1 / math.Sqrt(32), 0.14, 0}, // Gemm transB [8,32]: fan_in 32
		{"c2", -0.02, 0.02, 0.01, 0},                           // Gemm C
		{"wt", -0.25, 0.25, 0.2, 0},                            // Transpose → MatMul B [16,64]: fan_in 16, not 64
		{"w3", -0.25 - h, 0.25 + h, 0.15, 0},                   // fp16, Cast → MatMul B: fan_in 16
		{"conv.w", -1.0 / 6, 1.0 / 6, 0.13, 0},                 // Conv [8,4,3,3]: fan_in 36
		{"conv.b", -0.02, 0.02, 0.01, 0},
		{"emb", -0.5 - h, 0.5 + h, 0.4, 0}, // Gather table
		{"q4_scales", 0.9*s0 - h*s0, 1.1*s0 + h*s0, 0.05 * s0, s0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x := m.Graph.Initializers[tc.name]
			if x == nil {
				t.Fatal("missing")
			}
			reach := 0.0
			for i, v := range values(t, x) {
				if !(v >= tc.lo && v <= tc.hi) {
					t.Fatalf("value %d = %g outside [%g, %g]", i, v, tc.lo, tc.hi)
				}
				reach = max(reach, math.Abs(v-tc.center))
			}
			if reach < tc.reach {
				t.Errorf("values stay within %g of %g; want some beyond %g", reach, tc.center, tc.reach)
			}
		})
	}
	t.Run("q4", func(t *testing.T) {
		b := m.Graph.Initializers["q4"].Bytes()
		var nib [16]bool
		distinct := map[byte]bool{}
		for _, v := range b {
			nib[v&15], nib[v>>4] = true, true
			distinct[v] = true
		}
		for i, ok := range nib {
			if !ok {
				t.Errorf("nibble %d never appears in %d random bytes", i, len(b))
			}
		}
		if len(distinct) < 60 {
			t.Errorf("%d distinct bytes of %d; want random bytes", len(distinct), len(b))
		}
	})
	t.Run("q4_zp", func(t *testing.T) {
		for i, v := range m.Graph.Initializers["q4_zp"].Bytes() {
			if v != 0x88 {
				t.Fatalf("zero point byte %d = %#x, want 0x88", i, v)
			}
		}
	})
	t.Run("inline", func(t *testing.T) {
		if got := m.Graph.Initializers["idx"].I64(); len(got) != 2 || got[0] != 3 || got[1] != 7 {
			t.Errorf("inline idx = %v, want [3 7]", got)
		}
	})
	t.Run("file", func(t *testing.T) {
		specs := testSpecs()
		end := layout(specs)
		data, err := os.ReadFile(filepath.Join(out, "model.onnx.data"))
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(data)) != end {
			t.Fatalf("data file has %d bytes, want %d", len(data), end)
		}
		var pos int64
		for _, s := range specs {
			if s.inline != nil {
				continue
			}
			for i := pos; i < s.offset; i++ {
				if data[i] != 0 {
					t.Fatalf("padding byte %d before %s = %#x, want 0", i, s.name, data[i])
				}
			}
			pos = s.offset + s.length
		}
	})
	t.Run("inputs", func(t *testing.T) {
		tc, err := onnx.ReadTestCase(filepath.Join(out, "test_data_set_0"), m.Graph)
		if err != nil {
			t.Fatal(err)
		}
		hs, lat := tc.Inputs["hidden_states"], tc.Inputs["latent_sample"]
		if hs == nil || lat == nil {
			t.Fatalf("inputs %v", tc.InputOrder)
		}
		if !tensor.SameShape(hs.Shape(), []int{2, 1, 16}) || !tensor.SameShape(lat.Shape(), []int{1, 4, 64, 64}) {
			t.Fatalf("shapes %v %v, want [2 1 16] [1 4 64 64]", hs.Shape(), lat.Shape())
		}
		var ss float64
		for _, v := range values(t, lat) {
			ss += v * v
		}
		std, want := math.Sqrt(ss/float64(lat.Numel())), 1/sdVAEScale
		if math.Abs(std-want) > 0.05*want {
			t.Errorf("latent_sample std %.3f, want ≈ %.3f", std, want)
		}
	})
}

func TestFillSeed(t *testing.T) {
	dir := writeGraphDir(t, nil, nil)
	read := func(out string) []byte {
		var all []byte
		for _, f := range []string{"model.onnx.data", "test_data_set_0/input_0.pb", "test_data_set_0/input_1.pb"} {
			b, err := os.ReadFile(filepath.Join(out, f))
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		return all
	}
	a, b := read(fill(t, dir, "-seed", "7")), read(fill(t, dir, "-seed", "7"))
	if !bytes.Equal(a, b) {
		t.Error("the same seed gave different bytes")
	}
	c := read(fill(t, dir, "-seed", "8"))
	if bytes.Equal(a, c) {
		t.Error("seeds 7 and 8 gave identical bytes")
	}
	// Model copy is byte-identical.
	src, _ := os.ReadFile(filepath.Join(dir, "model.onnx"))
	dst, _ := os.ReadFile(filepath.Join(fill(t, dir), "model.onnx"))
	if !bytes.Equal(src, dst) {
		t.Error("model.onnx copy differs from the source")
	}
}

func TestFillDry(t *testing.T) {
	dir := writeGraphDir(t, nil, nil)
	code, out, errs := runTool("-graph", dir, "-dry")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"matrix", "Gemm input 1 (transB), fan_in 32", "MatMul input 1, fan_in 16", "nbits-zero-point", "embedding", "inputs: hidden_states float32[2 1 16]"} {
		if !strings.Contains(out, want) {
			t.Errorf("-dry output lacks %q:\n%s", want, out)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 3 {
		t.Errorf("-dry wrote into the graph folder: %d entries", len(ents))
	}
}

func TestFillErrors(t *testing.T) {
	find := func(specs []*spec, name string) *spec {
		for _, s := range specs {
			if s.name == name {
				return s
			}
		}
		panic("no spec " + name)
	}
	jfind := func(ij *jsonInits, name string) *jsonInit {
		for i := range ij.Initializers {
			if ij.Initializers[i].Name == name {
				return &ij.Initializers[i]
			}
		}
		panic("no json entry " + name)
	}
	cases := []struct {
		name  string
		mod   func([]*spec) []*spec
		jmod  func(*jsonInits, map[string]any)
		setup func(t *testing.T, dir string) []string // extra args or file changes
		want  string
	}{
		{name: "missing initializers.json", setup: func(t *testing.T, dir string) []string {
			os.Remove(filepath.Join(dir, "initializers.json"))
			return nil
		}, want: "initializers.json: no such file"},
		{name: "overlap", mod: func(s []*spec) []*spec {
			find(s, "w1").offset = find(s, "ln.bias").offset + 32
			return s
		}, want: "overlaps"},
		{name: "json offset differs from model", jmod: func(ij *jsonInits, _ map[string]any) {
			jfind(ij, "w2").External.Offset += 64
		}, want: "model.onnx says"},
		{name: "beyond data_bytes", jmod: func(_ *jsonInits, gj map[string]any) {
			gj["data_bytes"] = 100
		}, want: "beyond data_bytes 100"},
		{name: "length mismatch", mod: func(s []*spec) []*spec {
			find(s, "w1").length += 4
			return s
		}, want: "length 2052, but float32[16 32] takes 2048 bytes"},
		{name: "unknown dtype", jmod: func(ij *jsonInits, _ map[string]any) {
			jfind(ij, "w1").DType = "float13"
		}, want: `unknown dtype "float13"`},
		{name: "dtype differs from model", jmod: func(ij *jsonInits, _ map[string]any) {
			jfind(ij, "w1").DType = "float16"
		}, want: "model.onnx stores float32"},
		{name: "external int64", mod: func(s []*spec) []*spec {
			x := find(s, "idx")
			x.inline, x.offset, x.length = nil, layout(s)+64, 16
			return s
		}, want: "no rule for random integer data"},
		{name: "missing from json", jmod: func(ij *jsonInits, _ map[string]any) {
			ij.Initializers = ij.Initializers[1:]
		}, want: `"ln.weight" of model.onnx is missing from initializers.json`},
		{name: "escaping location", jmod: func(ij *jsonInits, _ map[string]any) {
			jfind(ij, "w1").External.Location = "../model.onnx.data"
		}, want: "inside the graph folder"},
		{name: "graph.json io mismatch", jmod: func(_ *jsonInits, gj map[string]any) {
			gj["io"].(map[string]any)["inputs"].([]map[string]any)[0]["dtype"] = "float16"
		}, want: "graph.json input 0"},
		{name: "out is the graph folder", setup: func(t *testing.T, dir string) []string {
			return []string{"-out", dir}
		}, want: "is the graph folder itself"},
		{name: "bad json", setup: func(t *testing.T, dir string) []string {
			os.WriteFile(filepath.Join(dir, "initializers.json"), []byte("{"), 0o644)
			return nil
		}, want: "initializers.json: unexpected end of JSON input"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeGraphDir(t, tc.mod, tc.jmod)
			args := []string{"-graph", dir, "-out", filepath.Join(t.TempDir(), "out")}
			if tc.setup != nil {
				args = append(args, tc.setup(t, dir)...)
			}
			code, _, errs := runTool(args...)
			if code != 2 || !strings.Contains(errs, tc.want) || !strings.HasPrefix(errs, "fillweights: ") {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, errs, tc.want)
			}
		})
	}
}

func TestUnknownInput(t *testing.T) {
	_, err := makeInput(graphInput{name: "pixel_values", dt: tensor.Float}, inputOptions{batch: 2, past: 3}, 1)
	if err == nil || !strings.Contains(err.Error(), `"pixel_values": no rule`) {
		t.Fatalf("err = %v", err)
	}
	// A declared numeric dim that disagrees with the realistic shape is refused.
	in := graphInput{name: "input_ids", dt: tensor.Int32, dims: []onnx.Dim{{Value: 1, HasValue: true}, {Value: 64, HasValue: true}}}
	if _, err := makeInput(in, inputOptions{batch: 1}, 1); err == nil || !strings.Contains(err.Error(), "declares dim 1 = 64") {
		t.Fatalf("err = %v", err)
	}
}

func TestInputs(t *testing.T) {
	opt := inputOptions{batch: 2, past: 5}
	ids, err := makeInput(graphInput{name: "input_ids", dt: tensor.Int32}, opt, 3)
	if err != nil {
		t.Fatal(err)
	}
	v := ids.I32()
	eos := -1
	for i, x := range v {
		if x == clipEOS {
			eos = i
			break
		}
	}
	if len(v) != clipLen || v[0] != clipBOS || eos < 2 {
		t.Fatalf("input_ids %v: want BOS, tokens, EOS", v)
	}
	for i := 1; i < eos; i++ {
		if v[i] < 0 || v[i] >= clipBOS {
			t.Errorf("token %d = %d outside [0, %d)", i, v[i], clipBOS)
		}
	}
	for i := eos + 1; i < len(v); i++ {
		if v[i] != 0 {
			t.Fatalf("padding %d = %d, want 0", i, v[i])
		}
	}
	mask, _ := makeInput(graphInput{name: "attention_mask", dt: tensor.Int64}, opt, 3)
	pos, _ := makeInput(graphInput{name: "position_ids", dt: tensor.Int64}, opt, 3)
	kv, _ := makeInput(graphInput{name: "past_key_values.3.value", dt: tensor.Float16}, opt, 3)
	ts, _ := makeInput(graphInput{name: "timestep", dt: tensor.Int64}, opt, 3)
	if !tensor.SameShape(mask.Shape(), []int{2, 6}) || !tensor.SameShape(pos.Shape(), []int{2, 1}) || pos.I64()[1] != 5 ||
		!tensor.SameShape(kv.Shape(), []int{2, 16, 5, 128}) || kv.DType() != tensor.Float16 || ts.I64()[0] != 999 {
		t.Errorf("mask %v, position_ids %v %v, kv %s, timestep %v", mask.Shape(), pos.Shape(), pos.I64(), kv, ts.I64())
	}
}

// TestGenHeadEndToEnd fills the real (small) Janus gen_head graph and runs it.
func TestGenHeadEndToEnd(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "testdata", "fullsize-graphs", "janus_pro_1b_gen_head_plain")
	if _, err := os.Stat(filepath.Join(dir, "model.onnx")); err != nil {
		t.Skipf("full-size graphs not found at %s", dir)
	}
	out := fill(t, dir, "-seed", "3")
	m, err := onnx.Load(filepath.Join(out, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	sess, err := graph.NewSession(m.Graph, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tc, err := onnx.ReadTestCase(filepath.Join(out, "test_data_set_0"), m.Graph)
	if err != nil {
		t.Fatal(err)
	}
	res, err := sess.Run(context.Background(), tc.Inputs)
	if err != nil {
		t.Fatal(err)
	}
	logits := res["logits"]
	if logits == nil || !tensor.SameShape(logits.Shape(), []int{2, 1, 16384}) {
		t.Fatalf("logits %v", logits)
	}
	var ss float64
	for i, v := range values(t, logits) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("logit %d = %v", i, v)
		}
		ss += v * v
	}
	if rms := math.Sqrt(ss / float64(logits.Numel())); rms < 1e-3 || rms > 100 {
		t.Errorf("logits rms %g: weights or inputs far from the intended scale", rms)
	}
}
