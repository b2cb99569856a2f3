using System;
using QuantGen.Core.Artifact;

namespace QuantGen.Generator
{
    /// <summary>
    /// FactorizedFullyConnected and FactorizedConv (8-bit models): one call of QuantGenKernels.FactorizedFullyConnected or
    /// FactorizedConv. The factors stay bit-packed in the class's constant data; static fields unpack them once, when
    /// the class is first used, into the SIMD kernels' layouts (B as DotPacked's s8 weights plus its zero-point terms,
    /// A as int16 pairs), so the binary keeps the compressed size and every Run reads dense vectors.
    /// </summary>
    internal sealed partial class ModelPlanner
    {
        private KernelCall PlanFactorized(ArtifactLayer layer, string method, string x, string y, bool conv)
        {
            ArtifactTensor inT = _tensors[x], outT = _tensors[y];
            int[] nonZeros = layer.GetInts("nonzeros"), bits = layer.GetInts("bits"), clamp = layer.GetInts("clamp");
            int rank = layer.GetInt("rank");
            int k = conv ? inT.Shape[1] * layer.GetInts("kernel")[0] * layer.GetInts("kernel")[1] : inT.Shape[inT.Shape.Count - 1];
            int m = conv ? outT.Shape[1] : outT.Shape[outT.Shape.Count - 1];

            // Registered in the order the unpacking fields and the call read them.
            var bValues = Bytes(method, "BValues", layer, "bValues");
            ArgumentValue bIndices = layer.HasBlob("bIndices") ? Bytes(method, "BIndices", layer, "bIndices") : new EmptyValue();
            var aValues = Bytes(method, "AValues", layer, "aValues");
            ArgumentValue aIndices = layer.HasBlob("aIndices") ? Bytes(method, "AIndices", layer, "aIndices") : new EmptyValue();
            // B's columns in the order the kernel reads its input: the conv's receptive field, or a flattened image's pixels.
            bool nhwc = conv && _layout.RunsNhwc(layer);
            var order = nhwc ? new[] { inT.Shape[1], layer.GetInts("kernel")[0], layer.GetInts("kernel")[1] }
                : !conv && _layout.FlattenedNhwcSource(x) is { } image ? new[] { image[1], image[2], image[3] }
                : new[] { k, 1, 1 };
            var inputOrder = Line(Named("channels", order[0]), Named("height", order[1]), Named("width", order[2]), Named("padRows", new BoolValue(nhwc)));
            // A factor with one entry per row (the "plain b-bit" settings' thin factor is a scaled permutation) makes its
            // stage elementwise: the kernel takes its entries and skips that stage's dot product.
            ArgumentValue b = new EmptyValue(), bEntries = new EmptyValue(), a = new EmptyValue(), aEntries = new EmptyValue();
            if (nonZeros[0] == 1)
                bEntries = Derived(method + "BEntries", "int", Call(KernelLibrary.Kernels, "FactorEntries",
                    Line(Pos(bValues), Pos(bIndices), Named("rows", rank), Named("cols", k), Named("bits", bits[0])), inputOrder));
            else
                b = Derived(method + "B", "sbyte", Call(KernelLibrary.Kernels, "UnpackFactorB",
                    Line(Pos(bValues), Pos(bIndices), Named("rows", rank), Named("cols", k), Named("nonZeros", nonZeros[0]), Named("bits", bits[0])), inputOrder));
            var zeroTerms = Derived(method + "ZeroTerms", "int", Call(KernelLibrary.Kernels, "FactorZeroTerms",
                Line(Pos(bValues), Named("rows", rank), Named("nonZeros", nonZeros[0]), Named("bits", bits[0]), Named("zx", inT.ZeroPoint))));
            if (nonZeros[1] == 1)
                aEntries = Derived(method + "AEntries", "int", Call(KernelLibrary.Kernels, "FactorEntries",
                    Line(Pos(aValues), Pos(aIndices), Named("rows", m), Named("cols", rank), Named("bits", bits[1])),
                    Line(Named("channels", rank), Named("height", 1), Named("width", 1), Named("padRows", new BoolValue(false)))));
            else
                a = Derived(method + "A", "short", Call(KernelLibrary.Kernels, "UnpackFactorA",
                    Line(Pos(aValues), Pos(aIndices), Named("rows", m), Named("cols", rank), Named("nonZeros", nonZeros[1]), Named("bits", bits[1]))));

            // Both requantizations take float32 scales, as every 8-bit weighted layer (docs/artifact.md).
            var scale = Pos(Scales(method, "Scale", layer, "multiplier", "shift"));
            var factors = Line(Pos(In(x)), Pos(b), Pos(bEntries), Pos(zeroTerms), Pos(Scales(method, "ZScale", layer, "zMultiplier", "zShift")), Pos(a), Pos(aEntries));
            var requantization = Line(Pos(Ints(method, "Bias", layer, "bias")), scale,
                IsLeaky(layer) ? Pos(Scales(method, "NegScale", layer, "negMultiplier", "negShift")) : scale);
            requantization = requantization.With(Pos(layer.HasBlob("clampHigh") ? Ints(method, "ClampHigh", layer, "clampHigh") : (ArgumentValue)new EmptyValue()));
            var output = Line(Pos(Out(y)), Pos(new ScratchValue(ScratchBuffer.Col)), Pos(new ScratchValue(ScratchBuffer.Acc)));
            var grid = Line(Named("rank", rank));
            if (conv) grid = grid.With(Named("zx", inT.ZeroPoint));
            grid = grid.With(Named("zy", outT.ZeroPoint), Named("lo", clamp[0]), Named("hi", clamp[1]));
            if (!conv)
                return Call(KernelLibrary.Kernels, "FactorizedFullyConnected", factors, requantization, output,
                    Line(Named("rows", inT.ElementCount / k), Named("k", k), Named("m", m)).With(grid));

            int[] kernel = layer.GetInts("kernel"), strides = layer.GetInts("strides"), pads = layer.GetInts("pads"), dilations = layer.GetInts("dilations");
            return Call(KernelLibrary.Kernels, nhwc ? "FactorizedConvNhwc" : "FactorizedConv", factors, requantization, output,
                Line(Named("n", inT.Shape[0]), Named("c", inT.Shape[1]), Named("h", inT.Shape[2]), Named("width", inT.Shape[3]),
                    Named("m", m), Named("oh", outT.Shape[2]), Named("ow", outT.Shape[3])),
                Line(Named("kh", kernel[0]), Named("kw", kernel[1]), Named("sh", strides[0]), Named("sw", strides[1]),
                    Named("padTop", pads[0]), Named("padLeft", pads[1]), Named("dh", dilations[0]), Named("dw", dilations[1])),
                grid);
        }

