using QuantGen.Core.Artifact;

namespace QuantGen.Generator
{
    /// <summary>
    /// FactorizedFullyConnected (docs/artifact.md): the two products of W ≈ A·B read the factors packed as stored, so W
    /// is never formed. The loops are specialised at build time (shapes, bit-widths, index widths, dense factors) and
    /// kept scalar: every value is one bit-field read and one multiply-add, which compilers without intrinsics
    /// (netstandard2.1, Unity) compile the same way.
    /// </summary>
    internal sealed partial class ModelEmitter
    {
        /// <summary>The int16 intermediate's symmetric bound (ArtifactBuilder.IntermediateLevel).</summary>
        private const int IntermediateLevel = 32767;

        private void WriteFactorized(CodeWriter w, ArtifactLayer layer, string method, string x, string y)
        {
            var inT = _tensors[x];
            var outT = _tensors[y];
            int r = layer.GetInt("rank");
            int[] nonZeros = layer.GetInts("nonzeros"), bits = layer.GetInts("bits"), clamp = layer.GetInts("clamp");
            int k = inT.Shape[inT.Shape.Count - 1], m = outT.Shape[outT.Shape.Count - 1], rows = inT.ElementCount / k;

            var bValuesData = DataName(method, "BValues", layer.GetBlob("bValues"));
            var bIndicesData = layer.HasBlob("bIndices") ? DataName(method, "BIndices", layer.GetBlob("bIndices")) : null;
            var zMultiplier = DataName(method, "ZMultiplier", layer.GetBlob("zMultiplier"));
            var zShift = DataName(method, "ZShift", layer.GetBlob("zShift"));
            var aValuesData = DataName(method, "AValues", layer.GetBlob("aValues"));
            var aIndicesData = layer.HasBlob("aIndices") ? DataName(method, "AIndices", layer.GetBlob("aIndices")) : null;
            var bias = DataName(method, "Bias", layer.GetBlob("bias"));
            var multiplier = DataName(method, "Multiplier", layer.GetBlob("multiplier"));
            var shift = DataName(method, "Shift", layer.GetBlob("shift"));

            w.Line($"// W [{Int(m)}, {Int(k)}] ≈ A·B, rank {Int(r)}. Stage 1: t = B·(x − zx) exact in int32 per rank component, requantized");
            w.Line("// to z on one int16 scale; stage 2: acc = bias + A·z, requantized to the output grid. Factors stay bit-packed.");
            w.Line($"{ReadOnlySpan}<byte> x = {In(x)};");
            w.Line($"{Span}<byte> y = {Out(y)};");
            // The factors as locals: a packed blob's property re-slices its string literal on every read.
            w.Line($"{ReadOnlySpan}<byte> bValues = {bValuesData}, aValues = {aValuesData};");
            if (bIndicesData is not null) w.Line($"{ReadOnlySpan}<byte> bIndices = {bIndicesData};");
            if (aIndicesData is not null) w.Line($"{ReadOnlySpan}<byte> aIndices = {aIndicesData};");
            w.Line($"{ReadOnlySpan}<int> zMultiplier = {Ints(zMultiplier)}, zShift = {Ints(zShift)};");
            w.Line($"{ReadOnlySpan}<int> bias = {Ints(bias)}, multiplier = {Ints(multiplier)}, shift = {Ints(shift)};");
            w.Line($"{Span}<int> z = stackalloc int[{Int(r)}];");
            w.Open($"for (int row = 0; row < {Int(rows)}; row++)");
            w.Line($"{ReadOnlySpan}<byte> input = x.Slice(row * {Int(k)}, {Int(k)});");
            w.Open($"for (int c = 0, slot = 0; c < {Int(r)}; c++)");
            w.Line("int t = 0;");
            w.Open($"for (int s = 0; s < {Int(nonZeros[0])}; s++, slot++)");
            w.Line($"t += Level(bValues, slot, {Int(bits[0])}) * (input[{Index(bIndicesData is null ? null : "bIndices", k)}] - {Int(inT.ZeroPoint)});");
            w.Close();
            w.Line("z[c] = RequantizeIntermediate(t, zMultiplier[c], zShift[c]);");
            w.Close();
            w.Open($"for (int o = 0, slot = 0; o < {Int(m)}; o++)");
            w.Line("int acc = bias[o];");
            w.Open($"for (int s = 0; s < {Int(nonZeros[1])}; s++, slot++)");
            w.Line($"acc += Level(aValues, slot, {Int(bits[1])}) * z[{Index(aIndicesData is null ? null : "aIndices", r)}];");
            w.Close();
            w.Line($"y[row * {Int(m)} + o] = {Kernels}.Requantize(acc, multiplier[o], shift[o], {Int(outT.ZeroPoint)}, {Int(clamp[0])}, {Int(clamp[1])});");
            w.Close();
            w.Close();
            w.Line();
            w.Line("// Field i of a stream of bits-bit two's-complement values, least significant bit first, sign-extended.");
            w.Open($"static int Level({ReadOnlySpan}<byte> packed, int i, int bits)");
            w.Line("int bit = i * bits, at = bit >> 3, offset = bit & 7;");
            w.Line("int word = offset + bits > 8 ? packed[at] | packed[at + 1] << 8 : packed[at];");
            w.Line("return (word >> offset << (32 - bits)) >> (32 - bits);");
            w.Close();
            w.Line();
            w.Line("// round(t · multiplier · 2^−shift), half toward +∞, clamped to the int16 intermediate's symmetric range.");
            w.Open("static int RequantizeIntermediate(int t, int multiplier, int shift)");
            w.Line("long v = (t * (long)multiplier + (1L << (shift - 1))) >> shift;");
            w.Line($"return v < -{Int(IntermediateLevel)} ? -{Int(IntermediateLevel)} : v > {Int(IntermediateLevel)} ? {Int(IntermediateLevel)} : (int)v;");
            w.Close();
        }

        /// <summary>The column of stored entry <c>slot</c> (s within its row): s itself for a dense factor, else one or two index bytes.</summary>
        private static string Index(string? indices, int cols) =>
            indices is null ? "s"
            : cols <= 256 ? $"{indices}[slot]"
            : $"({indices}[2 * slot] | {indices}[2 * slot + 1] << 8)";
    }
}
