using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;
using QuantGen.Core.Operators;

namespace QuantGen.Core.Quantization;

/// <summary>
/// Add, Sub and Mul of two computed tensors with any ONNX (numpy) broadcast (issue 17): each operand whose shape is
/// not the output's is first expanded to it by a Remap (the map is <see cref="ExpandOperator.SourceIndices"/>, what the
/// reference Expand gives), then the same-shape Add kernel, or the Mul kernel, runs. A Remap copies elements on its
/// input's grid, so the result is the same-shape kernel's, bit for bit, on every path; the price is one buffer and one
/// int32 map entry per output element for each expanded operand. A Mul keeps its trailing-broadcast operand (squeeze-
/// excitation's [N,C,1,1], read as b[i / inner]) unexpanded and expands only the other one when that suffices.
/// A broadcast node reading a float value (a float island's output) stays in float, as data movement on float values does.
/// </summary>
internal sealed partial class LayerGraphBuilder
{
    /// <summary>Suffix of an operand expanded to the output shape (followed by the operand's index).</summary>
    internal const string ExpandedSuffix = "@expand";

    /// <summary>Layers whose operands are expanded by Remaps (u8 only: at 16 bits the node runs in float).</summary>
    private readonly HashSet<FloatLayer> _expanded = new();

    /// <summary>True when <paramref name="layer"/> reads operands expanded by Remap layers put before it.</summary>
    private bool ExpandsOperands(FloatLayer layer) => _expanded.Contains(layer);

    /// <summary>Add or Sub of two computed tensors of different shapes: both expanded to the output's shape where they differ.</summary>
    private FloatLayer BuildBroadcastSum(Node node)
    {
        var outShape = Shape(node.Outputs[0]);
        RequireBroadcastable(node, outShape);
        var prefix = new List<FloatLayer>();
        var inputs = new[] { Expanded(node, 0, outShape, prefix), Expanded(node, 1, outShape, prefix) };
        var layer = NewLayer(LayerKinds.Add, node, inputs);
        layer.Subtract = node.OpType == "Sub";
        Prefix(layer, prefix);
        return layer;
    }

    /// <summary>
    /// Mul of two computed tensors that is not one operand times a trailing broadcast of it: the operand kept as the
    /// Mul kernel's b (a trailing broadcast of the output, read as b[i / inner]) if one is, the others expanded.
    /// </summary>
    private FloatLayer BuildBroadcastProduct(Node node)
    {
        var outShape = Shape(node.Outputs[0]);
        RequireBroadcastable(node, outShape);
        var prefix = new List<FloatLayer>();
        // Keep the smaller operand when both are trailing broadcasts of the output (fewer elements to expand otherwise).
        int? kept = null, inner = null;
        foreach (int b in ShapeMath.ElementCount(Shape(node.Inputs[1])) <= ShapeMath.ElementCount(Shape(node.Inputs[0])) ? new[] { 1, 0 } : [0, 1])
            if (TrailingBroadcast(Shape(node.Inputs[b]), outShape) is { } i)
            {
                (kept, inner) = (b, i);
                break;
            }
        FloatLayer layer;
        if (kept is { } k)
        {
            layer = NewLayer(LayerKinds.Mul, node, [Expanded(node, 1 - k, outShape, prefix), Resolve(node.Inputs[k])]);
            layer.BroadcastInner = inner!.Value;
        }
        else
        {
            layer = NewLayer(LayerKinds.Mul, node, [Expanded(node, 0, outShape, prefix), Expanded(node, 1, outShape, prefix)]);
            layer.BroadcastInner = 1;
        }
        Prefix(layer, prefix);
        return layer;
    }

    private void RequireBroadcastable(Node node, int[] outShape)
    {
        Require(_fixedGrids is null, $"{node.OpType} with broadcasting of an imported (QDQ) model is not quantized yet (it runs in float).");
        // Next to a float island the node joins it: quantizing a float operand only to expand it would add a rounding.
        foreach (var input in node.Inputs)
            Require(!_floatValues.Contains(Resolve(input)), $"{node.OpType} with broadcasting reads '{input}', a value computed in float: it runs in float with it.");
        Require(ShapeMath.Broadcast(Shape(node.Inputs[0]), Shape(node.Inputs[1])) is { } s && s.AsSpan().SequenceEqual(outShape),
            $"{node.OpType}'s inputs {ShapeMath.Format(Shape(node.Inputs[0]))} and {ShapeMath.Format(Shape(node.Inputs[1]))} do not broadcast to its output {ShapeMath.Format(outShape)}.");
        int count = ShapeMath.ElementCount(outShape);
        Require(count < MaxRemapElements, $"{node.OpType}'s output has {count} elements: the Remap expanding a broadcast operand holds fewer than {MaxRemapElements}.");
    }

    /// <summary>Operand <paramref name="operand"/> of <paramref name="node"/>, expanded by a new Remap layer when its shape is not <paramref name="outShape"/>.</summary>
    private string Expanded(Node node, int operand, int[] outShape, List<FloatLayer> prefix)
    {
        var x = node.Inputs[operand];
        var inShape = Shape(x);
        if (inShape.AsSpan().SequenceEqual(outShape)) return Resolve(x);
        var name = node.Outputs[0] + ExpandedSuffix + operand.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _graph.ValueInfos[name] = new TensorInfo(DataType.Float, outShape);
        prefix.Add(new FloatLayer(LayerKinds.Remap, node.Name + "/expand" + operand.ToString(System.Globalization.CultureInfo.InvariantCulture), [Resolve(x)], name)
        {
            RemapMap = ExpandOperator.SourceIndices(inShape, outShape),
        });
        return name;
    }

    private void Prefix(FloatLayer layer, List<FloatLayer> prefix)
    {
        if (prefix.Count == 0) return;
        _prefix[layer] = prefix.ToArray();
        _expanded.Add(layer);
    }
}
