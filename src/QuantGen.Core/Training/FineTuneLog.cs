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

    /// <summary>The output loss (what the held-out samples are scored by): "KL", "KL at temperature 2" or "MSE".</summary>
    public required string LossName { get; init; }

    /// <summary>The intermediate-feature term of the training loss ("1 × feature MSE (2 layers)"), or null without one.</summary>
    public string? FeatureTerm { get; init; }

    public List<FineTunePoint> Points { get; } = new();

    public int BestStep { get; set; }

    /// <summary>Per weighted layer, the oscillation statistics at the last step (Training/Oscillations.cs).</summary>
    public List<OscillationStatistics> Oscillations { get; } = new();

    /// <summary>Oscillation dampening's final λ and the freeze threshold (0 = off).</summary>
    public float Dampening { get; init; }

    /// <summary>See <see cref="Dampening"/>.</summary>
    public float FreezeThreshold { get; init; }

    public double Seconds { get; set; }

    /// <summary>The student's outputs (fake-quantized forward) on the held-out samples at the start, and with the kept parameters: what the integer model should compute.</summary>
    public float[][]? StartOutputs { get; set; }

    /// <summary>See <see cref="StartOutputs"/>.</summary>
    public float[][]? KeptOutputs { get; set; }

    /// <summary>One line for the build summary.</summary>
    public string Summary() => Result() + (Oscillations.Count == 0 ? "" : string.Create(CultureInfo.InvariantCulture,
        $"; {Percent(OscillationTotals().Oscillating)} of the weights oscillating at the last step{(FreezeThreshold > 0 ? $", {Percent(OscillationTotals().Frozen)} frozen" : "")}"));

    private string Result() => BestStep == 0
        ? string.Create(CultureInfo.InvariantCulture, $"fine-tuning kept the PTQ result (no step lowered the held-out {LossName} {Points[0].ValidationLoss:G4})")
        : string.Create(CultureInfo.InvariantCulture, $"fine-tuned, held-out {LossName} {Points[0].ValidationLoss:G4} → {Points.First(p => p.Step == BestStep).ValidationLoss:G4} at step {BestStep}");

    private string Description() => string.Create(CultureInfo.InvariantCulture,
        $"{Steps} steps of {Batch} samples from {TrainingSamples} training samples of {Source}; {LossName}{(FeatureTerm is null ? "" : " + " + FeatureTerm)} against the float model; {ValidationSamples} held-out samples pick the kept step by the {LossName} alone; {Seconds:F1} s.");

    public string Markdown()
    {
        var md = new StringBuilder();
        md.Append("\n## Fine-tuning\n\n").Append(Description()).Append(' ').Append(Summary()).Append(".\n\n");
        md.Append("| step | training loss | held-out loss | s/step |\n|---|---|---|---|\n");
        foreach (var p in Points)
            md.Append(CultureInfo.InvariantCulture, $"| {p.Step}{(p.Step == BestStep ? " (kept)" : "")} | {Number(p.TrainingLoss)} | {Number(p.ValidationLoss)} | {(p.Step == 0 ? "" : p.SecondsPerStep.ToString("F3", CultureInfo.InvariantCulture))} |\n");
        if (Oscillations.Count > 0)
        {
            md.Append('\n').Append(OscillationDescription()).Append("\n\n| layer | weights | oscillating | frozen | mean frequency |\n|---|---|---|---|---|\n");
            foreach (var o in Oscillations)
                md.Append(CultureInfo.InvariantCulture, $"| {o.Layer.Replace("|", "\\|", StringComparison.Ordinal)} | {o.Weights} | {Percent(o.Oscillating, o.Weights)} | {Percent(o.Frozen, o.Weights)} | {o.MeanFrequency:G3} |\n");
        }
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
        if (Oscillations.Count > 0)
        {
            html.Append("<p>").Append(WebUtility.HtmlEncode(OscillationDescription())).Append("</p>\n<table>\n<thead><tr><th>layer</th><th>weights</th><th>oscillating</th><th>frozen</th><th>mean frequency</th></tr></thead>\n<tbody>\n");
            foreach (var o in Oscillations)
                html.Append(CultureInfo.InvariantCulture, $"<tr><td>{WebUtility.HtmlEncode(o.Layer)}</td><td>{o.Weights}</td><td>{Percent(o.Oscillating, o.Weights)}</td><td>{Percent(o.Frozen, o.Weights)}</td><td>{o.MeanFrequency:G3}</td></tr>\n");
            html.Append("</tbody>\n</table>\n");
        }
        return html.ToString();
    }

    /// <summary>The whole model's fractions of oscillating and frozen weights at the last step.</summary>
    public (double Oscillating, double Frozen) OscillationTotals()
    {
        long weights = Oscillations.Sum(o => (long)o.Weights);
        return weights == 0 ? (0, 0) : (Oscillations.Sum(o => (long)o.Oscillating) / (double)weights, Oscillations.Sum(o => (long)o.Frozen) / (double)weights);
    }

    private string OscillationDescription()
    {
        var (oscillating, frozen) = OscillationTotals();
        return string.Create(CultureInfo.InvariantCulture,
            $"Weight oscillations at step {Steps} (a weight oscillates when its integer value changes against its previous change; frequency = EMA with momentum {OscillationTracker.Momentum:G2}; oscillating = frequency ≥ {OscillationTracker.ReportThreshold:G2}): {Percent(oscillating)} oscillating, {Percent(frozen)} frozen; dampening λ {(Dampening > 0 ? Dampening.ToString("G4", CultureInfo.InvariantCulture) : "off")}, freezing {(FreezeThreshold > 0 ? "above frequency " + FreezeThreshold.ToString("G4", CultureInfo.InvariantCulture) : "off")}.");
    }

    private static string Percent(int count, int total) => total == 0 ? "" : Percent(count / (double)total);

    private static string Percent(double fraction) => (100 * fraction).ToString("F2", CultureInfo.InvariantCulture) + "%";

    private static string Number(double value) => double.IsFinite(value) ? value.ToString("G4", CultureInfo.InvariantCulture) : "";
}
