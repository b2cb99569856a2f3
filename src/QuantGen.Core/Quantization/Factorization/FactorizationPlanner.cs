using System.Diagnostics;
using System.Globalization;
using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization.Factorization;

/// <summary>What the planner decided for one weighted layer (the report's row).</summary>
internal sealed record FactorizationChoice(FloatLayer Layer, int M, int K, long PlainBytes, FactorizedWeights? Factors, double PlainRelativeError)
{
    public long Bytes => Factors is null ? PlainBytes : Factors.Setting.Bytes(M, K);

    public double RelativeError => Factors?.RelativeError ?? PlainRelativeError;
}

/// <summary>The allocation's and the uniform plain plan's mean output error on the calibration samples, and which one the build took.</summary>
internal sealed record UniformCheck(int Bits, double AllocationLoss, double UniformLoss, bool UniformTaken);

/// <summary>The plan for a model: every weighted layer's choice, the target and the time it took.</summary>
internal sealed record FactorizationPlan(IReadOnlyList<FactorizationChoice> Choices, double? TargetRatio, bool DataAware, int Candidates, TimeSpan Elapsed)
{
    /// <summary>The end-to-end check of the allocation against uniform plain weights (FactorizationPlanner.CheckAgainstUniform), if it ran.</summary>
    public UniformCheck? Uniform { get; init; }

    public long FloatBytes => 4L * Choices.Sum(c => (long)c.M * c.K);

    public long StoredBytes => Choices.Sum(c => c.Bytes);
}

/// <summary>
/// Chooses, per Conv/FullyConnected layer, plain quantized weights or a factorization, and fits the factors. With a
/// ratio: every eligible layer gets a ladder of settings (ranks 2…256 and its full rank, dense factors at 2, 3, 4
/// or 8 bits and half-sparse ones at 4 bits, unless FactorSparsity/FactorBits fix them, and its own weights at 2, 3
/// or 4 bits in factorized form; see Settings), each fitted; then, starting from every layer's smallest option,
/// the upgrade with the best error decrease per byte is taken while the model stays within float32 bytes / ratio.
/// The error is the layer's relative output error on the calibration inputs (data-aware), or the relative weight
/// error without data. With FactorRank: that one setting per layer, kept where it is smaller than the plain layer.
/// Eligible: FullyConnected layers (Gemm, MatMul) and group-1 Conv layers (W [M, C·KH·KW]), with their fused
/// activation; grouped and depthwise convs stay plain (a depthwise filter has KH·KW weights: nothing to factor).
/// </summary>
internal static class FactorizationPlanner
{
    /// <summary>Calibration samples whose layer inputs form each layer's second moment.</summary>
    private const int GramSamples = 256;

    /// <summary>
    /// Output positions per sample whose im2col rows enter a Conv layer's second moment (evenly spaced): bounds the
    /// cost and memory at GramSamples · 64 rows, which still exceeds the fan-in of the convs it is used on.
    /// </summary>
    private const int GramPositions = 64;

    private static readonly int[] RankLadder = [2, 4, 8, 16, 32, 64, 128, 256];

