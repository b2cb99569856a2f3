using QuantGen.Core;
using QuantGen.Core.Artifact;
using QuantGen.Core.IO;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;
using QuantGen.Core.Training;
using QuantGen.Onnx;
using QuantGen.Tests.RealModels;
using Xunit.Abstractions;

namespace QuantGen.Tests.Training;

/// <summary>Oscillation dampening and iterative freezing (Nagel et al. 2022) in the fine-tuning pass.</summary>
public sealed class OscillationTests(ITestOutputHelper output)
{
    private static readonly Lazy<CalibrationSet> Calibration = new(() =>
        new CalibrationSet(new Dictionary<string, Tensor> { ["image"] = Npy.Read(Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy")) }));

    /// <summary>A hand-computed point: w = 0.3·s rounds to 0, so λ·R = λ·0.09 and ∂ = 2λ·0.3/s; w = 1.4·s rounds to 1: 0.16 and 2λ·0.4/s; beyond the clip (level 3) the gradient is 0.</summary>
    [Fact]
    public void DampeningAtHandComputedPoints()
    {
        double s = 0.5, lambda = 0.25;
        double[] w = [0.3 * s, 1.4 * s, -2.2 * s, 3.7 * s], gradient = new double[4];
        double loss = OscillationDampening.Add<double>(w, [s], 4, 3, lambda, gradient);
        // (0.3)² + (0.4)² + (−0.2)² + (clip 3 − 3)² = 0.09 + 0.16 + 0.04 + 0
        Assert.Equal(lambda * 0.29, loss, 12);
        Assert.Equal(2 * lambda * 0.3 / s, gradient[0], 12);
        Assert.Equal(2 * lambda * 0.4 / s, gradient[1], 12);
        Assert.Equal(2 * lambda * -0.2 / s, gradient[2], 12);
        Assert.Equal(0, gradient[3]);
    }

    /// <summary>The regularizer's gradient against central finite differences of its value, per weight, several channels and scales, inside and outside the clipping range.</summary>
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void DampeningGradientMatchesFiniteDifferences(int bits)
    {
        var random = new Random(bits * 71);
        int level = (1 << (bits - 1)) - 1, channels = 3, fanIn = 7;
        var scales = Enumerable.Range(0, channels).Select(_ => 0.05 + random.NextDouble()).ToArray();
        var w = new double[channels * fanIn];
        for (int j = 0; j < w.Length; j++)
        {
            // Grid positions in [−level − 1.5, level + 1.5], away from the rounding midpoints and the clip bounds (where R has kinks).
            double v;
            do v = (random.NextDouble() * 2 - 1) * (level + 1.5);
            while (Math.Abs(v - Math.Floor(v) - 0.5) < 0.01 || Math.Abs(Math.Abs(v) - level) < 0.01);
            w[j] = v * scales[j / fanIn];
        }
        const double lambda = 0.37, h = 1e-6;
        var gradient = new double[w.Length];
        OscillationDampening.Add<double>(w, scales, fanIn, level, lambda, gradient);
        int outside = 0;
        for (int j = 0; j < w.Length; j++)
        {
            double saved = w[j];
            w[j] = saved + h;
            double up = OscillationDampening.Add<double>(w, scales, fanIn, level, lambda, new double[w.Length]);
            w[j] = saved - h;
            double down = OscillationDampening.Add<double>(w, scales, fanIn, level, lambda, new double[w.Length]);
            w[j] = saved;
            double numeric = (up - down) / (2 * h);
            Assert.True(Math.Abs(numeric - gradient[j]) <= 1e-6 * Math.Max(1, Math.Abs(numeric)), $"weight {j}: analytic {gradient[j]}, numeric {numeric}");
            if (Math.Abs(saved / scales[j / fanIn]) > level) outside++;
        }
        Assert.InRange(outside, 1, w.Length - 1);
        Assert.Contains(gradient, g => Math.Abs(g) > 0.01);
    }

    [Fact]
    public void DampeningIsAnnealedFromZeroToLambda()
    {
        Assert.Equal(0, OscillationDampening.Annealed(2, 0, 100));
        Assert.Equal(1, OscillationDampening.Annealed(2, 50, 100), 5);
        Assert.Equal(2, OscillationDampening.Annealed(2, 100, 100), 5);
    }

    /// <summary>
    /// Three synthetic weights on a grid of step 0.5: one oscillating between the integers 1 and 0 (two steps at 1, one
    /// at 0), one climbing steadily (changes, always upward), one still. Freezing catches the first only, at its integer
    /// EMA (≈ 0.67 → 1), and holds it there whatever the optimizer does to it afterwards.
    /// </summary>
    [Fact]
    public void FreezingFreezesAnOscillatingWeightAndNotASteadyOne()
    {
        const float s = 0.5f;
        float[] scales = [s];
        var weights = new float[] { 0.6f * s, 0.2f * s, -0.3f * s };
        var frozen = new OscillationTracker("layer", weights, scales, 3, 7);
        var free = new OscillationTracker("layer", weights, scales, 3, 7);
        var copy = (float[])weights.Clone();
        for (int step = 1; step <= 120; step++)
        {
            weights[0] = step % 3 == 0 ? 0.4f * s : 0.6f * s;
            weights[1] = (0.2f + step / 20) * s; // 0, 1, …, 6: one step up every 20
            weights[2] = -0.3f * s;
            weights.AsSpan().CopyTo(copy);
            frozen.Update(weights, scales, 0.02f);
            free.Update(copy, scales, 0);
        }
        Assert.True(frozen.IsFrozen(0), $"the oscillating weight's frequency {frozen.Frequency[0]} did not freeze it");
        Assert.Equal(1, frozen.FrozenValue(0));
        Assert.Equal(s, weights[0]);
        Assert.False(frozen.IsFrozen(1));
        Assert.False(frozen.IsFrozen(2));
        Assert.Equal(1, frozen.Frozen);
        // Without a threshold nothing freezes; the oscillating weight is counted as oscillating, the steady ones are not.
        Assert.Equal(0, free.Frozen);
        Assert.True(free.Frequency[0] > 0.2f, $"frequency {free.Frequency[0]}");
        Assert.Equal(0, free.Frequency[1]);
        Assert.Equal(0, free.Frequency[2]);
        Assert.Equal(1, free.Oscillating);
        // A frozen weight's gradient is dropped.
        var gradient = new float[] { 1, 2, 3 };
        frozen.Mask(gradient);
        Assert.Equal(new float[] { 0, 2, 3 }, gradient);
    }

    /// <summary>
    /// Dampening and freezing through the quantizer on the 2-bit MLP: the same artifact bytes and statistics at 1 and 2
    /// threads; the report's per-layer table and the summary carry the fractions; freezing freezes some weights.
    /// </summary>
    [Fact]
    public void DampenedFrozenFineTuningIsDeterministicAndReportsTheOscillations()
    {
        var model = OnnxModelLoader.Load(RealModelPaths.Fashion("fashion_mlp"));
        var options = new QuantizationOptions
        {
            WeightBits = 2,
            Algorithms = QuantizationAlgorithms.Cle | QuantizationAlgorithms.FineTune,
            MaxCalibrationSamples = 128,
            FineTuneSteps = 60,
            FineTuneEvaluateEvery = 20,
            // The latent weights start on their grid points: at 0.1 grid steps per step they reach a rounding boundary within the 60 steps.
            FineTuneLearningRate = 0.1f,
            FineTuneDampening = 0.05f,
            FineTuneFreezeThreshold = 0.015f,
        };
        var one = ModelQuantizer.Quantize(model, options with { FineTuneThreads = 1 }, Calibration.Value);
        var two = ModelQuantizer.Quantize(model, options with { FineTuneThreads = 2 }, Calibration.Value);
        Assert.Equal(ArtifactText.Write(one.Artifact), ArtifactText.Write(two.Artifact));
        Assert.Equal(one.FineTuning!.Oscillations, two.FineTuning!.Oscillations);

        var log = two.FineTuning;
        foreach (var o in log.Oscillations)
            output.WriteLine($"{o.Layer}: {o.Weights} weights, {o.Oscillating} oscillating, {o.Frozen} frozen, mean frequency {o.MeanFrequency:G3}");
        // Every weighted layer of the MLP (its Gemms), and every weight of them.
        var fullyConnected = one.Artifact.Layers.Where(l => l.Kind == LayerKinds.FullyConnected).ToArray();
        Assert.Equal(fullyConnected.Select(l => l.Name), log.Oscillations.Select(o => o.Layer));
        Assert.True(log.Oscillations.Sum(o => o.Frozen) > 0, "no weight was frozen");
        Assert.All(log.Oscillations, o => Assert.InRange(o.Oscillating + o.Frozen, 0, o.Weights));

        Assert.Contains("| layer | weights | oscillating | frozen | mean frequency |", two.ReportMarkdown, StringComparison.Ordinal);
        foreach (var o in log.Oscillations)
        {
            string Percent(int n) => (100.0 * n / o.Weights).ToString("F2", System.Globalization.CultureInfo.InvariantCulture) + "%";
            Assert.Contains($"| {o.Layer} | {o.Weights} | {Percent(o.Oscillating)} | {Percent(o.Frozen)} |", two.ReportMarkdown, StringComparison.Ordinal);
        }
        Assert.Contains("dampening λ 0.05, freezing above frequency 0.015", two.ReportMarkdown, StringComparison.Ordinal);
        Assert.Contains("<th>oscillating</th><th>frozen</th>", two.ReportHtml, StringComparison.Ordinal);
        Assert.Matches(@"of the weights oscillating at the last step, [0-9.]+% frozen", two.Summary);
    }

    [Fact]
    public void FineTuneKnobsParseFromTheirMsbuildAndCliSpellings()
    {
        var options = new QuantizationOptions().WithFineTuneText("300", "0.02", "kl", "0.1", "0.03");
        Assert.Equal((300, 0.02f, true, 0.1f, 0.03f), (options.FineTuneSteps, options.FineTuneLearningRate, options.FineTuneKullbackLeibler, options.FineTuneDampening, options.FineTuneFreezeThreshold));
        Assert.False(new QuantizationOptions().WithFineTuneText(null, "", " MSE ", null, null).FineTuneKullbackLeibler);
        var defaults = new QuantizationOptions();
        var unset = defaults.WithFineTuneText("", " ", null, null, null);
        Assert.Equal((defaults.FineTuneSteps, defaults.FineTuneLearningRate, defaults.FineTuneKullbackLeibler, defaults.FineTuneDampening, defaults.FineTuneFreezeThreshold),
            (unset.FineTuneSteps, unset.FineTuneLearningRate, unset.FineTuneKullbackLeibler, unset.FineTuneDampening, unset.FineTuneFreezeThreshold));
        foreach (var (steps, rate, loss, expected) in new[] { ("x", "", "", "FineTuneSteps"), ("", "fast", "", "FineTuneLearningRate"), ("", "", "ce", "FineTuneLoss") })
        {
            var e = Assert.Throws<ModelException>(() => new QuantizationOptions().WithFineTuneText(steps, rate, loss, null, null));
            Assert.Equal(ErrorCodes.InvalidOption, e.Code);
            Assert.StartsWith(expected, e.Message, StringComparison.Ordinal);
        }
        foreach (var bad in new[] { new QuantizationOptions { FineTuneDampening = -1 }, new QuantizationOptions { FineTuneFreezeThreshold = 1 }, new QuantizationOptions { FineTuneFreezeThreshold = float.NaN } })
            Assert.Equal(ErrorCodes.InvalidOption, Assert.Throws<ModelException>(bad.Validate).Code);
    }
}
