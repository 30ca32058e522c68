package graph

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/txt2img/engine/tensor"
)

// Options configure a Session.
type Options struct {
	// Backends in order of preference; nil means CPU only.
	Backends []Backend
	// Threads is the number of worker goroutines kernels may use (0: GOMAXPROCS).
	Threads int
	// Profile records time per op type (see Session.Profile).
	Profile bool
	// DisablePasses names graph passes to skip (see PassNames), for bisecting.
	DisablePasses []string
	// InputShapes fixes the shapes of graph inputs whose declared dims are
	// symbolic, so shape inference can fold the shape arithmetic of the graph.
	InputShapes map[string][]int
}

// Session is a compiled graph, ready to Run. A Session is safe for use by one
// goroutine at a time.
type Session struct {
	g      *Graph
	opts   Options
	nodes  []compiledNode
	names  []string       // value id -> name
	ids    map[string]int // name -> value id
	consts []*tensor.Tensor
	outer  []int // ids whose value comes from an enclosing graph
	inIDs  []int
	outIDs []int
	// lastUse[id] is the index of the last node reading the value (-1: none).
	lastUse []int
	keep    []bool // graph outputs and constants are never released

	mu   sync.Mutex
	subs map[*Graph]*Session
	prof *Profile
	pool bufPool
	// constSet holds every constant value (initializers and folded
	// values) for ExecContext.IsConst.
	constSet map[*tensor.Tensor]bool
	memoMu   sync.Mutex
	memo     map[any]any
	// types holds the inferred type of each value id (see inferShapes).
	types []ValueType
}

type compiledNode struct {
	n       *Node
	k       Kernel
	in, out []int
	opset   int
	backend string
	// room: the kernel reads non-contiguous inputs itself (RoomAware).
	room bool
}

// ExecContext is what a kernel sees while it runs.
type ExecContext struct {
	Ctx     context.Context
	Node    *Node
	Threads int
	sess    *Session
	sc      *scope
	// owned holds the buffers this run took from the session's pool.
	owned map[*byte]bool
	// temps are the running kernel's scratch buffers (TempF32).
	temps [][]byte
}

// TempF32 returns a float32 scratch buffer of length n for the running
// kernel, recycled through the session's pool: it goes back to the pool
// when the kernel returns, so it must not be part of an output (the
// executor checks and leaves an overlapping buffer alone). Its contents are
// undefined. Large temporaries come back already faulted in, which spares
// the page faults of fresh memory on every run.
func (ec *ExecContext) TempF32(n int) []float32 {
	if n <= 0 {
		return nil
	}
	if ec == nil || ec.sess == nil || 4*n < minPooledBytes {
		return make([]float32, n)
	}
	b := ec.sess.pool.get(4 * n)
	if b == nil {
		b = make([]byte, 4*n)
	}
	ec.temps = append(ec.temps, b)
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), n)
}

// releaseTemps returns the kernel's scratch buffers to the pool, except
// any that an output uses.
func (ec *ExecContext) releaseTemps(outs []*tensor.Tensor) {
	for i, b := range ec.temps {
		live := false
		for _, o := range outs {
			if liveOverlap(o, b) {
				live = true
				break
			}
		}
		if !live {
			ec.sess.pool.put(b)
		}
		ec.temps[i] = nil
	}
	ec.temps = ec.temps[:0]
}

// Alloc returns a zeroed tensor whose buffer may be recycled from values the
// executor has released (their last reader has run). Kernels should allocate
// their outputs with it; tensor.New works too but bypasses reuse.
func (ec *ExecContext) Alloc(dt tensor.DType, shape ...int) *tensor.Tensor {
	if ec == nil || ec.sess == nil || dt == tensor.String || ec.owned == nil {
		return tensor.New(dt, shape...)
	}
	n := tensor.Numel(shape) * dt.Size()
	if n < minPooledBytes {
		return tensor.New(dt, shape...)
	}
	var t *tensor.Tensor
	if b := ec.sess.pool.get(n); b != nil {
		clear(b)
		t, _ = tensor.Wrap(dt, shape, b)
	}
	if t == nil {
		t = tensor.New(dt, shape...)
	}
	ec.owned[&t.Bytes()[0]] = true
	return t
}

