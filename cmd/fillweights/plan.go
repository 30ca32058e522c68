package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/txt2img/engine/onnx"
	"github.com/txt2img/engine/tensor"
)

// initializers.json, as written by tools/fixtures/*_fixtures.py --fullsize.
type jsonInits struct {
	ExternalDataFiles []string   `json:"external_data_files"`
	Initializers      []jsonInit `json:"initializers"`
}

type jsonInit struct {
	Name     string        `json:"name"`
	DType    string        `json:"dtype"`
	Shape    []int64       `json:"shape"`
	Inline   bool          `json:"inline"`
	External *jsonExternal `json:"external"`
}

type jsonExternal struct {
	Location string `json:"location"`
	Offset   int64  `json:"offset"`
	Length   int64  `json:"length"`
}

// graph.json: only the parts fillweights reads.
type graphJSON struct {
	IO struct {
		Inputs  []ioEntry `json:"inputs"`
		Outputs []ioEntry `json:"outputs"`
	} `json:"io"`
	DataBytes int64 `json:"data_bytes"`
}

type ioEntry struct {
	Name  string `json:"name"`
	DType string `json:"dtype"`
	Shape []any  `json:"shape"`
}

// entry is one external initializer to write.
type entry struct {
	name     string
	dt       tensor.DType
	shape    []int
	location string
	offset   int64
	length   int64
	rule     rule
}

// plan is everything fillweights writes, checked before any byte is written.
type plan struct {
	dir       string
	modelPath string
	model     *onnx.ModelProto
	graphJSON *graphJSON // nil when the folder has no graph.json
	entries   []*entry   // sorted by location, then offset
	numInline int
}

// parseDType maps the dtype names used in the JSON files ("float", "float16",
// "int64", …) to a tensor.DType.
func parseDType(s string) (tensor.DType, bool) {
	switch s {
	case "float":
		return tensor.Float, true
	case "double":
		return tensor.Double, true
	}
	return tensor.ParseDType(s)
}

