using System.Globalization;
using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;
using QuantGen.Core.Operators;

namespace QuantGen.Core.Quantization;

/// <summary>
/// Float islands: the nodes no quantized kernel covers run in float32 through the reference operators (the same code
/// the ReferenceExecutor runs), in the quantizer's passes and in the IntegerSimulator alike; the build reports them
/// (QG0022) or, with FloatFallback="false", refuses them all at once (QG0024).
/// </summary>
internal static partial class FloatIslands
{
    /// <summary>Samples drawn from the stated input ranges to bound float island outputs in a data-free build.</summary>
    public const int DataFreeSamples = 32;

    /// <summary>Runs one float node through its reference operator; the output as float32.</summary>
    public static float[] Execute(Node node, int opset, IReadOnlyList<Tensor?> inputs)
    {
        if (!OperatorRegistry.Default.TryGet(node.OpType, out var op))
            throw new ModelException(ErrorCodes.UnsupportedOperator, $"Operator '{node.OpType}' is not supported.", nodeName: node.Name);
        var outputs = op.Execute(new OpContext(node, opset), inputs);
        if (outputs[0].DataType != DataType.Float)
            throw new ModelException(ErrorCodes.NotQuantizable, $"{node.OpType} gives {DataTypes.Name(outputs[0].DataType)}, and a float layer computes float32.", nodeName: node.Name);
        return outputs[0].AsSpan<float>().ToArray();
    }

    /// <summary>A quantizer float layer on one sample (<paramref name="read"/> gives computed values by name).</summary>
    public static float[] Execute(FloatLayer layer, Graph graph, Func<string, float[]> read)
    {
        var inputs = new Tensor?[layer.NodeInputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            var name = layer.NodeInputs[i];
            if (name.Length == 0) continue;
            inputs[i] = graph.Initializers.TryGetValue(name, out var constant) ? constant : Tensor.FromArray(graph.ValueInfos[name].Shape, read(name));
        }
        return Execute(layer.FloatNode!, layer.Opset, inputs);
    }

    /// <summary>The node of an artifact float layer (docs/artifact.md, "Float layers") and its inputs' tensors.</summary>
    public static float[] Execute(ArtifactLayer layer, Func<string, (float[] Data, int[] Shape)> read)
    {
        var op = FloatLayers.OpOf(layer.Kind)!;
        var attributes = new Dictionary<string, NodeAttribute>(StringComparer.Ordinal);
        foreach (var a in layer.Ints)
        {
            if (a.Key.StartsWith("i.", StringComparison.Ordinal)) attributes[a.Key[2..]] = new NodeAttribute { Name = a.Key[2..], Kind = AttributeKind.Int, Int = a.Values[0] };
            else if (a.Key.StartsWith("is.", StringComparison.Ordinal)) attributes[a.Key[3..]] = new NodeAttribute { Name = a.Key[3..], Kind = AttributeKind.Ints, Ints = a.Values.Select(v => (long)v).ToArray() };
            else if (a.Key.StartsWith("s.", StringComparison.Ordinal)) attributes[a.Key[2..]] = new NodeAttribute { Name = a.Key[2..], Kind = AttributeKind.String, String = FloatLayers.GetString(layer, a.Key[2..])! };
        }
        foreach (var a in layer.Floats)
        {
            if (a.Key.StartsWith("f.", StringComparison.Ordinal)) attributes[a.Key[2..]] = new NodeAttribute { Name = a.Key[2..], Kind = AttributeKind.Float, Float = a.Values[0] };
            else if (a.Key.StartsWith("fs.", StringComparison.Ordinal)) attributes[a.Key[3..]] = new NodeAttribute { Name = a.Key[3..], Kind = AttributeKind.Floats, Floats = a.Values.AsArray() };
        }
        int count = FloatLayers.InputCount(layer);
        var names = new string[count];
        var inputs = new Tensor?[count];
        for (int i = 0; i < count; i++)
        {
            int source = FloatLayers.Source(layer, i);
            names[i] = source == -1 ? "" : "in" + i.ToString(CultureInfo.InvariantCulture);
            if (source == -2)
            {
                var blob = layer.GetBlob("c" + i.ToString(CultureInfo.InvariantCulture));
                inputs[i] = blob.Type == BlobType.F32
                    ? Tensor.FromArray(blob.Shape.AsArray(), blob.FloatValues.AsArray())
                    : Tensor.FromArray(blob.Shape.AsArray(), blob.Values.Select(v => (long)v).ToArray());
            }
            else if (source >= 0)
            {
                var (data, shape) = read(layer.Inputs[source]);
                inputs[i] = Tensor.FromArray(shape, data);
            }
        }
        var node = new Node(layer.Name, op, names, [layer.Outputs[0]], attributes);
        int opset = layer.HasInts(FloatLayers.OpsetKey) ? layer.GetInt(FloatLayers.OpsetKey) : 13;
        return Execute(node, opset, inputs);
    }

