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
            var prepared = QuantizationPreparation.Prepare(model, options.BatchSize, options.Budget);
            var (layers, batchNorms, aliases) = LayerGraphBuilder.Build(prepared.Graph, model.Path);
            var observed = prepared.Graph.Inputs.Select(i => i.Name).Concat(layers.Select(l => l.Output)).ToArray();

            var algorithms = options.ResolveAlgorithms(calibration is not null);
            if (calibration is null && algorithms.HasFlag(QuantizationAlgorithms.AdaRound))
                throw new ModelException(ErrorCodes.InvalidOption, "Algorithms: adaround needs calibration data (set Calibration, or drop adaround for a data-free build).", model.Path);

            var logs = layers.Where(l => l.Kind is LayerKinds.Conv or LayerKinds.FullyConnected).ToDictionary(l => l, l => new LayerLog(l));
            foreach (var log in logs.Values) log.RangeBefore = LayerLog.ChannelRanges(log.Layer);
            var pairs = LayerPair.Find(layers, prepared.Graph);
            int sweeps = algorithms.HasFlag(QuantizationAlgorithms.Cle) ? CrossLayerEqualization.Apply(pairs, batchNorms) : 0;
            int absorbed = algorithms.HasFlag(QuantizationAlgorithms.BiasAbsorption) ? HighBiasAbsorption.Apply(pairs, batchNorms) : 0;
            foreach (var log in logs.Values) log.RangeAfter = LayerLog.ChannelRanges(log.Layer);

            int samples = 0;
            Factorization.FactorizationPlan? factorization = null;
            Dictionary<string, (float Min, float Max)> ranges;
            if (calibration is not null)
            {
                samples = Math.Min(calibration.Validate(prepared.Graph, model.Path), options.MaxCalibrationSamples);
                if (samples < options.MinCalibrationSamples)
                    throw new ModelException(ErrorCodes.BadCalibration,
                        $"Calibration file '{string.Join("', '", calibration.Sources.Values)}' holds {samples} samples; quantization needs at least {options.MinCalibrationSamples}.", model.Path);
                if (options.Compression == Factorization.WeightCompression.Factorized)
                    factorization = Factorization.FactorizationPlanner.Plan(prepared.Graph, layers, options, calibration, samples);
                ranges = new CalibratedPasses(prepared.Graph, options, algorithms).Run(layers, calibration, samples, logs);
            }
            else
            {
                if (options.Compression == Factorization.WeightCompression.Factorized)
                    factorization = Factorization.FactorizationPlanner.Plan(prepared.Graph, layers, options, null, 0);
                ranges = DataFreeRanges.Estimate(prepared.Graph, layers, batchNorms, model.Path, out var moments);
                QuantizeWeightsDataFree(prepared.Graph, options, algorithms, logs.Values, moments);
            }

            var allMetadata = new List<ArtifactMetadata>(metadata ?? []);
            allMetadata.Add(new("algorithms", "bn-fold;" + QuantizationOptions.Format(algorithms)));
            allMetadata.Add(new("weightRanges", $"{options.ResolveWeightRanges()}{(options.PerChannel ? " per-channel" : " per-tensor")}".ToLowerInvariant()));
            allMetadata.Add(new("activationRanges", (calibration is null ? "data-free" : options.ResolveActivationRanges().ToString()).ToLowerInvariant()));
            if (algorithms.HasFlag(QuantizationAlgorithms.AdaRound))
                allMetadata.Add(new("adaRoundIterations", options.AdaRoundIterations.ToString(CultureInfo.InvariantCulture)));
            allMetadata.Add(new("weightBits", options.WeightBits.ToString(CultureInfo.InvariantCulture)));
            allMetadata.Add(new("activationBits", options.ActivationBits.ToString(CultureInfo.InvariantCulture)));
            allMetadata.Add(new("calibrationSamples", samples.ToString(CultureInfo.InvariantCulture)));
            if (factorization is not null) allMetadata.Add(new("compression", Factorization.FactorizationReport.Metadata(factorization)));

            var builder = new ArtifactBuilder(prepared.Graph, options, ranges);
            var name = Path.GetFileNameWithoutExtension(model.Path ?? prepared.Graph.Name);
            var draft = builder.Build(name, layers, aliases, allMetadata);

            double sqnr = calibration is null ? double.NaN : MeasureSqnr(prepared, draft, calibration, Math.Min(samples, SqnrSamples));
            allMetadata.Add(new("calibrationSqnrDb", double.IsNaN(sqnr) ? "n/a" : Sqnr.Format(sqnr)));
            var artifact = draft with { Metadata = new(allMetadata.ToArray()) };

            var summary = $"{name}: {layers.Count} layers, W{options.WeightBits}A{options.ActivationBits} {QuantizationOptions.Format(algorithms)}, " +
                (calibration is null ? "data-free" : $"{samples} calibration samples, output SQNR {Sqnr.Format(sqnr)} dB") +
                $", {clock.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s";
            var report = QuantizationReport.Write(name, options, algorithms, summary, builder.Reports, logs, sweeps, absorbed, calibration is not null);
            var warnings = new List<ModelWarning>();
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
            return new QuantizationResult(artifact, report, summary, sqnr) { Warnings = warnings };
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

    /// <summary>Data-free weights: range setting and nearest rounding, then analytic bias correction from the propagated means.</summary>
    private static void QuantizeWeightsDataFree(Graph graph, QuantizationOptions options, QuantizationAlgorithms algorithms, IEnumerable<LayerLog> logs,
        Dictionary<string, (double[] Mean, double[] Var)> moments)
    {
        foreach (var log in logs)
        {
            var layer = log.Layer;
            log.Time.Start();
            if (layer.Factorization is { } factors)
            {
                // Fitted factors replace rounding; the analytic correction would need the product's error per channel, not built.
                log.WeightSqnrNearest = log.WeightSqnrFinal = Sqnr.Of(layer.Weights!, factors.Product());
                log.Time.Stop();
                continue;
            }
            var scales = RangeSetting.WeightScales(layer.Weights!, layer.OutputChannels, options.WeightBits, options.PerChannel, options.ResolveWeightRanges());
            var q = WeightQuantizer.RoundToNearest(layer.Weights!, scales, options.WeightBits);
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
}
