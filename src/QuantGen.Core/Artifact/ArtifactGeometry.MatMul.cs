using System;
using System.Collections.Generic;

namespace QuantGen.Core.Artifact;

/// <summary>
/// MatMul of two computed u8 tensors (docs/artifact.md, "MatMul"): A [..., M, K] × B [..., K, N] → Y [..., M, N], the
/// batch dimensions (all but the last two) broadcast as ONNX MatMul (numpy) broadcasts them.
/// </summary>
public static partial class ArtifactGeometry
{
    /// <summary>
    /// For each matrix of the output, in order, the index of A's matrix and of B's matrix it multiplies, as pairs
    /// [a0, b0, a1, b1, ...]; null when the shapes are not both of rank ≥ 2, K differs, or the batch dimensions do not
    /// broadcast. <paramref name="batch"/> is the output's batch dimensions.
    /// </summary>
    public static int[]? MatMulBatches(IReadOnlyList<int> a, IReadOnlyList<int> b, out int[] batch)
    {
        batch = [];
        if (a.Count < 2 || b.Count < 2 || a[a.Count - 1] != b[b.Count - 2]) return null;
        int rank = Math.Max(a.Count, b.Count) - 2;
        batch = new int[rank];
        // Right-aligned: a missing leading dimension counts as 1.
        int DimOf(IReadOnlyList<int> s, int d) => d - (rank - (s.Count - 2)) is var i && i >= 0 ? s[i] : 1;
        long total = 1;
        for (int d = 0; d < rank; d++)
        {
            int da = DimOf(a, d), db = DimOf(b, d);
            if (da != db && da != 1 && db != 1) return null;
            batch[d] = Math.Max(da, db);
            total *= batch[d];
        }
        if (total > int.MaxValue / 2) return null;
        var pairs = new int[2 * total];
        var index = new int[rank];
        for (int t = 0; t < total; t++)
        {
            int ai = 0, bi = 0;
            for (int d = 0; d < rank; d++)
            {
                int da = DimOf(a, d), db = DimOf(b, d);
                ai = ai * da + (da == 1 ? 0 : index[d]);
                bi = bi * db + (db == 1 ? 0 : index[d]);
            }
            pairs[2 * t] = ai;
            pairs[2 * t + 1] = bi;
            for (int d = rank - 1; d >= 0; d--)
            {
                if (++index[d] < batch[d]) break;
                index[d] = 0;
            }
        }
        return pairs;
    }

    private static string? CheckMatMul(ArtifactLayer layer, ArtifactTensor[] ins, ArtifactTensor y)
    {
        if (ins.Length != 2) return "needs two inputs";
        foreach (var t in ins)
            if (t.ElementType != ArtifactElementType.U8) return $"reads '{t.Name}' ({t.ElementType}); the kind takes u8 tensors";
        if (y.ElementType != ArtifactElementType.U8) return $"writes '{y.Name}' ({y.ElementType}); the kind writes a u8 tensor";
        var a = ins[0].Shape.AsArray();
        var b = ins[1].Shape.AsArray();
        if (MatMulBatches(a, b, out var batch) is null) return $"{Shape(ins[0].Shape)} × {Shape(ins[1].Shape)} is not a matrix product with broadcast batch dimensions";
        var expected = new List<int>(batch) { a[a.Length - 2], b[b.Length - 1] };
        bool same = expected.Count == y.Shape.Count;
        for (int d = 0; same && d < expected.Count; d++) same = expected[d] == y.Shape[d];
        if (!same) return $"the output {Shape(y.Shape)} is not [{string.Join(",", expected)}]";
        // Σ over K of (a − za)(b − zb), |each| ≤ 255², must fit int32.
        if ((long)a[a.Length - 1] * 255 * 255 > int.MaxValue) return $"K = {a[a.Length - 1]} can overflow the int32 accumulator";
        return CheckShift(layer.GetInt("shift")) ?? CheckClamp(layer);
    }
}
