using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;
using QuantGen.Generated;
using QuantGen.Tests.Quantization;
using Xunit.Abstractions;
using static QuantGen.Tests.Quantization.SyntheticModels;

namespace QuantGen.Tests.Kernels;

/// <summary>
/// The float kernels' own transcendental functions and fixed-order sums (QuantGenFloatKernels.Math.cs): Exp, Log,
/// Sigmoid and Tanh on dense sweeps of float32 bit patterns against Math's double functions rounded once (the
/// documented error bounds in ulps), the special values (NaN, ±∞, ±0, subnormals), the SIMD lanes against the scalar
/// function bit for bit (QuantGenKernels.SimdEnabled off), and Softmax/GlobalAveragePool/FixedSum's summation order
/// against an independent implementation of the documented order.
/// </summary>
[Collection(nameof(KernelTests))]
public sealed class FloatMathTests(ITestOutputHelper output)
{
    /// <summary>The documented bounds (docs/generator.md, "Float math"), in ulps of the correctly rounded result.</summary>
    private const double ExpUlps = 1, LogUlps = 1, SigmoidUlps = 2.5, TanhUlps = 1.5;

    [Fact]
    public void ExpIsWithinItsBoundOnADenseSweep()
    {
        var x = Sweep(-105f, 90f).Concat([-103.97f, -103.28f, -87.34f, -87.33f, 88.7228f, 88.72283f, 88.72284f, 88.7229f, 1e-8f, -1e-8f, 1e-40f, 0.3465736f, -0.3465736f]).ToArray();
        double worst = Check("Exp", x, 3, Math.Exp);
        Assert.True(worst <= ExpUlps, $"Exp: {worst:F3} ulp");
    }

    [Fact]
    public void LogIsWithinItsBoundOnADenseSweepIncludingSubnormals()
    {
        var x = new List<float>();
        for (long bits = 1; bits < 0x7F800000; bits += 1021) x.Add(BitConverter.Int32BitsToSingle((int)bits));
        for (int i = -3000; i <= 3000; i++) x.Add(1f + i * 1e-6f); // around 1, where log is small
        x.AddRange([float.Epsilon, 1.17549435e-38f, 1.1754942e-38f, float.MaxValue, 0.70710677f, 0.7071068f, 1.4142135f]);
        double worst = Check("Log", x.ToArray(), 4, Math.Log);
        Assert.True(worst <= LogUlps, $"Log: {worst:F3} ulp");
    }

    [Fact]
    public void SigmoidAndTanhAreWithinTheirBounds()
    {
        var x = Sweep(-30f, 30f).Concat([0.625f, 0.62500006f, 0.6249999f, -0.625f, 1e-30f, -1e-30f, 1e-40f, 9f, -9f, 100f, -100f]).ToArray();
        double sigmoid = Check("Sigmoid", x, 1, v => 1 / (1 + Math.Exp(-v)));
        double tanh = Check("Tanh", x, 2, Math.Tanh);
        Assert.True(sigmoid <= SigmoidUlps, $"Sigmoid: {sigmoid:F3} ulp");
        Assert.True(tanh <= TanhUlps, $"Tanh: {tanh:F3} ulp");
    }

