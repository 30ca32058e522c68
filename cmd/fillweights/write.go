package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/txt2img/engine/tensor"
)

const chunkBytes = 1 << 20

// writeData writes every external-data file of p into outDir, one file at a
// time, streaming: memory use is a few MiB whatever the file size.
func writeData(p *plan, outDir string, seed uint64, progress io.Writer) error {
	sizes := p.dataBytes()
	buf := make([]byte, chunkBytes)
	for i := 0; i < len(p.entries); {
		loc := p.entries[i].location
		j := i
		for j < len(p.entries) && p.entries[j].location == loc {
			j++
		}
		if err := writeFile(filepath.Join(outDir, filepath.FromSlash(loc)), p.entries[i:j], sizes[loc], seed, buf, progress); err != nil {
			return err
		}
		i = j
	}
	return nil
}

func writeFile(path string, entries []*entry, size int64, seed uint64, buf []byte, progress io.Writer) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("fillweights: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("fillweights: %w", err)
	}
	w := bufio.NewWriterSize(f, 4<<20)
	var pos int64
	nextReport := int64(1 << 30)
	fail := func(err error) error {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("fillweights: write %s: %w", path, err)
	}
	for _, e := range entries {
		if err := writeZeros(w, e.offset-pos, buf); err != nil {
			return fail(err)
		}
		if err := fillEntry(w, e, seed, buf); err != nil {
			return fail(err)
		}
		pos = e.offset + e.length
		if progress != nil && pos >= nextReport {
			fmt.Fprintf(progress, "fillweights: %s: %s of %s\n", filepath.Base(path), fmtBytes(pos), fmtBytes(size))
			nextReport = (pos>>30 + 1) << 30
		}
	}
	if err := writeZeros(w, size-pos, buf); err != nil {
		return fail(err)
	}
	if err := w.Flush(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("fillweights: write %s: %w", path, err)
	}
	return nil
}

func writeZeros(w io.Writer, n int64, buf []byte) error {
	clear(buf)
	for n > 0 {
		k := min(n, int64(len(buf)))
		if _, err := w.Write(buf[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// fillEntry generates e's bytes chunk by chunk from its own stream.
func fillEntry(w io.Writer, e *entry, seed uint64, buf []byte) error {
	s := newStream(seed, e.name)
	r := e.rule
	size := int64(e.dt.Size())
	per := int64(len(buf)) / size * size
	for left := e.length; left > 0; {
		k := min(left, per)
		b := buf[:k]
		switch {
		case r.bytes && r.random:
			for i := range b {
				b[i] = s.byte()
			}
		case r.bytes:
			for i := range b {
				b[i] = r.fill
			}
		default:
			if err := encodeFloats(b, e.dt, func() float64 { return r.center + r.half*s.unit() }); err != nil {
				return fmt.Errorf("%q: %w", e.name, err)
			}
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		left -= k
	}
	return nil
}

// encodeFloats fills b with little-endian values of dt drawn from next.
func encodeFloats(b []byte, dt tensor.DType, next func() float64) error {
	switch dt {
	case tensor.Float:
		for i := 0; i < len(b); i += 4 {
			binary.LittleEndian.PutUint32(b[i:], math.Float32bits(float32(next())))
		}
	case tensor.Float16:
		for i := 0; i < len(b); i += 2 {
			binary.LittleEndian.PutUint16(b[i:], tensor.F32ToF16(float32(next())))
		}
	case tensor.BFloat16:
		for i := 0; i < len(b); i += 2 {
			binary.LittleEndian.PutUint16(b[i:], tensor.F32ToBF16(float32(next())))
		}
	case tensor.Double:
		for i := 0; i < len(b); i += 8 {
			binary.LittleEndian.PutUint64(b[i:], math.Float64bits(next()))
		}
	default:
		return fmt.Errorf("no float encoding for %s", dt)
	}
	return nil
}
