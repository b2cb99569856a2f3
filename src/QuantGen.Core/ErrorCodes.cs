namespace QuantGen.Core;

/// <summary>
/// Every QG diagnostic code in one table. Codes are stable: never renumber, only add.
/// docs/diagnostics.md lists them with explanations.
/// </summary>
public static class ErrorCodes
{
    /// <summary>A model or data file does not exist or cannot be read.</summary>
    public const string FileNotFound = "QG0001";

    /// <summary>The file is not a valid ONNX protobuf (truncated, empty, random bytes).</summary>
    public const string MalformedModel = "QG0002";

    /// <summary>An operator (or domain) outside the supported set.</summary>
    public const string UnsupportedOperator = "QG0003";

    /// <summary>A shape that is invalid or inconsistent (negative dim, mismatched broadcast, wrong rank).</summary>
    public const string BadShape = "QG0004";

    /// <summary>A node reads a value that nothing produces.</summary>
    public const string MissingValue = "QG0005";

    /// <summary>The graph has a cycle.</summary>
    public const string GraphCycle = "QG0006";

    /// <summary>External tensor data that is missing, too short, or located outside the model's folder.</summary>
    public const string ExternalData = "QG0007";

    /// <summary>A tensor whose element count overflows or exceeds the supported maximum.</summary>
    public const string TensorTooLarge = "QG0008";

    /// <summary>An element type the IR does not support.</summary>
    public const string UnsupportedDataType = "QG0009";

    /// <summary>An attribute that is missing, of the wrong kind, or out of range.</summary>
    public const string InvalidAttribute = "QG0010";

    /// <summary>An opset outside the supported range, or a model without a default-domain opset.</summary>
    public const string UnsupportedOpset = "QG0011";

    /// <summary>A tensor exchange file (.npy) that is malformed or of an unsupported dtype/order.</summary>
    public const string BadTensorFile = "QG0012";

    /// <summary>An input tensor given at run time that does not match the model's input.</summary>
    public const string BadInput = "QG0013";

    /// <summary>A supported operator used with an attribute value QuantGen does not implement (e.g. Resize mode "cubic").</summary>
    public const string UnsupportedAttributeValue = "QG0014";

    /// <summary>A quantization option (bit-width, algorithm name, range method) that is unknown or out of range.</summary>
    public const string InvalidOption = "QG0015";

    /// <summary>Calibration data that is missing, of the wrong shape or type, or holds NaN/Inf.</summary>
    public const string BadCalibration = "QG0016";

    /// <summary>A graph the integer pipeline cannot express yet (e.g. an op with no quantized kernel); the float executor may still run it.</summary>
    public const string NotQuantizable = "QG0017";

    /// <summary>Two QuantModel items share a file name (raised by build/QuantGen.targets; listed here so the codes stay in one place).</summary>
    public const string DuplicateModelName = "QG0018";

    /// <summary>
    /// A warning from build/QuantGen.targets at a NativeAOT publish without IlcInstructionSet: the generated models would
    /// run their scalar kernels (listed here so the codes stay in one place).
    /// </summary>
    public const string NativeAotBaselineCpu = "QG0020";

    /// <summary>
    /// A warning: a factorized build (Compression="factorized") whose plan lost too much accuracy to be used as it is
    /// (the criterion is in FactorizationQualityCheck); the message names the worst layers and asks for a lower ratio.
    /// </summary>
    public const string PoorFactorization = "QG0019";

    /// <summary>
    /// A data-free build (no Calibration) of a model input whose range nobody stated: QuantGen will not guess it
    /// (it used to assume [0, 1]); the message names the input and the InputRange/InputMean/InputStd line to add.
    /// </summary>
    public const string MissingInputRange = "QG0021";

    /// <summary>Warning: nodes with no quantized kernel run in float (float islands); the message lists each with its share of MACs.</summary>
    public const string FloatFallback = "QG0022";

    /// <summary>A node the reference executor runs, but neither a quantized nor a float kernel computes (op or attributes not covered yet).</summary>
    public const string NoFloatKernel = "QG0023";

    /// <summary>FloatFallback="false" and some nodes have no quantized kernel: every such node is listed.</summary>
    public const string FloatFallbackDisabled = "QG0024";

    /// <summary>Warning: a calibrated build's output SQNR against the float model is below 10 dB (OutputQualityCheck).</summary>
    public const string PoorOutputSqnr = "QG0026";

    /// <summary>FloatNodes names a node the model does not have (each unknown name, with the closest node name when one is close).</summary>
    public const string UnknownFloatNode = "QG0028";

    /// <summary>FloatNodes names a node that cannot run as a float island (not float in and out, or no reference operator).</summary>
    public const string FloatNodeNotFloat = "QG0029";

    // ---- Export (issue 18: QDQ export), QG0070 onwards ----

