using System.Diagnostics;
using System.Globalization;
using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;

namespace QuantGen.Core.Training;

/// <summary>
/// Algorithms "finetune": label-free distillation of the post-training-quantized model from the float model on
/// unlabeled inputs (TrainingData, else the calibration data). The student starts at the PTQ result (its grid
/// weights, scales, corrected biases and activation grids), learns latent weights through the straight-through
/// estimator, biases, and LSQ+ weight scales and activation grid scales with Adam, and writes them back into the
/// quantizer's layers and ranges, from which the artifact is built as for any other pass (so simulator and generated
/// code stay bit-exact with each other). Loss: KL divergence on the logits for a model ending in Softmax, mean
/// squared error of the output otherwise. A held-out part of the data picks the step whose parameters are kept, the
/// PTQ start included: the pass never returns a model with a higher held-out loss than the one it was given.
/// Factorized layers are trained as their factors (FineTuning.Factorized.cs).
/// </summary>
internal static partial class FineTuning
{
    /// <summary>The float model to distil from, copied now (before the passes that move biases).</summary>
    public static Teacher Teacher(Graph graph, IReadOnlyList<FloatLayer> layers, string? modelPath)
    {
        var last = layers[^1];
        bool classifier = last.Kind == LayerKinds.Softmax;
        string output = classifier ? last.Inputs[0] : last.Output;
        return new Teacher(graph, new TrainingGraph<float>(graph, layers, output, modelPath), classifier);
    }

    /// <summary>
    /// Before any pass: finetune needs calibration data; TrainingData without finetune would be silently unused, so it
    /// is an error; TrainingData files are read and checked against the model's inputs now (QG0096), not after minutes of AdaRound.
    /// </summary>
    public static QuantizationOptions CheckOptions(QuantizationOptions options, QuantizationAlgorithms algorithms, bool hasCalibration, Graph graph, string? modelPath)
    {
        bool fineTune = algorithms.HasFlag(QuantizationAlgorithms.FineTune);
        if (fineTune && !hasCalibration)
            throw new ModelException(ErrorCodes.InvalidOption, "Algorithms: finetune needs calibration data (the float model's outputs on it are what the quantized model learns).", modelPath);
        if (options.TrainingData is null && options.TrainingDataFiles is not { Count: > 0 }) return options;
        if (!fineTune)
            throw new ModelException(ErrorCodes.InvalidOption,
                $"TrainingData is read by the fine-tuning pass only, and Algorithms=\"{QuantizationOptions.Format(algorithms)}\" does not run it: add finetune to Algorithms, or drop TrainingData.", modelPath);
        var data = options.TrainingData ?? TrainingDataFiles.Load(options.TrainingDataFiles!, graph, options.Budget);
        try
        {
            data.Validate(graph, modelPath);
        }
        catch (ModelException e) when (e.Code == ErrorCodes.BadCalibration)
        {
            throw new ModelException(ErrorCodes.BadTrainingData, "TrainingData: " + e.Message.Replace("Calibration file", "training data file", StringComparison.Ordinal)
                .Replace("calibration data", "training data", StringComparison.Ordinal), modelPath);
        }
        return options with { TrainingData = data };
    }

