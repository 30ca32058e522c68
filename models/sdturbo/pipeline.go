package sdturbo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/models/internal/request"
	"github.com/txt2img/engine/onnx"
	"github.com/txt2img/engine/tensor"
)

// Constants of the one-step sampler (MODELS.md §1.7).
const (
	Timestep         = 999
	MaxTokens        = 77
	DefaultVAEFactor = 0.18215
	// RealSampleSize is the latent size of the published SD-Turbo UNet
	// (64×64 latents → 512×512 images); only that size is accepted for it.
	RealSampleSize = 64
)

// Tokenizer turns a prompt into CLIP token ids including BOS and EOS, unpadded
// and untruncated.
type Tokenizer interface {
	Encode(text string) ([]int, error)
}

// Stage names a pipeline phase for progress reports.
type Stage string

const (
	StageTokenizing Stage = "tokenizing"
	StageEncoding   Stage = "encoding"
	StageDenoising  Stage = "denoising"
	StageDecoding   Stage = "decoding"
)

// Options configure Load.
type Options struct {
	Tokenizer Tokenizer                           // required
	Graph     graph.Options                       // threads, backends, passes
	Trace     func(name string, t *tensor.Tensor) // optional: receives every intermediate tensor
}

// Pipeline holds the three SD-Turbo sessions.
type Pipeline struct {
	tok              Tokenizer
	models           []*onnx.Model
	te, unet, vae    *graph.Session
	channels, latent int // latent channels and size (square)
	imageSize        int
	vaeFactor        float64
	padID, bos, eos  int
	trace            func(string, *tensor.Tensor)
}

// ErrUnsupported marks a request the model cannot serve (size, empty prompt).
var ErrUnsupported = errors.New("sdturbo: unsupported option")

type unetConfig struct {
	SampleSize int `json:"sample_size"`
	InChannels int `json:"in_channels"`
}

type vaeConfig struct {
	BlockOut       []int   `json:"block_out_channels"`
	LatentChannels int     `json:"latent_channels"`
	ScalingFactor  float64 `json:"scaling_factor"`
}

