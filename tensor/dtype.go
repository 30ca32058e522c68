package tensor

import "fmt"

// DType is an element type. Its values are ONNX's TensorProto.DataType numbers.
type DType uint8

// Element types, numbered as in onnx.proto.
const (
	Undefined      DType = 0
	Float          DType = 1
	Uint8          DType = 2
	Int8           DType = 3
	Uint16         DType = 4
	Int16          DType = 5
	Int32          DType = 6
	Int64          DType = 7
	String         DType = 8
	Bool           DType = 9
	Float16        DType = 10
	Double         DType = 11
	Uint32         DType = 12
	Uint64         DType = 13
	Complex64      DType = 14
	Complex128     DType = 15
	BFloat16       DType = 16
	Float8E4M3FN   DType = 17
	Float8E4M3FNUZ DType = 18
	Float8E5M2     DType = 19
	Float8E5M2FNUZ DType = 20
	Uint4          DType = 21
	Int4           DType = 22
	Float4E2M1     DType = 23
	Float8E8M0     DType = 24
	Uint2          DType = 25
	Int2           DType = 26
	dtypeCount     DType = 27
)

type dtypeInfo struct {
	name string
	size int // bytes per element in memory (sub-byte types are unpacked to one byte)
	bits int // bits per element in the file format
}

// dtypes is the single table describing every dtype; TestDTypeTable checks it is complete.
var dtypes = [dtypeCount]dtypeInfo{
	Undefined:      {"undefined", 0, 0},
	Float:          {"float32", 4, 32},
	Uint8:          {"uint8", 1, 8},
	Int8:           {"int8", 1, 8},
	Uint16:         {"uint16", 2, 16},
	Int16:          {"int16", 2, 16},
	Int32:          {"int32", 4, 32},
	Int64:          {"int64", 8, 64},
	String:         {"string", 0, 0},
	Bool:           {"bool", 1, 8},
	Float16:        {"float16", 2, 16},
	Double:         {"float64", 8, 64},
	Uint32:         {"uint32", 4, 32},
	Uint64:         {"uint64", 8, 64},
	Complex64:      {"complex64", 8, 64},
	Complex128:     {"complex128", 16, 128},
	BFloat16:       {"bfloat16", 2, 16},
	Float8E4M3FN:   {"float8e4m3fn", 1, 8},
	Float8E4M3FNUZ: {"float8e4m3fnuz", 1, 8},
	Float8E5M2:     {"float8e5m2", 1, 8},
	Float8E5M2FNUZ: {"float8e5m2fnuz", 1, 8},
	Uint4:          {"uint4", 1, 4},
	Int4:           {"int4", 1, 4},
	Float4E2M1:     {"float4e2m1", 1, 4},
	Float8E8M0:     {"float8e8m0", 1, 8},
	Uint2:          {"uint2", 1, 2},
	Int2:           {"int2", 1, 2},
}

// Valid reports whether d is a known dtype other than Undefined.
func (d DType) Valid() bool { return d > Undefined && d < dtypeCount }

// String returns the dtype's lower-case name ("float32", "float16", …).
func (d DType) String() string {
	if d < dtypeCount {
		return dtypes[d].name
	}
	return fmt.Sprintf("dtype(%d)", uint8(d))
}

// Size is the number of bytes one element takes in memory (0 for strings).
func (d DType) Size() int {
	if d < dtypeCount {
		return dtypes[d].size
	}
	return 0
}

// Bits is the number of bits one element takes in ONNX's packed file format.
func (d DType) Bits() int {
	if d < dtypeCount {
		return dtypes[d].bits
	}
	return 0
}

// IsFloat reports whether d is a floating-point type (including 8- and 4-bit floats).
func (d DType) IsFloat() bool {
	switch d {
	case Float, Double, Float16, BFloat16, Float8E4M3FN, Float8E4M3FNUZ, Float8E5M2, Float8E5M2FNUZ, Float4E2M1, Float8E8M0:
		return true
	}
	return false
}

// IsInt reports whether d is an integer type (signed or unsigned, any width).
func (d DType) IsInt() bool {
	switch d {
	case Uint8, Int8, Uint16, Int16, Int32, Int64, Uint32, Uint64, Uint4, Int4, Uint2, Int2:
		return true
	}
	return false
}

// IsSigned reports whether d is a signed integer type.
func (d DType) IsSigned() bool {
	switch d {
	case Int8, Int16, Int32, Int64, Int4, Int2:
		return true
	}
	return false
}

// ParseDType maps a name from String back to its dtype.
func ParseDType(s string) (DType, bool) {
	for i, info := range dtypes {
		if info.name == s && i != 0 {
			return DType(i), true
		}
	}
	return Undefined, false
}
