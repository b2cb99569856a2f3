using System.Globalization;
using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>
/// Puts a <see cref="FixedQuantization"/> (QDQ import, AIMET encodings) on the layers: weight scales and integer
/// weights from the fixed quantizers instead of range setting and rounding, the int32 biases as given; after the
/// artifact is built, checks that every fixed grid was used where it stands.
/// </summary>
internal static class FixedQuantizationPass
{
    /// <summary>
    /// QDQ import: every Conv/FullyConnected layer's weights must come from a DequantizeLinear; the integers are
    /// recovered exactly (w / s rounds back to the stored integer; checked bit for bit) and used as they are.
    /// Encodings: the layers whose weights the file names get its scales, rounded to nearest on its bitwidth.
    /// </summary>
    public static void ApplyWeights(IReadOnlyList<FloatLayer> layers, FixedQuantization fixedQ, Graph graph, string? modelPath)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var layer in layers.Where(l => l.Kind is Artifact.LayerKinds.Conv or Artifact.LayerKinds.FullyConnected))
        {
            if (layer.WeightSource is null || !fixedQ.Weights.TryGetValue(layer.WeightSource, out var wq))
            {
                if (fixedQ.Exact)
                    throw new ModelException(ErrorCodes.QdqNotExpressible,
                        $"The weights of {layer.Kind} '{layer.Name}' ('{layer.WeightSource}') are float, not dequantized by a DequantizeLinear: an imported QDQ model must quantize every Conv, Gemm and MatMul weight (QuantGen will not choose scales for it).",
                        modelPath, layer.Name);
                continue;
            }
            used.Add(layer.WeightSource);
            int m = layer.OutputChannels, fanIn = layer.FanIn;
            var scales = ChannelScales(layer, wq, graph, modelPath);
            var q = new int[layer.Weights!.Length];
            int level = WeightQuantizer.MaxLevel(wq.Bits);
            for (int o = 0; o < m; o++)
                for (int i = 0; i < fanIn; i++)
                {
                    float w = layer.Weights[o * fanIn + i];
                    double exact = Math.Round(w / (double)scales[o], MidpointRounding.ToEven);
                    if (fixedQ.Exact)
                    {
                        // Imported integers: the float weight is float32(q · s), so q comes back; anything else means a pass changed it.
                        if (!(Math.Abs(exact) <= 128) || (float)exact * scales[o] != w)
                            throw new ModelException(ErrorCodes.QdqNotExpressible,
                                $"The weights of {layer.Kind} '{layer.Name}' are no longer on the grid of DequantizeLinear '{wq.Source}' (a BatchNormalization folded into them after dequantization, or Gemm alpha ≠ 1): fold it before quantizing.",
                                modelPath, layer.Name);
                        q[o * fanIn + i] = (int)exact;
                    }
                    else
                        q[o * fanIn + i] = (int)Math.Clamp(exact, -level - 1, level);
                }
            layer.WeightScales = scales;
            layer.QuantizedWeights = q;
            layer.ImportedScales = fixedQ.Exact;
            if (fixedQ.Exact && layer.BiasSource is { } biasName && fixedQ.Biases.TryGetValue(biasName, out var bias))
                layer.FixedBias = FixedBias(layer, bias, graph, modelPath);
        }
        if (!fixedQ.Exact) return;
        foreach (var (name, wq) in fixedQ.Weights)
            if (!used.Contains(name) && !IsFloatConstant(layers, graph, name))
                throw new ModelException(ErrorCodes.QdqNotImportable,
                    $"DequantizeLinear '{wq.Source}' dequantizes the constant '{name}', which is not the weight of a Conv, Gemm or MatMul: QuantGen quantizes weights of those only, and has nothing to put these integers in.",
                    modelPath, wq.Source);
    }

    /// <summary>
    /// True when a dequantized constant that is no Conv/Gemm/MatMul weight is read only by float layers and elementwise
    /// layers (a float constant of a float island, or the constant operand of an Affine/Mul): those compute with the
    /// dequantized floats, as ONNX does. A Conv/Gemm/MatMul reading it otherwise (e.g. as its bias) is not.
    /// </summary>
    private static bool IsFloatConstant(IReadOnlyList<FloatLayer> layers, Graph graph, string name)
    {
        var nodes = graph.Nodes.Where(n => n.Inputs.Contains(name)).Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        var readers = layers.Where(l => l.NodeInputs.Contains(name) || l.Nodes.Any(nodes.Contains)).ToList();
        return readers.Count > 0 && readers.All(l => l.IsFloatOp || l.Kind is not (Artifact.LayerKinds.Conv or Artifact.LayerKinds.FullyConnected));
    }

    /// <summary>The fixed scales in output-channel order: one per channel from a per-axis quantizer on the output axis, or the per-tensor one repeated.</summary>
    private static float[] ChannelScales(FloatLayer layer, FixedWeights wq, Graph graph, string? modelPath)
    {
        int m = layer.OutputChannels;
        if (wq.Scales.Length == 1) return Enumerable.Repeat(wq.Scales[0], m).ToArray();
        if ((wq.Axis != layer.WeightOutputAxis && wq.Axis != int.MinValue) || wq.Scales.Length != m)
            throw new ModelException(ErrorCodes.QdqNotExpressible,
                $"'{wq.Source}' quantizes the weights of {layer.Kind} '{layer.Name}' along {(wq.Axis == int.MinValue ? "its channels" : $"axis {wq.Axis}")} ({wq.Scales.Length} scales), and the output channels are axis {layer.WeightOutputAxis} ({m}): QuantGen's weights have one scale per output channel.",
                modelPath, layer.Name);
        return (float[])wq.Scales.Clone();
    }

    /// <summary>The int32 bias of a QDQ layer, used as it is when its scale is the accumulator's (sx · sw[m]); checked per channel.</summary>
    private static int[] FixedBias(FloatLayer layer, FixedBias bias, Graph graph, string? modelPath)
    {
        int m = layer.OutputChannels;
        if (bias.Values.Length != m)
            throw new ModelException(ErrorCodes.QdqNotExpressible, $"The bias of {layer.Kind} '{layer.Name}' has {bias.Values.Length} values for {m} output channels.", modelPath, layer.Name);
        for (int o = 0; o < m; o++)
            if ((float)bias.Values[o] * bias.Scales[o] != layer.Bias![o])
                throw new ModelException(ErrorCodes.QdqNotExpressible,
                    $"The int32 bias of {layer.Kind} '{layer.Name}' (DequantizeLinear '{bias.Source}') was changed after dequantization (a BatchNormalization folded into the layer): fold it before quantizing.", modelPath, layer.Name);
        return (int[])bias.Values.Clone();
    }

    /// <summary>
    /// After the artifact is built: each fixed grid must have been used as the grid of a quantized tensor, or sit on a
    /// value computed inside a layer (a Conv's output before its fused ReLU/Clip) with exactly the layer output's grid
    /// (then one requantization with the activation's clamp is what Q → DQ → Relu → Q computes).
    /// </summary>
    public static void CheckGrids(IReadOnlyList<FloatLayer> layers, FixedQuantization fixedQ, IReadOnlyDictionary<string, ActivationGrid> built, string? modelPath)
    {
        foreach (var (value, (grid, source)) in fixedQ.Grids)
        {
            if (built.TryGetValue(value, out var actual))
            {
                if (actual != grid)
                    throw new ModelException(ErrorCodes.QdqNotExpressible,
                        $"'{value}' is quantized by '{source}' with {Describe(grid)}, but QuantGen computes it on its input's grid {Describe(actual)} (MaxPool, reshapes and Transpose keep the grid; the model requantizes there, which QuantGen has no layer for).",
                        modelPath, source);
                continue;
            }
            var layer = layers.FirstOrDefault(l => l.FusedValues.Contains(value));
            if (layer is not null && built.TryGetValue(layer.Output, out var output))
            {
                if (output != grid)
                    throw new ModelException(ErrorCodes.QdqNotExpressible,
                        $"'{value}' inside layer '{layer.Name}' ({string.Join(" + ", layer.Nodes)}) is quantized by '{source}' with {Describe(grid)}, and the layer's output '{layer.Output}' with {Describe(output)}: two roundings in one layer, which QuantGen's single requantization cannot reproduce exactly.",
                        modelPath, source);
                continue;
            }
            throw new ModelException(ErrorCodes.QdqNotImportable,
                $"'{source}' quantizes '{value}', which QuantGen does not compute on an integer grid (not the input or output of a quantized layer; e.g. a float value at the model's edge).",
                modelPath, source);
        }
    }

    public static string Describe(ActivationGrid grid) =>
        string.Create(CultureInfo.InvariantCulture, $"scale {grid.Scale:R}, zero point {grid.ZeroPoint}");
}
