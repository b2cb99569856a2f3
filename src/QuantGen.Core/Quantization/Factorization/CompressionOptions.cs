using System.Globalization;

namespace QuantGen.Core.Quantization.Factorization;

/// <summary>How weights are stored (the QuantModel item's <c>Compression</c> metadata).</summary>
public enum WeightCompression
{
    /// <summary>Plain per-channel quantized weights.</summary>
    None,

    /// <summary>Quantized sparse factors W ≈ A·B where it pays (arXiv 2207.11048).</summary>
    Factorized,
}

/// <summary>Parsing and validation of the factorization options (QuantizationOptions holds the values).</summary>
public static class CompressionOptions
{
    public const int MaxRank = 256;

    public static WeightCompression ParseCompression(string? text) =>
        string.IsNullOrWhiteSpace(text) ? WeightCompression.None
        : text.Trim().ToLowerInvariant() switch
        {
            "none" => WeightCompression.None,
            "factorized" => WeightCompression.Factorized,
            _ => throw new ModelException(ErrorCodes.InvalidOption, $"Compression: '{text.Trim()}' is not known; use none or factorized."),
        };

    public static double? ParseRatio(string? text) =>
        string.IsNullOrWhiteSpace(text) ? null
        : double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
        : throw new ModelException(ErrorCodes.InvalidOption, $"CompressionRatio: '{text.Trim()}' is not a number.");

    public static double? ParseSparsity(string? text) =>
        string.IsNullOrWhiteSpace(text) ? null
        : double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
        : throw new ModelException(ErrorCodes.InvalidOption, $"FactorSparsity: '{text.Trim()}' is not a number.");

    public static int? ParseInt(string name, string? text) =>
        string.IsNullOrWhiteSpace(text) ? null
        : int.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) ? v
        : throw new ModelException(ErrorCodes.InvalidOption, $"{name}: '{text.Trim()}' is not an integer.");

    /// <summary>The combinations QuantizationOptions.Validate accepts; a bad one is QG0015 naming the option.</summary>
    internal static void Validate(QuantizationOptions o)
    {
        if (o.Compression == WeightCompression.None)
        {
            if (o.CompressionRatio is not null || o.FactorRank is not null || o.FactorSparsity is not null || o.FactorBits is not null)
                throw new ModelException(ErrorCodes.InvalidOption, "CompressionRatio, FactorRank, FactorSparsity and FactorBits need Compression=\"factorized\".");
            return;
        }
        // The factorized kernels read u8 inputs and write u8 outputs (docs/artifact.md); no 16-bit form exists yet.
        if (o.ActivationBits != 8)
            throw new ModelException(ErrorCodes.InvalidOption, $"Compression=\"factorized\" with ActivationBits={o.ActivationBits} is not supported yet: factorized layers have 8-bit activations.");
        if (o.CompressionRatio is null == o.FactorRank is null)
            throw new ModelException(ErrorCodes.InvalidOption, "Compression=\"factorized\" needs either CompressionRatio (a size target) or FactorRank (explicit factors), not both.");
        if (o.CompressionRatio is { } ratio && !(ratio > 1 && ratio <= 1000))
            throw new ModelException(ErrorCodes.InvalidOption, $"CompressionRatio={ratio.ToString(CultureInfo.InvariantCulture)} is out of range: use a number above 1 and at most 1000 (float32 bytes / stored bytes).");
        if (o.FactorRank is { } rank && rank is < 1 or > MaxRank)
            throw new ModelException(ErrorCodes.InvalidOption, $"FactorRank={rank} is out of range 1..{MaxRank}.");
        if (o.FactorSparsity is { } sparsity && !(sparsity >= 0 && sparsity <= 0.95))
            throw new ModelException(ErrorCodes.InvalidOption, $"FactorSparsity={sparsity.ToString(CultureInfo.InvariantCulture)} is out of range: use 0 (dense factors) to 0.95 (5% of the entries kept).");
        if (o.FactorBits is { } bits && bits is < 2 or > 8)
            throw new ModelException(ErrorCodes.InvalidOption, $"FactorBits={bits} is not supported: use 2 to 8.");
    }
}
