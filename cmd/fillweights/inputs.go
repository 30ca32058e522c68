package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/txt2img/engine/onnx"
	"github.com/txt2img/engine/tensor"
)

// inputOptions are the symbolic sizes of the Janus decode step.
type inputOptions struct {
	batch int // Janus batch (CFG: 2)
	past  int // Janus past sequence length
}

// Token ids of the CLIP tokenizer used by SD-Turbo.
const (
	clipBOS   = 49406
	clipEOS   = 49407
	clipVocab = 49408
	clipLen   = 77
)

// SD-Turbo constants: the first sigma of the Euler schedule and the VAE
// scaling factor.
const (
	sdSigmaMax = 14.6146
	sdVAEScale = 0.18215
)

// graphInput is one input of the ONNX graph that is not an initializer.
type graphInput struct {
	name string
	dt   tensor.DType
	dims []onnx.Dim
}

func graphInputs(p *plan) ([]graphInput, error) {
	inits := map[string]bool{}
	for _, t := range p.model.Graph.Initializers {
		inits[t.Name] = true
	}
	var out []graphInput
	for _, vi := range p.model.Graph.Inputs {
		if inits[vi.Name] {
			continue
		}
		if vi.Type == nil || vi.Type.Kind != onnx.TypeTensor {
			return nil, fmt.Errorf("fillweights: graph input %q is not a tensor", vi.Name)
		}
		dt := tensor.DType(vi.Type.ElemType)
		if !dt.Valid() {
			return nil, fmt.Errorf("fillweights: graph input %q has unknown element type %d", vi.Name, vi.Type.ElemType)
		}
		out = append(out, graphInput{name: vi.Name, dt: dt, dims: vi.Type.Shape})
	}
	if gj := p.graphJSON; gj != nil && len(gj.IO.Inputs) > 0 {
		if len(gj.IO.Inputs) != len(out) {
			return nil, fmt.Errorf("fillweights: graph.json lists %d inputs, model.onnx has %d", len(gj.IO.Inputs), len(out))
		}
		for i, io := range gj.IO.Inputs {
			dt, ok := parseDType(io.DType)
			if io.Name != out[i].name || !ok || dt != out[i].dt {
				return nil, fmt.Errorf("fillweights: graph.json input %d is %s %s, model.onnx has %s %s",
					i, io.Name, io.DType, out[i].name, out[i].dt)
			}
		}
	}
	return out, nil
}

// makeInput builds a realistic value for a known input of the SD-Turbo and
// Janus graphs.
func makeInput(in graphInput, opt inputOptions, seed uint64) (*tensor.Tensor, error) {
	s := newStream(seed, "input:"+in.name)
	declared := func(i, def int) int {
		if i < len(in.dims) && in.dims[i].HasValue {
			return int(in.dims[i].Value)
		}
		return def
	}
	b, p := opt.batch, opt.past
	var shape []int
	var gen func(i int) float64
	normal := func(scale float64) func(int) float64 {
		return func(int) float64 { return scale * s.normal() }
	}
	switch name := in.name; {
	case name == "input_ids": // CLIP: BOS, a prompt, EOS, padding with 0
		shape = []int{1, clipLen}
		n := 5 + int(s.bits(4)) // 5..20 prompt tokens
		ids := make([]float64, clipLen)
		ids[0] = clipBOS
		for i := 1; i <= n; i++ {
			ids[i] = float64(s.bits(32) % clipBOS) // ordinary tokens: below BOS
		}
		ids[n+1] = clipEOS
		gen = func(i int) float64 { return ids[i] }
	case name == "sample": // UNet: noise · σ / sqrt(σ²+1)
		shape = []int{1, declared(1, 4), 64, 64}
		gen = normal(sdSigmaMax / math.Sqrt(sdSigmaMax*sdSigmaMax+1))
	case name == "timestep":
		shape = []int{1}
		gen = func(int) float64 { return 999 }
	case name == "encoder_hidden_states":
		shape = []int{1, clipLen, declared(2, 1024)}
		gen = normal(1)
	case name == "latent_sample": // VAE: latents / scaling factor
		shape = []int{1, declared(1, 4), 64, 64}
		gen = normal(1 / sdVAEScale)
	case name == "inputs_embeds": // Janus LM: one new token per sequence
		shape = []int{b, 1, declared(2, 2048)}
		gen = normal(0.02)
	case name == "attention_mask":
		shape = []int{b, p + 1}
		gen = func(int) float64 { return 1 }
	case name == "position_ids":
		shape = []int{b, 1}
		gen = func(int) float64 { return float64(p) }
	case strings.HasPrefix(name, "past_key_values.") || strings.HasPrefix(name, "past_key_") || strings.HasPrefix(name, "past_value_"):
		shape = []int{b, declared(1, 16), p, declared(3, 128)}
		gen = normal(0.1)
	case name == "hidden_states": // lm_head / gen_head
		shape = []int{b, 1, declared(2, 2048)}
		gen = normal(1)
	default:
		return nil, fmt.Errorf("fillweights: graph input %q: no rule for a realistic value (known: input_ids, sample, timestep, "+
			"encoder_hidden_states, latent_sample, inputs_embeds, attention_mask, position_ids, past_key_values.*, hidden_states)", in.name)
	}
	if len(in.dims) != 0 && len(in.dims) != len(shape) {
		return nil, fmt.Errorf("fillweights: graph input %q has rank %d, fillweights makes %v", in.name, len(in.dims), shape)
	}
	for i, d := range in.dims {
		if d.HasValue && int(d.Value) != shape[i] {
			return nil, fmt.Errorf("fillweights: graph input %q declares dim %d = %d, fillweights makes %v", in.name, i, d.Value, shape)
		}
	}
	t := tensor.New(in.dt, shape...)
	n := t.Numel()
	switch in.dt {
	case tensor.Float, tensor.Float16, tensor.BFloat16, tensor.Double:
		if err := encodeFloats(t.Bytes(), in.dt, func() func() float64 {
			i := 0
			return func() float64 { v := gen(i); i++; return v }
		}()); err != nil {
			return nil, fmt.Errorf("fillweights: graph input %q: %w", in.name, err)
		}
	case tensor.Int64:
		v := t.I64()
		for i := range n {
			v[i] = int64(gen(i))
		}
	case tensor.Int32:
		v := t.I32()
		for i := range n {
			v[i] = int32(gen(i))
		}
	default:
		return nil, fmt.Errorf("fillweights: graph input %q: dtype %s not supported", in.name, in.dt)
	}
	return t, nil
}

// writeInputs writes outDir/test_data_set_0/input_N.pb in graph input order.
func writeInputs(p *plan, outDir string, opt inputOptions, seed uint64) ([]string, error) {
	ins, err := graphInputs(p)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(outDir, "test_data_set_0")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("fillweights: %w", err)
	}
	var desc []string
	for i, in := range ins {
		t, err := makeInput(in, opt, seed)
		if err != nil {
			return nil, err
		}
		path := filepath.Join(dir, "input_"+strconv.Itoa(i)+".pb")
		if err := os.WriteFile(path, onnx.EncodeTensor(in.name, t), 0o644); err != nil {
			return nil, fmt.Errorf("fillweights: %w", err)
		}
		desc = append(desc, fmt.Sprintf("%s %s%v", in.name, in.dt, t.Shape()))
	}
	return desc, nil
}
