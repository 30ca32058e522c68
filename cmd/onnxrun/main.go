// Command onnxrun runs an ONNX model on a folder of input tensors and compares
// the outputs with the expected ones when the folder has them.
//
//	onnxrun -model M.onnx -data DIR [-rtol R -atol A] [-out OUTDIR] [-bench N] [-profile] [-stats] [-v]
//
// DIR holds input_N.pb (and optionally output_N.pb) TensorProto files, as in
// the ONNX backend node tests. Inputs are matched to graph inputs by the name
// stored in each file, else by position. -stats prints min/max/mean and the
// NaN/Inf counts of every output and the load/compile/run times. Exit status: 0 all outputs pass (or
// nothing to compare), 1 an output fails, 2 an error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/kernels"
	"github.com/txt2img/engine/onnx"
	"github.com/txt2img/engine/tensor"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("onnxrun", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("model", "", "path to the .onnx model (required)")
	data := fs.String("data", "", "folder with input_N.pb (and output_N.pb to compare)")
	rtol := fs.Float64("rtol", 1e-3, "relative tolerance")
	atol := fs.Float64("atol", 1e-7, "absolute tolerance")
	outDir := fs.String("out", "", "write outputs as output_N.pb TensorProto files into this folder")
	bench := fs.Int("bench", 0, "after one warm-up run, time N runs and print min/median")
	cpuprofile := fs.String("cpuprofile", "", "write a Go CPU profile of the -bench runs to this file")
	profile := fs.Bool("profile", false, "print time per op type")
	profileNodes := fs.Int("profile-nodes", 0, "with -profile, also print the N slowest nodes with their input shapes")
	threads := fs.Int("threads", 0, "worker threads (0: GOMAXPROCS)")
	disable := fs.String("disable-passes", "", "comma-separated graph passes to skip (\"all\" for none)")
	verbose := fs.Bool("v", false, "print the model summary and kernel set")
	stats := fs.Bool("stats", false, "print min/max/mean/NaN/Inf per output and the load, compile and run times")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "onnxrun: %v\n", err)
		return 2
	}
	if *model == "" {
		return fail(errors.New("-model is required"))
	}
	tLoad := time.Now()
	m, err := onnx.Load(*model)
	if err != nil {
		return fail(err)
	}
	defer m.Close()
	loadTime := time.Since(tLoad)
	opts := graph.Options{Threads: *threads, Profile: *profile}
	if *disable != "" {
		opts.DisablePasses = strings.Split(*disable, ",")
	}
	t0 := time.Now()
	sess, err := graph.NewSession(m.Graph, opts)
	if err != nil {
		return fail(err)
	}
	compileTime := time.Since(t0)
	if *verbose {
		fmt.Fprintln(stdout, kernels.Describe())
		fmt.Fprintf(stdout, "model %s: %d nodes after passes (%d in file), opsets %v, compiled in %v\n",
			filepath.Base(*model), sess.NodeCount(), len(m.Graph.Nodes), m.Graph.Opsets, time.Since(t0).Round(time.Millisecond))
	}
	if *data == "" {
		return fail(errors.New("-data is required"))
	}
	tc, err := onnx.ReadTestCase(*data, m.Graph)
	if err != nil {
		return fail(err)
	}
	ctx := context.Background()
	t1 := time.Now()
	out, err := sess.Run(ctx, tc.Inputs)
	if err != nil {
		return fail(err)
	}
	first := time.Since(t1)
	status := 0
	for i, name := range tc.OutputNames {
		got := out[name]
		if *outDir != "" {
			if err := os.MkdirAll(*outDir, 0o755); err != nil {
				return fail(err)
			}
			if got.Kind == 0 {
				p := filepath.Join(*outDir, fmt.Sprintf("output_%d.pb", i))
				if err := os.WriteFile(p, onnx.EncodeTensor(name, got), 0o644); err != nil {
					return fail(err)
				}
			}
		}
		if *stats {
			fmt.Fprintf(stdout, "%s: %s\n", name, outputStats(got))
		}
		want := tc.Outputs[i]
		if want == nil && *stats {
			continue
		}
		if want == nil {
			fmt.Fprintf(stdout, "%s: %s (no expected output)\n", name, got)
			continue
		}
		c := onnx.Compare(got, want, *rtol, *atol)
		verdict := "PASS"
		if !c.OK {
			verdict = "FAIL"
			status = 1
		}
		fmt.Fprintf(stdout, "%s: max_abs=%.3g max_rel=%.3g %s", name, c.MaxAbs, c.MaxRel, verdict)
		if !c.OK {
			fmt.Fprintf(stdout, " (%s)", c.Msg)
		}
		fmt.Fprintln(stdout)
	}
	if *stats {
		fmt.Fprintf(stdout, "time: load %v, compile %v, run %v\n", loadTime.Round(time.Millisecond),
			compileTime.Round(time.Millisecond), first.Round(time.Millisecond))
	}
	if *bench > 0 {
		sess.ResetProfile()
		if *cpuprofile != "" {
			f, err := os.Create(*cpuprofile)
			if err != nil {
				return fail(err)
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				f.Close()
				return fail(err)
			}
			defer func() {
				pprof.StopCPUProfile()
				f.Close()
			}()
		}
		times := make([]time.Duration, 0, *bench)
		for i := 0; i < *bench; i++ {
			t := time.Now()
			if _, err := sess.Run(ctx, tc.Inputs); err != nil {
				return fail(err)
			}
			times = append(times, time.Since(t))
		}
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		fmt.Fprintf(stdout, "bench: %d runs, min %v, median %v (first run %v)\n", len(times),
			times[0].Round(time.Microsecond), times[len(times)/2].Round(time.Microsecond), first.Round(time.Microsecond))
	}
	if *profile {
		var total time.Duration
		prof := sess.Profile()
		for _, st := range prof {
			total += st.Total
		}
		fmt.Fprintf(stdout, "profile (%v total):\n", total.Round(time.Microsecond))
		for _, st := range prof {
			pct := 0.0
			if total > 0 {
				pct = 100 * float64(st.Total) / float64(total)
			}
			fmt.Fprintf(stdout, "  %-28s %6d calls %12v %5.1f%%\n", st.Op, st.Calls, st.Total.Round(time.Microsecond), pct)
		}
		if *profileNodes > 0 {
			nodes := sess.NodeProfile()
			fmt.Fprintf(stdout, "slowest nodes:\n")
			for i, st := range nodes {
				if i == *profileNodes {
					break
				}
				pct := 0.0
				if total > 0 {
					pct = 100 * float64(st.Total) / float64(total)
				}
				fmt.Fprintf(stdout, "  %12v %5.1f%% %4dx %-16s %s  %s\n", st.Total.Round(time.Microsecond), pct, st.Calls, st.Op, st.Node, st.Shapes)
			}
		}
	}
	return status
}

// outputStats describes a value: dtype/shape, then min, max, mean and the
// NaN/Inf counts over the finite and non-finite elements of a numeric tensor.
func outputStats(t *tensor.Tensor) string {
	if t.Kind != tensor.KindTensor || t.DType() == tensor.String {
		return t.String()
	}
	n := t.Numel()
	var nan, inf, finite int
	lo, hi, sum := math.Inf(1), math.Inf(-1), 0.0
	for i := 0; i < n; i++ {
		v := t.At(i)
		switch {
		case math.IsNaN(v):
			nan++
		case math.IsInf(v, 0):
			inf++
		default:
			finite++
			lo, hi, sum = min(lo, v), max(hi, v), sum+v
		}
	}
	if finite == 0 {
		return fmt.Sprintf("%s%v min=- max=- mean=- nan=%d inf=%d", t.DType(), t.Shape(), nan, inf)
	}
	return fmt.Sprintf("%s%v min=%.4g max=%.4g mean=%.4g nan=%d inf=%d", t.DType(), t.Shape(), lo, hi, sum/float64(finite), nan, inf)
}
