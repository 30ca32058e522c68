package graph

import (
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/txt2img/engine/tensor"
)

// Kernel runs one compiled node. Inputs omitted in the model are nil.
// A Kernel must not keep or modify its inputs; it returns fresh outputs or
// views of inputs that it does not write.
type Kernel interface {
	Run(ec *ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error)
}

// KernelFunc adapts a function to Kernel.
type KernelFunc func(ec *ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error)

// Run calls f.
func (f KernelFunc) Run(ec *ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	return f(ec, in)
}

// RoomAware is implemented by kernels that read inputs which are not
// contiguous (tensors with room, see tensor.NewWithRoom) through their
// Strides. The executor hands every other kernel a compact copy of such an
// input. Wrap a kernel with AcceptRoom to declare it. (Concat is the one
// kernel that writes to an input: it appends into the room after its first
// input's view, which that view does not hold; see tensor.Tensor.Extend.)
type RoomAware interface {
	Kernel
	AcceptsRoom()
}

// AcceptRoom marks k as RoomAware.
func AcceptRoom(k Kernel) Kernel { return roomKernel{k} }

type roomKernel struct{ Kernel }

func (roomKernel) AcceptsRoom() {}

// Factory compiles a node into a kernel. opset is the version of the node's
// domain that the model imports. Factories read and validate attributes here,
// once, so Run does no attribute parsing.
type Factory func(n *Node, opset int) (Kernel, error)

type regEntry struct {
	since, until int // inclusive opset range; until 0 means open
	f            Factory
}

var (
	regMu    sync.RWMutex
	registry = map[string][]regEntry{}
)

func regKey(domain, op string) string {
	if domain == "ai.onnx" {
		domain = ""
	}
	return domain + "\x00" + op
}

// Register adds a kernel factory for op in domain, valid from opset since up
// to opset until (0: no upper bound). It panics on an overlapping registration
// (a programming error caught at init).
func Register(domain, op string, since, until int, f Factory) {
	regMu.Lock()
	defer regMu.Unlock()
	k := regKey(domain, op)
	for _, e := range registry[k] {
		if overlaps(e.since, e.until, since, until) {
			panic(fmt.Sprintf("graph: %q %s registered twice for overlapping opsets", domain, op))
		}
	}
	registry[k] = append(registry[k], regEntry{since, until, f})
	sort.Slice(registry[k], func(i, j int) bool { return registry[k][i].since < registry[k][j].since })
}

func overlaps(a0, a1, b0, b1 int) bool {
	if a1 == 0 {
		a1 = 1 << 30
	}
	if b1 == 0 {
		b1 = 1 << 30
	}
	return a0 <= b1 && b0 <= a1
}

// Lookup finds the factory for op at the given opset.
func Lookup(domain, op string, opset int) (Factory, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	es := registry[regKey(domain, op)]
	for i := len(es) - 1; i >= 0; i-- {
		e := es[i]
		if opset >= e.since && (e.until == 0 || opset <= e.until) {
			return e.f, true
		}
	}
	// A model may import a domain at a version older than our first
	// registration while the op's semantics are unchanged; use the oldest.
	if len(es) > 0 && opset < es[0].since && opset == 0 {
		return es[0].f, true
	}
	return nil, false
}

// Registered lists every registered (domain, op) as "domain:op" strings.
func Registered() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	var out []string
	for k := range registry {
		d, op := splitKey(k)
		if d == "" {
			d = "ai.onnx"
		}
		out = append(out, d+":"+op)
	}
	sort.Strings(out)
	return out
}

func splitKey(k string) (string, string) {
	for i := 0; i < len(k); i++ {
		if k[i] == 0 {
			return k[:i], k[i+1:]
		}
	}
	return "", k
}

// ErrNotSupported is returned by a Backend that cannot run a node.
var ErrNotSupported = errors.New("graph: op not supported by backend")

// UnsupportedOpError reports an op no backend implements.
type UnsupportedOpError struct {
	Domain, OpType string
	Opset          int
	Node           string
}

func (e *UnsupportedOpError) Error() string {
	d := e.Domain
	if d == "" {
		d = "ai.onnx"
	}
	return fmt.Sprintf("graph: unsupported op %s (domain %s, opset %d) at node %q", e.OpType, d, e.Opset, e.Node)
}

// ShapeError reports inputs whose shapes a node cannot accept.
type ShapeError struct {
	Node, Op string
	Msg      string
}

func (e *ShapeError) Error() string {
	return fmt.Sprintf("graph: node %q (%s): %s", e.Node, e.Op, e.Msg)
}
