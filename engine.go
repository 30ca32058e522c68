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
	"sync"
	"time"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/hub"
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
}

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
}

// Seed returns a pointer to s, for Request.Seed.
func Seed(s uint32) *uint32 { return &s }

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
	default:
		return nil, newErr(ErrModelNotLoaded, "no pipeline", nil)
	}
	if err != nil {
		if errors.Is(err, sdturbo.ErrUnsupported) {
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
	files := make([]hub.File, len(info.Files))
	for i, f := range info.Files {
		files[i] = hub.File{Repo: info.Repo, Revision: rev, Path: f.Path, Size: f.ApproxBytes}
	}
	paths, err := hubClient(opts).FetchAll(ctx, files, func(e hub.Event) {
		p := Progress{Phase: PhaseLoading, File: e.Path, BytesDone: e.AllDone, BytesTotal: e.AllTotal, Exact: !e.AllApprox}
		if e.AllTotal > 0 {
			p.Percent = 100 * float64(e.AllDone) / float64(e.AllTotal)
		}
		emit(p)
	})
	if err != nil {
		if ctx.Err() != nil {
			return "", newErr(ErrCancelled, "download cancelled", err)
		}
		return "", newErr(ErrBackendUnavailable, "cannot fetch "+info.ID+" files (check the network, Options.BaseURL, or use Options.ModelDir / Offline)", err)
	}
	// paths[i] = <snapshot>/<info.Files[i].Path>: the snapshot is the folder.
	snap := paths[0]
	for range splitPath(info.Files[0].Path) {
		snap = filepath.Dir(snap)
	}
	if _, err := os.Stat(filepath.Join(snap, filepath.FromSlash(info.Files[0].Path))); err != nil {
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
