using System.Diagnostics;
using System.Globalization;
using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization.MixedPrecision;

/// <summary>One weighted layer's HAWQ-V2 analysis and the width chosen for it.</summary>
internal sealed record LayerSensitivity(FloatLayer Layer, long Parameters, bool Pinned, double Trace, IReadOnlyDictionary<int, double> Omega, int Bits);

/// <summary>A frontier point as the report shows it: weight bytes, mean width, Σ Ω and each searched layer's width.</summary>
internal sealed record MixedPoint(long Bytes, double AverageBits, double Sensitivity, int[] Bits);

/// <summary>
/// What mixed precision decided, for the reports: <paramref name="Chosen"/> indexes <paramref name="Measured"/> (the
/// candidates measured, <see cref="MeasuredSelection"/>), whose points may lie off the frontier (the uniform one).
/// </summary>
internal sealed record MixedPrecisionPlan(string Budget, IReadOnlyList<LayerSensitivity> Layers, IReadOnlyList<MixedPoint> Frontier,
    IReadOnlyList<MeasuredCandidate> Measured, int Chosen, bool UniformKept, int LossSamples, int AdaRoundIterations, long UniformW4Bytes, int Samples, int Vectors, TimeSpan Time)
{
    /// <summary>The point built: the measured candidate with the lowest loss.</summary>
    public MixedPoint ChosenPoint => Measured[Chosen].Point;
}

/// <summary>
/// HAWQ-V2 mixed precision (arXiv 1911.03852) under a weight budget: per weighted layer the mean Hessian trace of the
/// label-free output-reconstruction loss (Gauss-Newton form, <see cref="HutchinsonTrace"/>) on calibration samples,
/// the sensitivity Ω_l(b) = tr_l / n_l · ‖Q_b(W_l) − W_l‖² at each candidate width (MSE ranges, nearest rounding), the
/// exact Pareto frontier of Σ Ω against size (<see cref="ParetoFrontier"/>), then among the least-sensitive frontier
/// points within the budget and the uniform point the one with the lowest measured output loss
/// (<see cref="MeasuredSelection"/>). Sets each layer's <see cref="FloatLayer.WeightBits"/>; the passes then run at those widths.
/// </summary>
internal static class MixedPrecisionPlanner
{
    /// <summary>Calibration samples the traces average over (the first ones).</summary>
    public const int TraceSamples = 32;

    /// <summary>Rademacher vectors per layer.</summary>
    public const int TraceVectors = 8;

    /// <summary>The finite-difference step, relative to the layer's weight RMS.</summary>
    public const double RelativeStep = 1e-3;

