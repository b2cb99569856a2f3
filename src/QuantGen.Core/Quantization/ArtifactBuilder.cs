using System.Globalization;
using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>
/// Turns float layers plus calibrated activation ranges into the integer artifact (docs/artifact.md): weights to
/// int8 per channel, biases to int32 with the input zero point folded in, multipliers to fixed point, fused
/// activations to clamp bounds, Quantize/Dequantize at the float edges.
/// </summary>
internal sealed partial class ArtifactBuilder
{
    private const string FloatSuffix = "@f32";

    private readonly Graph _graph;
    private readonly QuantizationOptions _options;
    private IReadOnlyDictionary<string, (float Min, float Max)> _ranges;
    private readonly Dictionary<string, ActivationGrid> _grids = new(StringComparer.Ordinal);
    private readonly List<ArtifactTensor> _tensors = new();
    private readonly HashSet<string> _tensorNames = new(StringComparer.Ordinal);
    private readonly List<ArtifactLayer> _layers = new();

    private readonly FixedQuantization? _fixed;

    public ArtifactBuilder(Graph graph, QuantizationOptions options, IReadOnlyDictionary<string, (float Min, float Max)> ranges, FixedQuantization? fixedQuantization = null)
    {
        _graph = graph;
        _options = options;
        _ranges = ranges;
        _fixed = fixedQuantization;
    }

    /// <summary>The grid of every quantized value, once built (the fixed grids' check reads it).</summary>
    public IReadOnlyDictionary<string, ActivationGrid> Grids => _grids;

    /// <summary>Per-layer facts for the report.</summary>
    public List<LayerReport> Reports { get; } = new();

    public QuantizedArtifact Build(string modelName, IReadOnlyList<FloatLayer> layers, IReadOnlyDictionary<string, string> aliases, IEnumerable<ArtifactMetadata> metadata)
    {
        _aliases = aliases;
        _ranges = WithReshapedRanges(_ranges, layers);
        _floatOutputs = FloatReadOutputs(layers, _graph.Outputs.Select(o => aliases.TryGetValue(o.Name, out var a) ? a : o.Name));
        var inputs = new List<ArtifactIo>();
        foreach (var input in _graph.Inputs)
        {
            var floatName = input.Name + FloatSuffix;
            AddTensor(new ArtifactTensor(floatName, ArtifactElementType.F32, new(Shape(input.Name)), 1f, 0, 0, 0));
            inputs.Add(new ArtifactIo(input.Name, floatName));
            if (IsUnquantizedImportInput(input.Name)) continue; // read by float layers only (ArtifactBuilder.Import.cs)
            var grid = GridFor(input.Name);
            AddTensor(grid.ToTensor(input.Name, Shape(input.Name)));
            AddLayer(LayerKinds.Quantize, "quantize_" + input.Name, [floatName], [input.Name], [], [], [], "model input");
        }

        foreach (var layer in layers)
            try
            {
                BuildLayer(layer);
            }
            catch (ModelException e) when (e.NodeName is null)
            {
                throw e.WithContext(nodeName: layer.Name);
            }
            catch (ArgumentOutOfRangeException e) when (e.ParamName == "real") // FixedPoint.Encode's argument
            {
                // Ranges a hostile model can reach (weights near float.MaxValue) give scale ratios no fixed-point
                // multiplier holds: the layer is not quantizable, said with its name (fuzzing found the bare exception).
                throw new ModelException(ErrorCodes.NotQuantizable, $"The scales of layer '{layer.Name}' need a requantization multiplier outside the fixed-point range ({e.Message.Split('\n')[0]}).", nodeName: layer.Name);
            }

        var outputs = new List<ArtifactIo>();
        foreach (var output in _graph.Outputs)
        {
            var value = aliases.TryGetValue(output.Name, out var a) ? a : output.Name;
            if (ImportedRoundTrip(value) is { } rounded) { outputs.Add(new ArtifactIo(output.Name, rounded)); continue; }
            var tensor = _tensors.FirstOrDefault(t => t.Name == value + FloatSuffix && IsFloatOnly(value)) ?? _tensors.FirstOrDefault(t => t.Name == value)
                ?? throw new ModelException(ErrorCodes.NotQuantizable, $"Graph output '{output.Name}' is not produced by a quantized layer.");
            outputs.Add(new ArtifactIo(output.Name, tensor.ElementType == ArtifactElementType.F32 ? tensor.Name : Dequantized(value)));
        }

        return new QuantizedArtifact(QuantizedArtifact.CurrentFormatVersion, modelName, new(metadata.ToArray()),
            new(_tensors.ToArray()), new(inputs.ToArray()), new(outputs.ToArray()), new(_layers.ToArray()));
    }

