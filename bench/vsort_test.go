package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/txt2img/engine/onnx"
	"github.com/txt2img/engine/tensor"
)

// initF32 returns the named initializer of c's model as float32 values.
func initF32(t *testing.T, c *Case, name string) []float32 {
	t.Helper()
	for _, p := range c.Model.Graph.Initializers {
		if p.Name == name {
			v, err := onnx.TensorFromProto(p, nil)
			if err != nil {
				t.Fatal(err)
			}
			return v.Float32s()
		}
	}
	t.Fatalf("%s: no initializer %q", c.Name, name)
	return nil
}

func initU8(t *testing.T, c *Case, name string) []uint8 {
	t.Helper()
	for _, p := range c.Model.Graph.Initializers {
		if p.Name == name {
			return p.RawData
		}
	}
	t.Fatalf("%s: no initializer %q", c.Name, name)
	return nil
}

func naiveMatMul(a, w []float32, m, k, n int) []float64 {
	y := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				s += float64(a[i*k+p]) * float64(w[p*n+j])
			}
			y[i*n+j] = s
		}
	}
	return y
}

func naiveConv3x3(x, w, b []float32, c, hw int) []float64 {
	y := make([]float64, c*hw*hw)
	for co := 0; co < c; co++ {
		for oy := 0; oy < hw; oy++ {
			for ox := 0; ox < hw; ox++ {
				s := float64(b[co])
				for ci := 0; ci < c; ci++ {
					for ky := 0; ky < 3; ky++ {
						for kx := 0; kx < 3; kx++ {
							iy, ix := oy+ky-1, ox+kx-1
							if iy < 0 || iy >= hw || ix < 0 || ix >= hw {
								continue
							}
							s += float64(x[(ci*hw+iy)*hw+ix]) * float64(w[((co*c+ci)*3+ky)*3+kx])
						}
					}
				}
				y[(co*hw+oy)*hw+ox] = s
			}
		}
	}
	return y
}

func naiveAttention(q, kt, v []float32, heads, seq, dim int) []float64 {
	y := make([]float64, heads*seq*dim)
	scale := 1 / math.Sqrt(float64(dim))
	row := make([]float64, seq)
	for h := 0; h < heads; h++ {
		for i := 0; i < seq; i++ {
			mx := math.Inf(-1)
			for j := 0; j < seq; j++ {
				var s float64
				for d := 0; d < dim; d++ {
					s += float64(q[(h*seq+i)*dim+d]) * float64(kt[(h*dim+d)*seq+j])
				}
				row[j] = s * scale
				mx = max(mx, row[j])
			}
			var sum float64
			for j := range row {
				row[j] = math.Exp(row[j] - mx)
				sum += row[j]
			}
			for d := 0; d < dim; d++ {
				var s float64
				for j := 0; j < seq; j++ {
					s += row[j] / sum * float64(v[(h*seq+j)*dim+d])
				}
				y[(h*seq+i)*dim+d] = s
			}
		}
	}
	return y
}

func naiveGroupNorm(x, gamma, beta []float32, c, hw, groups int) []float64 {
	y := make([]float64, c*hw*hw)
	per := c / groups * hw * hw
	for g := 0; g < groups; g++ {
		var mean, vr float64
		for i := 0; i < per; i++ {
			mean += float64(x[g*per+i])
		}
		mean /= float64(per)
		for i := 0; i < per; i++ {
			d := float64(x[g*per+i]) - mean
			vr += d * d
		}
		vr /= float64(per)
		for i := 0; i < per; i++ {
			ch := (g*per + i) / (hw * hw)
			y[g*per+i] = (float64(x[g*per+i])-mean)/math.Sqrt(vr+1e-5)*float64(gamma[ch]) + float64(beta[ch])
		}
	}
	return y
}

