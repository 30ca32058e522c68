package engine

import "time"

// Phase is a stage of loading or generating.
type Phase string

const (
	PhaseLoading     Phase = "loading" // includes downloading
	PhaseTokenizing  Phase = "tokenizing"
	PhaseEncoding    Phase = "encoding"
	PhaseDenoising   Phase = "denoising"
	PhaseImageTokens Phase = "image_tokens" // Janus: sampling image tokens
	PhaseDecoding    Phase = "decoding"
	PhaseComplete    Phase = "complete"
)

// Progress is one progress event.
type Progress struct {
	Phase   Phase
	Percent float64 // 0..100 over the whole call
	Elapsed time.Duration

	// Downloads (Phase == PhaseLoading).
	File       string // file being fetched
	BytesDone  int64  // over all files of the model
	BytesTotal int64
	Exact      bool // BytesTotal is known from the server, not estimated

	// Janus image tokens (Phase == PhaseImageTokens).
	Tokens, TokensTotal int

	// Aborted is set on the final event of a cancelled call.
	Aborted bool
}
