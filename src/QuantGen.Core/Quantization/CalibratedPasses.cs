using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>
/// The data-driven passes, run layer by layer over the calibration set with two copies of every activation: the
/// float model's, and the quantized model's so far (quantized weights, fake-quantized activations). At each layer:
/// activation range from the float outputs; weight scales; rounding (nearest or AdaRound against the float target
/// from the quantized inputs: asymmetric reconstruction); empirical bias correction (the mean per-channel
/// pre-activation error over the calibration set subtracted from the bias); then the layer's quantized outputs
/// feed the next layer. Values are dropped once their last reader has run.
/// </summary>
internal sealed class CalibratedPasses
{
    /// <summary>Values per activation sampled for the MSE / percentile range search (bounds its cost).</summary>
    private const int RangeSampleBudget = 1 << 18;

    /// <summary>Input rows (im2col rows for conv) per layer handed to AdaRound.</summary>
    private const int AdaRoundRowBudget = 16384;

    private readonly Graph _graph;
    private readonly QuantizationOptions _options;
    private readonly QuantizationAlgorithms _algorithms;
    private readonly LayerExecutor _executor;

    public CalibratedPasses(Graph graph, QuantizationOptions options, QuantizationAlgorithms algorithms)
    {
        _graph = graph;
        _options = options;
        _algorithms = algorithms;
        _executor = new LayerExecutor(graph);
    }

    /// <summary>Sets every weighted layer's scales, rounding and (corrected) bias; returns the activation ranges.</summary>
    public Dictionary<string, (float Min, float Max)> Run(IReadOnlyList<FloatLayer> layers, CalibrationSet calibration, int samples, IReadOnlyDictionary<FloatLayer, LayerLog> logs)
    {
        var ranges = new Dictionary<string, (float Min, float Max)>(StringComparer.Ordinal);
        var floats = new Dictionary<string, float[]>[samples];
        var quants = new Dictionary<string, float[]>[samples];
        for (int s = 0; s < samples; s++)
        {
            floats[s] = calibration.Sample(_graph, s).ToDictionary(kv => kv.Key, kv => kv.Value.ToArray<float>(), StringComparer.Ordinal);
            quants[s] = new Dictionary<string, float[]>(StringComparer.Ordinal);
        }
        foreach (var input in _graph.Inputs)
        {
            ranges[input.Name] = Range(floats, input.Name, _options.ResolveActivationRanges());
            var grid = ActivationGrid.FromRange(ranges[input.Name].Min, ranges[input.Name].Max, _options.ActivationBits);
            for (int s = 0; s < samples; s++) quants[s][input.Name] = grid.FakeQuantize(floats[s][input.Name]);
        }

        var lastReader = LastReaders(layers);
        var graphOutputs = _graph.Outputs.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        // Float island values stay float unless a quantized layer reads them (then a Quantize layer rounds them).
        var quantizedReads = layers.Where(l => !l.IsFloatOp).SelectMany(l => l.Inputs).ToHashSet(StringComparer.Ordinal);
        int weightedDone = 0;
        for (int index = 0; index < layers.Count; index++)
        {
            var layer = layers[index];
            var log = logs.GetValueOrDefault(layer);
            log?.Time.Start();
            var floatBias = layer.Bias?.ToArray();
            var outputs = new float[samples][];
            Parallel.For(0, samples, s => outputs[s] = _executor.Execute(layer, layer.Weights, floatBias, name => floats[s][name]));
            for (int s = 0; s < samples; s++) floats[s][layer.Output] = outputs[s];

            if (!layer.IsFloatTail && layer.Kind is not (LayerKinds.MaxPool or LayerKinds.Reshape or LayerKinds.Remap or LayerKinds.Resize))
                ranges[layer.Output] = TableInputRanges.Clip(layers, graphOutputs, layer.Output, Range(floats, layer.Output, _options.ResolveActivationRanges()));

            float[]? weights = null;
            if (layer.Kind is LayerKinds.Conv or LayerKinds.FullyConnected)
                weights = QuantizeWeights(layer, index, floats, quants, log!);

            var quantized = new float[samples][];
            Parallel.For(0, samples, s => quantized[s] = _executor.Execute(layer, weights, layer.Bias, name => quants[s][name]));
            if (log is not null)
            {
                // Measured before the output's own rounding, like the nearest/AdaRound figures it is compared with.
                log.OutputSqnrFinal = Sqnr(floats, quantized, layer.Output);
                log.Time.Stop();
                LayerProgress.Report(_options, log, ++weightedDone, logs.Count);
            }
            if (ranges.TryGetValue(layer.Output, out var r) && !layer.IsFloatTail && (!layer.IsFloatOp || quantizedReads.Contains(layer.Output)))
            {
                var grid = ActivationGrid.FromRange(r.Min, r.Max, _options.ActivationBits);
                Parallel.For(0, samples, s => quantized[s] = grid.FakeQuantize(quantized[s]));
            }
            for (int s = 0; s < samples; s++) quants[s][layer.Output] = quantized[s];

            foreach (var value in layer.Inputs)
                if (lastReader.TryGetValue(value, out int last) && last == index)
                    for (int s = 0; s < samples; s++) { floats[s].Remove(value); quants[s].Remove(value); }
        }
        return ranges;
    }