// naiveMatMulNBits dequantizes W [n,k] (4 bits, low nibble first, zero
// point 8) and computes a·Wᵀ.
func naiveMatMulNBits(a []float32, q []uint8, scales []float32, m, k, n, block int) []float64 {
	blocks := k / block
	w := make([]float32, k*n) // [k,n] for naiveMatMul
	for j := 0; j < n; j++ {
		for p := 0; p < k; p++ {
			b := q[j*blocks*block/2+p/2]
			nib := b & 0xf
			if p%2 == 1 {
				nib = b >> 4
			}
			w[p*n+j] = (float32(nib) - 8) * scales[j*blocks+p/block]
		}
	}
	return naiveMatMul(a, w, m, k, n)
}

// runTiny writes c's model and runs it once through our engine.
func runTiny(t *testing.T, c *Case) (*tensor.Tensor, error) {
	t.Helper()
	p, err := WriteModel(t.TempDir(), "model.onnx", c.Model)
	if err != nil {
		t.Fatal(err)
	}
	times, outs, err := RunOurs(context.Background(), p, c.Inputs, 2, 1, 2)
	if err != nil {
		return nil, err
	}
	if len(times) != 2 {
		t.Fatalf("%d times, want 2", len(times))
	}
	y, ok := outs["y"]
	if !ok {
		t.Fatalf("no output y in %v", outs)
	}
	return y, nil
}

func checkClose(t *testing.T, got *tensor.Tensor, want []float64, shape []int) {
	t.Helper()
	if !slices.Equal(got.Shape(), shape) {
		t.Fatalf("shape %v, want %v", got.Shape(), shape)
	}
	g := got.Float64s()
	for i, w := range want {
		if d := math.Abs(g[i] - w); d > 1e-4+1e-4*math.Abs(w) || math.IsNaN(g[i]) {
			t.Fatalf("element %d: got %g, want %g", i, g[i], w)
		}
	}
}

// TestOpModels checks that every builder makes a loadable model whose
// result (through our engine) matches a naive reference at tiny sizes.
func TestOpModels(t *testing.T) {
	tests := []struct {
		name  string
		build func() *Case
		want  func(t *testing.T, c *Case) ([]float64, []int)
	}{
		{"matmul_f32w", func() *Case { return MatMulCase(3, 5, 4, false) }, func(t *testing.T, c *Case) ([]float64, []int) {
			return naiveMatMul(c.Inputs[0].T.F32(), initF32(t, c, "w"), 3, 5, 4), []int{3, 4}
		}},
		{"matmul_f16w", func() *Case { return MatMulCase(2, 7, 3, true) }, func(t *testing.T, c *Case) ([]float64, []int) {
			return naiveMatMul(c.Inputs[0].T.F32(), initF32(t, c, "w16"), 2, 7, 3), []int{2, 3}
		}},
		{"conv", func() *Case { return ConvCase(3, 5) }, func(t *testing.T, c *Case) ([]float64, []int) {
			return naiveConv3x3(c.Inputs[0].T.F32(), initF32(t, c, "w"), initF32(t, c, "b"), 3, 5), []int{1, 3, 5, 5}
		}},
		{"attention", func() *Case { return AttentionCase(2, 6, 4) }, func(t *testing.T, c *Case) ([]float64, []int) {
			return naiveAttention(c.Inputs[0].T.F32(), c.Inputs[1].T.F32(), c.Inputs[2].T.F32(), 2, 6, 4), []int{1, 2, 6, 4}
		}},
		{"groupnorm_opset21", func() *Case { return GroupNormCase(4, 3, 2) }, func(t *testing.T, c *Case) ([]float64, []int) {
			return naiveGroupNorm(c.Inputs[0].T.F32(), initF32(t, c, "gamma"), initF32(t, c, "beta"), 4, 3, 2), []int{1, 4, 3, 3}
		}},
		{"groupnorm_export", func() *Case { return GroupNormExportCase(4, 3, 2) }, func(t *testing.T, c *Case) ([]float64, []int) {
			return naiveGroupNorm(c.Inputs[0].T.F32(), initF32(t, c, "gamma"), initF32(t, c, "beta"), 4, 3, 2), []int{1, 4, 3, 3}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.build()
			got, err := runTiny(t, c)
			if err != nil {
				t.Fatal(err)
			}
			want, shape := tc.want(t, c)
			checkClose(t, got, want, shape)
		})
	}
}

