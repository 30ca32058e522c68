// Command gen generates one image from a text prompt.
//
//	gen -prompt "a photo of a cat" [-model sd-turbo] [-seed N] [-o out.png]
//	    [-model-dir DIR] [-cache-dir DIR] [-base-url URL] [-offline]
//	    [-backend cpu] [-threads N] [-v]
//	    [-dtype SPEC] [-cfg G] [-temperature T] [-top-k K] [-top-p P] [-uncond pad|masked]
//	gen -list | -detect | -purge MODEL|all
//
// -dtype, -cfg, -temperature, -top-k, -top-p and -uncond apply to Janus
// (-model janus-pro-1b): -dtype takes a default dtype and optional
// per-sub-model overrides ("fp32" or "fp32,language_model=q4"); -temperature
// 0 is greedy. With -model-dir nothing is downloaded. Progress goes to stderr; the output
// path and the time taken are printed at the end. Errors are one line and a
// non-zero exit status.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"time"

	engine "github.com/txt2img/engine"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	prompt := fs.String("prompt", "", "text prompt (required)")
	model := fs.String("model", "sd-turbo", "model id (see -list)")
	seed := fs.Int64("seed", -1, "seed for a reproducible image (-1: random, printed at the end)")
	out := fs.String("o", "out.png", "output PNG path")
	modelDir := fs.String("model-dir", "", "local model folder in the repository's layout (no download)")
	cacheDir := fs.String("cache-dir", "", "Hugging Face cache root (default $HF_HUB_CACHE, $HF_HOME/hub, ~/.cache/huggingface/hub)")
	baseURL := fs.String("base-url", "", "model host (default https://huggingface.co)")
	offline := fs.Bool("offline", false, "use only cached files")
	backend := fs.String("backend", "cpu", "backend preference, comma-separated")
	threads := fs.Int("threads", 0, "worker threads (0: all cores)")
	verbose := fs.Bool("v", false, "log what the library does to stderr")
	list := fs.Bool("list", false, "list the supported models and exit")
	detect := fs.Bool("detect", false, "print what this machine can run and exit")
	purge := fs.String("purge", "", "delete a model's cached files (or all) and exit")
	dtype := fs.String("dtype", "", "Janus weight variants: DEFAULT[,SUBMODEL=DTYPE...], e.g. fp32,language_model=q4")
	cfg := fs.Float64("cfg", 5, "Janus classifier-free guidance weight")
	temperature := fs.Float64("temperature", 1, "Janus sampling temperature (0: greedy)")
	topK := fs.Int("top-k", 0, "Janus: sample from the K most likely image tokens (0: all)")
	topP := fs.Float64("top-p", 0, "Janus: nucleus sampling threshold (0: off)")
	uncond := fs.String("uncond", "pad", "Janus unconditional row: pad (original Janus) or masked (Transformers.js)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "gen: %v\n", err)
		return 1
	}
	opts := engine.Options{ModelDir: *modelDir, CacheDir: *cacheDir, BaseURL: *baseURL, Offline: *offline,
		Backends: strings.Split(*backend, ","), Threads: *threads, DType: *dtype}
	if *verbose {
		opts.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	switch {
	case *list:
		for _, m := range engine.Models() {
			fmt.Fprintf(stdout, "%-14s %-14s %-14s %6.2f GB  %s\n", m.ID, m.DisplayName, m.Task, float64(m.ApproxBytes)/1e9, m.Notes)
		}
		return 0
	case *detect:
		c := engine.Detect()
		fmt.Fprintf(stdout, "cpu: %s\ncores: %d\nkernels: %s\nf16c: %v\nvulkan: %v\n", c.CPU, c.Cores, c.Kernels, c.F16C, c.Vulkan)
		return 0
	case *purge != "":
		var err error
		if *purge == "all" {
			err = engine.PurgeAll(opts)
		} else {
			err = engine.Purge(*purge, opts)
		}
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "purged %s\n", *purge)
		return 0
	}
	if strings.TrimSpace(*prompt) == "" {
		fmt.Fprintln(stderr, "gen: -prompt is required (see -h)")
		return 2
	}
	bar := newBar(stderr)
	opts.Progress = bar.update
	start := time.Now()
	m, err := engine.Load(ctx, *model, opts)
	if err != nil {
		bar.done()
		return fail(err)
	}
	defer m.Close()
	req := engine.Request{Prompt: *prompt, Progress: bar.update, Guidance: engine.Float(*cfg),
		Temperature: engine.Float(*temperature), TopK: *topK, TopP: *topP}
	switch *uncond {
	case "pad":
	case "masked":
		req.Uncond = engine.UncondMasked
	default:
		bar.done()
		return fail(fmt.Errorf("-uncond must be pad or masked"))
	}
	if *seed >= 0 {
		if *seed > 1<<32-1 {
			bar.done()
			return fail(fmt.Errorf("-seed must be below 2^32"))
		}
		req.Seed = engine.Seed(uint32(*seed))
	}
	res, err := m.Generate(ctx, req)
	bar.done()
	if err != nil {
		return fail(err)
	}
	b, err := res.PNG()
	if err != nil {
		return fail(err)
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "%s (seed %d, generated in %v, total %v)\n", *out, res.Seed, res.Duration.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	return 0
}