    private void BuildLayer(FloatLayer layer)
    {
        // A layer of no node of its own (the reshapes around a 1-D convolution) is described by its name.
        var comment = layer.Nodes.Count > 0 ? $"ONNX {string.Join(" + ", layer.Nodes)}" : layer.Name;
        // Float islands (ArtifactBuilder.Float.cs): float layers, float reshapes, and quantized layers reading float values.
        if (layer.IsFloatOp) { BuildFloat(layer, comment); return; }
        if (layer.Kind == LayerKinds.Reshape && IsFloatOnly(layer.Inputs[0])) { BuildFloatReshape(layer, comment); return; }
        if (!layer.IsFloatTail) foreach (var input in layer.Inputs) EnsureQuantized(input);
        switch (layer.Kind)
        {
            case LayerKinds.Conv:
            case LayerKinds.FullyConnected:
                BuildWeighted(layer, comment);
                if (layer.LeakyAlpha is { } alpha) AddNegativeSlope(layer, alpha);
                break;
            case LayerKinds.MaxPool:
            case LayerKinds.Reshape:
            {
                // Same grid in and out: max and reshape commute with the affine map.
                var inGrid = _grids[layer.Inputs[0]];
                if (_fixed?.Grids.TryGetValue(layer.Output, out var given) == true && given.Grid != inGrid)
                    throw new ModelException(ErrorCodes.QdqNotExpressible,
                        $"{layer.Kind} '{layer.Name}' keeps its input's grid ({FixedQuantizationPass.Describe(inGrid)}), and {_fixed.Origin} gives its output '{layer.Output}' another ({FixedQuantizationPass.Describe(given.Grid)}, '{given.Source}'): a requantization QuantGen has no layer for.",
                        nodeName: layer.Name);
                _grids[layer.Output] = inGrid;
                AddTensor(inGrid.ToTensor(layer.Output, Shape(layer.Output)));
                var ints = layer.Kind == LayerKinds.MaxPool ? WindowInts(layer) : [];
                AddLayer(layer.Kind, layer.Name, layer.Inputs, [layer.Output], ints, [], [], comment);
                Reports.Add(new LayerReport(layer, inGrid, null));
                break;
            }
            case LayerKinds.AveragePool:
            {
                var inGrid = _grids[layer.Inputs[0]];
                var outGrid = OutputGrid(layer);
                int window = layer.Kernel[0] * layer.Kernel[1];
                // The window sum is an int32 of up to window · 32767 on the 16-bit grid.
                if (inGrid.ElementType == ArtifactElementType.I16 && window > 65536)
                    throw new ModelException(ErrorCodes.NotQuantizable, $"A {window}-element pooling window overflows the 16-bit window sum (at most 65536).", nodeName: layer.Name);
                var multipliers = new int[window + 1];
                var shifts = new int[window + 1];
                shifts[0] = 1;
                for (int n = 1; n <= window; n++)
                    (multipliers[n], shifts[n]) = FixedPoint.Encode((double)inGrid.Scale / ((double)outGrid.Scale * n));
                var ints = WindowInts(layer).Where(i => i.Key != "dilations")
                    .Append(Ints("countIncludePad", layer.CountIncludePad ? 1 : 0))
                    .Append(Ints("clamp", outGrid.Clamp(layer.ClampMin), outGrid.Clamp(layer.ClampMax))).ToArray();
                AddLayer(layer.Kind, layer.Name, layer.Inputs, [layer.Output], ints, [],
                    [IntBlob("multiplier", multipliers), IntBlob("shift", shifts)], comment);
                Reports.Add(new LayerReport(layer, outGrid, null));
                break;
            }
            case LayerKinds.Add:
            {
                ActivationGrid a = _grids[layer.Inputs[0]], b = _grids[layer.Inputs[1]];
                var outGrid = OutputGrid(layer);
                // Sub is an Add whose second multiplier is negative.
                double ma = (double)a.Scale / outGrid.Scale, mb = (layer.Subtract ? -1 : 1) * (double)b.Scale / outGrid.Scale;
                // The largest shift keeping both multipliers below 2^31 gives 31 significant bits to the larger one.
                int shift = Math.Clamp((int)Math.Floor(Math.Log2((double)int.MaxValue / Math.Max(ma, Math.Abs(mb)))), 1, 62);
                int qa = (int)Math.Round(ma * Math.Pow(2, shift)), qb = (int)Math.Round(mb * Math.Pow(2, shift));
                AddLayer(layer.Kind, layer.Name, layer.Inputs, [layer.Output],
                    [Ints("multipliers", qa, qb), Ints("shift", shift), Ints("clamp", outGrid.Clamp(layer.ClampMin), outGrid.Clamp(layer.ClampMax))],
                    [], [], comment);
                Reports.Add(new LayerReport(layer, outGrid, null));
                break;
            }
            case LayerKinds.Lookup:
            case LayerKinds.Affine:
            case LayerKinds.Mul:
            case LayerKinds.Concat:
                BuildElementwise(layer, comment); // ArtifactBuilder.Elementwise.cs
                break;
            case LayerKinds.Remap:
                BuildRemap(layer, comment); // ArtifactBuilder.Remap.cs
                break;
            case LayerKinds.Resize:
                BuildResize(layer, comment); // ArtifactBuilder.Resize.cs
                break;
            case LayerKinds.MatMul:
                BuildMatMul(layer, comment); // ArtifactBuilder.MatMul.cs
                break;
            case LayerKinds.Softmax:
            case LayerKinds.Sigmoid:
            {
                var input = FloatTensor(layer.Inputs[0]);
                AddTensor(new ArtifactTensor(layer.Output, ArtifactElementType.F32, new(Shape(layer.Output)), 1f, 0, 0, 0));
                var ints = layer.Kind == LayerKinds.Softmax ? new[] { Ints("axis", layer.Axis) } : [];
                AddLayer(layer.Kind, layer.Name, [input], [layer.Output], ints, [], [], comment + " (float, at the output edge)");
                break;
            }
            default:
                throw new ModelException(ErrorCodes.InternalError, $"No artifact mapping for layer kind {layer.Kind}.", nodeName: layer.Name);
        }
    }

