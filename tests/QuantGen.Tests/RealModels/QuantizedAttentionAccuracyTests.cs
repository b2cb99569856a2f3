using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using QuantGen.Tests.Data;
using QuantGen.Tests.Generator;
using Xunit.Abstractions;

namespace QuantGen.Tests.RealModels;

/// <summary>
/// Issue 17's "MatMul of two computed tensors ... decided by measured accuracy": fashion_transformer built with its
/// attention MatMuls quantized (QuantizedAttention; Q·Kᵀ with the ÷√d folded in, and attention·V reading the float
/// Softmax's output on a u8 grid), the generated class against ONNX Runtime float on the first 1000 Fashion-MNIST test
/// images, as EdgeModelQuantizedTests measures the default build (attention in float). docs/accuracy.md has both.
/// </summary>
public sealed class QuantizedAttentionAccuracyTests(ITestOutputHelper output)
{
    private const int Images = 1000;

    [Fact]
    public void TransformerWithQuantizedAttentionAgainstOnnxRuntimeFloat()
    {
        const string name = "fashion_transformer";
        var artifact = GeneratedCodeTests.QuantizeFashion(name, new QuantizationOptions { QuantizedAttention = true });
        Assert.Equal(4, artifact.Layers.Count(l => l.Kind == LayerKinds.MatMul));
        Assert.DoesNotContain(artifact.Layers, l => l.Kind == FloatLayers.Kind("MatMul"));
        var path = $"/project/obj/quantgen/{name}.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(artifact))], GeneratedCodeTests.Options(path));
        var (assembly, _) = GeneratorHarness.Build(GeneratorHarness.Compilation(GeneratedCodeTests.Probe("FashionTransformer")), driver);
        var method = assembly.GetType("Probe")!.GetMethod("Run")!;
        using var oracle = new OnnxRuntimeOracle(RealModelPaths.Fashion(name));
        var (images, _) = FashionMnist.TestSet;
        int agree = 0;
        double signal = 0, noise = 0;
        for (int i = 0; i < Images; i++)
        {
            var image = images.AsSpan(i * FashionMnist.Pixels, FashionMnist.Pixels).ToArray();
            var expected = oracle.Run("image", image, [1, 1, 28, 28]).Values.Single();
            var actual = (float[])method.Invoke(null, [image])!;
            if (ArgMax(expected) == ArgMax(actual)) agree++;
            for (int j = 0; j < expected.Length; j++)
            {
                signal += (double)expected[j] * expected[j];
                noise += (double)(expected[j] - actual[j]) * (expected[j] - actual[j]);
            }
        }
        double agreement = (double)agree / Images, sqnr = 10 * Math.Log10(signal / noise);
        var floats = artifact.Layers.Where(l => FloatLayers.IsFloat(l.Kind)).GroupBy(l => FloatLayers.OpOf(l.Kind)).Select(g => $"{g.Key} {g.Count()}");
        output.WriteLine($"{name} with quantized attention: top-1 agreement with ONNX Runtime float {agreement:P2} on {Images} test images, logit SQNR {sqnr:F1} dB; float layers: {string.Join(", ", floats)}");
        Assert.True(agreement >= MinimumAgreement, $"top-1 agreement {agreement:P2}");
    }

    /// <summary>The floor the measurement justifies (docs/accuracy.md).</summary>
    private const double MinimumAgreement = 0.9;

    private static int ArgMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }
}
