using Google.Protobuf;
using QuantGen.Core;
using QuantGen.Core.Artifact;
using QuantGen.Onnx.Proto;
using DataType = QuantGen.Onnx.Proto.TensorProto.Types.DataType;

namespace QuantGen.Onnx.Export;

/// <summary>
/// Writes a quantized artifact as a standard ONNX QDQ model (docs/interop.md): int8 weights and int32 biases as
/// initializers behind DequantizeLinear (per output channel, axis 0), every u8 activation as a QuantizeLinear →
/// DequantizeLinear pair with the artifact's scale and zero point, the float operators in between. ONNX Runtime
/// fuses these groups into its QLinearConv / QGemm / QLinearAdd / QLinearAveragePool kernels.
/// Built from the artifact alone (the contract the generator also reads), so the exported model carries exactly
/// QuantGen's quantization: after CLE, bias correction and AdaRound, with its grids and integer weights.
/// </summary>
public static class QdqExporter
{
    /// <summary>The opset written: per-axis QuantizeLinear/DequantizeLinear exist from 13.</summary>
    public const int Opset = 13;

    /// <summary>QG0070's message for an artifact with 16-bit activations.</summary>
    public const string SixteenBitMessage = "QDQ export writes 8-bit activations only, and this model has 16-bit ones (ActivationBits=16): int16 QuantizeLinear needs opset 21, and ONNX Runtime has no int16 Conv kernel to fuse it into. Export a model quantized with ActivationBits=8.";

    /// <summary>QG0070's message for a factorized artifact.</summary>
    public const string FactorizedMessage = "QDQ export cannot write Compression=\"factorized\": a factorized layer's weights are two sparse factors with an int16 requantization between them, which QDQ cannot express exactly. Export a model quantized without Compression.";

    /// <summary>The QDQ model as ONNX protobuf bytes; a <see cref="ModelException"/> (QG0070) for what QDQ cannot express.</summary>
    public static byte[] Export(QuantizedArtifact artifact, QdqWeightType weights = QdqWeightType.UInt8, string? modelPath = null) =>
        Build(artifact, weights, modelPath).ToByteArray();

    internal static ModelProto Build(QuantizedArtifact artifact, QdqWeightType weights = QdqWeightType.UInt8, string? modelPath = null) =>
        new QdqGraphBuilder(artifact, weights, modelPath).Build();

    /// <summary>Parses the command line / MSBuild spelling: "u8" (the default) or "s8".</summary>
    public static QdqWeightType ParseWeightType(string? value) => value?.ToLowerInvariant() switch
    {
        null or "" or "u8" or "uint8" => QdqWeightType.UInt8,
        "s8" or "int8" => QdqWeightType.Int8,
        _ => throw new ModelException(ErrorCodes.InvalidOption, $"QDQ weight type '{value}' is not s8 or u8."),
    };
}

/// <summary>How the exported model stores QuantGen's int8 weights; both dequantize to the same values.</summary>
public enum QdqWeightType
{
    /// <summary>int8, zero point 0: the usual QDQ form (ONNX Runtime's U8S8 kernels). Exact where the CPU has VNNI; on AVX2 without it ONNX Runtime's U8S8 kernels saturate 16-bit pair sums (docs/interop.md).</summary>
    Int8,

    /// <summary>The default. uint8 w + 128, zero point 128: the same real weights through ONNX Runtime's U8U8 kernels, whose sums are exact on every x86 CPU.</summary>
    UInt8,
}

/// <summary>One export: walks the artifact's layers in order and appends their QDQ node groups.</summary>
internal sealed class QdqGraphBuilder
{
    private readonly QuantizedArtifact _artifact;
    private readonly string? _modelPath;
    private readonly QdqWeightType _weightType;
    private readonly Dictionary<string, ArtifactTensor> _tensors;
    private readonly Dictionary<string, string> _floatNames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _quantizedNames = new(StringComparer.Ordinal);
    private readonly HashSet<string> _gridsWritten = new(StringComparer.Ordinal);
    private readonly GraphProto _graph;

