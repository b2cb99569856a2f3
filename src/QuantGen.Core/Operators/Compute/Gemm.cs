using System.Numerics.Tensors;

namespace QuantGen.Core.Operators;

/// <summary>
/// Float matrix product C[M,N] += A[M,K] · B[K,N] (row-major, contiguous). Row-by-row AXPY over B's rows keeps
/// the inner loop contiguous for TensorPrimitives' SIMD; K is blocked so a block of B stays in cache.
/// </summary>
internal static class Gemm
{
    private const int KBlock = 256;

    public static void MultiplyAdd(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n)
    {
        for (int k0 = 0; k0 < k; k0 += KBlock)
        {
            int k1 = Math.Min(k, k0 + KBlock);
            for (int i = 0; i < m; i++)
            {
                var row = c.Slice(i * n, n);
                var aRow = a.Slice(i * k, k);
                for (int p = k0; p < k1; p++)
                {
                    float s = aRow[p];
                    TensorPrimitives.MultiplyAdd(b.Slice(p * n, n), s, row, row);
                }
            }
        }
    }

    /// <summary>Row-major transpose of a [rows, cols] matrix.</summary>
    public static float[] Transpose(ReadOnlySpan<float> x, int rows, int cols)
    {
        var t = new float[x.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                t[c * rows + r] = x[r * cols + c];
        return t;
    }
}
