using System.Text;
using Microsoft.CodeAnalysis.CSharp;
using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using QuantGen.Core.Quantization.Factorization;
using QuantGen.Tests.Generator;
using Xunit.Abstractions;

namespace QuantGen.Tests.Factorization;

/// <summary>
/// FactorizedFullyConnected on hand-built artifacts with random factors (dense and sparse, 2- to 8-bit, one- and
/// two-byte indices, several rows, with and without a fused LeakyRelu and per-channel upper bounds): the simulator
/// equals a direct integer evaluation of the stored factors, and the generated class (C# 9, with and without
/// System.Runtime.Intrinsics) equals the simulator bit for bit.
/// </summary>
public sealed class FactorizedKernelTests(ITestOutputHelper output)
{
    [Theory]
    //          rows   k    m   r   nB  nA  bB bA  fused activation
    [InlineData(1, 37, 45, 5, 37, 5, 8, 8, FusedActivation.None)]
    [InlineData(3, 300, 20, 7, 90, 3, 4, 3, FusedActivation.None)]
    [InlineData(2, 64, 9, 16, 10, 16, 2, 5, FusedActivation.None)]
    [InlineData(1, 784, 33, 12, 784, 6, 4, 4, FusedActivation.None)]
    [InlineData(2, 53, 19, 6, 53, 6, 3, 2, FusedActivation.ClampHigh)]
    [InlineData(3, 120, 14, 9, 40, 9, 2, 3, FusedActivation.Leaky)]
    [InlineData(2, 77, 23, 10, 77, 4, 3, 4, FusedActivation.LeakyAndClampHigh)]
    // One entry per row in a factor (the "plain b-bit" settings' thin factor): that stage runs elementwise.
    [InlineData(2, 24, 40, 24, 1, 24, 4, 4, FusedActivation.None)]
    [InlineData(3, 96, 20, 20, 96, 1, 3, 4, FusedActivation.ClampHigh)]
    [InlineData(1, 50, 30, 12, 1, 1, 4, 2, FusedActivation.Leaky)]
    public void SimulatorAndGeneratedCodeComputeTheStoredFactorsExactly(int rows, int k, int m, int r, int nB, int nA, int bB, int bA, FusedActivation activation)
    {
        var random = new Random(k * 31 + m * 7 + r);
        var (bLevels, bColumns) = RandomFactor(random, r, k, nB, bB);
        var (aLevels, aColumns) = RandomFactor(random, m, r, nA, bA);
        int zx = random.Next(0, 256), zy = random.Next(0, 256), lo = random.Next(0, 20), hi = random.Next(235, 256);
        // Shifts that spread z over a good part of int16 and y over the u8 grid, so neither is only its clamp bounds.
        int zShiftBase = 31 + (int)Math.Round(Math.Log2(Math.Sqrt(nB) * (1 << (bB - 1)) * 128 / 4000.0));
        int shiftBase = 31 + (int)Math.Round(Math.Log2(Math.Sqrt(nA) * (1 << (bA - 1)) * 4000 / 64.0));
        int[] Random(int count, int min, int max) => Enumerable.Range(0, count).Select(_ => random.Next(min, max)).ToArray();
        var zMult = Random(r, 1 << 30, int.MaxValue);
        var zShift = Random(r, zShiftBase - 1, zShiftBase + 2);
        var bias = Random(m, -20000, 20000);
        var mult = Random(m, 1 << 30, int.MaxValue);
        var shift = Random(m, shiftBase - 1, shiftBase + 2);
        var fused = FusedOutput.Random(random, activation, m, shift, zy, lo, hi);

        string Bytes(int[] values) => Convert.ToBase64String(values.Select(v => (byte)v).ToArray());
        string Ints(int[] values) => Convert.ToBase64String(values.SelectMany(BitConverter.GetBytes).ToArray());
        var layer = new StringBuilder("layer FactorizedFullyConnected fc\nin x_q\nout y_q\n")
            .Append($"ints rank {r}\nints nonzeros {nB} {nA}\nints bits {bB} {bA}\nints clamp {lo} {hi}\n");
        var bValues = FactorStorage.PackValues(bLevels, bB);
        layer.Append($"blob bValues u8 {bValues.Length} {Bytes(bValues)}\n");
        if (nB < k) layer.Append($"blob bIndices u8 {FactorStorage.PackIndices(bColumns, k).Length} {Bytes(FactorStorage.PackIndices(bColumns, k))}\n");
        layer.Append($"blob zMultiplier i32 {r} {Ints(zMult)}\nblob zShift i32 {r} {Ints(zShift)}\n");
        var aValues = FactorStorage.PackValues(aLevels, bA);
        layer.Append($"blob aValues u8 {aValues.Length} {Bytes(aValues)}\n");
        if (nA < r) layer.Append($"blob aIndices u8 {FactorStorage.PackIndices(aColumns, r).Length} {Bytes(FactorStorage.PackIndices(aColumns, r))}\n");
        layer.Append($"blob bias i32 {m} {Ints(bias)}\nblob multiplier i32 {m} {Ints(mult)}\nblob shift i32 {m} {Ints(shift)}\n").Append(fused.Blobs()).Append("end\n");
        var text = "quantgen-artifact 1\nmodel factorized\nmeta source Models/factorized.onnx\n"
            + $"tensor x f32 {rows},{k} 1 0 0 0\ntensor x_q u8 {rows},{k} 0.015625 {zx} 0 255\n"
            + $"tensor y_q u8 {rows},{m} 0.0625 {zy} 0 255\ntensor y f32 {rows},{m} 1 0 0 0\n"
            + "input x x\noutput y y\nlayer Quantize q\nin x\nout x_q\nend\n" + layer + "layer Dequantize d\nin y_q\nout y\nend\n";
        var artifact = ArtifactText.Read(text);
        var simulator = new IntegerSimulator(artifact);

        var path = "/project/obj/quantgen/factorized.qgart";
        var runs = new List<Func<float[], float[]>>();
        foreach (bool intrinsics in new[] { true, false })
        {
            var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, text)], GeneratedCodeTests.Options(path, "Model"), LanguageVersion.CSharp9);
            var compilation = GeneratorHarness.Compilation(Probe, LanguageVersion.CSharp9, intrinsics);
            driver.RunGeneratorsAndUpdateCompilation(compilation, out var generated, out _);
            var problems = generated.GetDiagnostics().Where(d => d.Severity >= Microsoft.CodeAnalysis.DiagnosticSeverity.Warning).ToList();
            Assert.True(problems.Count == 0, string.Join("\n", problems));
            // A factor with one entry per row is passed as entries, and its stage runs elementwise.
            AssertFactorForms(generated, nB == 1, nA == 1);
            var (assembly, _) = GeneratorHarness.Build(compilation, driver);
            runs.Add(assembly.GetType("Probe")!.GetMethod("Run")!.CreateDelegate<Func<float[], float[]>>());
        }

        int distinct = 0;
        for (int trial = 0; trial < 20; trial++)
        {
            var q = Random(rows * k, 0, 256);
            var x = q.Select(v => (v - zx) / 64f).ToArray();
            var expected = simulator.Run(new Dictionary<string, float[]> { ["x"] = x })["y"];
            // The reference: the stored factors as dense integer matrices, evaluated directly.
            var direct = new float[rows * m];
            for (int row = 0; row < rows; row++)
            {
                var z = new int[r];
                for (int c = 0; c < r; c++)
                {
                    int t = 0;
                    for (int s = 0; s < nB; s++) t += bLevels[c * nB + s] * (q[row * k + bColumns[c * nB + s]] - zx);
                    z[c] = FusedOutput.Scaled(t, zMult[c], zShift[c], 0, -32767, 32767);
                }
                for (int o = 0; o < m; o++)
                {
                    long acc = bias[o];
                    for (int s = 0; s < nA; s++) acc += aLevels[o * nA + s] * z[aColumns[o * nA + s]];
                    direct[row * m + o] = 0.0625f * (fused.Requantize(acc, o, mult, shift, zy, lo, hi) - zy);
                }
            }
            Assert.Equal(direct, expected);
            foreach (var run in runs) Assert.Equal(expected, run(x));
            distinct = Math.Max(distinct, expected.Distinct().Count());
        }
        Assert.True(distinct > Math.Min(8, rows * m / 2), $"only {distinct} distinct outputs");
        fused.AssertExercised();
        output.WriteLine($"[{rows},{k}] → [{rows},{m}], rank {r}, {activation}: simulator = direct evaluation = generated (C# 9, SIMD and scalar builds), {distinct} distinct outputs");
    }

    public enum FusedActivation { None, ClampHigh, Leaky, LeakyAndClampHigh }

    /// <summary>
    /// A random fused activation for the output stage, and its reference: LeakyRelu as negMultiplier/negShift (a slope
    /// of about 1/4 to 1/16) for negative accumulators, per-channel upper bounds clampHigh in [lo, hi]. Counts how
    /// often each took effect, so a case cannot pass without exercising what it names.
    /// </summary>
    internal sealed class FusedOutput
    {
        private int[]? _negMult, _negShift, _high;
        private int _negatives, _clipped;

        public static FusedOutput Random(Random random, FusedActivation activation, int m, int[] shift, int zy, int lo, int hi)
        {
            var fused = new FusedOutput();
            if (activation is FusedActivation.Leaky or FusedActivation.LeakyAndClampHigh)
            {
                fused._negMult = Enumerable.Range(0, m).Select(_ => random.Next(1 << 30, int.MaxValue)).ToArray();
                fused._negShift = shift.Select(s => s + random.Next(2, 5)).ToArray();
            }
            if (activation is FusedActivation.ClampHigh or FusedActivation.LeakyAndClampHigh)
            {
                // Bounds between the zero point (real 0) and halfway up to hi, as equalized ReLU6 bounds are; one channel
                // at hi itself (the layer's clamp).
                int low = Math.Clamp(zy, lo, hi);
                fused._high = Enumerable.Range(0, m).Select(o => o == 0 ? hi : random.Next(low, (low + hi) / 2 + 1)).ToArray();
            }
            return fused;
        }

        public string Blobs()
        {
            string Ints(int[] values) => Convert.ToBase64String(values.SelectMany(BitConverter.GetBytes).ToArray());
            var text = new StringBuilder();
            if (_negMult is not null) text.Append($"blob negMultiplier i32 {_negMult.Length} {Ints(_negMult)}\nblob negShift i32 {_negShift!.Length} {Ints(_negShift)}\n");
            if (_high is not null) text.Append($"blob clampHigh i32 {_high.Length} {Ints(_high)}\n");
            return text.ToString();
        }

        /// <summary>
        /// RequantizeScaled as docs/artifact.md writes it: the scale multiplier · 2^−shift rounded once to float32, the
        /// accumulator as float32, one float32 product, clamped to [lo − zero, hi − zero], rounded half to even.
        /// </summary>
        public static int Scaled(long acc, int multiplier, int shift, int zero, int lo, int hi)
        {
            float scale = (float)(multiplier * Math.Pow(2, -shift));
            float v = (float)((float)acc * scale);
            v = Math.Clamp(v, lo - zero, hi - zero);
            return (int)Math.Round(v, MidpointRounding.ToEven) + zero;
        }

        /// <summary>The output index from the int32 accumulator, written from docs/artifact.md.</summary>
        public int Requantize(long acc, int o, int[] mult, int[] shift, int zy, int lo, int hi)
        {
            bool negative = acc < 0 && _negMult is not null;
            if (negative) _negatives++;
            int multiplier = negative ? _negMult![o] : mult[o], s = negative ? _negShift![o] : shift[o];
            int y = Scaled(acc, multiplier, s, zy, lo, hi);
            if (_high is not null && y > _high[o]) { _clipped++; y = _high[o]; }
            return y;
        }

        public void AssertExercised()
        {
            if (_negMult is not null) Assert.True(_negatives > 0, "no negative accumulator: the LeakyRelu slope was never used");
            if (_high is not null) Assert.True(_clipped > 0, "no output above its channel's clampHigh");
        }
    }

    /// <summary>Random levels on the b-bit grid, nonZeros distinct ascending columns per row.</summary>
    internal static void AssertFactorForms(Microsoft.CodeAnalysis.Compilation generated, bool bEntries, bool aEntries)
    {
        var model = string.Concat(generated.SyntaxTrees.Select(tree => tree.ToString()).Where(text => text.Contains("class Model", StringComparison.Ordinal)));
        Assert.Equal(bEntries, model.Contains("BEntries = ", StringComparison.Ordinal));
        Assert.Equal(aEntries, model.Contains("AEntries = ", StringComparison.Ordinal));
    }

    internal static (int[] Levels, int[] Columns) RandomFactor(Random random, int rows, int cols, int nonZeros, int bits)
    {
        int level = (1 << (bits - 1)) - 1;
        var levels = new int[rows * nonZeros];
        var columns = new int[rows * nonZeros];
        for (int row = 0; row < rows; row++)
        {
            var picked = Enumerable.Range(0, cols).OrderBy(_ => random.Next()).Take(nonZeros).Order().ToArray();
            for (int s = 0; s < nonZeros; s++)
            {
                columns[row * nonZeros + s] = picked[s];
                levels[row * nonZeros + s] = random.Next(-level, level + 1);
            }
        }
        return (levels, columns);
    }

    internal const string Probe = """
        public static class Probe
        {
            private static readonly Demo.Models.Model Model = new Demo.Models.Model();

            public static float[] Run(float[] input)
            {
                var output = new float[Demo.Models.Model.OutputLength];
                Model.Run(input, output);
                return output;
            }
        }
        """;
}
