using System.Globalization;
using System.Text;

namespace QuantGen.Core.Quantization.Factorization;

/// <summary>The report's factorization section: per layer the setting, bytes and errors; the model's weight bytes against float32, int8, int4.</summary>
internal static class FactorizationReport
{
    public static string Summary(FactorizationPlan plan)
    {
        double ratio = (double)plan.FloatBytes / plan.StoredBytes;
        // An unreachable target never gets here: FactorizationPlanner refuses it (QG0015) before fitting.
        return string.Create(CultureInfo.InvariantCulture,
            $"factorized {plan.Choices.Count(c => c.Factors is { } f && !f.Setting.IsPlain(c.M, c.K))} of {plan.Choices.Count} weighted layers, weights {plan.StoredBytes} bytes = {ratio:F1}× smaller than float32");
    }

    /// <summary>The artifact's <c>compression</c> metadata: "factorized ratio 12 reached 13.89" or "factorized rank 16".</summary>
    public static string Metadata(FactorizationPlan plan) => string.Create(CultureInfo.InvariantCulture,
        $"factorized {(plan.TargetRatio is { } t ? $"ratio {t:G4}" : "explicit")} reached {(double)plan.FloatBytes / plan.StoredBytes:F2}");

    public static string Write(FactorizationPlan plan, IReadOnlyDictionary<FloatLayer, LayerLog> logs)
    {
        var md = new StringBuilder();
        long parameters = plan.Choices.Sum(c => (long)c.M * c.K);
        md.Append("\n## Weight factorization\n\n");
        md.Append(CultureInfo.InvariantCulture,
            $"Compression=\"factorized\", {(plan.TargetRatio is { } t ? $"CompressionRatio {t:G4}" : "explicit rank")}; factors fitted on the {(plan.DataAware ? "layer's output error over the calibration inputs (data-aware)" : "weight error (no calibration data)")}; ");
        md.Append(CultureInfo.InvariantCulture, $"{plan.Candidates} settings fitted in {plan.Elapsed.TotalSeconds:F1} s.\n");
        if (plan.Uniform is { } u)
            md.Append(CultureInfo.InvariantCulture,
                $"Checked end to end (output mean squared error against the float model on the calibration samples, plain layers rounded as the build rounds them): the allocation {u.AllocationLoss:G4}, every eligible layer plain at {u.Bits} bits {u.UniformLoss:G4}; ")
              .Append(u.UniformTaken ? $"the uniform {u.Bits}-bit plan is built.\n" : "the allocation is kept (the uniform plan must be lower by more than two paired standard errors).\n");
        md.Append("Bytes: both factors' bit-packed values and column indices plus B's per-row int32 multiplier and shift; a plain layer's weights packed at its width. ")
          .Append("The per-output bias, multiplier and shift every layer stores are not counted. Fit SQNR is −10·log10 of the fitted relative error ")
          .Append("(output error on the calibration inputs, or weight error); output SQNR is the layer's output in the quantized model, as in the table above.\n\n");
        md.Append("| layer | W | stored as | bytes | plain int8 bytes | fit SQNR dB | weight SQNR dB | output SQNR dB |\n|---|---|---|---|---|---|---|---|\n");
        foreach (var c in plan.Choices)
        {
            var log = logs.GetValueOrDefault(c.Layer);
            var how = c.Factors is null ? "plain int8 grid"
                : c.Factors.Setting.IsPlain(c.M, c.K) ? c.Factors.Setting.Describe(c.M, c.K) + " (a plain layer at that width: AdaRound, packed)"
                : "A·B, " + c.Factors.Setting.Describe(c.M, c.K);
            md.Append(CultureInfo.InvariantCulture,
                $"| {c.Layer.Name} | {c.M}×{c.K} | {how} | {c.Bytes} | {c.PlainBytes} | {Db(c.RelativeError)} | {Decibels(log?.WeightSqnrFinal)} | {Decibels(log?.OutputSqnrFinal)} |\n");
        }
        md.Append(CultureInfo.InvariantCulture, $"\nModel weights ({parameters} parameters): float32 {4 * parameters} bytes, int8 {parameters}, int4 {(parameters + 1) / 2}; ");
        md.Append(CultureInfo.InvariantCulture,
            $"this build {plan.StoredBytes} bytes = {(double)plan.FloatBytes / plan.StoredBytes:F2}× smaller than float32, {(double)parameters / plan.StoredBytes:F2}× than int8, {(double)parameters / 2 / plan.StoredBytes:F2}× than int4.\n");
        return md.ToString();
    }

    private static string Db(double? relativeError) => relativeError is { } e && !double.IsNaN(e)
        ? (e <= 0 ? "∞" : (-10 * Math.Log10(e)).ToString("F1", CultureInfo.InvariantCulture)) : "–";

    private static string Decibels(double? db) => db is { } d && !double.IsNaN(d) ? Sqnr.Format(d) : "–";
}
