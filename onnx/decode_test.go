package onnx

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"unsafe"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/tensor"
)

func runAdd(t *testing.T, path string) []float32 {
	t.Helper()
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s, err := graph.NewSession(m.Graph, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.FromSlice(tensor.Float, []int{2, 2}, []float32{1, 2, 3, 4})
	out, err := s.Run(context.Background(), map[string]*tensor.Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	return out["y"].Float32s()
}

func TestLoadInitializerForms(t *testing.T) {
	want := []float32{11, 22, 33, 44}
	cases := []struct {
		name string
		w    *TensorProto
		ext  []byte // external data file content
	}{
		{"raw", &TensorProto{Dims: []int64{2, 2}, DataType: 1, RawData: f32Raw(10, 20, 30, 40), HasRawData: true}, nil},
		{"float_data", &TensorProto{Dims: []int64{2, 2}, DataType: 1, FloatData: []float32{10, 20, 30, 40}}, nil},
		{"broadcast", &TensorProto{Dims: []int64{2}, DataType: 1, FloatData: []float32{10, 20}}, nil},
		{"external", &TensorProto{Dims: []int64{2, 2}, DataType: 1, DataLocation: LocationExternal,
			ExternalData: []StringEntry{{"location", "weights.bin"}, {"offset", "8"}, {"length", "16"}}},
			append([]byte{0, 0, 0, 0, 0, 0, 0, 0}, f32Raw(10, 20, 30, 40)...)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.ext != nil {
				if err := os.WriteFile(filepath.Join(dir, "weights.bin"), tc.ext, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got := runAdd(t, writeModel(t, dir, addModel(tc.w)))
			w := want
			if tc.name == "broadcast" {
				w = []float32{11, 22, 13, 24}
			}
			for i := range w {
				if got[i] != w[i] {
					t.Fatalf("got %v, want %v", got, w)
				}
			}
		})
	}
}

func TestInitializersAreZeroCopy(t *testing.T) {
	m := addModel(&TensorProto{Dims: []int64{2, 2}, DataType: 1, RawData: f32Raw(10, 20, 30, 40), HasRawData: true})
	b := EncodeModel(m)
	// Find an alignment of the buffer at which raw_data is 4-byte aligned.
	for shift := 0; shift < 4; shift++ {
		buf := make([]byte, len(b)+8)
		start := shift
		copy(buf[start:], b)
		mod, err := LoadBytes(buf[start:start+len(b)], "")
		if err != nil {
			t.Fatal(err)
		}
		w := mod.Graph.Initializers["w"]
		p := uintptr(unsafe.Pointer(&w.Bytes()[0]))
		lo := uintptr(unsafe.Pointer(&buf[0]))
		inside := p >= lo && p < lo+uintptr(len(buf))
		if p%4 == 0 && (p-lo) >= uintptr(start) && inside {
			return // zero-copy view of the model bytes
		}
	}
	t.Fatal("raw initializer was copied at every alignment")
}

func TestHostileFiles(t *testing.T) {
	ext := func(loc, off, length string) *TensorProto {
		e := []StringEntry{{"location", loc}}
		if off != "" {
			e = append(e, StringEntry{"offset", off})
		}
		if length != "" {
			e = append(e, StringEntry{"length", length})
		}
		return &TensorProto{Dims: []int64{2, 2}, DataType: 1, DataLocation: LocationExternal, ExternalData: e}
	}
	cases := []struct {
		name string
		w    *TensorProto
	}{
		{"escaping location", ext("../weights.bin", "", "")},
		{"absolute location", ext("/etc/passwd", "", "")},
		{"nested escape", ext("a/../../weights.bin", "", "")},
		{"offset beyond file", ext("weights.bin", "1000", "16")},
		{"length beyond file", ext("weights.bin", "0", "1000")},
		{"negative offset", ext("weights.bin", "-4", "16")},
		{"bad number", ext("weights.bin", "x", "16")},
		{"short external", ext("weights.bin", "12", "")},
		{"missing file", ext("nope.bin", "", "")},
		{"raw too short", &TensorProto{Dims: []int64{2, 2}, DataType: 1, RawData: f32Raw(1, 2, 3), HasRawData: true}},
		{"huge dims", &TensorProto{Dims: []int64{1 << 40, 1 << 40}, DataType: 1, RawData: f32Raw(1), HasRawData: true}},
		{"negative dim", &TensorProto{Dims: []int64{-1, 2}, DataType: 1, FloatData: []float32{1, 2}}},
		{"too few typed values", &TensorProto{Dims: []int64{1000000}, DataType: 1, FloatData: []float32{1}}},
		{"bad dtype", &TensorProto{Dims: []int64{1}, DataType: 99, RawData: []byte{1}, HasRawData: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "model")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			data := f32Raw(1, 2, 3, 4, 5, 6)
			os.WriteFile(filepath.Join(dir, "weights.bin"), data, 0o644)
			os.WriteFile(filepath.Join(filepath.Dir(dir), "weights.bin"), data, 0o644)
			_, err := Load(writeModel(t, dir, addModel(tc.w)))
			if err == nil {
				t.Fatal("loaded a hostile model without error")
			}
			var fe *FormatError
			var ue *UnsupportedError
			if !errors.As(err, &fe) && !errors.As(err, &ue) && tc.name != "missing file" {
				t.Fatalf("error %v is neither FormatError nor UnsupportedError", err)
			}
		})
	}
}

func TestTruncatedModelsNeverPanic(t *testing.T) {
	b := EncodeModel(addModel(&TensorProto{Dims: []int64{2, 2}, DataType: 1, RawData: f32Raw(10, 20, 30, 40), HasRawData: true}))
	ok := 0
	for n := 0; n < len(b); n++ {
		if _, err := LoadBytes(b[:n], ""); err == nil {
			ok++
		}
	}
	if _, err := LoadBytes(b, ""); err != nil {
		t.Fatalf("full model: %v", err)
	}
	t.Logf("%d of %d prefixes decode as (smaller) valid models", ok, len(b))
}

func TestModelRoundTrip(t *testing.T) {
	m := addModel(&TensorProto{Dims: []int64{2, 2}, DataType: 1, FloatData: []float32{1, 2, 3, 4}})
	m.Graph.Nodes[0].Attributes = []*AttributeProto{
		{Name: "f", Type: AttrFloat, F: 1.5},
		{Name: "i", Type: AttrInt, I: -3},
		{Name: "s", Type: AttrString, S: []byte("hi")},
		{Name: "ints", Type: AttrInts, Ints: []int64{1, -2, 3}},
		{Name: "floats", Type: AttrFloats, Floats: []float32{0.5, 2}},
		{Name: "strs", Type: AttrStrings, Strings: [][]byte{[]byte("a"), []byte("b")}},
		{Name: "g", Type: AttrGraph, G: &GraphProto{Name: "body"}},
	}
	got, err := DecodeModel(EncodeModel(m))
	if err != nil {
		t.Fatal(err)
	}
	a := got.Graph.Nodes[0].Attributes
	if len(a) != 7 || a[0].F != 1.5 || a[1].I != -3 || string(a[2].S) != "hi" || len(a[3].Ints) != 3 ||
		a[3].Ints[1] != -2 || a[4].Floats[1] != 2 || string(a[5].Strings[1]) != "b" || a[6].G.Name != "body" {
		t.Fatalf("attributes did not round-trip: %+v", a)
	}
	if got.Graph.Inputs[0].Type.Shape[1].Value != 2 || got.OpsetImport[0].Version != 17 {
		t.Fatal("types or opsets did not round-trip")
	}
}

func TestSubByteUnpack(t *testing.T) {
	// int4 values 1, -1, 7, -8, 3 packed low nibble first.
	p := &TensorProto{Dims: []int64{5}, DataType: int32(tensor.Int4), RawData: []byte{0xF1, 0x87, 0x03}, HasRawData: true}
	tt, err := TensorFromProto(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{1, -1, 7, -8, 3}
	got := tt.Int64s()
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	if b := packSubByte(tensor.Int4, tt.Bytes()); strconv.Quote(string(b)) != strconv.Quote(string(p.RawData)) {
		t.Fatalf("repack %x, want %x", b, p.RawData)
	}
}
