using System.Globalization;
using System.Text.RegularExpressions;
using QuantGen.Core.Execution;
using QuantGen.Core.Ir;
using QuantGen.Core.Passes;
using QuantGen.Onnx;
using QuantGen.Tests.Data;
using Xunit.Abstractions;

namespace QuantGen.Tests.RealModels;

/// <summary>The reference executor reproduces, on all 10k test images, the float accuracy PyTorch recorded in docs/models.md.</summary>
public sealed partial class FloatAccuracyTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("fashion_mlp")]
    [InlineData("fashion_cnn")]
    [InlineData("fashion_cnn_bn")]
    [InlineData("fashion_mobilenet")]
    public void ExecutorAccuracyMatchesTheTrainingRecord(string name)
    {
        var recorded = RecordedAccuracy(name);
        var executor = new ReferenceExecutor(ModelPreparation.Prepare(OnnxModelLoader.Load(RealModelPaths.Fashion(name))));
        var (images, labels) = FashionMnist.TestSet;
        int correct = 0;
        Parallel.For(0, labels.Length, () => 0, (i, _, local) =>
        {
            var image = Tensor.FromArray([1, 1, 28, 28], images.AsSpan(i * FashionMnist.Pixels, FashionMnist.Pixels).ToArray());
            var logits = executor.Run(new Dictionary<string, Tensor> { ["image"] = image })["logits"].AsSpan<float>();
            return local + (ArgMax(logits) == labels[i] ? 1 : 0);
        }, local => Interlocked.Add(ref correct, local));
        double accuracy = 100.0 * correct / labels.Length;
        output.WriteLine($"{name}: executor {accuracy:F2}%, recorded {recorded:F2}%");
        Assert.True(Math.Abs(accuracy - recorded) <= 0.1, $"{name}: executor {accuracy:F2}% vs recorded {recorded:F2}%");
    }

    internal static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }

    private static double RecordedAccuracy(string name)
    {
        var text = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "docs", "models.md"));
        var match = Regex.Match(text, $@"^\| {Regex.Escape(name)} \|.*?\| ([0-9.]+)% \|", RegexOptions.Multiline);
        Assert.True(match.Success, $"docs/models.md has no row for {name}");
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }
}
