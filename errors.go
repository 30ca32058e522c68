package engine

import (
	"context"
	"errors"
)

// Error kinds. Every error the library returns from Load and Generate
// matches exactly one of these with errors.Is, and carries a message that
// says what to do.
var (
	ErrBackendUnavailable = errors.New("backend unavailable")
	ErrModelNotLoaded     = errors.New("model not loaded")
	ErrUnsupportedOption  = errors.New("unsupported option")
	ErrCancelled          = errors.New("cancelled")
	ErrBusy               = errors.New("busy")
	ErrInternal           = errors.New("internal error")
)

// Error is the library's error type: a Kind (one of the Err* values above),
// a message, and the underlying cause (which errors.Is also sees, so a
// cancelled call matches both ErrCancelled and context.Canceled).
type Error struct {
	Kind error
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	s := "engine: " + e.Kind.Error()
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is matches the error's kind.
func (e *Error) Is(target error) bool { return target == e.Kind }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func newErr(kind error, msg string, cause error) error {
	return &Error{Kind: kind, Msg: msg, Err: cause}
}

// classify wraps an error from a pipeline into the library's kinds.
func classify(err error, what string) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return newErr(ErrCancelled, what+" was cancelled", err)
	}
	return newErr(ErrInternal, what+" failed", err)
}
