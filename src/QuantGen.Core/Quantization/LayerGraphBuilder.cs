using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>
/// Turns a prepared float graph (shapes inferred, constants folded) into the quantizer's layer list: each
/// Conv/Gemm/MatMul absorbs a following BatchNormalization (folded into its weights, statistics kept) and a
/// following LeakyRelu (as a slope for negative accumulators) and ReLU/ReLU6/Clip/Max/Min with constants (as clamp
/// bounds); pooling, residual Add and reshapes (and Transposes of size-1 axes) map one to one; a 1-D Conv becomes
/// reshapes around a 2-D one (LayerGraphBuilder.Conv1d.cs), a ConvTranspose a zero-inserting Remap and a Conv
/// (LayerGraphBuilder.ConvTranspose.cs), data movement a Remap (LayerGraphBuilder.Remap.cs); Identity and Dropout
/// disappear. Anything else is QG0017 naming the node (a float island when the executor runs it).
/// </summary>
internal sealed partial class LayerGraphBuilder
{
    private readonly Graph _graph;
    private readonly string? _modelPath;
    private readonly Dictionary<string, List<Node>> _consumers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _graphOutputs;
    private readonly HashSet<Node> _fused = new();
    private readonly Dictionary<string, string> _alias = new(StringComparer.Ordinal);

    /// <summary>An imported model's grids (QDQ import): a value with its own grid is not fused across (LayerGraphBuilder.Elementwise.cs).</summary>
    private readonly IReadOnlyDictionary<string, ActivationGrid>? _fixedGrids;

    private LayerGraphBuilder(Graph graph, string? modelPath, IReadOnlyDictionary<string, ActivationGrid>? fixedGrids)
    {
        _graph = graph;
        _modelPath = modelPath;
        _fixedGrids = fixedGrids;
        _graphOutputs = graph.Outputs.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
            foreach (var input in node.Inputs.Where(i => i.Length > 0).Distinct())
            {
                if (!_consumers.TryGetValue(input, out var list)) _consumers[input] = list = new List<Node>();
                list.Add(node);
            }
    }

    /// <summary>The layers in execution order, and the BN statistics folded into each (for the data-free passes).</summary>
    public static (List<FloatLayer> Layers, Dictionary<FloatLayer, FoldedBatchNorm> BatchNorms, Dictionary<string, string> Aliases) Build(Graph graph, string? modelPath,
        IReadOnlyDictionary<string, ActivationGrid>? fixedGrids = null, int activationBits = 8, int opset = 13, bool quantizedAttention = false,
        IReadOnlySet<string>? fixedWeights = null, IReadOnlySet<string>? floatNodes = null)
    {
        var builder = new LayerGraphBuilder(graph, modelPath, fixedGrids) { _opset = opset, _quantizedAttention = quantizedAttention, _fixedWeights = fixedWeights, _requestedFloat = floatNodes ?? NoNodes };
        var layers = new List<FloatLayer>();
        var batchNorms = new Dictionary<FloatLayer, FoldedBatchNorm>();
        foreach (var node in graph.Nodes)
        {
            if (builder._fused.Contains(node)) continue;
            builder._absorbed.Clear();
            try
            {
                // FloatNodes: a requested node is a float island whatever kernels exist (LayerGraphBuilder.Requested.cs).
                var layer = builder.IsRequestedFloat(node) ? builder.BuildRequestedFloat(node) : builder.BuildLayer(node, batchNorms);
                builder.RefuseFusedRequested(layer);
                // The elementwise kinds have 8-bit kernels only: at 16 bits their nodes run in float instead. Below 8 bits
                // they are the 8-bit kernels on a narrower grid (tables, clamps and requantizations use the tensor's QMIN..QMAX).
                if (layer is not null && activationBits > 8 && layer.Kind is LayerKinds.Lookup or LayerKinds.Affine or LayerKinds.Mul or LayerKinds.Concat or LayerKinds.Remap or LayerKinds.Resize or LayerKinds.MatMul)
                    throw new ModelException(ErrorCodes.NotQuantizable, $"{layer.Kind} has no kernel for {activationBits}-bit activations yet.");
                if (layer is not null && activationBits > 8 && builder.ExpandsOperands(layer)) // LayerGraphBuilder.Broadcast.cs
                    throw new ModelException(ErrorCodes.NotQuantizable, $"{layer.Kind} with broadcasting expands an operand by a Remap, which has no kernel for {activationBits}-bit activations yet.");
                if (layer is not null) builder.RequireImportedGrids(layer); // QDQ import: LayerGraphBuilder.Import.cs
                if (layer is not null) layers.AddRange(builder.Expand(layer)); // a 1-D conv: reshape, Conv, reshape (LayerGraphBuilder.Conv1d.cs)
                if (layer is not null) builder.TrackFloat(layer);
            }
            catch (ModelException e) when (e.Code == ErrorCodes.NotQuantizable && builder.CanRunInFloat(node))
            {
                // No quantized layer: the node runs in float (a float island, LayerGraphBuilder.Float.cs).
                var island = builder.BuildFloat(node, e.Message);
                layers.Add(island);
                builder.TrackFloat(island);
            }
            catch (ModelException e)
            {
                throw e.WithContext(modelPath, node.Name);
            }
        }
        builder.FloatInnerEdgeLayers(layers);
        builder.FloatMovementBeforeFloatLayers(layers);
        builder.FloatBetweenFloatLayers(layers);
        return (layers, batchNorms, builder._alias);
    }

