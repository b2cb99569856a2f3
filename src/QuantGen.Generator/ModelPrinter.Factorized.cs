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
    internal sealed partial class ModelPrinter
    {
        /// <summary>Above this fan-in a FactorizedConv's column lives on the heap rather than the stack.</summary>
        private const int StackColumnLimit = 4096;

        private void WriteFactorized(FactorizedBody f)
        {
            var w = _w;
            int r = f.Rank, k = f.K, m = f.M;
            if (f.Conv is not { } g)
            {
                w.Line($"// W [{Int(m)}, {Int(k)}] ≈ A·B, rank {Int(r)}. Stage 1: t = B·(x − zx) exact in int32 per rank component, requantized");
                w.Line("// to z on one int16 scale; stage 2: acc = bias + A·z, requantized to the output grid. Factors stay bit-packed.");
                var rowIndices = WriteFactorLocals(f);
                w.Open($"for (int row = 0; row < {Int(f.Rows)}; row++)");
                w.Line($"{ReadOnlySpan}<byte> input = x.Slice(row * {Int(k)}, {Int(k)});");
                WriteStages(f, rowIndices, j => $"(input[{j}] - {Int(f.InputZero)})", $"row * {Int(m)} + o");
                w.Close();
                return;
            }

            w.Line($"// W [{Int(m)}, {Int(k)}] ≈ A·B, rank {Int(r)}: a {Int(g.KernelH)}×{Int(g.KernelW)} conv to {Int(r)} channels (B), then a 1×1 conv (A). Per output position,");
            w.Line("// stage 1: t = B·(column − zx) exact in int32, requantized to z on one int16 scale; stage 2: acc = bias + A·z,");
            w.Line("// requantized to the output grid. Factors stay bit-packed.");
            var indices = WriteFactorLocals(f);
            w.Line(k <= StackColumnLimit
                ? $"{Span}<int> column = stackalloc int[{Int(k)}];"
                : $"{Span}<int> column = new int[{Int(k)}];");
            w.Open($"for (int n = 0; n < {Int(g.N)}; n++)");
            w.Open($"for (int oy = 0; oy < {Int(g.OutH)}; oy++)");
            w.Open($"for (int ox = 0; ox < {Int(g.OutW)}; ox++)");
            w.Line("// The position's im2col column, rows (channel, ky, kx), minus the zero point: taps outside the input read zx, so 0.");
            w.Open($"for (int ci = 0, j = 0; ci < {Int(g.C)}; ci++)");
            w.Open($"for (int ky = 0; ky < {Int(g.KernelH)}; ky++)");
            w.Line($"int iy = oy * {Int(g.StrideH)} - {Int(g.PadTop)} + ky * {Int(g.DilationH)};");
            w.Open($"for (int kx = 0; kx < {Int(g.KernelW)}; kx++, j++)");
            w.Line($"int ix = ox * {Int(g.StrideW)} - {Int(g.PadLeft)} + kx * {Int(g.DilationW)};");
            w.Line($"column[j] = iy >= 0 && iy < {Int(g.H)} && ix >= 0 && ix < {Int(g.Width)} ? x[((n * {Int(g.C)} + ci) * {Int(g.H)} + iy) * {Int(g.Width)} + ix] - {Int(f.InputZero)} : 0;");
            w.Close();
            w.Close();
            w.Close();
            WriteStages(f, indices, j => $"column[{j}]", $"((n * {Int(m)} + o) * {Int(g.OutH)} + oy) * {Int(g.OutW)} + ox");
            w.Close();
            w.Close();
            w.Close();
        }

        /// <summary>The input, output, factor and requantization spans (negMultiplier/negShift and clampHigh when the layer has them) as locals; returns the index locals (null for a dense factor) of B and A.</summary>
        private (string? B, string? A) WriteFactorLocals(FactorizedBody f)
        {
            var w = _w;
            w.Line($"{ReadOnlySpan}<byte> x = {In(f.Input)};");
            w.Line($"{Span}<byte> y = {Out(f.Output)};");
            // The factors as locals: a packed blob's property re-slices its string literal on every read.
            w.Line($"{ReadOnlySpan}<byte> bValues = {f.BValues}, aValues = {f.AValues};");
            if (f.BIndices is { } bIndices) w.Line($"{ReadOnlySpan}<byte> bIndices = {bIndices};");
            if (f.AIndices is { } aIndices) w.Line($"{ReadOnlySpan}<byte> aIndices = {aIndices};");
            w.Line($"{ReadOnlySpan}<int> zMultiplier = {Ints(f.ZMultiplier)}, zShift = {Ints(f.ZShift)};");
            w.Line($"{ReadOnlySpan}<int> bias = {Ints(f.Bias)}, multiplier = {Ints(f.Multiplier)}, shift = {Ints(f.Shift)};");
            if (f.NegMultiplier is { } negMultiplier && f.NegShift is { } negShift)
                w.Line($"{ReadOnlySpan}<int> negMultiplier = {Ints(negMultiplier)}, negShift = {Ints(negShift)};");
            if (f.ClampHigh is { } high)
                w.Line($"{ReadOnlySpan}<int> clampHigh = {Ints(high)};");
            w.Line($"{Span}<int> z = stackalloc int[{Int(f.Rank)}];");
            return (f.BIndices is null ? null : "bIndices", f.AIndices is null ? null : "aIndices");
        }

        /// <summary>Both stages on one input vector: <paramref name="centred"/> gives x[j] − zx for an index expression, <paramref name="outIndex"/> y's index of output o.</summary>
        private void WriteStages(FactorizedBody f, (string? B, string? A) indices, System.Func<string, string> centred, string outIndex)
        {
            var w = _w;
            w.Open($"for (int c = 0, slot = 0; c < {Int(f.Rank)}; c++)");
            w.Line("int t = 0;");
            w.Open($"for (int s = 0; s < {Int(f.NonZerosB)}; s++, slot++)");
            w.Line($"t += {Kernels}.FactorLevel(bValues, slot, {Int(f.BitsB)}) * {centred(Index(indices.B, f.K))};");
            w.Close();
            w.Line($"z[c] = {Kernels}.RequantizeIntermediate(t, zMultiplier[c], zShift[c]);");
            w.Close();
            w.Open($"for (int o = 0, slot = 0; o < {Int(f.M)}; o++)");
            w.Line("int acc = bias[o];");
            w.Open($"for (int s = 0; s < {Int(f.NonZerosA)}; s++, slot++)");
            w.Line($"acc += {Kernels}.FactorLevel(aValues, slot, {Int(f.BitsA)}) * z[{Index(indices.A, f.Rank)}];");
            w.Close();
            string requantize = $"{Kernels}.Requantize(acc, multiplier[o], shift[o], {Int(f.OutputZero)}, {Int(f.Lo)}, {Int(f.Hi)})";
            if (f.NegMultiplier is not null)
            {
                w.Line("// Fused LeakyRelu: acc is the pre-activation on a positive scale, so a negative one takes the slope's multiplier.");
                requantize = $"acc >= 0 ? {requantize} : {Kernels}.Requantize(acc, negMultiplier[o], negShift[o], {Int(f.OutputZero)}, {Int(f.Lo)}, {Int(f.Hi)})";
            }
            if (f.ClampHigh is not null)
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
