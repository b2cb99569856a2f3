using QuantGen.Core.Artifact;

namespace QuantGen.Generator
{
    /// <summary>FactorizedFullyConnected and FactorizedConv (8-bit models): the loops' constants and data (ModelPrinter.Factorized).</summary>
    internal sealed partial class ModelPlanner
    {
        private FactorizedBody PlanFactorized(ArtifactLayer layer, string method, string x, string y, bool conv)
        {
            ArtifactTensor inT = _tensors[x], outT = _tensors[y];
            int[] nonZeros = layer.GetInts("nonzeros"), bits = layer.GetInts("bits"), clamp = layer.GetInts("clamp");
            int k, m, rows;
            FactorizedConvGeometry? geometry = null;
            if (conv)
            {
                int[] kernel = layer.GetInts("kernel"), strides = layer.GetInts("strides"), pads = layer.GetInts("pads"), dilations = layer.GetInts("dilations");
                geometry = new FactorizedConvGeometry(inT.Shape[0], inT.Shape[1], inT.Shape[2], inT.Shape[3], outT.Shape[2], outT.Shape[3],
                    kernel[0], kernel[1], strides[0], strides[1], pads[0], pads[1], dilations[0], dilations[1]);
                m = outT.Shape[1];
                k = inT.Shape[1] * kernel[0] * kernel[1];
                rows = 0;
            }
            else
            {
                k = inT.Shape[inT.Shape.Count - 1];
                m = outT.Shape[outT.Shape.Count - 1];
                rows = inT.ElementCount / k;
            }
            // Registered in the order the printed locals read them.
            var bValues = DataName(method, "BValues", layer.GetBlob("bValues"));
            var bIndices = layer.HasBlob("bIndices") ? DataName(method, "BIndices", layer.GetBlob("bIndices")) : null;
            var zMultiplier = DataName(method, "ZMultiplier", layer.GetBlob("zMultiplier"));
            var zShift = DataName(method, "ZShift", layer.GetBlob("zShift"));
            var aValues = DataName(method, "AValues", layer.GetBlob("aValues"));
            var aIndices = layer.HasBlob("aIndices") ? DataName(method, "AIndices", layer.GetBlob("aIndices")) : null;
            var bias = DataName(method, "Bias", layer.GetBlob("bias"));
            var multiplier = DataName(method, "Multiplier", layer.GetBlob("multiplier"));
            var shift = DataName(method, "Shift", layer.GetBlob("shift"));
            string? negMultiplier = null, negShift = null;
            if (IsLeaky(layer))
            {
                negMultiplier = DataName(method, "NegMultiplier", layer.GetBlob("negMultiplier"));
                negShift = DataName(method, "NegShift", layer.GetBlob("negShift"));
            }
            var clampHigh = layer.HasBlob("clampHigh") ? DataName(method, "ClampHigh", layer.GetBlob("clampHigh")) : null;
            return new FactorizedBody(Operand(x), Operand(y), layer.GetInt("rank"), k, m, rows, inT.ZeroPoint, outT.ZeroPoint, clamp[0], clamp[1],
                nonZeros[0], nonZeros[1], bits[0], bits[1], bValues, bIndices, zMultiplier, zShift, aValues, aIndices,
                bias, multiplier, shift, negMultiplier, negShift, clampHigh, geometry);
        }
    }
}
