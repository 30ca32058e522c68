package onnx

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/tensor"
)

// KV cache in place: past_key_values.* made with tensor.NewWithRoom let the
// Concat(past, new) -> present nodes append into the room, so a decode step
// never copies the cache.

// nbRoomy replaces every past_key_values.* input with an empty-room tensor
// of the same shape and the given capacity along the sequence axis.
func nbRoomy(t testing.TB, inputs map[string]*tensor.Tensor, capacity int) {
	t.Helper()
	for name, v := range inputs {
		if !strings.HasPrefix(name, "past_key_values.") {
			continue
		}
		r, err := tensor.NewWithRoom(v.DType(), v.Shape(), 2, capacity)
		if err != nil {
			t.Fatal(err)
		}
		copy(r.Bytes(), v.Bytes()) // past is empty in the fixtures: nothing to copy
		inputs[name] = r
	}
}

// nbFeed sets each past_key_values.* input to the matching present.* output.
func nbFeed(inputs, prev map[string]*tensor.Tensor) error {
	for name := range inputs {
		if strings.HasPrefix(name, "past_key_values.") {
			p := prev["present."+strings.TrimPrefix(name, "past_key_values.")]
			if p == nil {
				return fmt.Errorf("no present output for %s", name)
			}
			inputs[name] = p
		}
	}
	return nil
}

func nbBase(t *tensor.Tensor) uintptr {
	b := t.Bytes()
	if cap(b) == 0 {
		return 0
	}
	return uintptr(unsafe.Pointer(unsafe.SliceData(b)))
}

// TestDecodeInPlace runs the decode sequences with a KV cache that has room:
// every step must match the ONNX Runtime references, and every present.*
// output must be a view of the backing array handed in at step 0 (the cache
// is appended to, never copied).
func TestDecodeInPlace(t *testing.T) {
	seqs, _ := filepath.Glob(filepath.Join(fixturesDir(), "janus_pro_tiny_language_model*", "decode_0"))
	if len(seqs) == 0 {
		t.Skipf("decode sequences not found in %s", fixturesDir())
	}
	for _, seq := range seqs {
		dir := filepath.Dir(seq)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			rtol, atol := fixtureTolerance(t, dir)
			m, s, err := loadFixture(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			var prev map[string]*tensor.Tensor
			base := map[string]uintptr{}
			for step := 0; ; step++ {
				sd := filepath.Join(seq, fmt.Sprintf("step_%d", step))
				if _, err := os.Stat(sd); err != nil {
					break
				}
				tc, err := ReadTestCase(sd, m.Graph)
				if err != nil {
					t.Fatal(err)
				}
				if prev == nil {
					nbRoomy(t, tc.Inputs, 32)
					for name, v := range tc.Inputs {
						if strings.HasPrefix(name, "past_key_values.") {
							base["present."+strings.TrimPrefix(name, "past_key_values.")] = nbBase(v)
						}
					}
				} else if err := nbFeed(tc.Inputs, prev); err != nil {
					t.Fatal(err)
				}
				out, err := s.Run(context.Background(), tc.Inputs)
				if err != nil {
					t.Fatalf("step %d: %v", step, err)
				}
				if err := compareOutputs(tc, out, rtol, atol); err != nil {
					t.Fatalf("step %d: %v", step, err)
				}
				for name, b := range base {
					p := out[name]
					if ax, capacity := p.Room(); ax != 2 || capacity != 32 || nbBase(p) != b {
						t.Fatalf("step %d: %s is not a view of the step-0 cache (room axis %d, capacity %d)", step, name, ax, capacity)
					}
					if p.Contiguous() {
						t.Fatalf("step %d: %s should be a strided view (batch*heads > 1)", step, name)
					}
				}
				prev = out
			}
			if prev == nil {
				t.Fatal("no steps")
			}
		})
	}
}

