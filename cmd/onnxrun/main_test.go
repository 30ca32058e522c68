package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/onnx"
)

func nodeDir(t *testing.T, name string) string {
	t.Helper()
	d := filepath.Join("..", "..", "..", "shared", "testdata", "onnx-node", name)
	if _, err := os.Stat(d); err != nil {
		t.Skipf("ONNX node tests not found at %s", d)
	}
	return d
}

func runTool(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestOnnxrunPass(t *testing.T) {
	d := nodeDir(t, "test_add_bcast")
	outDir := t.TempDir()
	code, out, errs := runTool("-model", filepath.Join(d, "model.onnx"), "-data", filepath.Join(d, "test_data_set_0"),
		"-out", outDir, "-bench", "3", "-profile", "-v")
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	for _, want := range []string{"PASS", "bench: 3 runs", "profile", "Add"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// -out wrote a TensorProto equal to the expected output.
	got, _, err := onnx.ReadValueFile(filepath.Join(outDir, "output_0.pb"), onnxTensorType())
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := onnx.ReadValueFile(filepath.Join(d, "test_data_set_0", "output_0.pb"), onnxTensorType())
	if err != nil {
		t.Fatal(err)
	}
	if c := onnx.Compare(got, want, 0, 0); !c.OK {
		t.Fatalf("written output differs: %s", c.Msg)
	}
}

func TestOnnxrunFail(t *testing.T) {
	add, sub := nodeDir(t, "test_add"), nodeDir(t, "test_sub")
	code, out, _ := runTool("-model", filepath.Join(add, "model.onnx"), "-data", filepath.Join(sub, "test_data_set_0"))
	if code != 1 || !strings.Contains(out, "FAIL") {
		t.Fatalf("exit %d, output %q; want 1 and FAIL", code, out)
	}
}

func TestOnnxrunErrors(t *testing.T) {
	d := nodeDir(t, "test_add")
	bad := filepath.Join(t.TempDir(), "bad.onnx")
	os.WriteFile(bad, []byte("\x0a\xff\xff\xff"), 0o644)
	unknown := filepath.Join(t.TempDir(), "unknown.onnx")
	m := &onnx.ModelProto{IRVersion: 8, OpsetImport: []onnx.OpsetID{{Version: 17}}, Graph: &onnx.GraphProto{
		Nodes:   []*onnx.NodeProto{{OpType: "FrobnicateTensor", Domain: "example.com", Inputs: []string{"x"}, Outputs: []string{"y"}}},
		Inputs:  []*onnx.ValueInfoProto{{Name: "x"}},
		Outputs: []*onnx.ValueInfoProto{{Name: "y"}},
	}}
	os.WriteFile(unknown, onnx.EncodeModel(m), 0o644)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no model", nil, "-model is required"},
		{"missing file", []string{"-model", "nope.onnx", "-data", "."}, "no such file"},
		{"malformed", []string{"-model", bad, "-data", "."}, "malformed"},
		{"unsupported op", []string{"-model", unknown, "-data", "."}, "FrobnicateTensor (domain example.com"},
		{"missing data", []string{"-model", filepath.Join(d, "model.onnx"), "-data", "/nonexistent"}, "no such file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runTool(tc.args...)
			if code != 2 || !strings.Contains(errs, tc.want) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
				t.Fatalf("exit %d, stderr %q; want 2 and one line containing %q", code, errs, tc.want)
			}
		})
	}
}

func onnxTensorType() graph.ValueType { return graph.ValueType{} }

func TestOnnxrunStats(t *testing.T) {
	d := nodeDir(t, "test_add_bcast")
	code, out, errs := runTool("-model", filepath.Join(d, "model.onnx"), "-data", filepath.Join(d, "test_data_set_0"), "-stats")
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	for _, want := range []string{"float32[3 4 5] min=", " mean=", "nan=0 inf=0", "time: load", "PASS"} {
		if !strings.Contains(out, want) {
			t.Errorf("-stats output lacks %q:\n%s", want, out)
		}
	}
}
