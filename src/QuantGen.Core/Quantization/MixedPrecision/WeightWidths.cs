using System.Globalization;
using QuantGen.Core.Artifact;

namespace QuantGen.Core.Quantization.MixedPrecision;

/// <summary>Each weighted layer's width before the passes: WeightBits, with the first/last layer pins applied.</summary>
internal static class WeightWidths
{
    /// <summary>The plain (not factorized) Conv/FullyConnected layers, in execution order: the ones with a weight width.</summary>
    public static List<FloatLayer> Weighted(IReadOnlyList<FloatLayer> layers) =>
        layers.Where(l => l.Kind is LayerKinds.Conv or LayerKinds.FullyConnected && l.Factorization is null && l.Weights is not null).ToList();

    /// <summary>Sets every weighted layer to WeightBits, then the first and last to their pins when given.</summary>
    public static void AssignUniform(IReadOnlyList<FloatLayer> layers, QuantizationOptions options)
    {
        var weighted = layers.Where(l => l.Kind is LayerKinds.Conv or LayerKinds.FullyConnected).ToList();
        foreach (var layer in weighted) layer.WeightBits = options.WeightBits;
        if (weighted.Count == 0) return;
        if (options.FirstLayerWeightBits is { } first) weighted[0].WeightBits = first;
        if (options.LastLayerWeightBits is { } last) weighted[^1].WeightBits = last;
    }

    /// <summary>True for a layer whose width a pin fixes (not searched by mixed precision).</summary>
    public static bool IsPinned(IReadOnlyList<FloatLayer> weighted, FloatLayer layer, QuantizationOptions options) =>
        (options.FirstLayerWeightBits is not null && ReferenceEquals(weighted[0], layer)) ||
        (options.LastLayerWeightBits is not null && ReferenceEquals(weighted[^1], layer));

    /// <summary>The weight width for metadata and the summary: "4" when every weighted layer has it, else "mixed 2-8 (mean 4.00)".</summary>
    public static string Describe(IReadOnlyList<FloatLayer> layers, QuantizationOptions options)
    {
        var weighted = Weighted(layers);
        var widths = weighted.Select(l => l.WeightBits).Distinct().ToList();
        if (widths.Count == 0) return options.WeightBits.ToString(CultureInfo.InvariantCulture);
        if (widths.Count == 1) return widths[0].ToString(CultureInfo.InvariantCulture);
        double mean = weighted.Sum(l => (double)l.Weights!.Length * l.WeightBits) / weighted.Sum(l => (double)l.Weights!.Length);
        return string.Create(CultureInfo.InvariantCulture, $"mixed {widths.Min()}-{widths.Max()} (mean {mean:F2})");
    }

    /// <summary>Bytes of a layer's weights at <paramref name="bits"/>: ⌈params·bits/8⌉ plus 4 bytes per weight scale.</summary>
    public static long Bytes(FloatLayer layer, int bits, bool perChannel) =>
        ((long)layer.Weights!.Length * bits + 7) / 8 + 4L * (perChannel ? layer.OutputChannels : 1);
}