// TestMatMulNBits checks the 4-bit model against a dequantizing reference
// where our engine has the op, and otherwise that the runner reports the
// case as unsupported in its line instead of failing.
func TestMatMulNBits(t *testing.T) {
	const m, k, n, block = 2, 64, 3, 32
	c := MatMulNBitsCase(m, k, n, block)
	got, err := runTiny(t, c)
	if err == nil {
		want := naiveMatMulNBits(c.Inputs[0].T.F32(), initU8(t, c, "wq"), initF32(t, c, "scales"), m, k, n, block)
		// The case sets accuracy_level 4: activations are quantized to int8
		// per block, so the result is within ~1/127 of the largest output.
		scale := 0.0
		for _, w := range want {
			scale = math.Max(scale, math.Abs(w))
		}
		for i, w := range want {
			if d := math.Abs(float64(got.F32()[i]) - w); d > 2e-2*scale {
				t.Fatalf("element %d: got %v, want %v (int8 activations allow %.3g)", i, got.F32()[i], w, 2e-2*scale)
			}
		}
		return
	}
	if !strings.Contains(err.Error(), "MatMulNBits") {
		t.Fatalf("unexpected error: %v", err)
	}
	rn := &Runner{Threads: 1, Runs: 1, OrtDir: filepath.Join(t.TempDir(), "no-ort"), TmpDir: t.TempDir()}
	r := rn.Run(context.Background(), c)
	if r.OursMS != nil || r.Ratio != nil || !strings.Contains(r.Error, "ours: ") || !strings.Contains(r.Error, "MatMulNBits") {
		t.Fatalf("line %s: want ours_ms null and an ours error naming MatMulNBits", r.JSONLine())
	}
}

func TestOpCasesNames(t *testing.T) {
	families := []string{"matmul/", "conv/", "attention/", "groupnorm/", "matmulnbits/", "e2e/"}
	seen := map[string]bool{}
	for _, s := range OpCases() {
		if seen[s.Name] {
			t.Errorf("duplicate case %s", s.Name)
		}
		seen[s.Name] = true
		if !slices.ContainsFunc(families, func(f string) bool { return strings.HasPrefix(s.Name, f) }) {
			t.Errorf("case %s starts with no family", s.Name)
		}
	}
	if len(seen) != 19 {
		t.Errorf("%d op cases, want 19", len(seen))
	}
	// Names given to the specs agree with the names the builders give.
	for _, s := range OpCases() {
		if s.Name == matmulName(4096, 320, 1280, true) || s.Name == attentionFusedName(5, 1024, 64) || s.Name == groupNormExportName(320, 64, 32) {
			if c := s.Build(); c.Name != s.Name {
				t.Errorf("spec %s builds case %s", s.Name, c.Name)
			}
		}
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{9, 1, 1, 1, 9}, 1},
	}
	for _, tc := range tests {
		in := slices.Clone(tc.in)
		if got := Median(in); got != tc.want {
			t.Errorf("Median(%v) = %g, want %g", tc.in, got, tc.want)
		}
		if !slices.Equal(in, tc.in) {
			t.Errorf("Median reordered its input: %v", in)
		}
	}
	if !math.IsNaN(Median(nil)) {
		t.Error("Median(nil) is not NaN")
	}
}

