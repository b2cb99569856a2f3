using System.Diagnostics;
using QuantGen.Core.Quantization;
using QuantGen.Core.Quantization.MixedPrecision;
using QuantGen.Onnx;
using QuantGen.Tests.RealModels;

namespace QuantGen.Tests.Quantization;

public sealed partial class MixedPrecisionTests
{
    private const int BruteForceSamples = 64;

    /// <summary>
    /// HAWQ-V2's Ω_l(b) for every (layer, width ∈ {2, 3, 4}) of the Fashion CNN against a brute-force measurement: only
    /// that layer quantized (MSE ranges, nearest), everything else float, the output's noise power (−SQNR) over 64
    /// calibration samples. Spearman rank correlation of the two orderings (docs/accuracy.md records the value).
    /// </summary>
    [Fact]
    public void HawqRanksTheCnnLayersLikeBruteForce()
    {
        var model = OnnxModelLoader.Load(RealModelPaths.Fashion("fashion_cnn"));
        var options = new QuantizationOptions { Algorithms = QuantizationAlgorithms.None };
        var prepared = QuantizationPreparation.Prepare(model, options);
        var (layers, _, _) = LayerGraphBuilder.Build(prepared.Graph, model.Path);
        var weighted = WeightWidths.Weighted(layers);
        var calibration = Calibration.Value;
        calibration.Validate(prepared.Graph, model.Path);

        var clock = Stopwatch.StartNew();
        var traces = MixedPrecisionPlanner.Traces(prepared.Graph, layers, weighted, calibration, MixedPrecisionPlanner.TraceSamples);
        output.WriteLine($"traces of {weighted.Count} layers: {clock.Elapsed.TotalSeconds:F1} s");

        var executor = new LayerExecutor(prepared.Graph);
        var outputName = prepared.Graph.Outputs[0].Name;
        var inputs = Enumerable.Range(0, BruteForceSamples)
            .Select(s => calibration.Sample(prepared.Graph, s).ToDictionary(kv => kv.Key, kv => kv.Value.ToArray<float>(), StringComparer.Ordinal)).ToArray();
        float[] Outputs() => inputs.SelectMany(x => executor.Run(layers, x)[outputName]).ToArray();
        var reference = Outputs();

        var omega = new List<double>();
        var noise = new List<double>();
        for (int i = 0; i < weighted.Count; i++)
        {
            var layer = weighted[i];
            foreach (int b in new[] { 2, 3, 4 })
            {
                double o = traces[i] / layer.Weights!.Length * MixedPrecisionPlanner.PerturbationNorm(layer, b, options);
                var original = layer.Weights!;
                var scales = RangeSetting.WeightScales(original, layer.OutputChannels, b, options.PerChannel, options.ResolveWeightRanges());
                layer.Weights = WeightQuantizer.Dequantize(WeightQuantizer.RoundToNearest(original, scales, b), scales);
                double sqnr = Sqnr.Of(reference, Outputs());
                layer.Weights = original;
                omega.Add(o);
                noise.Add(-sqnr);
                output.WriteLine($"{layer.Name} ({original.Length} weights) W{b}: Ω {o:G4}, output SQNR {sqnr:F2} dB");
            }
        }
        double rho = Spearman(omega, noise);
        output.WriteLine($"Spearman rank correlation over {omega.Count} (layer, width) pairs: {rho:F3}");
        Assert.True(rho >= 0.8, $"Spearman {rho:F3}");
    }

    /// <summary>Spearman's ρ: Pearson correlation of the ranks (ties share their mean rank).</summary>
    internal static double Spearman(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        double[] ra = Ranks(a), rb = Ranks(b);
        double ma = ra.Average(), mb = rb.Average(), cov = 0, va = 0, vb = 0;
        for (int i = 0; i < ra.Length; i++)
        {
            cov += (ra[i] - ma) * (rb[i] - mb);
            va += (ra[i] - ma) * (ra[i] - ma);
            vb += (rb[i] - mb) * (rb[i] - mb);
        }
        return cov / Math.Sqrt(va * vb);
    }

    private static double[] Ranks(IReadOnlyList<double> values)
    {
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Count];
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]]) end++;
            for (int k = start; k <= end; k++) ranks[order[k]] = (start + end) / 2.0 + 1;
            start = end + 1;
        }
        return ranks;
    }

    [Fact]
    public void SpearmanOfKnownOrders()
    {
        Assert.Equal(1.0, Spearman([1, 2, 3, 4], [10, 20, 30, 45]), 12);
        Assert.Equal(-1.0, Spearman([1, 2, 3, 4], [4, 3, 2, 1]), 12);
        // d = (0, 0, 1, -1): ρ = 1 − 6·2 / (4·15) = 0.8.
        Assert.Equal(0.8, Spearman([1, 2, 3, 4], [1, 2, 4, 3]), 12);
    }
}