// TestDecodeBranch re-runs a step from an older past whose room a later step
// has already claimed: the engine must copy to a new backing array instead of
// overwriting the rows the other branch holds.
func TestDecodeBranch(t *testing.T) {
	dir := filepath.Join(fixturesDir(), "janus_pro_tiny_language_model_q4")
	seq := filepath.Join(dir, "decode_0")
	if _, err := os.Stat(seq); err != nil {
		t.Skipf("decode sequence not found in %s", seq)
	}
	rtol, atol := fixtureTolerance(t, dir)
	m, s, err := loadFixture(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	read := func(step int) *TestCase {
		tc, err := ReadTestCase(filepath.Join(seq, fmt.Sprintf("step_%d", step)), m.Graph)
		if err != nil {
			t.Fatal(err)
		}
		return tc
	}
	tc0 := read(0)
	nbRoomy(t, tc0.Inputs, 9) // room for the prefill and one step, then growth
	out0, err := s.Run(context.Background(), tc0.Inputs)
	if err != nil {
		t.Fatal(err)
	}
	tc1 := read(1)
	if err := nbFeed(tc1.Inputs, out0); err != nil {
		t.Fatal(err)
	}
	out1, err := s.Run(context.Background(), tc1.Inputs)
	if err != nil {
		t.Fatal(err)
	}
	keep := out1["present.0.key"].Compact().Clone()
	// Branch: step 1 again from the same past. Its room is claimed by out1.
	tc1b := read(1)
	if err := nbFeed(tc1b.Inputs, out0); err != nil {
		t.Fatal(err)
	}
	out1b, err := s.Run(context.Background(), tc1b.Inputs)
	if err != nil {
		t.Fatal(err)
	}
	if err := compareOutputs(tc1b, out1b, rtol, atol); err != nil {
		t.Fatalf("branch: %v", err)
	}
	if nbBase(out1b["present.0.key"]) == nbBase(out1["present.0.key"]) {
		t.Fatal("branch wrote into the room claimed by the other branch")
	}
	if c := Compare(out1["present.0.key"], keep, 0, 0); !c.OK {
		t.Fatalf("first branch's cache changed: %s", c.Msg)
	}
	// Step 2 from the first branch: capacity 9 is exhausted, so the cache
	// moves to a larger backing array (one copy) and stays correct.
	tc2 := read(2)
	if err := nbFeed(tc2.Inputs, out1); err != nil {
		t.Fatal(err)
	}
	out2, err := s.Run(context.Background(), tc2.Inputs)
	if err != nil {
		t.Fatal(err)
	}
	if err := compareOutputs(tc2, out2, rtol, atol); err != nil {
		t.Fatalf("after growth: %v", err)
	}
	if _, capacity := out2["present.0.key"].Room(); capacity != 18 {
		t.Fatalf("grown capacity %d, want 18", capacity)
	}
}

// BenchmarkDecodeStep times one token step of the tiny q4 language model with
// the KV cache in place, at several past lengths: allocs/op must not grow
// with the past. Run with -benchtime=64x for 64 steps per past length.
func BenchmarkDecodeStep(b *testing.B) {
	dir := filepath.Join(fixturesDir(), "janus_pro_tiny_language_model_q4")
	seq := filepath.Join(dir, "decode_0")
	if _, err := os.Stat(seq); err != nil {
		b.Skipf("decode sequence not found in %s", seq)
	}
	for _, past := range []int{16, 64, 256, 512, 1024} {
		b.Run(fmt.Sprintf("past=%d", past), func(b *testing.B) {
			m, err := Load(filepath.Join(dir, "model.onnx"))
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			s, err := graph.NewSession(m.Graph, graph.Options{Threads: 1})
			if err != nil {
				b.Fatal(err)
			}
			tc0, err := ReadTestCase(filepath.Join(seq, "step_0"), m.Graph)
			if err != nil {
				b.Fatal(err)
			}
			step, err := ReadTestCase(filepath.Join(seq, "step_1"), m.Graph)
			if err != nil {
				b.Fatal(err)
			}
			nbRoomy(b, tc0.Inputs, past+b.N+1)
			prefill := tc0.Inputs["attention_mask"].Shape()[1]
			out, err := s.Run(context.Background(), tc0.Inputs)
			if err != nil {
				b.Fatal(err)
			}
			in := step.Inputs
			// attention_mask [1, total] of ones and position_ids [1, 1], sized
			// for the largest step and narrowed each step without allocating.
			maskBuf := make([]int64, past+b.N+1)
			for i := range maskBuf {
				maskBuf[i] = 1
			}
			pos := []int64{0}
			in["position_ids"] = tensor.FromSlice(tensor.Int64, []int{1, 1}, pos)
			run := func(n int) {
				if err := nbFeed(in, out); err != nil {
					b.Fatal(err)
				}
				in["attention_mask"] = tensor.FromSlice(tensor.Int64, []int{1, n + 1}, maskBuf[:n+1])
				pos[0] = int64(n)
				if out, err = s.Run(context.Background(), in); err != nil {
					b.Fatal(err)
				}
			}
			for n := prefill; n < past; n++ {
				run(n)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				run(past + i)
			}
		})
	}
}