func loadPlan(dir string) (*plan, error) {
	p := &plan{dir: dir, modelPath: filepath.Join(dir, "model.onnx")}
	mb, err := os.ReadFile(p.modelPath)
	if err != nil {
		return nil, fmt.Errorf("fillweights: %w", err)
	}
	// DecodeModel only parses the protobuf: external data is not opened.
	if p.model, err = onnx.DecodeModel(mb); err != nil {
		return nil, fmt.Errorf("fillweights: %s: %w", p.modelPath, err)
	}
	if p.model.Graph == nil {
		return nil, fmt.Errorf("fillweights: %s: model has no graph", p.modelPath)
	}
	ijPath := filepath.Join(dir, "initializers.json")
	var ij jsonInits
	if err := readJSON(ijPath, &ij); err != nil {
		return nil, err
	}
	gjPath := filepath.Join(dir, "graph.json")
	var gj graphJSON
	if err := readJSON(gjPath, &gj); err == nil {
		p.graphJSON = &gj
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}

	// Index the model's initializers.
	type modelInit struct {
		t        *onnx.TensorProto
		external bool
		location string
		offset   int64
		length   int64 // -1: not given
	}
	inModel := map[string]*modelInit{}
	for _, t := range p.model.Graph.Initializers {
		mi := &modelInit{t: t, length: -1}
		if t.DataLocation == onnx.LocationExternal {
			mi.external = true
			for _, kv := range t.ExternalData {
				var err error
				switch kv.Key {
				case "location":
					mi.location = kv.Value
				case "offset":
					mi.offset, err = strconv.ParseInt(kv.Value, 10, 64)
				case "length":
					mi.length, err = strconv.ParseInt(kv.Value, 10, 64)
				}
				if err != nil {
					return nil, fmt.Errorf("fillweights: %s: initializer %q: bad external_data %s=%q", p.modelPath, t.Name, kv.Key, kv.Value)
				}
			}
		}
		inModel[t.Name] = mi
	}

	listed := map[string]bool{}
	for _, f := range ij.ExternalDataFiles {
		listed[f] = true
	}
	seen := map[string]bool{}
	for i, ji := range ij.Initializers {
		where := fmt.Sprintf("fillweights: %s: initializer %d (%q)", ijPath, i, ji.Name)
		if ji.Name == "" {
			return nil, fmt.Errorf("%s: no name", where)
		}
		if seen[ji.Name] {
			return nil, fmt.Errorf("%s: listed twice", where)
		}
		seen[ji.Name] = true
		dt, ok := parseDType(ji.DType)
		if !ok {
			return nil, fmt.Errorf("%s: unknown dtype %q", where, ji.DType)
		}
		mi := inModel[ji.Name]
		if mi == nil {
			return nil, fmt.Errorf("%s: not an initializer of model.onnx", where)
		}
		if tensor.DType(mi.t.DataType) != dt {
			return nil, fmt.Errorf("%s: dtype %s, but model.onnx stores %s", where, dt, tensor.DType(mi.t.DataType))
		}
		if !sameDims(ji.Shape, mi.t.Dims) {
			return nil, fmt.Errorf("%s: shape %v, but model.onnx has %v", where, ji.Shape, mi.t.Dims)
		}
		if ji.Inline {
			if ji.External != nil {
				return nil, fmt.Errorf("%s: both inline and external", where)
			}
			if mi.external {
				return nil, fmt.Errorf("%s: inline in the json but external in model.onnx", where)
			}
			p.numInline++
			continue
		}
		x := ji.External
		if x == nil {
			return nil, fmt.Errorf("%s: neither inline nor external", where)
		}
		if !mi.external {
			return nil, fmt.Errorf("%s: external in the json but inline in model.onnx", where)
		}
		if x.Location == "" || filepath.IsAbs(x.Location) || !filepath.IsLocal(filepath.FromSlash(x.Location)) {
			return nil, fmt.Errorf("%s: external location %q must be a file name inside the graph folder", where, x.Location)
		}
		if len(listed) > 0 && !listed[x.Location] {
			return nil, fmt.Errorf("%s: location %q is not in external_data_files %v", where, x.Location, ij.ExternalDataFiles)
		}
		if x.Offset < 0 || x.Length < 0 {
			return nil, fmt.Errorf("%s: negative offset %d or length %d", where, x.Offset, x.Length)
		}
		if dt.Bits() < 8 || dt == tensor.String || dt.Size() == 0 {
			return nil, fmt.Errorf("%s: dtype %s cannot be filled (sub-byte or variable size)", where, dt)
		}
		shape := make([]int, len(ji.Shape))
		n := int64(1)
		for k, d := range ji.Shape {
			if d < 0 || d > 1<<40 {
				return nil, fmt.Errorf("%s: bad dimension %d", where, d)
			}
			shape[k] = int(d)
			if n = n * d; n > 1<<40 {
				return nil, fmt.Errorf("%s: shape %v too large", where, ji.Shape)
			}
		}
		if want := n * int64(dt.Size()); x.Length != want {
			return nil, fmt.Errorf("%s: length %d, but %s%v takes %d bytes", where, x.Length, dt, ji.Shape, want)
		}
		if mi.location != x.Location || mi.offset != x.Offset || (mi.length >= 0 && mi.length != x.Length) {
			return nil, fmt.Errorf("%s: json says %s offset %d length %d, model.onnx says %s offset %d length %d",
				where, x.Location, x.Offset, x.Length, mi.location, mi.offset, mi.length)
		}
		p.entries = append(p.entries, &entry{name: ji.Name, dt: dt, shape: shape,
			location: x.Location, offset: x.Offset, length: x.Length})
	}
	for name, mi := range inModel {
		if mi.external && !seen[name] {
			return nil, fmt.Errorf("fillweights: %s: external initializer %q of model.onnx is missing from initializers.json", p.modelPath, name)
		}
	}
	sort.Slice(p.entries, func(i, j int) bool {
		a, b := p.entries[i], p.entries[j]
		if a.location != b.location {
			return a.location < b.location
		}
		return a.offset < b.offset
	})
	ends := map[string]int64{}
	for i, e := range p.entries {
		if i > 0 {
			if q := p.entries[i-1]; q.location == e.location && e.offset < q.offset+q.length {
				return nil, fmt.Errorf("fillweights: %s: %q [%d, %d) overlaps %q [%d, %d) in %s",
					ijPath, e.name, e.offset, e.offset+e.length, q.name, q.offset, q.offset+q.length, e.location)
			}
		}
		ends[e.location] = max(ends[e.location], e.offset+e.length)
	}
	if p.graphJSON != nil && p.graphJSON.DataBytes > 0 && len(ends) == 1 {
		for loc, end := range ends {
			if end > p.graphJSON.DataBytes {
				return nil, fmt.Errorf("fillweights: %s: initializers reach byte %d of %s, beyond data_bytes %d in graph.json",
					ijPath, end, loc, p.graphJSON.DataBytes)
			}
		}
	}
	if err := classify(p); err != nil {
		return nil, err
	}
	return p, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("fillweights: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("fillweights: %s: %w", path, err)
	}
	return nil
}

func sameDims(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// dataBytes is the size of each external-data file: the end of its last
// initializer, or graph.json's data_bytes when that is larger (trailing
// padding of the original file).
func (p *plan) dataBytes() map[string]int64 {
	ends := map[string]int64{}
	for _, e := range p.entries {
		ends[e.location] = max(ends[e.location], e.offset+e.length)
	}
	if p.graphJSON != nil && len(ends) == 1 {
		for loc := range ends {
			ends[loc] = max(ends[loc], p.graphJSON.DataBytes)
		}
	}
	return ends
}

// ruleCounts counts entries per rule kind.
func (p *plan) ruleCounts() map[string]int {
	c := map[string]int{}
	for _, e := range p.entries {
		c[e.rule.kind]++
	}
	return c
}

func fmtBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d B", n)
}
