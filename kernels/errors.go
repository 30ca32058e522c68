package kernels

// Panic messages of kernel precondition checks (constant strings, like gonum's
// blas/gonum/errors.go). Kernels panic; errors belong at graph build time.
const (
	errShortA      = "kernels: insufficient length of a"
	errShortB      = "kernels: insufficient length of b"
	errShortC      = "kernels: insufficient length of c"
	errBadLdA      = "kernels: bad leading dimension of a"
	errBadLdB      = "kernels: bad leading dimension of b"
	errBadLdC      = "kernels: bad leading dimension of c"
	errNoData      = "kernels: Gemm operand has no data"
	errBadKC       = "kernels: micro-kernel needs kc >= 1"
	errShortConv   = "kernels: float16 conversion destination too short"
	errShortBias   = "kernels: insufficient length of the GEMM bias"
	errShortAdd    = "kernels: insufficient length of the GEMM addend"
	errBadAct      = "kernels: unknown epilogue activation"
	errPackedK     = "kernels: packed B has a different k"
	errPackedFreed = "kernels: packed B used after Free"

	errConvShape     = "kernels: convolution shape does not match the filter"
	errConvShortW    = "kernels: insufficient length of the convolution filter"
	errConvShortX    = "kernels: insufficient length of the convolution input"
	errConvShortY    = "kernels: insufficient length of the convolution output"
	errConvShortBias = "kernels: insufficient length of the convolution bias"
	errConvShortAdd  = "kernels: insufficient length of the convolution addend"
	errConvTile      = "kernels: Winograd transform operands too short"
)

// Panic messages of the normalisation, softmax and activation kernels.
const (
	nkErrShortX     = "kernels: insufficient length of x"
	nkErrShortY     = "kernels: insufficient length of y"
	nkErrShortParam = "kernels: insufficient length of a normalisation parameter"
	nkErrBadGroups  = "kernels: bad group normalisation shape"
	nkErrBadShape   = "kernels: negative dimension"
)
