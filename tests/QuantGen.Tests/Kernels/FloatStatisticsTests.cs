using QuantGen.Generated;
using Xunit.Abstractions;

namespace QuantGen.Tests.Kernels;

/// <summary>
/// The float kernels' statistics (QuantGenFloatKernels.Statistics.cs): ReduceMean, ReduceMax and LayerNorm's mean and
/// variance on lengths around the 8 lanes (1, 7, 8, 9, 63, 257), reduced over inner, outer, middle and several axes.
/// Each runs with the SIMD paths and with QuantGenKernels.SimdEnabled = false: the same bits. A mean equals an
/// independent implementation of the documented order (double lane sums of r ≡ l (mod 8), the tree, the tail) bit for
/// bit and the double mean in index order within one float ulp; a maximum equals the largest value exactly (+0 above
/// −0, NaN if any); LayerNorm is within one float ulp (plus 1e-12 absolute) of the double computation in index order.
/// </summary>
[Collection(nameof(KernelTests))]
public sealed class FloatStatisticsTests(ITestOutputHelper output)
{
    private static readonly int[] Lengths = [1, 7, 8, 9, 63, 257];

    [Fact]
    public void LayerNormIsTheSameWithAndWithoutSimdAndWithinOneUlpOfDouble()
    {
        var random = new Random(17);
        double worst = 0;
        foreach (int n in Lengths)
            foreach (int variant in new[] { 0, 1, 2 })
            {
                const int outer = 3;
                // Rows far from zero (offset 100) with a small spread: the variance needs its double sums.
                var x = Enumerable.Range(0, outer * n).Select(i => (float)((i / n == 1 ? 100 : 0) + random.NextDouble() * 4 - 2)).ToArray();
                float[] scale = variant switch { 0 => Random(random, n, 0.5, 1.5), 1 => [0.75f], _ => [] };
                float[] bias = variant switch { 0 => Random(random, n, -1, 1), 1 => [0.25f], _ => [] };
                var simd = Run(simd: true, y => QuantGenFloatKernels.LayerNorm(x, scale, bias, y, outer, n, 1e-5f), x.Length);
                var scalar = Run(simd: false, y => QuantGenFloatKernels.LayerNorm(x, scale, bias, y, outer, n, 1e-5f), x.Length);
                SameBits(simd, scalar, $"LayerNorm n {n} variant {variant}");
                for (int o = 0; o < outer; o++)
                {
                    double mean = 0, squares = 0;
                    for (int i = 0; i < n; i++) mean += x[o * n + i];
                    mean /= n;
                    for (int i = 0; i < n; i++) squares += (x[o * n + i] - mean) * (x[o * n + i] - mean);
                    double inverse = 1 / Math.Sqrt(squares / n + 1e-5);
                    for (int i = 0; i < n; i++)
                    {
                        double s = scale.Length == 0 ? 1 : scale[scale.Length == 1 ? 0 : i], b = bias.Length == 0 ? 0 : bias[bias.Length == 1 ? 0 : i];
                        double want = (x[o * n + i] - mean) * inverse * s + b;
                        float got = simd[o * n + i];
                        double ulp = MathF.BitIncrement(MathF.Abs((float)want)) - MathF.Abs((float)want);
                        Assert.True(Math.Abs(got - want) <= ulp + 1e-12, $"LayerNorm n {n} row {o} element {i}: {got:R}, double gives {want:R}");
                        worst = Math.Max(worst, Math.Abs(got - want) / ulp);
                    }
                }
            }
        output.WriteLine($"LayerNorm: largest error against double {worst:F2} ulp");
    }

