using QuantGen.Core.Artifact;

namespace QuantGen.Tests.Quantization;

public sealed class FixedPointTests
{
    [Theory]
    [InlineData(0.5)]
    [InlineData(0.999999)]
    [InlineData(1.0)]
    [InlineData(3.75)]
    [InlineData(1e-3)]
    [InlineData(2.3283064365386963e-10)] // 2^-32
    [InlineData(0.0123456789)]
    public void Encode_RepresentsTheMultiplierTo31Bits(double real)
    {
        var (multiplier, shift) = FixedPoint.Encode(real);
        Assert.InRange(multiplier, 1 << 30, int.MaxValue);
        Assert.InRange(shift, 1, 62);
        double decoded = multiplier * Math.Pow(2, -shift);
        Assert.True(Math.Abs(decoded - real) <= real * Math.Pow(2, -31), $"{real} decoded as {decoded}");
    }

    [Fact]
    public void Encode_TinyMultiplierBecomesZero()
    {
        Assert.Equal((0, 1), FixedPoint.Encode(1e-30));
        Assert.Equal((0, 1), FixedPoint.Encode(0));
    }

    [Fact]
    public void Requantize_MatchesExactRationalRounding()
    {
        // Compare with exact arithmetic in decimal: floor(acc * m / 2^shift + 1/2), then zero and clamp.
        var random = new Random(7);
        for (int trial = 0; trial < 20000; trial++)
        {
            int acc = random.Next(-5_000_000, 5_000_000);
            int multiplier = random.Next(1 << 30, int.MaxValue);
            int shift = random.Next(20, 45);
            int zero = random.Next(0, 256);
            decimal exact = (decimal)acc * multiplier / (decimal)Math.Pow(2, shift);
            long expected = (long)Math.Floor(exact + 0.5m) + zero;
            expected = Math.Clamp(expected, 0, 255);
            Assert.Equal(expected, FixedPoint.Requantize(acc, multiplier, shift, zero, 0, 255));
        }
    }

    [Fact]
    public void Requantize_TiesRoundTowardPlusInfinity()
    {
        // multiplier/2^shift = 1/2 exactly: 3/2 → 2, −3/2 → −1.
        Assert.Equal(2, FixedPoint.Requantize(3, 1 << 30, 31, 0, -100, 100));
        Assert.Equal(-1, FixedPoint.Requantize(-3, 1 << 30, 31, 0, -100, 100));
    }

    [Theory]
    [InlineData(0.5f, 0.1f, 3, 8)]    // 5 + 3
    [InlineData(0.25f, 0.1f, 0, 2)]   // 2.5 → 2 (half to even)
    [InlineData(-10f, 0.1f, 3, 0)]    // clamped at 0
    [InlineData(1000f, 0.1f, 3, 255)] // clamped at 255
    public void Quantize_RoundsHalfToEvenAndClamps(float x, float scale, int zero, int expected)
    {
        Assert.Equal(expected, FixedPoint.Quantize(x, scale, zero, 0, 255));
    }

    [Fact]
    public void Quantize_NaNMapsToZeroPoint()
    {
        Assert.Equal(17, FixedPoint.Quantize(float.NaN, 0.5f, 17, 0, 255));
    }
    [Fact]
    public void Scale_IsTheEncodedMultiplierRoundedOnceToFloat32()
    {
        Assert.Equal(0.5f, FixedPoint.Scale(1 << 30, 31));
        Assert.Equal(0.125f, FixedPoint.Scale(1 << 30, 33));
        // (2^31 − 1) · 2^−31 lies 2^−31 below 1; the nearest float32 is 1.
        Assert.Equal(1f, FixedPoint.Scale(int.MaxValue, 31));
        // 0x40000001 · 2^−40: one unit of the 31-bit multiplier is below float32's precision, so it rounds to 2^−10.
        Assert.Equal(1f / 1024, FixedPoint.Scale(0x40000001, 40));
        Assert.Equal(0f, FixedPoint.Scale(0, 1));
    }

    [Theory]
    [InlineData(3, 0.5f, 0, 2)]       // 1.5 → 2
    [InlineData(5, 0.5f, 0, 2)]       // 2.5 → 2: ties to even
    [InlineData(7, 0.5f, 0, 4)]       // 3.5 → 4
    [InlineData(-3, 0.5f, 10, 8)]     // −1.5 → −2, + 10
    [InlineData(-5, 0.5f, 10, 8)]     // −2.5 → −2, + 10
    [InlineData(1000, 0.1f, 0, 100)]  // 1000 · 0.1f = 100.0000015 in float32, then rounded
    public void RequantizeScaled_RoundsHalfToEvenInFloat32(int acc, float scale, int zero, int expected) =>
        Assert.Equal(expected, FixedPoint.RequantizeScaled(acc, scale, zero, -1000, 1000));

    [Fact]
    public void RequantizeScaled_ClampsBeforeConvertingAndRoundsTheAccumulatorToFloat32()
    {
        // Clamped in float before the conversion: accumulators far outside the range give the bounds, never an overflow.
        Assert.Equal(255, FixedPoint.RequantizeScaled(int.MaxValue, 1f, 128, 0, 255));
        Assert.Equal(0, FixedPoint.RequantizeScaled(int.MinValue, 1f, 128, 0, 255));
        Assert.Equal(140, FixedPoint.RequantizeScaled(1 << 20, 0.001f, 100, 95, 140));
        // The accumulator itself becomes a float32: 2^24 + 1 is not one, and rounds to 2^24 (ties to even).
        Assert.Equal(1 << 24, FixedPoint.RequantizeScaled((1 << 24) + 1, 1f, 0, int.MinValue, int.MaxValue));
    }
}
