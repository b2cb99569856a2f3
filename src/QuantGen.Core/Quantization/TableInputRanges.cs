namespace QuantGen.Core.Quantization;

/// <summary>
/// A value read only by Lookup tables whose functions are constant below (above) some input, e.g. hard-swish's input
/// below −3 or hard-sigmoid's outside [−3, 3], needs no grid there: its range is clipped to where the tables change, so
/// the producer's grid gets finer for free. Exact: the grid's end lies on the constant piece (one unclipped step beyond the
/// bound), so an input saturated there gives every table the same entry as the value it replaced.
/// </summary>
internal static class TableInputRanges
{
    /// <summary>The range of <paramref name="value"/> clipped to the tables reading it, or the range itself.</summary>
    public static (float Min, float Max) Clip(IReadOnlyList<FloatLayer> layers, IReadOnlySet<string> graphOutputs, string value, (float Min, float Max) range)
    {
        if (graphOutputs.Contains(value)) return range;
        var readers = layers.Where(l => l.Inputs.Contains(value, StringComparer.Ordinal)).ToList();
        if (readers.Count == 0 || readers.Any(l => l.Kind != Artifact.LayerKinds.Lookup || l.Function is null)) return range;
        double below = readers.Min(l => l.Function!.ConstantBelow), above = readers.Max(l => l.Function!.ConstantAbove);
        // One step of the unclipped u8 grid beyond the bound: the clipped grid's end point (its zero point rounded)
        // still lies on the constant piece.
        double margin = ((double)range.Max - range.Min) / 255;
        float lo = double.IsNegativeInfinity(below) ? float.NegativeInfinity : (float)(below - margin);
        float hi = double.IsPositiveInfinity(above) ? float.PositiveInfinity : (float)(above + margin);
        float min = MathF.Max(range.Min, lo), max = MathF.Min(range.Max, hi);
        return min < max ? (min, max) : range;
    }
}
