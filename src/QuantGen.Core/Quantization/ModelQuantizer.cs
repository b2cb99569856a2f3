using System.Diagnostics;
using System.Globalization;
using QuantGen.Core.Artifact;
using QuantGen.Core.Execution;
using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>
/// Post-training quantization in the white paper's order: BN folding → cross-layer equalization → high-bias
/// absorption → weight range setting → AdaRound or bias correction → activation ranges (calibrated, or data-free
/// from BN statistics and moment propagation); then int32 biases, fixed-point requantization and fused clamps in
/// the artifact.
/// </summary>
public static partial class ModelQuantizer
{
    /// <summary>How many calibration samples the SQNR measurement of the finished integer model uses.</summary>
    private const int SqnrSamples = 64;

    public static QuantizationResult Quantize(Model model, QuantizationOptions options, CalibrationSet? calibration, IEnumerable<ArtifactMetadata>? metadata = null)
    {
        options.Validate();
        var clock = Stopwatch.StartNew();
        options = options with { Progress = Timed(options.Progress, clock) };
        try
        {
            // A pre-quantized model (QDQ / QOperator): its own scales and integers, no range setting or passes (docs/interop.md).
            FixedQuantization? imported = null, dynamicImport = null;
            if (QdqImport.IsQuantized(model))
            {
                if (QdqImport.IsDynamic(model)) CheckDynamicOptions(options, model.Path); // ModelQuantizer.Dynamic.cs
                else CheckImportOptions(options, model.Path);
                (model, imported) = QdqImport.Rewrite(model);
                if (imported.Dynamic is not null) (dynamicImport, imported) = (imported, null); // fixed weights, calibrated grids: as encodings
                else options = QdqImport.ActivationMode(imported, options, model.Path); // int16 activations: the 16-bit mode
            }
            var encodings = options.EncodingsPath is { } encodingsPath ? AimetEncodings.Load(encodingsPath) : null;
            if (encodings is not null && (imported ?? dynamicImport) is not null)
                throw new ModelException(ErrorCodes.InvalidOption, "Encodings: this model is already quantized (QDQ); its own scales are used, and an encodings file cannot override them.", model.Path);
            encodings ??= dynamicImport;
            CheckGraphEdges(model);
            var floatNodes = FloatNodeSelection.Resolve(options.FloatNodes, model.Graph, model.Path); // FloatNodes: QG0028 for an unknown name
            var prepared = QuantizationPreparation.Prepare(model, options);
            foreach (var input in prepared.Graph.Inputs)
                // ONNX allows empty tensors; a model whose input holds no element has nothing to quantize (found by fuzzing:
                // the data-free moments indexed an empty input).
                if (prepared.Graph.ValueInfos[input.Name].ElementCount == 0)
                    throw new ModelException(ErrorCodes.BadShape,
                        $"Input '{input.Name}' has no elements ({prepared.Graph.ValueInfos[input.Name]}): give its dims sizes of at least 1 (InputShape on the QuantModel item).");
            var (layers, batchNorms, aliases) = LayerGraphBuilder.Build(prepared.Graph, model.Path, imported?.Grids.ToDictionary(g => g.Key, g => g.Value.Grid, StringComparer.Ordinal),
                options.ActivationBits, prepared.Opset, options.QuantizedAttention, imported?.Weights.Keys.ToHashSet(StringComparer.Ordinal), floatNodes);
            foreach (var layer in layers.Where(l => l.IsFloatOp)) layer.Opset = prepared.Opset;
            var floatWarning = FloatIslands.Check(layers, prepared.Graph, options.FloatFallback, model.Path);
            var observed = prepared.Graph.Inputs.Select(i => i.Name).Concat(layers.Select(l => l.Output)).ToArray();

            var algorithms = imported is not null ? QuantizationAlgorithms.None
                : encodings is not null ? options.Algorithms ?? QuantizationAlgorithms.None
                : options.ResolveAlgorithms(calibration is not null);
            if (encodings is not null && (algorithms & (QuantizationAlgorithms.Cle | QuantizationAlgorithms.BiasAbsorption)) != 0)
                throw new ModelException(ErrorCodes.InvalidOption,
                    $"Algorithms: {QuantizationOptions.Format(algorithms)} with Encodings: cross-layer equalization and bias absorption rescale the weights and activations the encodings give ranges for; use bias-correction, adaround or none.", model.Path);
            if (encodings is not null && dynamicImport is null) AimetEncodings.CheckNames(encodings, prepared.Graph, options.EncodingsPath!, model.Path);
            options = Training.FineTuning.CheckOptions(options, algorithms, calibration is not null, prepared.Graph, model.Path);
            if (calibration is null && algorithms.HasFlag(QuantizationAlgorithms.AdaRound))
                throw new ModelException(ErrorCodes.InvalidOption, "Algorithms: adaround needs calibration data (set Calibration, or drop adaround for a data-free build).", model.Path);
            // Before the passes: a data-free build without the inputs' ranges stops here, saying what to add (QG0021).
            var assumedInputs = calibration is null && imported is null ? DataFreeRanges.ResolveInputs(options.InputStatistics, prepared.Graph, model.Path) : null;

            MixedPrecision.WeightWidths.AssignUniform(layers, options);
            if (options.IsMixedPrecision) CheckMixedPrecision(options, calibration, encodings, model.Path);
            var logs = layers.Where(l => l.Kind is LayerKinds.Conv or LayerKinds.FullyConnected).ToDictionary(l => l, l => new LayerLog(l));
            foreach (var log in logs.Values) log.RangeBefore = LayerLog.ChannelRanges(log.Layer);
            var pairs = LayerPair.Find(layers, prepared.Graph);
            int sweeps = algorithms.HasFlag(QuantizationAlgorithms.Cle) ? CrossLayerEqualization.Apply(pairs, batchNorms) : 0;
            int absorbed = algorithms.HasFlag(QuantizationAlgorithms.BiasAbsorption) ? HighBiasAbsorption.Apply(pairs, batchNorms) : 0;
            foreach (var log in logs.Values) log.RangeAfter = LayerLog.ChannelRanges(log.Layer);

            int samples = 0;
            Factorization.FactorizationPlan? factorization = null;
            MixedPrecision.MixedPrecisionPlan? mixed = null;
            Dictionary<string, (float Min, float Max)> ranges;
            Training.FineTuneLog? fineTuning = null;
            if (imported is not null)
            {
                if (calibration is not null) samples = Math.Min(calibration.Validate(prepared.Graph, model.Path), options.MaxCalibrationSamples);
                FixedQuantizationPass.ApplyWeights(layers, imported, prepared.Graph, model.Path);
                ranges = new Dictionary<string, (float Min, float Max)>(StringComparer.Ordinal);
                foreach (var log in logs.Values) log.WeightSqnrNearest = log.WeightSqnrFinal = Sqnr.OfWeights(log.Layer.Weights!, log.Layer.QuantizedWeights!, log.Layer.WeightScales!);
            }
            else if (calibration is not null)
            {
                samples = Math.Min(calibration.Validate(prepared.Graph, model.Path), options.MaxCalibrationSamples);
                if (samples < options.MinCalibrationSamples)
                    throw new ModelException(ErrorCodes.BadCalibration,
                        $"Calibration file '{string.Join("', '", calibration.Sources.Values)}' holds {samples} samples; quantization needs at least {options.MinCalibrationSamples}.", model.Path);
                if (options.Compression == Factorization.WeightCompression.Factorized)
                    factorization = Factorization.FactorizationPlanner.Plan(prepared.Graph, layers, options, calibration, samples);
                if (options.IsMixedPrecision)
                {
                    options.Progress?.Invoke("mixed precision: Hessian traces and the Pareto frontier");
                    mixed = MixedPrecision.MixedPrecisionPlanner.Plan(prepared.Graph, layers, options, calibration, samples, model.Path);
                }
                // Fine-tuning's teacher is the float model as it is now (after equalization, before bias correction moves biases).
                var teacher = algorithms.HasFlag(QuantizationAlgorithms.FineTune) ? Training.FineTuning.Teacher(prepared.Graph, layers, model.Path) : null;
                ranges = new CalibratedPasses(prepared.Graph, options, algorithms).Run(layers, calibration, samples, logs);
                if (teacher is not null) fineTuning = Training.FineTuning.Run(teacher, layers, ranges, options, calibration, samples, model.Path);
            }
            else
            {
                if (options.Compression == Factorization.WeightCompression.Factorized)
                    factorization = Factorization.FactorizationPlanner.Plan(prepared.Graph, layers, options, null, 0);
                ranges = DataFreeRanges.Estimate(prepared.Graph, layers, batchNorms, assumedInputs!, model.Path, out var moments);
                QuantizeWeightsDataFree(prepared.Graph, options, algorithms, logs.Values, moments);
            }

            if (encodings is not null)
            {
                FixedQuantizationPass.ApplyWeights(layers, encodings, prepared.Graph, model.Path);
                foreach (var log in logs.Values) log.WeightSqnrFinal = Sqnr.OfWeights(log.Layer.Weights!, log.Layer.QuantizedWeights!, log.Layer.WeightScales!);
            }
            var fixedQuantization = imported ?? encodings;

            var allMetadata = new List<ArtifactMetadata>(metadata ?? []);
            if (imported is not null) allMetadata.Add(new("imported", "qdq: scales, zero points and weights from the model's QuantizeLinear/DequantizeLinear nodes"));
            if (dynamicImport is not null) allMetadata.Add(new("imported", "dynamic: weights and weight scales from the model's MatMulInteger/ConvInteger; activation grids calibrated in place of DynamicQuantizeLinear"));
            else if (encodings is not null) allMetadata.Add(new("encodings", $"{Path.GetFileName(options.EncodingsPath)}: {encodings.Grids.Count} activation and {encodings.Weights.Count} parameter encodings"));
            allMetadata.Add(new("algorithms", "bn-fold;" + QuantizationOptions.Format(algorithms)));
            allMetadata.Add(new("weightRanges", imported is not null ? "imported" : $"{options.ResolveWeightRanges()}{(options.PerChannel ? " per-channel" : " per-tensor")}".ToLowerInvariant()));
            allMetadata.Add(new("activationRanges", (imported is not null ? "imported" : calibration is null ? "data-free" : options.ResolveActivationRanges().ToString()).ToLowerInvariant()));
            if (assumedInputs is not null)
                allMetadata.Add(new("inputRanges", QuantizationReport.AssumedInputs(assumedInputs)));
            if (algorithms.HasFlag(QuantizationAlgorithms.AdaRound))
                allMetadata.Add(new("adaRoundIterations", options.AdaRoundIterations.ToString(CultureInfo.InvariantCulture)));
            var weightBits = MixedPrecision.WeightWidths.Describe(layers, options);
            allMetadata.Add(new("weightBits", weightBits));
            allMetadata.Add(new("activationBits", options.ActivationBits.ToString(CultureInfo.InvariantCulture)));
            allMetadata.Add(new("calibrationSamples", samples.ToString(CultureInfo.InvariantCulture)));
            if (factorization is not null) allMetadata.Add(new("compression", Factorization.FactorizationReport.Metadata(factorization)));

            var builder = new ArtifactBuilder(prepared.Graph, options, ranges, fixedQuantization);
            var name = Path.GetFileNameWithoutExtension(model.Path ?? prepared.Graph.Name);
            var draft = builder.Build(name, layers, aliases, allMetadata);
            if (fixedQuantization is not null) FixedQuantizationPass.CheckGrids(layers, fixedQuantization, builder.Grids, model.Path);

            double sqnr = calibration is null ? double.NaN : MeasureSqnr(prepared, draft, calibration, Math.Min(samples, SqnrSamples));
            allMetadata.Add(new("calibrationSqnrDb", double.IsNaN(sqnr) ? "n/a" : Sqnr.Format(sqnr)));
            var artifact = draft with { Metadata = new(allMetadata.ToArray()) };

            var summary = $"{name}: {layers.Count} layers, " +
                (imported is not null ? "imported QDQ quantization (the model's scales, zero points and weights), " : $"W{(weightBits.StartsWith('m') ? " " + weightBits + " " : weightBits)}A{options.ActivationBits} {QuantizationOptions.Format(algorithms)}, ") +
                (dynamicImport is not null ? $"imported dynamic quantization ({dynamicImport.Weights.Count} weight tensors; activations calibrated), " : encodings is not null ? $"encodings {Path.GetFileName(options.EncodingsPath)} ({encodings.Grids.Count} activations, {encodings.Weights.Count} parameters), " : "") +
                (calibration is null ? (imported is not null ? "no calibration data" : "data-free") : $"{samples} calibration samples, output SQNR {Sqnr.Format(sqnr)} dB") +
                $", {clock.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s";
            if (mixed is not null) summary += ", " + MixedPrecision.MixedPrecisionReport.Summary(mixed);
            if (fineTuning is not null) summary += ", " + fineTuning.Summary();
            var settings = QuantizationReport.Settings(options, algorithms, sweeps, absorbed, assumedInputs, fixedQuantization, weightBits);
            if (floatNodes.Count > 0) settings = [.. settings, FloatNodeSelection.ReportLine(layers)];
            var report = QuantizationReport.Write(name, summary, settings, builder.Reports, logs);
            if (mixed is not null) report += MixedPrecision.MixedPrecisionReport.Markdown(mixed);
            if (fineTuning is not null) report += fineTuning.Markdown();
            var html = QuantizationHtmlReport.Write(name, summary, settings, options, builder.Reports, logs,
                (mixed is null ? null : MixedPrecision.MixedPrecisionReport.Html(mixed)) + fineTuning?.Html());
            var warnings = new List<ModelWarning>();
            if (dynamicImport is not null)
            {
                var dynamicWarning = QdqImport.DynamicWarning(dynamicImport, builder.Grids, calibration is null, model.Path);
                warnings.Add(dynamicWarning);
                report += $"\n**Warning {dynamicWarning.Code}:** {dynamicWarning.Message}\n";
            }
            if (floatWarning is not null)
            {
                warnings.Add(floatWarning);
                report += $"\n**Warning {floatWarning.Code}:** {floatWarning.Message}\n";
            }
            if (factorization is not null)
            {
                summary += ", " + Factorization.FactorizationReport.Summary(factorization);
                report += Factorization.FactorizationReport.Write(factorization, logs);
                if (Factorization.FactorizationQualityCheck.Check(factorization, sqnr, model.Path) is { } warning)
                {
                    warnings.Add(warning);
                    report += $"\n**Warning {warning.Code}:** {warning.Message}\n";
                }
            }
            if (warnings.All(w => w.Code != ErrorCodes.PoorFactorization) && OutputQualityCheck.Check(name, sqnr, logs.Values, model.Path) is { } poor)
            {
                warnings.Add(poor);
                report += $"\n**Warning {poor.Code}:** {poor.Message}\n";
            }
            return new QuantizationResult(artifact, report, summary, sqnr) { Warnings = warnings, ReportHtml = html, FineTuning = fineTuning };
        }
        catch (ModelException e)
        {
            throw e.WithContext(model.Path);
        }
    }

