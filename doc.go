// Package engine generates images from text with SD-Turbo and Janus-Pro-1B,
// in pure Go, from the models' public ONNX files.
//
//	m, err := engine.Load(ctx, "sd-turbo", engine.Options{})
//	if err != nil { ... }
//	defer m.Close()
//	res, err := m.Generate(ctx, engine.Request{Prompt: "a photo of a cat", Seed: engine.Seed(42)})
//	png, err := res.PNG()
//
// Load downloads the files into the Hugging Face hub cache (or uses
// Options.ModelDir). Errors match one of ErrBackendUnavailable,
// ErrModelNotLoaded, ErrUnsupportedOption, ErrCancelled, ErrBusy and
// ErrInternal with errors.Is. The library never prints; pass a *slog.Logger
// to see what it does.
package engine
