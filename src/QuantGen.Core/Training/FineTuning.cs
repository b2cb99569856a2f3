using System.Diagnostics;
using System.Globalization;
using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;

namespace QuantGen.Core.Training;

/// <summary>
/// Algorithms "finetune": label-free distillation of the post-training-quantized model from the float model on the
/// calibration inputs. The student starts at the PTQ result (its grid weights, scales, corrected biases and
/// activation grids), learns latent weights through the straight-through estimator, biases, and LSQ+ weight scales
/// and activation grids with Adam, and writes them back into the quantizer's layers and ranges, from which the
/// artifact is built as for any other pass (so simulator and generated code stay bit-exact with each other).
/// Loss: KL divergence on the logits for a model ending in Softmax, mean squared error of the output otherwise.
/// </summary>
internal static class FineTuning
{
    /// <summary>The float model to distil from, copied now (before the passes that move biases).</summary>
    public static Teacher Teacher(Graph graph, IReadOnlyList<FloatLayer> layers, string? modelPath)
    {
        var last = layers[^1];
        bool classifier = last.Kind == LayerKinds.Softmax;
        string output = classifier ? last.Inputs[0] : last.Output;
        return new Teacher(graph, new TrainingGraph<float>(graph, layers, output, modelPath), classifier);
    }

    public static Dictionary<string, (float Min, float Max)> Run(Teacher teacher, IReadOnlyList<FloatLayer> layers, Dictionary<string, (float Min, float Max)> ranges,
        QuantizationOptions options, CalibrationSet calibration, int samples, string? modelPath)
    {
        var clock = Stopwatch.StartNew();
        var graph = teacher.Graph;
        var student = new TrainingGraph<float>(graph, layers, teacher.Model.Output, modelPath);
        var units = new List<float[]>();
        // Weights start on their PTQ grid points (AdaRound's choices); weight steps are the learning-rate unit of a channel.
        foreach (var layer in student.Layers.Where(l => l.Kind is LayerKinds.Conv or LayerKinds.FullyConnected))
        {
            var (w, _, _) = student.SlotsOf(layer);
            var dequantized = WeightQuantizer.Dequantize(layer.QuantizedWeights!, layer.WeightScales!);
            dequantized.AsSpan().CopyTo(student.Parameters[w]);
            student.QuantizeWeights(layer, layer.WeightScales!, options.WeightBits);
        }
        var grids = new List<string>();
        foreach (var value in graph.Inputs.Select(i => i.Name).Concat(student.Layers.Where(HasOwnGrid).Select(l => l.Output)))
        {
            if (!ranges.TryGetValue(value, out var range)) continue;
            var grid = ActivationGrid.FromRange(range.Min, range.Max, options.ActivationBits);
            student.QuantizeValue(value, grid.Scale, grid.ZeroPoint, grid.QMin, grid.QMax);
            grids.Add(value);
        }
        // Per parameter array, the size of one step at learning rate 1: grid steps for weights and grids, the output grid's step for biases.
        for (int p = 0; p < student.Parameters.Count; p++) units.Add(new float[student.Parameters[p].Length]);
        foreach (var layer in student.Layers.Where(l => l.Kind is LayerKinds.Conv or LayerKinds.FullyConnected))
        {
            var (w, b, s) = student.SlotsOf(layer);
            int fanIn = layer.FanIn;
            for (int j = 0; j < units[w].Length; j++) units[w][j] = layer.WeightScales![j / fanIn];
            float outputStep = student.GridSlotOf(layer.Output) is int g and >= 0 ? student.Parameters[g][0] : layer.WeightScales!.Average();
            Array.Fill(units[b], outputStep);
            for (int c = 0; c < units[s].Length; c++) units[s][c] = layer.WeightScales![c] * 0.1f;
        }
        foreach (var value in grids)
        {
            int g = student.GridSlotOf(value);
            Array.Fill(units[g], student.Parameters[g][0] * 0.1f);
        }

        var inputs = new IReadOnlyDictionary<string, float[]>[samples];
        var targets = new float[samples][];
        for (int s = 0; s < samples; s++)
        {
            inputs[s] = calibration.Sample(graph, s).ToDictionary(kv => kv.Key, kv => kv.Value.ToArray<float>(), StringComparer.Ordinal);
            targets[s] = teacher.Model.Evaluate(inputs[s]);
        }
        int classes = graph.ValueInfos[student.Output].Shape[^1];
        var adam = new Adam(student.Parameters, units, options.FineTuneLearningRate);
        int batch = Math.Min(options.FineTuneBatch, samples);
        var order = new Random(20);
        var permutation = Enumerable.Range(0, samples).ToArray();
        int cursor = samples;
        double recent = 0;
        int recentCount = 0;
        for (int step = 1; step <= options.FineTuneSteps; step++)
        {
            var picked = new int[batch];
            for (int i = 0; i < batch; i++)
            {
                if (cursor == samples)
                {
                    order.Shuffle(permutation);
                    cursor = 0;
                }
                picked[i] = permutation[cursor++];
            }
            var batchInputs = picked.Select(i => inputs[i]).ToArray();
            var (loss, gradient) = student.Gradient(batchInputs, (i, y) => teacher.Classifier
                ? DistillationLoss.KullbackLeibler(y, targets[picked[i]], classes)
                : DistillationLoss.MeanSquaredError(y, targets[picked[i]]), Environment.ProcessorCount);
            adam.Step(gradient);
            foreach (var layer in student.Layers.Where(l => l.Kind is LayerKinds.Conv or LayerKinds.FullyConnected))
                ClampPositive(student.Parameters[student.SlotsOf(layer).WeightScales]);
            foreach (var value in grids) ClampPositive(student.Parameters[student.GridSlotOf(value)].AsSpan(0, 1));
            recent += loss / batch;
            recentCount++;
            if (step % 50 == 0 || step == 1 || step == options.FineTuneSteps)
            {
                options.Progress?.Invoke(string.Create(CultureInfo.InvariantCulture,
                    $"fine-tuning step {step}/{options.FineTuneSteps}: loss {recent / recentCount:G4} ({clock.Elapsed.TotalSeconds / step:F2} s/step)"));
                recent = 0;
                recentCount = 0;
            }
        }

        // Write back: grid indices and scales, biases, and each grid as the range [β, β + s·qmax] the artifact rebuilds it from.
        int level = WeightQuantizer.MaxLevel(options.WeightBits);
        foreach (var layer in student.Layers.Where(l => l.Kind is LayerKinds.Conv or LayerKinds.FullyConnected))
        {
            var (w, b, s) = student.SlotsOf(layer);
            var scales = student.Parameters[s].ToArray();
            var latent = student.Parameters[w];
            int fanIn = layer.FanIn;
            var q = new int[latent.Length];
            for (int j = 0; j < q.Length; j++) q[j] = (int)MathF.Round(Math.Clamp(latent[j] / scales[j / fanIn], -level, level)); // half to even, as Lsq.Quantize
            layer.QuantizedWeights = q;
            layer.WeightScales = scales;
            layer.Bias = student.Parameters[b].ToArray();
        }
        var result = new Dictionary<string, (float Min, float Max)>(ranges, StringComparer.Ordinal);
        foreach (var value in grids)
        {
            var grid = student.Parameters[student.GridSlotOf(value)];
            int qmin = options.ActivationBits == 16 ? -ActivationGrid.Int16Level : 0;
            int qmax = options.ActivationBits == 16 ? ActivationGrid.Int16Level : (1 << options.ActivationBits) - 1;
            result[value] = options.ActivationBits == 16
                ? (-grid[0] * qmax, grid[0] * qmax)
                : (grid[1] + grid[0] * qmin, grid[1] + grid[0] * qmax);
        }
        options.Progress?.Invoke(string.Create(CultureInfo.InvariantCulture, $"fine-tuning: {options.FineTuneSteps} steps of {batch} samples in {clock.Elapsed.TotalSeconds:F1} s"));
        return result;
    }