    /// <summary>Progress lines with the elapsed time, serialized: the factor fits report from several threads.</summary>
    private static Action<string>? Timed(Action<string>? progress, Stopwatch clock)
    {
        if (progress is null) return null;
        var gate = new object();
        return line =>
        {
            lock (gate) progress(string.Create(CultureInfo.InvariantCulture, $"{line} ({clock.Elapsed.TotalSeconds:F1} s)"));
        };
    }

    /// <summary>
    /// Options that would change an imported model's quantization are refused: its scales are the model's own.
    /// </summary>
    private static void CheckImportOptions(QuantizationOptions options, string? path)
    {
        string? conflict =
            options.Algorithms is { } a && a != QuantizationAlgorithms.None ? $"Algorithms=\"{QuantizationOptions.Format(a)}\" (the passes rescale or re-round the weights)"
            : options.WeightBits != 8 ? $"WeightBits={options.WeightBits} (the weights are the model's integers)"
            : options.IsMixedPrecision ? "SizeBudget/AverageWeightBits (the weights are the model's integers)"
            : options.FirstLayerWeightBits is not null || options.LastLayerWeightBits is not null ? "FirstLayerWeightBits/LastLayerWeightBits (the weights are the model's integers)"
            : options.ActivationBits != 8 ? $"ActivationBits={options.ActivationBits} (the activations are the model's 8-bit grids)"
            : options.Compression != Factorization.WeightCompression.None ? "Compression=\"factorized\""
            : options.RangeMethod is not null ? "RangeMethod (the ranges are the model's)"
            : null;
        if (conflict is not null)
            throw new ModelException(ErrorCodes.InvalidOption,
                $"This model is already quantized (QuantizeLinear/DequantizeLinear or QLinear nodes): QuantGen compiles it with its own scales, zero points and weights, so {conflict} cannot apply. Remove the option (docs/interop.md, \"QDQ import\").", path);
    }

