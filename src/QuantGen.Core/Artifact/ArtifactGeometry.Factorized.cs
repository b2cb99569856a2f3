namespace QuantGen.Core.Artifact;

public static partial class ArtifactGeometry
{
    /// <summary>
    /// A factorized layer's factors against docs/artifact.md "Factor storage": rank, per-row entry counts and bit-widths
    /// in range, value and index blobs of exactly the stored size, every row's columns ascending and inside the factor.
    /// The generated class unpacks the factors by these indices, so a bad one must stop the build, not index out of range.
    /// </summary>
    private static string? CheckFactors(ArtifactLayer layer, long k, long m)
    {
        int rank = layer.GetInt("rank");
        int[] nonZeros = layer.GetInts("nonzeros"), bits = layer.GetInts("bits");
        if (rank < 1 || rank > 65536) return $"rank {rank} is outside [1, 65536]";
        if (nonZeros.Length != 2 || bits.Length != 2) return "nonzeros and bits need 2 values (B, A)";
        return CheckFactor(layer, "B", "bValues", "bIndices", rank, k, nonZeros[0], bits[0])
            ?? CheckFactor(layer, "A", "aValues", "aIndices", m, rank, nonZeros[1], bits[1])
            ?? PerFactorRow(layer, rank)
            ?? PerChannel(layer, m);
    }

    private static string? CheckFactor(ArtifactLayer layer, string factor, string valuesKey, string indicesKey, long rows, long cols, int n, int bits)
    {
        if (n < 1 || n > cols) return $"factor {factor} keeps {n} entries per row of {cols} columns";
        if (bits is < 2 or > 8) return $"factor {factor} has {bits}-bit values (2 to 8)";
        long values = (rows * n * bits + 7) / 8;
        if (layer.GetBlob(valuesKey).Values.Count != values) return $"'{valuesKey}' has {layer.GetBlob(valuesKey).Values.Count} bytes, {rows}×{n} {bits}-bit values need {values}";
        if (n == cols) return layer.HasBlob(indicesKey) ? $"factor {factor} is dense but has '{indicesKey}'" : null;
        if (!layer.HasBlob(indicesKey)) return $"factor {factor} keeps {n} of {cols} columns but has no '{indicesKey}'";
        var indices = layer.GetBlob(indicesKey).Values;
        int width = cols <= 256 ? 1 : 2;
        if (indices.Count != rows * n * width) return $"'{indicesKey}' has {indices.Count} bytes, {rows}×{n} {width}-byte indices need {rows * n * width}";
        for (long row = 0, slot = 0; row < rows; row++)
        {
            long previous = -1;
            for (int s = 0; s < n; s++, slot++)
            {
                long column = width == 1 ? indices[(int)slot] : indices[(int)(2 * slot)] + 256L * indices[(int)(2 * slot + 1)];
                if (column <= previous || column >= cols) return $"'{indicesKey}' row {row} is not ascending inside [0, {cols})";
                previous = column;
            }
        }
        return null;
    }

    private static string? PerFactorRow(ArtifactLayer layer, int rank)
    {
        foreach (var key in new[] { "zMultiplier", "zShift" })
            if (layer.GetBlob(key).Values.Count != rank) return $"'{key}' has {layer.GetBlob(key).Values.Count} values for rank {rank}";
        // Every requantization shift of the layer: the kernels form 2^(shift − 1) and shift a 64-bit product by it.
        foreach (var key in new[] { "zShift", "shift", "negShift" })
            if (layer.HasBlob(key))
                foreach (int shift in layer.GetBlob(key).Values)
                    if (shift is < 1 or > 62) return $"'{key}' {shift} is outside [1, 62]";
        return null;
    }
}
