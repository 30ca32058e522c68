// Package janus runs Janus-Pro text-to-image generation from the Transformers.js
// ONNX export (onnx-community/Janus-Pro-1B-ONNX): DeepSeek-format prompt →
// prepare_inputs_embeds → LLaMA language_model with a KV cache, one image
// token per step from gen_head logits mixed by classifier-free guidance and
// sampled (sample.go) → gen_img_embeds fed back → image_decode (VQ decoder) →
// RGBA. It follows the original deepseek-ai/Janus generation_inference.py.
package janus
