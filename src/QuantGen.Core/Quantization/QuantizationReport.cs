using System.Globalization;
using System.Text;

namespace QuantGen.Core.Quantization;

/// <summary>The Markdown report of one quantization (obj/…/MODEL.quant.md, or the CLI's --report).</summary>
internal static class QuantizationReport
{
    public static string Write(string name, string summary, IReadOnlyList<string> settings,
        IReadOnlyList<LayerReport> layers, IReadOnlyDictionary<FloatLayer, LayerLog> logs)
    {
        var md = new StringBuilder();
        md.Append("# ").Append(Cell(name)).Append(" quantization report\n\n").Append(Cell(summary)).Append("\n\n");
        foreach (var line in settings) md.Append("- ").Append(Cell(line)).Append('\n');
        md.Append('\n');

        md.Append("Weight range is the smallest … largest per-channel max |w|. Output SQNR is the layer's output on the calibration set ")
          .Append("against the float model, inputs from the already-quantized layers (nearest rounding → AdaRound → final, after bias correction).\n\n");
        md.Append("| layer | kind | ONNX nodes | bits | weight range before CLE | after CLE | weight scale range | weight SQNR dB (nearest → final) | output SQNR dB (nearest → adaround → final) | AdaRound flips | max bias correction | output scale | output zero | ms |\n");
        md.Append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        foreach (var r in layers)
        {
            var log = logs.GetValueOrDefault(r.Layer);
            md.Append(CultureInfo.InvariantCulture, $"| {Cell(r.Layer.Name)} | {r.Layer.Kind} | {Cell(string.Join(" + ", r.Layer.Nodes))} | ");
            if (log is null)
            {
                md.Append(CultureInfo.InvariantCulture, $"| | | | | | | | {OutputGrid(r)} | |\n");
                continue;
            }
            var scales = r.WeightScales is null ? "" : $"{r.WeightScales.Min():G4} … {r.WeightScales.Max():G4}";
            md.Append(r.Layer.Factorization is null ? r.Layer.WeightBits.ToString(CultureInfo.InvariantCulture) : "factorized").Append(" | ");
            md.Append(CultureInfo.InvariantCulture, $"{Range(log.RangeBefore)} | {Range(log.RangeAfter)} | {scales} | ");
            md.Append(CultureInfo.InvariantCulture, $"{Db(log.WeightSqnrNearest)} → {Db(log.WeightSqnrFinal)} | ");
            md.Append(CultureInfo.InvariantCulture, $"{Db(log.OutputSqnrNearest)} → {Db(log.OutputSqnrAdaRound)} → {Db(log.OutputSqnrFinal)} | ");
            md.Append(CultureInfo.InvariantCulture, $"{log.AdaRoundFlips?.ToString(CultureInfo.InvariantCulture) ?? ""} | {(log.BiasCorrection is { } b ? b.ToString("G3", CultureInfo.InvariantCulture) : "")} | ");
            md.Append(CultureInfo.InvariantCulture, $"{OutputGrid(r)} | {log.Time.Elapsed.TotalMilliseconds:F0} |\n");
        }
        return md.ToString();
    }