type scope struct {
	s      *Session
	env    []*tensor.Tensor
	parent *scope
}

func (sc *scope) lookup(name string) (*tensor.Tensor, bool) {
	for ; sc != nil; sc = sc.parent {
		if id, ok := sc.s.ids[name]; ok {
			if v := sc.env[id]; v != nil {
				return v, true
			}
			if c := sc.s.consts[id]; c != nil {
				return c, true
			}
		}
	}
	return nil, false
}

// NewSession compiles g. Errors name the first node that cannot be compiled.
func NewSession(g *Graph, opts Options) (*Session, error) {
	return newSession(g, opts, nil)
}

func newSession(g *Graph, opts Options, outerNames map[string]bool) (*Session, error) {
	if len(opts.Backends) == 0 {
		opts.Backends = []Backend{CPU{}}
	}
	if opts.Threads <= 0 {
		opts.Threads = runtime.GOMAXPROCS(0)
	}
	s := &Session{g: g, opts: opts, ids: map[string]int{}, subs: map[*Graph]*Session{}}
	if opts.Profile {
		s.prof = &Profile{ByOp: map[string]*OpStat{}, ByNode: map[string]*NodeStat{}}
	}
	id := func(name string) int {
		if i, ok := s.ids[name]; ok {
			return i
		}
		s.ids[name] = len(s.names)
		s.names = append(s.names, name)
		s.consts = append(s.consts, nil)
		return len(s.names) - 1
	}
	defined := map[string]bool{}
	for name, t := range g.Initializers {
		s.consts[id(name)] = t
		defined[name] = true
	}
	for _, in := range g.Inputs {
		s.inIDs = append(s.inIDs, id(in.Name))
		defined[in.Name] = true
	}
	order, err := topoSort(g, defined, outerNames)
	if err != nil {
		return nil, err
	}
	for _, n := range order {
		for _, o := range n.Outputs {
			if o != "" {
				defined[o] = true
			}
		}
	}
	for _, n := range order {
		cn := compiledNode{n: n, opset: g.Opset(n.Domain)}
		for _, name := range n.Inputs {
			if name == "" {
				cn.in = append(cn.in, -1)
				continue
			}
			i := id(name)
			if !defined[name] && !contains(s.outer, i) {
				s.outer = append(s.outer, i)
			}
			cn.in = append(cn.in, i)
		}
		for _, name := range n.Outputs {
			if name == "" {
				cn.out = append(cn.out, -1)
				continue
			}
			cn.out = append(cn.out, id(name))
		}
		// Free variables of subgraphs are implicit inputs from this graph.
		for _, fv := range freeVars(n) {
			i := id(fv)
			if !defined[fv] && !contains(s.outer, i) {
				s.outer = append(s.outer, i)
			}
		}
		k, be, err := compileNode(n, cn.opset, opts.Backends)
		if err != nil {
			return nil, err
		}
		cn.k, cn.backend = k, be
		_, cn.room = k.(RoomAware)
		s.nodes = append(s.nodes, cn)
	}
	for _, o := range g.Outputs {
		if _, ok := s.ids[o.Name]; !ok && !outerNames[o.Name] {
			return nil, fmt.Errorf("graph: output %q is never produced", o.Name)
		}
		s.outIDs = append(s.outIDs, id(o.Name))
	}
	if err := s.runPasses(); err != nil {
		return nil, err
	}
	s.computeLiveness()
	s.constSet = map[*tensor.Tensor]bool{}
	for _, c := range s.consts {
		if c != nil {
			s.constSet[c] = true
		}
	}
	return s, nil
}

// IsConst reports whether t is a constant of the running graph or of an
// enclosing one (an initializer or a value folded at compile time): its
// contents never change while the session lives, so a kernel may keep data
// derived from it (see Memo).
func (ec *ExecContext) IsConst(t *tensor.Tensor) bool {
	if ec == nil || t == nil {
		return false
	}
	for sc := ec.sc; sc != nil; sc = sc.parent {
		if sc.s.constSet[t] {
			return true
		}
	}
	return false
}