    private FloatLayer? BuildLayer(Node node, Dictionary<FloatLayer, FoldedBatchNorm> batchNorms)
    {
        if (TryGelu(node) is { } gelu) return gelu; // LayerGraphBuilder.Gelu.cs
        // Data movement (Slice, Pad, Resize nearest, ...) as an index map: LayerGraphBuilder.Remap.cs.
        if (node.OpType != "Transpose" && IsMovement(node)) return BuildRemap(node);
        switch (node.OpType)
        {
            case "Identity":
            case "Dropout":
                _alias[node.Outputs[0]] = Resolve(node.Inputs[0]);
                return null;
            case "Conv":
            {
                var layer = BuildConv(node);
                if (TryFuseBatchNorm(layer) is { } bn) batchNorms[layer] = bn;
                TryFuseActivation(layer);
                return layer;
            }
            case "ConvTranspose":
            {
                // A Remap inserting zeros, then a Conv with flipped weights: LayerGraphBuilder.ConvTranspose.cs.
                var layer = BuildConvTranspose(node);
                if (TryFuseBatchNorm(layer) is { } bn) batchNorms[layer] = bn;
                TryFuseActivation(layer);
                return layer;
            }
            case "Gemm":
            {
                var layer = BuildGemm(node);
                TryFuseActivation(layer);
                return layer;
            }
            case "MatMul":
            {
                // Two computed tensors (attention): LayerGraphBuilder.MatMul.cs.
                if (node.Inputs.Count == 2 && !IsConstant(node.Inputs[0]) && !IsConstant(node.Inputs[1])) return BuildActivationMatMul(node);
                var layer = BuildMatMul(node);
                TryFuseBias(layer);
                TryFuseActivation(layer);
                return layer;
            }
            case "MaxPool":
            case "AveragePool":
                return BuildPool(node);
            case "GlobalAveragePool":
            {
                var shape = Shape(node.Inputs[0]);
                Require(shape.Length == 4, "GlobalAveragePool needs a 4-D NCHW input.");
                var layer = NewLayer(LayerKinds.AveragePool, node, [Resolve(node.Inputs[0])]);
                layer.Kernel = [shape[2], shape[3]];
                return layer;
            }
            case "Add":
            case "Sub":
            {
                Require(node.Inputs.Count == 2, $"{node.OpType} needs two inputs.");
                if (IsConstant(node.Inputs[0]) || IsConstant(node.Inputs[1]))
                    return BuildConstantElementwise(node); // LayerGraphBuilder.Elementwise.cs: hard-swish/hard-sigmoid patterns, else Affine
                FloatLayer layer;
                if (Shape(node.Inputs[0]).AsSpan().SequenceEqual(Shape(node.Inputs[1])))
                {
                    layer = NewLayer(LayerKinds.Add, node, [Resolve(node.Inputs[0]), Resolve(node.Inputs[1])]);
                    layer.Subtract = node.OpType == "Sub";
                }
                else
                {
                    layer = BuildBroadcastSum(node); // LayerGraphBuilder.Broadcast.cs: operands expanded by Remaps
                }
                TryFuseActivation(layer);
                return layer;
            }
            case "Mul":
            case "Div":
                return BuildProduct(node);
            case "Concat":
                return BuildConcat(node);
            case "Tanh":
            case "HardSigmoid":
            case "HardSwish":
            case "Relu":
            case "Clip":
                return BuildLookup(node);
            case "Reshape":
            case "Flatten":
            case "Squeeze":
            case "Unsqueeze":
                return NewLayer(LayerKinds.Reshape, node, [Resolve(node.Inputs[0])]);
            case "Softmax":
            {
                var layer = NewLayer(LayerKinds.Softmax, node, [Resolve(node.Inputs[0])]);
                var rank = Shape(node.Inputs[0]).Length;
                var axis = ShapeMath.NormalizeAxis(node.GetInt("axis", -1), rank);
                // Before opset 13 Softmax flattened from 'axis' on; the quantizer supports the cases where that is the last axis.
                Require(axis == rank - 1, "Softmax is only supported over the last axis.");
                layer.Axis = axis;
                return layer;
            }
            case "Sigmoid":
                // At a graph output: float after the last dequantization (no output rounding); inside the graph a table.
                return _graphOutputs.Contains(node.Outputs[0]) ? NewLayer(LayerKinds.Sigmoid, node, [Resolve(node.Inputs[0])]) : BuildLookup(node);
            case "Transpose":
            {
                // Moving only size-1 axes (NHWC [1,H,W,1] → NCHW) keeps the elements in order: a reshape.
                var shape = Shape(node.Inputs[0]);
                var perm = node.GetInts("perm") ?? Enumerable.Range(0, shape.Length).Reverse().Select(a => (long)a).ToArray();
                var moved = perm.Where(a => a >= 0 && a < shape.Length && shape[a] != 1).ToArray();
                // Any other Transpose moves the elements: a Remap (LayerGraphBuilder.Remap.cs).
                if (!(perm.Length == shape.Length && moved.SequenceEqual(moved.Order()))) return BuildRemap(node);
                return NewLayer(LayerKinds.Reshape, node, [Resolve(node.Inputs[0])]);
            }
            case "LeakyRelu":
                return BuildLookup(node);
            case "ReduceMean":
                // A written-out LayerNorm (LayerGraphBuilder.LayerNorm.cs) runs as one float layer; any other ReduceMean falls to float alone.
                return TryLayerNorm(node) ?? throw new ModelException(ErrorCodes.NotQuantizable, "ReduceMean has no quantized kernel yet (it runs in float).", _modelPath, node.Name);
            case "Max":
            case "Min":
                throw new ModelException(ErrorCodes.NotQuantizable,
                    $"{node.OpType} is quantized only fused into the layer producing its input, as that layer's sole consumer: " +
                    "Max/Min with a constant scalar after a Conv, Gemm, MatMul, Add or Affine (or after such a fused activation). An elementwise kernel of its own does not exist yet.",
                    _modelPath, node.Name);
            default:
                throw new ModelException(ErrorCodes.NotQuantizable,
                    $"{node.OpType} has no quantized kernel yet (it runs in the float reference executor, but the generated integer code cannot express it).",
                    _modelPath, node.Name);
        }
    }

