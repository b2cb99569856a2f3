using QuantGen.Core.Artifact;

namespace QuantGen.Generator
{
    /// <summary>
    /// The Resize kind (docs/artifact.md): bilinear over the last two axes. Channels-last buffers are one plane per image
    /// with the channels innermost (the kernel's SIMD form); NCHW ones are one plane per image and channel.
    /// </summary>
    internal sealed partial class ModelPlanner
    {
        private KernelCall PlanResize(ArtifactLayer layer, string method, string x, string y, out LayerLayout layout)
        {
            bool nhwc = _layout.RunsNhwc(layer) && (_layout.IsNhwc(x) || _layout.IsNhwc(y));
            layout = nhwc ? LayerLayout.Nhwc : LayerLayout.Nchw;
            int[] inShape = _tensors[x].Shape.AsArray(), outShape = _tensors[y].Shape.AsArray();
            int rank = inShape.Length, planes = 1;
            for (int d = 0; d < rank - 2; d++) planes *= inShape[d];
            int channels = nhwc ? inShape[1] : 1;
            if (nhwc) planes /= channels;
            return Call(Library, "ResizeBilinear",
                Line(Pos(In(x)), Pos(Out(y)), Named("planes", planes), Named("inH", inShape[rank - 2]), Named("inW", inShape[rank - 1]),
                    Named("outH", outShape[rank - 2]), Named("outW", outShape[rank - 1]), Named("channels", channels)),
                Line(Pos(new DataValue(DataName(method, "Rows", layer.GetBlob("rows")), DataView.Ints)),
                    Pos(new DataValue(DataName(method, "Columns", layer.GetBlob("columns")), DataView.Ints)), Named("bits", layer.GetInt("bits"))));
        }
    }
}
