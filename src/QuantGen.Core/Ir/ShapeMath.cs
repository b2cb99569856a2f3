namespace QuantGen.Core.Ir;

/// <summary>Shape arithmetic with overflow checks: every element count is checked before anything is allocated.</summary>
public static class ShapeMath
{
    /// <summary>Largest element count a single tensor may have (a .NET array limit, and a sane bound for edge models).</summary>
    public const long MaxElements = 1L << 30;

    /// <summary>Element count of <paramref name="shape"/>, or a <see cref="ModelException"/> (QG0008) when it overflows or exceeds <see cref="MaxElements"/>.</summary>
    public static int ElementCount(ReadOnlySpan<int> shape, string? what = null)
    {
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0)
                throw new ModelException(ErrorCodes.BadShape, $"{what ?? "tensor"} has a negative dimension in shape {Format(shape)}.");
            count *= d;
            if (count > MaxElements)
                throw new ModelException(ErrorCodes.TensorTooLarge, $"{what ?? "tensor"} of shape {Format(shape)} has more than {MaxElements} elements.");
        }
        return (int)count;
    }

    /// <summary>Element count of a shape given as 64-bit dims (as read from a file), checked the same way.</summary>
    public static int ElementCount(ReadOnlySpan<long> dims, string? what = null)
    {
        long count = 1;
        foreach (long d in dims)
        {
            if (d < 0)
                throw new ModelException(ErrorCodes.BadShape, $"{what ?? "tensor"} has a negative dimension in shape {Format(dims)}.");
            if (d > MaxElements || (d != 0 && count > MaxElements / d))
                throw new ModelException(ErrorCodes.TensorTooLarge, $"{what ?? "tensor"} of shape {Format(dims)} has more than {MaxElements} elements.");
            count *= d;
        }
        return (int)count;
    }

    /// <summary>Converts 64-bit dims to int dims, checking the element count.</summary>
    public static int[] ToIntShape(ReadOnlySpan<long> dims, string? what = null)
    {
        ElementCount(dims, what);
        var shape = new int[dims.Length];
        for (int i = 0; i < dims.Length; i++) shape[i] = (int)dims[i];
        return shape;
    }

    /// <summary>Row-major strides of a shape.</summary>
    public static int[] Strides(ReadOnlySpan<int> shape)
    {
        var strides = new int[shape.Length];
        int s = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { strides[i] = s; s *= shape[i]; }
        return strides;
    }

    /// <summary>Numpy-style multidirectional broadcast of two shapes; null when they are incompatible.</summary>
    public static int[]? Broadcast(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var result = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            int db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da == db || db == 1) result[i] = da;
            else if (da == 1) result[i] = db;
            else return null;
        }
        return result;
    }

    /// <summary>Normalises a possibly negative axis against a rank; throws QG0010 when out of range.</summary>
    public static int NormalizeAxis(long axis, int rank, string attribute = "axis")
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= Math.Max(rank, 1))
            throw new ModelException(ErrorCodes.InvalidAttribute, $"{attribute}={axis} is out of range for rank {rank}.");
        return (int)a;
    }

    public static bool SameShape(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);

    public static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(",", shape.ToArray()) + "]";

    public static string Format(ReadOnlySpan<long> shape) => "[" + string.Join(",", shape.ToArray()) + "]";
}
