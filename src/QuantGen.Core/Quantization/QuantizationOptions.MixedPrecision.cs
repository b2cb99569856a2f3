using System.Globalization;

namespace QuantGen.Core.Quantization;

/// <summary>Per-layer weight widths: first/last layer pins and the mixed-precision budget (docs/quantization.md, "Mixed precision").</summary>
public sealed partial record QuantizationOptions
{
    /// <summary>The candidate widths mixed precision chooses from, narrowest first.</summary>
    public static IReadOnlyList<int> MixedPrecisionCandidates { get; } = [2, 3, 4, 8];

    /// <summary>Mixed precision: the largest weight bytes (Σ ⌈params·bits/8⌉ + 4 bytes per weight scale) of the plain weighted layers.</summary>
    public long? SizeBudget { get; init; }

    /// <summary>Mixed precision: the largest parameter-weighted mean weight width (Σ params·bits / Σ params), e.g. 4.5.</summary>
    public double? AverageWeightBits { get; init; }

    /// <summary>The first weighted layer's width (2 to 8), pinned: uniform builds use it instead of WeightBits, mixed builds do not search it. Null = not pinned.</summary>
    public int? FirstLayerWeightBits { get; init; }

    /// <summary>The last weighted layer's width, as <see cref="FirstLayerWeightBits"/>.</summary>
    public int? LastLayerWeightBits { get; init; }

    /// <summary>True when a weight budget asks for per-layer widths chosen by HAWQ-V2.</summary>
    public bool IsMixedPrecision => SizeBudget is not null || AverageWeightBits is not null;

    /// <summary>True when some layer may get fewer than 8 bits (the default pipeline then uses AdaRound).</summary>
    public bool UsesLowBits => WeightBits < 8 || IsMixedPrecision || FirstLayerWeightBits < 8 || LastLayerWeightBits < 8;

    private void ValidateMixedPrecision()
    {
        if (SizeBudget is not null && AverageWeightBits is not null)
            throw new ModelException(ErrorCodes.BadWeightBudget, "SizeBudget and AverageWeightBits both given: set one weight budget.");
        if (SizeBudget is < 1)
            throw new ModelException(ErrorCodes.BadWeightBudget, $"SizeBudget={SizeBudget} must be positive.");
        if (AverageWeightBits is { } average && !(average >= 2 && average <= 8))
            throw new ModelException(ErrorCodes.BadWeightBudget, $"AverageWeightBits={average.ToString(CultureInfo.InvariantCulture)} is out of range: use 2 to 8.");
        if (FirstLayerWeightBits is < 2 or > 8)
            throw new ModelException(ErrorCodes.BadWeightBudget, $"FirstLayerWeightBits={FirstLayerWeightBits} is not supported: use 2 to 8.");
        if (LastLayerWeightBits is < 2 or > 8)
            throw new ModelException(ErrorCodes.BadWeightBudget, $"LastLayerWeightBits={LastLayerWeightBits} is not supported: use 2 to 8.");
    }

    /// <summary>
    /// Parses a size: a whole number of bytes with an optional unit, B, KB or KiB (1024 bytes), MB or MiB (1024² bytes),
    /// case-insensitive, e.g. "48KB", "49152", "1.5 MB". Empty = null (no budget).
    /// </summary>
    public static long? ParseSizeBudget(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var trimmed = text.Trim();
        int end = trimmed.Length;
        while (end > 0 && char.IsLetter(trimmed[end - 1])) end--;
        var unit = trimmed[end..].ToUpperInvariant();
        long multiplier = unit switch
        {
            "" or "B" => 1,
            "KB" or "KIB" => 1024,
            "MB" or "MIB" => 1024 * 1024,
            _ => 0,
        };
        if (multiplier == 0 || !double.TryParse(trimmed[..end].Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value)
            || !(value * multiplier >= 1 && value * multiplier <= 1L << 40))
            throw new ModelException(ErrorCodes.BadWeightBudget,
                $"SizeBudget: '{trimmed}' is not a size; use bytes with an optional unit B, KB (1024 bytes) or MB, e.g. 48KB.");
        return (long)Math.Floor(value * multiplier);
    }

    /// <summary>Parses AverageWeightBits ("4.5", 2 to 8); empty = null.</summary>
    public static double? ParseAverageWeightBits(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (double.TryParse(text.Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value) && value >= 2 && value <= 8) return value;
        throw new ModelException(ErrorCodes.BadWeightBudget, $"AverageWeightBits: '{text.Trim()}' is not a width from 2 to 8 (e.g. 4.5).");
    }

    /// <summary>Parses FirstLayerWeightBits / LastLayerWeightBits (2 to 8); empty = null.</summary>
    public static int? ParseLayerBits(string name, string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value is >= 2 and <= 8) return value;
        throw new ModelException(ErrorCodes.BadWeightBudget, $"{name}: '{text.Trim()}' is not a width from 2 to 8.");
    }
}
