using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization.MixedPrecision;

/// <summary>A measured candidate: its widths (per searched layer), its frontier index (−1 when off the frontier), its loss.</summary>
internal sealed record MeasuredCandidate(MixedPoint Point, int FrontierIndex, bool Uniform, double Loss);

/// <summary>
/// The second phase of the selection (docs/quantization.md, "Mixed precision"): Σ Ω is a proxy (additive, nearest
/// rounding), so the few least-sensitive frontier points within the budget, and the uniform-width point that fits the
/// budget (the DP may have pruned it), are each measured — the float model with every weighted layer's weights
/// quantized at its width (the configured ranges, the build's rounding: AdaRound when it runs), the mean squared error of the outputs against the
/// float model's on calibration samples, label-free — and the lowest loss wins. With the uniform point among the
/// candidates, the choice is never worse than uniform on that loss.
/// </summary>
internal static class MeasuredSelection
{
    /// <summary>Frontier points measured: the least-sensitive ones within the budget.</summary>
    public const int FrontierCandidates = 6;

    /// <summary>Calibration samples the loss averages over (the first ones).</summary>
    public const int LossSamples = 512;

    /// <summary>AdaRound iterations per (layer, width) of the candidates (at most the build's own).</summary>
    public const int AdaRoundIterations = 500;

    /// <summary>
    /// The candidates' choice vectors (indices into the candidate widths per searched layer), in the order they are
    /// measured: the <paramref name="count"/> least-sensitive frontier points costing at most <paramref name="budget"/>,
    /// least-sensitive first, then <paramref name="uniform"/> when it is not among them. Each with its frontier index
    /// (−1 for an off-frontier uniform point).
    /// </summary>
    public static List<(int[] Choices, int FrontierIndex)> Candidates(IReadOnlyList<FrontierPoint> frontier, long budget, int[]? uniform, int count)
    {
        var list = new List<(int[] Choices, int FrontierIndex)>();
        for (int i = frontier.Count - 1; i >= 0 && list.Count < count; i--)
            if (frontier[i].Cost <= budget) list.Add((frontier[i].Choices, i));
        if (uniform is not null && !list.Any(c => c.Choices.SequenceEqual(uniform)))
        {
            int onFrontier = -1;
            for (int i = 0; i < frontier.Count; i++)
                if (frontier[i].Choices.SequenceEqual(uniform)) onFrontier = i;
            list.Add((uniform, onFrontier));
        }
        return list;
    }

    /// <summary>The mean of per-sample terms, summed in order.</summary>
    public static double Mean(double[] terms)
    {
        double total = 0;
        foreach (double t in terms) total += t;
        return total / Math.Max(1, terms.Length);
    }

    /// <summary>
    /// The candidate built: the lowest mean loss, except that a non-uniform candidate replaces the uniform one
    /// (<paramref name="uniform"/>, −1 if none) only when its per-sample gain over it is significant, mean gain
    /// greater than <see cref="Significance"/> paired standard errors; otherwise the uniform point is kept
    /// (<c>Kept</c> true). The uniform build is the known baseline: a gain within the noise of the calibration
    /// samples is not evidence enough to leave it.
    /// </summary>
    public static (int Index, bool Kept) Choose(double[][] terms, int uniform)
    {
        int best = Lowest(terms.Select(Mean).ToList());
        if (uniform < 0 || best == uniform) return (best, false);
        int n = terms[best].Length;
        var gain = Enumerable.Range(0, n).Select(s => terms[uniform][s] - terms[best][s]).ToArray();
        double mean = Mean(gain), variance = 0;
        foreach (double g in gain) variance += (g - mean) * (g - mean);
        double error = n > 1 ? Math.Sqrt(variance / (n - 1) / n) : double.PositiveInfinity;
        return mean > Significance * error ? (best, false) : (uniform, true);
    }

    /// <summary>Paired standard errors a candidate's mean gain over the uniform point must exceed.</summary>
    public const double Significance = 2;

    /// <summary>The index of the lowest loss (the first of equal ones: the less Ω-sensitive).</summary>
    public static int Lowest(IReadOnlyList<double> losses)
    {
        int best = 0;
        for (int i = 1; i < losses.Count; i++)
            if (losses[i] < losses[best]) best = i;
        return best;
    }

