package janus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/models/internal/request"
	"github.com/txt2img/engine/onnx"
	"github.com/txt2img/engine/tensor"
)

// Sub-model names (the Transformers.js MultiModalityCausalLM sessions).
const (
	PrepareInputsEmbeds = "prepare_inputs_embeds"
	LanguageModel       = "language_model"
	GenHead             = "gen_head"
	GenImgEmbeds        = "gen_img_embeds"
	ImageDecode         = "image_decode"
)

// SubModels lists the sub-models the text-to-image path runs (lm_head is not used).
var SubModels = []string{PrepareInputsEmbeds, LanguageModel, GenHead, GenImgEmbeds, ImageDecode}

// DTypes maps a variant name to its file suffix (Transformers.js naming:
// fp32 → X.onnx, fp16 → X_fp16.onnx, …; q8 is an alias of quantized).
var DTypes = map[string]string{
	"fp32": "", "fp16": "_fp16", "q4": "_q4", "q4f16": "_q4f16", "int8": "_int8",
	"uint8": "_uint8", "quantized": "_quantized", "q8": "_quantized", "bnb4": "_bnb4",
}

// DefaultVariants are the CPU defaults: a 4-bit language model and
// prepare_inputs_embeds (only its token embedding runs for text-to-image),
// fp16 weights (half the download, widened while packing) elsewhere.
var DefaultVariants = map[string]string{
	PrepareInputsEmbeds: "q4",
	LanguageModel:       "q4",
	GenHead:             "fp16",
	GenImgEmbeds:        "fp16",
	ImageDecode:         "fp16",
}

// FileName is the repository path of a sub-model variant ("onnx/gen_head_fp16.onnx").
func FileName(sub, dtype string) (string, error) {
	suf, ok := DTypes[dtype]
	if !ok {
		return "", fmt.Errorf("janus: unknown dtype %q for %s (one of fp32, fp16, q4, q4f16, int8, uint8, quantized, bnb4)", dtype, sub)
	}
	if !isSubModel(sub) && sub != "lm_head" {
		return "", fmt.Errorf("janus: unknown sub-model %q (one of %s)", sub, strings.Join(SubModels, ", "))
	}
	return "onnx/" + sub + suf + ".onnx", nil
}

func isSubModel(s string) bool {
	for _, x := range SubModels {
		if x == s {
			return true
		}
	}
	return false
}

// ParseDType parses a dtype spec: a default dtype and optional per-sub-model
// overrides, comma-separated: "fp32", "fp32,language_model=q4",
// "language_model=q4f16". The result maps every sub-model to a dtype
// (DefaultVariants where the spec names neither a default nor the sub-model).
func ParseDType(spec string) (map[string]string, error) {
	out := map[string]string{}
	def := ""
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if k, v, ok := strings.Cut(part, "="); ok {
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if _, err := FileName(k, v); err != nil {
				return nil, err
			}
			out[k] = v
			continue
		}
		if _, ok := DTypes[part]; !ok {
			return nil, fmt.Errorf("janus: unknown dtype %q in %q", part, spec)
		}
		if def != "" {
			return nil, fmt.Errorf("janus: two default dtypes in %q", spec)
		}
		def = part
	}
	return Resolve(def, out)
}

// Resolve fills a variant map: overrides first, then def (if not ""), then DefaultVariants.
func Resolve(def string, overrides map[string]string) (map[string]string, error) {
	if def != "" {
		if _, ok := DTypes[def]; !ok {
			return nil, fmt.Errorf("janus: unknown dtype %q", def)
		}
	}
	out := map[string]string{}
	for _, s := range SubModels {
		switch {
		case overrides[s] != "":
			out[s] = overrides[s]
		case def != "":
			out[s] = def
		default:
			out[s] = DefaultVariants[s]
		}
		if _, err := FileName(s, out[s]); err != nil {
			return nil, err
		}
	}
	for k := range overrides {
		if !isSubModel(k) {
			return nil, fmt.Errorf("janus: unknown sub-model %q (one of %s)", k, strings.Join(SubModels, ", "))
		}
	}
	return out, nil
}

