using QuantGen.Core.Artifact;

namespace QuantGen.Core.Quantization;

/// <summary>The Remap kind, as docs/artifact.md specifies it: y[i] = map[i] ≥ 0 ? x[map[i]] : fill.</summary>
public sealed partial class IntegerSimulator
{
    private int[] Remap(ArtifactLayer layer, int[] x)
    {
        var map = layer.GetBlob("map").Values.AsArray();
        int fill = layer.GetInt("fill");
        var outT = _tensors[layer.Outputs[0]];
        if (map.Length != outT.ElementCount)
            throw new ArtifactFormatException($"Remap '{layer.Name}' has {map.Length} map entries for {outT.ElementCount} output elements.");
        if (fill < outT.QMin || fill > outT.QMax)
            throw new ArtifactFormatException($"Remap '{layer.Name}' fills with {fill}, outside its grid [{outT.QMin}, {outT.QMax}].");
        var y = new int[map.Length];
        for (int i = 0; i < y.Length; i++)
        {
            int from = map[i];
            if (from < -1 || from >= x.Length)
                throw new ArtifactFormatException($"Remap '{layer.Name}' maps output element {i} to {from}, outside its input's {x.Length} elements.");
            y[i] = from >= 0 ? x[from] : fill;
        }
        return y;
    }
}
