namespace QuantGen.Core.Quantization;

/// <summary>
/// Range setting (white paper §3.4): the clipping range of a weight or activation grid by min-max, MSE grid search,
/// or percentile.
/// </summary>
internal static class RangeSetting
{
    /// <summary>Candidate clipping factors α: 1 down to 0.3 in 100 steps (the white paper's search).</summary>
    private const int MseSteps = 100;
    private const double MseLowest = 0.3;

    /// <summary>The percentile the percentile method keeps (of magnitudes for weights, each tail for activations).</summary>
    public const double Percentile = 99.99;

    /// <summary>
    /// Symmetric weight steps on the narrow grid ±(2^(b−1) − 1): one per output channel, or the same value for all
    /// channels when <paramref name="perChannel"/> is false.
    /// </summary>
    public static float[] WeightScales(float[] weights, int channels, int bits, bool perChannel, RangeMethod method)
    {
        int fanIn = weights.Length / channels, level = WeightQuantizer.MaxLevel(bits);
        var scales = new float[channels];
        if (!perChannel)
        {
            Array.Fill(scales, WeightScale(weights, level, method));
            return scales;
        }
        for (int c = 0; c < channels; c++) scales[c] = WeightScale(weights.AsSpan(c * fanIn, fanIn), level, method);
        return scales;
    }

    private static float WeightScale(ReadOnlySpan<float> w, int level, RangeMethod method)
    {
        float max = 0;
        foreach (var v in w) max = MathF.Max(max, MathF.Abs(v));
        if (max == 0) return 1f;
        switch (method)
        {
            case RangeMethod.MinMax:
                return max / level;
            case RangeMethod.Percentile:
            {
                var magnitudes = new float[w.Length];
                for (int i = 0; i < w.Length; i++) magnitudes[i] = MathF.Abs(w[i]);
                Array.Sort(magnitudes);
                float clip = magnitudes[Math.Min(magnitudes.Length - 1, (int)Math.Ceiling(Percentile / 100 * magnitudes.Length) - 1)];
                return (clip > 0 ? clip : max) / level;
            }
            default:
            {
                float best = max / level;
                double bestError = double.PositiveInfinity;
                for (int step = 0; step < MseSteps; step++)
                {
                    float scale = (float)(max * (1 - (1 - MseLowest) * step / (MseSteps - 1)) / level);
                    double error = 0;
                    foreach (var v in w)
                    {
                        double q = Math.Clamp(Math.Round(v / scale, MidpointRounding.ToEven), -level, level) * scale - v;
                        error += q * q;
                    }
                    if (error < bestError) (best, bestError) = (scale, error);
                }
                return best;
            }
        }
    }

    /// <summary>
    /// The activation range of a set of observed values: min-max, the [α·min, α·max] with the least squared error
    /// on the asymmetric grid, or the 0.01% / 99.99% percentiles. <paramref name="values"/> may be reordered.
    /// </summary>
    public static (float Min, float Max) ActivationRange(float[] values, int bits, RangeMethod method)
    {
        if (values.Length == 0) return (0, 0);
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (var v in values) { min = MathF.Min(min, v); max = MathF.Max(max, v); }
        switch (method)
        {
            case RangeMethod.MinMax:
                return (min, max);
            case RangeMethod.Percentile:
            {
                Array.Sort(values);
                int last = values.Length - 1;
                float lo = values[(int)Math.Floor((100 - Percentile) / 100 * last)], hi = values[(int)Math.Ceiling(Percentile / 100 * last)];
                return (min < 0 ? lo : min, hi);
            }
            default:
            {
                (float, float) best = (min, max);
                double bestError = double.PositiveInfinity;
                for (int step = 0; step < MseSteps; step++)
                {
                    float alpha = (float)(1 - (1 - MseLowest) * step / (MseSteps - 1));
                    var grid = ActivationGrid.FromRange(alpha * min, alpha * max, bits);
                    double error = 0;
                    foreach (var v in values)
                    {
                        double q = Math.Clamp(Math.Round(v / grid.Scale, MidpointRounding.ToEven) + grid.ZeroPoint, grid.QMin, grid.QMax);
                        double d = (q - grid.ZeroPoint) * grid.Scale - v;
                        error += d * d;
                    }
                    if (error < bestError) (best, bestError) = ((alpha * min, alpha * max), error);
                }
                return best;
            }
        }
    }
}
