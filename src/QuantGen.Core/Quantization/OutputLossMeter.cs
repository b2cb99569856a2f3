using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>
/// Measures a choice of weights end to end, label-free: the float model run on the first calibration samples with some
/// weighted layers' weights replaced, each sample's output mean squared error against the float model's own outputs.
/// The float activations are computed once, so each layer can also be rounded as the build will round it (AdaRound
/// against its float inputs). Used where a per-layer proxy picks the candidates and a measurement decides between them:
/// mixed precision's second phase and the factorization planner's check against uniform plain weights.
/// Deterministic: AdaRound is seeded per layer, samples run in parallel and their terms are kept in sample order.
/// </summary>
internal sealed class OutputLossMeter
{
    private readonly IReadOnlyList<FloatLayer> _layers;
    private readonly LayerExecutor _executor;
    private readonly string[] _outputs;
    private readonly Dictionary<string, float[]>[] _inputs, _floats;
    private readonly float[][] _reference;

    public OutputLossMeter(Graph graph, IReadOnlyList<FloatLayer> layers, CalibrationSet calibration, int count)
    {
        _layers = layers;
        _executor = new LayerExecutor(graph);
        _outputs = graph.Outputs.Select(o => o.Name).ToArray();
        _inputs = new Dictionary<string, float[]>[count];
        _floats = new Dictionary<string, float[]>[count];
        _reference = new float[count][];
        Parallel.For(0, count, s =>
        {
            _inputs[s] = calibration.Sample(graph, s).ToDictionary(kv => kv.Key, kv => kv.Value.ToArray<float>(), StringComparer.Ordinal);
            _floats[s] = _executor.Run(layers, _inputs[s]);
            _reference[s] = _outputs.SelectMany(o => _floats[s][o]).ToArray();
        });
    }

    /// <summary>
    /// One layer's dequantized weights at <paramref name="bits"/> (ranges per the options): AdaRound with
    /// <paramref name="adaRoundIterations"/> iterations against its float inputs below 8 bits, else nearest.
    /// </summary>
    public float[] Rounded(FloatLayer layer, int bits, QuantizationOptions options, int adaRoundIterations)
    {
        if (adaRoundIterations <= 0 || bits >= 8) return MixedPrecision.MixedPrecisionPlanner.Nearest(layer, bits, options);
        int index = 0;
        while (!ReferenceEquals(_layers[index], layer)) index++;
        var scales = RangeSetting.WeightScales(layer.Weights!, layer.OutputChannels, bits, options.PerChannel, options.ResolveWeightRanges());
        var problem = CalibratedPasses.AdaRoundInputs(_executor, layer, index, _floats, _floats, scales, bits);
        var result = AdaRound.Optimize(problem, new AdaRoundSettings(Iterations: adaRoundIterations, Seed: index));
        return WeightQuantizer.Dequantize(result.Quantized, scales);
    }

    /// <summary>Per sample, the outputs' mean squared error with <paramref name="replaced"/> layers' weights (activations float).</summary>
    public double[] Terms(IReadOnlyDictionary<FloatLayer, float[]> replaced)
    {
        var terms = new double[_inputs.Length];
        Parallel.For(0, terms.Length, s =>
        {
            var values = new Dictionary<string, float[]>(_inputs[s], StringComparer.Ordinal);
            foreach (var layer in _layers)
                values[layer.Output] = _executor.Execute(layer, replaced.GetValueOrDefault(layer) ?? layer.Weights, layer.Bias, name => values[name]);
            var y = _outputs.SelectMany(o => values[o]).ToArray();
            double sum = 0;
            for (int i = 0; i < y.Length; i++)
            {
                double d = (double)y[i] - _reference[s][i];
                sum += d * d;
            }
            terms[s] = sum / Math.Max(1, y.Length);
        });
        return terms;
    }
}
