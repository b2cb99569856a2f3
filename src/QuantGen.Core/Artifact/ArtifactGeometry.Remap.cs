namespace QuantGen.Core.Artifact;

/// <summary>The check of the Remap kind: one u8 input, a map entry per output element, each −1 or an input element, the fill on the grid.</summary>
public static partial class ArtifactGeometry
{
    private static string? CheckRemap(ArtifactLayer layer, ArtifactTensor[] ins, ArtifactTensor y)
    {
        if (ins.Length != 1) return "needs one input";
        var x = ins[0];
        if (x.ElementType != ArtifactElementType.U8 || y.ElementType != ArtifactElementType.U8) return "the kind takes and writes u8 tensors";
        var map = layer.GetBlob("map");
        long count = ElementCount(x.Shape);
        if (map.Type != BlobType.I32 || map.Values.Count != ElementCount(y.Shape)) return $"'map' must hold one i32 per output element ({ElementCount(y.Shape)})";
        for (int i = 0; i < map.Values.Count; i++)
            if (map.Values[i] < -1 || map.Values[i] >= count) return $"map entry {i} is {map.Values[i]}, neither −1 nor one of the input's {count} elements";
        int fill = layer.GetInt("fill");
        return fill < y.QMin || fill > y.QMax ? $"fill {fill} is outside the output grid [{y.QMin}, {y.QMax}]" : null;
    }
}
