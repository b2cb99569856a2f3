using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>
/// The elementwise layers (issue 17): lookup-table activations and the patterns exporters split them into
/// (hard-swish <c>x · Clip(x + 3, 0, 6) / 6</c>, hard-sigmoid <c>Clip(x + 3, 0, 6) / 6</c>, swish <c>x · Sigmoid(x)</c>),
/// Add/Sub/Mul/Div by a constant (Affine, consecutive ones folded into one), Mul by a broadcast tensor, and Concat.
/// </summary>
internal sealed partial class LayerGraphBuilder
{
    /// <summary>A table activation; a Mul of its input by its output (x · Sigmoid(x), x · HardSigmoid(x)) joins the table.</summary>
    private FloatLayer BuildLookup(Node node)
    {
        var x = node.Inputs[0];
        Require(!IsConstant(x), $"{node.OpType} of a constant should have been folded.");
        LookupFunction function;
        switch (node.OpType)
        {
            case "Sigmoid": function = LookupFunction.Sigmoid; break;
            case "Tanh": function = LookupFunction.Tanh; break;
            case "HardSwish": function = LookupFunction.HardSwish; break;
            case "HardSigmoid": function = LookupFunction.HardSigmoid(node.GetFloat("alpha", 0.2f), node.GetFloat("beta", 0.5f)); break;
            case "LeakyRelu":
            {
                float alpha = node.GetFloat("alpha", 0.01f);
                Require(float.IsFinite(alpha), "LeakyRelu's alpha must be finite.");
                function = LookupFunction.LeakyRelu(alpha);
                break;
            }
            default:
            {
                // A Relu or Clip no layer before it absorbed as its clamp.
                var bounds = ClampBounds(node, x);
                Require(bounds is { } b && !float.IsNaN(b.Min) && !float.IsNaN(b.Max) && b.Min <= b.Max, $"{node.OpType} is quantized with constant bounds (min ≤ max) only.");
                function = LookupFunction.Clip(bounds!.Value.Min, bounds.Value.Max);
                break;
            }
        }
        var layer = NewLayer(LayerKinds.Lookup, node, [Resolve(x)]);
        layer.Function = function;
        if (node.OpType is "Sigmoid" or "HardSigmoid" && SoleConsumer(node.Outputs[0]) is { } mul && IsSelfGate(mul, x, node.Outputs[0]) && !KeepsApart(node.Outputs[0], mul.Outputs[0]))
        {
            float alpha = node.GetFloat("alpha", 0.2f), beta = node.GetFloat("beta", 0.5f);
            layer.Function = node.OpType == "Sigmoid" ? LookupFunction.Swish
                : IsSixth(alpha) && beta == 0.5f ? LookupFunction.HardSwish
                : LookupFunction.GatedHardSigmoid(alpha, beta);
            Absorb(layer, mul);
        }
        return layer;
    }

    /// <summary>Add or Sub with one constant input: the hard-swish/hard-sigmoid patterns when they match exactly, else Affine.</summary>
    private FloatLayer BuildConstantElementwise(Node node) =>
        (node.OpType == "Add" ? TryHardPattern(node) : null) ?? BuildAffine(node);

    /// <summary>
    /// <c>Add(x, 3) → Clip(0, 6)</c> followed by <c>Div 6</c> (or <c>Mul 1/6</c>) and optionally <c>Mul x</c> (hard-swish,
    /// else hard-sigmoid), or by <c>Mul x</c> then <c>Div 6</c> / <c>Mul 1/6</c> (hard-swish), every intermediate read by
    /// the next node only. Anything else (another constant, another bound, a Mul by a different tensor) is no match.
    /// </summary>
    private FloatLayer? TryHardPattern(Node add)
    {
        int constant = IsConstant(add.Inputs[0]) ? 0 : 1;
        var x = add.Inputs[1 - constant];
        if (IsConstant(x) || !IsScalar(add.Inputs[constant], 3f) || !SameShape(add.Outputs[0], x)) return null;
        if (SoleConsumer(add.Outputs[0]) is not { OpType: "Clip" } clip || ClampBounds(clip, add.Outputs[0]) is not (0f, 6f)) return null;
        var next = SoleConsumer(clip.Outputs[0]);
        if (next is null) return null;
        var chain = new List<Node> { clip, next };
        LookupFunction function;
        if (IsDivisionBySix(next, clip.Outputs[0]))
        {
            if (SoleConsumer(next.Outputs[0]) is { } gate && IsSelfGate(gate, x, next.Outputs[0]))
            {
                chain.Add(gate);
                function = LookupFunction.HardSwish;
            }
            else
            {
                function = LookupFunction.DecomposedHardSigmoid;
            }
        }
        else if (IsSelfGate(next, x, clip.Outputs[0]) && SoleConsumer(next.Outputs[0]) is { } scale && IsDivisionBySix(scale, next.Outputs[0]))
        {
            chain.Add(scale);
            function = LookupFunction.HardSwish;
        }
        else
        {
            return null;
        }
        var final = chain[^1].Outputs[0];
        if (KeepsApart(add.Outputs[0], final) || chain.Take(chain.Count - 1).Any(n => KeepsApart(n.Outputs[0], final))) return null;
        var layer = NewLayer(LayerKinds.Lookup, add, [Resolve(x)]);
        layer.Function = function;
        foreach (var n in chain) Absorb(layer, n);
        return layer;
    }

