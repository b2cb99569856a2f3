using QuantGen.Core.Quantization;

namespace QuantGen.Tests.Quantization;

public sealed class ClippedNormalTests
{
    [Theory]
    [InlineData(0.5, 0.5204998778130465)]
    [InlineData(1.0, 0.8427007929497149)]
    [InlineData(-2.0, -0.9953222650189527)]
    public void Erf_MatchesTabulatedValues(double x, double expected) =>
        Assert.Equal(expected, ClippedNormal.Erf(x), 6);

    [Theory]
    [InlineData(0.3, 1.2, 0, double.PositiveInfinity)]
    [InlineData(-1.0, 0.7, 0, 6)]
    [InlineData(4.0, 2.0, 0, 6)]
    [InlineData(2.0, 1.0, double.NegativeInfinity, double.PositiveInfinity)]
    public void Moments_MatchNumericalIntegration(double mu, double sigma, double lo, double hi)
    {
        // Trapezoid integration of clip(x) and clip(x)^2 against the Gaussian density over ±12σ.
        double m1 = 0, m2 = 0, step = sigma / 2000;
        for (double x = mu - 12 * sigma; x <= mu + 12 * sigma; x += step)
        {
            double density = Math.Exp(-0.5 * Math.Pow((x - mu) / sigma, 2)) / (sigma * Math.Sqrt(2 * Math.PI));
            double y = Math.Clamp(x, lo, hi);
            m1 += y * density * step;
            m2 += y * y * density * step;
        }
        var (mean, variance) = ClippedNormal.Moments(mu, sigma, lo, hi);
        Assert.Equal(m1, mean, 4);
        Assert.Equal(m2 - m1 * m1, variance, 4);
    }
}
