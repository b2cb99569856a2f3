using System.Globalization;

namespace QuantGen.Core.Quantization.Factorization;

/// <summary>
/// The guard against a factorized build that silently lost its accuracy (QG0019, a build warning; docs/quantization.md,
/// "When the ratio is too high"). Two measured signals, either one enough:
/// <list type="bullet">
/// <item>the finished integer model's output SQNR against the float model on the calibration samples (with data)
/// below <see cref="MinOutputSqnrDb"/>: errors that compound over many layers show only here;</item>
/// <item>a factorized layer whose fitted relative error (its output error on the calibration inputs, or its weight
/// error without data) is above 10^(−<see cref="MinLayerSqnrDb"/>/10): one layer that bad breaks the model alone.</item>
/// </list>
/// The thresholds come from the measured table in docs/accuracy.md ("Factorized weights").
/// </summary>
internal static class FactorizationQualityCheck
{
    /// <summary>Below this model output SQNR (dB) a factorized build is reported.</summary>
    public const double MinOutputSqnrDb = 15;

    /// <summary>Below this fit SQNR (dB) of one factorized layer a build is reported.</summary>
    public const double MinLayerSqnrDb = 6;

    /// <summary>How many of the worst layers the warning names.</summary>
    private const int Named = 3;

    public static ModelWarning? Check(FactorizationPlan plan, double outputSqnrDb, string? modelPath)
    {
        var factorized = plan.Choices.Where(c => c.Factors is not null).OrderByDescending(c => c.RelativeError).ToList();
        if (factorized.Count == 0) return null;
        bool lowOutput = outputSqnrDb < MinOutputSqnrDb;   // NaN (no calibration data) is not low
        bool badLayer = Db(factorized[0].RelativeError) < MinLayerSqnrDb;
        if (!lowOutput && !badLayer) return null;

        var target = plan.TargetRatio is { } t ? $"CompressionRatio={t.ToString("G4", CultureInfo.InvariantCulture)}" : "the explicit FactorRank";
        var reached = ((double)plan.FloatBytes / plan.StoredBytes).ToString("F1", CultureInfo.InvariantCulture);
        var why = lowOutput
            ? string.Create(CultureInfo.InvariantCulture, $"the quantized model's output SQNR on the calibration samples is {outputSqnrDb:F1} dB (below {MinOutputSqnrDb} dB)")
            : string.Create(CultureInfo.InvariantCulture, $"a factorized layer's fitted SQNR is below {MinLayerSqnrDb} dB");
        var worst = string.Join("; ", factorized.Take(Named).Select(c => string.Create(CultureInfo.InvariantCulture,
            $"'{c.Layer.Name}' {c.Factors!.Setting.Describe(c.M, c.K)}, fit SQNR {Db(c.RelativeError):F1} dB")));
        return new ModelWarning(ErrorCodes.PoorFactorization,
            $"{target} ({reached}× smaller than float32) is likely to have lost accuracy: {why}. Worst factorized layers: {worst}. "
            + "Use a lower CompressionRatio, or check the accuracy on your data before shipping this build.",
            modelPath);
    }

    /// <summary>−10·log10 of a relative error (∞ for an exact fit).</summary>
    private static double Db(double relativeError) => relativeError <= 0 ? double.PositiveInfinity : -10 * Math.Log10(relativeError);
}
