package onnx

// The structs below mirror the subset of onnx/onnx.proto that the engine uses.
// Field numbers are noted next to each field. Byte slices (RawData, S) alias
// the decoded buffer (usually a read-only mmap): never write to them.

// ModelProto is onnx.ModelProto.
type ModelProto struct {
	IRVersion       int64            // 1
	ProducerName    string           // 2
	ProducerVersion string           // 3
	Domain          string           // 4
	ModelVersion    int64            // 5
	DocString       string           // 6
	Graph           *GraphProto      // 7
	OpsetImport     []OpsetID        // 8
	Metadata        []StringEntry    // 14
	Functions       []*FunctionProto // 25
}

// OpsetID is onnx.OperatorSetIdProto.
type OpsetID struct {
	Domain  string // 1
	Version int64  // 2
}

// StringEntry is onnx.StringStringEntryProto.
type StringEntry struct {
	Key   string // 1
	Value string // 2
}

// GraphProto is onnx.GraphProto.
type GraphProto struct {
	Nodes        []*NodeProto         // 1
	Name         string               // 2
	Initializers []*TensorProto       // 5
	DocString    string               // 10
	Inputs       []*ValueInfoProto    // 11
	Outputs      []*ValueInfoProto    // 12
	ValueInfo    []*ValueInfoProto    // 13
	Sparse       []*SparseTensorProto // 15
}

// SparseTensorProto is onnx.SparseTensorProto (COO form).
type SparseTensorProto struct {
	Values  *TensorProto // 1
	Indices *TensorProto // 2
	Dims    []int64      // 3
}

// NodeProto is onnx.NodeProto.
type NodeProto struct {
	Inputs     []string          // 1
	Outputs    []string          // 2
	Name       string            // 3
	OpType     string            // 4
	Attributes []*AttributeProto // 5
	DocString  string            // 6
	Domain     string            // 7
	Overload   string            // 8
}

// Attribute types (AttributeProto.AttributeType).
const (
	AttrUndefined     = 0
	AttrFloat         = 1
	AttrInt           = 2
	AttrString        = 3
	AttrTensor        = 4
	AttrGraph         = 5
	AttrFloats        = 6
	AttrInts          = 7
	AttrStrings       = 8
	AttrTensors       = 9
	AttrGraphs        = 10
	AttrSparseTensor  = 11
	AttrSparseTensors = 12
	AttrTypeProto     = 13
	AttrTypeProtos    = 14
)

// AttributeProto is onnx.AttributeProto.
type AttributeProto struct {
	Name          string               // 1
	F             float32              // 2
	I             int64                // 3
	S             []byte               // 4
	T             *TensorProto         // 5
	G             *GraphProto          // 6
	Floats        []float32            // 7
	Ints          []int64              // 8
	Strings       [][]byte             // 9
	Tensors       []*TensorProto       // 10
	Graphs        []*GraphProto        // 11
	DocString     string               // 13
	TP            *TypeProto           // 14
	TypeProtos    []*TypeProto         // 15
	Type          int                  // 20
	RefAttrName   string               // 21
	SparseTensor  *SparseTensorProto   // 22
	SparseTensors []*SparseTensorProto // 23
}

// Data locations.
const (
	LocationDefault  = 0
	LocationExternal = 1
)

// TensorProto is onnx.TensorProto. Int32Data holds int32_data values widened
// to int64; Uint64Data holds uint64_data values.
type TensorProto struct {
	Dims         []int64       // 1
	DataType     int32         // 2
	FloatData    []float32     // 4
	Int32Data    []int64       // 5
	StringData   [][]byte      // 6
	Int64Data    []int64       // 7
	Name         string        // 8
	RawData      []byte        // 9
	DoubleData   []float64     // 10
	Uint64Data   []uint64      // 11
	DocString    string        // 12
	ExternalData []StringEntry // 13
	DataLocation int           // 14
	HasRawData   bool
}

// ValueInfoProto is onnx.ValueInfoProto.
type ValueInfoProto struct {
	Name      string     // 1
	Type      *TypeProto // 2
	DocString string     // 3
}

// Type kinds for TypeProto.
const (
	TypeTensor = iota + 1
	TypeSequence
	TypeMap
	TypeOptional
	TypeSparseTensor
)

// TypeProto is onnx.TypeProto flattened: Kind says which oneof was set.
type TypeProto struct {
	Kind     int
	ElemType int32      // tensor / sparse tensor element type
	HasShape bool       // tensor shape present
	Shape    []Dim      // tensor shape
	Elem     *TypeProto // sequence / optional element type
}

// Dim is onnx.TensorShapeProto.Dimension.
type Dim struct {
	Value    int64  // 1
	Param    string // 2
	HasValue bool
}

// FunctionProto is onnx.FunctionProto (model-local functions).
type FunctionProto struct {
	Name        string            // 1
	Inputs      []string          // 4
	Outputs     []string          // 5
	Attributes  []string          // 6
	Nodes       []*NodeProto      // 7
	DocString   string            // 8
	OpsetImport []OpsetID         // 9
	Domain      string            // 10
	AttrProtos  []*AttributeProto // 11
	Overload    string            // 13
}

// Sequence element types (SequenceProto.DataType / OptionalProto.DataType).
const (
	ElemUndefined = 0
	ElemTensor    = 1
	ElemSparse    = 2
	ElemSequence  = 3
	ElemMap       = 4
	ElemOptional  = 5
)

// SequenceProto is onnx.SequenceProto (from onnx-ml.proto / onnx-data.proto).
type SequenceProto struct {
	Name      string           // 1
	ElemType  int32            // 2
	Tensors   []*TensorProto   // 3
	Sequences []*SequenceProto // 5
	Optionals []*OptionalProto // 7
}

// OptionalProto is onnx.OptionalProto.
type OptionalProto struct {
	Name     string         // 1
	ElemType int32          // 2
	Tensor   *TensorProto   // 3
	Sequence *SequenceProto // 5
	Optional *OptionalProto // 7
}
