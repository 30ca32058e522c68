package engine

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/hub"
	"github.com/txt2img/engine/models/janus"
	"github.com/txt2img/engine/models/sdturbo"
	"github.com/txt2img/engine/tokenizer"
)

// Tokenizer turns a prompt into token ids; it can replace a model's own
// tokenizer (Options.Tokenizer). For SD-Turbo the ids include BOS and EOS.
type Tokenizer interface {
	Encode(text string) ([]int, error)
}

// Options configure Load. The zero value downloads the model into the
// Hugging Face cache and runs it on the CPU with all cores.
type Options struct {
	// Backends in order of preference; the first one available is used.
	// nil means {"cpu"}.
	Backends []string
	// ModelDir is a local model folder in the repository's layout; nothing
	// is downloaded when it is set.
	ModelDir string
	// CacheDir overrides the Hugging Face hub cache root
	// ($HF_HUB_CACHE, $HF_HOME/hub or ~/.cache/huggingface/hub).
	CacheDir string
	// BaseURL overrides the hub endpoint (default https://huggingface.co).
	BaseURL string
	// URLOverrides maps a file's repository path ("unet/model.onnx") to a
	// full URL to fetch it from instead.
	URLOverrides map[string]string
	// Revision overrides the repository revision from the registry.
	Revision string
	// Offline uses only files already in the cache.
	Offline bool
	// HTTPClient makes the download requests (nil: http.DefaultClient).
	HTTPClient *http.Client
	// Tokenizer replaces the model's own tokenizer.
	Tokenizer Tokenizer
	// Progress receives loading (download) events.
	Progress func(Progress)
	// Logger receives debug/info records; nil discards them. The library
	// never prints.
	Logger *slog.Logger
	// Threads is the number of worker threads (0: GOMAXPROCS).
	Threads int

	// DType picks the weight variants of a model made of several ONNX
	// sub-models (Janus): a default dtype and optional per-sub-model
	// overrides, comma-separated, e.g. "fp32" or "fp32,language_model=q4".
	// Dtypes: fp32, fp16, q4, q4f16, int8, uint8, quantized (q8), bnb4.
	// Sub-models: prepare_inputs_embeds, language_model, gen_head,
	// gen_img_embeds, image_decode. "" means the CPU defaults (see
	// ModelInfo.Variants). A variant whose file is absent is an
	// ErrUnsupportedOption (with Options.ModelDir) or a download error.
	DType string
	// Variants overrides DType per sub-model (sub-model → dtype).
	Variants map[string]string
}

// UncondMode selects the unconditional row of classifier-free guidance (Janus).
type UncondMode int

const (
	// UncondPad is the original Janus row: the prompt with its inner tokens
	// replaced by the pad id (BOS and <begin_of_image> kept), fully attended.
	UncondPad UncondMode = iota
	// UncondMasked is Transformers.js' row: all pad, attention mask 0 over
	// the prompt, so it attends only to the generated image tokens.
	UncondMasked
)

// Request is one generation.
type Request struct {
	Prompt string
	// Seed makes the result reproducible; nil draws a random seed, which the
	// Result reports.
	Seed *uint32
	// Width and Height in pixels; 0 means the model's native size (the only
	// one SD-Turbo supports: 512×512).
	Width, Height int
	// Progress receives generation events (may be nil).
	Progress func(Progress)

	// Janus sampling (SD-Turbo ignores these).

	// Guidance is the classifier-free guidance weight g:
	// logits = uncond + g·(cond − uncond). nil means 5 (original Janus);
	// 1 uses the conditional row alone.
	Guidance *float64
	// Temperature divides the mixed logits; nil means 1, 0 means greedy
	// (argmax, first index on ties).
	Temperature *float64
	// TopK keeps the K most likely image tokens (0: all).
	TopK int
	// TopP keeps the smallest most-likely set with probability ≥ TopP
	// (0 or 1: all).
	TopP float64
	// Uncond selects the unconditional row (default UncondPad).
	Uncond UncondMode
}

// Seed returns a pointer to s, for Request.Seed.
func Seed(s uint32) *uint32 { return &s }

// Float returns a pointer to v, for Request.Guidance and Request.Temperature.
func Float(v float64) *float64 { return &v }

// Result is a generated image.
type Result struct {
	Image    *image.RGBA
	Seed     uint32
	Duration time.Duration
	Backend  string
}