    /// <summary>
    /// For each assignment in <paramref name="widths"/> (a width per layer of <paramref name="weighted"/>), per sample of
    /// the first <paramref name="count"/> calibration samples, the outputs' mean squared error against the float
    /// model, with each weighted layer's weights quantized at its width (ranges per the options; rounding as the build
    /// will round: AdaRound with <paramref name="adaRoundIterations"/> iterations against the layer's float inputs
    /// below 8 bits, nearest at 8 bits or when <paramref name="adaRoundIterations"/> is 0; activations float).
    /// Deterministic: seeded per layer, samples run in parallel and their terms are summed in order.
    /// </summary>
    public static double[][] Losses(Graph graph, IReadOnlyList<FloatLayer> layers, List<FloatLayer> weighted, IReadOnlyList<int[]> widths,
        QuantizationOptions options, CalibrationSet calibration, int count, int adaRoundIterations)
    {
        var executor = new LayerExecutor(graph);
        var outputs = graph.Outputs.Select(o => o.Name).ToArray();
        var inputs = new Dictionary<string, float[]>[count];
        var floats = new Dictionary<string, float[]>[count];
        var reference = new float[count][];
        Parallel.For(0, count, s =>
        {
            inputs[s] = calibration.Sample(graph, s).ToDictionary(kv => kv.Key, kv => kv.Value.ToArray<float>(), StringComparer.Ordinal);
            floats[s] = executor.Run(layers, inputs[s]);
            reference[s] = outputs.SelectMany(o => floats[s][o]).ToArray();
        });
        var quantized = new Dictionary<(int Layer, int Bits), float[]>();
        foreach (var assignment in widths)
            for (int l = 0; l < weighted.Count; l++)
                if (!quantized.ContainsKey((l, assignment[l])))
                    quantized[(l, assignment[l])] = Rounded(executor, layers, weighted[l], assignment[l], options, floats, adaRoundIterations);

        var losses = new double[widths.Count][];
        for (int c = 0; c < widths.Count; c++)
        {
            var terms = losses[c] = new double[count];
            var replaced = new Dictionary<FloatLayer, float[]>(ReferenceEqualityComparer.Instance);
            for (int l = 0; l < weighted.Count; l++) replaced[weighted[l]] = quantized[(l, widths[c][l])];
            Parallel.For(0, count, s =>
            {
                var values = new Dictionary<string, float[]>(inputs[s], StringComparer.Ordinal);
                foreach (var layer in layers)
                    values[layer.Output] = executor.Execute(layer, replaced.GetValueOrDefault(layer) ?? layer.Weights, layer.Bias, name => values[name]);
                var y = outputs.SelectMany(o => values[o]).ToArray();
                double sum = 0;
                for (int i = 0; i < y.Length; i++)
                {
                    double d = (double)y[i] - reference[s][i];
                    sum += d * d;
                }
                terms[s] = sum / Math.Max(1, y.Length);
            });
        }
        return losses;
    }

    /// <summary>One layer's dequantized weights at <paramref name="bits"/>: AdaRound against its float inputs, or nearest.</summary>
    private static float[] Rounded(LayerExecutor executor, IReadOnlyList<FloatLayer> layers, FloatLayer layer, int bits, QuantizationOptions options,
        Dictionary<string, float[]>[] floats, int adaRoundIterations)
    {
        if (adaRoundIterations <= 0 || bits >= 8) return MixedPrecisionPlanner.Nearest(layer, bits, options);
        int index = 0;
        while (!ReferenceEquals(layers[index], layer)) index++;
        var scales = RangeSetting.WeightScales(layer.Weights!, layer.OutputChannels, bits, options.PerChannel, options.ResolveWeightRanges());
        var problem = CalibratedPasses.AdaRoundInputs(executor, layer, index, floats, floats, scales, bits);
        var result = AdaRound.Optimize(problem, new AdaRoundSettings(Iterations: adaRoundIterations, Seed: index));
        return WeightQuantizer.Dequantize(result.Quantized, scales);
    }
}