        /// <summary>
        /// The scratch a factorized layer needs: its input vectors and the int16 intermediate in _col, both stages' sums in
        /// _acc. The NHWC conv takes four output positions at a time (four fields and four intermediates), each receptive
        /// field's kernel rows padded to 4 bytes.
        /// </summary>
        private (int Col, int Acc) FactorizedScratch(ArtifactLayer layer)
        {
            var x = _tensors[layer.Inputs[0]].Shape;
            var y = _tensors[layer.Outputs[0]].Shape;
            int rank = layer.GetInt("rank"), rp2 = (rank + 1) & ~1, rp = (rank + 7) & ~7;
            if (layer.Kind != LayerKinds.FactorizedConv)
                return (((x[x.Count - 1] + 3) & ~3) + 2 * rp2, rp + ((y[y.Count - 1] + 7) & ~7));
            int[] kernel = layer.GetInts("kernel");
            int mp = (y[1] + 7) & ~7;
            if (!_layout.RunsNhwc(layer)) return (((x[1] * kernel[0] * kernel[1] + 3) & ~3) + 2 * rp2, rp + mp);
            int gathered = 4 * (kernel[0] * ((kernel[1] * x[1] + 3) & ~3) + 2 * rp2);
            if (layer.GetInts("nonzeros")[0] == 1 || layer.GetInts("dilations")[1] != 1) return (gathered, 4 * rp + mp);
            // A dense B without horizontal dilation may run stage 1 from a padded copy of the input (FactorizedRowsAvx2,
            // as ConvRowsAvx2): the rows and columns the output reaches plus 4 bytes for a row's padding, then four z.
            int[] strides = layer.GetInts("strides"), dilations = layer.GetInts("dilations");
            int planeRows = (y[2] - 1) * strides[0] + (kernel[0] - 1) * dilations[0] + 1, planeColumns = (y[3] - 1) * strides[1] + kernel[1];
            return (Math.Max(gathered, planeRows * planeColumns * x[1] + 4 + 8 * rp2), 4 * rp + mp);
        }

        private DataValue Bytes(string method, string suffix, ArtifactLayer layer, string blob) =>
            new(DataName(method, suffix, layer.GetBlob(blob)), DataView.Elements);

        private DataValue Ints(string method, string suffix, ArtifactLayer layer, string blob) =>
            new(DataName(method, suffix, layer.GetBlob(blob)), DataView.Ints);

        private DataValue Scales(string method, string suffix, ArtifactLayer layer, string multiplier, string shift) =>
            new(DataName(method, suffix, ScaleBlob(char.ToLowerInvariant(suffix[0]) + suffix.Substring(1), layer.GetBlob(multiplier), layer.GetBlob(shift))), DataView.Floats);

        /// <summary>A static array field computed once from constant data by a kernel call; returns the argument that reads it.</summary>
        private DerivedValue Derived(string name, string elementType, KernelCall initializer)
        {
            var field = _memberNames.Take(name);
            _derived.Add(new DerivedDataPlan(field, elementType, initializer));
            return new DerivedValue(field);
        }
    }
}
