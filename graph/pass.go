package graph

import (
	"errors"
	"fmt"
	"sync"

	"github.com/txt2img/engine/tensor"
)

// Pass is a registered compile-time rewrite (a fusion, a clean-up) that runs
// after constant folding and shape inference, on the session's node list
// through a PassGraph. Run reports whether it changed anything; an error
// aborts the compile (a pass that merely finds nothing to do returns false).
type Pass interface {
	Name() string
	Run(g *PassGraph) (changed bool, err error)
}

// PassFunc adapts a named function to Pass.
type PassFunc struct {
	PassName string
	Fn       func(g *PassGraph) (bool, error)
}

// Name returns the pass name.
func (p PassFunc) Name() string { return p.PassName }

// Run calls Fn.
func (p PassFunc) Run(g *PassGraph) (bool, error) { return p.Fn(g) }

var (
	passMu sync.RWMutex
	passes []Pass
)

// RegisterPass appends a pass to the pipeline (after the built-in passes, in
// registration order) and its name to PassNames, so Options.DisablePasses
// can switch it off. It panics on a duplicate name (a programming error
// caught at init).
func RegisterPass(p Pass) {
	passMu.Lock()
	defer passMu.Unlock()
	for _, n := range PassNames {
		if n == p.Name() {
			panic(fmt.Sprintf("graph: pass %q registered twice", n))
		}
	}
	passes = append(passes, p)
	PassNames = append(PassNames, p.Name())
}

// maxPassRounds bounds the rounds of the registered passes: a rewrite can
// sharpen inferred types (a fused op has a shape function where the ops it
// replaced had none), which lets a later match of the same pass fire.
const maxPassRounds = 4

// runRegisteredPasses runs the enabled registered passes, in order, for up
// to maxPassRounds rounds, until a round changes nothing.
func (s *Session) runRegisteredPasses() error {
	passMu.RLock()
	ps := append([]Pass(nil), passes...)
	passMu.RUnlock()
	pg := &PassGraph{s: s}
	for round := 0; round < maxPassRounds; round++ {
		any := false
		for _, p := range ps {
			if !s.passEnabled(p.Name()) {
				continue
			}
			changed, err := p.Run(pg)
			if err != nil {
				return fmt.Errorf("graph: pass %s: %w", p.Name(), err)
			}
			if changed && s.passEnabled("infer-shapes") {
				s.inferShapes()
			}
			any = any || changed
		}
		if !any {
			break
		}
	}
	return nil
}

// PassGraph is the view of a session's compiled graph that passes read and
// rewrite. Nodes are addressed by the *Node pointers that Nodes returns;
// rewrites never modify the caller's Graph (a rewired node is copied).
type PassGraph struct {
	s *Session
	// Lazily rebuilt indexes, dropped after every rewrite.
	pos       map[*Node]int
	producer  map[int]int   // value id -> node index
	consumers map[int][]int // value id -> reading node indexes (in order)
	hidden    map[int]bool  // values read by a subgraph (free variables)
}

// ErrUnsafeRewrite is returned by Replace when the rewrite would drop a
// value that something outside the replaced nodes still reads, or would
// break the topological order.
var ErrUnsafeRewrite = errors.New("graph: unsafe rewrite")

func (g *PassGraph) index() {
	if g.pos != nil {
		return
	}
	g.pos = map[*Node]int{}
	g.producer = map[int]int{}
	g.consumers = map[int][]int{}
	g.hidden = map[int]bool{}
	for i, cn := range g.s.nodes {
		g.pos[cn.n] = i
		for _, id := range cn.out {
			if id >= 0 {
				g.producer[id] = i
			}
		}
		for _, id := range cn.in {
			if id >= 0 && (len(g.consumers[id]) == 0 || g.consumers[id][len(g.consumers[id])-1] != i) {
				g.consumers[id] = append(g.consumers[id], i)
			}
		}
		for _, fv := range freeVars(cn.n) {
			if id, ok := g.s.ids[fv]; ok {
				g.hidden[id] = true
				g.consumers[id] = append(g.consumers[id], i)
			}
		}
	}
}

