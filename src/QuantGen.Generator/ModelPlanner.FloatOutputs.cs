using QuantGen.Core.Artifact;

namespace QuantGen.Generator
{
    internal sealed partial class ModelPlanner
    {
        /// <summary>
        /// A Conv whose output is f32 (docs/artifact.md, "Float outputs": every reader is a float layer): the packed
        /// dot products of ConvNhwc (NHWC input) or ConvPacked (NCHW), accumulators dequantized into the NCHW float
        /// buffer. Depthwise and grouped layers take the same kernels (the group loop); no thread split, no pool fusion.
        /// </summary>
        private KernelCall PlanConvToFloat(ArtifactLayer layer, string method, string x, string y, bool nhwc)
        {
            int[] k = layer.GetInts("kernel"), s = layer.GetInts("strides"), p = layer.GetInts("pads"), d = layer.GetInts("dilations");
            int group = layer.GetInt("group");
            ArtifactTensor inT = _tensors[x], outT = _tensors[y];
            // NHWC reads a receptive field in (KH, KW, C/G) order: the weights are reordered to match, then packed.
            var weights = nhwc ? ReductionChannelsLast(layer.GetBlob("weights"), k[0], k[1]) : layer.GetBlob("weights");
            var shapes = Line(Named("n", inT.Shape[0]), Named("c", inT.Shape[1]), Named("h", inT.Shape[2]), Named("width", inT.Shape[3]),
                Named("m", outT.Shape[1]), Named("oh", outT.Shape[2]), Named("ow", outT.Shape[3]));
            var window = Line(Named("kh", k[0]), Named("kw", k[1]), Named("sh", s[0]), Named("sw", s[1]), Named("padTop", p[0]), Named("padLeft", p[1]),
                Named("dh", d[0]), Named("dw", d[1]), Named("group", group));
            var output = Line(Named("zx", inT.ZeroPoint)).With(FloatBounds(layer));
            return ReadingPacked(Call(Library, nhwc ? "ConvNhwcToFloat" : "ConvPackedToFloat",
                FloatOutputFirstLine(layer, method, x, y, PackWeights(weights, group)), shapes, window, output));
        }

        /// <summary>x, the packed weights, bias and scales (Constants: no clampHigh for a float output), y, then the col and acc scratch.</summary>
        private ArgumentLine FloatOutputFirstLine(ArtifactLayer layer, string method, string x, string y, ArtifactBlob packed) =>
            Line(Pos(In(x))).With(Constants(layer, method, packed, inRegisters: true))
                .With(Pos(Out(y)), Pos(new ScratchValue(ScratchBuffer.Col)), Pos(new ScratchValue(ScratchBuffer.Acc)));

        /// <summary>The layer's fused activation bounds, lo and hi (±float.MaxValue where it has none).</summary>
        private static Argument[] FloatBounds(ArtifactLayer layer)
        {
            float[] bounds = layer.GetFloats("bounds");
            if (bounds.Length != 2) throw new ArtifactFormatException($"Layer '{layer.Name}': 'bounds' needs 2 values.");
            return new[] { Named("lo", new FloatValue(bounds[0])), Named("hi", new FloatValue(bounds[1])) };
        }
    }
}