// Load opens a model folder in the layout of the Hugging Face repo
// schmuell/sd-turbo-ort-web: text_encoder/, unet/, vae_decoder/ each with
// model.onnx (and config.json, read for the latent size and VAE factor).
func Load(dir string, opts Options) (*Pipeline, error) {
	if opts.Tokenizer == nil {
		return nil, errors.New("sdturbo: no tokenizer")
	}
	p := &Pipeline{tok: opts.Tokenizer, channels: 4, latent: RealSampleSize, vaeFactor: DefaultVAEFactor, eos: 49407, bos: 49406, trace: opts.Trace}
	var uc unetConfig
	if err := readJSON(filepath.Join(dir, "unet", "config.json"), &uc); err == nil {
		if uc.SampleSize > 0 {
			p.latent = uc.SampleSize
		}
		if uc.InChannels > 0 {
			p.channels = uc.InChannels
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	scale := 8
	var vc vaeConfig
	if err := readJSON(filepath.Join(dir, "vae_decoder", "config.json"), &vc); err == nil {
		if vc.ScalingFactor > 0 {
			p.vaeFactor = vc.ScalingFactor
		}
		if n := len(vc.BlockOut); n > 0 {
			scale = 1 << (n - 1)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	p.imageSize = p.latent * scale
	shapes := map[string][]int{
		"input_ids":     {1, MaxTokens},
		"sample":        {1, p.channels, p.latent, p.latent},
		"timestep":      {1},
		"latent_sample": {1, p.channels, p.latent, p.latent},
	}
	open := func(sub string) (*graph.Session, error) {
		m, err := onnx.Load(filepath.Join(dir, sub, "model.onnx"))
		if err != nil {
			return nil, fmt.Errorf("sdturbo: %s: %w", sub, err)
		}
		p.models = append(p.models, m)
		o := opts.Graph
		o.InputShapes = map[string][]int{}
		for _, in := range m.Graph.Inputs {
			if s, ok := shapes[in.Name]; ok {
				o.InputShapes[in.Name] = s
			}
		}
		s, err := graph.NewSession(m.Graph, o)
		if err != nil {
			return nil, fmt.Errorf("sdturbo: %s: %w", sub, err)
		}
		return s, nil
	}
	var err error
	if p.te, err = open("text_encoder"); err == nil {
		if p.unet, err = open("unet"); err == nil {
			p.vae, err = open("vae_decoder")
		}
	}
	if err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("sdturbo: %s: %w", path, err)
	}
	return nil
}

// ImageSize is the side of the square images this model makes (512 for the real one).
func (p *Pipeline) ImageSize() int { return p.imageSize }

// Close releases the sessions and unmaps the model files.
func (p *Pipeline) Close() error {
	var first error
	for _, s := range []*graph.Session{p.te, p.unet, p.vae} {
		if s != nil {
			s.Release()
		}
	}
	p.te, p.unet, p.vae = nil, nil, nil
	for _, m := range p.models {
		if err := m.Close(); err != nil && first == nil {
			first = err
		}
	}
	p.models = nil
	return first
}

// CheckRequest validates prompt and size. Width/height 0 mean the model's size.
func (p *Pipeline) CheckRequest(prompt string, width, height int) error {
	return request.Check(ErrUnsupported, prompt, width, height, p.imageSize)
}

// InputIDs tokenizes prompt into the 77-long id row: BOS, up to 75 content
// tokens, EOS, then padding with 0.
func (p *Pipeline) InputIDs(prompt string) ([]int64, error) {
	ids, err := p.tok.Encode(prompt)
	if err != nil {
		return nil, fmt.Errorf("sdturbo: tokenize: %w", err)
	}
	if len(ids) > MaxTokens {
		ids = append(append([]int(nil), ids[:MaxTokens-1]...), p.eos)
	}
	out := make([]int64, MaxTokens)
	for i := range out {
		out[i] = int64(p.padID)
	}
	for i, id := range ids {
		out[i] = int64(id)
	}
	return out, nil
}

// Generate makes one image. progress (may be nil) is told each stage start.
func (p *Pipeline) Generate(ctx context.Context, prompt string, seed uint32, width, height int, progress func(Stage)) (*image.RGBA, error) {
	if p.te == nil {
		return nil, errors.New("sdturbo: pipeline is closed")
	}
	if err := p.CheckRequest(prompt, width, height); err != nil {
		return nil, err
	}
	note := func(s Stage) {
		if progress != nil {
			progress(s)
		}
	}
	trace := func(name string, t *tensor.Tensor) {
		if p.trace != nil {
			p.trace(name, t)
		}
	}
	note(StageTokenizing)
	ids, err := p.InputIDs(prompt)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	note(StageEncoding)
	idsT := tensor.FromInt64s(inputDType(p.te, "input_ids", tensor.Int32), []int{1, MaxTokens}, ids)
	trace("input_ids", idsT)
	teOut, err := p.te.Run(ctx, map[string]*tensor.Tensor{"input_ids": idsT})
	if err != nil {
		return nil, fmt.Errorf("sdturbo: text encoder: %w", err)
	}
	hidden := teOut["last_hidden_state"]
	if hidden == nil {
		return nil, errors.New("sdturbo: text encoder has no last_hidden_state output")
	}
	trace("last_hidden_state", hidden)

	note(StageDenoising)
	n := p.channels * p.latent * p.latent
	lat := make([]float32, n)
	Latents(lat, seed)
	shape := []int{1, p.channels, p.latent, p.latent}
	trace("latents", tensor.FromSlice(tensor.Float, shape, lat))
	in := make([]float32, n)
	denom := math.Sqrt(Sigma*Sigma + 1)
	for i, v := range lat {
		in[i] = float32(float64(v) / denom)
	}
	sample := tensor.FromSlice(tensor.Float, shape, in)
	trace("unet_sample_in", sample)
	ts := tensor.FromInt64s(inputDType(p.unet, "timestep", tensor.Int64), []int{1}, []int64{Timestep})
	trace("timestep", ts)
	uOut, err := p.unet.Run(ctx, map[string]*tensor.Tensor{
		"sample": sample, "timestep": ts, "encoder_hidden_states": asDType(hidden, inputDType(p.unet, "encoder_hidden_states", tensor.Float)),
	})
	if err != nil {
		return nil, fmt.Errorf("sdturbo: unet: %w", err)
	}
	eps := uOut["out_sample"]
	if eps == nil {
		return nil, errors.New("sdturbo: unet has no out_sample output")
	}
	trace("out_sample", eps)
	e := eps.Float32s()
	x := make([]float32, n)
	for i := range x {
		x[i] = float32((float64(lat[i]) - Sigma*float64(e[i])) / p.vaeFactor)
	}
	vin := tensor.FromSlice(tensor.Float, shape, x)
	trace("vae_latent_in", vin)

	note(StageDecoding)
	vOut, err := p.vae.Run(ctx, map[string]*tensor.Tensor{"latent_sample": vin})
	if err != nil {
		return nil, fmt.Errorf("sdturbo: vae decoder: %w", err)
	}
	img := vOut["sample"]
	if img == nil {
		return nil, errors.New("sdturbo: vae decoder has no sample output")
	}
	trace("vae_sample_out", img)
	return toRGBA(img)
}

// toRGBA maps a [1,3,H,W] image in [-1,1] to 8-bit RGBA:
// byte = round-half-up(clamp(x/2 + 0.5, 0, 1)·255) in float64.
func toRGBA(t *tensor.Tensor) (*image.RGBA, error) {
	s := t.Shape()
	if len(s) != 4 || s[0] != 1 || s[1] != 3 {
		return nil, fmt.Errorf("sdturbo: vae output shape %v, want [1,3,H,W]", s)
	}
	h, w := s[2], s[3]
	v := t.Float32s()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	plane := h * w
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			o := img.PixOffset(x, y)
			for c := 0; c < 3; c++ {
				f := float64(v[c*plane+y*w+x])/2 + 0.5
				f = math.Min(math.Max(f, 0), 1)
				img.Pix[o+c] = uint8(math.Floor(f*255 + 0.5))
			}
			img.Pix[o+3] = 255
		}
	}
	return img, nil
}

func inputDType(s *graph.Session, name string, def tensor.DType) tensor.DType {
	for _, in := range s.Graph().Inputs {
		if in.Name == name && in.Type.DType != tensor.Undefined {
			return in.Type.DType
		}
	}
	return def
}

// asDType converts t to dt when the next graph declares another float type.
func asDType(t *tensor.Tensor, dt tensor.DType) *tensor.Tensor {
	if t.DType() == dt {
		return t
	}
	return tensor.FromFloat64s(dt, t.Shape(), t.Float64s())
}
