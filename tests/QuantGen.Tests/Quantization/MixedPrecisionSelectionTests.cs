using QuantGen.Core.Quantization;
using QuantGen.Core.Quantization.MixedPrecision;
using static QuantGen.Tests.Quantization.SyntheticModels;

namespace QuantGen.Tests.Quantization;

/// <summary>
/// Mixed precision's second phase (<see cref="MeasuredSelection"/>): the candidates, and a model on which Σ Ω and the
/// measured loss disagree, where the measured one must win.
/// </summary>
public sealed partial class MixedPrecisionTests
{
    [Fact]
    public void CandidatesAreTheLeastSensitiveWithinTheBudgetThenTheUniformPoint()
    {
        // Costs 10..60, sensitivities falling: within a budget of 45 the least-sensitive are 40, 30, 20 (K = 3).
        var frontier = Enumerable.Range(1, 6).Select(i => new FrontierPoint(10 * i, 1.0 / i, [i, 0])).ToList();
        var off = MeasuredSelection.Candidates(frontier, 45, [9, 9], 3);
        Assert.Equal([3, 2, 1, -1], off.Select(c => c.FrontierIndex));
        Assert.Equal([9, 9], off[^1].Choices);
        // A uniform point already among them is not repeated; one further down the frontier keeps its index.
        Assert.Equal([3, 2, 1], MeasuredSelection.Candidates(frontier, 45, [3, 0], 3).Select(c => c.FrontierIndex));
        Assert.Equal([3, 2, 1, 0], MeasuredSelection.Candidates(frontier, 45, [1, 0], 3).Select(c => c.FrontierIndex));
        Assert.Equal([3, 2, 1], MeasuredSelection.Candidates(frontier, 45, null, 3).Select(c => c.FrontierIndex));
        Assert.Equal(2, MeasuredSelection.Lowest([0.5, 0.4, 0.1, 0.1]));
    }

    [Fact]
    public void AGainWithinTheNoiseKeepsTheUniformPoint()
    {
        // Candidate 0 is lower on average by 0.01 while the per-sample gains swing ±1: not significant, uniform (1) kept.
        double[] uniform = Enumerable.Range(0, 100).Select(s => 5.0 + (s % 2 == 0 ? 1 : -1)).ToArray();
        double[] noisy = Enumerable.Range(0, 100).Select(s => 5.0 - 0.01 + (s % 2 == 0 ? -1 : 1)).ToArray();
        Assert.Equal((1, true), MeasuredSelection.Choose([noisy, uniform], 1));
        // The same mean gain on every sample is significant.
        double[] steady = uniform.Select(u => u - 0.01).ToArray();
        Assert.Equal((0, false), MeasuredSelection.Choose([steady, uniform], 1));
        // No uniform candidate: the lowest mean.
        Assert.Equal((0, false), MeasuredSelection.Choose([noisy, uniform], -1));
    }

    /// <summary>
    /// x [1,8] → Gemm A (8×8) → Gemm B (1×8) → y. A's rows 0-3 are large but B reads them with weight 0.01; rows 4-7 are
    /// 100× smaller and B reads them with weight ~1. Ω_A = tr_A/n_A · ‖ΔA‖² spreads the trace (made by rows 4-7) over
    /// the large errors of rows 0-3, so it overstates A's sensitivity by orders of magnitude and prefers uniform 4/4;
    /// quantizing A is nearly harmless in fact, so 3/8 (B exact) has the far lower output error.
    /// </summary>
    [Fact]
    public void TheMeasuredLossOverrulesOmegaWhenTheyDisagree()
    {
        var g = new SyntheticModels(21);
        var random = new Random(5);
        float Signed(float lo, float hi) => (random.Next(2) == 0 ? -1 : 1) * (lo + (float)random.NextDouble() * (hi - lo));
        var a = Enumerable.Range(0, 64).Select(i => i < 32 ? Signed(1, 2) : Signed(0.01f, 0.02f)).ToArray();
        var b = Enumerable.Range(0, 8).Select(i => i < 4 ? Signed(0.01f, 0.011f) : Signed(0.5f, 1)).ToArray();
        g.Node("Gemm", "a", ["x", g.Constant("wa", [8, 8], a), g.Constant("ba", [8], new float[8])], "h", Int("transB", 1))
            .Node("Gemm", "b", ["h", g.Constant("wb", [1, 8], b)], "y", Int("transB", 1));
        var model = g.Build("omega_disagrees", [1, 8], [1, 1]);
        var calibration = g.Calibration([1, 8], 64, -1, 1);

        var options = new QuantizationOptions { AverageWeightBits = 4, Algorithms = QuantizationAlgorithms.None };
        var prepared = QuantizationPreparation.Prepare(model, options);
        var (layers, _, _) = LayerGraphBuilder.Build(prepared.Graph, model.Path);
        int samples = calibration.Validate(prepared.Graph, model.Path);
        WeightWidths.AssignUniform(layers, options);
        var plan = MixedPrecisionPlanner.Plan(prepared.Graph, layers, options, calibration, samples, model.Path);
        foreach (var m in plan.Measured) output.WriteLine($"{string.Join("/", m.Point.Bits)}: {m.Point.Bytes} bytes, Σ Ω {m.Point.Sensitivity:G4}, loss {m.Loss:G4}");

        // Ω's own pick (the least Σ Ω within the budget of 4 · 72 weight bits) is uniform 4/4 ...
        var weighted = WeightWidths.Weighted(layers);
        var withinBudget = plan.Measured.Where(m => weighted.Select((l, i) => (long)l.Weights!.Length * m.Point.Bits[i]).Sum() <= 4 * 72).ToList();
        Assert.Equal([4, 4], withinBudget.MinBy(m => m.Point.Sensitivity)!.Point.Bits);
        // ... but the build gets 3/8, which has the lower output error, measured here independently of the planner.
        Assert.Equal([3, 8], plan.ChosenPoint.Bits);
        Assert.Equal([3, 8], weighted.Select(l => l.WeightBits));
        double OutputError(int bitsA, int bitsB)
        {
            var executor = new LayerExecutor(prepared.Graph);
            var quantized = new[] { bitsA, bitsB }.Select((bits, i) =>
            {
                var w = weighted[i].Weights!;
                var scales = RangeSetting.WeightScales(w, weighted[i].OutputChannels, bits, options.PerChannel, options.ResolveWeightRanges());
                return WeightQuantizer.Dequantize(WeightQuantizer.RoundToNearest(w, scales, bits), scales);
            }).ToArray();
            double sum = 0;
            for (int s = 0; s < samples; s++)
            {
                var x = calibration.Sample(prepared.Graph, s).ToDictionary(kv => kv.Key, kv => kv.Value.ToArray<float>(), StringComparer.Ordinal);
                float y = executor.Run(layers, x)["y"][0];
                var h = executor.Execute(weighted[0], quantized[0], weighted[0].Bias, name => x[name]);
                float yq = executor.Execute(weighted[1], quantized[1], weighted[1].Bias, _ => h)[0];
                sum += (double)(yq - y) * (yq - y);
            }
            return sum / samples;
        }
        double chosen = OutputError(3, 8), uniform = OutputError(4, 4);
        output.WriteLine($"output MSE 3/8 {chosen:G4}, 4/4 {uniform:G4}");
        Assert.True(chosen < uniform / 10, $"3/8 {chosen:G4} vs 4/4 {uniform:G4}");
    }
}
