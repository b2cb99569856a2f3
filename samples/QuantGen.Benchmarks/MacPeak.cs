using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace QuantGen.Benchmarks;

/// <summary>
/// The machine's int8 multiply-accumulate peak on one core, per instruction-set level, measured rather than assumed:
/// independent chains of one exact u8 × s8 step over registers only, so that neither latency nor memory limits them.
/// The levels are the kernels' forms (docs/generator.md, "Without VNNI"): AVX-VNNI <c>vpdpbusd</c>; AVX2 SignSplit
/// (<c>vpsignb</c>, <c>vpmaddubsw</c>, <c>vpmaddwd</c>, add: exact for any weight but −128); AVX2 PairsFit
/// (<c>vpmaddubsw</c>, <c>vpmaddwd</c>, add: exact where pairs of weights fit); AVX2 int16 (<c>vpmaddwd</c>, add on
/// operands widened beforehand). The step's prepared activation (SignSplit's <c>vpabsb</c>) is shared by two weight
/// vectors, as in the conv kernels. <c>QuantGen.Benchmarks peak</c> prints GMAC/s; docs/benchmarks.md sets the models'
/// rates against it.
/// </summary>
internal static class MacPeak
{
    private const int Steps = 1 << 21;

    public static void Print()
    {
        if (AvxVnni.IsSupported) Report("AVX-VNNI vpdpbusd (256-bit)", 12 * 32, Vnni);
        else Console.WriteLine("AVX-VNNI: not supported on this CPU (or disabled by DOTNET_EnableAVXVNNI=0).");
        if (!Avx2.IsSupported)
        {
            Console.WriteLine("AVX2: not supported on this CPU: no x86 SIMD peak to measure.");
            return;
        }
        Report("AVX2 SignSplit (vpsignb + vpmaddubsw + vpmaddwd)", 8 * 32, SignSplit);
        Report("AVX2 PairsFit (vpmaddubsw + vpmaddwd)", 8 * 32, PairsFit);
        Report("AVX2 int16 (vpmaddwd on widened operands)", 8 * 16, Widened);
        if (!Avx512BW.IsSupported)
        {
            Console.WriteLine("AVX-512BW: not supported on this CPU (or disabled by DOTNET_EnableAVX512=0).");
            return;
        }
        Report("AVX-512BW SignSplit (masked negate + vpmaddubsw + vpmaddwd, 512-bit)", 8 * 64, SignSplit512);
        Report("AVX-512BW PairsFit (vpmaddubsw + vpmaddwd, 512-bit)", 8 * 64, PairsFit512);
        Report("AVX-512BW int16 (vpmaddwd on widened operands, 512-bit: ConvBlockAvx512)", 8 * 32, Widened512);
    }

    /// <summary>Best of 7 rounds of <paramref name="run"/>, <paramref name="macsPerStep"/> MACs per loop step.</summary>
    private static void Report(string level, int macsPerStep, Func<int, Vector256<int>> run)
    {
        GC.KeepAlive(run(Steps / 16));
        double best = 0;
        for (int round = 0; round < 7; round++)
        {
            var clock = Stopwatch.StartNew();
            var sink = run(Steps);
            double seconds = clock.Elapsed.TotalSeconds;
            best = Math.Max(best, (double)macsPerStep * Steps / seconds / 1e9);
            GC.KeepAlive(sink);
        }
        Console.WriteLine($"{level}, one core: {best:0.0} GMAC/s (best of 7 rounds of {Steps} steps)");
    }