    public QdqGraphBuilder(QuantizedArtifact artifact, QdqWeightType weightType, string? modelPath)
    {
        _artifact = artifact;
        _weightType = weightType;
        _modelPath = modelPath;
        _tensors = artifact.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        _graph = new GraphProto { Name = artifact.ModelName };
    }

    public ModelProto Build()
    {
        foreach (var t in _artifact.Tensors)
        {
            if (t.ElementType == ArtifactElementType.I16) throw NotExportable(QdqExporter.SixteenBitMessage, null);
            if (t.ElementType == ArtifactElementType.I8) throw NotExportable($"Tensor '{t.Name}' is an i8 activation; QDQ export writes u8 activations.", null);
        }
        foreach (var io in _artifact.Inputs)
        {
            _floatNames[io.Tensor] = io.Name;
            _graph.Input.Add(ValueInfo(io.Name, _tensors[io.Tensor].Shape.AsArray()));
        }
        foreach (var io in _artifact.Outputs)
        {
            _floatNames[io.Tensor] = io.Name;
            _graph.Output.Add(ValueInfo(io.Name, _tensors[io.Tensor].Shape.AsArray()));
        }
        // The artifact names a quantized tensor after its ONNX value and the float edge tensors with a suffix: the
        // graph's inputs and outputs keep the user's names, so a quantized tensor named like one of them is renamed.
        var taken = new HashSet<string>(_floatNames.Values, StringComparer.Ordinal);
        foreach (var t in _artifact.Tensors) if (t.ElementType == ArtifactElementType.F32) taken.Add(FloatName(t.Name));
        foreach (var t in _artifact.Tensors)
        {
            if (t.ElementType == ArtifactElementType.F32) continue;
            string name = t.Name;
            while (!taken.Add(name)) name += "_quantized";
            _quantizedNames[t.Name] = name;
        }
        foreach (var layer in _artifact.Layers) Emit(layer);
        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "quantgen",
            ProducerVersion = _artifact.GetMetadata("toolVersion") ?? "",
            DocString = $"QuantGen quantization of {_artifact.GetMetadata("source") ?? _artifact.ModelName} exported as QDQ (docs/interop.md).",
            OpsetImport = { new OperatorSetIdProto { Domain = "", Version = QdqExporter.Opset } },
            Graph = _graph,
        };
        foreach (var m in _artifact.Metadata) model.MetadataProps.Add(new StringStringEntryProto { Key = "quantgen." + m.Key, Value = m.Value });
        return model;
    }

    private void Emit(ArtifactLayer layer)
    {
        var output = _tensors[layer.Outputs[0]];
        switch (layer.Kind)
        {
            case LayerKinds.Quantize:
                QuantizeTo(FloatName(layer.Inputs[0]), output, output.QMin, output.QMax, layer.Name);
                break;
            case LayerKinds.Dequantize:
                Node("DequantizeLinear", layer.Name, [Q(layer.Inputs[0]), ScaleName(_tensors[layer.Inputs[0]]), ZeroName(_tensors[layer.Inputs[0]])], FloatName(output.Name));
                break;
            case LayerKinds.Conv: Conv(layer, output); break;
            case LayerKinds.FullyConnected: FullyConnected(layer, output); break;
            case LayerKinds.MaxPool:
            {
                var x = _tensors[layer.Inputs[0]];
                var node = Node("MaxPool", layer.Name, [Dequantized(x, layer.Name)], layer.Name + "_out");
                int[] k = layer.GetInts("kernel"), s = layer.GetInts("strides"), p = layer.GetInts("pads"), d = layer.GetInts("dilations");
                node.Attribute.Add(Ints("kernel_shape", k));
                node.Attribute.Add(Ints("strides", s));
                node.Attribute.Add(Ints("pads", p));
                node.Attribute.Add(Ints("dilations", d));
                if (NeedsCeilMode(x, output, k, s, p, d)) node.Attribute.Add(Int("ceil_mode", 1));
                QuantizeTo(layer.Name + "_out", output, output.QMin, output.QMax, layer.Name);
                break;
            }
            case LayerKinds.AveragePool: AveragePool(layer, output); break;
            case LayerKinds.Add:
            {
                var a = _tensors[layer.Inputs[0]];
                var b = _tensors[layer.Inputs[1]];
                Node("Add", layer.Name, [Dequantized(a, layer.Name), Dequantized(b, layer.Name + "_b")], layer.Name + "_out");
                var clamp = layer.GetInts("clamp");
                QuantizeTo(layer.Name + "_out", output, clamp[0], clamp[1], layer.Name);
                break;
            }
            case LayerKinds.Reshape:
            {
                var shape = Initializer(layer.Name + ".shape", DataType.Int64, [output.Shape.Count], output.Shape.AsArray().Select(d => (long)d).ToArray());
                if (output.ElementType == ArtifactElementType.F32)
                {
                    Node("Reshape", layer.Name, [FloatName(layer.Inputs[0])], FloatName(output.Name)).Input.Add(shape);
                    break;
                }
                // Q/DQ around the Reshape, as quantization tools write it; ONNX Runtime drops the pair (same grid).
                Node("Reshape", layer.Name, [Dequantized(_tensors[layer.Inputs[0]], layer.Name), shape], layer.Name + "_out");
                QuantizeTo(layer.Name + "_out", output, output.QMin, output.QMax, layer.Name);
                break;
            }
            case LayerKinds.Softmax:
                Node("Softmax", layer.Name, [FloatName(layer.Inputs[0])], FloatName(output.Name)).Attribute.Add(Int("axis", layer.GetInt("axis")));
                break;
            case LayerKinds.Sigmoid:
                Node("Sigmoid", layer.Name, [FloatName(layer.Inputs[0])], FloatName(output.Name));
                break;
            case LayerKinds.FactorizedConv:
            case LayerKinds.FactorizedFullyConnected:
                throw NotExportable(QdqExporter.FactorizedMessage, layer.Name);
            default:
                throw NotExportable($"Layer '{layer.Name}' has kind '{layer.Kind}', which QDQ export does not know.", layer.Name);
        }
    }

    /// <summary>
    /// Conv: acc = bias[m] + Σ w·x with the input zero point folded into the artifact's bias (docs/artifact.md); QDQ
    /// wants the bias of Σ w·(x − zx), so the export unfolds it: b[m] = bias[m] + zx · Σ w[m, ·].
    /// </summary>
    private void Conv(ArtifactLayer layer, ArtifactTensor output)
    {
        var x = _tensors[layer.Inputs[0]];
        var weights = layer.GetBlob("weights");
        int m = weights.Shape[0];
        // ONNX Conv wants W as [M, C/G, KH, KW]; the blob's data is in that order whatever shape it was written with.
        var kernel = layer.GetInts("kernel");
        long[] convShape = [m, x.Shape[1] / layer.GetInt("group"), kernel[0], kernel[1]];
        var (wName, bName) = WeightAndBias(layer, x, output, weights, axis: 0, transpose: false, convShape);
        var node = Node("Conv", layer.Name, [Dequantized(x, layer.Name), wName, bName], layer.Name + "_acc");
        node.Attribute.Add(Ints("kernel_shape", layer.GetInts("kernel")));
        node.Attribute.Add(Ints("strides", layer.GetInts("strides")));
        node.Attribute.Add(Ints("pads", layer.GetInts("pads")));
        node.Attribute.Add(Ints("dilations", layer.GetInts("dilations")));
        node.Attribute.Add(Int("group", layer.GetInt("group")));
        Requantized(layer, layer.Name + "_acc", output, m, [m, 1, 1]);
    }

    /// <summary>FullyConnected on a 2-D input is Gemm (transB = 1, ONNX Runtime's QGemm); on more leading dims MatMul + Add.</summary>
    private void FullyConnected(ArtifactLayer layer, ArtifactTensor output)
    {
        var x = _tensors[layer.Inputs[0]];
        var weights = layer.GetBlob("weights");
        int m = weights.Shape[0];
        if (x.Shape.Count == 2)
        {
            var (wName, bName) = WeightAndBias(layer, x, output, weights, axis: 0, transpose: false);
            Node("Gemm", layer.Name, [Dequantized(x, layer.Name), wName, bName], layer.Name + "_acc").Attribute.Add(Int("transB", 1));
        }
        else
        {
            var (wName, bName) = WeightAndBias(layer, x, output, weights, axis: 1, transpose: true);
            Node("MatMul", layer.Name, [Dequantized(x, layer.Name), wName], layer.Name + "_matmul");
            Node("Add", layer.Name + "_bias", [layer.Name + "_matmul", bName], layer.Name + "_acc");
        }
        Requantized(layer, layer.Name + "_acc", output, m, [m]);
    }

    /// <summary>
    /// The weight and bias DequantizeLinear groups of a Conv or FullyConnected layer. The artifact stores the
    /// requantization M[m] = sx · sw[m] / sy, not sw; the export picks the float32 sw[m] for which ONNX Runtime's
    /// float32 (sx · sw[m]) / sy is exactly the float32 scale QuantGen requantizes with (FixedPoint.Scale), so the
    /// fused QLinearConv / QGemm multiply by the same number.
    /// </summary>
    private (string Weights, string Bias) WeightAndBias(ArtifactLayer layer, ArtifactTensor x, ArtifactTensor output, ArtifactBlob weights, int axis, bool transpose, long[]? shape = null)
    {
        int m = weights.Shape[0];
        int perChannel = weights.Values.Count / m;
        var w = weights.Values.AsArray();
        var bias = layer.GetBlob("bias").Values.AsArray();
        var multiplier = layer.GetBlob("multiplier").Values.AsArray();
        var shift = layer.GetBlob("shift").Values.AsArray();
        var wScale = new float[m];
        var bScale = new float[m];
        var b = new long[m];
        for (int o = 0; o < m; o++)
        {
            wScale[o] = WeightScale(x.Scale, output.Scale, FixedPoint.Scale(multiplier[o], shift[o]));
            bScale[o] = x.Scale * wScale[o];
            long sum = 0;
            for (int i = 0; i < perChannel; i++) sum += w[o * perChannel + i];
            b[o] = bias[o] + (long)x.ZeroPoint * sum;
            if (b[o] is < int.MinValue or > int.MaxValue)
                throw NotExportable($"Layer '{layer.Name}': channel {o}'s bias with the input zero point unfolded ({b[o]}) does not fit int32.", layer.Name);
        }

        long[] wDims;
        long[] wValues;
        if (transpose)
        {
            // MatMul's B is [K, M]: the artifact's [M, K] transposed, scales along axis 1.
            wDims = [perChannel, m];
            wValues = new long[w.Length];
            for (int o = 0; o < m; o++)
                for (int i = 0; i < perChannel; i++)
                    wValues[i * m + o] = w[o * perChannel + i];
        }
        else
        {
            wDims = shape ?? weights.Shape.AsArray().Select(d => (long)d).ToArray();
            wValues = w.Select(v => (long)v).ToArray();
        }
        string name = layer.Name;
        var (wType, wZero) = _weightType == QdqWeightType.UInt8 ? (DataType.Uint8, 128L) : (DataType.Int8, 0L);
        if (wZero != 0) for (int i = 0; i < wValues.Length; i++) wValues[i] += wZero;
        var wq = Initializer(name + ".weight_quantized", wType, wDims, wValues);
        var ws = Initializer(name + ".weight_scale", DataType.Float, [m], wScale);
        var wz = Initializer(name + ".weight_zero_point", wType, [m], Enumerable.Repeat(wZero, m).ToArray());
        Node("DequantizeLinear", name + ".weight_dequantize", [wq, ws, wz], name + ".weight").Attribute.Add(Int("axis", axis));
        var bq = Initializer(name + ".bias_quantized", DataType.Int32, [m], b);
        var bs = Initializer(name + ".bias_scale", DataType.Float, [m], bScale);
        var bz = Initializer(name + ".bias_zero_point", DataType.Int32, [m], new long[m]);
        Node("DequantizeLinear", name + ".bias_dequantize", [bq, bs, bz], name + ".bias").Attribute.Add(Int("axis", 0));
        return (name + ".weight", name + ".bias");
    }

    /// <summary>
    /// The float32 weight scale sw with float32(float32(sx · sw) / sy) = target, searched a few ulps around
    /// target · sy / sx; the nearest candidate when none is exact.
    /// </summary>
    internal static float WeightScale(float sx, float sy, float target)
    {
        if (target == 0f) return 0f;
        float start = (float)((double)target * sy / sx);
        float best = start;
        double bestError = double.MaxValue;
        for (int step = 0; step <= 16; step++)
        {
            foreach (int sign in step == 0 ? [1] : new[] { 1, -1 })
            {
                float candidate = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(start) + sign * step);
                float combined = sx * candidate / sy;
                if (combined == target) return candidate;
                double error = Math.Abs((double)combined - target);
                if (error < bestError) (best, bestError) = (candidate, error);
            }
        }
        return best;
    }

    /// <summary>
    /// The requantization of a weighted layer in float: an optional LeakyRelu (the slope the artifact's negative
    /// pair encodes), the optional per-channel upper bound (clampHigh, as Min), the clamp, then QuantizeLinear.
    /// </summary>
    private void Requantized(ArtifactLayer layer, string value, ArtifactTensor output, int channels, long[] channelShape)
    {
        if (layer.HasBlob("negMultiplier"))
        {
            var multiplier = layer.GetBlob("multiplier").Values.AsArray();
            var shift = layer.GetBlob("shift").Values.AsArray();
            var negMultiplier = layer.GetBlob("negMultiplier").Values.AsArray();
            var negShift = layer.GetBlob("negShift").Values.AsArray();
            // α = negM / M in every channel up to the multipliers' 31 bits; PRelu keeps each channel's own ratio.
            var slope = new float[channels];
            for (int o = 0; o < channels; o++)
            {
                double positive = FixedPoint.Decode(multiplier[o], shift[o]);
                slope[o] = positive == 0 ? 0f : (float)(FixedPoint.Decode(negMultiplier[o], negShift[o]) / positive);
            }
            var slopeName = Initializer(layer.Name + ".slope", DataType.Float, channelShape, slope);
            Node("PRelu", layer.Name + "_leaky_relu", [value, slopeName], layer.Name + "_activated");
            value = layer.Name + "_activated";
        }
        if (layer.HasBlob("clampHigh"))
        {
            var high = layer.GetBlob("clampHigh").Values.AsArray();
            var bound = high.Select(h => output.Scale * (h - output.ZeroPoint)).ToArray();
            var boundName = Initializer(layer.Name + ".clamp_high", DataType.Float, channelShape, bound);
            Node("Min", layer.Name + "_clamp_high", [value, boundName], layer.Name + "_bounded");
            value = layer.Name + "_bounded";
        }
        var clamp = layer.GetInts("clamp");
        QuantizeTo(value, output, clamp[0], clamp[1], layer.Name);
    }

    private void AveragePool(ArtifactLayer layer, ArtifactTensor output)
    {
        var x = _tensors[layer.Inputs[0]];
        int[] k = layer.GetInts("kernel"), s = layer.GetInts("strides"), p = layer.GetInts("pads");
        bool global = k[0] == x.Shape[2] && k[1] == x.Shape[3] && p.All(v => v == 0) && output.Shape[2] == 1 && output.Shape[3] == 1;
        if (global)
            Node("GlobalAveragePool", layer.Name, [Dequantized(x, layer.Name)], layer.Name + "_out");
        else
        {
            var node = Node("AveragePool", layer.Name, [Dequantized(x, layer.Name)], layer.Name + "_out");
            node.Attribute.Add(Ints("kernel_shape", k));
            node.Attribute.Add(Ints("strides", s));
            node.Attribute.Add(Ints("pads", p));
            node.Attribute.Add(Int("count_include_pad", layer.GetInt("countIncludePad")));
            if (NeedsCeilMode(x, output, k, s, p, [1, 1])) node.Attribute.Add(Int("ceil_mode", 1));
        }
        var clamp = layer.GetInts("clamp");
        QuantizeTo(layer.Name + "_out", output, clamp[0], clamp[1], layer.Name);
    }

    private static bool NeedsCeilMode(ArtifactTensor x, ArtifactTensor y, int[] k, int[] s, int[] p, int[] d)
    {
        for (int axis = 0; axis < 2; axis++)
        {
            int floor = (x.Shape[2 + axis] + p[axis] + p[axis + 2] - ((k[axis] - 1) * d[axis] + 1)) / s[axis] + 1;
            if (floor != y.Shape[2 + axis]) return true;
        }
        return false;
    }

    /// <summary>
    /// QuantizeLinear of a float value onto <paramref name="output"/>'s grid, under the artifact's name. A clamp
    /// narrower than the u8 range (ReLU on a grid with zy &gt; 0, ReLU6, sub-8-bit grids) becomes a Clip first.
    /// </summary>
    private void QuantizeTo(string value, ArtifactTensor output, int lo, int hi, string layerName)
    {
        if (lo > 0 || hi < 255)
        {
            var min = Initializer(layerName + ".clip_min", DataType.Float, [], [output.Scale * (lo - output.ZeroPoint)]);
            var max = Initializer(layerName + ".clip_max", DataType.Float, [], [output.Scale * (hi - output.ZeroPoint)]);
            Node("Clip", layerName + "_clip", [value, min, max], layerName + "_clipped");
            value = layerName + "_clipped";
        }
        Node("QuantizeLinear", layerName + "_quantize", [value, ScaleName(output), ZeroName(output)], Q(output.Name));
    }

    /// <summary>A DequantizeLinear of a quantized tensor for one consumer (QDQ node groups do not share their DQ nodes).</summary>
    private string Dequantized(ArtifactTensor t, string consumer)
    {
        string name = $"{Q(t.Name)}_dequantized_for_{consumer}";
        Node("DequantizeLinear", name, [Q(t.Name), ScaleName(t), ZeroName(t)], name);
        return name;
    }

    private string ScaleName(ArtifactTensor t)
    {
        WriteGrid(t);
        return Q(t.Name) + ".scale";
    }

    private string ZeroName(ArtifactTensor t)
    {
        WriteGrid(t);
        return Q(t.Name) + ".zero_point";
    }

    private void WriteGrid(ArtifactTensor t)
    {
        if (!_gridsWritten.Add(t.Name)) return;
        Initializer(Q(t.Name) + ".scale", DataType.Float, [], [t.Scale]);
        Initializer(Q(t.Name) + ".zero_point", DataType.Uint8, [], [(long)t.ZeroPoint]);
    }

    /// <summary>The ONNX name of a quantized (u8) artifact tensor.</summary>
    private string Q(string tensor) => _quantizedNames[tensor];

    private string FloatName(string tensor) => _floatNames.TryGetValue(tensor, out var name) ? name : tensor;

    private NodeProto Node(string op, string name, string[] inputs, string output)
    {
        var node = new NodeProto { OpType = op, Name = name, Output = { output } };
        node.Input.AddRange(inputs);
        _graph.Node.Add(node);
        return node;
    }

    private string Initializer(string name, DataType type, long[] dims, float[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)type };
        t.Dims.AddRange(dims);
        var bytes = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("QDQ export writes little-endian raw data.");
        t.RawData = ByteString.CopyFrom(bytes);
        _graph.Initializer.Add(t);
        return name;
    }

    private string Initializer(string name, DataType type, long[] dims, long[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)type };
        t.Dims.AddRange(dims);
        int size = type switch { DataType.Int8 or DataType.Uint8 => 1, DataType.Int32 => 4, DataType.Int64 => 8, _ => throw new ArgumentOutOfRangeException(nameof(type)) };
        var bytes = new byte[values.Length * size];
        for (int i = 0; i < values.Length; i++)
            for (int j = 0; j < size; j++)
                bytes[i * size + j] = (byte)(values[i] >> (8 * j));
        t.RawData = ByteString.CopyFrom(bytes);
        _graph.Initializer.Add(t);
        return name;
    }

    private static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static AttributeProto Ints(string name, int[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values.Select(v => (long)v));
        return a;
    }

    private static ValueInfoProto ValueInfo(string name, int[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)DataType.Float, Shape = shape } },
        };
    }

    private ModelException NotExportable(string message, string? node) => new(ErrorCodes.NotExportableAsQdq, message, _modelPath, node);
}
