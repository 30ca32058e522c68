package graph

// Backend compiles nodes into kernels for one kind of device. The executor
// asks each backend in the session's preference order and uses the first one
// that does not return ErrNotSupported, so a GPU backend can take some nodes
// and leave the rest to the CPU without any change to the model.
type Backend interface {
	Name() string
	Compile(n *Node, opset int) (Kernel, error)
}

// CPU is the default backend: the kernels registered with Register.
type CPU struct{}

// Name returns "cpu".
func (CPU) Name() string { return "cpu" }

// Compile looks the node up in the registry.
func (CPU) Compile(n *Node, opset int) (Kernel, error) {
	f, ok := Lookup(n.Domain, n.OpType, opset)
	if !ok {
		return nil, ErrNotSupported
	}
	return f(n, opset)
}
