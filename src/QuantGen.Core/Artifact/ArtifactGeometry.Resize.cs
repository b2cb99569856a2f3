namespace QuantGen.Core.Artifact;

/// <summary>The check of the Resize kind: one u8 input on the output's grid, leading dims equal, a table entry per output row and column within the input.</summary>
public static partial class ArtifactGeometry
{
    private static string? CheckResize(ArtifactLayer layer, ArtifactTensor[] ins, ArtifactTensor y)
    {
        if (ins.Length != 1) return "needs one input";
        var x = ins[0];
        if (x.ElementType != ArtifactElementType.U8 || y.ElementType != ArtifactElementType.U8) return "the kind takes and writes u8 tensors";
        if (x.Scale != y.Scale || x.ZeroPoint != y.ZeroPoint) return "input and output must share one grid";
        int rank = x.Shape.Count;
        if (rank < 2 || y.Shape.Count != rank) return "needs input and output of the same rank, at least 2";
        for (int d = 0; d < rank - 2; d++)
            if (x.Shape[d] != y.Shape[d]) return $"resizes axis {d}: only the last two axes are resized";
        int bits = layer.GetInt("bits");
        if (bits < 1 || bits > 11) return $"bits {bits} is outside [1, 11]";
        return CheckResizeAxis(layer.GetBlob("rows"), "rows", x.Shape[rank - 2], y.Shape[rank - 2], bits)
            ?? CheckResizeAxis(layer.GetBlob("columns"), "columns", x.Shape[rank - 1], y.Shape[rank - 1], bits);
    }

    private static string? CheckResizeAxis(ArtifactBlob blob, string name, int inSize, int outSize, int bits)
    {
        if (blob.Type != BlobType.I32 || blob.Values.Count != 3L * outSize) return $"'{name}' must hold three i32 per output index ({3L * outSize})";
        for (int o = 0; o < outSize; o++)
        {
            int lo = blob.Values[3 * o], hi = blob.Values[3 * o + 1], w = blob.Values[3 * o + 2];
            if (lo < 0 || lo >= inSize || hi < 0 || hi >= inSize) return $"'{name}' entry {o} reads {lo} and {hi}, outside the input's {inSize}";
            if (w < 0 || w > 1 << bits) return $"'{name}' entry {o} has weight {w}, outside [0, 2^{bits}]";
        }
        return null;
    }
}