// Memo returns the value stored under key in the session's memo, calling
// build to make it the first time (for data derived from constants, such
// as prepacked weights; key should include the constant tensor so nodes
// sharing a weight share its derived form). The memo lives as long as the
// session. build runs under the memo's lock.
func (ec *ExecContext) Memo(key any, build func() any) any {
	if ec == nil || ec.sess == nil {
		return build()
	}
	s := ec.sess
	s.memoMu.Lock()
	defer s.memoMu.Unlock()
	if v, ok := s.memo[key]; ok {
		return v
	}
	if s.memo == nil {
		s.memo = map[any]any{}
	}
	v := build()
	s.memo[key] = v
	return v
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func compileNode(n *Node, opset int, backends []Backend) (Kernel, string, error) {
	for _, b := range backends {
		k, err := b.Compile(n, opset)
		if errors.Is(err, ErrNotSupported) {
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("graph: %s: %w", n, err)
		}
		return k, b.Name(), nil
	}
	return nil, "", &UnsupportedOpError{Domain: n.Domain, OpType: n.OpType, Opset: opset, Node: n.Name}
}

// freeVars returns the names a node's subgraphs read from enclosing scopes.
func freeVars(n *Node) []string {
	var out []string
	seen := map[string]bool{}
	for _, g := range n.Subgraphs() {
		for _, v := range graphFreeVars(g) {
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	return out
}

func graphFreeVars(g *Graph) []string {
	def := map[string]bool{}
	for k := range g.Initializers {
		def[k] = true
	}
	for _, in := range g.Inputs {
		def[in.Name] = true
	}
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			def[o] = true
		}
	}
	var out []string
	seen := map[string]bool{}
	add := func(v string) {
		if v != "" && !def[v] && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			add(in)
		}
		for _, v := range freeVars(n) {
			add(v)
		}
	}
	for _, o := range g.Outputs {
		add(o.Name)
	}
	return out
}

// topoSort orders nodes so every input is produced before use (stable for
// graphs that are already sorted, as ONNX requires).
func topoSort(g *Graph, defined, outer map[string]bool) ([]*Node, error) {
	producer := map[string]int{}
	for i, n := range g.Nodes {
		for _, o := range n.Outputs {
			if o != "" {
				producer[o] = i
			}
		}
	}
	state := make([]uint8, len(g.Nodes)) // 0 new, 1 visiting, 2 done
	var order []*Node
	var visit func(i int) error
	visit = func(i int) error {
		switch state[i] {
		case 1:
			return fmt.Errorf("graph: cycle through %s", g.Nodes[i])
		case 2:
			return nil
		}
		state[i] = 1
		n := g.Nodes[i]
		deps := append([]string(nil), n.Inputs...)
		deps = append(deps, freeVars(n)...)
		for _, in := range deps {
			if in == "" || defined[in] {
				continue
			}
			p, ok := producer[in]
			if !ok {
				if outer != nil && outer[in] {
					continue
				}
				if outer != nil {
					// may still be defined further out; resolved at run time
					continue
				}
				return fmt.Errorf("graph: %s reads %q, which nothing produces", n, in)
			}
			if err := visit(p); err != nil {
				return err
			}
		}
		state[i] = 2
		order = append(order, n)
		return nil
	}
	for i := range g.Nodes {
		if err := visit(i); err != nil {
			return nil, err
		}
	}
	return order, nil
}

func (s *Session) computeLiveness() {
	s.lastUse = make([]int, len(s.names))
	for i := range s.lastUse {
		s.lastUse[i] = -1
	}
	for ni, cn := range s.nodes {
		for _, i := range cn.in {
			if i >= 0 {
				s.lastUse[i] = ni
			}
		}
		for _, fv := range freeVars(cn.n) {
			s.lastUse[s.ids[fv]] = ni
		}
	}
	s.keep = make([]bool, len(s.names))
	for _, i := range s.outIDs {
		s.keep[i] = true
	}
}

// Graph returns the compiled graph.
func (s *Session) Graph() *Graph { return s.g }

// InputNames lists the graph inputs in order (initializer-backed inputs included).
func (s *Session) InputNames() []string {
	var out []string
	for _, in := range s.g.Inputs {
		out = append(out, in.Name)
	}
	return out
}

