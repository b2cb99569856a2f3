using QuantGen.Core.Artifact;
using QuantGen.Core.IO;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;
using QuantGen.Core.Training;
using QuantGen.Onnx;
using QuantGen.Tests.RealModels;

namespace QuantGen.Tests.Training;

/// <summary>Gradients through whole test models (the quantizer's layer list, BN folded): finite differences and determinism.</summary>
public sealed class ModelGradientTests
{
    private static readonly Lazy<Tensor> Calibration = new(() => Npy.Read(Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy")));

    private static (Graph Graph, List<FloatLayer> Layers) Layers(string model)
    {
        var prepared = QuantizationPreparation.Prepare(OnnxModelLoader.Load(RealModelPaths.Fashion(model)), new QuantizationOptions());
        var (layers, _, _) = LayerGraphBuilder.Build(prepared.Graph, null);
        return (prepared.Graph, layers);
    }

    private static float[] Image(int index) => Calibration.Value.AsSpan<float>().Slice(index * 784, 784).ToArray();

    [Theory]
    [InlineData("fashion_cnn")]
    [InlineData("fashion_mobilenet")]
    public void WholeModelGradientsMatchFiniteDifferences(string model)
    {
        var (graph, layers) = Layers(model);
        var training = new TrainingGraph<double>(graph, layers, layers[^1].Output);
        Assert.Equal(layers.Count, training.Layers.Count);
        // A little noise on the images: their exactly-zero background would otherwise put whole planes of
        // pre-activations exactly on a ReLU's kink, where the two one-sided derivatives differ.
        var random = new Random(7);
        var batch = new[] { 3, 17 }.Select(i => (IReadOnlyDictionary<string, double[]>)new Dictionary<string, double[]> { ["image"] = Image(i).Select(v => v + (random.NextDouble() - 0.5) * 0.02).ToArray() }).ToArray();
        int outputs = graph.ValueInfos[training.Output].ElementCount;
        var probe = Enumerable.Range(0, outputs).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        var (_, gradient) = training.Gradient(batch, (_, _) => (0, probe), threads: 2);
        double Loss() => batch.Sum(x => training.Evaluate(x).Zip(probe, (y, r) => y * r).Sum());
        for (int p = 0; p < training.Parameters.Count; p++)
        {
            var values = training.Parameters[p];
            // Three entries of every weight and bias array: the largest gradient and two random ones.
            int largest = Enumerable.Range(0, values.Length).MaxBy(i => Math.Abs(gradient[p][i]));
            foreach (int i in new[] { largest, random.Next(values.Length), random.Next(values.Length) })
            {
                double numeric = FiniteDifference.Central(values, i, Loss);
                Assert.True(Math.Abs(numeric - gradient[p][i]) <= 1e-5 * (1e-3 + Math.Abs(numeric)),
                    $"{model} {training.ParameterNames[p]}[{i}]: analytic {gradient[p][i]:R}, numeric {numeric:R}");
            }
        }
        Assert.True(training.Parameters.Count >= 6, $"{model}: only {training.Parameters.Count} parameter arrays");
        Assert.True(gradient.All(g => g.Any(v => v != 0)), $"{model}: a parameter array got no gradient");
    }

    /// <summary>
    /// A loss on intermediate values (FineTuneFeatureWeight's feature MSE) enters the backward pass where the value
    /// is produced: probes on the output and on every weighted layer's output (the MobileNet-style model's residual
    /// branches included) against finite differences of the same linear functional.
    /// </summary>
    [Fact]
    public void FeatureLossGradientsMatchFiniteDifferences()
    {
        var (graph, layers) = Layers("fashion_mobilenet");
        var training = new TrainingGraph<double>(graph, layers, layers[^1].Output);
        var features = training.Layers.Where(l => l.Kind is LayerKinds.Conv or LayerKinds.FullyConnected && l.Output != training.Output).Select(l => l.Output).ToArray();
        Assert.True(features.Length >= 10, $"only {features.Length} features");
        var random = new Random(11);
        var batch = new[] { 5 }.Select(i => (IReadOnlyDictionary<string, double[]>)new Dictionary<string, double[]> { ["image"] = Image(i).Select(v => v + (random.NextDouble() - 0.5) * 0.02).ToArray() }).ToArray();
        var probe = Enumerable.Range(0, graph.ValueInfos[training.Output].ElementCount).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        var featureProbes = features.Select(f => Enumerable.Range(0, graph.ValueInfos[f].ElementCount).Select(_ => random.NextDouble() * 2 - 1).ToArray()).ToArray();
        var (_, gradient) = training.Gradient(batch, (_, _) => (0, probe), threads: 2, features, (_, f, _) => (0, featureProbes[f]));
        var (_, outputOnly) = training.Gradient(batch, (_, _) => (0, probe), threads: 2);
        double Loss()
        {
            double sum = training.Evaluate(batch[0]).Zip(probe, (y, r) => y * r).Sum();
            var values = training.EvaluateValues(batch, features, threads: 1)[0];
            for (int f = 0; f < features.Length; f++) sum += values[f].Zip(featureProbes[f], (y, r) => y * r).Sum();
            return sum;
        }
        int differing = 0;
        for (int p = 0; p < training.Parameters.Count; p++)
        {
            var values = training.Parameters[p];
            int largest = Enumerable.Range(0, values.Length).MaxBy(i => Math.Abs(gradient[p][i]));
            foreach (int i in new[] { largest, random.Next(values.Length) })
            {
                double numeric = FiniteDifference.Central(values, i, Loss);
                Assert.True(Math.Abs(numeric - gradient[p][i]) <= 1e-5 * (1e-3 + Math.Abs(numeric)),
                    $"{training.ParameterNames[p]}[{i}]: analytic {gradient[p][i]:R}, numeric {numeric:R}");
            }
            if (!gradient[p].AsSpan().SequenceEqual(outputOnly[p])) differing++;
        }
        // Every weighted layer but the last feeds a feature, so every parameter array but the last layer's moves.
        Assert.True(differing >= training.Parameters.Count - 2, $"{differing} of {training.Parameters.Count} arrays changed with the feature probes");
    }

    [Fact]
    public void FakeQuantizedGradientsAreBitIdenticalAtOneAndTwoThreads()
    {
        var (graph, layers) = Layers("fashion_mobilenet");
        var executor = new LayerExecutor(graph);
        var ranges = new Dictionary<string, (float Min, float Max)>(StringComparer.Ordinal);
        for (int i = 0; i < 8; i++)
            foreach (var (name, values) in executor.Run(layers, new Dictionary<string, float[]> { ["image"] = Image(i) }))
            {
                var (min, max) = ranges.TryGetValue(name, out var r) ? r : (float.MaxValue, float.MinValue);
                ranges[name] = (Math.Min(min, values.Min()), Math.Max(max, values.Max()));
            }
        var last = layers.FindLast(l => !l.IsFloatTail)!;
        var teacher = new TrainingGraph<float>(graph, layers, last.Output);
        var student = new TrainingGraph<float>(graph, layers, last.Output);
        foreach (var layer in student.Layers.Where(l => l.Kind is LayerKinds.Conv or LayerKinds.FullyConnected))
            student.QuantizeWeights(layer, Enumerable.Range(0, layer.OutputChannels).Select(c => Math.Max(1e-6f, layer.Weights!.Skip(c * layer.FanIn).Take(layer.FanIn).Max(MathF.Abs) / 7)).ToArray(), 4);
        foreach (var name in new[] { "image" }.Concat(student.Layers.Select(l => l.Output)))
        {
            var grid = ActivationGrid.FromRange(ranges[name].Min, ranges[name].Max, 8);
            student.QuantizeValue(name, grid.Scale, grid.ZeroPoint, grid.QMin, grid.QMax);
        }
        var batch = Enumerable.Range(0, 13).Select(i => (IReadOnlyDictionary<string, float[]>)new Dictionary<string, float[]> { ["image"] = Image(i + 20) }).ToArray();
        var targets = batch.Select(teacher.Evaluate).ToArray();
        int classes = graph.ValueInfos[last.Output].Shape[^1];
        (double, float[]) Loss(int s, float[] y) => DistillationLoss.KullbackLeibler(y, targets[s], classes);

        var (loss1, one) = student.Gradient(batch, Loss, threads: 1);
        var (loss2, two) = student.Gradient(batch, Loss, threads: 2);

        Assert.True(loss1 > 0, "quantization changed nothing");
        Assert.Equal(loss1, loss2);
        Assert.Equal(one.Length, two.Length);
        for (int p = 0; p < one.Length; p++) Assert.True(one[p].AsSpan().SequenceEqual(two[p]), $"{student.ParameterNames[p]} differs between 1 and 2 threads");
        // Every kind of parameter learns something: weights (STE), weight scales and grids (LSQ+).
        Assert.Contains(student.ParameterNames.Select((n, p) => (n, p)), e => e.n.EndsWith(".weightScales", StringComparison.Ordinal) && one[e.p].Any(v => v != 0));
        Assert.Contains(student.ParameterNames.Select((n, p) => (n, p)), e => e.n.EndsWith(".grid", StringComparison.Ordinal) && one[e.p].Any(v => v != 0));
    }
}
