using QuantGen.Core.Artifact;
using QuantGen.Core.IO;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;
using QuantGen.Core.Quantization.Factorization;
using QuantGen.Onnx;
using QuantGen.Tests.Data;
using QuantGen.Tests.Generator;
using QuantGen.Tests.RealModels;
using Xunit.Abstractions;

namespace QuantGen.Tests.Factorization;

/// <summary>
/// The conv models built with Compression="factorized", CompressionRatio 8, end to end through the generated class:
/// FactorizedConv layers fitted on real im2col'd activations (fashion_mobilenet's with fused ReLU6 per-channel upper
/// bounds), the generated class equal to the simulator bit for bit, a 2000-image accuracy bar, and no QG0019 warning.
/// </summary>
public sealed class FactorizedConvModelTests(ITestOutputHelper output)
{
    [Fact]
    public void FashionCnnAtRatio8MatchesTheSimulatorAndKeepsTheAccuracyBar()
    {
        var result = Build("fashion_cnn", 8);
        // conv2 (3×3, 32×144) is a FactorizedConv; the 10×1568 classifier a FactorizedFullyConnected (its rank is ≤ 10:
        // the planner gives it low-bit weights, not a lower rank).
        var conv = Assert.Single(result.Artifact.Layers, l => l.Kind == LayerKinds.FactorizedConv);
        Assert.Equal([3, 3], conv.GetInts("kernel"));
        Assert.Single(result.Artifact.Layers, l => l.Kind == LayerKinds.FactorizedFullyConnected);
        // Measured 91.95% on these 2000 images (float 91.95%, W4 AdaRound 91.90%; docs/accuracy.md): a conv factor fitted
        // or laid out wrongly (im2col order, padding, intermediate range) falls far below.
        RunAndAssert(result, minimumAccuracy: 89.5);
    }

    [Fact]
    public void FashionMobilenetAtRatio8MatchesTheSimulatorAndKeepsTheAccuracyBar()
    {
        var result = Build("fashion_mobilenet", 8);
        // The expand and head 1×1 convs end in ReLU6 that cross-layer equalization turned into per-channel bounds:
        // factorized layers must carry clampHigh now, and the generated class must apply it as the simulator does.
        var factorized = result.Artifact.Layers.Where(l => l.Kind == LayerKinds.FactorizedConv).ToList();
        Assert.True(factorized.Count >= 8, $"{factorized.Count} FactorizedConv layers");
        Assert.Contains(factorized, l => l.HasBlob("clampHigh"));
        // Measured 90.30% on these 2000 images (float 91.25%, W4 AdaRound 90.70% at 8.0×; docs/accuracy.md).
        RunAndAssert(result, minimumAccuracy: 88.5);
    }

    private static QuantizationResult Build(string name, double ratio)
    {
        var model = OnnxModelLoader.Load(RealModelPaths.Fashion(name));
        var calibration = new CalibrationSet(new Dictionary<string, Tensor>
        {
            ["image"] = Npy.Read(Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy")),
        });
        var options = new QuantizationOptions { Compression = WeightCompression.Factorized, CompressionRatio = ratio };
        return ModelQuantizer.Quantize(model, options, calibration, [new ArtifactMetadata("source", $"Models/{name}.onnx")]);
    }

    private void RunAndAssert(QuantizationResult result, double minimumAccuracy)
    {
        var artifact = result.Artifact;
        Assert.Empty(result.Warnings);
        var path = $"/project/obj/quantgen/{artifact.ModelName}.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(artifact))], GeneratedCodeTests.Options(path, "Model"));
        var (assembly, _) = GeneratorHarness.Build(GeneratorHarness.Compilation(FactorizedKernelTests.Probe), driver);
        var run = assembly.GetType("Probe")!.GetMethod("Run")!.CreateDelegate<Func<float[], float[]>>();
        var simulator = new IntegerSimulator(artifact);
        var (images, labels) = FashionMnist.TestSet;
        const int count = 2000;
        int correct = 0;
        for (int i = 0; i < count; i++)
        {
            var image = images.AsSpan(i * FashionMnist.Pixels, FashionMnist.Pixels).ToArray();
            var actual = run(image);
            if (i < 200) Assert.Equal(simulator.Run(new Dictionary<string, float[]> { ["image"] = image })["logits"], actual);
            if (Array.IndexOf(actual, actual.Max()) == labels[i]) correct++;
        }
        double accuracy = 100.0 * correct / count;
        output.WriteLine(result.Summary);
        output.WriteLine($"generated class = simulator on 200 images; top-1 {accuracy:F2}% on the first {count} test images");
        Assert.True(accuracy >= minimumAccuracy, $"top-1 {accuracy:F2}% < {minimumAccuracy}%");
    }
}
