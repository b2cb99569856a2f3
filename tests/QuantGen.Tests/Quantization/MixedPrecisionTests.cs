using System.Text.RegularExpressions;
using QuantGen.Core;
using QuantGen.Core.Artifact;
using QuantGen.Core.IO;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;
using QuantGen.Core.Quantization.MixedPrecision;
using QuantGen.Onnx;
using QuantGen.Tests.RealModels;
using Xunit.Abstractions;

namespace QuantGen.Tests.Quantization;

/// <summary>
/// HAWQ-V2 mixed precision (issue 21): the Pareto dynamic program against brute-force enumeration, Hutchinson's trace
/// against exact traces, the budget options' parsing, the budget on a real model (infeasible budgets, determinism), and
/// the sensitivity ranking against a per-layer brute-force measurement on the Fashion CNN.
/// </summary>
public sealed partial class MixedPrecisionTests(ITestOutputHelper output)
{
    private static readonly Lazy<CalibrationSet> Calibration = new(() => new CalibrationSet(new Dictionary<string, Tensor>
    {
        ["image"] = Npy.Read(Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy")),
    }));

    [Fact]
    public void TheDynamicProgramFindsTheExactParetoFrontierOfSmallRandomInstances()
    {
        for (int seed = 0; seed < 60; seed++)
        {
            var random = new Random(seed);
            int layers = 1 + seed % 6;
            var instance = new List<IReadOnlyList<LayerChoice>>();
            for (int l = 0; l < layers; l++)
            {
                int parameters = random.Next(1, 400), scales = random.Next(1, 9);
                // Realistic choices (falling sensitivity with width) and, every third seed, arbitrary ones.
                double baseline = random.NextDouble() * 10;
                instance.Add(new[] { 2, 3, 4, 8 }.Select(b => new LayerChoice((parameters * b + 7) / 8 + 4 * scales,
                    seed % 3 == 0 ? random.NextDouble() : baseline * Math.Pow(4, -b) * (0.5 + random.NextDouble()))).ToList());
            }
            var frontier = ParetoFrontier.Solve(instance);

            var all = new List<(long Cost, double Sensitivity)>();
            Enumerate(instance, 0, 0, 0, all);
            var expected = new List<(long Cost, double Sensitivity)>();
            foreach (var p in all.OrderBy(p => p.Cost).ThenBy(p => p.Sensitivity))
                if (expected.Count == 0 || p.Sensitivity < expected[^1].Sensitivity) expected.Add(p);

            Assert.Equal(expected.Count, frontier.Count);
            for (int i = 0; i < expected.Count; i++)
            {
                Assert.Equal(expected[i].Cost, frontier[i].Cost);
                Assert.Equal(expected[i].Sensitivity, frontier[i].Sensitivity, 1e-12);
                // The recorded choices reproduce the point.
                Assert.Equal(frontier[i].Cost, frontier[i].Choices.Select((c, l) => instance[l][c].Cost).Sum());
                Assert.Equal(frontier[i].Sensitivity, frontier[i].Choices.Select((c, l) => instance[l][c].Sensitivity).Sum(), 1e-12);
            }
            for (int trial = 0; trial < 5; trial++)
            {
                long budget = random.Next((int)all.Min(p => p.Cost) - 5, (int)all.Max(p => p.Cost) + 5);
                var feasible = all.Where(p => p.Cost <= budget).ToList();
                var chosen = ParetoFrontier.Select(frontier, budget);
                if (feasible.Count == 0) Assert.Null(chosen);
                else Assert.Equal(feasible.Min(p => p.Sensitivity), chosen!.Sensitivity, 1e-12);
            }
        }
    }

    private static void Enumerate(List<IReadOnlyList<LayerChoice>> instance, int layer, long cost, double sensitivity, List<(long, double)> all)
    {
        if (layer == instance.Count)
        {
            all.Add((cost, sensitivity));
            return;
        }
        foreach (var c in instance[layer]) Enumerate(instance, layer + 1, cost + c.Cost, sensitivity + c.Sensitivity, all);
    }

    [Fact]
    public void HutchinsonMatchesTheExactGaussNewtonTraceOfALinearModel()
    {
        // f(W; x) = A · (W x), W 3×4, A 2×3: J_s v = A V x_s, so tr(J_sᵀJ_s) = ‖A‖_F² ‖x_s‖².
        var random = new Random(7);
        float[] w = Enumerable.Range(0, 12).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        float[] a = Enumerable.Range(0, 6).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var xs = Enumerable.Range(0, 5).Select(_ => Enumerable.Range(0, 4).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToArray();
        float[] Forward(float[] weights, int s)
        {
            var hidden = new float[3];
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 4; j++) hidden[i] += weights[i * 4 + j] * xs[s][j];
            var y = new float[2];
            for (int o = 0; o < 2; o++)
                for (int i = 0; i < 3; i++) y[o] += a[o * 3 + i] * hidden[i];
            return y;
        }
        double frobenius = a.Sum(v => (double)v * v);
        double exact = xs.Average(x => x.Sum(v => (double)v * v)) * frobenius;

        double estimate = HutchinsonTrace.Estimate(w, xs.Length, Forward, vectors: 4000, seed: 1, relativeStep: 1e-3);
        Assert.InRange(estimate / exact, 0.97, 1.03);
    }

    [Fact]
    public void HutchinsonIsExactWhenJTransposeJIsDiagonal()
    {
        // One layer f = W x with one-hot x = e_j: J v = column j of V, ‖J v‖² = rows for every Rademacher v, so any
        // number of vectors gives the trace (5 rows) up to the finite difference's rounding.
        float[] w = [0.3f, -0.2f, 0.5f, 0.1f, -0.7f, 0.4f, 0.2f, 0.9f, -0.1f, 0.6f];   // 5×2
        float[][] xs = [[1, 0], [0, 1]];
        float[] Forward(float[] weights, int s) => Enumerable.Range(0, 5).Select(i => weights[i * 2] * xs[s][0] + weights[i * 2 + 1] * xs[s][1]).ToArray();
        double estimate = HutchinsonTrace.Estimate(w, 2, Forward, vectors: 3, seed: 3, relativeStep: 1e-3);
        Assert.Equal(5.0, estimate, 0.01);
    }

    [Theory]
    [InlineData("48KB", 49152)]
    [InlineData("48 kb", 49152)]
    [InlineData("1.5MB", 1572864)]
    [InlineData("2KiB", 2048)]
    [InlineData("100", 100)]
    [InlineData("100B", 100)]
    public void SizeBudgetParses(string text, long bytes) => Assert.Equal(bytes, QuantizationOptions.ParseSizeBudget(text));

    [Theory]
    [InlineData("48GB")]
    [InlineData("KB")]
    [InlineData("-5KB")]
    [InlineData("0")]
    [InlineData("4,5KB")]
    [InlineData("1e3")]
    [InlineData("99999999999999KB")]
    public void BadSizeBudgetIsQG0091(string text) =>
        Assert.Equal(ErrorCodes.BadWeightBudget, Assert.Throws<ModelException>(() => QuantizationOptions.ParseSizeBudget(text)).Code);

    [Theory]
    [InlineData("1.9")]
    [InlineData("8.5")]
    [InlineData("four")]
    [InlineData("NaN")]
    public void BadAverageWeightBitsIsQG0091(string text) =>
        Assert.Equal(ErrorCodes.BadWeightBudget, Assert.Throws<ModelException>(() => QuantizationOptions.ParseAverageWeightBits(text)).Code);

    [Fact]
    public void BothBudgetsOrABadPinAreQG0091()
    {
        Assert.Equal(ErrorCodes.BadWeightBudget, Assert.Throws<ModelException>(() => new QuantizationOptions { SizeBudget = 1000, AverageWeightBits = 4 }.Validate()).Code);
        Assert.Equal(ErrorCodes.BadWeightBudget, Assert.Throws<ModelException>(() => new QuantizationOptions { FirstLayerWeightBits = 9 }.Validate()).Code);
        Assert.Equal(ErrorCodes.BadWeightBudget, Assert.Throws<ModelException>(() => QuantizationOptions.ParseLayerBits("LastLayerWeightBits", "1")).Code);
        Assert.Equal(4.5, QuantizationOptions.ParseAverageWeightBits("4.5"));
    }

    [Fact]
    public void ABudgetWithoutCalibrationDataIsQG0092()
    {
        var model = OnnxModelLoader.Load(RealModelPaths.Fashion("fashion_cnn"));
        var options = new QuantizationOptions { AverageWeightBits = 4, InputStatistics = InputStatistics.Parse("0,1", null, null) };
        var e = Assert.Throws<ModelException>(() => ModelQuantizer.Quantize(model, options, null));
        Assert.Equal(ErrorCodes.MixedPrecisionUnavailable, e.Code);
    }

    [Fact]
    public void PinnedFirstAndLastLayersKeepTheirWidthInAUniformBuild()
    {
        var model = OnnxModelLoader.Load(RealModelPaths.Fashion("fashion_cnn"));
        var options = new QuantizationOptions { WeightBits = 4, FirstLayerWeightBits = 8, LastLayerWeightBits = 8, InputStatistics = InputStatistics.Parse("0,1", null, null) };
        var result = ModelQuantizer.Quantize(model, options, null);
        var widths = Regex.Matches(result.ReportMarkdown, @"^\| [^|]+ \| (?:Conv|FullyConnected) \| [^|]+ \| (\d) \|", RegexOptions.Multiline).Select(m => int.Parse(m.Groups[1].Value)).ToList();
        Assert.True(widths.Count >= 3, result.ReportMarkdown);
        Assert.Equal(8, widths[0]);
        Assert.Equal(8, widths[^1]);
        Assert.All(widths.Skip(1).SkipLast(1), b => Assert.Equal(4, b));
        Assert.StartsWith("mixed 4-8", result.Artifact.GetMetadata("weightBits"));
    }

    [Fact]
    public void AnInfeasibleSizeBudgetIsQG0090WithTheSmallestFeasibleSize()
    {
        var model = OnnxModelLoader.Load(RealModelPaths.Fashion("fashion_cnn"));
        var options = new QuantizationOptions { SizeBudget = 100, Algorithms = QuantizationAlgorithms.None };
        var e = Assert.Throws<ModelException>(() => ModelQuantizer.Quantize(model, options, Calibration.Value));
        Assert.Equal(ErrorCodes.WeightBudgetInfeasible, e.Code);
        long smallest = long.Parse(Regex.Match(e.Message, @"smallest feasible weight size is (\d+) bytes").Groups[1].Value);
        output.WriteLine(e.Message);

        // The size it names is feasible, and one byte less is not.
        var result = ModelQuantizer.Quantize(model, options with { SizeBudget = smallest }, Calibration.Value);
        Assert.Contains($"{smallest} weight bytes", result.Summary);
        Assert.Equal(ErrorCodes.WeightBudgetInfeasible,
            Assert.Throws<ModelException>(() => ModelQuantizer.Quantize(model, options with { SizeBudget = smallest - 1 }, Calibration.Value)).Code);
    }

    [Fact]
    public void AMixedBuildIsDeterministicAndReportsItsFrontier()
    {
        var model = OnnxModelLoader.Load(RealModelPaths.Fashion("fashion_cnn"));
        var options = new QuantizationOptions { AverageWeightBits = 4, AdaRoundIterations = 50 };
        var first = ModelQuantizer.Quantize(model, options, Calibration.Value);
        var second = ModelQuantizer.Quantize(model, options, Calibration.Value);
        Assert.Equal(ArtifactText.Write(first.Artifact), ArtifactText.Write(second.Artifact));
        output.WriteLine(first.Summary);
        output.WriteLine(first.ReportMarkdown[first.ReportMarkdown.IndexOf("## Mixed precision", StringComparison.Ordinal)..]);
        Assert.Contains("**chosen**", first.ReportMarkdown);
        Assert.Contains("| loss (output MSE) |", first.ReportMarkdown);
        Assert.Contains("<h2>Mixed precision (HAWQ-V2)</h2>", first.ReportHtml);
        Assert.Contains("adaround", first.Artifact.GetMetadata("algorithms"));
    }
}