// PNG encodes the image.
func (r *Result) PNG() ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, r.Image); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Model is a loaded model. Generate may be called many times; calls do not
// overlap (a second concurrent call fails with ErrBusy). Close releases
// everything.
type Model struct {
	info    ModelInfo
	backend string
	log     *slog.Logger

	mu     sync.Mutex // held during Generate and Close
	closed bool
	sd     *sdturbo.Pipeline
	janus  *janus.Pipeline
}

// Load prepares model id (see Models) for generation: it fetches the files
// (unless Options.ModelDir is set), then builds the sessions.
func Load(ctx context.Context, id string, opts Options) (*Model, error) {
	info, ok := lookupModel(id)
	if !ok {
		return nil, newErr(ErrUnsupportedOption, fmt.Sprintf("unknown model %q; Models() lists the supported ids", id), nil)
	}
	backend, err := pickBackend(info, opts.Backends)
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(discard{}, nil))
	}
	start := time.Now()
	emit := func(p Progress) {
		if opts.Progress != nil {
			p.Elapsed = time.Since(start)
			opts.Progress(p)
		}
	}
	var variants map[string]string
	if len(info.Variants) > 0 {
		if variants, err = pickVariants(opts); err != nil {
			return nil, err
		}
		info = withVariants(info, variants)
	}
	dir := opts.ModelDir
	if dir == "" {
		if dir, err = fetchModel(ctx, info, opts, emit); err != nil {
			if ctx.Err() != nil {
				emit(Progress{Phase: PhaseLoading, Aborted: true})
			}
			return nil, err
		}
	}
	log.Debug("loading model", "id", id, "dir", dir, "backend", backend)
	m := &Model{info: info, backend: backend, log: log}
	gopts := graph.Options{Threads: opts.Threads}
	switch id {
	case "sd-turbo":
		tok := opts.Tokenizer
		if tok == nil {
			t, err := tokenizer.Load(filepath.Join(dir, "tokenizer"))
			if err != nil {
				return nil, newErr(ErrInternal, "cannot read the SD-Turbo tokenizer from "+filepath.Join(dir, "tokenizer"), err)
			}
			tok = t
		}
		p, err := sdturbo.Load(dir, sdturbo.Options{Tokenizer: tok, Graph: gopts})
		if err != nil {
			return nil, newErr(ErrInternal, "cannot load SD-Turbo from "+dir, err)
		}
		m.sd = p
	case "janus-pro-1b":
		var tok janus.Tokenizer
		if opts.Tokenizer != nil {
			t, ok := opts.Tokenizer.(janus.Tokenizer)
			if !ok {
				return nil, newErr(ErrUnsupportedOption, "Janus needs a tokenizer with EncodeSpecial(text string, addSpecial bool) ([]int, error)", nil)
			}
			tok = t
		} else {
			t, err := tokenizer.LoadJSON(filepath.Join(dir, "tokenizer.json"))
			if err != nil {
				return nil, newErr(ErrInternal, "cannot read the Janus tokenizer from "+dir, err)
			}
			tok = t
		}
		for _, sub := range janus.SubModels {
			name, _ := janus.FileName(sub, variants[sub])
			if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(name))); err != nil {
				return nil, newErr(ErrUnsupportedOption, fmt.Sprintf("%s %s variant: %s is not in %s", sub, variants[sub], name, dir), err)
			}
		}
		p, err := janus.Load(dir, janus.Options{Tokenizer: tok, Variants: variants, Graph: gopts})
		if err != nil {
			return nil, newErr(ErrInternal, "cannot load Janus-Pro from "+dir, err)
		}
		m.janus = p
	}
	emit(Progress{Phase: PhaseLoading, Percent: 100})
	log.Info("model loaded", "id", id, "took", time.Since(start))
	return m, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func pickBackend(info ModelInfo, prefs []string) (string, error) {
	if len(prefs) == 0 {
		prefs = []string{"cpu"}
	}
	for _, p := range prefs {
		for _, b := range info.Backends {
			if p == b {
				return b, nil
			}
		}
	}
	return "", newErr(ErrBackendUnavailable, fmt.Sprintf("none of %v can run %s (it supports %v)", prefs, info.ID, info.Backends), nil)
}

// Info describes the loaded model.
func (m *Model) Info() ModelInfo { return m.info }

// Backend names the backend in use.
func (m *Model) Backend() string { return m.backend }