    private FloatLayer BuildConv(Node node)
    {
        Require(IsConstant(node.Inputs[1]), "Conv weights must be a constant initializer.");
        var w = _graph.Initializers[node.Inputs[1]];
        if (w.Rank == 3) return BuildConv1d(node, w); // LayerGraphBuilder.Conv1d.cs
        Require(w.Rank == 4, "Only 1-D and 2-D convolutions (3-D and 4-D weights) are quantized.");
        var layer = NewLayer(LayerKinds.Conv, node, [Resolve(node.Inputs[0])]);
        layer.Weights = w.ToFloatArray();
        layer.WeightShape = (int[])w.Shape.Clone();
        layer.WeightSource = node.Inputs[1];
        int m = w.Shape[0];
        layer.Bias = node.HasInput(2) ? ConstantFloats(node.Inputs[2], m) : new float[m];
        if (node.HasInput(2)) layer.BiasSource = node.Inputs[2];
        layer.Group = (int)node.GetInt("group", 1);
        layer.Kernel = [w.Shape[2], w.Shape[3]];
        layer.Strides = Pair(node.GetInts("strides"), 1);
        layer.Dilations = Pair(node.GetInts("dilations"), 1);
        layer.Pads = SpatialPads(node, Shape(node.Inputs[0]), Shape(node.Outputs[0]), layer.Kernel, layer.Strides, layer.Dilations);
        return layer;
    }