    /// <summary>Scales, rounding and bias correction for one Conv/FullyConnected layer; returns its dequantized weights.</summary>
    private float[] QuantizeWeights(FloatLayer layer, int index, Dictionary<string, float[]>[] floats, Dictionary<string, float[]>[] quants, LayerLog log)
    {
        if (layer.Factorization is not null) return FactorizedWeights(layer, floats, quants, log);
        int bits = layer.WeightBits, m = layer.OutputChannels;
        var scales = RangeSetting.WeightScales(layer.Weights!, m, bits, _options.PerChannel, _options.ResolveWeightRanges());
        var nearest = WeightQuantizer.RoundToNearest(layer.Weights!, scales, bits);
        layer.WeightScales = scales;
        layer.QuantizedWeights = nearest;
        log.WeightSqnrNearest = log.WeightSqnrFinal = Quantization.Sqnr.OfWeights(layer.Weights!, nearest, scales);

        bool adaRound = _algorithms.HasFlag(QuantizationAlgorithms.AdaRound);
        bool correct = _algorithms.HasFlag(QuantizationAlgorithms.BiasCorrection);
        if (adaRound || correct)
            log.OutputSqnrNearest = LayerSqnr(layer, WeightQuantizer.Dequantize(nearest, scales), layer.Bias!, floats, quants);

        if (adaRound)
        {
            var problem = AdaRoundInputs(_executor, layer, index, floats, quants, scales, bits);
            var result = AdaRound.Optimize(problem, new AdaRoundSettings(Iterations: _options.AdaRoundIterations, Seed: index));
            layer.QuantizedWeights = result.Quantized;
            log.AdaRoundFlips = result.FlippedFromNearest;
            log.WeightSqnrFinal = Quantization.Sqnr.OfWeights(layer.Weights!, result.Quantized, scales);
            log.OutputSqnrAdaRound = LayerSqnr(layer, WeightQuantizer.Dequantize(result.Quantized, scales), layer.Bias!, floats, quants);
        }

        var dequantized = WeightQuantizer.Dequantize(layer.QuantizedWeights, scales);
        if (correct)
        {
            var shift = BiasCorrection.Empirical(layer, layer.Weights!, dequantized, MeanRows(layer, floats), MeanRows(layer, quants));
            log.BiasCorrection = shift.Select(MathF.Abs).DefaultIfEmpty(0).Max();
        }
        return dequantized;
    }