    /// <summary>Special values: IEEE limits, not approximations, on the scalar function and in the SIMD lanes.</summary>
    [Fact]
    public void SpecialValuesGiveTheLimits()
    {
        float nan = float.NaN, inf = float.PositiveInfinity;
        (int Op, float X, float Y)[] cases =
        [
            (3, nan, nan), (3, inf, inf), (3, -inf, 0f), (3, 0f, 1f), (3, -0f, 1f), (3, 89f, inf), (3, -104f, 0f), (3, 1e-40f, 1f),
            (3, -100f, BitConverter.Int32BitsToSingle(27)), // a subnormal result: e^−100 = 26.55 · 2^−149, rounded to 27 · 2^−149
            (4, nan, nan), (4, -1f, nan), (4, -inf, nan), (4, -1e-40f, nan), (4, 0f, -inf), (4, -0f, -inf), (4, inf, inf), (4, 1f, 0f),
            (1, nan, nan), (1, inf, 1f), (1, -inf, 0f), (1, 0f, 0.5f), (1, -0f, 0.5f), (1, 200f, 1f), (1, -100f, BitConverter.Int32BitsToSingle(27)), // e^−100 / (1 + e^−100): subnormal, not 0
            (2, nan, nan), (2, inf, 1f), (2, -inf, -1f), (2, 0f, 0f), (2, -0f, -0f), (2, 1e-40f, 1e-40f), (2, -1e-40f, -1e-40f), (2, 20f, 1f), (2, -20f, -1f),
        ];
        foreach (var (op, x, want) in cases)
        {
            // 17 copies: two full vectors of 8 lanes and a scalar tail.
            var input = Enumerable.Repeat(x, 17).ToArray();
            var y = Run(op, input, simd: true);
            var scalar = Run(op, input, simd: false);
            for (int i = 0; i < y.Length; i++)
            {
                Assert.True(float.IsNaN(want) ? float.IsNaN(y[i]) && float.IsNaN(scalar[i])
                    : BitConverter.SingleToInt32Bits(y[i]) == BitConverter.SingleToInt32Bits(want) && BitConverter.SingleToInt32Bits(scalar[i]) == BitConverter.SingleToInt32Bits(want),
                    $"op {op} of {x:R}: {y[i]:R} (SIMD), {scalar[i]:R} (scalar), want {want:R}");
            }
        }
    }

    /// <summary>FixedSum's documented order, written out independently: 8 lanes over the whole blocks, the tree, the tail.</summary>
    [Fact]
    public void FixedSumFollowsTheDocumentedOrder()
    {
        var random = new Random(7);
        foreach (int n in new[] { 0, 1, 5, 8, 9, 16, 37, 64, 1000, 4099 })
            foreach (int stride in new[] { 1, 3 })
            {
                // Values of very different magnitudes, so a different order gives different bits.
                var v = Enumerable.Range(0, 2 + n * stride).Select(_ => (float)((random.NextDouble() - 0.3) * Math.Pow(10, random.Next(-4, 5)))).ToArray();
                var lanes = new float[8];
                int whole = n - n % 8;
                for (int i = 0; i < whole; i++) lanes[i % 8] += v[2 + i * stride];
                float want = ((lanes[0] + lanes[4]) + (lanes[2] + lanes[6])) + ((lanes[1] + lanes[5]) + (lanes[3] + lanes[7]));
                for (int i = whole; i < n; i++) want += v[2 + i * stride];
                foreach (bool simd in new[] { true, false })
                {
                    QuantGenKernels.SimdEnabled = simd;
                    try
                    {
                        float got = QuantGenFloatKernels.FixedSum(v, 2, n, stride);
                        Assert.True(BitConverter.SingleToInt32Bits(want) == BitConverter.SingleToInt32Bits(got), $"n {n}, stride {stride}, SIMD {simd}: {got:R}, the order gives {want:R}");
                    }
                    finally
                    {
                        QuantGenKernels.SimdEnabled = true;
                    }
                }
            }
    }

