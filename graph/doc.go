// Package graph is the engine's model IR and executor. It does not know ONNX:
// the onnx package decodes files and builds a Graph, then registers the kernels
// that implement each (domain, op type, opset range).
//
// A Session compiles a Graph once (topological order, constant folding,
// liveness, kernel selection per node on the first Backend that supports it)
// and runs it many times. Run checks its context between nodes, so a cancel
// takes effect within one node.
package graph