    private void BuildWeighted(FloatLayer layer, string comment)
    {
        if (layer.Factorization is { } factors)
        {
            BuildFactorized(layer, factors, comment);
            return;
        }
        BuildPlainWeighted(layer, comment);
    }

    /// <summary>A Conv/FullyConnected from the layer's grid indices [M, fan-in] on its per-channel steps, at its weight width.</summary>
    private void BuildPlainWeighted(FloatLayer layer, string comment)
    {
        var q = layer.QuantizedWeights ?? throw new ModelException(ErrorCodes.InternalError, "Weights reached the artifact unquantized.", nodeName: layer.Name);
        var scales = layer.WeightScales!;
        int weightBits = layer.WeightBits;
        var inGrid = _grids[layer.Inputs[0]];
        // A layer read in float only writes float: its accumulators dequantized, no u8 step (ArtifactBuilder.FloatOutputs.cs).
        bool floatOutput = _floatOutputs.Contains(layer.Output);
        ActivationGrid? outGrid = floatOutput ? null : OutputGrid(layer);
        if (floatOutput) AddTensor(new ArtifactTensor(layer.Output + FloatSuffix, ArtifactElementType.F32, new(Shape(layer.Output)), 1f, 0, 0, 0));
        float outScale = outGrid?.Scale ?? 1f;
        int m = layer.OutputChannels, fanIn = layer.FanIn;
        // Fixed weights (QDQ import, encodings) may use −128; the accumulator bound takes the largest magnitude present.
        int weightLevel = Math.Max(WeightQuantizer.MaxLevel(weightBits), q.Length == 0 ? 0 : q.Max(v => Math.Abs(v)));

        var bias = new int[m];
        var multipliers = new int[m];
        var shifts = new int[m];
        bool wide = inGrid.ElementType == ArtifactElementType.I16;
        for (int o = 0; o < m; o++)
        {
            double accScale = (double)inGrid.Scale * scales[o];
            long sumW = 0;
            for (int i = 0; i < fanIn; i++) sumW += q[o * fanIn + i];
            double exactBias = (layer.FixedBias is { } fixedBias ? fixedBias[o] : Math.Round(layer.Bias![o] / accScale, MidpointRounding.ToEven)) - (double)inGrid.ZeroPoint * sumW;
            if (!(Math.Abs(exactBias) < int.MaxValue))
                throw new ModelException(ErrorCodes.NotQuantizable, $"Channel {o}'s bias does not fit int32 on the accumulator's scale (bias {layer.Bias![o]}, scale {accScale}).", nodeName: layer.Name);
            long b = (long)exactBias;
            long worst = Math.Abs(b) + (long)fanIn * inGrid.MaxMagnitude * weightLevel;
            int precision = 31;
            if (wide)
            {
                // int64 accumulator: give the multiplier as many bits as keep |acc| · multiplier below 2^62.
                precision = Math.Min(31, 62 - BitLength(worst));
                if (precision < MinWidePrecision)
                    throw new ModelException(ErrorCodes.NotQuantizable, $"Channel {o}'s int64 accumulator is too large to requantize exactly (fan-in {fanIn}, bias {b}).", nodeName: layer.Name);
            }
            else if (worst >= int.MaxValue)
                throw new ModelException(ErrorCodes.NotQuantizable, $"Channel {o}'s int32 accumulator could overflow (fan-in {fanIn}, bias {b}).", nodeName: layer.Name);
            bias[o] = (int)b;
            // Imported scales: ONNX Runtime's QLinearConv/QGemm scale, float32 (sx · sw[m]) / sy; 31 bits hold a float32 exactly,
            // so RequantizeScaled reads back that very float and the layer runs as ONNX Runtime's does.
            double real = layer.ImportedScales && !wide ? (float)(inGrid.Scale * scales[o]) / outScale : accScale / outScale;
            (multipliers[o], shifts[o]) = FixedPoint.Encode(real, precision);
        }

        // Equalized ReLU6 channels clip at their own bound: the layer's hi is the largest, clampHigh has each.
        int[]? channelHigh = outGrid is { } grid ? layer.ChannelClampMax?.Select(grid.Clamp).ToArray() : null;
        var window = layer.Kind == LayerKinds.Conv ? WindowInts(layer).Append(Ints("group", layer.Group)) : [];
        var ints = outGrid is { } g
            ? window.Append(Ints("clamp", g.Clamp(layer.ClampMin), channelHigh?.Max() ?? g.Clamp(layer.ClampMax))).ToArray()
            : window.ToArray();
        ArtifactFloats[] floats = floatOutput ? [FloatBounds(layer)] : [];
        var blobs = new List<ArtifactBlob>
        {
            new ArtifactBlob("weights", BlobType.I8, new(layer.WeightShape!), new(q), EquatableArray<float>.Empty),
            IntBlob("bias", bias),
            IntBlob("multiplier", multipliers),
            IntBlob("shift", shifts),
        };
        if (channelHigh is not null && channelHigh.Any(h => h != channelHigh.Max())) blobs.Add(IntBlob("clampHigh", channelHigh));
        AddLayer(layer.Kind, layer.Name, layer.Inputs, [floatOutput ? layer.Output + FloatSuffix : layer.Output], ints, floats, blobs.ToArray(),
            floatOutput ? comment + " (float output: read by float layers only)" : comment);
        Reports.Add(new LayerReport(layer, outGrid, scales));
    }

