using QuantGen.Core.Ir;

namespace QuantGen.Tests.Conformance;

/// <summary>Compares tensors the way the ONNX backend tests do: |actual − expected| ≤ atol + rtol·|expected|, NaN equals NaN, integers exactly.</summary>
internal static class TensorComparison
{
    /// <summary>Null when equal within tolerance, otherwise a one-line description of the first mismatch.</summary>
    public static string? Compare(Tensor expected, Tensor actual, double rtol, double atol)
    {
        if (!expected.Shape.AsSpan().SequenceEqual(actual.Shape))
            return $"shape {ShapeMath.Format(actual.Shape)}, expected {ShapeMath.Format(expected.Shape)}";
        if (expected.DataType != actual.DataType)
            return $"type {DataTypes.Name(actual.DataType)}, expected {DataTypes.Name(expected.DataType)}";

        if (expected.DataType is DataType.Float or DataType.Double)
        {
            double[] e = ToDoubles(expected), a = ToDoubles(actual);
            for (int i = 0; i < e.Length; i++)
            {
                if (double.IsNaN(e[i]) && double.IsNaN(a[i])) continue;
                if (e[i] == a[i]) continue; // also covers equal infinities
                if (!(Math.Abs(a[i] - e[i]) <= atol + rtol * Math.Abs(e[i])))
                    return $"element {i}: {a[i]:R}, expected {e[i]:R}";
            }
            return null;
        }

        var ei = expected.ToInt64Array();
        var ai = actual.ToInt64Array();
        for (int i = 0; i < ei.Length; i++)
            if (ei[i] != ai[i]) return $"element {i}: {ai[i]}, expected {ei[i]}";
        return null;
    }

    /// <summary>Largest |a − e| / max(|e|, floor) over all elements, for real-model comparisons.</summary>
    public static double MaxRelativeError(float[] expected, float[] actual, float floor)
    {
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
            worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]) / Math.Max(Math.Abs(expected[i]), floor));
        return worst;
    }

    private static double[] ToDoubles(Tensor t) => t.Data switch
    {
        double[] d => d,
        float[] f => Array.ConvertAll(f, v => (double)v),
        _ => throw new InvalidOperationException(),
    };
}
