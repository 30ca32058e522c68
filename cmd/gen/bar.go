package main

import (
	"fmt"
	"io"
	"strings"
	"sync"

	engine "github.com/txt2img/engine"
)

// bar draws a one-line progress bar on a terminal stream: download bytes
// while loading, then the generation phases.
type bar struct {
	mu   sync.Mutex
	w    io.Writer
	last string
}

func newBar(w io.Writer) *bar { return &bar{w: w} }

func (b *bar) update(p engine.Progress) {
	b.mu.Lock()
	defer b.mu.Unlock()
	const width = 30
	fill := int(p.Percent / 100 * width)
	fill = min(max(fill, 0), width)
	line := fmt.Sprintf("%-12s [%s%s] %3.0f%%", p.Phase, strings.Repeat("=", fill), strings.Repeat(" ", width-fill), p.Percent)
	switch {
	case p.Phase == engine.PhaseLoading && p.BytesTotal > 0:
		approx := "~"
		if p.Exact {
			approx = ""
		}
		line += fmt.Sprintf(" %s %.1f/%s%.1f MB", p.File, float64(p.BytesDone)/1e6, approx, float64(p.BytesTotal)/1e6)
	case p.TokensTotal > 0:
		line += fmt.Sprintf(" %d/%d tokens", p.Tokens, p.TokensTotal)
	}
	if p.Aborted {
		line += " (aborted)"
	}
	if line == b.last {
		return
	}
	pad := ""
	if n := len(b.last) - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprintf(b.w, "\r%s%s", line, pad)
	b.last = line
}

func (b *bar) done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last != "" {
		fmt.Fprintln(b.w)
		b.last = ""
	}
}