// Generate makes one image. Cancelling ctx stops within one graph node and
// returns an error matching both ErrCancelled and context.Canceled; the
// last progress event then has Aborted set. The model stays usable.
func (m *Model) Generate(ctx context.Context, req Request) (*Result, error) {
	if !m.mu.TryLock() {
		return nil, newErr(ErrBusy, "another Generate is running on this model; wait for it or use a second Model", nil)
	}
	defer m.mu.Unlock()
	if m.closed {
		return nil, newErr(ErrModelNotLoaded, "the model was closed; Load it again", nil)
	}
	start := time.Now()
	emit := func(p Progress) {
		if req.Progress != nil {
			p.Elapsed = time.Since(start)
			req.Progress(p)
		}
	}
	seed, err := pickSeed(req.Seed)
	if err != nil {
		return nil, newErr(ErrInternal, "cannot draw a random seed", err)
	}
	var img *image.RGBA
	switch {
	case m.sd != nil:
		if err := m.sd.CheckRequest(req.Prompt, req.Width, req.Height); err != nil {
			return nil, newErr(ErrUnsupportedOption, "", err)
		}
		pct := map[sdturbo.Stage]float64{sdturbo.StageTokenizing: 0, sdturbo.StageEncoding: 5, sdturbo.StageDenoising: 15, sdturbo.StageDecoding: 50}
		img, err = m.sd.Generate(ctx, req.Prompt, seed, req.Width, req.Height, func(s sdturbo.Stage) {
			emit(Progress{Phase: Phase(s), Percent: pct[s]})
		})
	case m.janus != nil:
		if err := m.janus.CheckRequest(req.Prompt, req.Width, req.Height); err != nil {
			return nil, newErr(ErrUnsupportedOption, "", err)
		}
		g := janus.GenOptions{Guidance: 5, Seed: uint64(seed), Uncond: janus.UncondMode(req.Uncond),
			Sampling: janus.Sampling{Temperature: 1, TopK: req.TopK, TopP: req.TopP}}
		if req.Guidance != nil {
			g.Guidance = *req.Guidance
		}
		if req.Temperature != nil {
			g.Temperature = *req.Temperature
		}
		if req.Uncond != UncondPad && req.Uncond != UncondMasked {
			return nil, newErr(ErrUnsupportedOption, fmt.Sprintf("unknown UncondMode %d", req.Uncond), nil)
		}
		img, err = m.janus.Generate(ctx, req.Prompt, g, func(e janus.Event) {
			switch e.Stage {
			case janus.StageImageTokens:
				pct := 2.0
				if e.Total > 0 {
					pct = 2 + 90*float64(e.Tokens)/float64(e.Total)
				}
				emit(Progress{Phase: PhaseImageTokens, Percent: pct, Tokens: e.Tokens, TokensTotal: e.Total})
			case janus.StageDecoding:
				emit(Progress{Phase: PhaseDecoding, Percent: 92, Tokens: e.Tokens, TokensTotal: e.Total})
			default:
				emit(Progress{Phase: Phase(e.Stage), Percent: 0})
			}
		})
	default:
		return nil, newErr(ErrModelNotLoaded, "no pipeline", nil)
	}
	if err != nil {
		if errors.Is(err, sdturbo.ErrUnsupported) || errors.Is(err, janus.ErrUnsupported) {
			return nil, newErr(ErrUnsupportedOption, "", err)
		}
		err = classify(err, "generation")
		if errors.Is(err, ErrCancelled) {
			emit(Progress{Phase: PhaseComplete, Aborted: true})
		}
		return nil, err
	}
	d := time.Since(start)
	emit(Progress{Phase: PhaseComplete, Percent: 100})
	return &Result{Image: img, Seed: seed, Duration: d, Backend: m.backend}, nil
}

func pickSeed(s *uint32) (uint32, error) {
	if s != nil {
		return *s, nil
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}

// Close releases the sessions, buffers and file mappings. It waits for a
// running Generate to finish.
func (m *Model) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	var err error
	if m.sd != nil {
		err = m.sd.Close()
		m.sd = nil
	}
	if m.janus != nil {
		err = m.janus.Close()
		m.janus = nil
	}
	return err
}

func hubClient(opts Options) *hub.Client {
	return &hub.Client{HTTPClient: opts.HTTPClient, BaseURL: opts.BaseURL, URLs: opts.URLOverrides, CacheDir: opts.CacheDir, Offline: opts.Offline}
}

