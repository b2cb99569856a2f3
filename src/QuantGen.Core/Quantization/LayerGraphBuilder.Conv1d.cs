using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>
/// 1-D convolutions (3-D weights [M, C/G, K] on [N, C, W]) as 2-D ones with H = 1: the layer list gets a Reshape
/// [N, C, W] → [N, C, 1, W], a Conv layer with weights [M, C/G, 1, K] (fused BN and activations as for any Conv), and a
/// Reshape back to [N, M, W']. The artifact, the simulator and the generator see an ordinary Conv; the two values
/// between the reshapes ("…@h1in", "…@h1") are added to the graph's value infos so every pass reads their shapes.
/// </summary>
internal sealed partial class LayerGraphBuilder
{
    /// <summary>Suffix of the 4-D input value of a 1-D convolution (after the reshape).</summary>
    internal const string Conv1dInputSuffix = "@h1in";

    /// <summary>Suffix of the 4-D output value of a 1-D convolution (before the reshape back).</summary>
    internal const string Conv1dOutputSuffix = "@h1";

    /// <summary>The Conv layers built from 1-D convolutions, with the 3-D value they read.</summary>
    private readonly Dictionary<FloatLayer, string> _conv1d = new();

    private FloatLayer BuildConv1d(Node node, Tensor w)
    {
        // An imported (QDQ) model fixes grids on the 3-D values; the reshaped ones have none, so its 1-D convs stay float.
        Require(_fixedGrids is null, "A 1-D convolution of an imported (QDQ) model is not quantized yet.");
        var x = Resolve(node.Inputs[0]);
        int[] inShape = Shape(node.Inputs[0]), outShape = Shape(node.Outputs[0]);
        Require(inShape.Length == 3 && outShape.Length == 3, "A 1-D convolution needs a 3-D [N, C, W] input.");
        int m = w.Shape[0], k = w.Shape[2];
        var input4 = node.Outputs[0] + Conv1dInputSuffix;
        var layer = NewLayer(LayerKinds.Conv, node, [input4]);
        layer.Weights = w.ToFloatArray(); // [M, C/G, K] is [M, C/G, 1, K] in the same order
        layer.WeightShape = [m, w.Shape[1], 1, k];
        layer.WeightSource = node.Inputs[1];
        layer.Bias = node.HasInput(2) ? ConstantFloats(node.Inputs[2], m) : new float[m];
        if (node.HasInput(2)) layer.BiasSource = node.Inputs[2];
        layer.Group = (int)node.GetInt("group", 1);
        layer.Kernel = [1, k];
        layer.Strides = [1, Single(node.GetInts("strides"), 1)];
        layer.Dilations = [1, Single(node.GetInts("dilations"), 1)];
        layer.Pads = Pads1d(node, inShape[2], outShape[2], k, layer.Strides[1], layer.Dilations[1]);
        _graph.ValueInfos[input4] = new TensorInfo(DataType.Float, [inShape[0], inShape[1], 1, inShape[2]]);
        _conv1d[layer] = x;
        return layer;
    }

    /// <summary>
    /// The layers for <paramref name="layer"/>: itself, or for a 1-D convolution (once its fusions are done) the
    /// reshape in, the Conv writing the 4-D value, and the reshape back to the (fused) output.
    /// </summary>
    private IEnumerable<FloatLayer> Expand(FloatLayer layer)
    {
        if (_prefix.TryGetValue(layer, out var before)) return [.. before, layer];
        if (!_conv1d.TryGetValue(layer, out var x)) return [layer];
        var output = layer.Output;
        var shape = Shape(output);
        var output4 = output + Conv1dOutputSuffix;
        _graph.ValueInfos[output4] = new TensorInfo(DataType.Float, [shape[0], shape[1], 1, shape[2]]);
        layer.FusedValues.Add(output);
        layer.Output = output4;
        // The reshapes carry no node: the Conv layer alone stands for the ONNX nodes (inspect, reports).
        var into = new FloatLayer(LayerKinds.Reshape, layer.Name + "/as2d", [x], layer.Inputs[0]);
        var back = new FloatLayer(LayerKinds.Reshape, layer.Name + "/as1d", [output4], output);
        return [into, layer, back];
    }

    private int[] Pads1d(Node node, int width, int outWidth, int kernel, int stride, int dilation)
    {
        var autoPad = node.GetString("auto_pad", "NOTSET");
        if (autoPad is "NOTSET")
        {
            var pads = node.GetInts("pads");
            if (pads is null) return [0, 0, 0, 0];
            Require(pads.Length == 2, "pads must have 2 values for a 1-D window.");
            return [0, (int)pads[0], 0, (int)pads[1]];
        }
        if (autoPad is "VALID") return [0, 0, 0, 0];
        int total = Math.Max(0, (outWidth - 1) * stride + (kernel - 1) * dilation + 1 - width);
        int small = total / 2, large = total - small;
        return autoPad == "SAME_LOWER" ? [0, large, 0, small] : [0, small, 0, large];
    }

    private static int Single(long[]? values, int fallback) =>
        values is null ? fallback
        : values.Length == 1 ? (int)values[0]
        : throw new ModelException(ErrorCodes.NotQuantizable, "A 1-D convolution needs one value for strides and dilations.");
}
