package bench

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/onnx"
	"github.com/txt2img/engine/tensor"
)

// Median returns the median of xs (the mean of the two middle values for an
// even count) without reordering xs; NaN for an empty slice.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Result is one line of the report. Pointer fields are null in the JSON when
// a side failed or the value does not apply.
type Result struct {
	Case      string   `json:"case"`
	Threads   int      `json:"threads"`
	OursMS    *float64 `json:"ours_ms"`
	OrtMS     *float64 `json:"ort_ms"`
	Ratio     *float64 `json:"ratio"`    // ort_ms / ours_ms: > 1 means we are faster
	GFlops    *float64 `json:"gflops"`   // ours
	PctPeak   *float64 `json:"pct_peak"` // ours, % of the measured FMA peak for Threads threads
	OrtGFlops *float64 `json:"ort_gflops,omitempty"`
	// MaxRelDiff is max|ours−ort| / max|ort| over the first output, where both
	// engines ran the same model.
	MaxRelDiff *float64 `json:"max_rel_diff,omitempty"`
	Note       string   `json:"note,omitempty"`
	Error      string   `json:"error,omitempty"`
	// Parts gives each part's median times (cases made of several models).
	Parts []PartResult `json:"parts,omitempty"`
}

// PartResult is one model of a multi-part case.
type PartResult struct {
	Name   string   `json:"name"`
	OursMS *float64 `json:"ours_ms"`
	OrtMS  *float64 `json:"ort_ms"`
}

// sig rounds v to 4 significant digits for the report.
func sig(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 4, 64), 64)
	return &r
}

// JSONLine formats r as one line of JSON (no trailing newline).
func (r *Result) JSONLine() string {
	b, err := json.Marshal(r)
	if err != nil { // only float fields; sig drops NaN/Inf
		return fmt.Sprintf(`{"case":%q,"error":%q}`, r.Case, err.Error())
	}
	return string(b)
}

// fill computes the derived fields from the two medians (NaN: side failed).
func (r *Result) fill(flops, oursMS, ortMS, peakGFlops float64) {
	r.OursMS, r.OrtMS = sig(oursMS), sig(ortMS)
	if oursMS > 0 && ortMS > 0 {
		r.Ratio = sig(ortMS / oursMS)
	}
	if flops > 0 && oursMS > 0 {
		g := flops / (oursMS * 1e6)
		r.GFlops = sig(g)
		if peakGFlops > 0 {
			r.PctPeak = sig(100 * g / peakGFlops)
		}
	}
	if flops > 0 && ortMS > 0 {
		r.OrtGFlops = sig(flops / (ortMS * 1e6))
	}
}

func (r *Result) addError(side string, err error) {
	msg := side + ": " + strings.ReplaceAll(err.Error(), "\n", " ")
	if r.Error != "" {
		r.Error += "; "
	}
	r.Error += msg
}

// Runner runs cases through both engines.
type Runner struct {
	Threads int
	Warmup  int
	Runs    int
	OrtDir  string  // folder holding run.js and node_modules
	Node    string  // node executable
	Peak    float64 // FMA peak for Threads threads, GFLOP/s (0: unknown)
	TmpDir  string  // scratch folder for model and input files
	// Timeout bounds one ONNX Runtime process.
	Timeout time.Duration
}

// ortType maps a dtype to onnxruntime-node's tensor type name.
func ortType(dt tensor.DType) (string, error) {
	switch dt {
	case tensor.Float:
		return "float32", nil
	case tensor.Float16:
		return "float16", nil
	case tensor.Int64:
		return "int64", nil
	case tensor.Int32:
		return "int32", nil
	case tensor.Uint8:
		return "uint8", nil
	case tensor.Int8:
		return "int8", nil
	case tensor.Bool:
		return "bool", nil
	}
	return "", fmt.Errorf("bench: dtype %v has no onnxruntime-node type here", dt)
}

// Manifest tells bench/ort/run.js what to run.
type Manifest struct {
	Model   string          `json:"model"`
	Threads int             `json:"threads"`
	Warmup  int             `json:"warmup"`
	Runs    int             `json:"runs"`
	Inputs  []ManifestInput `json:"inputs"`
	OutDir  string          `json:"out_dir"` // run.js writes the first output there as raw bytes
}

// ManifestInput is one input as a raw little-endian file.
type ManifestInput struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Dims []int  `json:"dims"`
	File string `json:"file"`
}

// WriteInputs writes each input as prefix_N.pb (TensorProto) and
// prefix_N.bin (raw bytes) under dir and returns their manifest entries.
func WriteInputs(dir, prefix string, ins []Input) ([]ManifestInput, error) {
	var out []ManifestInput
	for i, in := range ins {
		typ, err := ortType(in.T.DType())
		if err != nil {
			return nil, err
		}
		pb := filepath.Join(dir, fmt.Sprintf("%s_%d.pb", prefix, i))
		if err := os.WriteFile(pb, onnx.EncodeTensor(in.Name, in.T), 0o644); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		bin := filepath.Join(dir, fmt.Sprintf("%s_%d.bin", prefix, i))
		if err := os.WriteFile(bin, in.T.Bytes(), 0o644); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		out = append(out, ManifestInput{Name: in.Name, Type: typ, Dims: slices.Clone(in.T.Shape()), File: bin})
	}
	return out, nil
}