    /// <summary>
    /// Softmax along contiguous rows (n around and beyond the 8 lanes) and along a strided axis (inner below and above 8):
    /// SIMD and scalar bit-identical; against a double computation within 1e-5 relative (plus 1e-7 absolute); NaN and
    /// +∞ in a slice make the slice NaN, as the reference operator; x and y the same array.
    /// </summary>
    [Fact]
    public void SoftmaxIsBitIdenticalWithAndWithoutSimdAndCloseToDouble()
    {
        var random = new Random(11);
        double worst = 0;
        foreach (var (outer, n, inner) in new[] { (1, 1, 1), (3, 7, 1), (2, 8, 1), (2, 9, 1), (4, 37, 1), (1, 4096, 1), (2, 5, 3), (2, 17, 8), (3, 9, 11), (2, 33, 19), (1, 64, 64) })
        {
            var x = Enumerable.Range(0, outer * n * inner).Select(_ => (float)(random.NextDouble() * 24 - 12)).ToArray();
            if (outer > 2) x[n * inner + inner / 2] = float.NaN; // one slice of the second block
            if (outer > 3) x[3 * n * inner] = float.PositiveInfinity;
            var simd = new float[x.Length];
            var scalar = new float[x.Length];
            QuantGenFloatKernels.Softmax(x, simd, outer, n, inner);
            QuantGenKernels.SimdEnabled = false;
            try
            {
                QuantGenFloatKernels.Softmax(x, scalar, outer, n, inner);
            }
            finally
            {
                QuantGenKernels.SimdEnabled = true;
            }
            var inPlace = (float[])x.Clone();
            QuantGenFloatKernels.Softmax(inPlace, inPlace, outer, n, inner);
            for (int i = 0; i < x.Length; i++)
            {
                Assert.True(BitConverter.SingleToInt32Bits(simd[i]) == BitConverter.SingleToInt32Bits(scalar[i]), $"[{outer},{n},{inner}] element {i}: {simd[i]:R} (SIMD), {scalar[i]:R} (scalar)");
                Assert.True(BitConverter.SingleToInt32Bits(simd[i]) == BitConverter.SingleToInt32Bits(inPlace[i]), $"[{outer},{n},{inner}] element {i}: {inPlace[i]:R} in place");
            }
            for (int o = 0; o < outer; o++)
                for (int j = 0; j < inner; j++)
                {
                    int b = o * n * inner + j;
                    double max = double.NegativeInfinity, sum = 0;
                    for (int i = 0; i < n; i++) max = Math.Max(max, x[b + i * inner]);
                    for (int i = 0; i < n; i++) sum += Math.Exp(x[b + i * inner] - max);
                    for (int i = 0; i < n; i++)
                    {
                        double want = Math.Exp(x[b + i * inner] - max) / sum;
                        float got = simd[b + i * inner];
                        if (double.IsNaN(want))
                        {
                            Assert.True(float.IsNaN(got), $"[{outer},{n},{inner}] slice {o},{j}: {got:R}, want NaN");
                            continue;
                        }
                        Assert.True(Math.Abs(got - want) <= 1e-5 * want + 1e-7, $"[{outer},{n},{inner}] element {b + i * inner}: {got:R}, double gives {want:R}");
                        if (want > 1e-30) worst = Math.Max(worst, Math.Abs(got - want) / want);
                    }
                }
        }
        output.WriteLine($"Softmax: largest relative error against double {worst:E2}");
    }

    /// <summary>GlobalAveragePool: FixedSum of the plane over its size, SIMD and scalar alike, close to the double mean.</summary>
    [Fact]
    public void GlobalAveragePoolSumsInTheFixedOrder()
    {
        var random = new Random(13);
        foreach (int size in new[] { 1, 7, 8, 30, 49, 1000 })
        {
            var x = Enumerable.Range(0, 3 * size).Select(_ => (float)(random.NextDouble() * 6 - 3)).ToArray();
            var simd = new float[3];
            var scalar = new float[3];
            QuantGenFloatKernels.GlobalPool(x, simd, 3, size, 0);
            QuantGenKernels.SimdEnabled = false;
            try
            {
                QuantGenFloatKernels.GlobalPool(x, scalar, 3, size, 0);
            }
            finally
            {
                QuantGenKernels.SimdEnabled = true;
            }
            for (int p = 0; p < 3; p++)
            {
                var lanes = new float[8];
                int whole = size - size % 8;
                for (int i = 0; i < whole; i++) lanes[i % 8] += x[p * size + i];
                float sum = ((lanes[0] + lanes[4]) + (lanes[2] + lanes[6])) + ((lanes[1] + lanes[5]) + (lanes[3] + lanes[7]));
                for (int i = whole; i < size; i++) sum += x[p * size + i];
                Assert.Equal(BitConverter.SingleToInt32Bits(sum / size), BitConverter.SingleToInt32Bits(simd[p]));
                Assert.Equal(BitConverter.SingleToInt32Bits(sum / size), BitConverter.SingleToInt32Bits(scalar[p]));
                double mean = x.Skip(p * size).Take(size).Sum(v => (double)v) / size;
                Assert.True(Math.Abs(simd[p] - mean) <= 1e-6 * (1 + Math.Abs(mean)), $"size {size}: {simd[p]:R}, the mean is {mean:R}");
            }
        }
    }

