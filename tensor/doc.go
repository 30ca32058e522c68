// Package tensor holds the engine's n-dimensional arrays: a dtype, a shape and a
// contiguous little-endian backing buffer with typed views.
//
// Shapes are row-major and outermost first, in ONNX's order everywhere:
// x: [N, C, H, W] f32. DType values equal ONNX's TensorProto.DataType numbers.
//
// Sub-byte types (int4, uint4, int2, uint2, float4e2m1) are held unpacked, one
// element per byte; the ONNX decoder unpacks them and the encoder packs them again.
package tensor
