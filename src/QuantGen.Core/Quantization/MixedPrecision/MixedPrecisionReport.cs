using System.Globalization;
using System.Text;

namespace QuantGen.Core.Quantization.MixedPrecision;

/// <summary>The mixed-precision part of the reports: per-layer sensitivities and widths, the frontier, the chosen point.</summary>
internal static class MixedPrecisionReport
{
    /// <summary>Frontier rows shown in the Markdown table; a longer frontier is thinned evenly (the chosen point always shown).</summary>
    private const int MaxRows = 40;

    public static string Summary(MixedPrecisionPlan plan)
    {
        var chosen = plan.ChosenPoint;
        return string.Create(CultureInfo.InvariantCulture,
            $"mixed precision ({plan.Budget}): {chosen.Bytes} weight bytes, mean {chosen.AverageBits:F2} bits (uniform W4: {plan.UniformW4Bytes} bytes), lowest loss of {plan.Measured.Count} measured, sensitivity analysis {plan.Time.TotalSeconds:F1} s");
    }

    public static string Markdown(MixedPrecisionPlan plan)
    {
        var md = new StringBuilder();
        var chosen = plan.ChosenPoint;
        md.Append("\n## Mixed precision (HAWQ-V2)\n\n");
        md.Append(CultureInfo.InvariantCulture,
            $"Budget: {plan.Budget}. Chosen: {chosen.Bytes} weight bytes (Σ ⌈params·bits/8⌉ + 4 bytes per scale), mean {chosen.AverageBits:F3} bits, Σ Ω {chosen.Sensitivity:G4}. ");
        md.Append(CultureInfo.InvariantCulture,
            $"Traces: Hutchinson, {plan.Vectors} Rademacher vectors, Gauss-Newton form by central differences on {plan.Samples} calibration samples; {plan.Time.TotalSeconds:F1} s.\n\n");
        md.Append("| layer | parameters | mean trace tr/n | Ω at 2 bits | Ω at 3 bits | Ω at 4 bits | Ω at 8 bits | bits |\n|---|---|---|---|---|---|---|---|\n");
        foreach (var l in plan.Layers)
        {
            md.Append(CultureInfo.InvariantCulture, $"| {QuantizationReport.Cell(l.Layer.Name)} | {l.Parameters} | ");
            if (l.Pinned) md.Append("pinned | | | | | ");
            else
            {
                md.Append(CultureInfo.InvariantCulture, $"{l.Trace / l.Parameters:G4} | ");
                foreach (int b in QuantizationOptions.MixedPrecisionCandidates) md.Append(CultureInfo.InvariantCulture, $"{l.Omega[b]:G4} | ");
            }
            md.Append(CultureInfo.InvariantCulture, $"{l.Bits} |\n");
        }
        md.Append(CultureInfo.InvariantCulture, $"\nPareto frontier of Σ Ω against weight bytes ({plan.Frontier.Count} points");
        var rows = Rows(plan);
        if (rows.Count < plan.Frontier.Count) md.Append(CultureInfo.InvariantCulture, $", {rows.Count} shown");
        md.Append("; widths of the searched layers in layer order):\n\n| weight bytes | mean bits | Σ Ω | widths | |\n|---|---|---|---|---|\n");
        foreach (int i in rows)
        {
            var p = plan.Frontier[i];
            int m = Measured(plan, i);
            string mark = m < 0 ? "" : m == plan.Chosen ? "**chosen**" : "measured";
            md.Append(CultureInfo.InvariantCulture, $"| {p.Bytes} | {p.AverageBits:F3} | {p.Sensitivity:G4} | {string.Join(" ", p.Bits)} | {mark} |\n");
        }
        md.Append(CultureInfo.InvariantCulture,
            $"\nCandidates measured (the least-sensitive frontier points within the budget and the uniform point that fits): output mean squared error against the float model, weights quantized at the widths ({(plan.AdaRoundIterations > 0 ? $"AdaRound {plan.AdaRoundIterations} iterations per layer and width below 8 bits against the float inputs, nearest at 8" : "nearest rounding")}), activations float, {plan.LossSamples} calibration samples; the lowest is built, except that the uniform point is kept unless a lower loss beats it by more than {MeasuredSelection.Significance} paired standard errors over the samples{(plan.UniformKept ? " (kept here: the lowest loss's gain was within that)" : "")}.\n\n");
        md.Append("| weight bytes | mean bits | Σ Ω | widths | loss (output MSE) | |\n|---|---|---|---|---|---|\n");
        for (int k = 0; k < plan.Measured.Count; k++)
        {
            var c = plan.Measured[k];
            string mark = (k == plan.Chosen ? "**chosen**" : "") + (c.Uniform ? (k == plan.Chosen ? ", " : "") + "uniform" : "") + (c.FrontierIndex < 0 ? " (off the frontier)" : "");
            md.Append(CultureInfo.InvariantCulture, $"| {c.Point.Bytes} | {c.Point.AverageBits:F3} | {c.Point.Sensitivity:G4} | {string.Join(" ", c.Point.Bits)} | {c.Loss:G4} | {mark} |\n");
        }
        return md.ToString();
    }

    /// <summary>The frontier as an SVG step plot (log Σ Ω against bytes), the chosen point in orange, for the HTML report.</summary>
    public static string Html(MixedPrecisionPlan plan)
    {
        const int width = 520, height = 260, left = 60, bottom = 30, top = 10, right = 10;
        var points = plan.Frontier;
        double xMin = points[0].Bytes, xMax = Math.Max(xMin + 1, Math.Max(points[^1].Bytes, plan.ChosenPoint.Bytes));
        static double Log(MixedPoint p) => Math.Log10(Math.Max(p.Sensitivity, 1e-30));
        var logs = points.Select(Log).ToList();
        var c = plan.ChosenPoint;
        double yMin = Math.Min(logs.Min(), Log(c)), yMax = Math.Max(yMin + 1e-9, Math.Max(logs.Max(), Log(c)));
        double X(double bytes) => left + (bytes - xMin) / (xMax - xMin) * (width - left - right);
        double Y(double log) => top + (yMax - log) / (yMax - yMin) * (height - top - bottom);
        var svg = new StringBuilder();
        svg.Append("<h2>Mixed precision (HAWQ-V2)</h2>\n<p>").Append(QuantizationHtmlReport.Text(Summary(plan))).Append("</p>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" role=\"img\">");
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{height - bottom}\" x2=\"{width - right}\" y2=\"{height - bottom}\" stroke=\"#888\" />");
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{height - bottom}\" stroke=\"#888\" />");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left}\" y=\"{height - 8}\">{xMin:F0} B</text><text x=\"{width - right - 60}\" y=\"{height - 8}\">{xMax:F0} B</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"2\" y=\"{top + 10}\">Σ Ω 1e{yMax:F1}</text><text x=\"2\" y=\"{height - bottom}\">1e{yMin:F1}</text>");
        var path = new StringBuilder();
        for (int i = 0; i < points.Count; i++)
            path.Append(CultureInfo.InvariantCulture, $"{(i == 0 ? "M" : "L")}{X(points[i].Bytes):F1},{Y(logs[i]):F1} ");
        svg.Append(CultureInfo.InvariantCulture, $"<path d=\"{path.ToString().TrimEnd()}\" fill=\"none\" stroke=\"#2f80ed\" />");
        svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{X(c.Bytes):F1}\" cy=\"{Y(Log(c)):F1}\" r=\"4\" fill=\"#e6a23c\"><title>chosen: {c.Bytes} bytes, mean {c.AverageBits:F2} bits</title></circle>");
        svg.Append("</svg>\n<table>\n<thead><tr><th>layer</th><th>parameters</th><th>bits</th></tr></thead>\n<tbody>\n");
        foreach (var l in plan.Layers)
            svg.Append("<tr><td class=\"name\">").Append(QuantizationHtmlReport.Text(l.Layer.Name)).Append(CultureInfo.InvariantCulture, $"</td><td>{l.Parameters}</td><td>{l.Bits}{(l.Pinned ? " (pinned)" : "")}</td></tr>\n");
        svg.Append("</tbody>\n</table>\n");
        return svg.ToString();
    }

    /// <summary>The index in <see cref="MixedPrecisionPlan.Measured"/> of frontier point <paramref name="frontierIndex"/>, or −1.</summary>
    private static int Measured(MixedPrecisionPlan plan, int frontierIndex)
    {
        for (int k = 0; k < plan.Measured.Count; k++)
            if (plan.Measured[k].FrontierIndex == frontierIndex) return k;
        return -1;
    }

    private static List<int> Rows(MixedPrecisionPlan plan)
    {
        int n = plan.Frontier.Count;
        if (n <= MaxRows) return Enumerable.Range(0, n).ToList();
        var rows = new SortedSet<int> { 0, n - 1 };
        foreach (var m in plan.Measured)
            if (m.FrontierIndex >= 0) rows.Add(m.FrontierIndex);
        for (int k = 0; k < MaxRows - 3; k++) rows.Add((int)((long)k * (n - 1) / (MaxRows - 3)));
        return rows.ToList();
    }
}
