using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>
/// The written-out LayerNorm exporters emit (torch's <c>(x − mean) / sqrt(var + eps) · w + b</c> without
/// nn.LayerNorm, or opsets before 17) recognised as one LayerNormalization float layer instead of nine nodes split
/// between float islands and quantized elementwise layers, each rounding (docs/accuracy.md, "Edge-style models").
/// </summary>
internal sealed partial class LayerGraphBuilder
{
    /// <summary>
    /// <c>m = ReduceMean(x)</c>, <c>d = Sub(x, m)</c>, <c>p = Pow(d, 2)</c> (or <c>Mul(d, d)</c>), <c>v = ReduceMean(p)</c>,
    /// <c>Add(v, eps)</c>, <c>s = Sqrt(·)</c>, <c>n = Div(d, s)</c>, then optionally <c>Mul(n, w)</c> and <c>Add(·, b)</c>:
    /// both means over the same trailing axes with keepdims, eps, w and b constants (w and b one value or one per
    /// normalised element), d read by the Pow and the Div only and every other intermediate by the next node only. The
    /// layer runs the synthesised node <c>LayerNormalization(x, w, b; axis, epsilon)</c> in float (w or b omitted when absent). Null for anything
    /// else (a near miss stays the nodes it is).
    /// </summary>
    private FloatLayer? TryLayerNorm(Node mean)
    {
        if (mean.OpType != "ReduceMean" || mean.Inputs.Count == 0) return null;
        var x = mean.Inputs[0];
        if (IsConstant(x) || NormalisedAxis(mean, Shape(x)) is not { } axis) return null;
        if (SoleConsumer(mean.Outputs[0]) is not { OpType: "Sub" } sub || sub.Inputs.Count != 2 || sub.Inputs[0] != x || sub.Inputs[1] != mean.Outputs[0] || !SameShape(sub.Outputs[0], x)) return null;
        var d = sub.Outputs[0];
        if (_graphOutputs.Contains(d) || !_consumers.TryGetValue(d, out var readers) || readers.Count != 2) return null;
        var div = readers.FirstOrDefault(r => r.OpType == "Div");
        var square = readers.FirstOrDefault(r => r != div);
        if (square is null || div is null || !IsSquare(square, d)) return null;
        if (SoleConsumer(square.Outputs[0]) is not { OpType: "ReduceMean" } variance || variance.Inputs[0] != square.Outputs[0] || NormalisedAxis(variance, Shape(d)) != axis) return null;
        if (SoleConsumer(variance.Outputs[0]) is not { OpType: "Add" } add || add.Inputs.Count != 2) return null;
        var epsName = add.Inputs[0] == variance.Outputs[0] ? add.Inputs[1] : add.Inputs[0];
        if (!IsConstant(epsName) || _graph.Initializers[epsName].Length != 1 || !SameShape(add.Outputs[0], variance.Outputs[0])) return null;
        float epsilon = _graph.Initializers[epsName].ToFloatArray()[0];
        if (!(epsilon >= 0) || float.IsInfinity(epsilon)) return null;
        if (SoleConsumer(add.Outputs[0]) is not { OpType: "Sqrt" } sqrt) return null;
        if (SoleConsumer(sqrt.Outputs[0]) != div || div.Inputs.Count != 2 || div.Inputs[0] != d || div.Inputs[1] != sqrt.Outputs[0] || !SameShape(div.Outputs[0], x)) return null;
        var chain = new List<Node> { sub, square, variance, add, sqrt, div };
        int n = Shape(x).Skip(axis).Aggregate(1, (p, e) => p * e);
        string scale = "", bias = "";
        var output = div.Outputs[0];
        if (SoleConsumer(output) is { OpType: "Mul" } mul && NormalisedConstant(mul, output, axis, n) is { } w)
        {
            scale = w;
            chain.Add(mul);
            output = mul.Outputs[0];
        }
        if (SoleConsumer(output) is { OpType: "Add" } shift && NormalisedConstant(shift, output, axis, n) is { } b)
        {
            bias = b;
            chain.Add(shift);
            output = shift.Outputs[0];
        }
        // An imported model that rounds an intermediate (its own grid) keeps the nodes apart.
        if (chain.Take(chain.Count - 1).Select(c => c.Outputs[0]).Append(mean.Outputs[0]).Any(v => KeepsApart(v, output))) return null;
        var attributes = new Dictionary<string, NodeAttribute>(StringComparer.Ordinal)
        {
            ["axis"] = new NodeAttribute { Name = "axis", Kind = AttributeKind.Int, Int = axis },
            ["epsilon"] = new NodeAttribute { Name = "epsilon", Kind = AttributeKind.Float, Float = epsilon },
        };
        var inputs = bias.Length > 0 ? new[] { x, scale, bias } : scale.Length > 0 ? new[] { x, scale } : new[] { x }; // "" an omitted Scale
        var node = new Node(mean.Name, "LayerNormalization", inputs, [output], attributes);
        var layer = new FloatLayer(Artifact.FloatLayers.Kind(node.OpType), mean.Name, [Resolve(x)], output)
        {
            FloatNode = node,
            FloatReason = "a written-out LayerNorm runs as one LayerNormalization in float (docs/models.md)",
            NodeInputs = node.Inputs.Select(i => i.Length == 0 || IsConstant(i) ? i : Resolve(i)).ToArray(),
        };
        layer.Nodes.Add(mean.Name);
        foreach (var c in chain)
        {
            _fused.Add(c);
            layer.Nodes.Add(c.Name);
        }
        return layer;
    }