    /// <summary>
    /// True when an imported model gives <paramref name="value"/> a grid of its own that <paramref name="next"/> (a node
    /// that would be fused after it) does not share: the model rounds there, so the two stay separate layers.
    /// </summary>
    private bool KeepsApart(string value, string next) =>
        _fixedGrids is not null && _fixedGrids.TryGetValue(value, out var inner) && !(_fixedGrids.TryGetValue(next, out var outer) && outer == inner);

    /// <summary>A Mul of <paramref name="x"/> and <paramref name="gate"/> (either order) whose output has x's shape.</summary>
    private bool IsSelfGate(Node mul, string x, string gate) =>
        mul.OpType == "Mul" && mul.Inputs.Count == 2
        && ((Resolve(mul.Inputs[0]) == Resolve(x) && mul.Inputs[1] == gate) || (Resolve(mul.Inputs[1]) == Resolve(x) && mul.Inputs[0] == gate))
        && SameShape(mul.Outputs[0], x);

    /// <summary><c>Div(value, 6)</c> or <c>Mul(value, 1/6)</c> with a one-element constant.</summary>
    private bool IsDivisionBySix(Node node, string value)
    {
        if (node.Inputs.Count != 2 || !SameShape(node.Outputs[0], value)) return false;
        if (node.OpType == "Div") return node.Inputs[0] == value && IsScalar(node.Inputs[1], 6f);
        if (node.OpType != "Mul") return false;
        var other = node.Inputs[0] == value ? node.Inputs[1] : node.Inputs[0];
        return other != value && IsConstant(other) && _graph.Initializers[other].Length == 1 && IsSixth(_graph.Initializers[other].ToFloatArray()[0]);
    }

    /// <summary>1/6 as an exporter writes it in float32 (0.16666667) or near it.</summary>
    private static bool IsSixth(float v) => Math.Abs(v - 1.0 / 6) <= 1e-6;

    private bool IsScalar(string value, float expected) =>
        IsConstant(value) && _graph.Initializers[value].Length == 1 && _graph.Initializers[value].ToFloatArray()[0] == expected;

    private bool SameShape(string a, string b) => Shape(a).AsSpan().SequenceEqual(Shape(b));

    /// <summary>Mul/Div by a constant (Affine), or Mul of two computed tensors (any broadcast, LayerGraphBuilder.Broadcast.cs).</summary>
    private FloatLayer BuildProduct(Node node)
    {
        Require(node.Inputs.Count == 2, $"{node.OpType} needs two inputs.");
        if (IsConstant(node.Inputs[0]) || IsConstant(node.Inputs[1])) return BuildAffine(node);
        Require(node.OpType == "Mul", "Div of two computed tensors has no quantized kernel yet (a Div by a constant is quantized).");
        string a = node.Inputs[0], b = node.Inputs[1];
        if (ShapeMath.ElementCount(Shape(b)) > ShapeMath.ElementCount(Shape(a))) (a, b) = (b, a);
        FloatLayer layer;
        if (SameShape(a, node.Outputs[0]) && TrailingBroadcast(Shape(b), Shape(a)) is { } inner)
        {
            layer = NewLayer(LayerKinds.Mul, node, [Resolve(a), Resolve(b)]);
            layer.BroadcastInner = inner;
        }
        else
        {
            layer = BuildBroadcastProduct(node); // any other broadcast: LayerGraphBuilder.Broadcast.cs
        }
        TryFuseActivation(layer);
        return layer;
    }

    /// <summary>
    /// Elements of <paramref name="a"/> per element of <paramref name="b"/> when b (right-aligned) equals a in its
    /// leading dimensions and is 1 in the trailing ones, so that b's element for a's element i is i / inner; else null.
    /// </summary>
    private static int? TrailingBroadcast(int[] b, int[] a)
    {
        if (b.Length > a.Length) return null;
        var padded = Enumerable.Repeat(1, a.Length - b.Length).Concat(b).ToArray();
        int trailing = a.Length;
        while (trailing > 0 && padded[trailing - 1] == 1) trailing--;
        for (int d = 0; d < trailing; d++)
            if (padded[d] != a[d]) return null;
        int inner = 1;
        for (int d = trailing; d < a.Length; d++) inner *= a[d];
        return inner;
    }

