using QuantGen.Core.Ir;

namespace QuantGen.Core.Operators;

/// <summary>
/// Numpy-style multidirectional broadcasting for elementwise ops: maps every output element to one element of
/// each input, walking the innermost dimension in a tight loop.
/// </summary>
internal static class Broadcast
{
    public static int[] Shape(OpContext ctx, int[] a, int[] b) =>
        ShapeMath.Broadcast(a, b) ?? throw ctx.Error(ErrorCodes.BadShape, $"shapes {ShapeMath.Format(a)} and {ShapeMath.Format(b)} do not broadcast.");

    /// <summary>Strides of <paramref name="shape"/> aligned to the output rank, 0 where the input is broadcast.</summary>
    public static int[] AlignedStrides(int[] shape, int[] output)
    {
        var strides = new int[output.Length];
        int offset = output.Length - shape.Length, stride = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            strides[i + offset] = shape[i] == 1 && output[i + offset] != 1 ? 0 : stride;
            stride *= shape[i];
        }
        return strides;
    }

    /// <summary>y[i] = op(a[ia], b[ib]) over the broadcast output.</summary>
    public static void Apply<TIn, TOut>(ReadOnlySpan<TIn> a, int[] aShape, ReadOnlySpan<TIn> b, int[] bShape, Span<TOut> y, int[] yShape, Func<TIn, TIn, TOut> op)
    {
        if (y.Length == 0) return;
        if (aShape.AsSpan().SequenceEqual(bShape))
        {
            for (int i = 0; i < y.Length; i++) y[i] = op(a[i], b[i]);
            return;
        }
        if (b.Length == 1 && a.Length == y.Length)
        {
            var s = b[0];
            for (int i = 0; i < y.Length; i++) y[i] = op(a[i], s);
            return;
        }
        int rank = yShape.Length;
        if (rank == 0) { y[0] = op(a[0], b[0]); return; }
        int[] sa = AlignedStrides(aShape, yShape), sb = AlignedStrides(bShape, yShape);
        var index = new int[rank];
        int inner = yShape[rank - 1], innerA = sa[rank - 1], innerB = sb[rank - 1];
        int offA = 0, offB = 0;
        for (int o = 0; o < y.Length; o += inner)
        {
            for (int i = 0; i < inner; i++) y[o + i] = op(a[offA + i * innerA], b[offB + i * innerB]);
            // Advance the odometer over the outer dimensions.
            for (int d = rank - 2; d >= 0; d--)
            {
                index[d]++;
                offA += sa[d];
                offB += sb[d];
                if (index[d] < yShape[d]) break;
                offA -= sa[d] * yShape[d];
                offB -= sb[d] * yShape[d];
                index[d] = 0;
            }
        }
    }
}