func TestJSONLine(t *testing.T) {
	tests := []struct {
		name                   string
		flops, ours, ort, peak float64
		want                   string
		errSide                string
	}{
		{"ok", 2e9, 100, 50, 200, `{"case":"matmul/x","threads":2,"ours_ms":100,"ort_ms":50,"ratio":0.5,"gflops":20,"pct_peak":10,"ort_gflops":40}`, ""},
		{"rounded", 1e9, 3, 7, 0, `{"case":"matmul/x","threads":2,"ours_ms":3,"ort_ms":7,"ratio":2.333,"gflops":333.3,"pct_peak":null,"ort_gflops":142.9}`, ""},
		{"ours failed", 1e9, math.NaN(), 4, 100, `{"case":"matmul/x","threads":2,"ours_ms":null,"ort_ms":4,"ratio":null,"gflops":null,"pct_peak":null,"ort_gflops":250,"error":"ours: unsupported op"}`, "ours"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &Result{Case: "matmul/x", Threads: 2}
			r.fill(tc.flops, tc.ours, tc.ort, tc.peak)
			if tc.errSide != "" {
				r.addError(tc.errSide, errors.New("unsupported op"))
			}
			got := r.JSONLine()
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(got), &m); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"case", "threads", "ours_ms", "ort_ms", "ratio", "gflops", "pct_peak"} {
				if _, ok := m[k]; !ok {
					t.Errorf("key %s missing", k)
				}
			}
		})
	}
}

func TestAddErrorJoins(t *testing.T) {
	r := &Result{}
	r.addError("ours", os.ErrNotExist)
	r.addError("ort", os.ErrInvalid)
	if want := "ours: file does not exist; ort: invalid argument"; r.Error != want {
		t.Errorf("Error = %q, want %q", r.Error, want)
	}
}