    private FloatLayer BuildGemm(Node node)
    {
        Require(!IsConstant(node.Inputs[0]) && IsConstant(node.Inputs[1]), "Gemm needs a computed A and a constant B.");
        Require(node.GetInt("transA", 0) == 0, "Gemm with transA=1 is not quantized yet.");
        var b = _graph.Initializers[node.Inputs[1]];
        Require(b.Rank == 2, "Gemm's B must be 2-D.");
        bool transB = node.GetInt("transB", 0) != 0;
        float alpha = node.GetFloat("alpha", 1f), beta = node.GetFloat("beta", 1f);
        int n = transB ? b.Shape[0] : b.Shape[1], k = transB ? b.Shape[1] : b.Shape[0];
        var layer = NewLayer(LayerKinds.FullyConnected, node, [Resolve(node.Inputs[0])]);
        layer.Weights = ToRowsPerOutput(b.ToFloatArray(), k, n, transB, alpha);
        layer.WeightShape = [n, k];
        layer.WeightSource = node.Inputs[1];
        layer.WeightOutputAxis = transB ? 0 : 1;
        layer.Bias = new float[n];
        if (node.HasInput(2))
        {
            // A fixed int32 bias is used only when beta leaves it as it is.
            if (beta == 1f) layer.BiasSource = node.Inputs[2];
            var c = ConstantFloats(node.Inputs[2], -1);
            Require(c.Length == n || c.Length == 1, "Gemm's C must broadcast along the output features only.");
            for (int i = 0; i < n; i++) layer.Bias[i] = beta * c[c.Length == 1 ? 0 : i];
        }
        return layer;
    }

    private FloatLayer BuildMatMul(Node node)
    {
        Require(!IsConstant(node.Inputs[0]) && IsConstant(node.Inputs[1]), "MatMul needs a computed A and a constant 2-D B.");
        var b = _graph.Initializers[node.Inputs[1]];
        Require(b.Rank == 2, "MatMul's constant B must be 2-D.");
        int k = b.Shape[0], n = b.Shape[1];
        var layer = NewLayer(LayerKinds.FullyConnected, node, [Resolve(node.Inputs[0])]);
        layer.Weights = ToRowsPerOutput(b.ToFloatArray(), k, n, transposed: false, alpha: 1f);
        layer.WeightShape = [n, k];
        layer.WeightSource = node.Inputs[1];
        layer.WeightOutputAxis = 1;
        layer.Bias = new float[n];
        return layer;
    }

    /// <summary>Weights as [N, K] (one row per output feature), the layout the kernels read.</summary>
    private static float[] ToRowsPerOutput(float[] b, int k, int n, bool transposed, float alpha)
    {
        var w = new float[n * k];
        for (int o = 0; o < n; o++)
            for (int i = 0; i < k; i++)
                w[o * k + i] = alpha * (transposed ? b[o * k + i] : b[i * n + o]);
        return w;
    }

    private FloatLayer BuildPool(Node node)
    {
        var shape = Shape(node.Inputs[0]);
        Require(shape.Length == 4, $"{node.OpType} is quantized for 2-D (NCHW) inputs only.");
        Require(node.Outputs.Count == 1 || node.Outputs[1].Length == 0, "MaxPool's Indices output is not supported.");
        bool isMax = node.OpType == "MaxPool";
        var layer = NewLayer(isMax ? LayerKinds.MaxPool : LayerKinds.AveragePool, node, [Resolve(node.Inputs[0])]);
        layer.Kernel = Pair(node.GetInts("kernel_shape"), 0);
        Require(layer.Kernel[0] > 0 && layer.Kernel[1] > 0, "kernel_shape is required.");
        layer.Strides = Pair(node.GetInts("strides"), 1);
        layer.Dilations = Pair(node.GetInts("dilations"), 1);
        Require(isMax || (layer.Dilations[0] == 1 && layer.Dilations[1] == 1), "AveragePool with dilations is not quantized yet.");
        layer.Pads = SpatialPads(node, shape, Shape(node.Outputs[0]), layer.Kernel, layer.Strides, layer.Dilations);
        layer.CountIncludePad = node.GetInt("count_include_pad", 0) != 0;
        if (!isMax && layer.CountIncludePad && node.GetInt("ceil_mode", 0) != 0)
            throw new ModelException(ErrorCodes.UnsupportedAttributeValue, "AveragePool with both ceil_mode and count_include_pad is not quantized yet.", _modelPath, node.Name);
        return layer;
    }