func (g *PassGraph) invalidate() { g.pos = nil }

// Nodes returns the nodes in execution order (a snapshot).
func (g *PassGraph) Nodes() []*Node {
	out := make([]*Node, len(g.s.nodes))
	for i, cn := range g.s.nodes {
		out[i] = cn.n
	}
	return out
}

// Alive reports whether n is still in the graph.
func (g *PassGraph) Alive(n *Node) bool {
	g.index()
	_, ok := g.pos[n]
	return ok
}

// Producer returns the node computing value, or nil (graph input,
// initializer, folded constant, or a value of an enclosing graph).
func (g *PassGraph) Producer(value string) *Node {
	g.index()
	id, ok := g.s.ids[value]
	if !ok {
		return nil
	}
	if i, ok := g.producer[id]; ok {
		return g.s.nodes[i].n
	}
	return nil
}

// Consumers returns the nodes reading value (each once, in execution order),
// including nodes whose subgraphs read it.
func (g *PassGraph) Consumers(value string) []*Node {
	g.index()
	id, ok := g.s.ids[value]
	if !ok {
		return nil
	}
	var out []*Node
	for _, i := range g.consumers[id] {
		out = append(out, g.s.nodes[i].n)
	}
	return out
}

// SoleConsumer returns the only node reading value, or nil when the value
// has several readers, none, is read by a subgraph or is a graph output.
func (g *PassGraph) SoleConsumer(value string) *Node {
	if value == "" || g.IsOutput(value) {
		return nil
	}
	c := g.Consumers(value)
	if len(c) != 1 || g.hidden[g.s.ids[value]] {
		return nil
	}
	return c[0]
}

// IsOutput reports whether value is an output of the graph.
func (g *PassGraph) IsOutput(value string) bool {
	id, ok := g.s.ids[value]
	return ok && contains(g.s.outIDs, id)
}

// Const returns the compile-time value of a constant (initializer or folded
// value), or nil. Initializers that are also graph inputs are not constant.
func (g *PassGraph) Const(value string) *tensor.Tensor {
	id, ok := g.s.ids[value]
	if !ok || contains(g.s.inIDs, id) {
		return nil
	}
	return g.s.consts[id]
}

// Type returns the inferred type of value (ok=false when unknown).
func (g *PassGraph) Type(value string) (ValueType, bool) {
	if c := g.Const(value); c != nil {
		return valueTypeOf(c), true
	}
	return g.s.ValueType(value)
}

// Opset returns the version of domain the graph imports.
func (g *PassGraph) Opset(domain string) int { return g.s.g.Opset(domain) }

// AddConst adds a constant value under a fresh name derived from hint and
// returns the name.
func (g *PassGraph) AddConst(hint string, t *tensor.Tensor) string {
	name := hint
	for i := 1; ; i++ {
		if _, taken := g.s.ids[name]; !taken {
			break
		}
		name = fmt.Sprintf("%s_%d", hint, i)
	}
	id := len(g.s.names)
	g.s.ids[name] = id
	g.s.names = append(g.s.names, name)
	g.s.consts = append(g.s.consts, t)
	if g.s.types != nil {
		g.s.types = append(g.s.types, valueTypeOf(t))
	}
	return name
}

