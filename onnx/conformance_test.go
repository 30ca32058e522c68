package onnx

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/txt2img/engine/graph"
)

// nodeTestDir is the ONNX backend node-test suite (see ../shared/testdata/onnx-node/README.md).
func nodeTestDir() string {
	if d := os.Getenv("ONNX_NODE_TESTS"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "shared", "testdata", "onnx-node")
}

// requiredOps must pass every non-expanded node test (issue: conformance gate).
var requiredOps = []string{"Conv", "MatMul", "Gemm", "Softmax", "LayerNormalization",
	"GroupNormalization", "InstanceNormalization", "Resize", "Gather", "Slice", "Concat",
	"Reshape", "Transpose", "Where", "Expand", "Cast", "Erf", "Sigmoid", "Trilu",
	"ReduceMean", "Pow", "Sqrt"}

const minPassRate = 0.97

func readExpectedFailures(t *testing.T) map[string]string {
	f, err := os.Open(filepath.Join("testdata", "node_expected_failures.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, reason, ok := strings.Cut(line, " ")
		if !ok || strings.TrimSpace(reason) == "" {
			t.Fatalf("expected-failure entry %q has no reason", line)
		}
		m[name] = strings.TrimSpace(reason)
	}
	return m
}

type manifestRow struct{ name, op, expanded string }

func readManifest(t *testing.T, dir string) []manifestRow {
	b, err := os.ReadFile(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []manifestRow
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if i == 0 {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 3 {
			continue
		}
		rows = append(rows, manifestRow{f[0], f[1], f[2]})
	}
	return rows
}

// runNodeTest loads one node-test folder, runs it and compares every output.
func runNodeTest(dir string) (string, bool) {
	m, err := Load(filepath.Join(dir, "model.onnx"))
	if err != nil {
		return "load: " + err.Error(), false
	}
	defer m.Close()
	s, err := graph.NewSession(m.Graph, graph.Options{})
	if err != nil {
		return "compile: " + err.Error(), false
	}
	tc, err := ReadTestCase(filepath.Join(dir, "test_data_set_0"), m.Graph)
	if err != nil {
		return "data: " + err.Error(), false
	}
	out, err := s.Run(context.Background(), tc.Inputs)
	if err != nil {
		return "run: " + err.Error(), false
	}
	for i, name := range tc.OutputNames {
		want := tc.Outputs[i]
		if want == nil {
			continue
		}
		c := Compare(out[name], want, 1e-3, 1e-7)
		if !c.OK {
			return "output " + name + ": " + c.Msg, false
		}
	}
	return "", true
}

func TestNodeConformance(t *testing.T) {
	dir := nodeTestDir()
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST.tsv")); err != nil {
		t.Skipf("ONNX node tests not found at %s (set ONNX_NODE_TESTS): %v", dir, err)
	}
	expected := readExpectedFailures(t)
	rows := readManifest(t, dir)
	required := map[string]bool{}
	for _, op := range requiredOps {
		required[op] = true
	}
	passed := 0
	var failedNames []string
	for _, r := range rows {
		if _, listed := expected[r.name]; listed && required[r.op] && r.expanded == "no" {
			t.Errorf("%s is a required %s test and may not be listed as an expected failure", r.name, r.op)
		}
		t.Run(r.name, func(t *testing.T) {
			msg, ok := runNodeTest(filepath.Join(dir, r.name))
			reason, listed := expected[r.name]
			switch {
			case ok && listed:
				t.Errorf("passes but is listed as an expected failure (%s): remove it from testdata/node_expected_failures.txt", reason)
			case !ok && !listed:
				t.Errorf("%s", msg)
			case !ok && listed:
				t.Logf("expected failure (%s): %s", reason, msg)
			}
			if ok {
				passed++
			} else {
				failedNames = append(failedNames, r.name)
			}
		})
	}
	for name := range expected {
		found := false
		for _, r := range rows {
			found = found || r.name == name
		}
		if !found {
			t.Errorf("expected-failure entry %q names no test", name)
		}
	}
	rate := float64(passed) / float64(len(rows))
	sort.Strings(failedNames)
	t.Logf("node conformance: %d/%d passed (%.1f%%)", passed, len(rows), 100*rate)
	if rate < minPassRate {
		t.Errorf("pass rate %.1f%% is below the %.0f%% gate", 100*rate, 100*minPassRate)
	}
}