    /// <summary>Add/Sub/Mul/Div of a tensor and a constant as one Affine layer, with the constant ops after it folded in, then a fused clamp.</summary>
    private FloatLayer BuildAffine(Node node)
    {
        int constant = IsConstant(node.Inputs[0]) ? 0 : 1;
        var x = node.Inputs[1 - constant];
        Require(!IsConstant(x), $"{node.OpType} of two constants should have been folded.");
        var layer = NewLayer(LayerKinds.Affine, node, [Resolve(x)]);
        layer.AffineScale = [1f];
        layer.AffineOffset = [0f];
        layer.BroadcastChannels = 1;
        layer.BroadcastInner = ShapeMath.ElementCount(Shape(x));
        Require(TryCompose(layer, node, x),
            $"{node.OpType} with the constant '{node.Inputs[constant]}' is not quantized: the constant must be finite (non-zero for Div, and the divisor), broadcast along at most one axis of the tensor, and not enlarge it.");
        while (SoleConsumer(layer.Output) is { OpType: "Add" or "Sub" or "Mul" or "Div" } next && !KeepsApart(layer.Output, next.Outputs[0]) && TryCompose(layer, next, layer.Output))
        {
            // Absorbed, so that a fallback to float (an Affine at 16 bits) gives the folded nodes back.
            _fused.Add(next);
            _absorbed.Add(next);
            layer.Nodes.Add(next.Name);
            layer.FusedValues.Add(layer.Output);
            layer.Output = next.Outputs[0];
        }
        TryFuseActivation(layer);
        return layer;
    }

    /// <summary>
    /// Folds <c>z = op(y, k)</c> (y the layer's output <paramref name="value"/>, k a constant) into y = x · s + o:
    /// z = x · (s · s2) + (o · s2 + o2). False, leaving the layer as it was, when the op is not such an affine map of y.
    /// </summary>
    private bool TryCompose(FloatLayer layer, Node node, string value)
    {
        if (node.Inputs.Count != 2 || !SameShape(node.Outputs[0], value)) return false;
        int constant = node.Inputs[0] == value ? 1 : node.Inputs[1] == value ? 0 : -1;
        if (constant < 0 || !IsConstant(node.Inputs[constant]) || node.Inputs[1 - constant] != value) return false;
        var tensor = _graph.Initializers[node.Inputs[constant]];
        var axis = ConstantAxis(tensor.Shape, Shape(value));
        if (axis is not var (channels, inner)) return false;
        if (channels != 1 && layer.BroadcastChannels != 1 && (channels != layer.BroadcastChannels || inner != layer.BroadcastInner)) return false;
        var k = tensor.ToFloatArray();
        bool first = constant == 1; // the constant is the second operand
        int n = Math.Max(channels, layer.BroadcastChannels);
        var scale = new float[n];
        var offset = new float[n];
        for (int c = 0; c < n; c++)
        {
            float kc = k[channels == 1 ? 0 : c];
            (float s2, float o2) = node.OpType switch
            {
                "Add" => (1f, kc),
                "Sub" => first ? (1f, -kc) : (-1f, kc),
                "Mul" => (kc, 0f),
                _ => first && kc != 0 ? (1f / kc, 0f) : (float.NaN, float.NaN), // Div: only by the constant
            };
            float s = layer.AffineScale![layer.BroadcastChannels == 1 ? 0 : c], o = layer.AffineOffset![layer.BroadcastChannels == 1 ? 0 : c];
            scale[c] = s * s2;
            offset[c] = o * s2 + o2;
            if (!float.IsFinite(scale[c]) || !float.IsFinite(offset[c])) return false;
        }
        if (channels != 1)
        {
            layer.BroadcastChannels = channels;
            layer.BroadcastInner = inner;
        }
        layer.AffineScale = scale;
        layer.AffineOffset = offset;
        return true;
    }

    /// <summary>
    /// The axis a constant broadcasts along against a tensor: (1, count) for one value, (length, elements per step) for
    /// a constant that is 1 in every dimension but one (right-aligned, numpy rules), null for anything else.
    /// </summary>
    private static (int Channels, int Inner)? ConstantAxis(int[] constant, int[] shape)
    {
        int count = ShapeMath.ElementCount(shape);
        if (ShapeMath.ElementCount(constant) == 1) return constant.Length <= shape.Length ? (1, Math.Max(count, 1)) : null;
        if (constant.Length > shape.Length) return null;
        int axis = -1;
        for (int d = 0; d < constant.Length; d++)
        {
            int xd = shape.Length - constant.Length + d;
            if (constant[d] == 1) continue;
            if (constant[d] != shape[xd] || axis >= 0) return null;
            axis = xd;
        }
        int inner = 1;
        for (int d = axis + 1; d < shape.Length; d++) inner *= shape[d];
        return (shape[axis], inner);
    }

    /// <summary>Concat of computed tensors along any axis.</summary>
    private FloatLayer BuildConcat(Node node)
    {
        var inputs = node.Inputs.Where(i => i.Length > 0).ToArray();
        Require(inputs.Length > 0 && inputs.All(i => !IsConstant(i)), "Concat is quantized for computed inputs only (a constant input has no grid of its own yet).");
        int rank = Shape(node.Outputs[0]).Length;
        var layer = NewLayer(LayerKinds.Concat, node, inputs.Select(Resolve).ToArray());
        layer.Axis = ShapeMath.NormalizeAxis(node.GetInt("axis", 0), rank);
        return layer;
    }
}