// Replace swaps the nodes old for the new node n, which must produce every
// value of old that is read outside old or is a graph output (normally the
// last node's outputs). n is compiled with the session's backends and takes
// the place of the last of old in execution order. It returns
// ErrUnsafeRewrite (and changes nothing) when a value that only old produces
// is still needed, or when an input of n is not ready at that place.
func (g *PassGraph) Replace(old []*Node, n *Node) error {
	g.index()
	s := g.s
	oldIdx := map[int]bool{}
	last := -1
	for _, o := range old {
		i, ok := g.pos[o]
		if !ok {
			return fmt.Errorf("%w: %s is not in the graph", ErrUnsafeRewrite, o)
		}
		oldIdx[i] = true
		last = max(last, i)
	}
	provided := map[string]bool{}
	for _, o := range n.Outputs {
		if o != "" {
			provided[o] = true
		}
	}
	for i := range oldIdx {
		for _, id := range s.nodes[i].out {
			if id < 0 || provided[s.names[id]] {
				continue
			}
			if contains(s.outIDs, id) || g.hidden[id] {
				return fmt.Errorf("%w: %q is still needed", ErrUnsafeRewrite, s.names[id])
			}
			for _, c := range g.consumers[id] {
				if !oldIdx[c] {
					return fmt.Errorf("%w: %q is still read by %s", ErrUnsafeRewrite, s.names[id], s.nodes[c].n)
				}
			}
		}
	}
	for o := range provided {
		id, ok := s.ids[o]
		if !ok {
			return fmt.Errorf("%w: new output %q", ErrUnsafeRewrite, o)
		}
		if p, ok := g.producer[id]; !ok || !oldIdx[p] {
			return fmt.Errorf("%w: %q is not produced by the replaced nodes", ErrUnsafeRewrite, o)
		}
	}
	var in []int
	for _, name := range n.Inputs {
		if name == "" {
			in = append(in, -1)
			continue
		}
		id, ok := s.ids[name]
		if !ok {
			return fmt.Errorf("%w: unknown input %q", ErrUnsafeRewrite, name)
		}
		if p, ok := g.producer[id]; ok && (p >= last || oldIdx[p]) {
			return fmt.Errorf("%w: input %q is not ready", ErrUnsafeRewrite, name)
		}
		in = append(in, id)
	}
	var out []int
	for _, name := range n.Outputs {
		if name == "" {
			out = append(out, -1)
			continue
		}
		out = append(out, s.ids[name])
	}
	cn := compiledNode{n: n, in: in, out: out, opset: s.g.Opset(n.Domain)}
	k, be, err := compileNode(n, cn.opset, s.opts.Backends)
	if err != nil {
		return err
	}
	cn.k, cn.backend = k, be
	kept := make([]compiledNode, 0, len(s.nodes)-len(oldIdx)+1)
	for i, c := range s.nodes {
		switch {
		case i == last:
			kept = append(kept, cn)
		case !oldIdx[i]:
			kept = append(kept, c)
		}
	}
	s.nodes = kept
	g.invalidate()
	return nil
}

// Bypass makes every reader of value from read value to instead and removes
// the producer of from when nothing reads it any more. It refuses (false)
// when from is a graph output or is read by a subgraph. Rewired nodes are
// copied, so the caller's Graph is left unchanged.
func (g *PassGraph) Bypass(from, to string) bool {
	g.index()
	s := g.s
	fid, ok1 := s.ids[from]
	tid, ok2 := s.ids[to]
	if !ok1 || !ok2 || fid == tid || contains(s.outIDs, fid) || g.hidden[fid] {
		return false
	}
	p, ok := g.producer[fid]
	if tp, tok := g.producer[tid]; ok && tok && tp >= p {
		return false
	}
	for _, c := range g.consumers[fid] {
		cn := &s.nodes[c]
		nn := *cn.n
		nn.Inputs = append([]string(nil), cn.n.Inputs...)
		cn.in = append([]int(nil), cn.in...)
		for j, id := range cn.in {
			if id == fid {
				cn.in[j] = tid
				nn.Inputs[j] = to
			}
		}
		cn.n = &nn
	}
	g.invalidate()
	if ok {
		g.RemoveDead(s.nodes[p].n)
	}
	return true
}

// RemoveDead removes n if none of its outputs is read or is a graph output.
func (g *PassGraph) RemoveDead(n *Node) bool {
	g.index()
	i, ok := g.pos[n]
	if !ok {
		return false
	}
	for _, id := range g.s.nodes[i].out {
		if id >= 0 && (len(g.consumers[id]) > 0 || contains(g.s.outIDs, id) || g.hidden[id]) {
			return false
		}
	}
	g.s.nodes = append(g.s.nodes[:i:i], g.s.nodes[i+1:]...)
	g.invalidate()
	return true
}