    /// <summary>Mixed precision needs calibration data (the traces), plain weights, and QuantGen's own weight ranges.</summary>
    private static void CheckMixedPrecision(QuantizationOptions options, CalibrationSet? calibration, FixedQuantization? encodings, string? path)
    {
        string? conflict = calibration is null ? "needs calibration data (the Hessian traces are measured on it): set Calibration"
            : options.Compression != Factorization.WeightCompression.None ? "does not combine with Compression=\"factorized\" (the factors have their own bit-widths): choose one"
            : encodings is not null ? "does not combine with an encodings file (its weight encodings fix the widths): drop one"
            : null;
        if (conflict is not null)
            throw new ModelException(ErrorCodes.MixedPrecisionUnavailable, $"Mixed precision (SizeBudget/AverageWeightBits) {conflict}.", path);
    }

    /// <summary>
    /// What the generated class can take at all: at least one operator (QG0030; a class whose Run reads and writes the
    /// same tensor would not compile), float inputs (QG0009; a string or integer input declared float would be read as
    /// float bytes).
    /// </summary>
    private static void CheckGraphEdges(Model model)
    {
        if (model.Graph.Nodes.Count == 0)
            throw new ModelException(ErrorCodes.EmptyGraph, "The graph has no operators: its outputs are its inputs, and there is nothing to quantize.");
        foreach (var input in model.Graph.Inputs)
            if (input.DataType != DataType.Float)
                throw new ModelException(ErrorCodes.UnsupportedDataType,
                    $"Graph input '{input.Name}' is of type {DataTypeName(input.DataType)}: the quantized model takes float32 inputs only.");
    }

