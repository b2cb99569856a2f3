namespace QuantGen.Core.Quantization.MixedPrecision;

/// <summary>
/// Hutchinson's estimate of tr(JᵀJ), the Gauss-Newton Hessian of L(W) = ½‖f_W(x) − f_W0(x)‖² at W0 (docs/quantization.md,
/// "Mixed precision"): tr(JᵀJ) = E_v ‖J v‖² for Rademacher v (entries ±1), and J v by a central difference,
/// (f(W0 + h v) − f(W0 − h v)) / 2h. Averaged over the samples (the loss's mean over the calibration set).
/// </summary>
internal static class HutchinsonTrace
{
    /// <summary>
    /// The mean over <paramref name="samples"/> of tr(J_sᵀJ_s), from <paramref name="vectors"/> Rademacher vectors drawn
    /// from <paramref name="seed"/> (the same vectors for every sample). <paramref name="forward"/>(weights, sample) is
    /// the model's output for one sample with this layer's weights replaced; it is called from several threads. The step
    /// h is <paramref name="relativeStep"/> times the weights' RMS. Deterministic: per-sample terms are summed in order.
    /// </summary>
    public static double Estimate(float[] weights, int samples, Func<float[], int, float[]> forward, int vectors, int seed, double relativeStep)
    {
        double rms = Math.Sqrt(weights.Sum(w => (double)w * w) / Math.Max(1, weights.Length));
        float h = (float)(relativeStep * (rms > 0 ? rms : 1));
        var random = new Random(seed);
        var terms = new double[samples];
        double total = 0;
        var plus = new float[weights.Length];
        var minus = new float[weights.Length];
        for (int k = 0; k < vectors; k++)
        {
            for (int i = 0; i < weights.Length; i++)
            {
                float step = random.Next(2) == 0 ? -h : h;
                plus[i] = weights[i] + step;
                minus[i] = weights[i] - step;
            }
            // The step actually taken differs from h by float rounding of w ± h; the quotient uses h (relative error ~1e-7/relativeStep).
            Parallel.For(0, samples, s =>
            {
                float[] a = forward(plus, s), b = forward(minus, s);
                double sum = 0;
                for (int i = 0; i < a.Length; i++)
                {
                    double d = (double)a[i] - b[i];
                    sum += d * d;
                }
                terms[s] = sum;
            });
            for (int s = 0; s < samples; s++) total += terms[s];
        }
        return total / (4.0 * h * h) / vectors / Math.Max(1, samples);
    }
}
