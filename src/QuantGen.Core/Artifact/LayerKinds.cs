namespace QuantGen.Core.Artifact;

/// <summary>
/// The layer kinds of format version 1. docs/artifact.md gives each one's inputs, parameters and exact integer
/// semantics; <see cref="FixedPoint"/> is the arithmetic they share.
/// </summary>
public static class LayerKinds
{
    /// <summary>Float graph input → quantized tensor: q = clamp(round_half_even(x / scale) + zero).</summary>
    public const string Quantize = "Quantize";

    /// <summary>Quantized tensor → float graph output: x = scale · (q − zero).</summary>
    public const string Dequantize = "Dequantize";

    /// <summary>2-D convolution (grouped/depthwise included) with int8 per-channel weights, int32 bias, fused clamp.</summary>
    public const string Conv = "Conv";

    /// <summary>Fully connected layer (Gemm/MatMul with constant weights): int8 weights [N, K], int32 bias, fused clamp.</summary>
    public const string FullyConnected = "FullyConnected";

    /// <summary>Fully connected layer whose weights are two quantized sparse factors W ≈ A·B, computed without forming W.</summary>
    public const string FactorizedFullyConnected = "FactorizedFullyConnected";

    /// <summary>Group-1 convolution whose weights [M, C·KH·KW] are two quantized sparse factors: a k×k conv to r channels, then a 1×1 conv.</summary>
    public const string FactorizedConv = "FactorizedConv";

    /// <summary>2-D max pooling on quantized values (same grid in and out).</summary>
    public const string MaxPool = "MaxPool";

    /// <summary>2-D average pooling (GlobalAveragePool is the whole-plane case) with a requantization per window count.</summary>
    public const string AveragePool = "AveragePool";

    /// <summary>Elementwise sum of two quantized tensors of equal shape, on the output grid, fused clamp.</summary>
    public const string Add = "Add";

    /// <summary>Reinterpretation of the same elements with another shape (Reshape, Flatten).</summary>
    public const string Reshape = "Reshape";

    /// <summary>Float softmax at the output edge.</summary>
    public const string Softmax = "Softmax";

    /// <summary>Float logistic sigmoid at the output edge.</summary>
    public const string Sigmoid = "Sigmoid";

    /// <summary>u8 → u8 through a 256-entry table built at quantization time (Sigmoid, Tanh, HardSwish, Swish, ... on the two grids).</summary>
    public const string Lookup = "Lookup";

    /// <summary>u8 → u8: (x − zx) times a per-channel (or single) constant plus a constant, on the output grid (Add/Sub/Mul/Div by constants).</summary>
    public const string Affine = "Affine";

    /// <summary>Elementwise product of two u8 tensors, the second broadcast over the first's trailing dimensions (squeeze-excitation).</summary>
    public const string Mul = "Mul";

    /// <summary>
    /// Matrix product of two computed u8 tensors, A [..., M, K] × B [..., K, N] with ONNX MatMul's batch broadcast: int32
    /// sums of (a − za)(b − zb), one requantization (attention's Q·Kᵀ and attention·V).
    /// </summary>
    public const string MatMul = "MatMul";

    /// <summary>Concatenation of u8 tensors along one axis, each input requantized to the output grid.</summary>
    public const string Concat = "Concat";

    /// <summary>
    /// Data movement on one grid: y[i] = map[i] ≥ 0 ? x[map[i]] : fill (Transpose, Slice, Pad, Resize nearest, and the
    /// zero insertion of a ConvTranspose).
    /// </summary>
    public const string Remap = "Remap";

    /// <summary>
    /// Linear (bilinear) Resize over the last two axes on one grid: each output element a fixed-point convex combination
    /// of four input elements (docs/artifact.md).
    /// </summary>
    public const string Resize = "Resize";
}