    public static FactorizationPlan Plan(Graph graph, IReadOnlyList<FloatLayer> layers, QuantizationOptions options, CalibrationSet? calibration, int samples)
    {
        var clock = Stopwatch.StartNew();
        var weighted = layers.Where(l => l.Kind is LayerKinds.Conv or LayerKinds.FullyConnected).ToList();
        var eligible = weighted.Where(IsEligible).ToList();
        if (options.CompressionRatio is { } target) RequireReachable(weighted, options, target);
        var moments = calibration is null ? new Dictionary<FloatLayer, float[]>() : SecondMoments(graph, layers, eligible, calibration, Math.Min(samples, GramSamples));

        var objectives = eligible.ToDictionary(l => l, l => new FactorObjective(l.Weights!, l.OutputChannels, l.FanIn, moments.GetValueOrDefault(l)));
        var candidates = eligible.SelectMany(l => Settings(l, options).Select(s => (Layer: l, Setting: s))).ToList();
        var fits = new FactorizedWeights[candidates.Count];
        int fitted = 0, step = Math.Max(1, candidates.Count / 10);
        Parallel.For(0, candidates.Count, i =>
        {
            fits[i] = FactorFitter.Fit(objectives[candidates[i].Layer], candidates[i].Setting);
            // Every tenth of the fits: the search is the longest step of a factorized build.
            int n = Interlocked.Increment(ref fitted);
            if (n % step == 0 || n == candidates.Count) options.Progress?.Invoke($"factorization: {n}/{candidates.Count} candidate settings fitted");
        });

        var optionsByLayer = new Dictionary<FloatLayer, List<FactorizationChoice>>();
        var choices = new List<FactorizationChoice>();
        foreach (var layer in weighted)
        {
            int m = layer.OutputChannels, k = layer.FanIn;
            double plainError = objectives.TryGetValue(layer, out var objective) ? objective.RelativeError(PlainWeights(layer, options)) : double.NaN;
            var plain = new FactorizationChoice(layer, m, k, (long)m * k, null, plainError);
            var all = new List<FactorizationChoice> { plain };
            for (int i = 0; i < candidates.Count; i++)
                if (candidates[i].Layer == layer) all.Add(plain with { Factors = fits[i] });
            optionsByLayer[layer] = all;
            choices.Add(plain);
        }

        UniformCheck? check = null;
        if (options.CompressionRatio is { } ratio)
        {
            double budget = 4.0 * weighted.Sum(l => (long)l.Weights!.Length) / ratio;
            Allocate(choices, optionsByLayer, budget);
            if (calibration is not null) check = CheckAgainstUniform(graph, layers, choices, optionsByLayer, budget, options, calibration, samples);
        }
        else
            for (int i = 0; i < choices.Count; i++)
            {
                var factorized = optionsByLayer[choices[i].Layer].Skip(1).FirstOrDefault();
                if (factorized is not null && factorized.Bytes < choices[i].PlainBytes) choices[i] = factorized;
            }

        foreach (var choice in choices)
        {
            // A plain b-bit choice is a plain layer at b bits: the calibrated passes quantize it as any layer of that
            // width (MSE ranges, AdaRound, bias correction), where its fit only rounded to nearest.
            if (choice.Factors is { } factors && factors.Setting.IsPlain(choice.M, choice.K)) choice.Layer.WeightBits = factors.Setting.Bits;
            else choice.Layer.Factorization = choice.Factors;
        }
        return new FactorizationPlan(choices, options.CompressionRatio, calibration is not null, candidates.Count, clock.Elapsed) { Uniform = check };
    }

    /// <summary>Calibration samples the end-to-end check measures (the first ones).</summary>
    private const int CheckSamples = 512;

    /// <summary>
    /// The allocation sums per-layer relative errors, each layer's measured with the others float and plain settings
    /// rounded to nearest; the build rounds plain layers with AdaRound, and the errors of a chain do not add. So the
    /// allocation is checked end to end against the simplest plan within the budget: every eligible layer plain at the
    /// widest of 4, 3, 2 bits that fits. Both are measured on the calibration samples (OutputLossMeter: plain layers
    /// rounded as the build will, factors as fitted) and the uniform plan replaces the allocation only when its mean
    /// output error is lower by more than two paired standard errors (MeasuredSelection.Choose). On fashion_cnn at 16×
    /// the allocation keeps conv1 at 8 bits and factors conv2 (83.7% top-1) where uniform 2-bit reaches 88.8%
    /// (docs/accuracy.md, "Session 14").
    /// </summary>
    private static UniformCheck? CheckAgainstUniform(Graph graph, IReadOnlyList<FloatLayer> layers, List<FactorizationChoice> choices,
        Dictionary<FloatLayer, List<FactorizationChoice>> optionsByLayer, double budget, QuantizationOptions options, CalibrationSet calibration, int samples)
    {
        List<FactorizationChoice>? uniform = null;
        int uniformBits = 0;
        foreach (int bits in PlainBits.Reverse())
        {
            var plan = choices.Select(c => optionsByLayer[c.Layer].FirstOrDefault(o => o.Factors is { } f && f.Setting.IsPlain(c.M, c.K) && f.Setting.Bits == bits) ?? c).ToList();
            if (plan.Sum(c => c.Bytes) <= budget) { uniform = plan; uniformBits = bits; break; }
        }
        if (uniform is null || uniform.SequenceEqual(choices)) return null;

        options.Progress?.Invoke($"factorization: the allocation and uniform {uniformBits}-bit weights measured end to end");
        var meter = new OutputLossMeter(graph, layers, calibration, Math.Min(samples, CheckSamples));
        var rounded = new Dictionary<(FloatLayer, int), float[]>();
        var iterations = MixedPrecision.MeasuredSelection.IterationsFor(options);
        double[] Measure(List<FactorizationChoice> plan)
        {
            var replaced = new Dictionary<FloatLayer, float[]>(ReferenceEqualityComparer.Instance);
            foreach (var c in plan)
            {
                bool plain = c.Factors is null || c.Factors.Setting.IsPlain(c.M, c.K);
                int bits = c.Factors?.Setting.Bits ?? 8;
                replaced[c.Layer] = !plain ? c.Factors!.Product()
                    : rounded.TryGetValue((c.Layer, bits), out var w) ? w
                    : rounded[(c.Layer, bits)] = meter.Rounded(c.Layer, bits, options, iterations);
            }
            return meter.Terms(replaced);
        }
        var terms = new[] { Measure(choices), Measure(uniform) };
        var (chosen, _) = MixedPrecision.MeasuredSelection.Choose(terms, 0);
        if (chosen == 1)
            for (int i = 0; i < choices.Count; i++) choices[i] = uniform[i];
        return new UniformCheck(uniformBits, MixedPrecision.MeasuredSelection.Mean(terms[0]), MixedPrecision.MeasuredSelection.Mean(terms[1]), chosen == 1);
    }

