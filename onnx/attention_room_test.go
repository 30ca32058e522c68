package onnx

import (
	"math"
	"math/rand"
	"testing"

	"github.com/txt2img/engine/graph"
	"github.com/txt2img/engine/tensor"
)

// faRoomTensor returns a tensor of shape [b, h, s, d] with room for cap
// entries along axis 2, filled with random values through the physical
// layout (the room stays NaN, so a kernel reading it would show).
func faRoomTensor(t *testing.T, r *rand.Rand, dt tensor.DType, shape []int, capacity int) *tensor.Tensor {
	t.Helper()
	x, err := tensor.NewWithRoom(dt, shape, 2, capacity)
	if err != nil {
		t.Fatal(err)
	}
	n := len(x.Bytes()) / dt.Size()
	for i := 0; i < n; i++ {
		v := float32(math.NaN())
		if (i/shape[3])%capacity < shape[2] {
			v = r.Float32()*2 - 1
		}
		if dt == tensor.Float {
			tensor.View[float32](x)[i] = v
		} else {
			tensor.View[uint16](x)[i] = tensor.F32ToF16(v)
		}
	}
	return x
}

// TestFusedAttentionRoom runs FusedAttention with K and V that are KV-cache
// views with room (read in place) and checks the result is bit-identical
// to the same call on compact copies, for float32 and float16, with and
// without a mask.
func TestFusedAttentionRoom(t *testing.T) {
	for _, dt := range []tensor.DType{tensor.Float, tensor.Float16} {
		for _, masked := range []bool{false, true} {
			r := rand.New(rand.NewSource(9))
			node := &graph.Node{OpType: "FusedAttention", Domain: fzDomain,
				Attrs: []graph.Attr{fzIntAttr("k_transposed", 0), {Name: "scale_ops", Kind: graph.AttrInts, Ints: []int64{1}}}}
			k, err := fzAttentionFactory(node, 1)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := k.(graph.RoomAware); !ok {
				t.Fatal("FusedAttention does not accept tensors with room")
			}
			B, H, S, T, D := 2, 3, 2, 7, 16
			q := faRoomTensor(t, r, dt, []int{B, H, S, D}, S)
			kk := faRoomTensor(t, r, dt, []int{B, H, T, D}, T+5)
			vv := faRoomTensor(t, r, dt, []int{B, H, T, D}, T+5)
			if kk.Contiguous() {
				t.Fatal("test K is contiguous")
			}
			scale := tensor.New(dt, 1)
			if dt == tensor.Float {
				scale.F32()[0] = 4
			} else {
				tensor.View[uint16](scale)[0] = tensor.F32ToF16(4)
			}
			var mask *tensor.Tensor
			if masked {
				mask = tensor.New(dt, B, 1, 1, T)
				for i := 0; i < B*T; i++ {
					v := float32(0)
					if i%T >= T-2 && i/T == 1 {
						v = float32(math.Inf(-1))
					}
					if dt == tensor.Float {
						mask.F32()[i] = v
					} else {
						tensor.View[uint16](mask)[i] = tensor.F32ToF16(v)
					}
				}
			}
			run := func(kIn, vIn *tensor.Tensor) []uint32 {
				out, err := k.Run(&graph.ExecContext{Threads: 2}, []*tensor.Tensor{q, kIn, vIn, mask, scale})
				if err != nil {
					t.Fatal(err)
				}
				o := out[0]
				res := make([]uint32, o.Numel())
				for i := range res {
					f := float32(o.At(i))
					if f != f {
						t.Fatalf("%s masked=%v: NaN output at %d (room read?)", dt, masked, i)
					}
					res[i] = math.Float32bits(f)
				}
				return res
			}
			got, want := run(kk, vv), run(kk.Compact(), vv.Compact())
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%s masked=%v: output %d differs between room view and compact copy", dt, masked, i)
				}
			}
		}
	}
}