// Tokenizer encodes text; added (special) tokens in the text are matched
// whatever addSpecial says; addSpecial adds the post-processor's tokens (BOS).
type Tokenizer interface {
	EncodeSpecial(text string, addSpecial bool) ([]int, error)
}

// UncondMode selects the unconditional row of classifier-free guidance.
type UncondMode int

const (
	// UncondPad is the original Janus row: the prompt ids with every id but
	// the first (BOS) and the last (<begin_of_image>) replaced by pad, fully attended.
	UncondPad UncondMode = iota
	// UncondMasked is Transformers.js' row: all pad with attention mask 0 at
	// the prompt (position ids 1 there), attending only to image tokens.
	UncondMasked
)

// Options configure Load.
type Options struct {
	Tokenizer Tokenizer         // required
	Variants  map[string]string // sub-model → dtype; nil or missing entries: DefaultVariants
	Graph     graph.Options
	Trace     func(name string, t *tensor.Tensor) // optional: intermediate tensors
}

// GenOptions are the per-image settings.
type GenOptions struct {
	Guidance float64 // CFG weight g: uncond + g·(cond − uncond); 1 skips the unconditional row
	Sampling
	Seed   uint64
	Uncond UncondMode
}

// Event is a progress report: a stage, and for StageImageTokens the count so far.
type Event struct {
	Stage         Stage
	Tokens, Total int
}

// Stage names a pipeline phase.
type Stage string

const (
	StageTokenizing  Stage = "tokenizing"
	StageImageTokens Stage = "image_tokens"
	StageDecoding    Stage = "decoding"
)

// ErrUnsupported marks a request the model cannot serve.
var ErrUnsupported = errors.New("janus: unsupported option")

// Pipeline holds the five sessions and the folder's settings.
type Pipeline struct {
	tok      Tokenizer
	models   []*onnx.Model
	sess     map[string]*graph.Session
	variants map[string]string
	trace    func(string, *tensor.Tensor)

	bos, pad, beginImage int
	numTokens            int // image tokens per image
	codebook             int // gen_head output dim
	imageSize            int
	template             string // text_to_image chat template ("" → DeepSeek format)
	imageStartTag        string
	systemPrompt         string
	layers               []string // past_key_values.* input names of the language model
	kvHeads, headDim     int
	hasPositionIDs       bool
	visionImage          int  // preprocessor_config.json image_size (understanding path)
	dummyImage           bool // prepare_inputs_embeds refused an empty image batch once
}

// Load opens a model folder in the layout of onnx-community/Janus-Pro-1B-ONNX.
func Load(dir string, opts Options) (*Pipeline, error) {
	if opts.Tokenizer == nil {
		return nil, errors.New("janus: no tokenizer")
	}
	vars, err := Resolve("", opts.Variants)
	if err != nil {
		return nil, err
	}
	p := &Pipeline{tok: opts.Tokenizer, sess: map[string]*graph.Session{}, variants: vars, trace: opts.Trace, imageStartTag: "<begin_of_image>"}
	if err := p.readConfig(dir); err != nil {
		return nil, err
	}
	for _, sub := range SubModels {
		name, _ := FileName(sub, vars[sub])
		path := filepath.Join(dir, filepath.FromSlash(name))
		if _, err := os.Stat(path); err != nil {
			p.Close()
			return nil, fmt.Errorf("janus: %s variant %q: %s is missing (present: %s)", sub, vars[sub], path, presentVariants(dir, sub))
		}
		m, err := onnx.Load(path)
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("janus: %s: %w", name, err)
		}
		p.models = append(p.models, m)
		o := opts.Graph
		o.InputShapes = nil
		if sub == ImageDecode {
			o.InputShapes = map[string][]int{"generated_tokens": {1, p.numTokens}}
		}
		s, err := graph.NewSession(m.Graph, o)
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("janus: %s: %w", name, err)
		}
		p.sess[sub] = s
	}
	if err := p.inspectGraphs(); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func presentVariants(dir, sub string) string {
	var have []string
	for dt, suf := range DTypes {
		if dt == "q8" {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "onnx", sub+suf+".onnx")); err == nil {
			have = append(have, dt)
		}
	}
	if len(have) == 0 {
		return "none"
	}
	sort.Strings(have)
	return strings.Join(have, ", ")
}

