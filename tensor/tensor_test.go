package tensor

import (
	"math"
	"testing"
)

func TestDTypeTableComplete(t *testing.T) {
	for d := DType(1); d < dtypeCount; d++ {
		info := dtypes[d]
		if info.name == "" {
			t.Errorf("dtype %d has no table entry", d)
		}
		if d != String && (info.size == 0 || info.bits == 0) {
			t.Errorf("dtype %s has no size", info.name)
		}
		if p, ok := ParseDType(info.name); !ok || p != d {
			t.Errorf("ParseDType(%q) = %v, %v", info.name, p, ok)
		}
	}
	if DType(200).Valid() || Undefined.Valid() {
		t.Error("invalid dtypes report valid")
	}
}

func TestHalfConversions(t *testing.T) {
	for _, f := range []float32{0, 1, -2.5, 65504, 1e-7, float32(math.Inf(1))} {
		if got := F16ToF32(F32ToF16(f)); math.Abs(float64(got-f)) > math.Abs(float64(f))*1e-3+1e-7 {
			t.Errorf("f16 round trip %v -> %v", f, got)
		}
	}
	// bfloat16 rounds to nearest even: 1 + 2^-8 is a tie between 1 and 1+2^-7 → 1.
	if got := BF16ToF32(F32ToBF16(1 + 1.0/256)); got != 1 {
		t.Errorf("bf16 tie rounding: %v", got)
	}
	if got := BF16ToF32(F32ToBF16(1 + 3.0/256)); got != 1+4.0/256 {
		t.Errorf("bf16 rounding: %v", got)
	}
	if v := BF16ToF32(F32ToBF16(float32(math.NaN()))); v == v {
		t.Error("bf16 NaN lost")
	}
}

func TestSmallFloatRoundTrip(t *testing.T) {
	for _, dt := range []DType{Float8E4M3FN, Float8E4M3FNUZ, Float8E5M2, Float8E5M2FNUZ} {
		for c := 0; c < 256; c++ {
			f := SmallFloatToF32(dt, uint8(c))
			if f != f || math.IsInf(float64(f), 0) {
				continue
			}
			back := F32ToSmallFloat(dt, f, true)
			if SmallFloatToF32(dt, back) != f {
				t.Errorf("%s code %#x = %v re-encodes to %#x", dt, c, f, back)
			}
		}
	}
	if got := SmallFloatToF32(Float8E4M3FN, F32ToSmallFloat(Float8E4M3FN, 1e6, true)); got != 448 {
		t.Errorf("e4m3fn saturate: %v", got)
	}
}

func TestViewsAndReshape(t *testing.T) {
	x := New(Float, 2, 3)
	x.F32()[4] = 7
	y, err := x.Reshape(3, 2)
	if err != nil {
		t.Fatal(err)
	}
	if y.F32()[4] != 7 || y.Shape()[0] != 3 {
		t.Fatal("reshape is not a view")
	}
	if _, err := x.Reshape(4, 2); err == nil {
		t.Fatal("bad reshape accepted")
	}
	if s := Strides([]int{2, 3, 4}); s[0] != 12 || s[1] != 4 || s[2] != 1 {
		t.Fatalf("strides %v", s)
	}
	c := x.Clone()
	c.F32()[4] = 1
	if x.F32()[4] != 7 {
		t.Fatal("clone shares memory")
	}
	v, err := Wrap(Float, []int{1}, []byte{0, 0, 0x80, 0x3f})
	if err != nil || v.F32()[0] != 1 {
		t.Fatalf("wrap: %v %v", v, err)
	}
	if _, err := Wrap(Float, []int{2}, []byte{0, 0, 0x80, 0x3f}); err == nil {
		t.Fatal("short wrap accepted")
	}
}

func TestConvertInts(t *testing.T) {
	x := FromInt64s(Int8, []int{3}, []int64{-1, 127, 300})
	if got := x.Int64s(); got[0] != -1 || got[1] != 127 || got[2] != 44 {
		t.Fatalf("int8 wrap: %v", got)
	}
	u := FromFloat64s(Uint64, []int{1}, []float64{1 << 63})
	if View[uint64](u)[0] != 1<<63 {
		t.Fatal("uint64 high values")
	}
}
