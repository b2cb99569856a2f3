using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>
/// A 2-D ConvTranspose as a Remap and a Conv: ConvTranspose(x) = Conv(Z, W') with stride 1, where Z is x with s − 1
/// zeros inserted between neighbours and (k − 1)·d − padBegin zeros before (cropped where negative), and W' the weights
/// flipped in both spatial axes, in and out channels exchanged per group. Z's zeros are the input grid's zero point
/// (real 0 exactly), so the quantized layer is an ordinary Conv: int8 weights, int32 accumulation, requantization, the
/// fused BN and activations of any Conv. The inserted zeros cost s² more MACs than a scatter would.
/// </summary>
internal sealed partial class LayerGraphBuilder
{
    /// <summary>Suffix of a ConvTranspose's zero-inserted input value.</summary>
    internal const string ZeroInsertedSuffix = "@zeros";

    /// <summary>Layers to put before a layer (a ConvTranspose's zero insertion, broadcast operands' expansions).</summary>
    private readonly Dictionary<FloatLayer, FloatLayer[]> _prefix = new();

    private FloatLayer BuildConvTranspose(Node node)
    {
        Require(IsConstant(node.Inputs[1]), "ConvTranspose weights must be a constant initializer.");
        Require(_fixedGrids is null, "A ConvTranspose of an imported (QDQ) model is not quantized yet.");
        var w = _graph.Initializers[node.Inputs[1]];
        Require(w.Rank == 4, "Only 2-D ConvTranspose (4-D weights) is quantized.");
        var x = Resolve(node.Inputs[0]);
        int[] inShape = Shape(node.Inputs[0]), outShape = Shape(node.Outputs[0]);
        Require(inShape.Length == 4 && outShape.Length == 4, "ConvTranspose needs a 4-D NCHW input.");
        int group = (int)node.GetInt("group", 1);
        int c = w.Shape[0], mg = w.Shape[1], m = mg * group, cg = c / group;
        Require(group >= 1 && c == inShape[1] && c % group == 0 && m == outShape[1], "ConvTranspose's weights do not match its input and output channels.");
        int[] kernel = [w.Shape[2], w.Shape[3]], strides = Pair(node.GetInts("strides"), 1), dilations = Pair(node.GetInts("dilations"), 1);
        var outputPadding = Pair(node.GetInts("output_padding"), 0);
        var explicitPads = node.GetInts("pads");
        var autoPad = node.GetString("auto_pad", "NOTSET");
        bool targetSized = node.GetInts("output_shape") is not null || autoPad is "SAME_UPPER" or "SAME_LOWER";
        Require(explicitPads is null || explicitPads.Length == 4, "pads must have 4 values for a 2-D window.");

        // Z: [N, C, Hz, Wz] with Hz = Hout + (k − 1)·d; Z[j] = x[(j − L) / s] where j − L ≥ 0 is a multiple of s, else zero.
        var zShape = new int[4];
        var lead = new int[2];
        zShape[0] = inShape[0];
        zShape[1] = c;
        for (int d = 0; d < 2; d++)
        {
            long full = (long)strides[d] * (inShape[d + 2] - 1) + outputPadding[d] + (kernel[d] - 1L) * dilations[d] + 1;
            long total = Math.Max(0, full - outShape[d + 2]);
            long padBegin = targetSized ? (autoPad == "SAME_UPPER" ? total / 2 : total - total / 2) : explicitPads?[d] ?? 0;
            lead[d] = (int)((kernel[d] - 1L) * dilations[d] - padBegin);
            zShape[d + 2] = (int)(outShape[d + 2] + (kernel[d] - 1L) * dilations[d]);
        }
        long zCount = (long)zShape[0] * zShape[1] * zShape[2] * zShape[3];
        Require(zCount < MaxRemapElements, $"ConvTranspose's zero-inserted input would have {zCount} elements: a Remap holds fewer than {MaxRemapElements}.");
        var map = new int[zCount];
        int h = inShape[2], wd = inShape[3];
        for (int n = 0, i = 0; n < zShape[0]; n++)
            for (int ch = 0; ch < c; ch++)
                for (int zy = 0; zy < zShape[2]; zy++)
                {
                    int ry = zy - lead[0], iy = ry / strides[0];
                    bool rowHit = ry >= 0 && ry % strides[0] == 0 && iy < h;
                    for (int zx = 0; zx < zShape[3]; zx++, i++)
                    {
                        int rx = zx - lead[1], ix = rx / strides[1];
                        map[i] = rowHit && rx >= 0 && rx % strides[1] == 0 && ix < wd ? ((n * c + ch) * h + iy) * wd + ix : -1;
                    }
                }
        var zName = node.Outputs[0] + ZeroInsertedSuffix;
        _graph.ValueInfos[zName] = new TensorInfo(DataType.Float, zShape);
        var zeros = new FloatLayer(LayerKinds.Remap, node.Name + "/zeros", [x], zName) { RemapMap = map, RemapFill = 0f };

        // W'[g·M/G + o, i, kh, kw] = W[g·C/G + i, o, KH − 1 − kh, KW − 1 − kw].
        var source = w.ToFloatArray();
        int kh = kernel[0], kw = kernel[1], taps = kh * kw;
        var weights = new float[m * cg * taps];
        for (int g = 0; g < group; g++)
            for (int o = 0; o < mg; o++)
                for (int i = 0; i < cg; i++)
                    for (int t = 0; t < taps; t++)
                        weights[((g * mg + o) * cg + i) * taps + t] = source[((g * cg + i) * mg + o) * taps + (taps - 1 - t)];
        var layer = NewLayer(LayerKinds.Conv, node, [zName]);
        layer.Weights = weights;
        layer.WeightShape = [m, cg, kh, kw];
        layer.Bias = node.HasInput(2) ? ConstantFloats(node.Inputs[2], m) : new float[m];
        if (node.HasInput(2)) layer.BiasSource = node.Inputs[2];
        layer.Group = group;
        layer.Kernel = kernel;
        layer.Strides = [1, 1];
        layer.Dilations = dilations;
        layer.Pads = [0, 0, 0, 0];
        _prefix[layer] = [zeros];
        return layer;
    }
}