// WriteModel encodes m to dir/name.
func WriteModel(dir, name string, m *onnx.ModelProto) (string, error) {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, onnx.EncodeModel(m), 0o644); err != nil {
		return "", fmt.Errorf("bench: %w", err)
	}
	return p, nil
}

// RunOurs loads the model file, runs warmup untimed runs and then runs timed
// ones, and returns the times in ms and the outputs of the last run.
func RunOurs(ctx context.Context, path string, ins []Input, threads, warmup, runs int) ([]float64, map[string]*tensor.Tensor, error) {
	m, err := onnx.Load(path)
	if err != nil {
		return nil, nil, err
	}
	defer m.Close()
	shapes := make(map[string][]int, len(ins))
	feed := make(map[string]*tensor.Tensor, len(ins))
	for _, in := range ins {
		shapes[in.Name] = in.T.Shape()
		feed[in.Name] = in.T
	}
	s, err := graph.NewSession(m.Graph, graph.Options{Threads: threads, InputShapes: shapes})
	if err != nil {
		return nil, nil, err
	}
	defer s.Release()
	var outs map[string]*tensor.Tensor
	times := make([]float64, 0, runs)
	for i := 0; i < warmup+runs; i++ {
		t0 := time.Now()
		outs, err = s.Run(ctx, feed)
		if err != nil {
			return nil, nil, err
		}
		if i >= warmup {
			times = append(times, float64(time.Since(t0).Nanoseconds())/1e6)
		}
	}
	// Outputs may live in session buffers: copy them before Release.
	cp := make(map[string]*tensor.Tensor, len(outs))
	for k, v := range outs {
		if v != nil && v.Kind == tensor.KindTensor {
			cp[k] = v.Clone()
		}
	}
	return times, cp, nil
}

// OrtReport is what run.js prints.
type OrtReport struct {
	Version string      `json:"version"`
	TimesMS []float64   `json:"times_ms"`
	Outputs []OrtOutput `json:"outputs"`
	Error   string      `json:"error"`
}

// OrtOutput is an output of the last ORT run written as raw bytes.
type OrtOutput struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Dims []int  `json:"dims"`
	File string `json:"file"`
}

// OrtAvailable reports why ONNX Runtime cannot run (nil: it can).
func (rn *Runner) OrtAvailable() error {
	if _, err := os.Stat(filepath.Join(rn.OrtDir, "node_modules", "onnxruntime-node")); err != nil {
		return fmt.Errorf("bench: onnxruntime-node not installed in %s (cd bench/ort && npm install --ignore-scripts)", rn.OrtDir)
	}
	if _, err := exec.LookPath(rn.nodeBin()); err != nil {
		return fmt.Errorf("bench: node not found: %w", err)
	}
	return nil
}

func (rn *Runner) nodeBin() string {
	if rn.Node != "" {
		return rn.Node
	}
	return "node"
}

// RunORT runs bench/ort/run.js on a manifest file.
func (rn *Runner) RunORT(ctx context.Context, manifest string) (*OrtReport, error) {
	if err := rn.OrtAvailable(); err != nil {
		return nil, err
	}
	if rn.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, rn.Timeout)
		defer cancel()
	}
	script, err := filepath.Abs(filepath.Join(rn.OrtDir, "run.js"))
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	cmd := exec.CommandContext(ctx, rn.nodeBin(), script, manifest)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var rep OrtReport
	if err := json.Unmarshal(bytes.TrimSpace(lastLine(stdout.Bytes())), &rep); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 300 {
			msg = msg[len(msg)-300:]
		}
		if runErr != nil {
			return nil, fmt.Errorf("bench: run.js: %v: %s", runErr, msg)
		}
		return nil, fmt.Errorf("bench: run.js printed no report: %v: %s", err, msg)
	}
	if rep.Error != "" {
		return nil, errors.New(rep.Error)
	}
	if len(rep.TimesMS) == 0 {
		return nil, errors.New("bench: run.js reported no times")
	}
	return &rep, nil
}

func lastLine(b []byte) []byte {
	b = bytes.TrimRight(b, "\n")
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}