    /// <summary>Values with a grid of their own (Reshape and MaxPool keep their input's; float tails have none).</summary>
    private static bool HasOwnGrid(FloatLayer layer) => layer.Kind is not (LayerKinds.Reshape or LayerKinds.MaxPool or LayerKinds.Softmax or LayerKinds.Sigmoid);

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

        public void Step(float[][] gradient)
        {
            _t++;
            float c1 = 1 - MathF.Pow(Beta1, _t), c2 = 1 - MathF.Pow(Beta2, _t);
            for (int p = 0; p < parameters.Count; p++)
            {
                float[] theta = parameters[p], g = gradient[p], m = _m[p], v = _v[p], unit = units[p];
                for (int i = 0; i < theta.Length; i++)
                {
                    m[i] = Beta1 * m[i] + (1 - Beta1) * g[i];
                    v[i] = Beta2 * v[i] + (1 - Beta2) * g[i] * g[i];
                    theta[i] -= learningRate * unit[i] * (m[i] / c1) / (MathF.Sqrt(v[i] / c2) + Epsilon);
                }
            }
        }
    }
}

/// <summary>The float model fine-tuning distils from, and whether its output is a class distribution (KL) or not (MSE).</summary>
internal sealed record Teacher(Graph Graph, TrainingGraph<float> Model, bool Classifier);
