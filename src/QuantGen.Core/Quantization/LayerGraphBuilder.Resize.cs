using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>
/// Resize in linear mode over the last two axes as a quantized Resize layer (docs/artifact.md): each output element is
/// a convex combination of four input elements with weights fixed per output row and column. As for a Remap, the
/// weights are not derived here from the attributes: the operator's own reference implementation computes them, run on
/// ramps (an input whose elements are their row index, then their column index) so that each output reads back the
/// source coordinate the operator interpolated at. A run on a pseudo-random input then checks that the separable
/// bilinear form reproduces the operator (leading axes untouched, no antialiasing, no extrapolated values); anything
/// else stays a float layer.
/// </summary>
internal sealed partial class LayerGraphBuilder
{
    private FloatLayer BuildLinearResize(Node node)
    {
        var x = node.Inputs[0];
        int[] inShape = Shape(x), outShape = Shape(node.Outputs[0]);
        int rank = inShape.Length;
        Require(rank >= 2 && outShape.Length == rank, "Resize in linear mode is quantized for inputs of rank 2 or more.");
        for (int d = 0; d < rank - 2; d++)
            Require(inShape[d] == outShape[d], "Resize in linear mode is quantized when it resizes the last two axes only.");
        int count = ShapeMath.ElementCount(inShape);
        Require(count < MaxRemapElements && ShapeMath.ElementCount(outShape) < MaxRemapElements, $"Resize's tensors hold more than {MaxRemapElements} elements.");
        int inH = inShape[rank - 2], inW = inShape[rank - 1], outH = outShape[rank - 2], outW = outShape[rank - 1];

        // The source coordinates: the operator on a ramp along one axis gives, at each output, the coordinate it read.
        var rowFractions = new float[outH];
        var columnFractions = new float[outW];
        var rows = Axis(Run(node, inShape, i => (i / inW) % inH), outH, outW, inH, along: true, rowFractions);
        var columns = Axis(Run(node, inShape, i => i % inW), outH, outW, inW, along: false, columnFractions);

        var layer = NewLayer(LayerKinds.Resize, node, [Resolve(x)]);
        layer.ResizeRows = rows;
        layer.ResizeColumns = columns;
        layer.ResizeRowFractions = rowFractions;
        layer.ResizeColumnFractions = columnFractions;

        // The check: the operator on a pseudo-random input against the separable form with its weights.
        var random = new float[count];
        uint state = 2463534242;
        for (int i = 0; i < count; i++)
        {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            random[i] = (state >> 8) / (float)(1 << 24);
        }
        var expected = Run(node, inShape, random);
        var actual = layer.Resized(random, inH, inW);
        Require(expected.Length == actual.Length, "Resize's output size does not match its shape.");
        for (int i = 0; i < expected.Length; i++)
            Require(Math.Abs(expected[i] - actual[i]) <= 1e-4f,
                $"Resize in linear mode is quantized as a bilinear combination of neighbouring elements; this one computes something else (output element {i}: {expected[i]} against {actual[i]}).");
        return layer;
    }

    private float[] Run(Node node, int[] inShape, Func<int, float> value)
    {
        var values = new float[ShapeMath.ElementCount(inShape)];
        for (int i = 0; i < values.Length; i++) values[i] = value(i);
        return Run(node, inShape, values);
    }

    private float[] Run(Node node, int[] inShape, float[] values)
    {
        var inputs = new Tensor?[node.Inputs.Count];
        inputs[0] = Tensor.FromArray(inShape, values);
        for (int i = 1; i < inputs.Length; i++)
            if (node.HasInput(i)) inputs[i] = _graph.Initializers[node.Inputs[i]];
        try
        {
            return FloatIslands.Execute(node, _opset, inputs);
        }
        catch (ModelException e) when (e.Code != ErrorCodes.NotQuantizable)
        {
            throw new ModelException(ErrorCodes.NotQuantizable, $"Resize could not be mapped as a bilinear resize ({e.Code}: {e.Message}).", _modelPath);
        }
    }

    /// <summary>
    /// (lo, hi, weight of hi on 2^11) per output index of one axis, from the coordinates the operator read on the ramp
    /// (<paramref name="ramp"/>, the first plane of the output): lo = ⌊c⌋, hi = min(lo + 1, size − 1).
    /// </summary>
    private int[] Axis(float[] ramp, int outH, int outW, int size, bool along, float[] fractions)
    {
        int n = along ? outH : outW;
        var table = new int[3 * n];
        for (int o = 0; o < n; o++)
        {
            float c = ramp[along ? o * outW : o];
            Require(float.IsFinite(c) && c >= -1e-3f && c <= size - 1 + 1e-3f, $"Resize reads outside its input (coordinate {c} on an axis of {size}).");
            c = Math.Clamp(c, 0, size - 1);
            int lo = Math.Min((int)MathF.Floor(c), size - 1), hi = Math.Min(lo + 1, size - 1);
            float fraction = hi == lo ? 0 : c - lo;
            fractions[o] = fraction;
            table[3 * o] = lo;
            table[3 * o + 1] = hi;
            table[3 * o + 2] = (int)Math.Round(fraction * (double)(1 << FloatLayer.ResizeWeightBits), MidpointRounding.ToEven);
        }
        return table;
    }
}