    /// <summary>
    /// A factorized layer (weights fitted by the planner): its product stands in for the weights, the int16
    /// intermediate's range is taken from the quantized model's inputs, and empirical bias correction applies as usual.
    /// </summary>
    private float[] FactorizedWeights(FloatLayer layer, Dictionary<string, float[]>[] floats, Dictionary<string, float[]>[] quants, LayerLog log)
    {
        var factors = layer.Factorization!;
        var product = factors.Product();
        log.WeightSqnrNearest = log.WeightSqnrFinal = Quantization.Sqnr.Of(layer.Weights!, product);
        var b = factors.B.Dequantize();
        int k = layer.FanIn, r = factors.B.Rows;
        var largest = new double[floats.Length];
        Parallel.For(0, floats.Length, s =>
        {
            var x = quants[s][layer.Inputs[0]];
            if (layer.Kind == LayerKinds.Conv)
            {
                // B as a k×k conv to r channels: B [r, K] times the im2col columns [K, positions] (padding reads 0 = zx).
                int[] inShape = _executor.Shape(layer.Inputs[0]), outShape = _executor.Shape(layer.Output);
                int plane = outShape[2] * outShape[3];
                var columns = Im2Col.Columns(layer, x, inShape, outShape);
                var t = Factorization.DenseMath.Multiply(b, columns.AsSpan(0, k * plane).ToArray(), r, k, plane);
                Im2Col.Return(columns);
                largest[s] = Math.Abs(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(t));   // MaxMagnitude keeps the sign
                return;
            }
            for (int row = 0; row < x.Length / k; row++)
                for (int c = 0; c < r; c++)
                    largest[s] = Math.Max(largest[s], Math.Abs(System.Numerics.Tensors.TensorPrimitives.Dot(b.AsSpan(c * k, k), x.AsSpan(row * k, k))));
        });
        layer.Factorization = factors with { IntermediateMax = largest.Max() };
        if (_algorithms.HasFlag(QuantizationAlgorithms.BiasCorrection))
        {
            log.OutputSqnrNearest = LayerSqnr(layer, product, layer.Bias!, floats, quants);
            var shift = BiasCorrection.Empirical(layer, layer.Weights!, product, MeanRows(layer, floats), MeanRows(layer, quants));
            log.BiasCorrection = shift.Select(MathF.Abs).DefaultIfEmpty(0).Max();
        }
        return product;
    }

    /// <summary>The layer's output SQNR over the calibration set for given weights and bias, inputs from the quantized model.</summary>
    private double LayerSqnr(FloatLayer layer, float[] weights, float[] bias, Dictionary<string, float[]>[] floats, Dictionary<string, float[]>[] quants)
    {
        var outputs = new float[floats.Length][];
        Parallel.For(0, floats.Length, s => outputs[s] = _executor.Execute(layer, weights, bias, name => quants[s][name]));
        return Sqnr(floats, outputs, layer.Output);
    }

    private static double Sqnr(Dictionary<string, float[]>[] floats, float[][] quantized, string value)
    {
        double signal = 0, noise = 0;
        for (int s = 0; s < floats.Length; s++)
        {
            float[] a = floats[s][value], b = quantized[s];
            for (int i = 0; i < a.Length; i++)
            {
                signal += (double)a[i] * a[i];
                double d = a[i] - b[i];
                noise += d * d;
            }
        }
        return noise == 0 ? double.PositiveInfinity : 10 * Math.Log10(signal / noise);
    }

    /// <summary>Per group, the mean input row (im2col row for conv; zero padding included) over all samples and positions.</summary>
    private double[][] MeanRows(FloatLayer layer, Dictionary<string, float[]>[] values)
    {
        int[] inShape = _executor.Shape(layer.Inputs[0]), outShape = _executor.Shape(layer.Output);
        var perSample = new (double[][] Sums, int Rows)[values.Length];
        Parallel.For(0, values.Length, s => perSample[s] = Im2Col.RowSums(layer, values[s][layer.Inputs[0]], inShape, outShape));
        // Summed in sample order: the result does not depend on the thread schedule.
        var means = perSample[0].Sums.Select(g => new double[g.Length]).ToArray();
        long rows = 0;
        foreach (var (sums, n) in perSample)
        {
            for (int g = 0; g < means.Length; g++)
                for (int i = 0; i < means[g].Length; i++) means[g][i] += sums[g][i];
            rows += n;
        }
        foreach (var g in means)
            for (int i = 0; i < g.Length; i++) g[i] /= Math.Max(1, rows);
        return means;
    }