    public static FineTuneLog Run(Teacher teacher, IReadOnlyList<FloatLayer> layers, Dictionary<string, (float Min, float Max)> ranges,
        QuantizationOptions options, CalibrationSet calibration, int calibrationSamples, string? modelPath)
    {
        var clock = Stopwatch.StartNew();
        var graph = teacher.Graph;
        var (data, count, source) = TrainingSet(options, calibration, calibrationSamples, graph, modelPath);
        int validation = Math.Min(options.FineTuneValidationSamples, count / 8);
        int training = count - validation;
        int threads = options.FineTuneThreads ?? Environment.ProcessorCount;

        var student = new TrainingGraph<float>(graph, layers, teacher.Model.Output, modelPath, factors: true);
        var weighted = student.Layers.Where(l => l.Kind is LayerKinds.Conv or LayerKinds.FullyConnected && l.Factorization is null).ToArray();
        // Weights start on their PTQ grid points (AdaRound's choices); weight steps are the learning-rate unit of a channel.
        foreach (var layer in weighted)
        {
            var (w, _, _) = student.SlotsOf(layer);
            var dequantized = WeightQuantizer.Dequantize(layer.QuantizedWeights!, layer.WeightScales!);
            dequantized.AsSpan().CopyTo(student.Parameters[w]);
            student.QuantizeWeights(layer, layer.WeightScales!, layer.WeightBits);
        }
        // Every weight's oscillations are tracked (the report has them with or without dampening and freezing).
        var trackers = weighted.Select(l => new OscillationTracker(l.Name, student.Parameters[student.SlotsOf(l).Weights], student.Parameters[student.SlotsOf(l).WeightScales],
            l.FanIn, WeightQuantizer.MaxLevel(l.WeightBits))).ToArray();
        var grids = new List<(string Value, int Slot, int ZeroPoint)>();
        foreach (var value in graph.Inputs.Select(i => i.Name).Concat(student.Layers.Where(HasOwnGrid).Select(l => l.Output)))
        {
            if (!ranges.TryGetValue(value, out var range)) continue;
            var grid = ActivationGrid.FromRange(range.Min, range.Max, options.ActivationBits);
            grids.Add((value, student.QuantizeValue(value, grid.Scale, grid.ZeroPoint, grid.QMin, grid.QMax), grid.ZeroPoint));
        }
        var factorized = QuantizeFactors(student);
        // Per parameter array, the size of one step at learning rate 1: grid steps for weights and grids, the output grid's step for biases.
        var units = student.Parameters.Select(p => new float[p.Length]).ToList();
        foreach (var layer in weighted)
        {
            var (w, b, s) = student.SlotsOf(layer);
            int fanIn = layer.FanIn;
            for (int j = 0; j < units[w].Length; j++) units[w][j] = layer.WeightScales![j / fanIn] * options.FineTuneWeightLearningRate;
            float outputStep = student.GridSlotOf(layer.Output) is int g and >= 0 ? student.Parameters[g][0] : layer.WeightScales!.Average();
            Array.Fill(units[b], outputStep);
            for (int c = 0; c < units[s].Length; c++) units[s][c] = layer.WeightScales![c] * options.FineTuneScaleLearningRate;
        }
        foreach (var (_, slot, _) in grids) Array.Fill(units[slot], student.Parameters[slot][0] * options.FineTuneScaleLearningRate);
        FactorUnits(student, factorized, units, options);

        var inputs = new IReadOnlyDictionary<string, float[]>[count];
        for (int s = 0; s < count; s++)
            inputs[s] = data.Sample(graph, s).ToDictionary(kv => kv.Key, kv => kv.Value.ToArray<float>(), StringComparer.Ordinal);
        var targets = teacher.Model.Evaluate(inputs, threads);
        int classes = graph.ValueInfos[student.Output].Shape[^1];
        float temperature = options.ResolveFineTuneTemperature();
        bool kl = options.FineTuneKullbackLeibler ?? teacher.Classifier;
        (double Loss, float[] Gradient) Loss(float[] y, float[] target) => kl
            ? DistillationLoss.KullbackLeibler(y, target, classes, temperature)
            : DistillationLoss.MeanSquaredError(y, target);
        var features = FeatureDistillation.Create(teacher, student, inputs[..training], options.FineTuneFeatureWeight, threads);
        var heldOut = inputs[training..];
        float[][]? outputs = null;
        double Validate()
        {
            if (validation == 0) return double.NaN;
            outputs = student.Evaluate(heldOut, threads);
            double sum = 0;
            for (int i = 0; i < validation; i++) sum += Loss(outputs[i], targets[training + i]).Loss;
            return sum / validation;
        }

        var log = new FineTuneLog
        {
            Source = source,
            TrainingSamples = training,
            ValidationSamples = validation,
            Steps = options.FineTuneSteps,
            Batch = Math.Min(options.FineTuneBatch, training),
            Dampening = options.FineTuneDampening,
            FreezeThreshold = options.FineTuneFreezeThreshold,
            LossName = kl ? (temperature == 1 ? "KL" : string.Create(CultureInfo.InvariantCulture, $"KL at temperature {temperature:G4}")) : "MSE",
            FeatureTerm = features is null ? null : string.Create(CultureInfo.InvariantCulture, $"{options.FineTuneFeatureWeight:G4} × feature MSE ({features.Values.Count} layers)"),
        };
        double best = Validate();
        log.Points.Add(new FineTunePoint(0, double.NaN, best, 0));
        log.StartOutputs = log.KeptOutputs = outputs;
        float[][]? kept = null;
        var adam = new Adam(student.Parameters, units, options.FineTuneLearningRate);
        int batch = log.Batch;
        var order = new Random(20);
        var permutation = Enumerable.Range(0, training).ToArray();
        int cursor = training;
        double recent = 0;
        int recentCount = 0;
        var stepClock = Stopwatch.StartNew();
        for (int step = 1; step <= options.FineTuneSteps; step++)
        {
            var picked = new int[batch];
            for (int i = 0; i < batch; i++)
            {
                if (cursor == training)
                {
                    order.Shuffle(permutation);
                    cursor = 0;
                }
                picked[i] = permutation[cursor++];
            }
            var batchInputs = picked.Select(i => inputs[i]).ToArray();
            var featureTargets = features?.Targets(batchInputs, threads);
            var (loss, gradient) = student.Gradient(batchInputs, (i, y) => Loss(y, targets[picked[i]]), threads,
                features?.Values, features is null ? null : (i, f, y) => features.Loss(f, y, featureTargets![i][f]));
            if (!options.FineTuneLearnOffsets)
                // β = −s·z with the zero point z fixed: the offset's gradient joins the scale's (∂β/∂s = −z).
                foreach (var (_, slot, zero) in grids)
                {
                    gradient[slot][0] -= zero * gradient[slot][1];
                    gradient[slot][1] = 0;
                }
            float lambda = OscillationDampening.Annealed(options.FineTuneDampening, step, options.FineTuneSteps);
            for (int l = 0; l < weighted.Length; l++)
            {
                var (w, _, s) = student.SlotsOf(weighted[l]);
                // The regularizer is per sample, as the loss; the batch's gradient is a sum over its samples.
                if (lambda > 0)
                    OscillationDampening.Add<float>(student.Parameters[w], student.Parameters[s], weighted[l].FanIn, WeightQuantizer.MaxLevel(weighted[l].WeightBits), lambda * batch, gradient[w]);
                trackers[l].Mask(gradient[w]);
            }
            adam.Step(gradient, options.FineTuneCosine ? CosineFactor(step, options.FineTuneSteps) : 1f);
            foreach (var layer in weighted) ClampPositive(student.Parameters[student.SlotsOf(layer).WeightScales]);
            ClampFactorScales(student, factorized);
            for (int l = 0; l < weighted.Length; l++)
            {
                var (w, _, s) = student.SlotsOf(weighted[l]);
                trackers[l].Update(student.Parameters[w], student.Parameters[s], options.FineTuneFreezeThreshold);
            }
            foreach (var (_, slot, zero) in grids)
            {
                ClampPositive(student.Parameters[slot].AsSpan(0, 1));
                if (!options.FineTuneLearnOffsets) student.Parameters[slot][1] = -student.Parameters[slot][0] * zero;
            }
            recent += loss / batch;
            recentCount++;
            if (step % options.FineTuneEvaluateEvery == 0 || step == options.FineTuneSteps)
            {
                double secondsPerStep = stepClock.Elapsed.TotalSeconds / recentCount;
                double held = Validate();
                log.Points.Add(new FineTunePoint(step, recent / recentCount, held, secondsPerStep));
                if (held < best)
                {
                    best = held;
                    log.BestStep = step;
                    log.KeptOutputs = outputs;
                    kept = student.Parameters.Select(p => (float[])p.Clone()).ToArray();
                }
                options.Progress?.Invoke(string.Create(CultureInfo.InvariantCulture,
                    $"fine-tuning step {step}/{options.FineTuneSteps}: loss {recent / recentCount:G4}, held-out {held:G4} ({secondsPerStep:F2} s/step)"));
                recent = 0;
                recentCount = 0;
                stepClock.Restart();
            }
        }
        foreach (var tracker in trackers)
        {
            double mean = 0;
            foreach (var f in tracker.Frequency) mean += f;
            log.Oscillations.Add(new OscillationStatistics(tracker.Layer, tracker.Count, tracker.Oscillating, tracker.Frozen, tracker.Count == 0 ? 0 : mean / tracker.Count));
        }
        if (validation == 0)
        {
            log.BestStep = options.FineTuneSteps;
            kept = student.Parameters.ToArray();
        }
        log.Seconds = clock.Elapsed.TotalSeconds;
        if (kept is null)
        {
            options.Progress?.Invoke(string.Create(CultureInfo.InvariantCulture,
                $"fine-tuning: no step lowered the held-out loss {log.Points[0].ValidationLoss:G4}; the PTQ result is kept ({log.Seconds:F1} s)"));
            return log;
        }
        for (int p = 0; p < kept.Length; p++) kept[p].AsSpan().CopyTo(student.Parameters[p]);

        // Write back: grid indices and scales, biases, and each grid as the range [β + s·n, β + s·p] the artifact rebuilds it from.
        foreach (var layer in weighted)
        {
            var (w, b, s) = student.SlotsOf(layer);
            var scales = student.Parameters[s].ToArray();
            var latent = student.Parameters[w];
            int level = WeightQuantizer.MaxLevel(layer.WeightBits);
            int fanIn = layer.FanIn;
            var q = new int[latent.Length];
            for (int j = 0; j < q.Length; j++) q[j] = (int)MathF.Round(Math.Clamp(latent[j] / scales[j / fanIn], -level, level)); // half to even, as Lsq.Quantize
            layer.QuantizedWeights = q;
            layer.WeightScales = scales;
            layer.Bias = student.Parameters[b].ToArray();
        }
        WriteBackFactors(student, factorized);
        foreach (var (value, slot, _) in grids)
        {
            var grid = student.Parameters[slot];
            var original = ActivationGrid.FromRange(ranges[value].Min, ranges[value].Max, options.ActivationBits);
            ranges[value] = options.ActivationBits == 16
                ? (-grid[0] * original.QMax, grid[0] * original.QMax)
                : (grid[1] + grid[0] * original.QMin, grid[1] + grid[0] * original.QMax);
        }
        options.Progress?.Invoke(string.Create(CultureInfo.InvariantCulture,
            $"fine-tuning: {options.FineTuneSteps} steps of {batch} samples in {log.Seconds:F1} s; kept step {log.BestStep} (held-out loss {log.Points[0].ValidationLoss:G4} → {best:G4})"));
        return log;
    }

