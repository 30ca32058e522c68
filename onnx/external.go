package onnx

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// DataResolver returns the bytes of external tensor data.
type DataResolver interface {
	Resolve(location string, offset, length int64) ([]byte, error)
}

// mmapResolver maps external-data files found under dir, each once.
type mmapResolver struct {
	dir   string
	mu    sync.Mutex
	files map[string][]byte
	unmap []func() error
}

func newMmapResolver(dir string) *mmapResolver {
	return &mmapResolver{dir: dir, files: map[string][]byte{}}
}

// Resolve maps location (relative to the model folder) and returns
// [offset, offset+length); length < 0 means "to the end of the file".
func (r *mmapResolver) Resolve(location string, offset, length int64) ([]byte, error) {
	if r == nil || r.dir == "" {
		return nil, &FormatError{Msg: fmt.Sprintf("external data %q but the model was not loaded from a file", location)}
	}
	if location == "" || filepath.IsAbs(location) || !filepath.IsLocal(filepath.FromSlash(location)) {
		return nil, &FormatError{Msg: fmt.Sprintf("external data location %q escapes the model folder", location)}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	b, ok := r.files[location]
	if !ok {
		f, err := os.Open(filepath.Join(r.dir, filepath.FromSlash(location)))
		if err != nil {
			return nil, fmt.Errorf("onnx: external data: %w", err)
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("onnx: external data: %w", err)
		}
		m, unmap, err := mapFile(f, st.Size())
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("onnx: external data %q: %w", location, err)
		}
		r.files[location] = m
		r.unmap = append(r.unmap, unmap)
		b = m
	}
	if offset < 0 || offset > int64(len(b)) {
		return nil, &FormatError{Msg: fmt.Sprintf("external data %q: offset %d outside file of %d bytes", location, offset, len(b))}
	}
	if length < 0 {
		length = int64(len(b)) - offset
	}
	if length > int64(len(b))-offset {
		return nil, &FormatError{Msg: fmt.Sprintf("external data %q: %d bytes at offset %d exceed file of %d bytes", location, length, offset, len(b))}
	}
	return b[offset : offset+length : offset+length], nil
}

func (r *mmapResolver) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var first error
	for _, u := range r.unmap {
		if err := u(); err != nil && first == nil {
			first = err
		}
	}
	r.unmap = nil
	r.files = map[string][]byte{}
	return first
}

func externalRef(t *TensorProto) (loc string, off, length int64, err error) {
	length = -1
	for _, e := range t.ExternalData {
		switch e.Key {
		case "location":
			loc = e.Value
		case "offset", "length":
			v, perr := strconv.ParseInt(e.Value, 10, 64)
			if perr != nil || v < 0 || v > math.MaxInt64/2 {
				return "", 0, 0, &FormatError{Msg: fmt.Sprintf("tensor %q: bad external %s %q", t.Name, e.Key, e.Value)}
			}
			if e.Key == "offset" {
				off = v
			} else {
				length = v
			}
		}
	}
	if loc == "" {
		return "", 0, 0, &FormatError{Msg: fmt.Sprintf("tensor %q: external data without a location", t.Name)}
	}
	return loc, off, length, nil
}