    /// <summary>[outer, n] over n, [n, cols] over n, [3, n, 9] over n, [n, 2, 12] over n and 2, [2, n] over both.</summary>
    public static TheoryData<string, int[], int[]> Reductions()
    {
        var data = new TheoryData<string, int[], int[]>();
        foreach (int n in Lengths)
        {
            data.Add("inner", [3, n], [1]);
            data.Add("outer", [n, 11], [0]);
            data.Add("outer", [n, 16], [0]);
            data.Add("middle", [3, n, 9], [1]);
            data.Add("two outer", [n, 2, 12], [0, 1]);
            data.Add("all", [2, n], [0, 1]);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Reductions))]
    public void ReduceMeanSumsInTheFixedOrderWithAndWithoutSimd(string what, int[] shape, int[] axes)
    {
        var random = new Random(shape.Aggregate(19, (a, d) => a * 31 + d));
        var x = Random(random, shape.Aggregate(1, (a, d) => a * d), -4, 4);
        var (kept, keptStrides, reduced, reducedStrides, outputs) = Plan(shape, axes);
        var simd = Run(simd: true, y => QuantGenFloatKernels.Reduce(x, y, kept, keptStrides, reduced, reducedStrides, 1), outputs);
        var scalar = Run(simd: false, y => QuantGenFloatKernels.Reduce(x, y, kept, keptStrides, reduced, reducedStrides, 1), outputs);
        SameBits(simd, scalar, $"ReduceMean {what} [{string.Join(",", shape)}]");
        var groups = Groups(shape, axes);
        for (int o = 0; o < outputs; o++)
        {
            var values = groups[o].Select(i => x[i]).ToArray();
            // The documented order, written independently: double lanes r mod 8, the tree, the tail.
            var lanes = new double[8];
            int whole = values.Length - values.Length % 8;
            for (int r = 0; r < whole; r++) lanes[r % 8] += values[r];
            double sum = ((lanes[0] + lanes[4]) + (lanes[2] + lanes[6])) + ((lanes[1] + lanes[5]) + (lanes[3] + lanes[7]));
            for (int r = whole; r < values.Length; r++) sum += values[r];
            Assert.Equal(BitConverter.SingleToInt32Bits((float)(sum / values.Length)), BitConverter.SingleToInt32Bits(simd[o]));
            double mean = values.Sum(v => (double)v) / values.Length;
            double ulp = MathF.BitIncrement(MathF.Abs((float)mean)) - MathF.Abs((float)mean);
            Assert.True(Math.Abs(simd[o] - mean) <= ulp + 1e-12, $"output {o}: {simd[o]:R}, the double mean is {mean:R}");
        }
        output.WriteLine($"ReduceMean {what} [{string.Join(",", shape)}] over {string.Join(",", axes)}: {outputs} outputs, SIMD = scalar = the fixed order");
    }

    [Theory]
    [MemberData(nameof(Reductions))]
    public void ReduceMaxIsTheLargestValueWithAndWithoutSimd(string what, int[] shape, int[] axes)
    {
        var random = new Random(shape.Aggregate(23, (a, d) => a * 31 + d));
        var x = Random(random, shape.Aggregate(1, (a, d) => a * d), -4, 4);
        var groups = Groups(shape, axes);
        // Output 0 holds a NaN; the last output only zeros of both signs (−0 first): the maximum is +0.
        x[groups[0][groups[0].Length / 2]] = float.NaN;
        if (groups.Length > 1)
            for (int r = 0; r < groups[^1].Length; r++) x[groups[^1][r]] = r % 2 == 0 ? -0f : 0f;
        var (kept, keptStrides, reduced, reducedStrides, outputs) = Plan(shape, axes);
        var simd = Run(simd: true, y => QuantGenFloatKernels.Reduce(x, y, kept, keptStrides, reduced, reducedStrides, 0), outputs);
        var scalar = Run(simd: false, y => QuantGenFloatKernels.Reduce(x, y, kept, keptStrides, reduced, reducedStrides, 0), outputs);
        SameBits(simd, scalar, $"ReduceMax {what} [{string.Join(",", shape)}]");
        for (int o = 0; o < outputs; o++)
        {
            var values = groups[o].Select(i => x[i]).ToArray();
            float want = values.Any(float.IsNaN) ? float.NaN : values.Length > 1 && values.All(v => v == 0) ? (values.Any(v => !float.IsNegative(v)) ? 0f : -0f) : values.Max();
            Assert.True(BitConverter.SingleToInt32Bits(want) == BitConverter.SingleToInt32Bits(simd[o]) || float.IsNaN(want) && float.IsNaN(simd[o]), $"output {o}: {simd[o]:R}, want {want:R}");
        }
    }

    /// <summary>The Reduce arguments FloatKernelPlans builds: kept and reduced dims with their input strides, in order.</summary>
    private static (int[] Kept, int[] KeptStrides, int[] Reduced, int[] ReducedStrides, int Outputs) Plan(int[] shape, int[] axes)
    {
        var strides = new int[shape.Length];
        for (int d = shape.Length - 1, s = 1; d >= 0; d--)
        {
            strides[d] = s;
            s *= shape[d];
        }
        var kept = Enumerable.Range(0, shape.Length).Where(d => !axes.Contains(d)).ToArray();
        int[] k = kept.Length == 0 ? [1] : kept.Select(d => shape[d]).ToArray(), ks = kept.Length == 0 ? [0] : kept.Select(d => strides[d]).ToArray();
        return (k, ks, axes.Select(d => shape[d]).ToArray(), axes.Select(d => strides[d]).ToArray(), k.Aggregate(1, (a, d) => a * d));
    }

    /// <summary>For each output (row-major over the kept dims) the input indices it reduces, in increasing order.</summary>
    private static int[][] Groups(int[] shape, int[] axes)
    {
        int total = shape.Aggregate(1, (a, d) => a * d);
        var byOutput = new SortedDictionary<int, List<int>>();
        var index = new int[shape.Length];
        for (int i = 0; i < total; i++)
        {
            int o = 0;
            for (int d = 0; d < shape.Length; d++)
                if (!axes.Contains(d)) o = o * shape[d] + index[d];
            if (!byOutput.TryGetValue(o, out var list)) byOutput[o] = list = [];
            list.Add(i);
            for (int d = shape.Length - 1; d >= 0 && ++index[d] >= shape[d]; d--) index[d] = 0;
        }
        return byOutput.Values.Select(l => l.ToArray()).ToArray();
    }

    private static float[] Run(bool simd, Action<float[]> kernel, int length)
    {
        var y = new float[length];
        y.AsSpan().Fill(float.NaN);
        QuantGenKernels.SimdEnabled = simd;
        try
        {
            kernel(y);
        }
        finally
        {
            QuantGenKernels.SimdEnabled = true;
        }
        return y;
    }

    private static void SameBits(float[] simd, float[] scalar, string what)
    {
        for (int i = 0; i < simd.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(simd[i]) == BitConverter.SingleToInt32Bits(scalar[i]), $"{what}: element {i} is {simd[i]:R} with SIMD, {scalar[i]:R} without");
    }

    private static float[] Random(Random random, int n, double lo, double hi) => Enumerable.Range(0, n).Select(_ => (float)(lo + random.NextDouble() * (hi - lo))).ToArray();
}
