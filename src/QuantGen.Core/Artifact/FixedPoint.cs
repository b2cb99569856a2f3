using System;

namespace QuantGen.Core.Artifact;

/// <summary>
/// The arithmetic every quantized layer shares. The generated code emits the same expressions; the simulator calls
/// these. Any change here changes results bit for bit, so the simulator and the generator change together
/// (docs/artifact.md); bump the artifact format version when the stored data changes meaning for the quantizer too.
/// </summary>
public static class FixedPoint
{
    /// <summary>
    /// Encodes a positive real multiplier M as (multiplier, shift) with M ≈ multiplier · 2^−shift, multiplier in
    /// [2^30, 2^31) (31 significant bits) and shift in [1, 62]. Multipliers too small for that range become (0, 1).
    /// </summary>
    public static (int Multiplier, int Shift) Encode(double real) => Encode(real, 31);

    /// <summary>
    /// Encodes M with <paramref name="bits"/> significant bits (multiplier in [2^(bits−1), 2^bits), 1 ≤ bits ≤ 31).
    /// 16-bit activation layers use fewer than 31 so that their int64 accumulator times the multiplier stays within
    /// 64 bits (docs/artifact.md); the artifact builder picks the precision from the layer's accumulator bound.
    /// </summary>
    public static (int Multiplier, int Shift) Encode(double real, int bits)
    {
        if (bits is < 1 or > 31) throw new ArgumentOutOfRangeException(nameof(bits), bits, "A multiplier has 1 to 31 significant bits.");
        if (!(real >= 0) || double.IsInfinity(real))
            throw new ArgumentOutOfRangeException(nameof(real), real, "A requantization multiplier must be finite and non-negative.");
        if (real == 0) return (0, 1);
        int exponent = (int)Math.Floor(Math.Log(real, 2)) + 1; // real = f · 2^exponent, f in [0.5, 1)
        double fraction = real / Math.Pow(2, exponent);
        // Log rounding can be off by one near powers of two: renormalise.
        while (fraction >= 1) { fraction /= 2; exponent++; }
        while (fraction < 0.5) { fraction *= 2; exponent--; }
        long q = (long)Math.Round(fraction * (1L << bits), MidpointRounding.AwayFromZero);
        if (q == 1L << bits) { q >>= 1; exponent++; }
        int shift = bits - exponent;
        if (shift > 62) return (0, 1);
        if (shift < 1)
            throw new ArgumentOutOfRangeException(nameof(real), real, $"Requantization multiplier is too large (≥ 2^{bits - 1}).");
        return ((int)q, shift);
    }

    /// <summary>The real value an encoded multiplier stands for.</summary>
    public static double Decode(int multiplier, int shift) => multiplier * Math.Pow(2, -shift);

    /// <summary>
    /// round(acc · multiplier · 2^−shift) + zero, clamped to [min, max]. Rounding is half toward +∞ (add half, arithmetic
    /// shift right), in one step on the exact 64-bit product ("single rounding").
    /// </summary>
    public static int Requantize(int acc, int multiplier, int shift, int zero, int min, int max)
    {
        long v = ((acc * (long)multiplier + (1L << (shift - 1))) >> shift) + zero;
        return v < min ? min : v > max ? max : (int)v;
    }

    /// <summary>
    /// The float32 scale that 8-bit weighted layers (Conv, FullyConnected with u8 activations) requantize with: the
    /// encoded multiplier · 2^−shift, exact in double, rounded once to float32 (docs/artifact.md).
    /// </summary>
    public static float Scale(int multiplier, int shift) =>
        (float)(multiplier * BitConverter.Int64BitsToDouble((long)(1023 - shift) << 52));

    /// <summary>
    /// 8-bit weighted layers: clamp(round_half_even(float(acc) · scale) + zero, min, max), in float32: the accumulator
    /// rounded to float32 (exact below 2^24), one float32 product, clamped to [min − zero, max − zero] before the rounding
    /// (the same as clamping after, the bounds being integers; it keeps the conversion in range). SIMD kernels compute
    /// exactly this with vcvtdq2ps, vmulps, vmaxps/vminps and vcvtps2dq (round half to even): one multiply, where the
    /// fixed-point form needs 64-bit products and shifts. The product is written with its own cast so that a runtime
    /// that keeps floats in wider registers still rounds it to float32 here (a double product of two floats is exact,
    /// so that rounding is the same).
    /// </summary>
    public static int RequantizeScaled(int acc, float scale, int zero, int min, int max)
    {
        float v = (float)((float)acc * scale);
        float low = min - zero, high = max - zero;
        if (v < low) v = low;
        else if (v > high) v = high;
        return (int)Math.Round(v, MidpointRounding.ToEven) + zero;
    }

    /// <summary>
    /// The int64 accumulator form (16-bit activations): the same single rounding, the product exact in 64 bits.
    /// The artifact builder guarantees |acc| · multiplier &lt; 2^62 through the multiplier's precision; a product
    /// outside that range is a broken artifact, so it throws (<c>checked</c>) rather than wrap.
    /// </summary>
    public static int Requantize(long acc, int multiplier, int shift, int zero, int min, int max)
    {
        long v = (checked(acc * multiplier + (1L << (shift - 1))) >> shift) + zero;
        return v < min ? min : v > max ? max : (int)v;
    }

    /// <summary>Float → grid: clamp(round_half_even(x / scale) + zero, min, max), the division in float32.</summary>
    public static int Quantize(float x, float scale, int zero, int min, int max)
    {
        float scaled = x / scale;
        if (float.IsNaN(scaled)) return zero < min ? min : zero > max ? max : zero;
        double r = Math.Round(scaled, MidpointRounding.ToEven) + zero;
        return r < min ? min : r > max ? max : (int)r;
    }

    /// <summary>Grid → float: scale · (q − zero), in float32.</summary>
    public static float Dequantize(int q, float scale, int zero) => scale * (q - zero);
}