    /// <summary>
    /// A fused LeakyRelu: the weighted layer just added gets <c>negMultiplier</c>/<c>negShift</c>, its multipliers
    /// scaled by alpha, which requantize negative accumulators (docs/artifact.md). Derived from the encoded multipliers,
    /// so it holds whatever scales the weighted layer chose.
    /// </summary>
    private void AddNegativeSlope(FloatLayer layer, float alpha)
    {
        var built = _layers[^1];
        int[] multipliers = built.GetBlob("multiplier").Values.AsArray(), shifts = built.GetBlob("shift").Values.AsArray();
        var negMultipliers = new int[multipliers.Length];
        var negShifts = new int[multipliers.Length];
        // The same precision as the positive multiplier: the accumulator bound it was chosen for still holds.
        for (int o = 0; o < multipliers.Length; o++)
            (negMultipliers[o], negShifts[o]) = FixedPoint.Encode(FixedPoint.Decode(multipliers[o], shifts[o]) * alpha, Math.Max(1, BitLength(multipliers[o])));
        var blobs = built.Blobs.Concat([IntBlob("negMultiplier", negMultipliers), IntBlob("negShift", negShifts)]).ToArray();
        _layers[^1] = built with { Blobs = new(blobs), Comment = built.Comment + $" (LeakyRelu alpha {alpha.ToString("R", CultureInfo.InvariantCulture)} fused)" };
    }