    /// <summary>
    /// The QG0022 warning listing every float node (name, op, share of the model's multiply-accumulates), or, with
    /// FloatFallback="false", QG0024 listing them all. Null when every node is quantized.
    /// </summary>
    public static ModelWarning? Check(IReadOnlyList<FloatLayer> layers, Graph graph, bool allowed, string? modelPath)
    {
        var floats = layers.Where(l => l.IsFloatOp).ToList();
        if (floats.Count == 0) return null;
        double total = layers.Sum(l => Macs(l, graph));
        string Share(FloatLayer l) => total > 0 ? (100 * Macs(l, graph) / total).ToString("0.0", CultureInfo.InvariantCulture) + "%" : "0.0%";
        // FloatNodes: the requested ones are said to be so; they are no fallback, and FloatFallback="false" does not refuse them.
        string Tag(FloatLayer l) => FloatNodeSelection.IsRequested(l) ? "requested, " : IsMovedWithReaders(l) ? "moved with its float readers, " : "";
        var list = string.Join("; ", floats.Select(l => $"'{l.Name}' ({l.FloatNode!.OpType}, {Tag(l)}{Share(l)} of MACs)"));
        double share = total > 0 ? 100 * floats.Sum(l => Macs(l, graph)) / total : 0;
        // Data movement moved into float after its readers is no fallback either: it has a kernel, and follows them.
        var fallbacks = floats.Where(l => !FloatNodeSelection.IsRequested(l) && !IsMovedWithReaders(l)).ToList();
        if (!allowed && fallbacks.Count > 0)
            throw new ModelException(ErrorCodes.FloatFallbackDisabled,
                $"{fallbacks.Count} node{(fallbacks.Count == 1 ? " has" : "s have")} no quantized kernel and FloatFallback is false: " +
                string.Join("; ", fallbacks.Select(l => $"'{l.Name}' ({l.FloatNode!.OpType}: {l.FloatReason})")) + ". " +
                "Remove FloatFallback=\"false\" to run them in float (dequantize → float → quantize).", modelPath);
        int requested = floats.Count(FloatNodeSelection.IsRequested);
        var why = requested == 0 ? "no quantized kernel" : fallbacks.Count == 0 ? "requested in FloatNodes" : $"no quantized kernel, or requested in FloatNodes ({requested})";
        int moved = floats.Count(IsMovedWithReaders);
        if (moved > 0) why += $", or moved with their float readers ({moved})";
        return new ModelWarning(ErrorCodes.FloatFallback,
            $"{floats.Count} node{(floats.Count == 1 ? " runs" : "s run")} in float ({why}; {share.ToString("0.0", CultureInfo.InvariantCulture)}% of MACs): {list}." +
            (fallbacks.Count > 0 ? " Set FloatFallback=\"false\" on the QuantModel item to make this an error." : ""), modelPath);
    }

    /// <summary>
    /// The reason of data movement that only float layers read, run in float with them (LayerGraphBuilder.Float.cs):
    /// not a fallback, so FloatFallback="false" does not refuse it.
    /// </summary>
    public const string MovedWithReadersReason = "moves data that only float layers read: moved in float, not quantized first";

    /// <summary>True for a float layer of data movement run in float because its readers are (not for want of a kernel).</summary>
    public static bool IsMovedWithReaders(FloatLayer layer) => layer.IsFloatOp && layer.FloatReason == MovedWithReadersReason;

