namespace QuantGen.Core.Quantization;

/// <summary>A Remap layer (data movement as an index map, LayerGraphBuilder.Remap.cs).</summary>
internal sealed partial class FloatLayer
{
    /// <summary>For each output element, the input element it copies, or −1 for the fill value.</summary>
    public int[]? RemapMap { get; set; }

    /// <summary>The real value written where the map is −1 (Pad's constant, 0 for ConvTranspose's inserted zeros); null when no element is filled.</summary>
    public float? RemapFill { get; set; }

    /// <summary>Output element i of a Remap given its input: the copied element, or the fill value.</summary>
    public float[] Remap(float[] x)
    {
        var map = RemapMap!;
        var y = new float[map.Length];
        float fill = RemapFill ?? 0;
        for (int i = 0; i < y.Length; i++) y[i] = map[i] >= 0 ? x[map[i]] : fill;
        return y;
    }
}
