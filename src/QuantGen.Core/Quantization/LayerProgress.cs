using System.Globalization;

namespace QuantGen.Core.Quantization;

/// <summary>The progress line of one finished weighted layer: which, how far along, what it cost and what it reached.</summary>
internal static class LayerProgress
{
    public static void Report(QuantizationOptions options, LayerLog log, int done, int total)
    {
        if (options.Progress is not { } progress) return;
        var sqnr = !double.IsNaN(log.OutputSqnrFinal) ? $", output SQNR {Sqnr.Format(log.OutputSqnrFinal)} dB"
            : !double.IsNaN(log.WeightSqnrFinal) ? $", weight SQNR {Sqnr.Format(log.WeightSqnrFinal)} dB" : "";
        progress(string.Create(CultureInfo.InvariantCulture,
            $"layer {done}/{total} {Artifact.SafeText.DiagnosticLine(log.Layer.Name)} ({log.Layer.Kind}): {log.Time.Elapsed.TotalSeconds:F1} s{sqnr}"));
    }
}