    /// <summary>Multiply-accumulates of a layer (Conv, ConvTranspose, Gemm/MatMul/FullyConnected); 0 for elementwise layers.</summary>
    public static double Macs(FloatLayer layer, Graph graph)
    {
        double Elements(string value) => graph.ValueInfos.TryGetValue(value, out var info) ? info.Shape.Aggregate(1.0, (p, d) => p * d) : 0;
        if (layer.Kind is LayerKinds.Conv or LayerKinds.FullyConnected && layer.Weights is not null)
            return Elements(layer.Output) * layer.FanIn;
        if (layer.FloatNode is not { } node) return 0;
        int[] Shape(int i) => node.Inputs.Count > i && node.Inputs[i].Length > 0 && graph.ValueInfos.TryGetValue(node.Inputs[i], out var info) ? info.Shape
            : node.Inputs.Count > i && graph.Initializers.TryGetValue(node.Inputs[i], out var c) ? c.Shape : [];
        switch (node.OpType)
        {
            case "Conv":
            {
                var w = Shape(1);
                return w.Length < 2 ? 0 : Elements(node.Outputs[0]) * w.Skip(1).Aggregate(1.0, (p, d) => p * d);
            }
            case "ConvTranspose":
            {
                var w = Shape(1);
                return w.Length < 2 ? 0 : Elements(node.Inputs[0]) * w.Skip(1).Aggregate(1.0, (p, d) => p * d);
            }
            case "MatMul":
            case "Gemm":
            {
                var a = Shape(0);
                int k = a.Length == 0 ? 0 : node.OpType == "Gemm" && node.GetInt("transA", 0) != 0 ? a[0] : a[^1];
                return Elements(node.Outputs[0]) * k;
            }
            default:
                return 0;
        }
    }

    /// <summary>
    /// Data-free ranges of float island outputs: the float layers cannot be bounded analytically, so the quantizer's
    /// layer list runs in float on <see cref="DataFreeSamples"/> inputs drawn uniformly from each input's stated range
    /// (InputRange, or mean ± 4σ from InputMean/InputStd), seeded; the range of each float layer's output is the
    /// smallest and largest value seen, its moments the per-element mean and variance over the samples.
    /// </summary>
    public static Dictionary<string, ((float Min, float Max) Range, double[] Mean, double[] Var)> Sample(Graph graph, IReadOnlyList<FloatLayer> layers, IReadOnlyDictionary<string, InputStatistics> inputs)
    {
        var result = new Dictionary<string, ((float Min, float Max) Range, double[] Mean, double[] Var)>(StringComparer.Ordinal);
        var floats = layers.Where(l => l.IsFloatOp).ToList();
        if (floats.Count == 0) return result;
        var random = new Random(17);
        var executor = new LayerExecutor(graph);
        var sums = floats.ToDictionary(l => l.Output, l => (Sum: new double[graph.ValueInfos[l.Output].ElementCount], Squares: new double[graph.ValueInfos[l.Output].ElementCount]), StringComparer.Ordinal);
        var lo = floats.ToDictionary(l => l.Output, _ => float.PositiveInfinity, StringComparer.Ordinal);
        var hi = floats.ToDictionary(l => l.Output, _ => float.NegativeInfinity, StringComparer.Ordinal);
        for (int s = 0; s < DataFreeSamples; s++)
        {
            var sample = new Dictionary<string, float[]>(StringComparer.Ordinal);
            foreach (var input in graph.Inputs)
            {
                var stats = inputs[input.Name];
                var data = new float[graph.ValueInfos[input.Name].ElementCount];
                for (int i = 0; i < data.Length; i++) data[i] = (float)(stats.Min + random.NextDouble() * ((double)stats.Max - stats.Min));
                sample[input.Name] = data;
            }
            var values = executor.Run(layers, sample);
            foreach (var layer in floats)
            {
                var v = values[layer.Output];
                var (sum, squares) = sums[layer.Output];
                for (int i = 0; i < v.Length; i++)
                {
                    sum[i] += v[i];
                    squares[i] += (double)v[i] * v[i];
                    if (v[i] < lo[layer.Output]) lo[layer.Output] = v[i];
                    if (v[i] > hi[layer.Output]) hi[layer.Output] = v[i];
                }
            }
        }
        foreach (var layer in floats)
        {
            var (sum, squares) = sums[layer.Output];
            var mean = sum.Select(v => v / DataFreeSamples).ToArray();
            var variance = squares.Select((q, i) => Math.Max(0, q / DataFreeSamples - mean[i] * mean[i])).ToArray();
            float min = lo[layer.Output], max = hi[layer.Output];
            if (!float.IsFinite(min) || !float.IsFinite(max))
                throw new ModelException(ErrorCodes.MissingInputRange,
                    $"The float node '{layer.Name}' ({layer.FloatNode!.OpType}) gives non-finite values on inputs drawn from the stated input ranges, so a data-free build cannot bound it: give Calibration data.", nodeName: layer.Name);
            result[layer.Output] = ((min, max), mean, variance);
        }
        return result;
    }
}
