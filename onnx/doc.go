// Package onnx loads ONNX models and maps the ONNX operator set onto the
// engine's graph and kernels.
//
// The format is defined by onnx/onnx.proto
// (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto); the operators by
// https://onnx.ai/onnx/operators/. The protobuf wire decoder is our own
// (wire.go, decode.go): it covers the messages the engine uses, skips unknown
// fields and bounds nesting depth. Load maps the model file and any
// external-data files read-only, so initializers are zero-copy views in their
// stored dtype; locations that escape the model's folder and sizes beyond a
// file are FormatErrors.
//
// Each op family lives in one ops_<family>.go file that registers its kernels
// with the graph registry in init(); shapes.go holds the static shape
// functions used to fold shape arithmetic at compile time.
package onnx
