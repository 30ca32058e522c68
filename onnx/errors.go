package onnx

import "fmt"

// FormatError reports a malformed file: bad protobuf, bad offsets, truncated data.
type FormatError struct {
	Msg string
}

func (e *FormatError) Error() string { return "onnx: malformed model: " + e.Msg }

// UnsupportedError reports a valid model the engine does not handle.
type UnsupportedError struct {
	Msg string
}

func (e *UnsupportedError) Error() string { return "onnx: unsupported: " + e.Msg }

func formatErr(msg string, off int, format string, a ...any) error {
	s := fmt.Sprintf(format, a...)
	if msg != "" {
		s = fmt.Sprintf("%s at byte %d: %s", msg, off, s)
	}
	return &FormatError{Msg: s}
}