func TestWriteInputs(t *testing.T) {
	dir := t.TempDir()
	x := tensor.FromSlice(tensor.Float, []int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	ids := tensor.FromSlice(tensor.Int64, []int{2}, []int64{7, -1})
	mi, err := WriteInputs(dir, "in", []Input{{"x", x}, {"ids", ids}})
	if err != nil {
		t.Fatal(err)
	}
	if len(mi) != 2 || mi[0].Type != "float32" || mi[1].Type != "int64" || !slices.Equal(mi[0].Dims, []int{2, 3}) {
		t.Fatalf("manifest %+v", mi)
	}
	for i, in := range []*tensor.Tensor{x, ids} {
		raw, err := os.ReadFile(mi[i].File)
		if err != nil || !bytes.Equal(raw, in.Bytes()) {
			t.Fatalf("input %d .bin: %v", i, err)
		}
		pb, err := os.ReadFile(strings.TrimSuffix(mi[i].File, ".bin") + ".pb")
		if err != nil {
			t.Fatal(err)
		}
		p, err := onnx.DecodeTensor(pb)
		if err != nil {
			t.Fatal(err)
		}
		got, err := onnx.TensorFromProto(p, nil)
		if err != nil || p.Name != mi[i].Name || !bytes.Equal(got.Bytes(), in.Bytes()) {
			t.Fatalf("input %d .pb: name %q, err %v", i, p.Name, err)
		}
	}
	if _, err := WriteInputs(dir, "bad", []Input{{"s", tensor.FromStrings([]int{1}, []string{"a"})}}); err == nil {
		t.Error("string input accepted")
	}
}

func TestMeasurePeak(t *testing.T) {
	p := MeasurePeak(2, 1, time.Millisecond)
	if p.PerCore <= 0 || p.Concurrent <= 0 || p.Threads != 2 || p.GFlops != 2*p.PerCore || p.ISA == "" {
		t.Fatalf("peak %+v", p)
	}
	fmaLoopGo(1000) // the fallback runs everywhere
}

// TestE2ECases lays out the tiny SD-Turbo and Janus models like the
// full-size folders and checks the synthesized inputs.
func TestE2ECases(t *testing.T) {
	tiny := filepath.Join("..", "..", "shared", "testdata", "pipelines")
	if _, err := os.Stat(tiny); err != nil {
		t.Skip("shared test data absent: ", tiny)
	}
	root := t.TempDir()
	cases, notes := E2ECases(root)
	if len(cases) != 0 || len(notes) != 4 {
		t.Fatalf("empty folder: %d cases, notes %q", len(cases), notes)
	}
	link := func(src, name string) {
		abs, err := filepath.Abs(filepath.Join(tiny, src))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(root, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(abs, filepath.Join(root, name, "model.onnx")); err != nil {
			t.Fatal(err)
		}
	}
	link("sd_turbo_tiny/text_encoder/model.onnx", SDTextEncoderDir)
	link("sd_turbo_tiny/unet/model.onnx", SDUNetDir)
	link("sd_turbo_tiny/vae_decoder/model.onnx", SDVAEDir)
	link("janus_pro_tiny/onnx/language_model_q4.onnx", JanusLMQ4Dir)
	link("janus_pro_tiny/onnx/language_model_q4f16.onnx", JanusLMQ4F16Dir)
	link("janus_pro_tiny/onnx/language_model.onnx", JanusLMFP32Dir)
	cases, notes = E2ECases(root)
	if len(cases) != 4 || len(notes) != 0 {
		t.Fatalf("%d cases, notes %q", len(cases), notes)
	}
	sd, janus := cases[0], cases[1]
	if sd.Name != E2ESDName || len(sd.Parts) != 3 || janus.Name != E2EJanusName {
		t.Fatalf("cases %s (%d parts), %s", sd.Name, len(sd.Parts), janus.Name)
	}
	shapes := map[string][]int{}
	for _, c := range append(slices.Clone(sd.Parts), janus) {
		for _, in := range c.Inputs {
			shapes[in.Name] = in.T.Shape()
		}
	}
	for name, want := range map[string][]int{
		"input_ids": {1, 77}, "sample": {1, 4, 64, 64}, "timestep": {1}, "latent_sample": {1, 4, 64, 64},
		"attention_mask": {2, JanusDecodePast + 1}, "position_ids": {2, 1},
	} {
		if !slices.Equal(shapes[name], want) {
			t.Errorf("input %s shape %v, want %v", name, shapes[name], want)
		}
	}
	for _, in := range janus.Inputs {
		if in.Name == "position_ids" && in.T.Int64s()[0] != JanusDecodePast {
			t.Errorf("position_ids %v, want %d", in.T.Int64s(), JanusDecodePast)
		}
	}
	// The text encoder accepts the synthesized ids.
	te := sd.Parts[0]
	if _, _, err := RunOurs(context.Background(), te.ModelPath, te.Inputs, 1, 0, 1); err != nil {
		t.Fatal(err)
	}
}

// TestORT runs tiny cases through ONNX Runtime when bench/ort is installed.
func TestORT(t *testing.T) {
	if _, err := os.Stat(filepath.Join("ort", "node_modules", "onnxruntime-node")); err != nil {
		t.Skip("onnxruntime-node not installed (cd bench/ort && npm install --ignore-scripts)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not in PATH")
	}
	rn := &Runner{Threads: 1, Warmup: 1, Runs: 2, OrtDir: "ort", TmpDir: t.TempDir(), Peak: 100, Timeout: time.Minute}
	for _, c := range []*Case{MatMulCase(3, 5, 4, true), GroupNormCase(4, 3, 2), AttentionFusedCase(2, 6, 4)} {
		r := rn.Run(context.Background(), c)
		if r.Error != "" || r.OursMS == nil || r.OrtMS == nil || r.Ratio == nil {
			t.Errorf("%s: %s", c.Name, r.JSONLine())
			continue
		}
		if c.OrtModel == nil && (r.MaxRelDiff == nil || *r.MaxRelDiff > 1e-5) {
			t.Errorf("%s: outputs differ: %s", c.Name, r.JSONLine())
		}
	}
}
