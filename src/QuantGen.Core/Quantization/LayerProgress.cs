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
            $"layer {done}/{total} {Printable(log.Layer.Name)} ({log.Layer.Kind}): {log.Time.Elapsed.TotalSeconds:F1} s{sqnr}"));
    }

    /// <summary>A model's name on one line: control, line-breaking and bidi characters as \uXXXX (a name must not forge a line of build output).</summary>
    private static string Printable(string name)
    {
        var sb = new System.Text.StringBuilder(name.Length);
        foreach (char c in name.Length > 200 ? name[..200] + "…" : name)
        {
            if (char.IsControl(c) || c is '\u2028' or '\u2029' || (c >= '\u200E' && c <= '\u200F') || (c >= '\u202A' && c <= '\u202E') || (c >= '\u2066' && c <= '\u2069'))
                sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            else
                sb.Append(c);
        }
        return sb.ToString();
    }
}
