namespace QuantGen.Tests.Training;

/// <summary>Central finite differences of a loss with respect to one parameter entry, the reference every gradient test compares with.</summary>
internal static class FiniteDifference
{
    /// <summary>(L(θ + h) − L(θ − h)) / 2h for entry <paramref name="index"/> of <paramref name="values"/>, which is restored afterwards.</summary>
    public static double Central(double[] values, int index, Func<double> loss, double h = 1e-6)
    {
        double saved = values[index];
        values[index] = saved + h;
        double up = loss();
        values[index] = saved - h;
        double down = loss();
        values[index] = saved;
        return (up - down) / (2 * h);
    }
}
