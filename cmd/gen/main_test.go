package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func tinySD(t *testing.T) string {
	d := filepath.Join("..", "..", "..", "shared", "testdata", "pipelines", "sd_turbo_tiny")
	if _, err := os.Stat(d); err != nil {
		t.Skipf("tiny SD-Turbo folder not found at %s", d)
	}
	return d
}

func gen(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func readPNG(t *testing.T, path string) image.Image {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestGenReferenceCases runs every reference case through the CLI.
func TestGenReferenceCases(t *testing.T) {
	dir := tinySD(t)
	b, err := os.ReadFile(filepath.Join(dir, "reference", "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Case, Prompt string
		Seed         uint32
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Case, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.png")
			code, stdout, stderr := gen(t, "-model-dir", dir, "-prompt", c.Prompt, "-seed", strconv.Itoa(int(c.Seed)), "-o", out)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(stdout, out) || !strings.Contains(stdout, "seed "+strconv.Itoa(int(c.Seed))) {
				t.Errorf("stdout %q lacks the path or seed", stdout)
			}
			want, err := os.ReadFile(filepath.Join(dir, "reference", c.Case, "image_rgb.bin"))
			if err != nil {
				t.Fatal(err)
			}
			img := readPNG(t, out)
			w := img.Bounds().Dx()
			for i := 0; i < len(want)/3; i++ {
				r, g, bl, _ := img.At(i%w, i/w).RGBA()
				for ch, v := range []uint32{r >> 8, g >> 8, bl >> 8} {
					if d := int(v) - int(want[3*i+ch]); d > 1 || d < -1 {
						t.Fatalf("pixel %d channel %d: %d, want %d", i, ch, v, want[3*i+ch])
					}
				}
			}
		})
	}
}

// TestGenSameBytesAnyGOMAXPROCS: the same seed gives the same PNG bytes for
// GOMAXPROCS 1, 2 and 8.
func TestGenSameBytesAnyGOMAXPROCS(t *testing.T) {
	dir := tinySD(t)
	prev := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prev)
	var first []byte
	for _, p := range []int{1, 2, 8} {
		runtime.GOMAXPROCS(p)
		out := filepath.Join(t.TempDir(), "out.png")
		if code, _, stderr := gen(t, "-model-dir", dir, "-prompt", "a lighthouse at dusk", "-seed", "12345", "-o", out); code != 0 {
			t.Fatalf("GOMAXPROCS=%d: %s", p, stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = b
		} else if !bytes.Equal(first, b) {
			t.Fatalf("GOMAXPROCS=%d gave different PNG bytes", p)
		}
	}
}

func TestGenErrors(t *testing.T) {
	dir := tinySD(t)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-model-dir", dir}, 2, "-prompt is required"},
		{[]string{"-model-dir", t.TempDir(), "-prompt", "cat"}, 1, "gen: engine:"},
		{[]string{"-model", "nope", "-model-dir", dir, "-prompt", "cat"}, 1, "unknown model"},
		{[]string{"-model-dir", dir, "-prompt", "cat", "-seed", "99999999999"}, 1, "below 2^32"},
		{[]string{"-model-dir", dir, "-prompt", "cat", "-backend", "vulkan9"}, 1, "backend unavailable"},
	}
	for _, c := range cases {
		code, _, stderr := gen(t, c.args...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		last := lines[len(lines)-1]
		if code != c.code || !strings.Contains(last, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr, c.code, c.want)
		}
	}
}

func TestGenListDetect(t *testing.T) {
	code, out, _ := gen(t, "-list")
	if code != 0 || !strings.Contains(out, "sd-turbo") {
		t.Fatalf("-list: %d %q", code, out)
	}
	code, out, _ = gen(t, "-detect")
	if code != 0 || !strings.Contains(out, "kernels:") || !strings.Contains(out, "cores:") {
		t.Fatalf("-detect: %d %q", code, out)
	}
}

func TestGenPurge(t *testing.T) {
	cache := t.TempDir()
	repo := filepath.Join(cache, "models--schmuell--sd-turbo-ort-web", "blobs")
	other := filepath.Join(cache, "models--someone--else")
	os.MkdirAll(repo, 0o755)
	os.MkdirAll(other, 0o755)
	if code, out, stderr := gen(t, "-purge", "sd-turbo", "-cache-dir", cache); code != 0 || !strings.Contains(out, "purged sd-turbo") {
		t.Fatalf("exit %d %q %q", code, out, stderr)
	}
	if _, err := os.Stat(filepath.Dir(repo)); !os.IsNotExist(err) {
		t.Fatal("sd-turbo cache folder still there")
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatal("purge removed another repository's files")
	}
}

func tinyJanus(t *testing.T) string {
	d := filepath.Join("..", "..", "..", "shared", "testdata", "pipelines", "janus_pro_tiny")
	if _, err := os.Stat(d); err != nil {
		t.Skipf("tiny Janus-Pro folder not found at %s", d)
	}
	return d
}

// janusPending lists reference cases that cannot pass in this tree yet; a
// listed case that passes fails the test.
var janusPending = map[string]string{}

// TestGenJanusReferenceCases runs every Janus reference case through
// gen -model janus-pro-1b … -temperature 0 -dtype SPEC.
func TestGenJanusReferenceCases(t *testing.T) {
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
			spec := "fp32"
			if c.Variant != "plain" {
				spec += ",language_model=" + c.Variant
			}
			out := filepath.Join(t.TempDir(), "out.png")
			code, stdout, stderr := gen(t, "-model", "janus-pro-1b", "-model-dir", dir, "-prompt", c.Prompt,
				"-cfg", strconv.FormatFloat(c.Guidance, 'g', -1, 64), "-temperature", "0", "-dtype", spec, "-seed", "5", "-o", out)
			var err error
			if code != 0 {
				err = errors.New(stderr)
			} else if !strings.Contains(stdout, "seed 5") {
				t.Errorf("stdout %q lacks the seed", stdout)
			}
			if err == nil {
				want, rerr := os.ReadFile(filepath.Join(dir, "reference", c.Case, "image_rgb.bin"))
				if rerr != nil {
					t.Fatal(rerr)
				}
				img := readPNG(t, out)
				w := img.Bounds().Dx()
				for i := 0; i < len(want)/3 && err == nil; i++ {
					r, g, bl, _ := img.At(i%w, i/w).RGBA()
					for ch, v := range []uint32{r >> 8, g >> 8, bl >> 8} {
						if d := int(v) - int(want[3*i+ch]); d > 1 || d < -1 {
							err = fmt.Errorf("pixel %d channel %d: %d, want %d", i, ch, v, want[3*i+ch])
							break
						}
					}
				}
			}
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

func TestGenJanusErrors(t *testing.T) {
	dir := tinyJanus(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-dtype", "fp64"}, "unknown dtype"},
		{[]string{"-dtype", "fp32,gen_head=int8"}, "gen_head_int8.onnx"},
		{[]string{"-dtype", "fp32", "-uncond", "both"}, "-uncond"},
		{[]string{"-dtype", "fp32", "-temperature", "-2"}, "unsupported option"},
	} {
		args := append([]string{"-model", "janus-pro-1b", "-model-dir", dir, "-prompt", "cat", "-o", filepath.Join(t.TempDir(), "o.png")}, c.args...)
		code, _, stderr := gen(t, args...)
		if code != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %q", c.args, code, stderr, c.want)
		}
	}
	code, out, _ := gen(t, "-list")
	if code != 0 || !strings.Contains(out, "janus-pro-1b") {
		t.Fatalf("-list lacks janus-pro-1b: %q", out)
	}
}
