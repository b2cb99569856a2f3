using System.Globalization;
using System.Net;
using System.Text;

namespace QuantGen.Core.Quantization;

/// <summary>
/// The report for people who look rather than read (obj/…/MODEL.quant.html beside the Markdown one): per layer, bars of
/// weight and output SQNR per pass, the weight range before and after equalization, and the bit-widths. One
/// self-contained file: inline CSS and SVG, no script, nothing fetched. Written as well-formed XHTML-compatible markup, and
/// every text from the model (layer and node names) HTML-encoded: a model file is untrusted input.
/// </summary>
internal static class QuantizationHtmlReport
{
    private const int BarWidth = 220;
    private const int BarHeight = 11;

    private static readonly string[] Colors = ["#9aa5b1", "#e6a23c", "#2f80ed"];

    public static string Write(string name, string summary, IReadOnlyList<string> settings, QuantizationOptions options,
        IReadOnlyList<LayerReport> layers, IReadOnlyDictionary<FloatLayer, LayerLog> logs, string? extraHtml = null)
    {
        var weighted = layers.Select(r => logs.GetValueOrDefault(r.Layer)).OfType<LayerLog>().ToList();
        // One scale per chart across layers, so bars compare between rows.
        double sqnrMax = Math.Max(1, weighted.SelectMany(l => new[] { l.WeightSqnrNearest, l.WeightSqnrFinal, l.OutputSqnrNearest, l.OutputSqnrAdaRound, l.OutputSqnrFinal })
            .Where(double.IsFinite).DefaultIfEmpty(1).Max());
        double rangeMax = weighted.SelectMany(l => new[] { (double)l.RangeBefore.Max, l.RangeAfter.Max }).Where(double.IsFinite).DefaultIfEmpty(1).Max();

        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />\n");
        html.Append("<title>").Append(Text(name)).Append(" quantization report</title>\n");
        html.Append("<style>\n")
            .Append("body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }\n")
            .Append("table { border-collapse: collapse; }\n")
            .Append("th, td { border-bottom: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }\n")
            .Append("td.name { font-family: monospace; max-width: 24em; overflow-wrap: anywhere; }\n")
            .Append("svg text { font: 10px sans-serif; fill: #222; }\n")
            .Append(".legend span { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 12px; }\n")
            .Append("</style>\n</head>\n<body>\n");
        html.Append("<h1>").Append(Text(name)).Append(" quantization report</h1>\n");
        html.Append("<p>").Append(Text(summary)).Append("</p>\n<ul>\n");
        foreach (var line in settings) html.Append("<li>").Append(Text(line)).Append("</li>\n");
        html.Append("</ul>\n");
        html.Append("<p class=\"legend\">SQNR bars (dB, longer is better):")
            .Append(CultureInfo.InvariantCulture, $"<span style=\"background:{Colors[0]}\"></span>nearest rounding")
            .Append(CultureInfo.InvariantCulture, $"<span style=\"background:{Colors[1]}\"></span>AdaRound")
            .Append(CultureInfo.InvariantCulture, $"<span style=\"background:{Colors[2]}\"></span>final (after bias correction)")
            .Append(". Weight range: the largest per-channel max |w| before (grey) and after (blue) cross-layer equalization.</p>\n");

        html.Append("<table>\n<thead><tr><th>#</th><th>layer</th><th>kind</th><th>bits</th><th>weight SQNR</th><th>output SQNR</th><th>weight range</th><th>ms</th></tr></thead>\n<tbody>\n");
        for (int i = 0; i < layers.Count; i++)
        {
            var layer = layers[i].Layer;
            var log = logs.GetValueOrDefault(layer);
            html.Append(CultureInfo.InvariantCulture, $"<tr data-layer=\"{Attribute(layer.Name)}\"><td>{i + 1}</td>");
            html.Append("<td class=\"name\">").Append(Text(layer.Name)).Append("</td><td>").Append(Text(layer.Kind)).Append("</td><td>");
            html.Append(Text(Bits(layer, log, options))).Append("</td>");
            if (log is null)
            {
                html.Append("<td></td><td></td><td></td><td></td></tr>\n");
                continue;
            }
            html.Append("<td>").Append(Bars([(log.WeightSqnrNearest, 0), (log.WeightSqnrFinal, 2)], sqnrMax, Db)).Append("</td>");
            html.Append("<td>").Append(Bars([(log.OutputSqnrNearest, 0), (log.OutputSqnrAdaRound, 1), (log.OutputSqnrFinal, 2)], sqnrMax, Db)).Append("</td>");
            html.Append("<td>").Append(Bars([(log.RangeBefore.Max, 0), (log.RangeAfter.Max, 2)], rangeMax, v => v.ToString("G3", CultureInfo.InvariantCulture))).Append("</td>");
            html.Append(CultureInfo.InvariantCulture, $"<td>{log.Time.Elapsed.TotalMilliseconds:F0}</td></tr>\n");
        }
        html.Append("</tbody>\n</table>\n").Append(extraHtml).Append("</body>\n</html>\n");
        return html.ToString();
    }

    private static string Bits(FloatLayer layer, LayerLog? log, QuantizationOptions options)
    {
        var activations = $"A{options.ActivationBits}";
        if (log is null) return layer.IsFloatTail ? "float" : activations;
        return layer.Factorization is not null ? $"factorized, {activations}" : $"W{layer.WeightBits} {activations}";
    }

    /// <summary>One horizontal bar per present value (NaN: the pass did not run, no bar), labelled with the value.</summary>
    private static string Bars(IReadOnlyList<(double Value, int Color)> values, double max, Func<double, string> label)
    {
        var present = values.Where(v => !double.IsNaN(v.Value)).ToList();
        if (present.Count == 0) return "–";
        var svg = new StringBuilder();
        int height = present.Count * (BarHeight + 2);
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{BarWidth + 60}\" height=\"{height}\" role=\"img\">");
        for (int i = 0; i < present.Count; i++)
        {
            var (value, color) = present[i];
            double width = double.IsFinite(value) ? Math.Clamp(value / max, 0, 1) * BarWidth : value > 0 ? BarWidth : 0;
            int y = i * (BarHeight + 2);
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"0\" y=\"{y}\" width=\"{width:F1}\" height=\"{BarHeight}\" fill=\"{Colors[color]}\"><title>{Text(label(value))}</title></rect>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{width + 3:F1}\" y=\"{y + BarHeight - 2}\">{Text(label(value))}</text>");
        }
        return svg.Append("</svg>").ToString();
    }

    private static string Db(double db) => Sqnr.Format(db);

    /// <summary>Element text: &amp;, &lt;, &gt; and quotes encoded, and characters XML cannot hold (controls) as U+FFFD.</summary>
    internal static string Text(string s) => WebUtility.HtmlEncode(XmlSafe(s));

    private static string Attribute(string s) => WebUtility.HtmlEncode(XmlSafe(s));

    private static string XmlSafe(string s)
    {
        var sb = new StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                sb.Append(c).Append(s[++i]);
                continue;
            }
            bool invalid = (c < 0x20 && c is not ('\t' or '\n' or '\r')) || char.IsSurrogate(c) || c is '\uFFFE' or '\uFFFF';
            sb.Append(invalid ? '\uFFFD' : c);
        }
        return sb.ToString();
    }
}
