namespace QuantGen.Core.Artifact;

/// <summary>The checks of the elementwise kinds (Lookup, Affine, Mul, Concat): u8 tensors, sizes, parameter counts.</summary>
public static partial class ArtifactGeometry
{
    private static string? CheckElementwise(ArtifactLayer layer, ArtifactTensor[] ins, ArtifactTensor y)
    {
        foreach (var t in ins)
            if (t.ElementType != ArtifactElementType.U8) return $"reads '{t.Name}' ({t.ElementType}); the kind takes u8 tensors";
        if (y.ElementType != ArtifactElementType.U8) return $"writes '{y.Name}' ({y.ElementType}); the kind writes a u8 tensor";
        var x = ins[0];
        long count = ElementCount(x.Shape);
        switch (layer.Kind)
        {
            case LayerKinds.Lookup:
            {
                var table = layer.GetBlob("table");
                if (table.Type != BlobType.U8 || table.Values.Count != 256) return "'table' must hold 256 u8 values";
                return ins.Length == 1 ? SameSize(x, y) : "needs one input";
            }
            case LayerKinds.Affine:
            {
                int[] broadcast = layer.GetInts("broadcast");
                if (ins.Length != 1) return "needs one input";
                if (broadcast.Length != 2 || broadcast[0] < 1 || broadcast[1] < 1 || count % ((long)broadcast[0] * broadcast[1]) != 0)
                    return $"broadcast {string.Join(" ", broadcast)} does not divide the input's {count} elements";
                foreach (var key in new[] { "multiplier", "offset" })
                    if (layer.GetBlob(key).Values.Count != broadcast[0]) return $"'{key}' has {layer.GetBlob(key).Values.Count} values for {broadcast[0]} channels";
                return CheckShift(layer.GetInt("shift")) ?? CheckClamp(layer) ?? SameSize(x, y);
            }
            case LayerKinds.Mul:
            {
                int inner = layer.GetInt("inner");
                if (ins.Length != 2) return "needs two inputs";
                if (inner < 1 || ElementCount(ins[1].Shape) * inner != count) return $"the second input's {ElementCount(ins[1].Shape)} elements times inner {inner} are not the first's {count}";
                return CheckShift(layer.GetInt("shift")) ?? CheckClamp(layer) ?? SameSize(x, y);
            }
            default:
            {
                int axis = layer.GetInt("axis");
                int[] multipliers = layer.GetInts("multipliers"), shifts = layer.GetInts("shifts");
                if (multipliers.Length != ins.Length || shifts.Length != ins.Length) return $"needs one multiplier and shift per input ({ins.Length})";
                foreach (int s in shifts)
                    if (CheckShift(s) is { } bad) return bad;
                int rank = y.Shape.Count;
                if (axis < 0 || axis >= rank) return $"axis {axis} is outside rank {rank}";
                long total = 0;
                foreach (var t in ins)
                {
                    if (t.Shape.Count != rank) return $"input '{t.Name}' has rank {t.Shape.Count}, the output {rank}";
                    for (int d = 0; d < rank; d++)
                        if (d != axis && t.Shape[d] != y.Shape[d]) return $"input '{t.Name}' {Shape(t.Shape)} differs from the output {Shape(y.Shape)} off the axis";
                    total += t.Shape[axis];
                }
                return total == y.Shape[axis] ? null : $"the inputs' {total} entries along axis {axis} are not the output's {y.Shape[axis]}";
            }
        }
    }

    private static string? CheckShift(int shift) => shift >= 1 && shift <= 62 ? null : $"shift {shift} is outside [1, 62]";

    private static string? CheckClamp(ArtifactLayer layer)
    {
        int[] clamp = layer.GetInts("clamp");
        return clamp.Length == 2 && clamp[0] >= 0 && clamp[1] <= 255 && clamp[0] <= clamp[1] ? null : "clamp needs 0 ≤ lo ≤ hi ≤ 255";
    }
}