// fetchModel downloads (or finds in the cache) every file of the model and
// returns the snapshot folder holding them in the repository's layout.
func fetchModel(ctx context.Context, info ModelInfo, opts Options, emit func(Progress)) (string, error) {
	rev := info.Revision
	if opts.Revision != "" {
		rev = opts.Revision
	}
	var files []hub.File
	var optional []FileInfo
	for _, f := range info.Files {
		if f.Optional {
			optional = append(optional, f)
			continue
		}
		files = append(files, hub.File{Repo: info.Repo, Revision: rev, Path: f.Path, Size: f.ApproxBytes})
	}
	report := func(e hub.Event) {
		p := Progress{Phase: PhaseLoading, File: e.Path, BytesDone: e.AllDone, BytesTotal: e.AllTotal, Exact: !e.AllApprox}
		if e.AllTotal > 0 {
			p.Percent = 100 * float64(e.AllDone) / float64(e.AllTotal)
		}
		emit(p)
	}
	c := hubClient(opts)
	paths, err := c.FetchAll(ctx, files, report)
	for _, f := range optional {
		if err != nil {
			break
		}
		if _, e := c.Fetch(ctx, info.Repo, rev, f.Path, report); e != nil && !errors.Is(e, hub.ErrNotFound) && !errors.Is(e, hub.ErrNotCached) {
			err = e
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return "", newErr(ErrCancelled, "download cancelled", err)
		}
		if errors.Is(err, hub.ErrNotFound) {
			return "", newErr(ErrUnsupportedOption, "a requested file is not in "+info.Repo+" (is that variant published?)", err)
		}
		return "", newErr(ErrBackendUnavailable, "cannot fetch "+info.ID+" files (check the network, Options.BaseURL, or use Options.ModelDir / Offline)", err)
	}
	// paths[i] = <snapshot>/<info.Files[i].Path>: the snapshot is the folder.
	snap := paths[0]
	for range splitPath(files[0].Path) {
		snap = filepath.Dir(snap)
	}
	if _, err := os.Stat(filepath.Join(snap, filepath.FromSlash(files[0].Path))); err != nil {
		return "", newErr(ErrInternal, "cache layout", err)
	}
	return snap, nil
}

// splitPath returns the elements of a slash-separated path, innermost first.
func splitPath(p string) []string {
	var parts []string
	for p != "" && p != "." {
		parts = append(parts, filepath.Base(p))
		p = filepath.Dir(p)
	}
	return parts
}

// pickVariants resolves Options.DType and Options.Variants for a model of sub-models.
func pickVariants(opts Options) (map[string]string, error) {
	v, err := janus.ParseDType(opts.DType)
	if err != nil {
		return nil, newErr(ErrUnsupportedOption, "Options.DType", err)
	}
	over := map[string]string{}
	for k, x := range v {
		over[k] = x
	}
	for k, x := range opts.Variants {
		over[k] = x
	}
	if v, err = janus.Resolve("", over); err != nil {
		return nil, newErr(ErrUnsupportedOption, "Options.Variants", err)
	}
	return v, nil
}

// withVariants replaces info.Files' ONNX files by those of the chosen variants.
func withVariants(info ModelInfo, variants map[string]string) ModelInfo {
	var files []FileInfo
	for _, f := range info.Files {
		if !strings.HasPrefix(f.Path, "onnx/") {
			files = append(files, f)
		}
	}
	for _, sub := range janus.SubModels {
		found := false
		for _, v := range info.Variants {
			if v.SubModel == sub && v.DType == variants[sub] {
				files = append(files, v.Files...)
				found = true
			}
		}
		if !found { // not in the table: try the conventional name
			name, _ := janus.FileName(sub, variants[sub])
			files = append(files, FileInfo{Path: name, Note: "size unknown"})
		}
	}
	info.Files = files
	info.ApproxBytes = 0
	for _, f := range files {
		info.ApproxBytes += f.ApproxBytes
	}
	return info
}

// Purge removes model id's cached files (and nothing else).
func Purge(id string, opts Options) error {
	info, ok := lookupModel(id)
	if !ok {
		return newErr(ErrUnsupportedOption, fmt.Sprintf("unknown model %q", id), nil)
	}
	if err := hubClient(opts).Purge(info.Repo); err != nil {
		return newErr(ErrInternal, "purge "+id, err)
	}
	return nil
}

// PurgeAll removes the cached files of every model in the registry.
func PurgeAll(opts Options) error {
	var repos []string
	for _, m := range registry {
		repos = append(repos, m.Repo)
	}
	if err := hubClient(opts).PurgeAll(repos); err != nil {
		return newErr(ErrInternal, "purge all", err)
	}
	return nil
}