    /// <summary>The AdaRound problem of a layer: a seeded subset of input rows from both models, per group (also mixed precision's candidates).</summary>
    internal static AdaRoundProblem AdaRoundInputs(LayerExecutor executor, FloatLayer layer, int index, Dictionary<string, float[]>[] floats, Dictionary<string, float[]>[] quants, float[] scales, int bits)
    {
        int[] inShape = executor.Shape(layer.Inputs[0]), outShape = executor.Shape(layer.Output);
        int samples = floats.Length, perSample = Im2Col.RowCount(layer, inShape, outShape);
        int take = Math.Min(perSample, Math.Max(1, AdaRoundRowBudget / samples));
        var random = new Random(index);
        var positions = new int[samples][];
        for (int s = 0; s < samples; s++)
        {
            var all = Enumerable.Range(0, perSample).ToArray();
            random.Shuffle(all);
            positions[s] = all[..take];
            Array.Sort(positions[s]);
        }
        int groups = layer.Kind == LayerKinds.Conv ? layer.Group : 1, k = layer.FanIn;
        var floatRows = new float[groups][];
        var quantRows = new float[groups][];
        for (int g = 0; g < groups; g++)
        {
            floatRows[g] = new float[samples * take * k];
            quantRows[g] = new float[samples * take * k];
        }
        Parallel.For(0, samples, s =>
        {
            var f = Im2Col.Rows(layer, floats[s][layer.Inputs[0]], inShape, outShape, positions[s]);
            var q = Im2Col.Rows(layer, quants[s][layer.Inputs[0]], inShape, outShape, positions[s]);
            for (int g = 0; g < groups; g++)
            {
                f[g].CopyTo(floatRows[g], s * take * k);
                q[g].CopyTo(quantRows[g], s * take * k);
            }
        });
        int m = layer.OutputChannels;
        var clampMin = Enumerable.Repeat(layer.ClampMin, m).ToArray();
        var clampMax = Enumerable.Range(0, m).Select(layer.ClampMaxOf).ToArray();
        return new AdaRoundProblem(layer.Weights!, m, groups, scales, bits, layer.Bias!, floatRows, quantRows, clampMin, clampMax, layer.LeakyAlpha);
    }

    private (float Min, float Max) Range(Dictionary<string, float[]>[] values, string name, RangeMethod method)
    {
        int total = values.Sum(v => v[name].Length);
        if (method == RangeMethod.MinMax || total <= RangeSampleBudget)
            return RangeSetting.ActivationRange(values.SelectMany(v => v[name]).ToArray(), _options.ActivationBits, method);
        // A deterministic stride through all values keeps the search cheap while seeing every sample; the extremes
        // are always kept so clipping is a choice of the search, not an accident of the subsample.
        int stride = (total + RangeSampleBudget - 1) / RangeSampleBudget;
        var picked = new List<float>(RangeSampleBudget + 2);
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        long position = 0;
        foreach (var sample in values)
            foreach (var v in sample[name])
            {
                min = MathF.Min(min, v);
                max = MathF.Max(max, v);
                if (position++ % stride == 0) picked.Add(v);
            }
        picked.Add(min);
        picked.Add(max);
        return RangeSetting.ActivationRange(picked.ToArray(), _options.ActivationBits, method);
    }

    /// <summary>Index of the last layer reading each value (graph outputs are never dropped: nothing reads them after).</summary>
    private Dictionary<string, int> LastReaders(IReadOnlyList<FloatLayer> layers)
    {
        var last = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < layers.Count; i++)
            foreach (var input in layers[i].Inputs) last[input] = i;
        foreach (var output in _graph.Outputs) last.Remove(output.Name);
        return last;
    }
}
