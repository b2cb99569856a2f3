namespace QuantGen.Core.Operators;

/// <summary>The error function, which .NET does not provide (the Erf operator and the erf-GELU table use it).</summary>
internal static class ErfFunction
{
    /// <summary>erf in double: Taylor series for |v| &lt; 3 (terms until they vanish), the continued fraction of erfc beyond; error below 1e-12.</summary>
    public static double Erf(double v)
    {
        if (double.IsNaN(v)) return v;
        double a = Math.Abs(v);
        if (a < 3)
        {
            double term = a, sum = a, square = a * a;
            for (int n = 1; n < 200 && Math.Abs(term) > 1e-17 * Math.Abs(sum); n++)
            {
                term *= -square / n;
                sum += term / (2 * n + 1);
            }
            return Math.Sign(v) * sum * 2 / Math.Sqrt(Math.PI);
        }
        if (a > 6) return Math.Sign(v);
        // erfc(a) = exp(−a²)/√π · 1/(a + 1/2/(a + 1/(a + 3/2/(a + …)))), evaluated from the tail.
        double fraction = 0;
        for (int k = 60; k >= 1; k--) fraction = k / 2.0 / (a + fraction);
        double erfc = Math.Exp(-a * a) / Math.Sqrt(Math.PI) / (a + fraction);
        return Math.Sign(v) * (1 - erfc);
    }
}
