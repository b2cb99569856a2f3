using QuantGen.Core.Artifact;

namespace QuantGen.Core.Quantization;

/// <summary>
/// An activation grid: real = Scale · (q − ZeroPoint), q in [QMin, QMax]. Asymmetric u8 at 8 bits; symmetric i16
/// (zero point 0, ±32767) at 16 bits, where one bit of resolution buys accumulators without zero-point terms.
/// </summary>
internal readonly record struct ActivationGrid(float Scale, int ZeroPoint, int QMin, int QMax)
{
    /// <summary>Largest grid index of the symmetric 16-bit grid: narrow range, so negation stays on the grid.</summary>
    public const int Int16Level = 32767;

    /// <summary>
    /// The grid covering [min, max] widened to include 0 (so real zero, i.e. padding and ReLU's floor, is exact).
    /// A degenerate range (all zeros) gets scale 1. 16 bits give the symmetric grid (<see cref="Symmetric16"/>).
    /// </summary>
    public static ActivationGrid FromRange(float min, float max, int bits)
    {
        if (bits == 16) return Symmetric16(min, max);
        int qmax = (1 << bits) - 1;
        min = MathF.Min(min, 0);
        max = MathF.Max(max, 0);
        if (!(max - min > 1e-20f)) return new ActivationGrid(1f, 0, 0, qmax);
        float scale = (max - min) / qmax;
        int zero = (int)Math.Clamp(Math.Round(-min / scale, MidpointRounding.ToEven), 0, qmax);
        return new ActivationGrid(scale, zero, 0, qmax);
    }

    /// <summary>
    /// TFLite's "16x8" activation grid: q in [−32767, 32767], zero point 0, the scale covering the larger of |min|
    /// and |max|. A degenerate range gets scale 1.
    /// </summary>
    private static ActivationGrid Symmetric16(float min, float max)
    {
        float bound = MathF.Max(MathF.Abs(min), MathF.Abs(max));
        if (!(bound > 1e-20f)) return new ActivationGrid(1f, 0, -Int16Level, Int16Level);
        return new ActivationGrid(bound / Int16Level, 0, -Int16Level, Int16Level);
    }

    /// <summary>The storage type of the grid's indices.</summary>
    public ArtifactElementType ElementType => QMin < 0 ? ArtifactElementType.I16 : ArtifactElementType.U8;

    /// <summary>The largest |q − ZeroPoint| the grid holds: what a dot product's accumulator bound multiplies.</summary>
    public int MaxMagnitude => Math.Max(QMax - ZeroPoint, ZeroPoint - QMin);

    /// <summary>The grid index of a real bound, clamped into the grid (infinite bounds give the grid's ends).</summary>
    public int Clamp(float real)
    {
        if (float.IsNegativeInfinity(real)) return QMin;
        if (float.IsPositiveInfinity(real)) return QMax;
        double q = Math.Round(real / Scale, MidpointRounding.ToEven) + ZeroPoint;
        return (int)Math.Clamp(q, QMin, QMax);
    }

    /// <summary>The values rounded onto the grid and back (the float picture of what the integer model holds).</summary>
    public float[] FakeQuantize(float[] values)
    {
        var result = new float[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            double q = Math.Clamp(Math.Round(values[i] / Scale, MidpointRounding.ToEven) + ZeroPoint, QMin, QMax);
            result[i] = (float)((q - ZeroPoint) * Scale);
        }
        return result;
    }

    public ArtifactTensor ToTensor(string name, int[] shape) =>
        new(name, ElementType, new EquatableArray<int>(shape), Scale, ZeroPoint, QMin, QMax);
}

/// <summary>Symmetric per-output-channel weight quantization on the narrow grid ±(2^(b−1) − 1).</summary>
internal static class WeightQuantizer
{
    /// <summary>Largest grid index for <paramref name="bits"/> (narrow range: u8×s8 products cannot saturate in VNNI pairs).</summary>
    public static int MaxLevel(int bits) => (1 << (bits - 1)) - 1;

    /// <summary>The real weights grid indices stand for: q · scale of their output channel.</summary>
    public static float[] Dequantize(int[] q, float[] scales)
    {
        int fanIn = q.Length / scales.Length;
        var w = new float[q.Length];
        for (int i = 0; i < q.Length; i++) w[i] = q[i] * scales[i / fanIn];
        return w;
    }

    /// <summary>Round-to-nearest (half to even) onto the grid, clamped to ±level.</summary>
    public static int[] RoundToNearest(float[] weights, float[] scales, int bits)
    {
        int channels = scales.Length, fanIn = weights.Length / channels, level = MaxLevel(bits);
        var q = new int[weights.Length];
        for (int c = 0; c < channels; c++)
            for (int i = 0; i < fanIn; i++)
                q[c * fanIn + i] = (int)Math.Clamp(Math.Round(weights[c * fanIn + i] / scales[c], MidpointRounding.ToEven), -level, level);
        return q;
    }
}
