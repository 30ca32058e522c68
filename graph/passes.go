package graph

import (
	"context"

	"github.com/txt2img/engine/tensor"
)

// FoldMaxBytes caps the size of a folded constant: folding larger outputs
// (for example a Cast of a whole fp16 weight to fp32) would trade mapped
// file pages for heap copies of the weights.
const FoldMaxBytes = 1 << 20

// maxShapeFoldRounds bounds the infer-shapes/fold-shapes/fold-constants
// iteration; real exports settle in two or three rounds.
const maxShapeFoldRounds = 8

// nonDeterministic ops are never folded.
var nonDeterministic = map[string]bool{
	"RandomNormal": true, "RandomUniform": true, "RandomNormalLike": true,
	"RandomUniformLike": true, "Multinomial": true, "Bernoulli": true, "Dropout": false,
}

// PassNames lists the compile-time passes in the order they run: the
// built-in ones, then those added with RegisterPass.
var PassNames = []string{"fold-constants", "infer-shapes", "fold-shapes"}

func (s *Session) passEnabled(name string) bool {
	for _, d := range s.opts.DisablePasses {
		if d == name || d == "all" {
			return false
		}
	}
	return true
}

func (s *Session) runPasses() error {
	if s.passEnabled("fold-constants") {
		s.foldConstants()
	}
	if s.passEnabled("infer-shapes") {
		// Shapes and constants feed each other: a folded Shape makes its
		// consumers constant, whose values sharpen later shapes.
		for iter := 0; iter < maxShapeFoldRounds; iter++ {
			s.inferShapes()
			if !s.passEnabled("fold-shapes") || !s.foldShapes() {
				break
			}
			if s.passEnabled("fold-constants") {
				s.foldConstants()
			}
		}
	}
	return s.runRegisteredPasses()
}

// foldConstants evaluates nodes whose inputs are all constants and replaces
// them by their outputs.
func (s *Session) foldConstants() {
	kept := s.nodes[:0]
	isOut := map[int]bool{}
	for _, id := range s.outIDs {
		isOut[id] = true
	}
	for _, cn := range s.nodes {
		if !s.foldable(cn) {
			kept = append(kept, cn)
			continue
		}
		in := make([]*tensor.Tensor, len(cn.in))
		for i, id := range cn.in {
			if id >= 0 {
				in[i] = s.consts[id]
			}
		}
		ec := &ExecContext{Ctx: context.Background(), Node: cn.n, Threads: s.opts.Threads, sess: s, sc: &scope{s: s, env: make([]*tensor.Tensor, len(s.names))}}
		outs, err := safeRun(cn.k, ec, in)
		if err != nil || len(outs) < countNonEmpty(cn.out) {
			kept = append(kept, cn)
			continue
		}
		big := false
		for i, id := range cn.out {
			if id >= 0 && i < len(outs) && outs[i] != nil && len(outs[i].Bytes()) > FoldMaxBytes && cn.n.OpType != "Constant" {
				big = true
			}
		}
		if big {
			kept = append(kept, cn)
			continue
		}
		for i, id := range cn.out {
			if id >= 0 {
				s.consts[id] = outs[i]
			}
		}
	}
	s.nodes = kept
}

func (s *Session) foldable(cn compiledNode) bool {
	if nonDeterministic[cn.n.OpType] || len(cn.n.Subgraphs()) > 0 {
		return false
	}
	for _, id := range cn.out {
		if id >= 0 && contains(s.inIDs, id) {
			return false
		}
	}
	for _, id := range cn.in {
		if id >= 0 && s.consts[id] == nil {
			return false
		}
		if id >= 0 && contains(s.inIDs, id) {
			return false // an initializer-backed input may be overridden at run time
		}
	}
	return true
}
