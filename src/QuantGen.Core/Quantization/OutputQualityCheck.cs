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

    /// <summary>Characters a FloatNodes entry cannot hold inside a csproj attribute or a ';' list.</summary>
    private static readonly char[] Unspellable = [';', '"', '\'', '\r', '\n'];

    public static ModelWarning? Check(string name, double outputSqnrDb, IEnumerable<LayerLog> logs, string? modelPath)
    {
        if (!(outputSqnrDb < MinOutputSqnrDb)) return null;   // NaN (data-free) is not low
        var weakest = logs.Where(l => !double.IsNaN(l.OutputSqnrFinal)).OrderBy(l => l.OutputSqnrFinal).Take(Named).ToList();
        var worst = weakest.Select(l => string.Create(CultureInfo.InvariantCulture, $"'{l.Layer.Name}' {l.OutputSqnrFinal:F1} dB")).ToList();
        var layers = worst.Count == 0 ? "" : $" The weighted layers with the lowest output SQNR: {string.Join("; ", worst)}.{FloatNodesHint(weakest.Select(l => l.Layer))}";
        return new ModelWarning(ErrorCodes.PoorOutputSqnr, string.Create(CultureInfo.InvariantCulture,
            $"{name}: the quantized model's output SQNR against the float model on the calibration samples is {outputSqnrDb:F1} dB (below {MinOutputSqnrDb} dB: its outputs are mostly quantization error).{layers} The report ({name}.quant.md) shows where it drops. A value whose useful range spans decades (a power spectrum before its Log) loses its small values on any linear grid, 8- or 16-bit: such a model is better run in float."),
            modelPath);
    }

    /// <summary>
    /// The metadata that keeps those layers in float: a layer's name is its first ONNX node's (the Conv, Gemm or MatMul
    /// holding the weights; the nodes fused after it then stand alone and fall to float with it where nothing quantized
    /// reads them). Names FloatNodes cannot spell (a ';' or a quote inside) are left out; "" when none remains.
    /// </summary>
    internal static string FloatNodesHint(IEnumerable<FloatLayer> layers)
    {
        var names = layers.Select(l => l.Nodes.Count > 0 ? l.Nodes[0] : l.Name).Where(n => n.Length > 0 && n.IndexOfAny(Unspellable) < 0).Distinct(StringComparer.Ordinal).ToList();
        return names.Count == 0 ? "" : $" To keep them in float, add FloatNodes=\"{string.Join(";", names)}\" to the QuantModel item (CLI: --float-nodes \"{string.Join(";", names)}\"); a float layer costs its MACs in float32 speed, so prefer the light layers before a Log or a division to the ones holding most of the MACs.";
    }
}