// OutputNames lists the graph outputs in order.
func (s *Session) OutputNames() []string {
	var out []string
	for _, o := range s.g.Outputs {
		out = append(out, o.Name)
	}
	return out
}

// NodeCount returns the number of nodes left after compile-time passes.
func (s *Session) NodeCount() int { return len(s.nodes) }

// OpCounts returns how many compiled nodes there are of each op type.
func (s *Session) OpCounts() map[string]int {
	m := map[string]int{}
	for _, cn := range s.nodes {
		m[cn.n.OpType]++
	}
	return m
}

// Run executes the graph. inputs maps graph input names to values; inputs that
// have an initializer may be omitted. It returns every graph output by name.
func (s *Session) Run(ctx context.Context, inputs map[string]*tensor.Tensor) (map[string]*tensor.Tensor, error) {
	ordered := make([]*tensor.Tensor, len(s.g.Inputs))
	for i, in := range s.g.Inputs {
		ordered[i] = inputs[in.Name]
	}
	for name := range inputs {
		if _, ok := s.ids[name]; !ok {
			return nil, fmt.Errorf("graph: %q is not an input of the graph", name)
		}
	}
	outs, err := s.run(ctx, ordered, nil)
	if err != nil {
		return nil, err
	}
	m := make(map[string]*tensor.Tensor, len(outs))
	for i, o := range s.g.Outputs {
		m[o.Name] = outs[i]
	}
	return m, nil
}

func (s *Session) run(ctx context.Context, inputs []*tensor.Tensor, parent *scope) ([]*tensor.Tensor, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	env := make([]*tensor.Tensor, len(s.names))
	sc := &scope{s: s, env: env, parent: parent}
	for i, id := range s.inIDs {
		var v *tensor.Tensor
		if i < len(inputs) {
			v = inputs[i]
		}
		if v == nil {
			if s.consts[id] != nil {
				continue
			}
			return nil, fmt.Errorf("graph: missing input %q", s.names[id])
		}
		if err := checkInput(s.g.Inputs[i], v); err != nil {
			return nil, err
		}
		env[id] = v
	}
	for _, id := range s.outer {
		if v, ok := parent.lookup(s.names[id]); ok {
			env[id] = v
		}
	}
	ec := &ExecContext{Ctx: ctx, Threads: s.opts.Threads, sess: s, sc: sc, owned: map[*byte]bool{}}
	in := make([]*tensor.Tensor, 0, 8)
	for ni := range s.nodes {
		cn := &s.nodes[ni]
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		in = in[:0]
		for _, id := range cn.in {
			if id < 0 {
				in = append(in, nil)
				continue
			}
			v := env[id]
			if v == nil {
				v = s.consts[id]
			}
			if v == nil {
				return nil, fmt.Errorf("graph: %s: input %q has no value", cn.n, s.names[id])
			}
			if !cn.room && !v.Contiguous() {
				v = v.Compact()
			}
			in = append(in, v)
		}
		ec.Node = cn.n
		var t0 time.Time
		if s.prof != nil {
			t0 = time.Now()
		}
		outs, err := safeRun(cn.k, ec, in)
		if len(ec.temps) > 0 {
			ec.releaseTemps(outs)
		}
		if err != nil {
			if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				return nil, err
			}
			return nil, fmt.Errorf("graph: %s: %w", cn.n, err)
		}
		if s.prof != nil {
			s.prof.add(cn.n, in, time.Since(t0))
		}
		if len(outs) < countNonEmpty(cn.out) {
			return nil, fmt.Errorf("graph: %s returned %d outputs, want %d", cn.n, len(outs), len(cn.out))
		}
		for i, id := range cn.out {
			if id >= 0 && i < len(outs) {
				env[id] = outs[i]
			}
		}
		// Release values whose last reader was this node; recycle buffers
		// that came from the pool once no live value overlaps them.
		for _, id := range cn.in {
			if id >= 0 && s.lastUse[id] == ni && !s.keep[id] && env[id] != nil {
				v := env[id]
				env[id] = nil
				s.recycle(ec, env, v)
			}
		}
	}
	res := make([]*tensor.Tensor, len(s.outIDs))
	for i, id := range s.outIDs {
		v := env[id]
		if v == nil {
			v = s.consts[id]
		}
		if v == nil && parent != nil {
			v, _ = parent.lookup(s.names[id])
		}
		if v == nil {
			return nil, fmt.Errorf("graph: output %q was not computed", s.names[id])
		}
		res[i] = v
	}
	return res, nil
}

