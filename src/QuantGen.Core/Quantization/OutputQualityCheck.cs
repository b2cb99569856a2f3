using System.Globalization;

namespace QuantGen.Core.Quantization;

/// <summary>
/// The guard against a calibrated build whose quantized model computes mostly noise (QG0026, a build warning): its
/// output SQNR against the float model on the calibration samples below <see cref="MinOutputSqnrDb"/>, i.e. the
/// quantization error carries more than a tenth of the output's power. Measured case that needs it: openWakeWord's
/// melspectrogram at W8A8 (3.7 dB: the power spectrum rounded to a linear u8 grid before its Log, docs/accuracy.md),
/// which built without a word. The project's classifiers sit at 25-45 dB, even at W2 (docs/accuracy.md), so the
/// threshold flags broken builds, not aggressive ones. Factorized builds have their own, stricter check (QG0019).
/// </summary>
internal static class OutputQualityCheck
{
    /// <summary>Below this model output SQNR (dB) a calibrated build is reported.</summary>
    public const double MinOutputSqnrDb = 10;

    /// <summary>How many of the weighted layers with the lowest output SQNR the warning names.</summary>
    private const int Named = 3;

    public static ModelWarning? Check(string name, double outputSqnrDb, IEnumerable<LayerLog> logs, string? modelPath)
    {
        if (!(outputSqnrDb < MinOutputSqnrDb)) return null;   // NaN (data-free) is not low
        var worst = logs.Where(l => !double.IsNaN(l.OutputSqnrFinal)).OrderBy(l => l.OutputSqnrFinal).Take(Named)
            .Select(l => string.Create(CultureInfo.InvariantCulture, $"'{l.Layer.Name}' {l.OutputSqnrFinal:F1} dB")).ToList();
        var layers = worst.Count == 0 ? "" : $" The weighted layers with the lowest output SQNR: {string.Join("; ", worst)}.";
        return new ModelWarning(ErrorCodes.PoorOutputSqnr, string.Create(CultureInfo.InvariantCulture,
            $"{name}: the quantized model's output SQNR against the float model on the calibration samples is {outputSqnrDb:F1} dB (below {MinOutputSqnrDb} dB: its outputs are mostly quantization error).{layers} The report ({name}.quant.md) shows where it drops. A value whose useful range spans decades (a power spectrum before its Log) loses its small values on any linear grid, 8- or 16-bit: such a model is better run in float."),
            modelPath);
    }
}
