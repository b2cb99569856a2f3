using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using QuantGen.Tests.Data;
using QuantGen.Tests.Generator;
using Xunit.Abstractions;

namespace QuantGen.Tests.RealModels;

/// <summary>
/// Issue 17's "MatMul of two computed tensors ... decided by measured accuracy": fashion_transformer built by default
/// (attention in float) and with QuantizedAttention (Q·Kᵀ quantized with the ÷√d folded in; attention·V, which reads the
/// float Softmax, stays float), the generated class against ONNX Runtime float on the first 1000 Fashion-MNIST test
/// images: top-1 agreement and logit SQNR. docs/accuracy.md has the figures, and the 98.7% measured with attention·V quantized too.
/// </summary>
public sealed class QuantizedAttentionAccuracyTests(ITestOutputHelper output)
{
    private const int Images = 1000;

    [Theory]
    [InlineData(false, 0)]
    [InlineData(true, 2)]
    public void TransformerAttentionAgainstOnnxRuntimeFloat(bool quantizedAttention, int quantizedMatMuls)
    {
        const string name = "fashion_transformer";
        var artifact = GeneratedCodeTests.QuantizeFashion(name, new QuantizationOptions { QuantizedAttention = quantizedAttention });
        Assert.Equal(quantizedMatMuls, artifact.Layers.Count(l => l.Kind == LayerKinds.MatMul));
        Assert.Equal(4 - quantizedMatMuls, artifact.Layers.Count(l => l.Kind == FloatLayers.Kind("MatMul")));
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
        output.WriteLine($"{name} QuantizedAttention={quantizedAttention}: top-1 agreement with ONNX Runtime float {agreement:P2} on {Images} test images, logit SQNR {sqnr:F1} dB; float layers: {string.Join(", ", floats)}");
        Assert.True(agreement >= MinimumAgreement, $"top-1 agreement {agreement:P2}");
    }

    /// <summary>Measured 2026-12-06: 99.0% both ways (990 of 1000); the floor leaves 5 images for other changes to move.</summary>
    private const double MinimumAgreement = 0.985;

    private static int ArgMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }
}