func countNonEmpty(ids []int) int {
	n := 0
	for _, id := range ids {
		if id >= 0 {
			n++
		}
	}
	return n
}

// checkInput validates a caller-supplied input against the declared type.
func checkInput(vi ValueInfo, v *tensor.Tensor) error {
	t := vi.Type
	if t.Kind != v.Kind {
		return nil // sequence/optional declared loosely in some files
	}
	if t.Kind != tensor.KindTensor {
		return nil
	}
	if t.DType != tensor.Undefined && v.DType() != t.DType {
		return fmt.Errorf("graph: input %q: got %s, want %s", vi.Name, v.DType(), t.DType)
	}
	if t.HasShape {
		if len(t.Shape) != v.Rank() {
			return fmt.Errorf("graph: input %q: got shape %v, want rank %d", vi.Name, v.Shape(), len(t.Shape))
		}
		for i, d := range t.Shape {
			if d >= 0 && d != v.Shape()[i] {
				return fmt.Errorf("graph: input %q: got shape %v, want %v", vi.Name, v.Shape(), t.Shape)
			}
		}
	}
	return nil
}

// RunGraph runs a subgraph (If/Loop/Scan bodies) with the given inputs in the
// scope of the running node, so the body can read the enclosing graph's values.
func (ec *ExecContext) RunGraph(g *Graph, inputs []*tensor.Tensor) ([]*tensor.Tensor, error) {
	s := ec.sess
	s.mu.Lock()
	sub := s.subs[g]
	s.mu.Unlock()
	if sub == nil {
		outer := map[string]bool{}
		for sc := ec.sc; sc != nil; sc = sc.parent {
			for name := range sc.s.ids {
				outer[name] = true
			}
		}
		var err error
		sub, err = newSession(g, s.opts, outer)
		if err != nil {
			return nil, err
		}
		sub.prof = s.prof
		s.mu.Lock()
		s.subs[g] = sub
		s.mu.Unlock()
	}
	return sub.run(ec.Ctx, inputs, ec.sc)
}

// Profile is time spent per op type, and per node and input shapes, across
// runs.
type Profile struct {
	mu     sync.Mutex
	ByOp   map[string]*OpStat
	ByNode map[string]*NodeStat
}

// NodeStat is the accumulated time of one node with one set of input
// shapes.
type NodeStat struct {
	Node   string // node name (or "#index" when unnamed)
	Op     string
	Shapes string // input shapes, e.g. "[1 512 64 64] [512 512 3 3]"
	Calls  int
	Total  time.Duration
}

// OpStat is the accumulated time and call count of one op type.
type OpStat struct {
	Op    string
	Calls int
	Total time.Duration
}

func (p *Profile) add(n *Node, in []*tensor.Tensor, d time.Duration) {
	op := n.OpType
	var b strings.Builder
	for i, t := range in {
		if i > 0 {
			b.WriteByte(' ')
		}
		if t == nil {
			b.WriteString("-")
			continue
		}
		fmt.Fprint(&b, t.Shape())
	}
	shapes := b.String()
	name := n.Name
	if name == "" {
		name = op
	}
	key := name + "\x00" + shapes
	p.mu.Lock()
	ns := p.ByNode[key]
	if ns == nil {
		ns = &NodeStat{Node: name, Op: op, Shapes: shapes}
		p.ByNode[key] = ns
	}
	ns.Calls++
	ns.Total += d
	st := p.ByOp[op]
	if st == nil {
		st = &OpStat{Op: op}
		p.ByOp[op] = st
	}
	st.Calls++
	st.Total += d
	p.mu.Unlock()
}

// Profile returns the op-type timings, slowest first (nil unless Options.Profile).
func (s *Session) Profile() []OpStat {
	if s.prof == nil {
		return nil
	}
	s.prof.mu.Lock()
	defer s.prof.mu.Unlock()
	var out []OpStat
	for _, st := range s.prof.ByOp {
		out = append(out, *st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Total > out[j].Total })
	return out
}

