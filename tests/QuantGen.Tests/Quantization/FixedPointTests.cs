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
}
