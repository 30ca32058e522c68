package engine

// ModelInfo describes a model the library can run.
type ModelInfo struct {
	ID          string
	DisplayName string
	Task        string
	Backends    []string // backends that can run it, in preference order
	Notes       string
	Repo        string // Hugging Face repository the files come from
	Revision    string // revision the file list and sizes refer to
	ApproxBytes int64  // total download size of the default variant
	Files       []FileInfo
}

// FileInfo is one file of a model with its approximate size.
type FileInfo struct {
	Path        string // path inside the repository
	ApproxBytes int64
	Note        string
}

var registry = []ModelInfo{
	{
		ID:          "sd-turbo",
		DisplayName: "SD-Turbo",
		Task:        "text-to-image",
		Backends:    []string{"cpu"},
		Notes:       "512×512 only; one denoising step; seed supported (same seed → same image as web-txt2img)",
		Repo:        "schmuell/sd-turbo-ort-web",
		Revision:    "main",
		Files: []FileInfo{
			{Path: "text_encoder/model.onnx", ApproxBytes: 681_393_168, Note: "CLIP text encoder, fp16 weights"},
			{Path: "text_encoder/config.json", ApproxBytes: 703},
			{Path: "unet/model.onnx", ApproxBytes: 1_730_000_000, Note: "UNet, fp16 weights"},
			{Path: "unet/config.json", ApproxBytes: 1_950},
			{Path: "vae_decoder/model.onnx", ApproxBytes: 99_100_000, Note: "VAE decoder, fp16 weights"},
			{Path: "vae_decoder/config.json", ApproxBytes: 700},
			{Path: "tokenizer/vocab.json", ApproxBytes: 1_060_000},
			{Path: "tokenizer/merges.txt", ApproxBytes: 525_000},
			{Path: "tokenizer/special_tokens_map.json", ApproxBytes: 574},
			{Path: "tokenizer/tokenizer_config.json", ApproxBytes: 855},
		},
	},
}

func init() {
	for i := range registry {
		var n int64
		for _, f := range registry[i].Files {
			n += f.ApproxBytes
		}
		registry[i].ApproxBytes = n
	}
}

// Models lists the supported models.
func Models() []ModelInfo {
	out := make([]ModelInfo, len(registry))
	for i, m := range registry {
		m.Files = append([]FileInfo(nil), m.Files...)
		m.Backends = append([]string(nil), m.Backends...)
		out[i] = m
	}
	return out
}

func lookupModel(id string) (ModelInfo, bool) {
	for _, m := range registry {
		if m.ID == id {
			return m, true
		}
	}
	return ModelInfo{}, false
}
