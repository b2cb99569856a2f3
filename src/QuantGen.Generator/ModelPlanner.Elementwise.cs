using System.Collections.Generic;
using System.Linq;
using QuantGen.Core.Artifact;

namespace QuantGen.Generator
{
    /// <summary>
    /// The elementwise kinds (docs/artifact.md: Lookup, Affine, Mul, Concat): their kernels take the broadcast in the
    /// buffer's layout, so channels-last tensors need different sizes than the artifact's NCHW ones.
    /// </summary>
    internal sealed partial class ModelPlanner
    {
        private LayerBody PlanElementwise(ArtifactLayer layer, string method, string x, string y, out LayerLayout layout)
        {
            bool nhwc = _layout.RunsNhwc(layer) && layer.Inputs.Concat(layer.Outputs).Any(_layout.IsNhwc);
            layout = nhwc ? LayerLayout.Nhwc : LayerLayout.Nchw;
            ArtifactTensor inT = _tensors[x], outT = _tensors[y];
            switch (layer.Kind)
            {
                case LayerKinds.Lookup:
                    return Call(Library, "Lookup", Line(Pos(In(x)), Pos(Out(y)), Pos(new DataValue(DataName(method, "Table", layer.GetBlob("table")), DataView.Elements))));
                case LayerKinds.Affine:
                {
                    int[] broadcast = layer.GetInts("broadcast"), clamp = layer.GetInts("clamp");
                    // Channels-last: the channel is the fastest index (ActivationLayout allows only per-channel or single constants).
                    int channels = broadcast[0], inner = nhwc && channels > 1 ? 1 : broadcast[1];
                    return Call(Library, "Affine",
                        Line(Pos(In(x)), Pos(Out(y)), Pos(new DataValue(DataName(method, "Multiplier", layer.GetBlob("multiplier")), DataView.Ints)),
                            Pos(new DataValue(DataName(method, "Offset", layer.GetBlob("offset")), DataView.Ints))),
                        Line(Named("channels", channels), Named("inner", inner), Named("zx", inT.ZeroPoint), Named("shift", layer.GetInt("shift")),
                            Named("zy", outT.ZeroPoint), Named("lo", clamp[0]), Named("hi", clamp[1])));
                }
                case LayerKinds.Mul:
                {
                    var b = layer.Inputs[1];
                    int[] clamp = layer.GetInts("clamp");
                    int inner = layer.GetInt("inner"), count = inT.ElementCount, bCount = _tensors[b].ElementCount;
                    // b's element for output i is (i / period)·channels + (i / inner) % channels (the kernel's form).
                    (int Inner, int Channels, int Period) index = nhwc && inT.Shape.Count == 4 && inner == inT.Shape[2] * inT.Shape[3] && inner > 1
                        ? (1, inT.Shape[1], inner * inT.Shape[1])
                        : (inner, bCount, count);
                    return Call(Library, "Mul",
                        Line(Pos(In(x)), Pos(In(b)), Pos(Out(y)), Named("inner", index.Inner), Named("channels", index.Channels), Named("period", index.Period)),
                        Line(Named("za", inT.ZeroPoint), Named("zb", _tensors[b].ZeroPoint), Named("multiplier", layer.GetInt("multiplier")), Named("shift", layer.GetInt("shift")),
                            Named("zy", outT.ZeroPoint), Named("lo", clamp[0]), Named("hi", clamp[1])));
                }
                default:
                {
                    // Concat: the output is `outer` slabs, each the inputs' chunks in turn. Channels-last, the axis is
                    // counted in [N, H, W, C] order (a layout-free input has the same bytes in either order).
                    int axis = layer.GetInt("axis");
                    int[] multipliers = layer.GetInts("multipliers"), shifts = layer.GetInts("shifts");
                    var outShape = Dims(outT.Shape.AsArray(), nhwc);
                    int at = nhwc ? new[] { 0, 3, 1, 2 }[axis] : axis;
                    int outer = 1;
                    for (int d = 0; d < at; d++) outer *= outShape[d];
                    int stride = outT.ElementCount / outer, offset = 0;
                    var calls = new List<KernelCall>();
                    for (int j = 0; j < layer.Inputs.Count; j++)
                    {
                        var input = _tensors[layer.Inputs[j]];
                        int chunk = input.ElementCount / outer;
                        calls.Add(Call(Library, "ConcatPart",
                            Line(Pos(In(layer.Inputs[j])), Pos(Out(y)), Named("outer", outer), Named("chunk", chunk), Named("stride", stride), Named("offset", offset)),
                            Line(Named("zx", input.ZeroPoint), Named("multiplier", multipliers[j]), Named("shift", shifts[j]), Named("zy", outT.ZeroPoint), Named("lo", outT.QMin), Named("hi", outT.QMax))));
                        offset += chunk;
                    }
                    return new KernelCalls(new(calls.ToArray()));
                }
            }
        }

        /// <summary>An NCHW shape as the buffer orders it: [N, H, W, C] channels-last.</summary>
        private static int[] Dims(int[] shape, bool nhwc) =>
            nhwc && shape.Length == 4 ? new[] { shape[0], shape[2], shape[3], shape[1] } : shape;
    }
}