type genConfig struct {
	BOS            *int `json:"bos_token_id"`
	Pad            *int `json:"pad_token_id"`
	NumImageTokens int  `json:"num_image_tokens"`
}

type procConfig struct {
	ImageStartTag  string `json:"image_start_tag"`
	NumImageTokens int    `json:"num_image_tokens"`
	SystemPrompt   string `json:"system_prompt"`
}

type modelConfig struct {
	ImageSize      int  `json:"image_size"`
	NumImageTokens int  `json:"num_image_tokens"`
	ImageTokenSize int  `json:"image_token_size"`
	BeginImage     *int `json:"begin_image_token_id"`
	Language       struct {
		Hidden  int  `json:"hidden_size"`
		Heads   int  `json:"num_attention_heads"`
		KVHeads int  `json:"num_key_value_heads"`
		BOS     *int `json:"bos_token_id"`
		Pad     *int `json:"pad_token_id"`
	} `json:"language_config"`
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("janus: %s: %w", path, err)
	}
	return nil
}

func optional(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// readConfig reads ids and sizes from generation_config.json,
// processor_config.json, config.json and tokenizer_config.json; the
// tokenizer fills what they leave out.
func (p *Pipeline) readConfig(dir string) error {
	var gc genConfig
	var pc procConfig
	var mc modelConfig
	if err := optional(readJSON(filepath.Join(dir, "generation_config.json"), &gc)); err != nil {
		return err
	}
	if err := optional(readJSON(filepath.Join(dir, "processor_config.json"), &pc)); err != nil {
		return err
	}
	if err := optional(readJSON(filepath.Join(dir, "config.json"), &mc)); err != nil {
		return err
	}
	tmpl, err := readTemplate(filepath.Join(dir, "tokenizer_config.json"))
	if err != nil {
		return err
	}
	p.template = tmpl
	if pc.ImageStartTag != "" {
		p.imageStartTag = pc.ImageStartTag
	}
	p.systemPrompt = pc.SystemPrompt
	tokID := func(tok string) (int, bool) {
		if t, ok := p.tok.(interface{ TokenID(string) (int, bool) }); ok {
			return t.TokenID(tok)
		}
		return 0, false
	}
	pick := func(name string, vals []*int, tok string) (int, error) {
		for _, v := range vals {
			if v != nil {
				return *v, nil
			}
		}
		if id, ok := tokID(tok); ok {
			return id, nil
		}
		return 0, fmt.Errorf("janus: %s: no id in generation_config.json or config.json, and the tokenizer has no %q", name, tok)
	}
	if p.bos, err = pick("BOS", []*int{gc.BOS, mc.Language.BOS}, "<｜begin▁of▁sentence｜>"); err != nil {
		return err
	}
	if p.pad, err = pick("pad", []*int{gc.Pad, mc.Language.Pad}, "<｜▁pad▁｜>"); err != nil {
		return err
	}
	var bi *int
	if id, ok := tokID(p.imageStartTag); ok {
		bi = &id
	}
	if p.beginImage, err = pick("begin of image", []*int{bi, mc.BeginImage}, p.imageStartTag); err != nil {
		return err
	}
	for _, n := range []int{pc.NumImageTokens, gc.NumImageTokens, mc.NumImageTokens} {
		if n > 0 {
			p.numTokens = n
			break
		}
	}
	if p.numTokens == 0 {
		p.numTokens = 576
	}
	side := int(math.Round(math.Sqrt(float64(p.numTokens))))
	p.imageSize = mc.ImageSize
	if p.imageSize <= 0 {
		p.imageSize = side * 16
	}
	p.codebook = mc.ImageTokenSize
	var pp struct {
		ImageSize int `json:"image_size"`
	}
	if err := optional(readJSON(filepath.Join(dir, "preprocessor_config.json"), &pp)); err != nil {
		return err
	}
	p.visionImage = pp.ImageSize
	if l := mc.Language; l.Heads > 0 && l.Hidden > 0 {
		p.kvHeads, p.headDim = l.Heads, l.Hidden/l.Heads
		if l.KVHeads > 0 {
			p.kvHeads = l.KVHeads
		}
	}
	return nil
}

// readTemplate returns the text_to_image chat template of tokenizer_config.json, if any.
func readTemplate(path string) (string, error) {
	var tc struct {
		ChatTemplate json.RawMessage `json:"chat_template"`
	}
	if err := readJSON(path, &tc); err != nil {
		return "", optional(err)
	}
	if len(tc.ChatTemplate) == 0 {
		return "", nil
	}
	var list []struct{ Name, Template string }
	if err := json.Unmarshal(tc.ChatTemplate, &list); err == nil {
		for _, t := range list {
			if t.Name == "text_to_image" {
				return t.Template, nil
			}
		}
		return "", nil
	}
	var named map[string]string
	if err := json.Unmarshal(tc.ChatTemplate, &named); err == nil {
		return named["text_to_image"], nil
	}
	return "", nil // a single default template: not the text-to-image one
}

func inputOf(s *graph.Session, name string) (graph.ValueInfo, bool) {
	for _, in := range s.Graph().Inputs {
		if in.Name == name {
			return in, true
		}
	}
	return graph.ValueInfo{}, false
}

// inspectGraphs reads the KV layout and the codebook size from the graphs.
func (p *Pipeline) inspectGraphs() error {
	lm := p.sess[LanguageModel]
	for _, in := range lm.Graph().Inputs {
		if strings.HasPrefix(in.Name, "past_key_values.") {
			p.layers = append(p.layers, in.Name)
			if s := in.Type.Shape; in.Type.HasShape && len(s) == 4 {
				if s[1] > 0 {
					p.kvHeads = s[1]
				}
				if s[3] > 0 {
					p.headDim = s[3]
				}
			}
		}
		if in.Name == "position_ids" {
			p.hasPositionIDs = true
		}
	}
	if len(p.layers) > 0 && (p.kvHeads <= 0 || p.headDim <= 0) {
		return errors.New("janus: language_model: the KV cache shape is neither in the graph nor in config.json")
	}
	for _, need := range []struct{ sub, in, out string }{
		{PrepareInputsEmbeds, "input_ids", "inputs_embeds"}, {LanguageModel, "inputs_embeds", "hidden_states"},
		{GenHead, "hidden_states", "logits"}, {GenImgEmbeds, "image_ids", "inputs_embeds"}, {ImageDecode, "generated_tokens", "decoded_image"},
	} {
		s := p.sess[need.sub]
		if _, ok := inputOf(s, need.in); !ok {
			return fmt.Errorf("janus: %s has no input %q", need.sub, need.in)
		}
		found := false
		for _, o := range s.Graph().Outputs {
			if o.Name == need.out {
				found = true
				if need.sub == GenHead && o.Type.HasShape && len(o.Type.Shape) == 3 && o.Type.Shape[2] > 0 {
					if p.codebook > 0 && p.codebook != o.Type.Shape[2] {
						return fmt.Errorf("janus: gen_head makes %d logits, config.json says image_token_size %d", o.Type.Shape[2], p.codebook)
					}
					p.codebook = o.Type.Shape[2]
				}
			}
		}
		if !found {
			return fmt.Errorf("janus: %s has no output %q", need.sub, need.out)
		}
	}
	return nil
}

// ImageSize is the side of the square images (384 for Janus-Pro-1B).
func (p *Pipeline) ImageSize() int { return p.imageSize }

// NumImageTokens is the number of image tokens per image (576 for Janus-Pro-1B).
func (p *Pipeline) NumImageTokens() int { return p.numTokens }

// Variants returns the dtype of each sub-model in use.
func (p *Pipeline) Variants() map[string]string {
	out := map[string]string{}
	for k, v := range p.variants {
		out[k] = v
	}
	return out
}

// Close releases the sessions and unmaps the model files.
func (p *Pipeline) Close() error {
	for _, s := range p.sess {
		s.Release()
	}
	p.sess = map[string]*graph.Session{}
	var first error
	for _, m := range p.models {
		if err := m.Close(); err != nil && first == nil {
			first = err
		}
	}
	p.models = nil
	return first
}

// CheckRequest validates prompt and size (0 means the model's size).
func (p *Pipeline) CheckRequest(prompt string, width, height int) error {
	return request.Check(ErrUnsupported, prompt, width, height, p.imageSize)
}

// PromptText is the text-to-image prompt string: the folder's text_to_image
// chat template if it has one, else the DeepSeek format
// "<|User|>: {prompt}\n\n<|Assistant|>:<begin_of_image>" (BOS is added as an id).
func (p *Pipeline) PromptText(prompt string) (string, error) {
	if p.template == "" {
		sys := ""
		if p.systemPrompt != "" {
			sys = p.systemPrompt + "\n\n"
		}
		return sys + "<|User|>: " + prompt + "\n\n<|Assistant|>:" + p.imageStartTag, nil
	}
	return RenderTemplate(p.template, map[string]any{
		"messages":              []any{map[string]any{"role": "<|User|>", "content": prompt}},
		"add_generation_prompt": true,
		"bos_token":             tokenString(p.tok, p.bos),
		"image_start_tag":       p.imageStartTag,
		"system_prompt":         p.systemPrompt,
	})
}

func tokenString(tok Tokenizer, id int) string {
	if t, ok := tok.(interface{ Token(int) (string, bool) }); ok {
		if s, ok := t.Token(id); ok {
			return s
		}
	}
	return ""
}

// PromptIDs returns the conditional and unconditional id rows.
func (p *Pipeline) PromptIDs(prompt string, mode UncondMode) (cond, uncond []int64, err error) {
	text, err := p.PromptText(prompt)
	if err != nil {
		return nil, nil, err
	}
	bosText := tokenString(p.tok, p.bos)
	hasBOS := bosText != "" && strings.HasPrefix(text, bosText)
	ids, err := p.tok.EncodeSpecial(text, false)
	if err != nil {
		return nil, nil, fmt.Errorf("janus: tokenize: %w", err)
	}
	if !hasBOS {
		cond = append(cond, int64(p.bos))
	}
	for _, id := range ids {
		cond = append(cond, int64(id))
	}
	uncond = make([]int64, len(cond))
	for i := range uncond {
		uncond[i] = int64(p.pad)
	}
	if mode == UncondPad {
		uncond[0], uncond[len(cond)-1] = cond[0], cond[len(cond)-1]
	}
	return cond, uncond, nil
}

// Generate makes one image. progress (may be nil) is told each stage and
// every image token. ctx is checked between graph nodes and between tokens.
func (p *Pipeline) Generate(ctx context.Context, prompt string, g GenOptions, progress func(Event)) (*image.RGBA, error) {
	if p.sess[LanguageModel] == nil {
		return nil, errors.New("janus: pipeline is closed")
	}
	if err := p.CheckRequest(prompt, 0, 0); err != nil {
		return nil, err
	}
	if math.IsNaN(g.Guidance) || math.IsInf(g.Guidance, 0) || g.Temperature < 0 || math.IsNaN(g.Temperature) || g.TopK < 0 || g.TopP < 0 || math.IsNaN(g.TopP) {
		return nil, fmt.Errorf("%w: guidance %v, temperature %v, top-k %d, top-p %v", ErrUnsupported, g.Guidance, g.Temperature, g.TopK, g.TopP)
	}
	note := func(e Event) {
		if progress != nil {
			progress(e)
		}
	}
	trace := func(name string, t *tensor.Tensor) {
		if p.trace != nil {
			p.trace(name, t)
		}
	}
	note(Event{Stage: StageTokenizing})
	cond, uncond, err := p.PromptIDs(prompt, g.Uncond)
	if err != nil {
		return nil, err
	}
	T := len(cond)
	rows := 2
	if g.Guidance == 1 {
		rows = 1 // uncond + 1·(cond − uncond) = cond: skip the unconditional row
	}
	ids := append([]int64(nil), cond...)
	mask := make([]int64, 0, rows*T)
	pos := make([]int64, 0, rows*T)
	for i := 0; i < T; i++ {
		mask = append(mask, 1)
		pos = append(pos, int64(i))
	}
	if rows == 2 {
		ids = append(ids, uncond...)
		for i := 0; i < T; i++ {
			if g.Uncond == UncondMasked {
				mask = append(mask, 0)
				pos = append(pos, 1)
			} else {
				mask = append(mask, 1)
				pos = append(pos, int64(i))
			}
		}
	}
	idsT := tensor.FromSlice(tensor.Int64, []int{rows, T}, ids)
	trace("input_ids", idsT)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	note(Event{Stage: StageImageTokens, Total: p.numTokens})
	embeds, err := p.prepareEmbeds(ctx, idsT)
	if err != nil {
		return nil, err
	}
	trace("prefill_inputs_embeds", embeds)

	lm := p.sess[LanguageModel]
	// The KV cache starts empty with room for the whole sequence: each
	// step's Concat appends into the room and present.* are views of the
	// same buffers, so no step copies the past (see tensor.NewWithRoom).
	past := map[string]*tensor.Tensor{}
	for _, name := range p.layers {
		vi, _ := inputOf(lm, name)
		kv, err := tensor.NewWithRoom(floatType(vi, tensor.Float), []int{rows, p.kvHeads, 0, p.headDim}, 2, T+p.numTokens)
		if err != nil {
			return nil, err
		}
		past[name] = kv
	}
	rng := NewRNG(g.Seed)
	tokens := make([]int64, p.numTokens)
	total := T
	mixed := make([]float32, 0)
	for step := 0; step < p.numTokens; step++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		seq := embeds.Shape()[1]
		in := map[string]*tensor.Tensor{
			"inputs_embeds":  asType(embeds, inputType(lm, "inputs_embeds", tensor.Float)),
			"attention_mask": tensor.FromSlice(tensor.Int64, []int{rows, total}, mask),
		}
		if p.hasPositionIDs {
			in["position_ids"] = tensor.FromSlice(tensor.Int64, []int{rows, seq}, pos)
		}
		for k, v := range past {
			in[k] = v
		}
		out, err := lm.Run(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("janus: language_model: %w", err)
		}
		for _, name := range p.layers {
			pr := out["present"+strings.TrimPrefix(name, "past_key_values")]
			if pr == nil {
				return nil, fmt.Errorf("janus: language_model has no output for %s", name)
			}
			past[name] = pr
		}
		hs := out["hidden_states"]
		last, err := lastPosition(hs)
		if err != nil {
			return nil, err
		}
		gh := p.sess[GenHead]
		lo, err := gh.Run(ctx, map[string]*tensor.Tensor{"hidden_states": asType(last, inputType(gh, "hidden_states", tensor.Float))})
		if err != nil {
			return nil, fmt.Errorf("janus: gen_head: %w", err)
		}
		logits := lo["logits"]
		if logits == nil || logits.Numel()%rows != 0 {
			return nil, errors.New("janus: gen_head gave no usable logits")
		}
		v := logits.Float32s()
		n := len(v) / rows
		mixed = mixed[:0]
		if rows == 1 {
			mixed = append(mixed, v...)
		} else {
			gw := float32(g.Guidance)
			for j := 0; j < n; j++ {
				c, u := v[j], v[n+j]
				// float32 per operation; the conversion forbids an FMA.
				mixed = append(mixed, u+float32(gw*(c-u)))
			}
		}
		trace(fmt.Sprintf("mixed_logits.%d", step), tensor.FromSlice(tensor.Float, []int{1, n}, append([]float32(nil), mixed...)))
		tok, err := Sample(mixed, g.Sampling, rng)
		if err != nil {
			return nil, err
		}
		tokens[step] = int64(tok)
		note(Event{Stage: StageImageTokens, Tokens: step + 1, Total: p.numTokens})
		if step == p.numTokens-1 {
			break
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ge := p.sess[GenImgEmbeds]
		img := make([]int64, rows)
		for r := range img {
			img[r] = int64(tok)
		}
		eo, err := ge.Run(ctx, map[string]*tensor.Tensor{"image_ids": tensor.FromSlice(tensor.Int64, []int{rows, 1}, img)})
		if err != nil {
			return nil, fmt.Errorf("janus: gen_img_embeds: %w", err)
		}
		if embeds = eo["inputs_embeds"]; embeds == nil {
			return nil, errors.New("janus: gen_img_embeds has no inputs_embeds output")
		}
		// Grow the mask by a column of ones; the new position is the count of
		// attended positions minus one (cumsum(mask) − 1, as Transformers.js).
		nm := make([]int64, 0, rows*(total+1))
		pos = pos[:0]
		for r := 0; r < rows; r++ {
			row := mask[r*total : (r+1)*total]
			nm = append(nm, row...)
			nm = append(nm, 1)
			var cnt int64
			for _, m := range row {
				cnt += m
			}
			pos = append(pos, cnt)
		}
		mask, total = nm, total+1
	}
	genT := tensor.FromSlice(tensor.Int64, []int{1, p.numTokens}, tokens)
	trace("generated_tokens", genT)
	note(Event{Stage: StageDecoding, Tokens: p.numTokens, Total: p.numTokens})
	return p.Decode(ctx, tokens)
}

// Decode runs image_decode on one row of image tokens and converts to RGBA.
func (p *Pipeline) Decode(ctx context.Context, tokens []int64) (*image.RGBA, error) {
	dec := p.sess[ImageDecode]
	do, err := dec.Run(ctx, map[string]*tensor.Tensor{"generated_tokens": tensor.FromSlice(tensor.Int64, []int{1, len(tokens)}, tokens)})
	if err != nil {
		return nil, fmt.Errorf("janus: image_decode: %w", err)
	}
	img := do["decoded_image"]
	if img == nil {
		return nil, errors.New("janus: image_decode has no decoded_image output")
	}
	if p.trace != nil {
		p.trace("decoded_image", img)
	}
	return ToRGBA(img)
}

// prepareEmbeds runs prepare_inputs_embeds with no image: an empty image
// batch where the graph accepts one, else one all-zero image per row with
// every mask false (which yields the plain token embeddings).
func (p *Pipeline) prepareEmbeds(ctx context.Context, ids *tensor.Tensor) (*tensor.Tensor, error) {
	s := p.sess[PrepareInputsEmbeds]
	rows, T := ids.Shape()[0], ids.Shape()[1]
	in := map[string]*tensor.Tensor{"input_ids": ids}
	if _, ok := inputOf(s, "images_seq_mask"); ok {
		in["images_seq_mask"] = tensor.New(tensor.Bool, rows, T)
	}
	pv, hasPV := inputOf(s, "pixel_values")
	em, hasEM := inputOf(s, "images_emb_mask")
	ch, hw := 3, p.imageSize
	if pv.Type.HasShape && len(pv.Type.Shape) == 5 {
		if d := pv.Type.Shape[2]; d > 0 {
			ch = d
		}
		if d := pv.Type.Shape[3]; d > 0 {
			hw = d
		}
	}
	nTok := p.numTokens
	if em.Type.HasShape && len(em.Type.Shape) == 3 && em.Type.Shape[2] > 0 {
		nTok = em.Type.Shape[2]
	}
	run := func(nImg, side int) (*tensor.Tensor, error) {
		if hasPV {
			in["pixel_values"] = tensor.New(floatType(pv, tensor.Float), rows, nImg, ch, side, side)
		}
		if hasEM {
			in["images_emb_mask"] = tensor.New(tensor.Bool, rows, nImg, nTok)
		}
		out, err := s.Run(ctx, in)
		if err != nil {
			return nil, err
		}
		e := out["inputs_embeds"]
		if e == nil {
			return nil, errors.New("janus: prepare_inputs_embeds has no inputs_embeds output")
		}
		return e, nil
	}
	if !hasPV {
		e, err := run(0, 0)
		if err != nil {
			return nil, fmt.Errorf("janus: prepare_inputs_embeds: %w", err)
		}
		return e, nil
	}
	var err error
	if !p.dummyImage {
		var e *tensor.Tensor
		if e, err = run(0, hw); err == nil {
			return e, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		p.dummyImage = true
	}
	// The vision tower could not take an empty batch: one dummy image, the
	// tower's own input size (the understanding path's, from the graph).
	side := hw
	if pv.Type.HasShape && len(pv.Type.Shape) == 5 && pv.Type.Shape[3] <= 0 {
		side = p.visionSize()
	}
	e, err2 := run(1, side)
	if err2 != nil {
		if err == nil {
			return nil, fmt.Errorf("janus: prepare_inputs_embeds: %w", err2)
		}
		return nil, fmt.Errorf("janus: prepare_inputs_embeds: empty image batch: %v; one zero image: %w", err, err2)
	}
	return e, nil
}

// visionSize is the understanding path's input size: preprocessor_config's
// image_size, read at load (0: the generated image size).
func (p *Pipeline) visionSize() int {
	if p.visionImage > 0 {
		return p.visionImage
	}
	return p.imageSize
}

func lastPosition(hs *tensor.Tensor) (*tensor.Tensor, error) {
	if hs == nil || hs.Rank() != 3 {
		return nil, errors.New("janus: language_model gave no [B,T,H] hidden_states")
	}
	s := hs.Shape()
	b, t, h := s[0], s[1], s[2]
	out := tensor.New(hs.DType(), b, 1, h)
	es := hs.DType().Size()
	src, dst := hs.Bytes(), out.Bytes()
	for r := 0; r < b; r++ {
		copy(dst[r*h*es:(r+1)*h*es], src[((r*t)+t-1)*h*es:((r*t)+t)*h*es])
	}
	return out, nil
}

func floatType(vi graph.ValueInfo, def tensor.DType) tensor.DType {
	if vi.Type.DType != tensor.Undefined {
		return vi.Type.DType
	}
	return def
}

func inputType(s *graph.Session, name string, def tensor.DType) tensor.DType {
	vi, ok := inputOf(s, name)
	if !ok {
		return def
	}
	return floatType(vi, def)
}

// asType converts between float dtypes at a session boundary.
func asType(t *tensor.Tensor, dt tensor.DType) *tensor.Tensor {
	if t.DType() == dt || !dt.IsFloat() || !t.DType().IsFloat() {
		return t
	}
	return tensor.FromFloat64s(dt, t.Shape(), t.Float64s())
}

// ToRGBA maps a [1,3,H,W] image in [-1,1] to RGBA:
// byte = trunc(clamp(float32(float32(x+1)·127.5), 0, 255)), as numpy's and
// Transformers.js' uint8 conversions do.
func ToRGBA(t *tensor.Tensor) (*image.RGBA, error) {
	s := t.Shape()
	if len(s) != 4 || s[0] != 1 || s[1] != 3 {
		return nil, fmt.Errorf("janus: image_decode output shape %v, want [1,3,H,W]", s)
	}
	h, w := s[2], s[3]
	v := t.Float32s()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	plane := h * w
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			o := img.PixOffset(x, y)
			for c := 0; c < 3; c++ {
				f := (v[c*plane+y*w+x] + 1) * 127.5
				if !(f > 0) { // also NaN
					f = 0
				}
				if f > 255 {
					f = 255
				}
				img.Pix[o+c] = uint8(f)
			}
			img.Pix[o+3] = 255
		}
	}
	return img, nil
}
