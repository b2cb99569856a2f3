using QuantGen.Core.Artifact;

namespace QuantGen.Core.Quantization;

/// <summary>The quantized model and what the build says about it.</summary>
public sealed record QuantizationResult(QuantizedArtifact Artifact, string ReportMarkdown, string Summary, double CalibrationSqnrDb);
