package sdturbo

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/onnx"
	"github.com/txt2img/engine/tensor"
	"github.com/txt2img/engine/tokenizer"
)

func tinyDir(t *testing.T) string {
	d := filepath.Join("..", "..", "..", "shared", "testdata", "pipelines", "sd_turbo_tiny")
	if _, err := os.Stat(d); err != nil {
		t.Skipf("tiny SD-Turbo pipeline folder not found at %s", d)
	}
	return d
}

type refCase struct {
	Case   string `json:"case"`
	Prompt string `json:"prompt"`
	Seed   uint32 `json:"seed"`
}

func readCases(t *testing.T, dir string) []refCase {
	b, err := os.ReadFile(filepath.Join(dir, "reference", "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cs []refCase
	if err := json.Unmarshal(b, &cs); err != nil {
		t.Fatal(err)
	}
	if len(cs) == 0 {
		t.Fatal("no reference cases")
	}
	return cs
}

func loadTiny(t *testing.T, dir string, threads int, trace func(string, *tensor.Tensor)) *Pipeline {
	tok, err := tokenizer.LoadCLIP(filepath.Join(dir, "tokenizer"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Load(dir, Options{Tokenizer: tok, Graph: graph.Options{Threads: threads}, Trace: trace})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// TestReferenceCases reproduces every reference case: token ids and latents
// exactly, intermediate tensors within 1e-4 + 1e-3·|want|, pixels within 1 level.
func TestReferenceCases(t *testing.T) {
	dir := tinyDir(t)
	got := map[string]*tensor.Tensor{}
	p := loadTiny(t, dir, 0, func(name string, v *tensor.Tensor) { got[name] = v.Clone() })
	if p.ImageSize() != 64 {
		t.Fatalf("image size %d, want 64 (from the configs)", p.ImageSize())
	}
	for _, c := range readCases(t, dir) {
		t.Run(c.Case, func(t *testing.T) {
			clear(got)
			img, err := p.Generate(context.Background(), c.Prompt, c.Seed, 0, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			cd := filepath.Join(dir, "reference", c.Case)
			for _, name := range []string{"input_ids", "latents", "last_hidden_state", "unet_sample_in", "timestep", "out_sample", "vae_latent_in", "vae_sample_out"} {
				want, _, err := onnx.ReadValueFile(filepath.Join(cd, name+".pb"), graph.ValueType{})
				if err != nil {
					t.Fatal(err)
				}
				rtol, atol := 1e-3, 1e-4
				if name == "input_ids" || name == "latents" || name == "timestep" {
					rtol, atol = 0, 0
				}
				if cmp := onnx.Compare(got[name], want, rtol, atol); !cmp.OK {
					t.Errorf("%s: %s (max abs %.3g)", name, cmp.Msg, cmp.MaxAbs)
				}
			}
			rgb, err := os.ReadFile(filepath.Join(cd, "image_rgb.bin"))
			if err != nil {
				t.Fatal(err)
			}
			b := img.Bounds()
			if len(rgb) != b.Dx()*b.Dy()*3 {
				t.Fatalf("image %v, reference has %d bytes", b, len(rgb))
			}
			worst := 0
			for i := 0; i < b.Dx()*b.Dy(); i++ {
				for ch := 0; ch < 3; ch++ {
					d := int(img.Pix[4*i+ch]) - int(rgb[3*i+ch])
					worst = max(worst, d, -d)
				}
				if img.Pix[4*i+3] != 255 {
					t.Fatal("alpha is not opaque")
				}
			}
			if worst > 1 {
				t.Errorf("pixels differ by up to %d levels (allowed 1)", worst)
			}
		})
	}
}

// TestSameSeedSameBytes checks determinism across thread counts.
func TestSameSeedSameBytes(t *testing.T) {
	dir := tinyDir(t)
	var first []byte
	for _, threads := range []int{1, 2, 8} {
		p := loadTiny(t, dir, threads, nil)
		img, err := p.Generate(context.Background(), "a red bicycle", 7, 0, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = buf.Bytes()
		} else if !bytes.Equal(first, buf.Bytes()) {
			t.Fatalf("threads=%d gave different PNG bytes", threads)
		}
	}
}

func TestRequestChecks(t *testing.T) {
	p := loadTiny(t, tinyDir(t), 0, nil)
	for _, tc := range []struct {
		prompt string
		w, h   int
	}{{"", 0, 0}, {"  \t\n", 0, 0}, {"cat", 512, 512}, {"cat", 64, 32}} {
		if _, err := p.Generate(context.Background(), tc.prompt, 1, tc.w, tc.h, nil); err == nil {
			t.Errorf("prompt %q size %dx%d accepted", tc.prompt, tc.w, tc.h)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Generate(ctx, "cat", 1, 0, 0, nil); err == nil {
		t.Error("cancelled context accepted")
	}
}
