using System.Numerics;

namespace QuantGen.Core.Training;

/// <summary>
/// The LSQ+ fake quantizer (Bhalgat et al., arXiv 2004.09576, eq. 3-6): x̂ = s · ⌊clamp((x − β)/s, n, p)⌉ + β, with
/// the straight-through estimator for the rounding. Its gradients:
/// ∂x̂/∂x = 1 inside [n, p] (after division), 0 outside;
/// ∂x̂/∂s = ⌊v⌉ − v inside, n below, p above (v = (x − β)/s);
/// ∂x̂/∂β = 0 inside, 1 outside.
/// QuantGen's grids map onto it exactly: an activation grid (scale, zero point z, q ∈ [0, 2^b − 1]) is s = scale,
/// β = −s·z, n = 0, p = 2^b − 1 (⌊x/s⌉ + z = ⌊(x − β)/s⌉ for integer z); a symmetric weight grid is β = 0,
/// n = −p, p = 2^(b−1) − 1. Rounding is half to even, as in the integer model.
/// </summary>
internal static class Lsq
{
    /// <summary>x̂ = s · ⌊clamp((x − β)/s, n, p)⌉ + β.</summary>
    public static T Quantize<T>(T x, T scale, T offset, T n, T p) where T : IFloatingPointIeee754<T> =>
        T.Round(T.Clamp((x - offset) / scale, n, p)) * scale + offset;

    /// <summary>The three partial derivatives of <see cref="Quantize{T}"/> under the straight-through estimator.</summary>
    public static (T Input, T Scale, T Offset) Gradient<T>(T x, T scale, T offset, T n, T p) where T : IFloatingPointIeee754<T>
    {
        var v = (x - offset) / scale;
        if (v < n) return (T.Zero, n, T.One);
        if (v > p) return (T.Zero, p, T.One);
        return (T.One, T.Round(v) - v, T.Zero);
    }

    /// <summary>
    /// Takes <paramref name="dy"/> (the gradient of x̂) back through the quantizer of <paramref name="x"/>: dx = dy · ∂x̂/∂x (written, not added), ds += Σ dy · ∂x̂/∂s, dβ += Σ dy · ∂x̂/∂β.
    /// </summary>
    public static void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx, T scale, T offset, T n, T p, ref T dScale, ref T dOffset)
        where T : IFloatingPointIeee754<T>
    {
        T sumScale = T.Zero, sumOffset = T.Zero;
        for (int i = 0; i < x.Length; i++)
        {
            var (input, s, o) = Gradient(x[i], scale, offset, n, p);
            dx[i] = dy[i] * input;
            sumScale += dy[i] * s;
            sumOffset += dy[i] * o;
        }
        dScale += sumScale;
        dOffset += sumOffset;
    }
}