    /// <summary>
    /// What the build did, one line each (the Markdown and the HTML report list them). <paramref name="assumedInputs"/>:
    /// the stated input distributions of a data-free build, null with calibration data (or an imported quantization).
    /// </summary>
    public static IReadOnlyList<string> Settings(QuantizationOptions options, QuantizationAlgorithms algorithms, int sweeps, int absorbed,
        IReadOnlyDictionary<string, InputStatistics>? assumedInputs, FixedQuantization? fixedQuantization = null, string? weightBits = null)
    {
        if (fixedQuantization is { Exact: true })
            return ["Passes: none (an imported QDQ model is compiled with its own quantization)",
                $"Weights: the model's integers and scales ({fixedQuantization.Weights.Count} DequantizeLinear weight tensors, {fixedQuantization.Biases.Count} int32 biases)",
                $"Activations: u8 per tensor, the scales and zero points of the model's {fixedQuantization.Grids.Count} QuantizeLinear → DequantizeLinear pairs (int8 ones stored with zero point + 128)"];
        if (fixedQuantization is not null)
        {
            var lines = new List<string>(Settings(options, algorithms, sweeps, absorbed, assumedInputs, weightBits: weightBits));
            lines.Insert(1, $"{char.ToUpperInvariant(fixedQuantization.Origin[0])}{fixedQuantization.Origin[1..]}: fixed grids for {fixedQuantization.Grids.Count} activations ({string.Join(", ", fixedQuantization.Grids.Keys.Order(StringComparer.Ordinal))}), " +
                $"fixed scales for {fixedQuantization.Weights.Count} parameters ({string.Join(", ", fixedQuantization.Weights.Keys.Order(StringComparer.Ordinal))}); the ranges below are QuantGen's for the rest");
            return lines;
        }
        bool calibrated = assumedInputs is null;
        var passes = new StringBuilder($"Passes: bn-fold;{QuantizationOptions.Format(algorithms)}");
        if (algorithms.HasFlag(QuantizationAlgorithms.Cle)) passes.Append(CultureInfo.InvariantCulture, $" (equalization converged in {sweeps} sweeps)");
        if (algorithms.HasFlag(QuantizationAlgorithms.BiasAbsorption)) passes.Append(CultureInfo.InvariantCulture, $" ({absorbed} channels absorbed a high bias)");
        var weights = new StringBuilder(string.Create(CultureInfo.InvariantCulture,
            $"Weights: W{(weightBits is { } w && w.StartsWith('m') ? " " + w + "," : weightBits ?? options.WeightBits.ToString(CultureInfo.InvariantCulture))} symmetric narrow grid, {(options.PerChannel ? "per output channel" : "per tensor")}, {options.ResolveWeightRanges().ToString().ToLowerInvariant()} ranges"));
        if (algorithms.HasFlag(QuantizationAlgorithms.AdaRound)) weights.Append(CultureInfo.InvariantCulture, $", AdaRound {options.AdaRoundIterations} iterations");
        var activations = $"Activations: {(options.ActivationBits == 16 ? "i16 symmetric" : options.ActivationBits < 8 ? $"A{options.ActivationBits} asymmetric ({1 << options.ActivationBits} levels stored in u8)" : "u8 asymmetric")} per tensor, " +
            (calibrated ? options.ResolveActivationRanges().ToString().ToLowerInvariant() + " ranges on the calibration set" : "data-free ranges (BN statistics, moment propagation)");
        if (assumedInputs is null) return [passes.ToString(), weights.ToString(), activations];
        // Data-free: the input distributions were stated, not measured; the report says what was assumed.
        return [passes.ToString(), weights.ToString(), activations, "Inputs (assumed, data-free): " + AssumedInputs(assumedInputs)];
    }

    /// <summary>"x [0, 1] (mean 0.5, std 0.289); state …": the report line and the artifact's inputRanges metadata.</summary>
    public static string AssumedInputs(IReadOnlyDictionary<string, InputStatistics> inputs) =>
        string.Join("; ", inputs.Select(i => $"{i.Key} {i.Value}"));

    /// <summary>
    /// Model-supplied text (layer and node names, which the model file chose) made safe for a Markdown table cell or
    /// list item: a '|' or a line break would otherwise end the cell or the row and shift every column after it.
    /// </summary>
    internal static string Cell(string text)
    {
        var cell = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (c is '|' or '\\' or '`' or '<' or '>') cell.Append('\\').Append(c);
            else if (char.IsControl(c) || c is '\u2028' or '\u2029') cell.Append(' ');
            else cell.Append(c);
        }
        return cell.ToString();
    }

    /// <summary>The output's scale and zero point cells; a layer whose readers are all float writes float (no grid).</summary>
    private static string OutputGrid(LayerReport r) => r.OutputGrid is { } g
        ? string.Create(CultureInfo.InvariantCulture, $"{g.Scale:G6} | {g.ZeroPoint}")
        : "float32 | ";

    private static string Range((float Min, float Max) r) => string.Create(CultureInfo.InvariantCulture, $"{r.Min:G3} … {r.Max:G3}");

    private static string Db(double db) => double.IsNaN(db) ? "–" : Sqnr.Format(db);
}