    /// <summary>
    /// An artifact holding something a standard QDQ model cannot express exactly (factorized layers, 16-bit activations);
    /// the message names the layer or tensor and what to export instead (docs/interop.md).
    /// </summary>
    public const string NotExportableAsQdq = "QG0070";
    // ---- Import of fixed quantization (issue 18: QDQ / QOperator import, AIMET encodings), QG0080-QG0089 ----

    /// <summary>A QuantizeLinear/DequantizeLinear (or QLinear*) parameter ONNX does not allow: zero, negative or non-finite scale, zero point outside its type's range, per-axis length mismatch, bad axis.</summary>
    public const string BadQdqParameters = "QG0080";

    /// <summary>A fixed quantization (QDQ model, encodings) QuantGen cannot reproduce exactly: per-axis activations, int16/int4 types, two grids inside one fused layer, weights not per output channel, a requantizing MaxPool.</summary>
    public const string QdqNotExpressible = "QG0081";

    /// <summary>A QDQ structure QuantGen does not import: a DequantizeLinear feeding nothing quantizable, a QuantizeLinear not followed by a DequantizeLinear, computed scales.</summary>
    public const string QdqNotImportable = "QG0082";

    /// <summary>A QOperator-format node QuantGen does not import (it imports QLinearConv and QLinearMatMul).</summary>
    public const string QOperatorNotImported = "QG0083";

    /// <summary>An AIMET encodings file that is not valid JSON, of an unknown version, or with an entry missing what it needs.</summary>
    public const string BadEncodings = "QG0084";

    /// <summary>An AIMET encodings file naming tensors or parameters the model does not have (all listed).</summary>
    public const string UnknownEncodingNames = "QG0085";

    /// <summary>
    /// Warning: a dynamically quantized model (DynamicQuantizeLinear, ONNX Runtime's quantize_dynamic) is compiled with its
    /// integer weights and static activation grids QuantGen calibrated in place of the per-run scales; lists the nodes.
    /// </summary>
    public const string DynamicQuantizationCalibrated = "QG0086";

    // ---- Mixed precision under a size budget (issue 21, HAWQ-V2), QG0090-QG0094 ----

    /// <summary>A weight budget no choice of per-layer widths meets: the message gives the smallest feasible size.</summary>
    public const string WeightBudgetInfeasible = "QG0090";

    /// <summary>A SizeBudget / AverageWeightBits / FirstLayerWeightBits / LastLayerWeightBits value that does not parse or is out of range.</summary>
    public const string BadWeightBudget = "QG0091";

    /// <summary>A weight budget where mixed precision cannot run: no calibration data, factorized compression, an imported (QDQ) model or an encodings file.</summary>
    public const string MixedPrecisionUnavailable = "QG0092";

    // ---- Hostile models, names (issue 19, "names" half): QG0030-QG0039 and QG1030-QG1039 are this block's. ----

    /// <summary>
    /// A graph with no operators (its outputs are its inputs, or nothing): there is nothing to quantize, and a class
    /// whose Run reads and writes one tensor would not compile (both parameters would carry its name).
    /// </summary>
    public const string EmptyGraph = "QG0030";

    // QG1030 (a class or namespace name from the project that is not a C# identifier) and QG1031 (an artifact that
    // reads but fails the generator's re-validation: tampered or inconsistent) are the generator's; see
    // src/QuantGen.Generator/DiagnosticDescriptors.cs.

    // ---- end of the names block ----
    // ---- Hostile models (issue 19, geometry and budget half): QG0040-QG0069 ----

    /// <summary>
    /// A spatial operator's geometry (Conv, ConvTranspose, pooling, Resize, Pad) that the ONNX definition rejects or
    /// that does not fit 32-bit indexing: an output below 1, a window larger than the padded input, a stride or
    /// dilation below 1, a window extent, pad or output that overflows. Checked in 64-bit before anything is sized.
    /// </summary>
    public const string BadGeometry = "QG0040";

    /// <summary>
    /// A resource budget exceeded before allocation: elements of one tensor, total activation memory, parameters,
    /// graph nodes (see <c>QuantGen.Core.ResourceBudget</c>; raised with MSBuild item metadata or CLI options).
    /// </summary>
    public const string BudgetExceeded = "QG0041";

    /// <summary>An integer attribute or constant input whose value is outside the range the IR can represent (e.g. group 2^40).</summary>
    public const string ValueOutOfRange = "QG0042";

    // ---- Fine-tuning (issue 20: gradients over the IR), QG0095-QG0099 ----

    /// <summary>A layer fine-tuning cannot differentiate (a float-island node, a Lookup function without a derivative).</summary>
    public const string NoGradient = "QG0095";

    /// <summary>The fine-tuning data (TrainingData, --training-data) is missing, unreadable, or does not fit the model's inputs.</summary>
    public const string BadTrainingData = "QG0096";

    /// <summary>A bug in QuantGen itself surfaced while processing a model; the message asks for a report.</summary>
    public const string InternalError = "QG9999";
}