    private ActivationGrid OutputGrid(FloatLayer layer)
    {
        var grid = GridFor(layer.Output);
        AddTensor(grid.ToTensor(layer.Output, Shape(layer.Output)));
        return grid;
    }

    /// <summary>
    /// The ranges, plus the range of each Reshape/MaxPool output that has none (the passes observe neither: quantized,
    /// they keep their input's grid) taken from its input. A reshape of a float island's output stays float and a
    /// quantized layer reading it needs that grid; a max over a window lies within its input's range.
    /// </summary>
    private static IReadOnlyDictionary<string, (float Min, float Max)> WithReshapedRanges(IReadOnlyDictionary<string, (float Min, float Max)> ranges, IReadOnlyList<FloatLayer> layers)
    {
        Dictionary<string, (float Min, float Max)>? added = null;
        foreach (var layer in layers)
        {
            if (layer.Kind is not (LayerKinds.Reshape or LayerKinds.MaxPool or LayerKinds.Remap or LayerKinds.Resize) || ranges.ContainsKey(layer.Output)) continue;
            added ??= new Dictionary<string, (float Min, float Max)>(ranges, StringComparer.Ordinal);
            if (added.TryGetValue(layer.Inputs[0], out var range) && !added.ContainsKey(layer.Output)) added[layer.Output] = range;
        }
        return added ?? ranges;
    }

    private ActivationGrid GridFor(string value)
    {
        if (_fixed?.Grids.TryGetValue(value, out var given) == true)
        {
            if (given.Grid.ElementType != (_options.ActivationBits == 16 ? ArtifactElementType.I16 : ArtifactElementType.U8))
                throw new ModelException(ErrorCodes.InvalidOption, $"{_fixed.Origin} gives '{value}' an 8-bit grid, and the build asks for ActivationBits={_options.ActivationBits}: use ActivationBits=8.");
            _grids[value] = given.Grid;
            return given.Grid;
        }
        if (_fixed is { Exact: true })
            throw new ModelException(ErrorCodes.QdqNotExpressible,
                $"'{value}' has no QuantizeLinear → DequantizeLinear pair: QuantGen computes it on an integer grid, and an imported QDQ model must give every such value its scale and zero point (QuantGen will not calibrate one).");
        if (!_ranges.TryGetValue(value, out var range))
            throw new ModelException(ErrorCodes.InternalError, $"No calibrated range for '{value}'.");
        var grid = ActivationGrid.FromRange(range.Min, range.Max, _options.ActivationBits);
        _grids[value] = grid;
        return grid;
    }

