// Package tokenizer turns prompts into token ids for the text encoders of the supported
// models: the CLIP BPE tokenizer of SD-Turbo (CLIP) and Hugging Face tokenizer.json byte-level
// BPE tokenizers such as Janus-Pro's DeepSeek tokenizer (ByteLevel).
//
// The algorithms follow Hugging Face tokenizers (https://github.com/huggingface/tokenizers)
// and OpenAI CLIP's simple_tokenizer.py (https://github.com/openai/CLIP); Unicode
// normalization follows UAX #15 (https://www.unicode.org/reports/tr15/) with tables generated
// by tokenizer/_gen. Load detects the vocabulary form from a path:
//
//   - a folder with vocab.json and merges.txt (a diffusers tokenizer/ folder): CLIP;
//   - a .gz file (CLIP's bpe_simple_vocab_16e6.txt.gz): CLIP;
//   - a tokenizer.json file, or a folder holding one: ByteLevel.
//
// Input text may be any string: bytes that are not valid UTF-8 are read as U+FFFD.
// Tokenizers are safe for concurrent use and cache the BPE result of each word.
package tokenizer