    /// <summary>Explicit pads [top, left, bottom, right], resolving auto_pad from the inferred shapes.</summary>
    private int[] SpatialPads(Node node, int[] input, int[] output, int[] kernel, int[] strides, int[] dilations)
    {
        var autoPad = node.GetString("auto_pad", "NOTSET");
        if (autoPad is "NOTSET")
        {
            var pads = node.GetInts("pads");
            if (pads is null) return [0, 0, 0, 0];
            Require(pads.Length == 4, "pads must have 4 values for a 2-D window.");
            return [(int)pads[0], (int)pads[1], (int)pads[2], (int)pads[3]];
        }
        if (autoPad is "VALID") return [0, 0, 0, 0];
        var result = new int[4];
        for (int d = 0; d < 2; d++)
        {
            int total = Math.Max(0, (output[2 + d] - 1) * strides[d] + (kernel[d] - 1) * dilations[d] + 1 - input[2 + d]);
            int small = total / 2, large = total - small;
            (result[d], result[d + 2]) = autoPad == "SAME_LOWER" ? (large, small) : (small, large);
        }
        return result;
    }

    /// <summary>Folds a BatchNormalization that is the sole consumer of the layer's output into its weights and bias.</summary>
    private FoldedBatchNorm? TryFuseBatchNorm(FloatLayer layer)
    {
        if (SoleConsumer(layer.Output) is not { OpType: "BatchNormalization" } bn) return null;
        if (!Enumerable.Range(1, 4).All(i => IsConstant(bn.Inputs[i]))) return null;
        int m = layer.OutputChannels;
        float[] gamma = ConstantFloats(bn.Inputs[1], m), beta = ConstantFloats(bn.Inputs[2], m),
            mean = ConstantFloats(bn.Inputs[3], m), variance = ConstantFloats(bn.Inputs[4], m);
        float epsilon = bn.GetFloat("epsilon", 1e-5f);
        int fanIn = layer.FanIn;
        for (int o = 0; o < m; o++)
        {
            float factor = gamma[o] / MathF.Sqrt(variance[o] + epsilon);
            for (int i = 0; i < fanIn; i++) layer.Weights![o * fanIn + i] *= factor;
            layer.Bias![o] = (layer.Bias[o] - mean[o]) * factor + beta[o];
        }
        Absorb(layer, bn);
        return new FoldedBatchNorm(gamma, beta, mean, variance, epsilon);
    }

    /// <summary>Folds an Add of a constant vector (MatMul + Add = Linear) into the bias.</summary>
    private void TryFuseBias(FloatLayer layer)
    {
        if (SoleConsumer(layer.Output) is not { OpType: "Add" } add) return;
        var other = add.Inputs[0] == layer.Output ? add.Inputs[1] : add.Inputs[0];
        if (!IsConstant(other)) return;
        var c = _graph.Initializers[other];
        if (c.Length != layer.OutputChannels && c.Length != 1) return;
        var values = c.ToFloatArray();
        for (int i = 0; i < layer.Bias!.Length; i++) layer.Bias[i] += values[values.Length == 1 ? 0 : i];
        if (c.Length == layer.OutputChannels) layer.BiasSource = other;
        Absorb(layer, add);
    }

    /// <summary>
    /// Fuses the activations that follow the layer into its requantization: first, for Conv and FullyConnected, a
    /// LeakyRelu as the slope of negative accumulators; then any run of ReLU, Clip with constant bounds (ReLU6), and
    /// Max/Min with a constant scalar (tf2onnx's clipped LeakyRelu), as the clamp bounds.
    /// </summary>
    private void TryFuseActivation(FloatLayer layer)
    {
        while (SoleConsumer(layer.Output) is { } next)
        {
            if (KeepsApart(layer.Output, next.Outputs[0])) return;
            if (next.OpType == "LeakyRelu")
            {
                float alpha = next.GetFloat("alpha", 0.01f);
                bool first = layer.LeakyAlpha is null && float.IsNegativeInfinity(layer.ClampMin) && float.IsPositiveInfinity(layer.ClampMax);
                if (!first || layer.Kind is not (LayerKinds.Conv or LayerKinds.FullyConnected) || !(alpha >= 0) || float.IsInfinity(alpha)) return;
                if (alpha == 0) layer.ClampMin = 0;
                else layer.LeakyAlpha = alpha;
                Absorb(layer, next);
                continue;
            }
            if (ClampBounds(next, layer.Output) is not var (lo, hi)) return;
            float min = MathF.Max(layer.ClampMin, lo), max = MathF.Min(layer.ClampMax, hi);
            if (!(min <= max)) return;
            layer.ClampMin = min;
            layer.ClampMax = max;
            Absorb(layer, next);
        }
    }