    private static Vector256<int> Vnni(int steps)
    {
        var x = Vector256.Create((byte)3);
        var w = Vector256.Create((sbyte)-2);
        Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default;
        Vector256<int> a6 = default, a7 = default, a8 = default, a9 = default, a10 = default, a11 = default;
        for (int i = 0; i < steps; i++)
        {
            a0 = AvxVnni.MultiplyWideningAndAdd(a0, x, w);
            a1 = AvxVnni.MultiplyWideningAndAdd(a1, x, w);
            a2 = AvxVnni.MultiplyWideningAndAdd(a2, x, w);
            a3 = AvxVnni.MultiplyWideningAndAdd(a3, x, w);
            a4 = AvxVnni.MultiplyWideningAndAdd(a4, x, w);
            a5 = AvxVnni.MultiplyWideningAndAdd(a5, x, w);
            a6 = AvxVnni.MultiplyWideningAndAdd(a6, x, w);
            a7 = AvxVnni.MultiplyWideningAndAdd(a7, x, w);
            a8 = AvxVnni.MultiplyWideningAndAdd(a8, x, w);
            a9 = AvxVnni.MultiplyWideningAndAdd(a9, x, w);
            a10 = AvxVnni.MultiplyWideningAndAdd(a10, x, w);
            a11 = AvxVnni.MultiplyWideningAndAdd(a11, x, w);
        }
        return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
    }