    /// <summary>
    /// x [1,2,6,16] → Tanh (a quantized table: it reads the quantized input) → Exp (float) → Conv 3×3 → Softmax over the
    /// last axis (16 contiguous values) → Sigmoid → Log → Softmax over the channels (stride 96) → y [1,4,6,16]: Float
    /// layers with the kernels' own functions (FloatIslandTests runs its generated class against the simulator, bit for
    /// bit). A Tanh or Sigmoid reading a quantized tensor is a Lookup table, so the float Tanh is covered by the kernel
    /// tests (FloatKernelTests: the simulator's path equal to the kernel's bits) only.
    /// </summary>
    internal static Model TranscendentalIslands()
    {
        var g = new SyntheticModels(19);
        g.Node("Tanh", "squash", ["x"], "t")
            .Node("Exp", "grow", ["t"], "e")
            .Node("Conv", "conv", ["e", g.Weights("w", 4, 2, 3, 3)], "c", Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1))
            .Node("Softmax", "rows", ["c"], "r", Int("axis", -1))
            .Node("Sigmoid", "gate", ["r"], "s")
            .Node("Log", "log", ["s"], "l")
            .Node("Softmax", "channels", ["l"], "y", Int("axis", 1));
        return g.Build("transcendental", [1, 2, 6, 16], [1, 4, 6, 16]);
    }

    [Fact]
    public void TheTranscendentalModelRunsThoseOpsAsFloatLayers()
    {
        var artifact = ModelQuantizer.Quantize(TranscendentalIslands(), new QuantizationOptions(), new SyntheticModels(40).Calibration([1, 2, 6, 16], 32, -2, 2)).Artifact;
        var kinds = artifact.Layers.Select(l => l.Kind).ToList();
        output.WriteLine(string.Join(", ", kinds));
        foreach (var op in new[] { "Exp", "Softmax", "Sigmoid", "Log" }) Assert.Contains(FloatLayers.Prefix + op, kinds);
        Assert.Contains(LayerKinds.Conv, kinds);
    }

    /// <summary>Every float bit pattern from <paramref name="lo"/> to <paramref name="hi"/> at a step of 1021 patterns (about a million values each side of 0).</summary>
    private static IEnumerable<float> Sweep(float lo, float hi)
    {
        for (int bits = 0; bits <= BitConverter.SingleToInt32Bits(hi); bits += 1021) yield return BitConverter.Int32BitsToSingle(bits);
        for (int bits = 0; bits <= BitConverter.SingleToInt32Bits(-lo); bits += 1021) yield return -BitConverter.Int32BitsToSingle(bits);
    }

    /// <summary>Unary op on x with the SIMD paths on or off.</summary>
    private static float[] Run(int op, float[] x, bool simd)
    {
        var y = new float[x.Length];
        QuantGenKernels.SimdEnabled = simd;
        try
        {
            QuantGenFloatKernels.Unary(x, y, op, 0f, 0f);
        }
        finally
        {
            QuantGenKernels.SimdEnabled = true;
        }
        return y;
    }

    /// <summary>
    /// Runs Unary op on x with SIMD on and off (the same bits required), and returns the largest error in ulps of the
    /// kernel against the double function rounded to float (the ulp of the rounded value; 2^−149 among subnormals).
    /// </summary>
    private double Check(string name, float[] x, int op, Func<double, double> exact)
    {
        var simd = Run(op, x, simd: true);
        var scalar = Run(op, x, simd: false);
        double worst = 0;
        float at = 0;
        for (int i = 0; i < x.Length; i++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(simd[i]) == BitConverter.SingleToInt32Bits(scalar[i]), $"{name}({x[i]:R}): {simd[i]:R} (SIMD), {scalar[i]:R} (scalar)");
            double e = exact(x[i]);
            float rounded = (float)e;
            if (float.IsInfinity(rounded) || double.IsNaN(e))
            {
                Assert.True(simd[i].Equals(rounded), $"{name}({x[i]:R}): {simd[i]:R}, want {rounded:R}");
                continue;
            }
            float next = MathF.BitIncrement(Math.Abs(rounded));
            double ulp = float.IsInfinity(next) ? Math.Abs(rounded) - MathF.BitDecrement(Math.Abs(rounded)) : next - Math.Abs(rounded);
            double error = Math.Abs(simd[i] - e) / ulp;
            if (error > worst)
            {
                worst = error;
                at = x[i];
            }
        }
        output.WriteLine($"{name}: {x.Length} values, largest error {worst:F3} ulp at {at:R}");
        return worst;
    }
}