// maxRelDiff compares our float32 output with ORT's raw one.
func maxRelDiff(ours *tensor.Tensor, o OrtOutput) (float64, error) {
	if o.Type != "float32" || ours.DType() != tensor.Float {
		return 0, fmt.Errorf("bench: output %s is %s, compared only for float32", o.Name, o.Type)
	}
	if !slices.Equal(ours.Shape(), o.Dims) {
		return 0, fmt.Errorf("bench: output %s shape %v, ORT %v", o.Name, ours.Shape(), o.Dims)
	}
	raw, err := os.ReadFile(o.File)
	if err != nil {
		return 0, fmt.Errorf("bench: %w", err)
	}
	got := ours.F32()
	if len(raw) != 4*len(got) {
		return 0, fmt.Errorf("bench: output %s: %d bytes from ORT, want %d", o.Name, len(raw), 4*len(got))
	}
	var maxDiff, maxRef float64
	for i, g := range got {
		w := float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
		maxDiff = max(maxDiff, math.Abs(float64(g)-w))
		maxRef = max(maxRef, math.Abs(w))
		if math.IsNaN(float64(g)) != math.IsNaN(w) {
			return math.Inf(1), nil
		}
	}
	if maxRef == 0 {
		return maxDiff, nil
	}
	return maxDiff / maxRef, nil
}

// side is one engine's outcome for one model.
type side struct {
	ms   float64 // median; NaN when failed
	outs map[string]*tensor.Tensor
	ort  *OrtReport
	err  error
}

// runPart runs one model file through one engine.
func (rn *Runner) runOurs(ctx context.Context, path string, ins []Input) side {
	times, outs, err := RunOurs(ctx, path, ins, rn.Threads, rn.Warmup, rn.Runs)
	runtime.GC()
	debug.FreeOSMemory()
	if err != nil {
		return side{ms: math.NaN(), err: err}
	}
	return side{ms: Median(times), outs: outs}
}

func (rn *Runner) runOrt(ctx context.Context, dir, prefix, path string, ins []Input) side {
	mi, err := WriteInputs(dir, prefix, ins)
	if err != nil {
		return side{ms: math.NaN(), err: err}
	}
	outDir := filepath.Join(dir, prefix+"_out")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return side{ms: math.NaN(), err: err}
	}
	man := Manifest{Model: path, Threads: rn.Threads, Warmup: rn.Warmup, Runs: rn.Runs, Inputs: mi, OutDir: outDir}
	b, _ := json.Marshal(man)
	mp := filepath.Join(dir, prefix+"_manifest.json")
	if err := os.WriteFile(mp, b, 0o644); err != nil {
		return side{ms: math.NaN(), err: err}
	}
	rep, err := rn.RunORT(ctx, mp)
	if err != nil {
		return side{ms: math.NaN(), err: err}
	}
	return side{ms: Median(rep.TimesMS), ort: rep}
}

// Run measures one case and returns its report line. Failures of either side
// are reported in Result.Error, never returned.
func (rn *Runner) Run(ctx context.Context, c *Case) *Result {
	r := &Result{Case: c.Name, Threads: rn.Threads, Note: c.Note}
	dir, err := os.MkdirTemp(rn.TmpDir, "vsort-")
	if err != nil {
		r.addError("setup", err)
		return r
	}
	defer os.RemoveAll(dir)

	parts := c.Parts
	if len(parts) == 0 {
		parts = []*Case{c}
	}
	oursTotal, ortTotal := 0.0, 0.0
	diff := math.NaN()
	for i, p := range parts {
		label := ""
		if len(parts) > 1 {
			label = " " + p.Name
		}
		path := p.ModelPath
		if path == "" {
			if path, err = WriteModel(dir, fmt.Sprintf("model_%d.onnx", i), p.Model); err != nil {
				r.addError("setup", err)
				return r
			}
		}
		ortPath, ortIns := path, p.Inputs
		if p.OrtModel != nil {
			if ortPath, err = WriteModel(dir, fmt.Sprintf("ort_model_%d.onnx", i), p.OrtModel); err != nil {
				r.addError("setup", err)
				return r
			}
			ortIns = p.OrtInputs
		}
		ours := rn.runOurs(ctx, path, p.Inputs)
		if ours.err != nil {
			r.addError("ours"+label, ours.err)
		}
		ort := rn.runOrt(ctx, dir, fmt.Sprintf("in_%d", i), ortPath, ortIns)
		if ort.err != nil {
			r.addError("ort"+label, ort.err)
		}
		oursTotal += ours.ms
		ortTotal += ort.ms
		if len(parts) > 1 {
			r.Parts = append(r.Parts, PartResult{Name: p.Name, OursMS: sig(ours.ms), OrtMS: sig(ort.ms)})
		}
		if len(parts) == 1 && p.OrtModel == nil && ours.err == nil && ort.err == nil && len(ort.ort.Outputs) > 0 {
			o := ort.ort.Outputs[0]
			if t, ok := ours.outs[o.Name]; ok {
				if d, err := maxRelDiff(t, o); err == nil {
					diff = d
				} else {
					r.addError("compare", err)
				}
			}
		}
	}
	r.fill(c.Flops, oursTotal, ortTotal, rn.Peak)
	if !math.IsNaN(diff) {
		r.MaxRelDiff = sig(diff)
		if r.MaxRelDiff == nil { // Inf: NaN mismatch
			r.addError("compare", errors.New("NaN in one output only"))
		}
	}
	return r
}
