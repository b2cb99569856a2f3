using QuantGen.Core.Artifact;

namespace QuantGen.Core.Quantization;

/// <summary>The quantized model and what the build says about it.</summary>
public sealed record QuantizationResult(QuantizedArtifact Artifact, string ReportMarkdown, string Summary, double CalibrationSqnrDb)
{
    /// <summary>What the build should warn about (e.g. QG0019); the artifact is usable.</summary>
    public IReadOnlyList<ModelWarning> Warnings { get; init; } = [];

    /// <summary>The same report as a self-contained HTML page with per-layer bars (MODEL.quant.html beside the Markdown).</summary>
    public string ReportHtml { get; init; } = "";

    /// <summary>What the fine-tuning pass did (Algorithms "finetune"), else null.</summary>
    internal Training.FineTuneLog? FineTuning { get; init; }
}
