using QuantGen.Core.Artifact;

namespace QuantGen.Core.Quantization;

/// <summary>
/// One layer of the float model as the quantizer sees it: ONNX nodes fused into a unit that maps to one artifact
/// layer kind (Conv + BN + ReLU is one Conv layer). Weights are float and mutable: BN folding and, later,
/// equalization passes rewrite them in place.
/// </summary>
internal sealed partial class FloatLayer
{
    public FloatLayer(string kind, string name, string[] inputs, string output)
    {
        Kind = kind;
        Name = name;
        Inputs = inputs;
        Output = output;
    }

    /// <summary>A <see cref="LayerKinds"/> value.</summary>
    public string Kind { get; }

    /// <summary>Name of the first ONNX node of the layer.</summary>
    public string Name { get; }

    /// <summary>ONNX nodes fused into this layer, in order (for comments and reports).</summary>
    public List<string> Nodes { get; } = new();

    /// <summary>Graph values read by the layer.</summary>
    public string[] Inputs { get; }

    /// <summary>Graph value the layer produces (after any fused activation).</summary>
    public string Output { get; set; }

    /// <summary>Conv: [M, C/G, KH, KW]; FullyConnected: [M, K].</summary>
    public float[]? Weights { get; set; }

    public int[]? WeightShape { get; set; }

    /// <summary>One per output channel (zeros when the model has none).</summary>
    public float[]? Bias { get; set; }

    public int[] Kernel { get; set; } = [1, 1];

    public int[] Strides { get; set; } = [1, 1];

    /// <summary>top, left, bottom, right.</summary>
    public int[] Pads { get; set; } = [0, 0, 0, 0];

    public int[] Dilations { get; set; } = [1, 1];

    public int Group { get; set; } = 1;

    public bool CountIncludePad { get; set; }

    public int Axis { get; set; }

    /// <summary>Fused activation bounds in real values (ReLU: [0, +∞), ReLU6: [0, 6]).</summary>
    public float ClampMin { get; set; } = float.NegativeInfinity;

    public float ClampMax { get; set; } = float.PositiveInfinity;

    /// <summary>
    /// Per-output-channel upper bounds replacing <see cref="ClampMax"/> once equalization has rescaled a bounded
    /// activation (ReLU6 of channel i scaled by 1/s_i clips at 6/s_i): keeps the float function exact.
    /// </summary>
    public float[]? ChannelClampMax { get; set; }

    /// <summary>The per-channel upper bounds, created from <see cref="ClampMax"/> the first time a pass moves one.</summary>
    public float[] EditableChannelClampMax() => ChannelClampMax ??= Enumerable.Repeat(ClampMax, OutputChannels).ToArray();

    /// <summary>The upper bound of output channel <paramref name="channel"/>.</summary>
    public float ClampMaxOf(int channel) => ChannelClampMax is { } bounds ? bounds[channel] : ClampMax;

    /// <summary>True when the fused activation commutes with a positive per-channel scale (ReLU, ReLU6, LeakyRelu, none).</summary>
    public bool IsPositivelyHomogeneous => ClampMin == 0 || float.IsNegativeInfinity(ClampMin);

    /// <summary>Per-output-channel weight steps chosen by range setting (null until weights are quantized).</summary>
    public float[]? WeightScales { get; set; }

    /// <summary>Grid indices of the weights, [M, fan-in], chosen by rounding (nearest or AdaRound).</summary>
    public int[]? QuantizedWeights { get; set; }

    /// <summary>
    /// Slope for negative pre-activations of a LeakyRelu fused into this Conv/FullyConnected (applied before the
    /// clamp); null when there is none. The output is clamp(x ≥ 0 ? x : LeakyAlpha · x, ClampMin, ClampMax).
    /// </summary>
    public float? LeakyAlpha { get; set; }

    /// <summary>Quantized sparse factors replacing the weights (Compression="factorized"); null for a plain layer.</summary>
    public Factorization.FactorizedWeights? Factorization { get; set; }

    /// <summary>The initializer the weights were read from (before BN folding), for fixed weight quantizers (QDQ import, encodings).</summary>
    public string? WeightSource { get; set; }

    /// <summary>The axis of <see cref="WeightSource"/> that indexes output channels (Conv 0; Gemm 0 with transB, else 1; MatMul 1).</summary>
    public int WeightOutputAxis { get; set; }

    /// <summary>The initializer the bias was read from, if any (Conv/Gemm input C, or the constant of a fused Add).</summary>
    public string? BiasSource { get; set; }

    /// <summary>
    /// Graph values computed inside the layer and not written by it (a Conv's output before its fused ReLU): a fixed
    /// grid there must equal the layer output's (QDQ import).
    /// </summary>
    public List<string> FusedValues { get; } = new();

    /// <summary>The int32 bias on the accumulator's scale when the model fixes it (QDQ import), used as it is.</summary>
    public int[]? FixedBias { get; set; }

    /// <summary>
    /// True when the scales are the model's own (QDQ import): the requantization scale is computed as ONNX Runtime's
    /// QLinearConv does, float32 (sx · sw[m]) / sy, so the imported model runs bit-identically.
    /// </summary>
    public bool ImportedScales { get; set; }

    /// <summary>True for layers computed in float after the last dequantization (Softmax, Sigmoid).</summary>
    public bool IsFloatTail => Kind is LayerKinds.Softmax or LayerKinds.Sigmoid;

    public int OutputChannels => WeightShape![0];

    /// <summary>Weights per output channel: C/G·KH·KW for Conv, K for FullyConnected.</summary>
    public int FanIn => Weights!.Length / OutputChannels;

    public override string ToString() => $"{Kind} {Name} ({string.Join(", ", Nodes)})";
}
