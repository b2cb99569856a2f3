using System.Diagnostics;

namespace QuantGen.Core.Quantization;

/// <summary>What the passes did to one weighted layer, for the report.</summary>
internal sealed class LayerLog
{
    public LayerLog(FloatLayer layer) => Layer = layer;

    public FloatLayer Layer { get; }

    /// <summary>Smallest and largest per-channel max |w| before and after equalization/absorption.</summary>
    public (float Min, float Max) RangeBefore { get; set; }

    public (float Min, float Max) RangeAfter { get; set; }

    /// <summary>Weight SQNR (dB) with round-to-nearest and with the rounding finally chosen.</summary>
    public double WeightSqnrNearest { get; set; } = double.NaN;

    public double WeightSqnrFinal { get; set; } = double.NaN;

    /// <summary>The layer's output SQNR (dB) on the calibration set, inputs from the quantized layers before it.</summary>
    public double OutputSqnrNearest { get; set; } = double.NaN;

    public double OutputSqnrAdaRound { get; set; } = double.NaN;

    public double OutputSqnrFinal { get; set; } = double.NaN;

    /// <summary>AdaRound: weights rounded the other way than nearest.</summary>
    public int? AdaRoundFlips { get; set; }

    /// <summary>Largest |bias change| bias correction made, in real units.</summary>
    public float? BiasCorrection { get; set; }

    public Stopwatch Time { get; } = new();

    /// <summary>Smallest and largest per-channel max |w|.</summary>
    public static (float Min, float Max) ChannelRanges(FloatLayer layer)
    {
        int m = layer.OutputChannels, fanIn = layer.FanIn;
        float lo = float.PositiveInfinity, hi = 0;
        for (int o = 0; o < m; o++)
        {
            float r = 0;
            for (int i = 0; i < fanIn; i++) r = MathF.Max(r, MathF.Abs(layer.Weights![o * fanIn + i]));
            lo = MathF.Min(lo, r);
            hi = MathF.Max(hi, r);
        }
        return (lo, hi);
    }
}
