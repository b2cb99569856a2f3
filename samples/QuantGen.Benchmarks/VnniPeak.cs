using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace QuantGen.Benchmarks;

/// <summary>
/// The machine's int8 multiply-accumulate peak on one core, measured rather than assumed: twelve independent chains of
/// 256-bit <c>vpdpbusd</c> (32 u8 × s8 MACs each) over registers only, so that neither latency nor memory limits them.
/// <c>QuantGen.Benchmarks peak</c> prints GMAC/s; docs/benchmarks.md sets the models' rates against it.
/// </summary>
internal static class VnniPeak
{
    public static void Print()
    {
        if (!AvxVnni.IsSupported)
        {
            Console.WriteLine("AVX-VNNI is not supported on this CPU: no peak to measure.");
            return;
        }
        const int Steps = 1 << 22;
        Run(Steps / 16);
        double best = 0;
        for (int round = 0; round < 7; round++)
        {
            var clock = Stopwatch.StartNew();
            var sink = Run(Steps);
            double seconds = clock.Elapsed.TotalSeconds;
            // 12 instructions per step, 32 MACs each.
            best = Math.Max(best, 12.0 * 32 * Steps / seconds / 1e9);
            GC.KeepAlive(sink);
        }
        Console.WriteLine($"AVX-VNNI vpdpbusd (256-bit), one core: {best:0.0} GMAC/s (best of 7 rounds of {Steps} steps × 12 instructions)");
    }

    private static Vector256<int> Run(int steps)
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
}
