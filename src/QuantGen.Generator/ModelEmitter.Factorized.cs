using QuantGen.Core.Artifact;
using static QuantGen.Generator.CSharpLiterals;

namespace QuantGen.Generator
{
    /// <summary>
    /// FactorizedFullyConnected and FactorizedConv (docs/artifact.md): the two products of W ≈ A·B read the factors
    /// packed as stored, so W is never formed. The loops are specialised at build time (shapes, bit-widths, index
    /// widths, dense factors) around two kernels (QuantGenKernels.FactorLevel and RequantizeIntermediate, in
    /// src/QuantGen.Kernels) and kept scalar: every value is one bit-field read and one multiply-add, which compilers
    /// without intrinsics (netstandard2.1, Unity) compile the same way. A FactorizedConv gathers each output
    /// position's im2col column once and then runs the fully connected stages on it: B is a k×k conv to r channels,
    /// A the 1×1 conv after it.
    /// </summary>
    internal sealed partial class ModelEmitter
    {
        /// <summary>Above this fan-in a FactorizedConv's column lives on the heap rather than the stack.</summary>
        private const int StackColumnLimit = 4096;

        private void WriteFactorized(CodeWriter w, ArtifactLayer layer, string method, string x, string y)
        {
            var inT = _tensors[x];
            var outT = _tensors[y];
            int r = layer.GetInt("rank");
            int k = inT.Shape[inT.Shape.Count - 1], m = outT.Shape[outT.Shape.Count - 1], rows = inT.ElementCount / k;

            w.Line($"// W [{Int(m)}, {Int(k)}] ≈ A·B, rank {Int(r)}. Stage 1: t = B·(x − zx) exact in int32 per rank component, requantized");
            w.Line("// to z on one int16 scale; stage 2: acc = bias + A·z, requantized to the output grid. Factors stay bit-packed.");
            var indices = WriteFactorLocals(w, layer, method, x, y);
            w.Open($"for (int row = 0; row < {Int(rows)}; row++)");
            w.Line($"{ReadOnlySpan}<byte> input = x.Slice(row * {Int(k)}, {Int(k)});");
            WriteStages(w, layer, indices, k, m, j => $"(input[{j}] - {Int(inT.ZeroPoint)})", $"row * {Int(m)} + o", outT.ZeroPoint);
            w.Close();
        }

        private void WriteFactorizedConv(CodeWriter w, ArtifactLayer layer, string method, string x, string y)
        {
            var inT = _tensors[x];
            var outT = _tensors[y];
            int r = layer.GetInt("rank");
            int[] kernel = layer.GetInts("kernel"), strides = layer.GetInts("strides"), pads = layer.GetInts("pads"), dilations = layer.GetInts("dilations");
            int n = inT.Shape[0], c = inT.Shape[1], h = inT.Shape[2], width = inT.Shape[3];
            int m = outT.Shape[1], oh = outT.Shape[2], ow = outT.Shape[3], k = c * kernel[0] * kernel[1];

            w.Line($"// W [{Int(m)}, {Int(k)}] ≈ A·B, rank {Int(r)}: a {Int(kernel[0])}×{Int(kernel[1])} conv to {Int(r)} channels (B), then a 1×1 conv (A). Per output position,");
            w.Line("// stage 1: t = B·(column − zx) exact in int32, requantized to z on one int16 scale; stage 2: acc = bias + A·z,");
            w.Line("// requantized to the output grid. Factors stay bit-packed.");
            var indices = WriteFactorLocals(w, layer, method, x, y);
            w.Line(k <= StackColumnLimit
                ? $"{Span}<int> column = stackalloc int[{Int(k)}];"
                : $"{Span}<int> column = new int[{Int(k)}];");
            w.Open($"for (int n = 0; n < {Int(n)}; n++)");
            w.Open($"for (int oy = 0; oy < {Int(oh)}; oy++)");
            w.Open($"for (int ox = 0; ox < {Int(ow)}; ox++)");
            w.Line("// The position's im2col column, rows (channel, ky, kx), minus the zero point: taps outside the input read zx, so 0.");
            w.Open($"for (int ci = 0, j = 0; ci < {Int(c)}; ci++)");
            w.Open($"for (int ky = 0; ky < {Int(kernel[0])}; ky++)");
            w.Line($"int iy = oy * {Int(strides[0])} - {Int(pads[0])} + ky * {Int(dilations[0])};");
            w.Open($"for (int kx = 0; kx < {Int(kernel[1])}; kx++, j++)");
            w.Line($"int ix = ox * {Int(strides[1])} - {Int(pads[1])} + kx * {Int(dilations[1])};");
            w.Line($"column[j] = iy >= 0 && iy < {Int(h)} && ix >= 0 && ix < {Int(width)} ? x[((n * {Int(c)} + ci) * {Int(h)} + iy) * {Int(width)} + ix] - {Int(inT.ZeroPoint)} : 0;");
            w.Close();
            w.Close();
            w.Close();
            WriteStages(w, layer, indices, k, m, j => $"column[{j}]", $"((n * {Int(m)} + o) * {Int(oh)} + oy) * {Int(ow)} + ox", outT.ZeroPoint);
            w.Close();
            w.Close();
            w.Close();
        }