    /// <summary>Four activations (xor 0x80 and vpabsb once each), two weight vectors: eight SignSplit steps per loop step.</summary>
    private static Vector256<int> SignSplit(int steps)
    {
        var x = Vector256.Create((byte)3);
        var w0 = Vector256.Create((sbyte)-2);
        var w1 = Vector256.Create((sbyte)5);
        var ones = Vector256.Create((short)1);
        var flip = Vector256.Create((byte)0x80);
        Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (int i = 0; i < steps; i++)
        {
            var s = Vector256.AsSByte(x ^ flip);
            var u = Avx2.Abs(s);
            a0 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, Avx2.Sign(w0, s)), ones);
            a1 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, Avx2.Sign(w1, s)), ones);
            s = Vector256.AsSByte((x + Vector256<byte>.One) ^ flip);
            u = Avx2.Abs(s);
            a2 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, Avx2.Sign(w0, s)), ones);
            a3 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, Avx2.Sign(w1, s)), ones);
            s = Vector256.AsSByte((x + Vector256<byte>.One + Vector256<byte>.One) ^ flip);
            u = Avx2.Abs(s);
            a4 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, Avx2.Sign(w0, s)), ones);
            a5 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, Avx2.Sign(w1, s)), ones);
            s = Vector256.AsSByte((x - Vector256<byte>.One) ^ flip);
            u = Avx2.Abs(s);
            a6 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, Avx2.Sign(w0, s)), ones);
            a7 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, Avx2.Sign(w1, s)), ones);
            x += Vector256<byte>.One;
        }
        return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
    }

    private static Vector256<int> PairsFit(int steps)
    {
        var x = Vector256.Create((byte)3);
        var w0 = Vector256.Create((sbyte)-2);
        var w1 = Vector256.Create((sbyte)5);
        var ones = Vector256.Create((short)1);
        Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (int i = 0; i < steps; i++)
        {
            a0 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x, w0), ones);
            a1 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x, w1), ones);
            a2 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x, w0 + w1), ones);
            a3 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x, w1 - w0), ones);
            a4 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x + x, w0), ones);
            a5 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x + x, w1), ones);
            a6 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x + x, w0 + w1), ones);
            a7 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x + x, w1 - w0), ones);
            x += Vector256<byte>.One;
        }
        return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
    }

    /// <summary>
    /// SignSplit in 512-bit vectors: AVX-512 has no vpsignb, so the weights are negated where the activation is negative
    /// (a compare into a mask register, then a masked vpsubb), once per weight vector and activation.
    /// </summary>
    private static Vector256<int> SignSplit512(int steps)
    {
        var x = Vector512.Create((byte)3);
        var w0 = Vector512.Create((sbyte)-2);
        var w1 = Vector512.Create((sbyte)5);
        var ones = Vector512.Create((short)1);
        var flip = Vector512.Create((byte)0x80);
        Vector512<int> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (int i = 0; i < steps; i++)
        {
            var s = Vector512.AsSByte(x ^ flip);
            var u = Avx512BW.Abs(s);
            var negative = Vector512.LessThan(s, Vector512<sbyte>.Zero);
            a0 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, Vector512.ConditionalSelect(negative, -w0, w0)), ones);
            a1 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, Vector512.ConditionalSelect(negative, -w1, w1)), ones);
            s = Vector512.AsSByte((x + Vector512<byte>.One) ^ flip);
            u = Avx512BW.Abs(s);
            negative = Vector512.LessThan(s, Vector512<sbyte>.Zero);
            a2 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, Vector512.ConditionalSelect(negative, -w0, w0)), ones);
            a3 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, Vector512.ConditionalSelect(negative, -w1, w1)), ones);
            s = Vector512.AsSByte((x + Vector512<byte>.One + Vector512<byte>.One) ^ flip);
            u = Avx512BW.Abs(s);
            negative = Vector512.LessThan(s, Vector512<sbyte>.Zero);
            a4 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, Vector512.ConditionalSelect(negative, -w0, w0)), ones);
            a5 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, Vector512.ConditionalSelect(negative, -w1, w1)), ones);
            s = Vector512.AsSByte((x - Vector512<byte>.One) ^ flip);
            u = Avx512BW.Abs(s);
            negative = Vector512.LessThan(s, Vector512<sbyte>.Zero);
            a6 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, Vector512.ConditionalSelect(negative, -w0, w0)), ones);
            a7 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, Vector512.ConditionalSelect(negative, -w1, w1)), ones);
            x += Vector512<byte>.One;
        }
        return Fold(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7);
    }

    private static Vector256<int> PairsFit512(int steps)
    {
        var x = Vector512.Create((byte)3);
        var w0 = Vector512.Create((sbyte)-2);
        var w1 = Vector512.Create((sbyte)5);
        var ones = Vector512.Create((short)1);
        Vector512<int> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (int i = 0; i < steps; i++)
        {
            a0 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, w0), ones);
            a1 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, w1), ones);
            a2 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, w0 + w1), ones);
            a3 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x, w1 - w0), ones);
            a4 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x + x, w0), ones);
            a5 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x + x, w1), ones);
            a6 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x + x, w0 + w1), ones);
            a7 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(x + x, w1 - w0), ones);
            x += Vector512<byte>.One;
        }
        return Fold(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7);
    }

    private static Vector256<int> Widened512(int steps)
    {
        var x = Vector512.Create((short)3);
        var w0 = Vector512.Create((short)-2);
        var w1 = Vector512.Create((short)5);
        Vector512<int> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (int i = 0; i < steps; i++)
        {
            var x1 = x + Vector512<short>.One;
            a0 += Avx512BW.MultiplyAddAdjacent(x, w0);
            a1 += Avx512BW.MultiplyAddAdjacent(x, w1);
            a2 += Avx512BW.MultiplyAddAdjacent(x1, w0);
            a3 += Avx512BW.MultiplyAddAdjacent(x1, w1);
            a4 += Avx512BW.MultiplyAddAdjacent(x + x, w0);
            a5 += Avx512BW.MultiplyAddAdjacent(x + x, w1);
            a6 += Avx512BW.MultiplyAddAdjacent(x1 + x1, w0);
            a7 += Avx512BW.MultiplyAddAdjacent(x1 + x1, w1);
            x += Vector512<short>.One;
        }
        return Fold(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7);
    }

    private static Vector256<int> Fold(Vector512<int> sum) => sum.GetLower() + sum.GetUpper();

    private static Vector256<int> Widened(int steps)
    {
        var x = Vector256.Create((short)3);
        var w0 = Vector256.Create((short)-2);
        var w1 = Vector256.Create((short)5);
        Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (int i = 0; i < steps; i++)
        {
            var x1 = x + Vector256<short>.One;
            a0 += Avx2.MultiplyAddAdjacent(x, w0);
            a1 += Avx2.MultiplyAddAdjacent(x, w1);
            a2 += Avx2.MultiplyAddAdjacent(x1, w0);
            a3 += Avx2.MultiplyAddAdjacent(x1, w1);
            a4 += Avx2.MultiplyAddAdjacent(x + x, w0);
            a5 += Avx2.MultiplyAddAdjacent(x + x, w1);
            a6 += Avx2.MultiplyAddAdjacent(x1 + x1, w0);
            a7 += Avx2.MultiplyAddAdjacent(x1 + x1, w1);
            x += Vector256<short>.One;
        }
        return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
    }
}
