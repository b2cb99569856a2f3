namespace QuantGen.Core.Quantization;

internal static partial class DataFreeRanges
{
    /// <summary>A Remap's element-wise moments: each output element's input element's, the fill value's (variance 0) where it pads.</summary>
    private static (double[], double[]) Remapped(FloatLayer layer, (double[] Mean, double[] Var) x)
    {
        var map = layer.RemapMap!;
        var mean = new double[map.Length];
        var variance = new double[map.Length];
        double fill = layer.RemapFill ?? 0;
        for (int i = 0; i < map.Length; i++)
            (mean[i], variance[i]) = map[i] >= 0 ? (x.Mean[map[i]], x.Var[map[i]]) : (fill, 0);
        return (mean, variance);
    }

    /// <summary>
    /// A linear Resize's element-wise moments: the mean the weighted mean of its four taps', the variance theirs
    /// weighted likewise (the taps taken as fully correlated neighbours: an upper bound).
    /// </summary>
    private static (double[], double[]) Resized(FloatLayer layer, (double[] Mean, double[] Var) x, int[] inShape)
    {
        int[] rows = layer.ResizeRows!, columns = layer.ResizeColumns!;
        int inH = inShape[^2], inW = inShape[^1], outH = rows.Length / 3, outW = columns.Length / 3, planes = x.Mean.Length / (inH * inW);
        var mean = new double[planes * outH * outW];
        var variance = new double[mean.Length];
        for (int p = 0; p < planes; p++)
            for (int oh = 0; oh < outH; oh++)
                for (int ow = 0; ow < outW; ow++)
                {
                    double wr = layer.ResizeRowFractions![oh], wc = layer.ResizeColumnFractions![ow];
                    int r0 = (p * inH + rows[3 * oh]) * inW, r1 = (p * inH + rows[3 * oh + 1]) * inW, c0 = columns[3 * ow], c1 = columns[3 * ow + 1];
                    int o = (p * outH + oh) * outW + ow;
                    foreach (var (at, w) in new[] { (r0 + c0, (1 - wr) * (1 - wc)), (r0 + c1, (1 - wr) * wc), (r1 + c0, wr * (1 - wc)), (r1 + c1, wr * wc) })
                    {
                        mean[o] += w * x.Mean[at];
                        variance[o] += w * Math.Sqrt(x.Var[at]);
                    }
                    variance[o] *= variance[o];
                }
        return (mean, variance);
    }
}
