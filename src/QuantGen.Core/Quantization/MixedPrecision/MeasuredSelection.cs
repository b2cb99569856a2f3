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
    /// AdaRound iterations a measured candidate's plain layers get: <see cref="AdaRoundIterations"/> capped by the build's
    /// own, or 0 (nearest rounding) when the build does not run AdaRound.
    /// </summary>
    public static int IterationsFor(QuantizationOptions options) =>
        options.ResolveAlgorithms(hasCalibration: true).HasFlag(QuantizationAlgorithms.AdaRound) ? Math.Min(options.AdaRoundIterations, AdaRoundIterations) : 0;

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
        var meter = new OutputLossMeter(graph, layers, calibration, count);
        var quantized = new Dictionary<(int Layer, int Bits), float[]>();
        foreach (var assignment in widths)
            for (int l = 0; l < weighted.Count; l++)
                if (!quantized.ContainsKey((l, assignment[l])))
                    quantized[(l, assignment[l])] = meter.Rounded(weighted[l], assignment[l], options, adaRoundIterations);
        return widths.Select(assignment =>
        {
            var replaced = new Dictionary<FloatLayer, float[]>(ReferenceEqualityComparer.Instance);
            for (int l = 0; l < weighted.Count; l++) replaced[weighted[l]] = quantized[(l, assignment[l])];
            return meter.Terms(replaced);
        }).ToArray();
    }
}