    /// <summary>The training inputs: TrainingData (checked by <see cref="CheckOptions"/>) or the calibration data, at most MaxTrainingSamples of them.</summary>
    private static (CalibrationSet Data, int Count, string Source) TrainingSet(QuantizationOptions options, CalibrationSet calibration, int calibrationSamples, Graph graph, string? modelPath)
    {
        if (options.TrainingData is not { } data) return (calibration, Math.Min(calibrationSamples, options.MaxTrainingSamples), "the calibration data");
        var source = data.Sources.Count > 0 ? string.Join(", ", data.Sources.Values.Select(Path.GetFileName)) : "TrainingData";
        return (data, Math.Min(data.Validate(graph, modelPath), options.MaxTrainingSamples), source);
    }

    /// <summary>Values with a grid of their own (Reshape and MaxPool keep their input's; float tails have none).</summary>
    private static bool HasOwnGrid(FloatLayer layer) => layer.Kind is not (LayerKinds.Reshape or LayerKinds.MaxPool or LayerKinds.Softmax or LayerKinds.Sigmoid);

    /// <summary>Cosine decay: ½(1 + cos(π (t − 1)/T)) at step t of T, 1 at the first step, near 0 at the last.</summary>
    internal static float CosineFactor(int step, int steps) => (float)(0.5 * (1 + Math.Cos(Math.PI * (step - 1) / steps)));