    /// <summary>
    /// Refuses a ratio that even every layer's smallest setting misses (QG0015), before any fitting: the allocation would
    /// otherwise put every eligible layer at its smallest rank and build a model that has silently lost its accuracy.
    /// </summary>
    private static void RequireReachable(List<FloatLayer> weighted, QuantizationOptions options, double ratio)
    {
        long floatBytes = 4L * weighted.Sum(l => (long)l.Weights!.Length), smallest = 0;
        foreach (var layer in weighted)
        {
            long plain = (long)layer.OutputChannels * layer.FanIn;
            smallest += IsEligible(layer) ? Settings(layer, options).Select(s => s.Bytes(layer.OutputChannels, layer.FanIn)).DefaultIfEmpty(plain).Min() : plain;
        }
        if (floatBytes >= ratio * smallest) return;
        var plainLayers = weighted.Where(l => !IsEligible(l)).Select(l => l.Name).ToList();
        throw new ModelException(ErrorCodes.InvalidOption, string.Create(CultureInfo.InvariantCulture,
            $"CompressionRatio={ratio} cannot be reached: the smallest factorized setting of every eligible layer still stores {smallest} weight bytes ({(double)floatBytes / smallest:0.#}× float32)")
            + (plainLayers.Count > 0 ? $"; these layers cannot be factorized and stay int8: {string.Join(", ", plainLayers)}." : "."));
    }

    /// <summary>
    /// Layers the factorized kinds express: FullyConnected or group-1 Conv (with any fused activation: clamp,
    /// per-channel upper bound, LeakyRelu), and not a vector.
    /// </summary>
    private static bool IsEligible(FloatLayer layer) =>
        (layer.Kind == LayerKinds.FullyConnected || layer.Kind == LayerKinds.Conv && layer.Group == 1)
        && Math.Min(layer.OutputChannels, layer.FanIn) >= 4;

    /// <summary>
    /// The settings tried for a layer; only those smaller than its plain int8 weights. Ranks: the ladder up to the
    /// layer's smaller side, plus that side itself (a full-rank factorization of a thin layer, e.g. a 10-output
    /// classifier, is how it gets 2- or 3-bit weights). Dense factors at 2, 3, 4 and 8 bits, and half-sparse ones at
    /// 4 bits only: a stored entry costs its bits plus an 8- or 16-bit index, so a half-sparse factor costs
    /// (bits + 8) / 2 bits per entry or more: at 8 bits as much as the dense factor it is a subset of, and at 2 or 3
    /// bits more than a dense 4-bit one. Sparsity or bits fixed by FactorSparsity/FactorBits replace the search.
    /// Then the plain settings at 2, 3 and 4 bits (FactorSetting.IsPlain): the layer's own weights on a low-bit grid,
    /// the option a layer needs when it is thin or full-rank (fashion_cnn's 10×1568 classifier has rank ≤ 10).
    /// </summary>
    private static IEnumerable<FactorSetting> Settings(FloatLayer layer, QuantizationOptions options)
    {
        int m = layer.OutputChannels, k = layer.FanIn, maxRank = Math.Min(Math.Min(m, k), CompressionOptions.MaxRank);
        var ranks = options.FactorRank is { } fixedRank ? [Math.Min(fixedRank, maxRank)]
            : RankLadder.Where(r => r < maxRank).Append(maxRank).ToArray();
        foreach (var (bits, density) in Combinations(options))
            foreach (int r in ranks)
            {
                var setting = new FactorSetting(r, Kept(density, k), Kept(density, r), bits);
                if (setting.Bytes(m, k) < (long)m * k || options.FactorRank is not null) yield return setting;
            }
        if (options.FactorRank is not null || options.FactorSparsity is not null) yield break;
        // Plain b-bit weights in factorized form, for layers whose rank is not where the bytes are.
        foreach (int bits in options.FactorBits is { } fixedBits ? [fixedBits] : PlainBits)
        {
            var plain = FactorSetting.Plain(m, k, bits);
            if (plain.Bytes(m, k) < (long)m * k) yield return plain;
        }
    }

