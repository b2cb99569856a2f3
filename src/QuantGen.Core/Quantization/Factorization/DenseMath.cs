using System.Numerics.Tensors;

namespace QuantGen.Core.Quantization.Factorization;

/// <summary>
/// The few row-major float matrix products the factorization needs, on TensorPrimitives (SIMD) and parallel over
/// output rows. Each output row is computed by one thread in a fixed order, so results do not depend on the schedule.
/// </summary>
internal static class DenseMath
{
    /// <summary>Below this many multiply-adds a product runs on the calling thread.</summary>
    private const long ParallelThreshold = 1 << 16;

    /// <summary>C [m, n] = A [m, k] · B [k, n].</summary>
    public static float[] Multiply(float[] a, float[] b, int m, int k, int n)
    {
        var c = new float[m * n];
        ForRows(m, (long)k * n, i =>
        {
            var row = c.AsSpan(i * n, n);
            for (int p = 0; p < k; p++)
            {
                float v = a[i * k + p];
                if (v != 0) TensorPrimitives.MultiplyAdd(b.AsSpan(p * n, n), v, row, row);
            }
        });
        return c;
    }

    /// <summary>C [m, n] = A [m, k] · Bᵀ with B [n, k].</summary>
    public static float[] MultiplyTransposed(float[] a, float[] b, int m, int k, int n)
    {
        var c = new float[m * n];
        ForRows(m, (long)k * n, i =>
        {
            var row = a.AsSpan(i * k, k);
            for (int j = 0; j < n; j++) c[i * n + j] = TensorPrimitives.Dot(row, b.AsSpan(j * k, k));
        });
        return c;
    }

    /// <summary>C [m, n] = Aᵀ · B with A [k, m], B [k, n].</summary>
    public static float[] TransposedMultiply(float[] a, float[] b, int k, int m, int n)
    {
        var c = new float[m * n];
        ForRows(m, (long)k * n, i =>
        {
            var row = c.AsSpan(i * n, n);
            for (int p = 0; p < k; p++)
            {
                float v = a[p * m + i];
                if (v != 0) TensorPrimitives.MultiplyAdd(b.AsSpan(p * n, n), v, row, row);
            }
        });
        return c;
    }

    /// <summary>Σ a[i]·b[i] in double (losses are differences of large sums).</summary>
    public static double Dot(float[] a, float[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (double)a[i] * b[i];
        return sum;
    }

    /// <summary>The largest eigenvalue of a symmetric positive semi-definite n×n matrix, by power iteration from a fixed start.</summary>
    public static double LargestEigenvalue(float[] s, int n, int iterations = 60)
    {
        var v = new double[n];
        Array.Fill(v, 1 / Math.Sqrt(n));
        double lambda = 0;
        var next = new double[n];
        for (int it = 0; it < iterations; it++)
        {
            for (int i = 0; i < n; i++)
            {
                double sum = 0;
                for (int j = 0; j < n; j++) sum += s[i * n + j] * v[j];
                next[i] = sum;
            }
            double norm = Math.Sqrt(next.Sum(x => x * x));
            if (norm == 0) return 0;
            lambda = norm;
            for (int i = 0; i < n; i++) v[i] = next[i] / norm;
        }
        return lambda;
    }

    /// <summary>
    /// Eigen-decomposition of a symmetric n×n matrix by cyclic Jacobi rotations: eigenvalues descending, the
    /// eigenvectors as the columns of <c>vectors</c> [n, n] in the same order.
    /// </summary>
    public static (double[] Values, double[] Vectors) SymmetricEigen(double[] s, int n)
    {
        var a = (double[])s.Clone();
        var v = new double[n * n];
        for (int i = 0; i < n; i++) v[i * n + i] = 1;
        for (int sweep = 0; sweep < 60; sweep++)
        {
            double off = 0, diag = 0;
            for (int i = 0; i < n; i++)
            {
                diag += a[i * n + i] * a[i * n + i];
                for (int j = i + 1; j < n; j++) off += a[i * n + j] * a[i * n + j];
            }
            if (off <= 1e-24 * Math.Max(diag, 1e-300)) break;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++)
                {
                    double apq = a[p * n + q];
                    if (Math.Abs(apq) < 1e-300) continue;
                    double theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
                    double t = Math.Sign(theta == 0 ? 1 : theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    double c = 1 / Math.Sqrt(t * t + 1), sn = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        double akp = a[k * n + p], akq = a[k * n + q];
                        a[k * n + p] = c * akp - sn * akq;
                        a[k * n + q] = sn * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double apk = a[p * n + k], aqk = a[q * n + k];
                        a[p * n + k] = c * apk - sn * aqk;
                        a[q * n + k] = sn * apk + c * aqk;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double vkp = v[k * n + p], vkq = v[k * n + q];
                        v[k * n + p] = c * vkp - sn * vkq;
                        v[k * n + q] = sn * vkp + c * vkq;
                    }
                }
        }
        var order = Enumerable.Range(0, n).OrderByDescending(i => a[i * n + i]).ThenBy(i => i).ToArray();
        var values = order.Select(i => a[i * n + i]).ToArray();
        var vectors = new double[n * n];
        for (int k = 0; k < n; k++)
            for (int j = 0; j < n; j++) vectors[k * n + j] = v[k * n + order[j]];
        return (values, vectors);
    }

    /// <summary>
    /// X [rows, n] with X·S = G for a symmetric positive semi-definite S [n, n] (Cholesky in double, S damped by
    /// 1e-6 of its mean diagonal so rank-deficient factors still solve). Used both ways: G·S⁻¹, and S⁻¹·G as (Gᵀ·S⁻¹)ᵀ.
    /// </summary>
    public static float[] SolveRight(float[] g, float[] s, int rows, int n)
    {
        var l = new double[n * n];
        double mean = 0;
        for (int i = 0; i < n; i++) mean += s[i * n + i];
        double damping = 1e-6 * Math.Max(mean / n, 1e-30);
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
            {
                double sum = s[i * n + j] + (i == j ? damping : 0);
                for (int p = 0; p < j; p++) sum -= l[i * n + p] * l[j * n + p];
                l[i * n + j] = i == j ? Math.Sqrt(Math.Max(sum, 1e-300)) : sum / l[j * n + j];
            }
        var x = new float[rows * n];
        ForRows(rows, (long)n * n, r =>
        {
            // S = L Lᵀ; row x of X solves x L Lᵀ = g: forward with Lᵀ's transpose, then back.
            var y = new double[n];
            for (int i = 0; i < n; i++)
            {
                double sum = g[r * n + i];
                for (int p = 0; p < i; p++) sum -= l[i * n + p] * y[p];
                y[i] = sum / l[i * n + i];
            }
            for (int i = n - 1; i >= 0; i--)
            {
                double sum = y[i];
                for (int p = i + 1; p < n; p++) sum -= l[p * n + i] * y[p];
                y[i] = sum / l[i * n + i];
            }
            for (int i = 0; i < n; i++) x[r * n + i] = (float)y[i];
        });
        return x;
    }

    /// <summary>Aᵀ of A [rows, cols].</summary>
    public static float[] Transpose(float[] a, int rows, int cols)
    {
        var t = new float[a.Length];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
        return t;
    }

    private static void ForRows(int rows, long workPerRow, Action<int> body)
    {
        if (rows * workPerRow < ParallelThreshold) { for (int i = 0; i < rows; i++) body(i); }
        else Parallel.For(0, rows, body);
    }
}
