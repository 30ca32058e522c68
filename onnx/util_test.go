package onnx

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// f32Raw encodes float32 values as little-endian raw_data.
func f32Raw(v ...float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

func tensorType(elem int32, dims ...int64) *TypeProto {
	t := &TypeProto{Kind: TypeTensor, ElemType: elem, HasShape: true}
	for _, d := range dims {
		t.Shape = append(t.Shape, Dim{Value: d, HasValue: true})
	}
	return t
}

// addModel builds y = x + w with w an initializer given by init.
func addModel(w *TensorProto) *ModelProto {
	w.Name = "w"
	return &ModelProto{
		IRVersion:   8,
		OpsetImport: []OpsetID{{Domain: "", Version: 17}},
		Graph: &GraphProto{
			Name:         "add",
			Nodes:        []*NodeProto{{Inputs: []string{"x", "w"}, Outputs: []string{"y"}, OpType: "Add", Name: "add0"}},
			Initializers: []*TensorProto{w},
			Inputs:       []*ValueInfoProto{{Name: "x", Type: tensorType(1, 2, 2)}},
			Outputs:      []*ValueInfoProto{{Name: "y", Type: tensorType(1, 2, 2)}},
		},
	}
}

// writeModel writes m to dir/model.onnx and returns the path.
func writeModel(t *testing.T, dir string, m *ModelProto) string {
	t.Helper()
	p := filepath.Join(dir, "model.onnx")
	if err := os.WriteFile(p, EncodeModel(m), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
