namespace QuantGen.Core.Quantization;

/// <summary>
/// Bias correction (DFQ, arXiv 1906.04721 §4.2). Quantized weights W̃ = W + ε shift each output channel's mean by
/// ε·E[x]; subtracting that shift from the bias restores the channel's expected output. Empirical: the expectation
/// of the quantized model's own input x̃ and the float model's x over the calibration set, so the correction also
/// absorbs biased error arriving from earlier layers (mean output error on the calibration set becomes zero).
/// Analytic (data-free): E[x] from the moment propagation of <see cref="DataFreeRanges"/> (clipped-normal means
/// from the folded BN statistics).
/// </summary>
internal static class BiasCorrection
{
    /// <summary>
    /// b −= W̃·E[x̃] − W·E[x] per output channel; <paramref name="meanFloat"/> / <paramref name="meanQuantized"/> hold,
    /// per group, the mean input row (im2col row for conv). Returns the change applied to each channel's bias.
    /// </summary>
    public static float[] Empirical(FloatLayer layer, float[] weights, float[] quantizedWeights, double[][] meanFloat, double[][] meanQuantized)
    {
        int m = layer.OutputChannels, k = layer.FanIn, groups = meanFloat.Length, mg = m / groups;
        var shift = new float[m];
        for (int o = 0; o < m; o++)
        {
            int g = o / mg;
            double expectedQuantized = 0, expectedFloat = 0;
            for (int i = 0; i < k; i++)
            {
                expectedQuantized += quantizedWeights[o * k + i] * meanQuantized[g][i];
                expectedFloat += weights[o * k + i] * meanFloat[g][i];
            }
            shift[o] = (float)(expectedQuantized - expectedFloat);
            layer.Bias![o] -= shift[o];
        }
        return shift;
    }

    /// <summary>Data-free: b −= ε·E[x], E[x] the im2col of the propagated element means averaged over positions.</summary>
    public static float[] Analytic(FloatLayer layer, float[] weights, float[] quantizedWeights, double[] inputMean, int[] inShape, int[] outShape)
    {
        var mean = inputMean.Select(v => (float)v).ToArray();
        var (sums, n) = Im2Col.RowSums(layer, mean, inShape, outShape);
        var rows = sums.Select(g => g.Select(v => v / Math.Max(1, n)).ToArray()).ToArray();
        return Empirical(layer, weights, quantizedWeights, rows, rows);
    }
}