    private static readonly int[] PlainBits = [2, 3, 4];

    /// <summary>The (bits, density) pairs searched, or the ones the options fix.</summary>
    private static IEnumerable<(int Bits, double Density)> Combinations(QuantizationOptions options)
    {
        if (options.FactorRank is not null || options.FactorBits is not null || options.FactorSparsity is not null)
        {
            int[] bitsList = options.FactorBits is { } fb ? [fb] : options.FactorRank is null ? SearchedBits : [8];
            double[] densities = options.FactorSparsity is { } sparsity ? [1 - sparsity] : options.FactorRank is null ? [1.0, 0.5] : [1.0];
            return bitsList.SelectMany(b => densities.Select(d => (b, d)));
        }
        return SearchedBits.Select(b => (b, 1.0)).Append((4, 0.5));
    }

    private static readonly int[] SearchedBits = [2, 3, 4, 8];

    private static int Kept(double density, int cols) => Math.Clamp((int)Math.Round(density * cols), 1, cols);

    /// <summary>
    /// Greedy marginal allocation: from every layer's smallest option, repeatedly take the change with the largest
    /// decrease in summed relative error per added byte that keeps the total within the budget.
    /// </summary>
    private static void Allocate(List<FactorizationChoice> choices, Dictionary<FloatLayer, List<FactorizationChoice>> all, double budget)
    {
        for (int i = 0; i < choices.Count; i++)
            choices[i] = all[choices[i].Layer].OrderBy(c => c.Bytes).ThenBy(c => c.RelativeError).First();
        long total = choices.Sum(c => c.Bytes);
        while (true)
        {
            int bestLayer = -1;
            FactorizationChoice? best = null;
            double bestGain = 0;
            for (int i = 0; i < choices.Count; i++)
            {
                var current = choices[i];
                foreach (var option in all[current.Layer])
                {
                    long added = option.Bytes - current.Bytes;
                    double gained = current.RelativeError - option.RelativeError;
                    if (added <= 0 || gained <= 0 || total + added > budget) continue;
                    if (gained / added > bestGain) { bestGain = gained / added; bestLayer = i; best = option; }
                }
            }
            if (best is null) return;
            total += best.Bytes - choices[bestLayer].Bytes;
            choices[bestLayer] = best;
        }
    }

    /// <summary>What the plain layer would store: MSE-range per-channel weights rounded to nearest at WeightBits.</summary>
    private static float[] PlainWeights(FloatLayer layer, QuantizationOptions options)
    {
        var scales = RangeSetting.WeightScales(layer.Weights!, layer.OutputChannels, options.WeightBits, options.PerChannel, options.ResolveWeightRanges());
        return WeightQuantizer.Dequantize(WeightQuantizer.RoundToNearest(layer.Weights!, scales, options.WeightBits), scales);
    }

    /// <summary>A FullyConnected layer's input rows as they are; a Conv layer's im2col rows at GramPositions evenly spaced output positions.</summary>
    private static float[] LayerRows(LayerExecutor executor, FloatLayer layer, float[] x)
    {
        if (layer.Kind == LayerKinds.FullyConnected) return x;
        int[] inShape = executor.Shape(layer.Inputs[0]), outShape = executor.Shape(layer.Output);
        int plane = outShape[2] * outShape[3], count = Math.Min(plane, GramPositions);
        var positions = Enumerable.Range(0, count).Select(i => (int)((long)i * plane / count)).ToArray();
        return Im2Col.Rows(layer, x, inShape, outShape, positions)[0];
    }

    /// <summary>Each eligible layer's input second moment over the float model's activations on the first calibration samples.</summary>
    private static Dictionary<FloatLayer, float[]> SecondMoments(Graph graph, IReadOnlyList<FloatLayer> layers, List<FloatLayer> eligible, CalibrationSet calibration, int samples)
    {
        var executor = new LayerExecutor(graph);
        var rows = new float[samples][][];
        Parallel.For(0, samples, s =>
        {
            var inputs = calibration.Sample(graph, s).ToDictionary(kv => kv.Key, kv => kv.Value.ToArray<float>(), StringComparer.Ordinal);
            var values = executor.Run(layers, inputs);
            rows[s] = eligible.Select(l => LayerRows(executor, l, values[l.Inputs[0]])).ToArray();
        });
        var result = new Dictionary<FloatLayer, float[]>();
        for (int e = 0; e < eligible.Count; e++)
        {
            int k = eligible[e].FanIn;
            var stacked = rows.SelectMany(r => r[e]).ToArray();
            result[eligible[e]] = FactorObjective.SecondMomentOf(stacked, stacked.Length / k, k);
        }
        return result;
    }
}
