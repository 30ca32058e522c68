// Package request holds the request checks the image pipelines share.
package request

import (
	"fmt"
	"strings"
)

// Check validates a prompt and a requested square image size: the prompt
// must not be empty or whitespace, and width/height must be 0 (the model's
// size) or equal to size. A failure wraps unsupported, the caller's sentinel.
func Check(unsupported error, prompt string, width, height, size int) error {
	if strings.TrimSpace(prompt) == "" {
		return fmt.Errorf("%w: the prompt is empty", unsupported)
	}
	if (width != 0 && width != size) || (height != 0 && height != size) {
		return fmt.Errorf("%w: size %dx%d; this model makes %dx%d images only", unsupported, width, height, size, size)
	}
	return nil
}