    /// <summary>The float copy of a quantized value, adding the Dequantize layer the first time it is needed.</summary>
    private string Dequantized(string value)
    {
        var name = value + FloatSuffix;
        if (_tensorNames.Contains(name)) return name;
        AddTensor(new ArtifactTensor(name, ArtifactElementType.F32, new(Shape(value)), 1f, 0, 0, 0));
        AddLayer(LayerKinds.Dequantize, "dequantize_" + value, [value], [name], [], [], [], "model output");
        return name;
    }

    /// <summary>
    /// Fewest significant bits a 16-bit layer's multiplier may have: 15 is TFLite's reduced multiplier for int64
    /// accumulators (relative error at most 2^−15: within one step at the ends of the 16-bit output grid).
    /// </summary>
    private const int MinWidePrecision = 15;

    /// <summary>Bits needed to write a non-negative value (0 for 0).</summary>
    private static int BitLength(long value) => value == 0 ? 0 : 64 - System.Numerics.BitOperations.LeadingZeroCount((ulong)value);

    private static ArtifactInts[] WindowInts(FloatLayer layer) =>
    [
        Ints("kernel", layer.Kernel),
        Ints("strides", layer.Strides),
        Ints("pads", layer.Pads),
        Ints("dilations", layer.Dilations),
    ];

    private static ArtifactInts Ints(string key, params int[] values) => new(key, new(values));

    private static ArtifactBlob IntBlob(string key, int[] values) =>
        new(key, BlobType.I32, new([values.Length]), new(values), EquatableArray<float>.Empty);

    private void AddTensor(ArtifactTensor tensor)
    {
        if (!_tensorNames.Add(tensor.Name))
            throw new ModelException(ErrorCodes.NotQuantizable, $"Value '{tensor.Name}' would be defined twice in the integer graph.");
        _tensors.Add(tensor);
    }

    private void AddLayer(string kind, string name, string[] inputs, string[] outputs, ArtifactInts[] ints, ArtifactFloats[] floats, ArtifactBlob[] blobs, string comment) =>
        _layers.Add(new ArtifactLayer(kind, name, new(inputs), new(outputs), new(ints), new(floats), new(blobs), comment));

    private int[] Shape(string value) => _graph.ValueInfos.TryGetValue(value, out var info)
        ? info.Shape
        : throw new ModelException(ErrorCodes.BadShape, $"The shape of '{value}' is unknown.");
}

/// <summary>What the report says about one layer (<paramref name="OutputGrid"/> null: the layer writes float, docs/artifact.md "Float outputs").</summary>
internal sealed record LayerReport(FloatLayer Layer, ActivationGrid? OutputGrid, float[]? WeightScales);

/// <summary>Signal-to-quantization-noise ratios in dB.</summary>
internal static class Sqnr
{
    public static double Of(ReadOnlySpan<float> reference, ReadOnlySpan<float> approximation)
    {
        double signal = 0, noise = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            signal += (double)reference[i] * reference[i];
            double d = reference[i] - approximation[i];
            noise += d * d;
        }
        return noise == 0 ? double.PositiveInfinity : 10 * Math.Log10(signal / noise);
    }

    public static double OfWeights(float[] weights, int[] q, float[] scales) => Of(weights, WeightQuantizer.Dequantize(q, scales));

    public static string Format(double db) => double.IsPositiveInfinity(db) ? "∞" : db.ToString("F1", CultureInfo.InvariantCulture);
}