    private static string DataTypeName(DataType type) =>
        Enum.IsDefined(type) ? type.ToString() : "ONNX type " + ((int)type).ToString(CultureInfo.InvariantCulture) + (type == (DataType)8 ? " (string)" : "");

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

    /// <summary>Data-free weights: range setting and nearest rounding, then analytic bias correction from the propagated means.</summary>
    private static void QuantizeWeightsDataFree(Graph graph, QuantizationOptions options, QuantizationAlgorithms algorithms, Dictionary<FloatLayer, LayerLog>.ValueCollection logs,
        Dictionary<string, (double[] Mean, double[] Var)> moments)
    {
        int done = 0;
        foreach (var log in logs)
        {
            QuantizeWeightsDataFree(graph, options, algorithms, log, moments);
            LayerProgress.Report(options, log, ++done, logs.Count);
        }
    }

    /// <summary>One layer of <see cref="QuantizeWeightsDataFree(Graph, QuantizationOptions, QuantizationAlgorithms, Dictionary{FloatLayer, LayerLog}.ValueCollection, Dictionary{string, ValueTuple{double[], double[]}})"/>.</summary>
    private static void QuantizeWeightsDataFree(Graph graph, QuantizationOptions options, QuantizationAlgorithms algorithms, LayerLog log,
        Dictionary<string, (double[] Mean, double[] Var)> moments)
    {
        var layer = log.Layer;
        log.Time.Start();
        if (layer.Factorization is { } factors)
        {
            // Fitted factors replace rounding; the analytic correction would need the product's error per channel, not built.
            log.WeightSqnrNearest = log.WeightSqnrFinal = Sqnr.Of(layer.Weights!, factors.Product());
            log.Time.Stop();
            return;
        }
        var scales = RangeSetting.WeightScales(layer.Weights!, layer.OutputChannels, layer.WeightBits, options.PerChannel, options.ResolveWeightRanges());
        var q = WeightQuantizer.RoundToNearest(layer.Weights!, scales, layer.WeightBits);
        layer.WeightScales = scales;
        layer.QuantizedWeights = q;
        log.WeightSqnrNearest = log.WeightSqnrFinal = Sqnr.OfWeights(layer.Weights!, q, scales);
        if (algorithms.HasFlag(QuantizationAlgorithms.BiasCorrection))
        {
            var shift = BiasCorrection.Analytic(layer, layer.Weights!, WeightQuantizer.Dequantize(q, scales), moments[layer.Inputs[0]].Mean,
                graph.ValueInfos[layer.Inputs[0]].Shape, graph.ValueInfos[layer.Output].Shape);
            log.BiasCorrection = shift.Select(MathF.Abs).DefaultIfEmpty(0).Max();
        }
        log.Time.Stop();
    }
}
