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
}
