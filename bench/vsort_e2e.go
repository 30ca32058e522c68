package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/txt2img/engine/onnx"
	"github.com/txt2img/engine/tensor"
)

// Full-size graph folders (as cmd/fillweights writes them under -fullsize
// DIR, named like shared/testdata/fullsize-graphs): DIR/NAME/model.onnx.
const (
	SDTextEncoderDir = "sd_turbo_text_encoder_web_fp16"
	SDUNetDir        = "sd_turbo_unet_web_fp16"
	SDVAEDir         = "sd_turbo_vae_decoder_web_fp16"
	JanusLMQ4Dir     = "janus_pro_1b_language_model_q4"
	JanusLMQ4F16Dir  = "janus_pro_1b_language_model_q4f16"
	JanusLMFP32Dir   = "janus_pro_1b_language_model_plain"
)

// Names of the e2e cases.
const (
	E2ESDName         = "e2e/sd_turbo_web_fp16_total"
	E2EJanusName      = "e2e/janus_lm_q4_decode_b2"
	E2EJanusQ4F16Name = "e2e/janus_lm_q4f16_decode_b2"
	E2EJanusFP32Name  = "e2e/janus_lm_fp32_decode_b2"
)

// E2ENames lists every e2e case name, for -list and -cases.
var E2ENames = []string{E2ESDName, E2EJanusName, E2EJanusQ4F16Name, E2EJanusFP32Name}

// SDTurboDims fixes the symbolic dims of the SD-Turbo graphs for one 512²
// image (latent 64², 77 tokens).
var SDTurboDims = map[string]int{
	"batch_size": 1, "sequence_length": 77, "num_channels": 4, "height": 64, "width": 64, "steps": 1,
	"num_channels_latent": 4, "height_latent": 64, "width_latent": 64,
}

// JanusDecodeDims fixes the Janus language model's dims for one decode step
// of a CFG batch of 2 with past tokens already in the KV cache.
func JanusDecodeDims(past int) map[string]int {
	return map[string]int{"batch_size": 2, "sequence_length": 1, "past_sequence_length": past, "total_sequence_length": past + 1}
}

// JanusDecodePast is the KV-cache length of the e2e decode step: a typical
// prompt plus half of the 576 image tokens.
const JanusDecodePast = 320

// modelFile finds NAME/model.onnx (or NAME.onnx) under root.
func modelFile(root, name string) (string, error) {
	for _, p := range []string{filepath.Join(root, name, "model.onnx"), filepath.Join(root, name+".onnx")} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("bench: %s: no %s/model.onnx", root, name)
}

// SynthInputs makes inputs for every graph input of the model file, fixing
// symbolic dims from dims. Values: input_ids random token ids (< 49408),
// timestep 999, attention_mask ones, position_ids past…past+len−1, floats
// uniform in [−1, 1).
func SynthInputs(path string, dims map[string]int) ([]Input, error) {
	m, err := onnx.Load(path)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	r := rng(uint64(len(path)))
	var ins []Input
	for _, vi := range m.Graph.Inputs {
		if _, isInit := m.Graph.Initializers[vi.Name]; isInit {
			continue
		}
		vt := vi.Type
		if !vt.HasShape {
			return nil, fmt.Errorf("bench: %s: input %s has no shape", path, vi.Name)
		}
		shape := make([]int, len(vt.Shape))
		for i, d := range vt.Shape {
			if d >= 0 {
				shape[i] = d
				continue
			}
			p := ""
			if i < len(vt.Params) {
				p = vt.Params[i]
			}
			v, ok := dims[p]
			if !ok {
				return nil, fmt.Errorf("bench: %s: input %s dim %d (%q) has no value", path, vi.Name, i, p)
			}
			shape[i] = v
		}
		n := numel(shape)
		vals := make([]float64, n)
		name := strings.ToLower(vi.Name)
		switch {
		case strings.Contains(name, "input_ids"):
			for i := range vals {
				vals[i] = float64(r.IntN(49408))
			}
		case name == "timestep":
			for i := range vals {
				vals[i] = 999
			}
		case strings.Contains(name, "attention_mask"):
			for i := range vals {
				vals[i] = 1
			}
		case strings.Contains(name, "position_ids"):
			last := shape[len(shape)-1]
			for i := range vals {
				vals[i] = float64(dims["past_sequence_length"] + i%last)
			}
		default:
			if !vt.DType.IsFloat() {
				return nil, fmt.Errorf("bench: %s: no values for %s input %s", path, vt.DType, vi.Name)
			}
			for i := range vals {
				vals[i] = float64(2*r.Float32() - 1)
			}
		}
		ins = append(ins, Input{vi.Name, tensor.FromFloat64s(vt.DType, shape, vals)})
	}
	return ins, nil
}

// e2ePart builds one part (one model file) of an e2e case.
func e2ePart(root, name string, dims map[string]int) (*Case, error) {
	p, err := modelFile(root, name)
	if err != nil {
		return nil, err
	}
	ins, err := SynthInputs(p, dims)
	if err != nil {
		return nil, err
	}
	return &Case{Name: name, ModelPath: p, Inputs: ins}, nil
}

// E2ECases returns the e2e cases found under root. A case whose files are
// missing or unreadable is left out, with a note saying why.
func E2ECases(root string) (cases []*Case, notes []string) {
	sd := &Case{Name: E2ESDName, Note: "text encoder + UNet (1 step) + VAE decoder, 512x512, sum of per-model medians"}
	for _, n := range []string{SDTextEncoderDir, SDUNetDir, SDVAEDir} {
		p, err := e2ePart(root, n, SDTurboDims)
		if err != nil {
			notes = append(notes, fmt.Sprintf("skip %s: %v", sd.Name, err))
			sd = nil
			break
		}
		sd.Parts = append(sd.Parts, p)
	}
	if sd != nil {
		cases = append(cases, sd)
	}
	for _, v := range []struct{ dir, name, what string }{
		{JanusLMQ4Dir, E2EJanusName, "q4"},
		{JanusLMQ4F16Dir, E2EJanusQ4F16Name, "q4f16 (fp16 KV cache)"},
		{JanusLMFP32Dir, E2EJanusFP32Name, "fp32"},
	} {
		p, err := e2ePart(root, v.dir, JanusDecodeDims(JanusDecodePast))
		if err != nil {
			notes = append(notes, fmt.Sprintf("skip %s: %v", v.name, err))
			continue
		}
		p.Name = v.name
		p.Note = fmt.Sprintf("language model %s, one decode step, batch 2 (CFG), past %d; a 576-token image is ≈ 576 such steps", v.what, JanusDecodePast)
		cases = append(cases, p)
	}
	return cases, notes
}
