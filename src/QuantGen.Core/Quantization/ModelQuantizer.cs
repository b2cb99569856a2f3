using System.Diagnostics;
using System.Globalization;
using System.Text;
using QuantGen.Core.Artifact;
using QuantGen.Core.Execution;
using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>
/// Post-training quantization, version 1: BN folding, per-output-channel symmetric weights, per-tensor asymmetric
/// u8 activations with min-max ranges from calibration data (or, data-free, from BN statistics and moment
/// propagation), int32 biases, fixed-point requantization, fused activation clamps.
/// </summary>
public static class ModelQuantizer
{
    /// <summary>How many calibration samples the SQNR measurement of the finished integer model uses.</summary>
    private const int SqnrSamples = 64;

    public static QuantizationResult Quantize(Model model, QuantizationOptions options, CalibrationSet? calibration, IEnumerable<ArtifactMetadata>? metadata = null)
    {
        options.Validate();
        var clock = Stopwatch.StartNew();
        try
        {
            var prepared = QuantizationPreparation.Prepare(model, options.BatchSize);
            var (layers, batchNorms, aliases) = LayerGraphBuilder.Build(prepared.Graph, model.Path);
            var observed = prepared.Graph.Inputs.Select(i => i.Name).Concat(layers.Select(l => l.Output)).ToArray();

            int samples = 0;
            Dictionary<string, (float Min, float Max)> ranges;
            if (calibration is not null)
            {
                samples = Math.Min(calibration.Validate(prepared.Graph, model.Path), options.MaxCalibrationSamples);
                ranges = RangeCalibrator.Collect(prepared, calibration, samples, observed);
            }
            else
            {
                ranges = DataFreeRanges.Estimate(prepared.Graph, layers, batchNorms, model.Path);
            }

            var allMetadata = new List<ArtifactMetadata>(metadata ?? []);
            allMetadata.Add(new("algorithms", "bn-fold;minmax;per-channel-weights"));
            allMetadata.Add(new("weightBits", options.WeightBits.ToString(CultureInfo.InvariantCulture)));
            allMetadata.Add(new("activationBits", options.ActivationBits.ToString(CultureInfo.InvariantCulture)));
            allMetadata.Add(new("calibrationSamples", samples.ToString(CultureInfo.InvariantCulture)));

            var builder = new ArtifactBuilder(prepared.Graph, options, ranges);
            var name = Path.GetFileNameWithoutExtension(model.Path ?? prepared.Graph.Name);
            var draft = builder.Build(name, layers, aliases, allMetadata);

            double sqnr = calibration is null ? double.NaN : MeasureSqnr(prepared, draft, calibration, Math.Min(samples, SqnrSamples));
            allMetadata.Add(new("calibrationSqnrDb", double.IsNaN(sqnr) ? "n/a" : Sqnr.Format(sqnr)));
            var artifact = draft with { Metadata = new(allMetadata.ToArray()) };

            var summary = $"{name}: {layers.Count} layers, W{options.WeightBits}A{options.ActivationBits}, " +
                (calibration is null ? "data-free" : $"{samples} calibration samples, output SQNR {Sqnr.Format(sqnr)} dB") +
                $", {clock.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s";
            return new QuantizationResult(artifact, Report(name, options, builder.Reports, summary), summary, sqnr);
        }
        catch (ModelException e)
        {
            throw e.WithContext(model.Path);
        }
    }

    /// <summary>SQNR (dB) of the integer model's outputs against the float model's, over the first samples.</summary>
    private static double MeasureSqnr(Model prepared, QuantizedArtifact artifact, CalibrationSet calibration, int samples)
    {
        var executor = new ReferenceExecutor(prepared);
        var simulator = new IntegerSimulator(artifact);
        var reference = new List<float>();
        var quantized = new List<float>();
        for (int i = 0; i < samples; i++)
        {
            var inputs = calibration.Sample(prepared.Graph, i);
            var expected = executor.Run(inputs);
            var actual = simulator.Run(inputs.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray<float>()));
            foreach (var output in prepared.Graph.Outputs)
            {
                reference.AddRange(expected[output.Name].ToFloatArray());
                quantized.AddRange(actual[output.Name]);
            }
        }
        return Sqnr.Of(reference.ToArray(), quantized.ToArray());
    }

    private static string Report(string name, QuantizationOptions options, List<LayerReport> layers, string summary)
    {
        var md = new StringBuilder();
        md.Append("# ").Append(name).Append(" quantization report\n\n").Append(summary).Append("\n\n");
        md.Append("| layer | kind | ONNX nodes | output scale | output zero | weight scale range | weight SQNR (dB) |\n|---|---|---|---|---|---|---|\n");
        foreach (var r in layers)
        {
            var scales = r.WeightScales is null ? "" : $"{r.WeightScales.Min():G4} … {r.WeightScales.Max():G4}";
            md.Append(CultureInfo.InvariantCulture, $"| {r.Layer.Name} | {r.Layer.Kind} | {string.Join(" + ", r.Layer.Nodes)} | {r.OutputGrid.Scale:G6} | {r.OutputGrid.ZeroPoint} | {scales} | {(r.WeightSqnrDb is { } db ? Sqnr.Format(db) : "")} |\n");
        }
        md.Append(CultureInfo.InvariantCulture, $"\nWeights W{options.WeightBits} symmetric per output channel (narrow range), activations u8 asymmetric per tensor, min-max ranges.\n");
        return md.ToString();
    }
}
