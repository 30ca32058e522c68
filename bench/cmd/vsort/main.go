// Command vsort benchmarks the engine side by side with ONNX Runtime.
//
//	cd bench && go run ./cmd/vsort [-cases REGEX] [-threads N] [-runs R] [-fullsize DIR]
//
// For each case it writes a single-op ONNX model and random inputs to a
// temporary folder, times the model with our engine (onnx.Load +
// graph.NewSession, warm-up then the median of R runs) and the same file with
// ONNX Runtime (onnxruntime-node driven by bench/ort/run.js, intraOpNumThreads
// N, interOpNumThreads 1, graphOptimizationLevel 'all'), and prints one JSON
// line per case:
//
//	{"case":…,"threads":…,"ours_ms":…,"ort_ms":…,"ratio":ort_ms/ours_ms,"gflops":…,"pct_peak":…}
//
// The first line describes the machine and its measured float32 FMA peak
// (per core × N), the reference for pct_peak. A side that cannot run a case
// (an op we lack, ORT missing) leaves its fields null and says why in
// "error"; the run goes on.
//
// ONNX Runtime: cd bench/ort && npm install --ignore-scripts.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/txt2img/engine/bench"
)

func main() {
	os.Exit(run())
}

func run() int {
	casesRe := flag.String("cases", "", "run only cases whose name matches this regexp")
	threads := flag.Int("threads", runtime.NumCPU(), "threads for both engines")
	runs := flag.Int("runs", 5, "timed runs per case and engine (median reported)")
	warmup := flag.Int("warmup", 1, "untimed warm-up runs")
	ortDir := flag.String("ort", "ort", "folder with run.js and node_modules/onnxruntime-node")
	node := flag.String("node", "node", "node executable")
	fullsize := flag.String("fullsize", "", "folder of full-size filled graphs (cmd/fillweights) for the e2e/ cases")
	list := flag.Bool("list", false, "list the case names and exit")
	timeout := flag.Duration("timeout", 20*time.Minute, "limit for one ONNX Runtime process")
	flag.Parse()
	if *threads < 1 || *runs < 1 || *warmup < 0 {
		fmt.Fprintln(os.Stderr, "vsort: -threads and -runs must be ≥ 1, -warmup ≥ 0")
		return 2
	}
	var re *regexp.Regexp
	if *casesRe != "" {
		var err error
		if re, err = regexp.Compile(*casesRe); err != nil {
			fmt.Fprintln(os.Stderr, "vsort: -cases:", err)
			return 2
		}
	}
	match := func(name string) bool { return re == nil || re.MatchString(name) }

	specs := bench.OpCases()
	if *list {
		for _, s := range specs {
			if match(s.Name) {
				fmt.Println(s.Name)
			}
		}
		for _, n := range bench.E2ENames {
			if match(n) {
				fmt.Println(n, "(needs -fullsize)")
			}
		}
		return 0
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()

	rn := &bench.Runner{Threads: *threads, Warmup: *warmup, Runs: *runs, OrtDir: *ortDir, Node: *node, Timeout: *timeout}
	if err := rn.OrtAvailable(); err != nil {
		fmt.Fprintln(os.Stderr, "vsort: ONNX Runtime side will fail:", err)
	}
	peak := bench.MeasurePeak(*threads, 5, 100*time.Millisecond)
	rn.Peak = peak.GFlops
	head, _ := json.Marshal(map[string]any{
		"machine": cpuModel(), "goos": runtime.GOOS, "goarch": runtime.GOARCH, "gomaxprocs": runtime.GOMAXPROCS(0),
		"date": time.Now().UTC().Format(time.RFC3339), "go": runtime.Version(), "peak": peak,
		"runs": *runs, "warmup": *warmup,
	})
	fmt.Fprintln(out, string(head))
	out.Flush()

	emit := func(c *bench.Case) {
		r := rn.Run(ctx, c)
		fmt.Fprintln(out, r.JSONLine())
		out.Flush()
	}
	for _, s := range specs {
		if ctx.Err() != nil {
			break
		}
		if match(s.Name) {
			emit(s.Build())
		}
	}
	if ctx.Err() == nil && slices.ContainsFunc(bench.E2ENames, match) {
		if *fullsize == "" {
			fmt.Fprintln(os.Stderr, "vsort: e2e cases skipped: no -fullsize DIR (full-size graphs made by cmd/fillweights)")
		} else {
			cases, notes := bench.E2ECases(*fullsize)
			for _, n := range notes {
				fmt.Fprintln(os.Stderr, "vsort:", n)
			}
			for _, c := range cases {
				if ctx.Err() == nil && match(c.Name) {
					emit(c)
				}
			}
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "vsort: interrupted")
		return 1
	}
	return 0
}

// cpuModel returns the "model name" line of /proc/cpuinfo, else GOARCH.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOARCH
}