        /// <summary>The input, output, factor and requantization spans (negMultiplier/negShift and clampHigh when the layer has them) as locals; returns the index locals (null for a dense factor) of B and A.</summary>
        private (string? B, string? A) WriteFactorLocals(CodeWriter w, ArtifactLayer layer, string method, string x, string y)
        {
            var bValuesData = DataName(method, "BValues", layer.GetBlob("bValues"));
            var bIndicesData = layer.HasBlob("bIndices") ? DataName(method, "BIndices", layer.GetBlob("bIndices")) : null;
            var zMultiplier = DataName(method, "ZMultiplier", layer.GetBlob("zMultiplier"));
            var zShift = DataName(method, "ZShift", layer.GetBlob("zShift"));
            var aValuesData = DataName(method, "AValues", layer.GetBlob("aValues"));
            var aIndicesData = layer.HasBlob("aIndices") ? DataName(method, "AIndices", layer.GetBlob("aIndices")) : null;
            var bias = DataName(method, "Bias", layer.GetBlob("bias"));
            var multiplier = DataName(method, "Multiplier", layer.GetBlob("multiplier"));
            var shift = DataName(method, "Shift", layer.GetBlob("shift"));

            w.Line($"{ReadOnlySpan}<byte> x = {In(x)};");
            w.Line($"{Span}<byte> y = {Out(y)};");
            // The factors as locals: a packed blob's property re-slices its string literal on every read.
            w.Line($"{ReadOnlySpan}<byte> bValues = {bValuesData}, aValues = {aValuesData};");
            if (bIndicesData is not null) w.Line($"{ReadOnlySpan}<byte> bIndices = {bIndicesData};");
            if (aIndicesData is not null) w.Line($"{ReadOnlySpan}<byte> aIndices = {aIndicesData};");
            w.Line($"{ReadOnlySpan}<int> zMultiplier = {Ints(zMultiplier)}, zShift = {Ints(zShift)};");
            w.Line($"{ReadOnlySpan}<int> bias = {Ints(bias)}, multiplier = {Ints(multiplier)}, shift = {Ints(shift)};");
            if (layer.HasBlob("negMultiplier"))
            {
                var negMultiplier = DataName(method, "NegMultiplier", layer.GetBlob("negMultiplier"));
                var negShift = DataName(method, "NegShift", layer.GetBlob("negShift"));
                w.Line($"{ReadOnlySpan}<int> negMultiplier = {Ints(negMultiplier)}, negShift = {Ints(negShift)};");
            }
            if (layer.HasBlob("clampHigh"))
                w.Line($"{ReadOnlySpan}<int> clampHigh = {Ints(DataName(method, "ClampHigh", layer.GetBlob("clampHigh")))};");
            w.Line($"{Span}<int> z = stackalloc int[{Int(layer.GetInt("rank"))}];");
            return (bIndicesData is null ? null : "bIndices", aIndicesData is null ? null : "aIndices");
        }

        /// <summary>Both stages on one input vector: <paramref name="centred"/> gives x[j] − zx for an index expression, <paramref name="outIndex"/> y's index of output o.</summary>
        private static void WriteStages(CodeWriter w, ArtifactLayer layer, (string? B, string? A) indices, int k, int m, System.Func<string, string> centred, string outIndex, int zeroPoint)
        {
            int r = layer.GetInt("rank");
            int[] nonZeros = layer.GetInts("nonzeros"), bits = layer.GetInts("bits"), clamp = layer.GetInts("clamp");
            w.Open($"for (int c = 0, slot = 0; c < {Int(r)}; c++)");
            w.Line("int t = 0;");
            w.Open($"for (int s = 0; s < {Int(nonZeros[0])}; s++, slot++)");
            w.Line($"t += {Kernels}.FactorLevel(bValues, slot, {Int(bits[0])}) * {centred(Index(indices.B, k))};");
            w.Close();
            w.Line($"z[c] = {Kernels}.RequantizeIntermediate(t, zMultiplier[c], zShift[c]);");
            w.Close();
            w.Open($"for (int o = 0, slot = 0; o < {Int(m)}; o++)");
            w.Line("int acc = bias[o];");
            w.Open($"for (int s = 0; s < {Int(nonZeros[1])}; s++, slot++)");
            w.Line($"acc += {Kernels}.FactorLevel(aValues, slot, {Int(bits[1])}) * z[{Index(indices.A, r)}];");
            w.Close();
            string requantize = $"{Kernels}.Requantize(acc, multiplier[o], shift[o], {Int(zeroPoint)}, {Int(clamp[0])}, {Int(clamp[1])})";
            if (layer.HasBlob("negMultiplier"))
            {
                w.Line("// Fused LeakyRelu: acc is the pre-activation on a positive scale, so a negative one takes the slope's multiplier.");
                requantize = $"acc >= 0 ? {requantize} : {Kernels}.Requantize(acc, negMultiplier[o], negShift[o], {Int(zeroPoint)}, {Int(clamp[0])}, {Int(clamp[1])})";
            }
            if (layer.HasBlob("clampHigh"))
            {
                w.Line($"byte value = {requantize};");
                w.Line("// Equalized ReLU6: this channel clips at its own upper bound, at most hi.");
                w.Line($"y[{outIndex}] = value > clampHigh[o] ? (byte)clampHigh[o] : value;");
            }
            else w.Line($"y[{outIndex}] = {requantize};");
            w.Close();
        }

        /// <summary>The column of stored entry <c>slot</c> (s within its row): s itself for a dense factor, else one or two index bytes.</summary>
        private static string Index(string? indices, int cols) =>
            indices is null ? "s"
            : cols <= 256 ? $"{indices}[slot]"
            : $"({indices}[2 * slot] | {indices}[2 * slot + 1] << 8)";
    }
}
