package engine_test

import (
	"context"
	"fmt"
	"os"

	engine "github.com/txt2img/engine"
)

// Generate an image with SD-Turbo and write it as a PNG. Load downloads the
// model into the Hugging Face cache on first use (about 2.5 GB).
func Example() {
	ctx := context.Background()
	m, err := engine.Load(ctx, "sd-turbo", engine.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	res, err := m.Generate(ctx, engine.Request{Prompt: "a photo of a cat", Seed: engine.Seed(42)})
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := res.PNG()
	os.WriteFile("cat.png", b, 0o644)
	fmt.Println("seed", res.Seed, "in", res.Duration)
}

// List the supported models.
func ExampleModels() {
	for _, m := range engine.Models() {
		fmt.Println(m.ID, m.Task)
	}
	// Output:
	// sd-turbo text-to-image
	// janus-pro-1b text-to-image
}

// Janus-Pro with greedy decoding, weaker guidance and per-sub-model variants.
func ExampleLoad_janus() {
	ctx := context.Background()
	m, err := engine.Load(ctx, "janus-pro-1b", engine.Options{DType: "fp16,language_model=q4"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	res, err := m.Generate(ctx, engine.Request{
		Prompt:      "a red fox in the snow, digital art",
		Seed:        engine.Seed(7),
		Guidance:    engine.Float(4),
		Temperature: engine.Float(0),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Image.Bounds().Dx(), "pixels wide")
}

// Follow progress and cancel a generation.
func ExampleModel_Generate() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m, err := engine.Load(ctx, "sd-turbo", engine.Options{ModelDir: "/path/to/sd-turbo-ort-web"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	_, err = m.Generate(ctx, engine.Request{
		Prompt: "a lighthouse at dusk",
		Progress: func(p engine.Progress) {
			fmt.Printf("%s %.0f%%\n", p.Phase, p.Percent)
		},
	})
	if err != nil {
		fmt.Println(err)
	}
}

// Report what this machine can run.
func ExampleDetect() {
	c := engine.Detect()
	fmt.Println(c.CPU, c.Cores, c.Kernels)
}
