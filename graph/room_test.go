package graph

import (
	"context"
	"testing"

	"github.com/txt2img/engine/tensor"
)

// roomSeen records whether the last "SeeRoom"/"SeeRoomAware" kernel got a
// contiguous input.
var roomSeen = map[string]bool{}

func init() {
	for _, op := range []string{"SeeRoom", "SeeRoomAware"} {
		Register(testDomain, op, 1, 0, func(*Node, int) (Kernel, error) {
			k := KernelFunc(func(ec *ExecContext, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
				roomSeen[op] = in[0].Contiguous()
				return []*tensor.Tensor{in[0].Compact().Clone()}, nil
			})
			if op == "SeeRoomAware" {
				return AcceptRoom(k), nil
			}
			return k, nil
		})
	}
}

// TestRoomInputs: kernels that are not RoomAware get a compact copy of a
// non-contiguous input; RoomAware kernels get the view itself.
func TestRoomInputs(t *testing.T) {
	for _, op := range []string{"SeeRoom", "SeeRoomAware"} {
		g := &Graph{Opsets: map[string]int{testDomain: 1}, Initializers: map[string]*tensor.Tensor{}}
		g.Inputs = []ValueInfo{{Name: "x", Type: ValueType{DType: tensor.Float}}}
		g.Nodes = []*Node{{Name: "n", OpType: op, Domain: testDomain, Inputs: []string{"x"}, Outputs: []string{"y"}}}
		g.Outputs = []ValueInfo{{Name: "y"}}
		s, err := NewSession(g, Options{})
		if err != nil {
			t.Fatal(err)
		}
		x, err := tensor.NewWithRoom(tensor.Float, []int{2, 3}, 1, 5)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 6; i++ {
			x.Set(i, float64(i+1))
		}
		out, err := s.Run(context.Background(), map[string]*tensor.Tensor{"x": x})
		if err != nil {
			t.Fatal(err)
		}
		if want := op == "SeeRoom"; roomSeen[op] != want {
			t.Errorf("%s: kernel saw contiguous=%v, want %v", op, roomSeen[op], want)
		}
		if y := out["y"].F32(); y[0] != 1 || y[3] != 4 || y[5] != 6 {
			t.Errorf("%s: y = %v", op, y)
		}
	}
}