    private static void ClampPositive(Span<float> scales)
    {
        foreach (ref var s in scales) s = MathF.Max(s, 1e-8f);
    }

    /// <summary>Adam (Kingma and Ba) with a per-element step unit: θ −= lr · unit · m̂ / (√v̂ + ε).</summary>
    private sealed class Adam(List<float[]> parameters, List<float[]> units, float learningRate)
    {
        private const float Beta1 = 0.9f, Beta2 = 0.999f, Epsilon = 1e-8f;
        private readonly float[][] _m = parameters.Select(p => new float[p.Length]).ToArray();
        private readonly float[][] _v = parameters.Select(p => new float[p.Length]).ToArray();
        private int _t;

        /// <summary>One update at <paramref name="factor"/> times the learning rate (the schedule's value at this step).</summary>
        public void Step(float[][] gradient, float factor)
        {
            float rate = learningRate * factor;
            _t++;
            float c1 = 1 - MathF.Pow(Beta1, _t), c2 = 1 - MathF.Pow(Beta2, _t);
            for (int p = 0; p < parameters.Count; p++)
            {
                float[] theta = parameters[p], g = gradient[p], m = _m[p], v = _v[p], unit = units[p];
                for (int i = 0; i < theta.Length; i++)
                {
                    m[i] = Beta1 * m[i] + (1 - Beta1) * g[i];
                    v[i] = Beta2 * v[i] + (1 - Beta2) * g[i] * g[i];
                    theta[i] -= rate * unit[i] * (m[i] / c1) / (MathF.Sqrt(v[i] / c2) + Epsilon);
                }
            }
        }
    }
}

/// <summary>The float model fine-tuning distils from, and whether its output is a class distribution (KL) or not (MSE).</summary>
internal sealed record Teacher(Graph Graph, TrainingGraph<float> Model, bool Classifier);