// NodeProfile returns the per-node timings (node, op and input shapes),
// slowest first (nil unless Options.Profile).
func (s *Session) NodeProfile() []NodeStat {
	if s.prof == nil {
		return nil
	}
	s.prof.mu.Lock()
	defer s.prof.mu.Unlock()
	var out []NodeStat
	for _, st := range s.prof.ByNode {
		out = append(out, *st)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Total != out[j].Total {
			return out[i].Total > out[j].Total
		}
		return out[i].Node < out[j].Node
	})
	return out
}

// ResetProfile clears the timings.
func (s *Session) ResetProfile() {
	if s.prof != nil {
		s.prof.mu.Lock()
		s.prof.ByOp = map[string]*OpStat{}
		s.prof.ByNode = map[string]*NodeStat{}
		s.prof.mu.Unlock()
	}
}

// safeRun runs a kernel and turns a panic (a kernel bug or an input no check
// caught) into an error, so a malformed model never crashes the caller.
func safeRun(k Kernel, ec *ExecContext, in []*tensor.Tensor) (outs []*tensor.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			outs, err = nil, fmt.Errorf("internal error: %v", r)
		}
	}()
	return k.Run(ec, in)
}

// recycle returns v's buffer to the pool if this run allocated it from there
// and no live value (a view, a graph output) still overlaps it.
func (s *Session) recycle(ec *ExecContext, env []*tensor.Tensor, v *tensor.Tensor) {
	b := v.Bytes()
	if len(b) == 0 || !ec.owned[&b[0]] || len(b) < minPooledBytes {
		return
	}
	for _, o := range env {
		if liveOverlap(o, b) {
			return
		}
	}
	delete(ec.owned, &b[0])
	s.pool.put(b)
}

func overlapsBytes(a, b []byte) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	a0, b0 := uintptr(unsafe.Pointer(&a[0])), uintptr(unsafe.Pointer(&b[0]))
	return a0 < b0+uintptr(len(b)) && b0 < a0+uintptr(len(a))
}

// minPooledBytes: smaller buffers are cheaper to leave to the garbage collector.
const minPooledBytes = 4096

// bufPool keeps released buffers by exact byte length.
type bufPool struct {
	mu    sync.Mutex
	free  map[int][][]byte
	bytes int
}

// maxPoolBytes bounds what the pool may hold so an unusual graph cannot pin
// unbounded memory (1 GiB).
const maxPoolBytes = 1 << 30

func (p *bufPool) get(n int) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.free[n]
	if len(l) == 0 {
		return nil
	}
	b := l[len(l)-1]
	p.free[n] = l[:len(l)-1]
	p.bytes -= n
	return b
}

func (p *bufPool) put(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bytes+len(b) > maxPoolBytes {
		return
	}
	if p.free == nil {
		p.free = map[int][][]byte{}
	}
	p.free[len(b)] = append(p.free[len(b)], b)
	p.bytes += len(b)
}

// Release drops the buffers the session keeps for reuse and the data its
// kernels derived from constants (Memo; values with a Free method are
// freed, so Release must not run while the session does). The session
// stays usable: a later run derives that data again.
func (s *Session) Release() {
	s.pool.mu.Lock()
	s.pool.free, s.pool.bytes = nil, 0
	s.pool.mu.Unlock()
	s.memoMu.Lock()
	for _, v := range s.memo {
		if f, ok := v.(interface{ Free() }); ok {
			f.Free()
		}
	}
	s.memo = nil
	s.memoMu.Unlock()
	s.mu.Lock()
	for _, sub := range s.subs {
		sub.Release()
	}
	s.mu.Unlock()
}

// liveOverlap reports whether value o (or any element of a sequence/optional) uses memory in b.
func liveOverlap(o *tensor.Tensor, b []byte) bool {
	if o == nil {
		return false
	}
	if overlapsBytes(o.Bytes(), b) {
		return true
	}
	for _, e := range o.Elems {
		if liveOverlap(e, b) {
			return true
		}
	}
	return false
}
