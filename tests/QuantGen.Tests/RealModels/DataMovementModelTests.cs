using QuantGen.Core.Artifact;
using QuantGen.Core.IO;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;
using QuantGen.Onnx;
using QuantGen.Tests.Data;
using QuantGen.Tests.Generator;
using Xunit.Abstractions;

namespace QuantGen.Tests.RealModels;

/// <summary>
/// The edge models whose 1-D convolutions, Resizes and ConvTranspose now run quantized (issue 17, branch edgeops):
/// fashion_audio1d calibrated on the Fashion-MNIST calibration images read as sequences, built through the generator,
/// its per-step argmax against ONNX Runtime float on test images. What runs in float is printed, and must be nothing.
/// </summary>
public sealed class DataMovementModelTests(ITestOutputHelper output)
{
    private const int Images = 300;

    [Fact]
    public void AudioModelRunsAllIntegerAndAgreesWithOnnxRuntimeFloatPerStep()
    {
        const string name = "fashion_audio1d";
        var model = OnnxModelLoader.Load(RealModelPaths.Fashion(name));
        var images = Npy.Read(Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy"));
        int samples = images.Shape[0];
        var pixels = images.ToArray<float>();
        var sequences = new float[pixels.Length];
        for (int i = 0; i < samples; i++)
            EdgeModelTests.AsSequence(pixels.AsSpan(i * FashionMnist.Pixels, FashionMnist.Pixels).ToArray()).CopyTo(sequences, i * FashionMnist.Pixels);
        var calibration = new CalibrationSet(new Dictionary<string, Tensor> { ["features"] = Tensor.FromArray([samples, 28, 28], sequences) });
        var options = new QuantizationOptions { Dimensions = new Dictionary<string, int> { ["steps"] = 28 } };
        var artifact = ModelQuantizer.Quantize(model, options, calibration, [new ArtifactMetadata("source", $"Models/{name}.onnx")]).Artifact;
        Assert.DoesNotContain(artifact.Layers, l => FloatLayers.IsFloat(l.Kind));
        Assert.Equal(5, artifact.Layers.Count(l => l.Kind == LayerKinds.Conv));

        var path = $"/project/obj/quantgen/{name}.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(artifact))], GeneratedCodeTests.Options(path));
        var (assembly, _) = GeneratorHarness.Build(GeneratorHarness.Compilation(GeneratedCodeTests.Probe("FashionAudio1d")), driver);
        var run = assembly.GetType("Probe")!.GetMethod("Run")!;
        var simulator = new IntegerSimulator(artifact);
        using var oracle = new OnnxRuntimeOracle(RealModelPaths.Fashion(name));
        var (test, _) = FashionMnist.TestSet;
        int agree = 0, steps = 0;
        for (int i = 0; i < Images; i++)
        {
            var features = EdgeModelTests.AsSequence(test.AsSpan(i * FashionMnist.Pixels, FashionMnist.Pixels).ToArray());
            var expected = oracle.Run("features", features, [1, 28, 28]).Values.Single();
            var actual = (float[])run.Invoke(null, [features])!;
            if (i < 20) Assert.Equal(simulator.Run(new Dictionary<string, float[]> { ["features"] = features })["logits"], actual);
            // logits [1, 10, 28]: class k of step t at k·28 + t.
            for (int t = 0; t < 28; t++, steps++)
                if (ArgMax(expected, t) == ArgMax(actual, t)) agree++;
        }
        double agreement = (double)agree / steps;
        output.WriteLine($"{name}: per-step argmax agreement with ONNX Runtime float {agreement:P2} over {Images} test images × 28 steps; layers: " +
            string.Join(", ", artifact.Layers.GroupBy(l => l.Kind).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}")));
        Assert.True(agreement >= 0.98, $"{name}: per-step agreement {agreement:P2} < 98%");
    }

    private static int ArgMax(float[] logits, int step)
    {
        int best = 0;
        for (int k = 1; k < 10; k++)
            if (logits[k * 28 + step] > logits[best * 28 + step]) best = k;
        return best;
    }
}
