using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>
/// Pure data movement as a Remap layer (docs/artifact.md): Transpose, Slice, Pad, Resize in nearest mode, Gather and Expand
/// with constant indices (the reference executor's data-movement operators) move elements without computing on them,
/// so their output is an index map of their input, y[i] = map[i] ≥ 0 ? x[map[i]] : fill. The map is not derived here
/// from each operator's attributes: the operator's own reference implementation computes it, run once on an input
/// whose elements are their own index + 1 (exact in float32 below 2^24 elements), with Pad's constant set to 0 so that
/// the padded positions read 0. Every ONNX mode the reference operator supports is then covered, and exactly.
/// </summary>
internal sealed partial class LayerGraphBuilder
{
    /// <summary>The largest input a Remap indexes: element indices + 1 stay exact integers in float32.</summary>
    internal const int MaxRemapElements = 1 << 24;

    /// <summary>The model's default-domain opset (the reference operators switch behaviour on it).</summary>
    private int _opset = 13;

    private static readonly HashSet<string> MovementOps = new(StringComparer.Ordinal)
    {
        "Transpose", "Slice", "Pad", "Resize", "Gather", "Expand",
    };

    /// <summary>True when <paramref name="node"/> is one of the data-movement ops (a Remap if its map can be built).</summary>
    private static bool IsMovement(Node node) => MovementOps.Contains(node.OpType) && node.Domain.Length == 0;

    /// <summary>Values computed in float (float islands, the float edge layers, reshapes of them): data movement on them stays float.</summary>
    private readonly HashSet<string> _floatValues = new(StringComparer.Ordinal);

    /// <summary>Records <paramref name="layer"/>'s output as a float value when it is one.</summary>
    private void TrackFloat(FloatLayer layer)
    {
        if (layer.IsFloatOp || layer.IsFloatTail || (layer.Kind == LayerKinds.Reshape && _floatValues.Contains(layer.Inputs[0])))
            _floatValues.Add(layer.Output);
    }

    private FloatLayer BuildRemap(Node node)
    {
        var x = node.Inputs[0];
        Require(!IsConstant(x), $"{node.OpType} of a constant is folded, not quantized.");
        // An imported model's grids: a Remap keeps its input's, so another one on its output is a requantization it has not.
        Require(_fixedGrids is null || !_fixedGrids.TryGetValue(node.Outputs[0], out var given) || (_fixedGrids.TryGetValue(Resolve(x), out var read) && read == given),
            $"{node.OpType} moves data on its input's grid, and the imported model gives its output another.");
        // Moving float values in float is exact and free of a rounding: a Remap would quantize them first.
        Require(!_floatValues.Contains(Resolve(x)), $"{node.OpType} reads a value computed in float: it moves it in float (quantizing it first would only add a rounding).");
        for (int i = 1; i < node.Inputs.Count; i++)
            Require(!node.HasInput(i) || IsConstant(node.Inputs[i]), $"{node.OpType} moves data only with constant parameters (input {i} is computed).");
        // Linear mode computes new values: a quantized Resize layer (LayerGraphBuilder.Resize.cs).
        if (node.OpType == "Resize" && node.GetString("mode", "nearest") == "linear") return BuildLinearResize(node);
        if (node.OpType == "Resize")
            Require(node.GetString("mode", "nearest") == "nearest", $"{node.OpType} in {node.GetString("mode", "nearest")} mode computes new values: only nearest mode is quantized (as an index map).");
        if (node.OpType == "Pad")
            Require(node.GetString("mode", "constant") is "constant" or "reflect" or "edge", "Pad modes other than constant, reflect and edge are not quantized.");
        var inShape = Shape(x);
        int count = ShapeMath.ElementCount(inShape);
        Require(count < MaxRemapElements, $"{node.OpType}'s input has {count} elements: a Remap indexes fewer than {MaxRemapElements}.");

        // The operator on the input's own indices + 1; Pad's constant as 0, so 0 marks the padded positions.
        var indices = new float[count];
        for (int i = 0; i < count; i++) indices[i] = i + 1;
        var inputs = new Tensor?[node.Inputs.Count];
        inputs[0] = Tensor.FromArray(inShape, indices);
        for (int i = 1; i < inputs.Length; i++)
            if (node.HasInput(i)) inputs[i] = _graph.Initializers[node.Inputs[i]];
        float fill = 0;
        var run = node;
        if (node.OpType == "Pad")
        {
            if (node.HasInput(2))
            {
                fill = _graph.Initializers[node.Inputs[2]].ToFloatArray() is { Length: 1 } c ? c[0] : throw new ModelException(ErrorCodes.NotQuantizable, "Pad's constant_value must be a scalar.", _modelPath);
                inputs[2] = Tensor.Scalar(0f);
            }
            else if (node.HasAttribute("value"))
            {
                fill = node.GetFloat("value", 0f);
                var attributes = node.Attributes.Where(a => a.Key != "value").ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal);
                run = new Node(node.Name, node.OpType, node.Inputs, node.Outputs, attributes, node.Domain);
            }
            Require(float.IsFinite(fill), "Pad's constant_value must be finite.");
        }
        float[] moved;
        try
        {
            moved = FloatIslands.Execute(run, _opset, inputs);
        }
        catch (ModelException e) when (e.Code != ErrorCodes.NotQuantizable)
        {
            throw new ModelException(ErrorCodes.NotQuantizable, $"{node.OpType} could not be mapped as data movement ({e.Code}: {e.Message}).", _modelPath);
        }
        var outShape = Shape(node.Outputs[0]);
        Require(moved.Length == ShapeMath.ElementCount(outShape), $"{node.OpType} gave {moved.Length} elements, its output shape {ShapeMath.Format(outShape)} holds {ShapeMath.ElementCount(outShape)}.");
        var map = new int[moved.Length];
        bool filled = false;
        for (int i = 0; i < map.Length; i++)
        {
            float v = moved[i];
            Require(v >= 0 && v <= count && v == MathF.Floor(v), $"{node.OpType} computes a value that is none of its input's (at output element {i}): it is not pure data movement.");
            map[i] = (int)v - 1;
            filled |= map[i] < 0;
        }
        var layer = NewLayer(LayerKinds.Remap, node, [Resolve(x)]);
        layer.RemapMap = map;
        layer.RemapFill = filled ? fill : null;
        return layer;
    }
}
