package engine

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

func tinyJanus(t *testing.T) string {
	d := filepath.Join("..", "shared", "testdata", "pipelines", "janus_pro_tiny")
	if _, err := os.Stat(d); err != nil {
		t.Skipf("tiny Janus-Pro folder not found at %s", d)
	}
	return d
}

// janusPending lists reference cases that cannot pass in this tree yet; a
// listed case that passes fails the test.
var janusPending = map[string]string{}

func loadJanus(t *testing.T, opts Options) *Model {
	t.Helper()
	opts.ModelDir = tinyJanus(t)
	if opts.DType == "" {
		opts.DType = "fp32"
	}
	m, err := Load(context.Background(), "janus-pro-1b", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// TestJanusReferenceCases runs every reference case through Load/Generate
// (greedy, the case's guidance and variant) and compares the pixels.
func TestJanusReferenceCases(t *testing.T) {
	dir := tinyJanus(t)
	b, err := os.ReadFile(filepath.Join(dir, "reference", "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Case, Prompt, Variant string
		Guidance              float64
	}
	if err := json.Unmarshal(b, &cases); err != nil || len(cases) == 0 {
		t.Fatalf("cases.json: %v", err)
	}
	for _, c := range cases {
		t.Run(c.Case, func(t *testing.T) {
			err := func() error {
				spec := "fp32"
				if c.Variant != "plain" {
					spec += ",language_model=" + c.Variant
				}
				m, err := Load(context.Background(), "janus-pro-1b", Options{ModelDir: dir, DType: spec})
				if err != nil {
					return err
				}
				defer m.Close()
				res, err := m.Generate(context.Background(), Request{Prompt: c.Prompt, Seed: Seed(3), Guidance: Float(c.Guidance), Temperature: Float(0)})
				if err != nil {
					return err
				}
				want, err := os.ReadFile(filepath.Join(dir, "reference", c.Case, "image_rgb.bin"))
				if err != nil {
					t.Fatal(err)
				}
				w := res.Image.Bounds().Dx()
				for i := 0; i < len(want)/3; i++ {
					o := res.Image.PixOffset(i%w, i/w)
					for ch := 0; ch < 3; ch++ {
						if d := int(res.Image.Pix[o+ch]) - int(want[3*i+ch]); d > 1 || d < -1 {
							t.Fatalf("pixel %d channel %d: %d, want %d", i, ch, res.Image.Pix[o+ch], want[3*i+ch])
						}
					}
				}
				return nil
			}()
			reason, pending := janusPending[c.Case]
			switch {
			case err == nil && pending:
				t.Errorf("passes but is listed as pending (%s): remove it from janusPending", reason)
			case err != nil && !pending:
				t.Error(err)
			case err != nil:
				t.Logf("pending (%s): %v", reason, err)
			}
		})
	}
}

// TestJanusSeededSampling: same seed → same image for any thread count and
// GOMAXPROCS; another seed → another image; no seed → a reported one.
func TestJanusSeededSampling(t *testing.T) {
	req := Request{Prompt: "a photo of a black cat", Seed: Seed(11), TopK: 50, TopP: 0.95}
	var first []byte
	for _, procs := range []int{1, 2, 8} {
		old := runtime.GOMAXPROCS(procs)
		m := loadJanus(t, Options{Threads: procs})
		res, err := m.Generate(context.Background(), req)
		runtime.GOMAXPROCS(old)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = res.Image.Pix
		} else if !slices.Equal(first, res.Image.Pix) {
			t.Fatalf("GOMAXPROCS %d: a different image for the same seed", procs)
		}
	}
	m := loadJanus(t, Options{})
	other, err := m.Generate(context.Background(), Request{Prompt: req.Prompt, Seed: Seed(12), TopK: 50, TopP: 0.95})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(first, other.Image.Pix) {
		t.Error("seeds 11 and 12 give the same image")
	}
	r1, err := m.Generate(context.Background(), Request{Prompt: req.Prompt})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := m.Generate(context.Background(), Request{Prompt: req.Prompt, Seed: Seed(r1.Seed)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r1.Image.Pix, r2.Image.Pix) {
		t.Error("the reported random seed does not reproduce the image")
	}
	// The Transformers.js-style masked unconditional row is a different row.
	r3, err := m.Generate(context.Background(), Request{Prompt: req.Prompt, Seed: Seed(r1.Seed), Uncond: UncondMasked})
	if err != nil {
		t.Fatal(err)
	}
	if r3.Image.Bounds() != r1.Image.Bounds() {
		t.Error("masked mode: another image size")
	}
}

func TestJanusProgress(t *testing.T) {
	m := loadJanus(t, Options{})
	var ev []Progress
	if _, err := m.Generate(context.Background(), Request{Prompt: "a cat", Seed: Seed(1), Progress: func(p Progress) { ev = append(ev, p) }}); err != nil {
		t.Fatal(err)
	}
	n := 0
	var phases []Phase
	for i, e := range ev {
		if len(phases) == 0 || phases[len(phases)-1] != e.Phase {
			phases = append(phases, e.Phase)
		}
		if e.Phase == PhaseImageTokens && e.Tokens > 0 {
			n++
			if e.Tokens != n || e.TokensTotal != 16 || e.Percent <= ev[i-1].Percent {
				t.Fatalf("event %d: %+v", i, e)
			}
		}
		if i > 0 && e.Elapsed < ev[i-1].Elapsed {
			t.Fatalf("elapsed goes back at event %d", i)
		}
	}
	if want := []Phase{PhaseTokenizing, PhaseImageTokens, PhaseDecoding, PhaseComplete}; !slices.Equal(phases, want) || n != 16 {
		t.Fatalf("phases %v with %d token events, want %v with 16", phases, n, want)
	}
}

// TestJanusCancel cancels after a few tokens: Generate stops within one
// token step, reports an aborted event, and the model still works.
func TestJanusCancel(t *testing.T) {
	m := loadJanus(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	var at time.Time
	var last Progress
	var after atomic.Int64
	_, err := m.Generate(ctx, Request{Prompt: "a cat", Seed: Seed(1), Progress: func(p Progress) {
		last = p
		if !at.IsZero() && p.Phase == PhaseImageTokens && p.Tokens > 0 {
			after.Add(1)
		}
		if p.Phase == PhaseImageTokens && p.Tokens == 3 {
			at = time.Now()
			cancel()
		}
	}})
	stop := time.Since(at)
	if !errors.Is(err, ErrCancelled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want ErrCancelled and context.Canceled", err)
	}
	if !last.Aborted || after.Load() != 0 {
		t.Fatalf("last event %+v, %d token events after cancel", last, after.Load())
	}
	if stop > time.Second {
		t.Fatalf("took %v to stop", stop)
	}
	if _, err := m.Generate(context.Background(), Request{Prompt: "a cat", Seed: Seed(1)}); err != nil {
		t.Fatalf("model unusable after cancel: %v", err)
	}
}

func TestJanusOptionErrors(t *testing.T) {
	dir := tinyJanus(t)
	for _, c := range []struct{ name, spec string }{
		{"unknown dtype", "fp64"},
		{"unknown sub-model", "fp32,vision=fp16"},
		{"absent file", "fp32,gen_head=int8"},
		{"two defaults", "fp32,fp16"},
	} {
		if _, err := Load(context.Background(), "janus-pro-1b", Options{ModelDir: dir, DType: c.spec}); !errors.Is(err, ErrUnsupportedOption) {
			t.Errorf("%s (%q): %v, want ErrUnsupportedOption", c.name, c.spec, err)
		}
	}
	m := loadJanus(t, Options{})
	for _, r := range []Request{{Prompt: " "}, {Prompt: "a", Width: 17}, {Prompt: "a", Temperature: Float(-1)}, {Prompt: "a", Uncond: 9}} {
		if _, err := m.Generate(context.Background(), r); !errors.Is(err, ErrUnsupportedOption) {
			t.Errorf("%+v: %v, want ErrUnsupportedOption", r, err)
		}
	}
	m.Close()
	if _, err := m.Generate(context.Background(), Request{Prompt: "a"}); !errors.Is(err, ErrModelNotLoaded) {
		t.Errorf("after Close: %v", err)
	}
}

// TestJanusDownloadAndPurge fetches the fp32 variant from a fake hub (the
// optional external-data file is absent there), then purges it.
func TestJanusDownloadAndPurge(t *testing.T) {
	var n atomic.Int64
	srv := fakeHub(t, tinyJanus(t), &n)
	defer srv.Close()
	cache := t.TempDir()
	m, err := Load(context.Background(), "janus-pro-1b", Options{BaseURL: srv.URL, CacheDir: cache, DType: "fp32"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Generate(context.Background(), Request{Prompt: "a cat", Seed: Seed(1)}); err != nil {
		t.Fatal(err)
	}
	m.Close()
	if _, err := Load(context.Background(), "janus-pro-1b", Options{BaseURL: srv.URL, CacheDir: cache, DType: "fp32,gen_head=bnb4"}); !errors.Is(err, ErrUnsupportedOption) {
		t.Errorf("absent variant: %v, want ErrUnsupportedOption", err)
	}
	repo := filepath.Join(cache, "models--onnx-community--Janus-Pro-1B-ONNX")
	if _, err := os.Stat(repo); err != nil {
		t.Fatal(err)
	}
	if err := Purge("janus-pro-1b", Options{CacheDir: cache}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(repo); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after Purge: %v", err)
	}
}