    /// <summary>The real bounds an elementwise clamp-like node imposes on <paramref name="value"/>, or null when it is not one.</summary>
    private (float Min, float Max)? ClampBounds(Node node, string value)
    {
        switch (node.OpType)
        {
            case "Relu":
                return (0, float.PositiveInfinity);
            case "Clip":
            {
                float min = float.NegativeInfinity, max = float.PositiveInfinity;
                if (node.HasAttribute("min") || node.HasAttribute("max"))
                {
                    min = node.GetFloat("min", min);
                    max = node.GetFloat("max", max);
                }
                if (node.HasInput(1)) { if (!IsConstant(node.Inputs[1])) return null; min = _graph.Initializers[node.Inputs[1]].ToFloatArray()[0]; }
                if (node.HasInput(2)) { if (!IsConstant(node.Inputs[2])) return null; max = _graph.Initializers[node.Inputs[2]].ToFloatArray()[0]; }
                return (min, max);
            }
            case "Max":
            case "Min":
            {
                // Max(x, c) / Min(x, c) with one constant element that does not broadcast x to a larger shape.
                if (node.Inputs.Count != 2) return null;
                var other = node.Inputs[0] == value ? node.Inputs[1] : node.Inputs[0];
                if (other == value || !IsConstant(other) || _graph.Initializers[other].Length != 1) return null;
                if (!Shape(node.Outputs[0]).AsSpan().SequenceEqual(Shape(value))) return null;
                float c = _graph.Initializers[other].ToFloatArray()[0];
                if (float.IsNaN(c)) return null;
                return node.OpType == "Max" ? (c, float.PositiveInfinity) : (float.NegativeInfinity, c);
            }
            default:
                return null;
        }
    }

    private void Absorb(FloatLayer layer, Node node)
    {
        _fused.Add(node);
        _absorbed.Add(node);
        layer.Nodes.Add(node.Name);
        layer.FusedValues.Add(layer.Output);
        layer.Output = node.Outputs[0];
    }

    /// <summary>The single node reading <paramref name="value"/>, when the value is not also a graph output.</summary>
    private Node? SoleConsumer(string value) =>
        !_graphOutputs.Contains(value) && _consumers.TryGetValue(value, out var list) && list.Count == 1 && !IsRequestedFloat(list[0]) ? list[0] : null;

    private static FloatLayer NewLayer(string kind, Node node, string[] inputs)
    {
        var layer = new FloatLayer(kind, node.Name, inputs, node.Outputs[0]);
        layer.Nodes.Add(node.Name);
        return layer;
    }

    private string Resolve(string value) => _alias.TryGetValue(value, out var target) ? target : value;

    private bool IsConstant(string value) => value.Length > 0 && _graph.Initializers.ContainsKey(value);

    private int[] Shape(string value) =>
        _graph.ValueInfos.TryGetValue(Resolve(value), out var info) || _graph.ValueInfos.TryGetValue(value, out info)
            ? info.Shape
            : throw new ModelException(ErrorCodes.BadShape, $"The shape of '{value}' is unknown; shape inference must run first.");

    private float[] ConstantFloats(string value, int expectedLength)
    {
        Require(IsConstant(value), $"'{value}' must be a constant.");
        var data = _graph.Initializers[value].ToFloatArray();
        Require(expectedLength < 0 || data.Length == expectedLength, $"'{value}' has {data.Length} values, expected {expectedLength}.");
        return data;
    }

    private static int[] Pair(long[]? values, int fallback) =>
        values is null ? [fallback, fallback]
        : values.Length == 2 ? [(int)values[0], (int)values[1]]
        : throw new ModelException(ErrorCodes.NotQuantizable, "Only 2-D windows (two values for kernel, strides, dilations) are quantized.");

    private void Require(bool condition, string message)
    {
        if (!condition) throw new ModelException(ErrorCodes.NotQuantizable, message, _modelPath);
    }
}

/// <summary>The statistics of a BatchNormalization folded into a layer: the data-free passes (bias correction, high-bias absorption) use them.</summary>
internal sealed record FoldedBatchNorm(float[] Gamma, float[] Beta, float[] Mean, float[] Variance, float Epsilon);
