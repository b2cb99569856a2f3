using System.Globalization;
using System.Net;
using System.Text;

namespace QuantGen.Core.Training;

/// <summary>One point of the loss curve: the mean training loss per sample since the previous point, the held-out loss after the step, and the time per step.</summary>
internal sealed record FineTunePoint(int Step, double TrainingLoss, double ValidationLoss, double SecondsPerStep);

/// <summary>What the fine-tuning pass did: the data, the loss curve, the step whose parameters were kept (0 = the PTQ result).</summary>
internal sealed class FineTuneLog
{
    public required string Source { get; init; }

    public required int TrainingSamples { get; init; }

    public required int ValidationSamples { get; init; }

    public required int Steps { get; init; }

    public required int Batch { get; init; }

    public required string LossName { get; init; }

    public List<FineTunePoint> Points { get; } = new();

    public int BestStep { get; set; }

    public double Seconds { get; set; }

    /// <summary>The student's outputs (fake-quantized forward) on the held-out samples at the start, and with the kept parameters: what the integer model should compute.</summary>
    public float[][]? StartOutputs { get; set; }

    /// <summary>See <see cref="StartOutputs"/>.</summary>
    public float[][]? KeptOutputs { get; set; }

    /// <summary>One line for the build summary.</summary>
    public string Summary() => BestStep == 0
        ? string.Create(CultureInfo.InvariantCulture, $"fine-tuning kept the PTQ result (no step lowered the held-out {LossName} {Points[0].ValidationLoss:G4})")
        : string.Create(CultureInfo.InvariantCulture, $"fine-tuned, held-out {LossName} {Points[0].ValidationLoss:G4} → {Points.First(p => p.Step == BestStep).ValidationLoss:G4} at step {BestStep}");

    private string Description() => string.Create(CultureInfo.InvariantCulture,
        $"{Steps} steps of {Batch} samples from {TrainingSamples} training samples of {Source}; {LossName} against the float model; {ValidationSamples} held-out samples pick the kept step; {Seconds:F1} s.");

    public string Markdown()
    {
        var md = new StringBuilder();
        md.Append("\n## Fine-tuning\n\n").Append(Description()).Append(' ').Append(Summary()).Append(".\n\n");
        md.Append("| step | training loss | held-out loss | s/step |\n|---|---|---|---|\n");
        foreach (var p in Points)
            md.Append(CultureInfo.InvariantCulture, $"| {p.Step}{(p.Step == BestStep ? " (kept)" : "")} | {Number(p.TrainingLoss)} | {Number(p.ValidationLoss)} | {(p.Step == 0 ? "" : p.SecondsPerStep.ToString("F3", CultureInfo.InvariantCulture))} |\n");
        return md.ToString();
    }

    /// <summary>The same as an HTML section: the table and an SVG polyline of the held-out loss per step.</summary>
    public string Html()
    {
        var html = new StringBuilder();
        html.Append("<h2>Fine-tuning</h2>\n<p>").Append(WebUtility.HtmlEncode(Description() + " " + Summary() + ".")).Append("</p>\n");
        var finite = Points.Where(p => double.IsFinite(p.ValidationLoss)).ToList();
        if (finite.Count > 1)
        {
            const int width = 400, height = 120;
            double max = finite.Max(p => p.ValidationLoss), min = finite.Min(p => p.ValidationLoss), span = Math.Max(max - min, 1e-12);
            int last = Math.Max(1, finite[^1].Step);
            var points = string.Join(" ", finite.Select(p => string.Create(CultureInfo.InvariantCulture,
                $"{4 + (width - 8) * p.Step / (double)last:F1},{4 + (height - 8) * (max - p.ValidationLoss) / span:F1}")));
            html.Append(CultureInfo.InvariantCulture, $"<svg width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"held-out loss per step\">")
                .Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"#2f80ed\" stroke-width=\"2\" points=\"{points}\" /></svg>\n");
        }
        html.Append("<table>\n<thead><tr><th>step</th><th>training loss</th><th>held-out loss</th><th>s/step</th></tr></thead>\n<tbody>\n");
        foreach (var p in Points)
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{p.Step}{(p.Step == BestStep ? " (kept)" : "")}</td><td>{Number(p.TrainingLoss)}</td><td>{Number(p.ValidationLoss)}</td><td>{(p.Step == 0 ? "" : p.SecondsPerStep.ToString("F3", CultureInfo.InvariantCulture))}</td></tr>\n");
        html.Append("</tbody>\n</table>\n");
        return html.ToString();
    }

    private static string Number(double value) => double.IsFinite(value) ? value.ToString("G4", CultureInfo.InvariantCulture) : "";
}