    public static MixedPrecisionPlan Plan(Graph graph, IReadOnlyList<FloatLayer> layers, QuantizationOptions options, CalibrationSet calibration, int samples, string? modelPath)
    {
        var clock = Stopwatch.StartNew();
        var weighted = WeightWidths.Weighted(layers);
        var searched = weighted.Where(l => !WeightWidths.IsPinned(weighted, l, options)).ToList();
        int count = Math.Min(samples, TraceSamples);
        var traces = Traces(graph, layers, searched, calibration, count);

        var candidates = QuantizationOptions.MixedPrecisionCandidates;
        var omegas = new Dictionary<FloatLayer, Dictionary<int, double>>();
        for (int i = 0; i < searched.Count; i++)
        {
            var layer = searched[i];
            omegas[layer] = candidates.ToDictionary(b => b, b => traces[i] / layer.Weights!.Length * PerturbationNorm(layer, b, options));
        }

        // The cost the budget is in: bytes (SizeBudget) or weight bits (AverageWeightBits, exact in integers).
        bool bytes = options.SizeBudget is not null;
        long Cost(FloatLayer l, int b) => bytes ? WeightWidths.Bytes(l, b, options.PerChannel) : (long)l.Weights!.Length * b;
        long fixedCost = weighted.Except(searched).Sum(l => Cost(l, l.WeightBits));
        long totalParameters = weighted.Sum(l => (long)l.Weights!.Length);
        long budget = bytes ? options.SizeBudget!.Value : (long)Math.Floor(options.AverageWeightBits!.Value * totalParameters + 1e-9);

        var frontier = ParetoFrontier.Solve(searched.Select(l => (IReadOnlyList<LayerChoice>)candidates.Select(b => new LayerChoice(Cost(l, b), omegas[l][b])).ToList()).ToList());
        var chosen = ParetoFrontier.Select(frontier, budget - fixedCost);
        string budgetText = bytes
            ? $"SizeBudget {options.SizeBudget!.Value.ToString(CultureInfo.InvariantCulture)} bytes"
            : $"AverageWeightBits {options.AverageWeightBits!.Value.ToString(CultureInfo.InvariantCulture)} ({budget.ToString(CultureInfo.InvariantCulture)} weight bits)";
        if (chosen is null)
        {
            long smallest = frontier[0].Cost + fixedCost;
            throw new ModelException(ErrorCodes.WeightBudgetInfeasible, bytes
                ? $"SizeBudget={options.SizeBudget} bytes cannot be met: the smallest feasible weight size is {smallest.ToString(CultureInfo.InvariantCulture)} bytes (every searched layer at {candidates[0]} bits{PinsText(options)}, 4 bytes per weight scale)."
                : $"AverageWeightBits={options.AverageWeightBits!.Value.ToString(CultureInfo.InvariantCulture)} cannot be met: the smallest feasible mean width is {((double)smallest / totalParameters).ToString("F3", CultureInfo.InvariantCulture)} bits (every searched layer at {candidates[0]} bits{PinsText(options)}).",
                modelPath);
        }

        // Phase 2: measure the least-sensitive points within the budget and the widest uniform point that fits.
        int[]? uniform = null;
        for (int c = candidates.Count - 1; c >= 0 && uniform is null; c--)
            if (searched.Sum(l => Cost(l, candidates[c])) <= budget - fixedCost) uniform = Enumerable.Repeat(c, searched.Count).ToArray();
        var measured = MeasuredSelection.Candidates(frontier, budget - fixedCost, uniform, MeasuredSelection.FrontierCandidates);
        int lossSamples = Math.Min(samples, MeasuredSelection.LossSamples);
        int adaRoundIterations = MeasuredSelection.IterationsFor(options);
        int Width(FloatLayer l, int[] choices) => searched.IndexOf(l) is int i and >= 0 ? candidates[choices[i]] : l.WeightBits;
        var terms = measured.Count == 1 ? new[] { new[] { 0.0 } }
            : MeasuredSelection.Losses(graph, layers, weighted, measured.Select(m => weighted.Select(l => Width(l, m.Choices)).ToArray()).ToList(), options, calibration, lossSamples, adaRoundIterations);
        var (best, kept) = MeasuredSelection.Choose(terms, measured.FindIndex(m => m.Choices.SequenceEqual(uniform ?? [])));
        var losses = terms.Select(MeasuredSelection.Mean).ToArray();

        var picked = measured[best].Choices;
        for (int i = 0; i < searched.Count; i++) searched[i].WeightBits = candidates[picked[i]];
        var report = weighted.Select(l => new LayerSensitivity(l, l.Weights!.Length, !omegas.ContainsKey(l),
            omegas.ContainsKey(l) ? traces[searched.IndexOf(l)] : double.NaN, omegas.GetValueOrDefault(l) ?? new Dictionary<int, double>(), l.WeightBits)).ToList();
        var points = frontier.Select(p => Point(weighted, searched, p.Choices, p.Sensitivity, candidates, options)).ToList();
        var measuredPoints = measured.Select((m, k) => new MeasuredCandidate(
            m.FrontierIndex >= 0 ? points[m.FrontierIndex] : Point(weighted, searched, m.Choices, m.Choices.Select((c, i) => omegas[searched[i]][candidates[c]]).Sum(), candidates, options),
            m.FrontierIndex, m.Choices.SequenceEqual(uniform ?? []), losses[k])).ToList();
        long uniformW4 = weighted.Sum(l => WeightWidths.Bytes(l, 4, options.PerChannel));
        return new MixedPrecisionPlan(budgetText, report, points, measuredPoints, best, kept, measured.Count == 1 ? 0 : lossSamples, adaRoundIterations, uniformW4, count, TraceVectors, clock.Elapsed);
    }

