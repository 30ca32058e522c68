package engine

import "github.com/txt2img/engine/models/janus"

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
	// Variants lists the known dtype variants of each sub-model of a model
	// made of several ONNX files (Janus), with their files and sizes;
	// Default marks the CPU default. Files holds the defaults' files.
	Variants []VariantInfo
}

// VariantInfo is one dtype variant of a sub-model (Options.DType).
type VariantInfo struct {
	SubModel string // "language_model"
	DType    string // "q4"
	Default  bool
	Files    []FileInfo // the .onnx file and any external-data file
}

// FileInfo is one file of a model with its approximate size.
type FileInfo struct {
	Path        string // path inside the repository
	ApproxBytes int64
	Note        string
	// Optional files may be absent from the repository (external-data
	// files whose presence was not verified); a 404 for them is not an error.
	Optional bool
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
	janusPro1B(),
}

// janusVariant builds one variant's entry; size 0 means unknown.
func janusVariant(sub, dtype string, size, dataSize int64, note string) VariantInfo {
	name, err := janus.FileName(sub, dtype)
	if err != nil {
		panic(err) // a typo in the table below
	}
	v := VariantInfo{SubModel: sub, DType: dtype, Files: []FileInfo{{Path: name, ApproxBytes: size, Note: note}}}
	if dataSize > 0 {
		v.Files = append(v.Files, FileInfo{Path: name + "_data", ApproxBytes: dataSize, Note: "external weights", Optional: true})
	}
	return v
}

// janusPro1B is Janus-Pro-1B; sizes from the Hugging Face file pages
// (MODELS.md §2.1; "≈" ones are from Janus-1.3B-ONNX, same architecture).
func janusPro1B() ModelInfo {
	vs := []VariantInfo{
		janusVariant("prepare_inputs_embeds", "fp32", 2_080_000_000, 0, "≈ (1.3B size)"),
		janusVariant("prepare_inputs_embeds", "fp16", 1_040_000_000, 0, "≈ (1.3B size)"),
		janusVariant("prepare_inputs_embeds", "q4", 1_040_000_000, 0, "≈ (1.3B size); token embedding + SigLIP tower"),
		janusVariant("prepare_inputs_embeds", "q4f16", 596_699_315, 0, ""),
		janusVariant("prepare_inputs_embeds", "int8", 523_000_000, 0, "≈ (1.3B size)"),
		janusVariant("prepare_inputs_embeds", "uint8", 523_000_000, 0, "≈ (1.3B size)"),
		janusVariant("prepare_inputs_embeds", "quantized", 523_000_000, 0, "≈ (1.3B size)"),
		janusVariant("language_model", "fp32", 1_000_000, 4_940_000_000, "graph; weights in the _data file"),
		janusVariant("language_model", "fp16", 378_000_000, 2_470_000_000, "external data size estimated"),
		janusVariant("language_model", "q4", 780_000_000, 0, "MatMulNBits 4-bit, fp32 KV cache"),
		janusVariant("language_model", "q4f16", 698_000_000, 0, "MatMulNBits 4-bit, fp16 KV cache"),
		janusVariant("language_model", "int8", 1_240_000_000, 0, ""),
		janusVariant("language_model", "uint8", 1_240_000_000, 0, ""),
		janusVariant("gen_head", "fp32", 151_000_000, 0, ""),
		janusVariant("gen_head", "fp16", 75_536_078, 0, ""),
		janusVariant("gen_head", "q4", 23_700_000, 0, ""),
		janusVariant("gen_head", "q4f16", 21_300_000, 0, ""),
		janusVariant("gen_head", "int8", 37_800_000, 0, ""),
		janusVariant("gen_head", "uint8", 37_800_000, 0, ""),
		janusVariant("gen_head", "bnb4", 21_300_000, 0, ""),
		janusVariant("gen_img_embeds", "fp32", 17_400_000, 0, ""),
		janusVariant("gen_img_embeds", "fp16", 8_690_000, 0, "≈ (1.3B size)"),
		janusVariant("gen_img_embeds", "q4", 3_210_000, 0, ""),
		janusVariant("gen_img_embeds", "q4f16", 2_670_000, 0, ""),
		janusVariant("gen_img_embeds", "uint8", 4_360_000, 0, ""),
		janusVariant("gen_img_embeds", "quantized", 4_360_000, 0, ""),
		janusVariant("gen_img_embeds", "bnb4", 2_910_000, 0, ""),
		janusVariant("image_decode", "fp32", 170_000_000, 0, ""),
		janusVariant("image_decode", "fp16", 85_300_000, 0, "VQ decoder, conv only"),
		janusVariant("image_decode", "q4", 170_000_000, 0, "same as fp32 (no MatMul to quantize)"),
		janusVariant("image_decode", "q4f16", 85_300_000, 0, "same as fp16"),
		janusVariant("image_decode", "int8", 42_900_000, 0, ""),
	}
	defaults := janus.DefaultVariants
	files := []FileInfo{
		{Path: "config.json", ApproxBytes: 1_890},
		{Path: "generation_config.json", ApproxBytes: 167},
		{Path: "preprocessor_config.json", ApproxBytes: 346},
		{Path: "processor_config.json", ApproxBytes: 288},
		{Path: "special_tokens_map.json", ApproxBytes: 344},
		{Path: "tokenizer.json", ApproxBytes: 4_720_000},
		{Path: "tokenizer_config.json", ApproxBytes: 1_360},
	}
	for i, v := range vs {
		if defaults[v.SubModel] == v.DType {
			vs[i].Default = true
			files = append(files, v.Files...)
		}
	}
	return ModelInfo{
		ID:          "janus-pro-1b",
		DisplayName: "Janus-Pro-1B",
		Task:        "text-to-image",
		Backends:    []string{"cpu"},
		Notes:       "384×384; 576 image tokens with classifier-free guidance; seed supported; Options.DType picks variants",
		Repo:        "onnx-community/Janus-Pro-1B-ONNX",
		Revision:    "main",
		Files:       files,
		Variants:    vs,
	}
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
		m.Variants = append([]VariantInfo(nil), m.Variants...)
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
