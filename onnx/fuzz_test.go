package onnx

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// fuzzSeeds adds the encoded test model and every model.onnx of the node tests
// (when ../shared is present) to the corpus.
func fuzzSeeds(f *testing.F, name string) {
	f.Add(EncodeModel(addModel(&TensorProto{Dims: []int64{2, 2}, DataType: 1, RawData: f32Raw(10, 20, 30, 40), HasRawData: true})))
	dirs, _ := filepath.Glob(filepath.Join(nodeTestDir(), "test_*"))
	sort.Strings(dirs)
	for _, d := range dirs {
		if b, err := os.ReadFile(filepath.Join(d, name)); err == nil {
			f.Add(b)
		}
	}
}

// FuzzDecodeModel checks that decoding and importing arbitrary bytes never
// panics and never allocates more than the input justifies.
func FuzzDecodeModel(f *testing.F) {
	fuzzSeeds(f, "model.onnx")
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := LoadBytes(b, "")
		if err != nil {
			return
		}
		m.Close()
	})
}

// FuzzDecodeTensor does the same for serialized TensorProto files.
func FuzzDecodeTensor(f *testing.F) {
	fuzzSeeds(f, filepath.Join("test_data_set_0", "input_0.pb"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodeTensor(b)
		if err != nil {
			return
		}
		TensorFromProto(p, nil)
	})
}