    /// <summary>The first normalised axis of a ReduceMean over trailing axes only, keepdims on (axes from the attribute or a constant input); else null.</summary>
    private int? NormalisedAxis(Node reduce, int[] shape)
    {
        if (reduce.GetInt("keepdims", 1) == 0 || shape.Length == 0) return null;
        long[]? axes = reduce.GetInts("axes");
        if (axes is null && reduce.HasInput(1))
        {
            if (!IsConstant(reduce.Inputs[1])) return null;
            axes = _graph.Initializers[reduce.Inputs[1]].ToInt64Array();
        }
        if (axes is null || axes.Length == 0) return null;
        var normalised = axes.Select(a => a < 0 ? a + shape.Length : a).Order().ToArray();
        if (normalised[0] < 0 || normalised[^1] != shape.Length - 1) return null;
        for (int i = 1; i < normalised.Length; i++)
            if (normalised[i] != normalised[i - 1] + 1) return null;
        return (int)normalised[0];
    }

    /// <summary><c>Pow(d, 2)</c> or <c>Mul(d, d)</c>.</summary>
    private bool IsSquare(Node node, string d) =>
        node.Inputs.Count == 2 && SameShape(node.Outputs[0], d)
        && (node.OpType == "Pow" ? node.Inputs[0] == d && IsScalar(node.Inputs[1], 2f) : node.Inputs[0] == d && node.Inputs[1] == d);

    /// <summary>
    /// The constant of a Mul/Add of <paramref name="value"/> that holds one value or one per normalised element (its
    /// shape 1 before the normalised axes) and does not enlarge the tensor; else null.
    /// </summary>
    private string? NormalisedConstant(Node node, string value, int axis, int n)
    {
        if (node.Inputs.Count != 2 || !SameShape(node.Outputs[0], value)) return null;
        var other = node.Inputs[0] == value ? node.Inputs[1] : node.Inputs[1] == value ? node.Inputs[0] : null;
        if (other is null || !IsConstant(other)) return null;
        var c = _graph.Initializers[other];
        if (c.Length == 1) return other;
        var shape = Shape(value);
        if (c.Length != n || c.Rank > shape.Length) return null;
        // Right-aligned, the constant must be 1 before the normalised axes and match them after.
        for (int d = 0; d < c.Rank; d++)
        {
            int xd = shape.Length - c.Rank + d;
            if (xd < axis ? c.Shape[d] != 1 : c.Shape[d] != shape[xd]) return null;
        }
        return other;
    }
}