    private static string PinsText(QuantizationOptions options) =>
        (options.FirstLayerWeightBits is { } f ? $", the first layer at {f}" : "") + (options.LastLayerWeightBits is { } l ? $", the last layer at {l}" : "");

    private static MixedPoint Point(List<FloatLayer> weighted, List<FloatLayer> searched, int[] choices, double sensitivity, IReadOnlyList<int> candidates, QuantizationOptions options)
    {
        var bits = searched.Select((_, i) => candidates[choices[i]]).ToArray();
        int Width(FloatLayer l) => searched.IndexOf(l) is int i and >= 0 ? bits[i] : l.WeightBits;
        long bytes = weighted.Sum(l => WeightWidths.Bytes(l, Width(l), options.PerChannel));
        double average = weighted.Sum(l => (double)l.Weights!.Length * Width(l)) / Math.Max(1, weighted.Sum(l => (double)l.Weights!.Length));
        return new MixedPoint(bytes, average, sensitivity, bits);
    }

    /// <summary>‖Q_b(W) − W‖²: MSE-range (or the configured method) scales, nearest rounding, as the passes would start from.</summary>
    internal static double PerturbationNorm(FloatLayer layer, int bits, QuantizationOptions options)
    {
        var w = layer.Weights!;
        var q = Nearest(layer, bits, options);
        double sum = 0;
        for (int i = 0; i < w.Length; i++)
        {
            double d = (double)q[i] - w[i];
            sum += d * d;
        }
        return sum;
    }

    /// <summary>The layer's weights quantized at <paramref name="bits"/> (the configured ranges, nearest rounding), dequantized.</summary>
    internal static float[] Nearest(FloatLayer layer, int bits, QuantizationOptions options)
    {
        var w = layer.Weights!;
        var scales = RangeSetting.WeightScales(w, layer.OutputChannels, bits, options.PerChannel, options.ResolveWeightRanges());
        return WeightQuantizer.Dequantize(WeightQuantizer.RoundToNearest(w, scales, bits), scales);
    }

    /// <summary>Per searched layer, the mean Gauss-Newton trace over the first <paramref name="count"/> calibration samples.</summary>
    internal static double[] Traces(Graph graph, IReadOnlyList<FloatLayer> layers, List<FloatLayer> searched, CalibrationSet calibration, int count)
    {
        var executor = new LayerExecutor(graph);
        var cached = new Dictionary<string, float[]>[count];
        Parallel.For(0, count, s =>
            cached[s] = executor.Run(layers, calibration.Sample(graph, s).ToDictionary(kv => kv.Key, kv => kv.Value.ToArray<float>(), StringComparer.Ordinal)));
        var outputs = graph.Outputs.Select(o => o.Name).ToArray();
        var traces = new double[searched.Count];
        for (int i = 0; i < searched.Count; i++)
        {
            var layer = searched[i];
            int start = IndexOf(layers, layer);
            // The layers downstream of this one: only they change when its weights do.
            var affected = new HashSet<string>(StringComparer.Ordinal) { layer.Output };
            var suffix = new List<FloatLayer>();
            for (int j = start + 1; j < layers.Count; j++)
                if (layers[j].Inputs.Any(affected.Contains))
                {
                    suffix.Add(layers[j]);
                    affected.Add(layers[j].Output);
                }
            float[] Forward(float[] weights, int s)
            {
                var local = new Dictionary<string, float[]>(StringComparer.Ordinal);
                float[] Read(string name) => local.TryGetValue(name, out var v) ? v : cached[s][name];
                local[layer.Output] = executor.Execute(layer, weights, layer.Bias, Read);
                foreach (var next in suffix) local[next.Output] = executor.Execute(next, next.Weights, next.Bias, Read);
                return outputs.SelectMany(Read).ToArray();
            }
            traces[i] = HutchinsonTrace.Estimate(layer.Weights!, count, Forward, TraceVectors, seed: start, RelativeStep);
        }
        return traces;
    }

    private static int IndexOf(IReadOnlyList<FloatLayer> layers, FloatLayer layer)
    {
        for (int i = 0; i < layers.Count; i++)
            if (ReferenceEquals(layers[i], layer)) return i;
        return -1;
    }
}
