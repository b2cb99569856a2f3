using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using QuantGen.Tests.Data;
using Xunit.Abstractions;

namespace QuantGen.Tests.Generator;

/// <summary>
/// ActivationBits 3 to 7 (issue 20): the activations are stored in bytes and run on the u8 kernels, only the grid is
/// narrower, q ∈ [0, 2^b − 1]. The generated class computes exactly what the simulator computes, and every quantized
/// value stays on the narrow grid.
/// </summary>
public sealed class LowActivationBitsTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("fashion_cnn", "FashionCnn", 4)]
    [InlineData("fashion_mobilenet", "FashionMobilenet", 4)]
    [InlineData("fashion_mobilenet", "FashionMobilenet", 3)]
    [InlineData("fashion_mlp", "FashionMlp", 6)]
    [InlineData("fashion_mobilenetv3", "FashionMobilenetv3", 4)]
    public void GeneratedClassMatchesTheSimulatorAndUsesOnlyTheNarrowGrid(string name, string className, int activationBits)
    {
        int levels = 1 << activationBits;
        var artifact = GeneratedCodeTests.QuantizeFashion(name, new QuantizationOptions
        {
            WeightBits = 4,
            ActivationBits = activationBits,
            Algorithms = QuantizationAlgorithms.Cle | QuantizationAlgorithms.BiasAbsorption,
        });
        Assert.Equal(activationBits.ToString(System.Globalization.CultureInfo.InvariantCulture), artifact.GetMetadata("activationBits"));
        // Every layer integer: the elementwise kinds (MobileNetV3's hard-swish Lookups, squeeze-excite Muls, residual
        // Adds) run on the 8-bit kernels at the narrow grid, not as float islands.
        Assert.DoesNotContain(artifact.Layers, l => FloatLayers.IsFloat(l.Kind));
        if (name == "fashion_mobilenetv3")
            foreach (var kind in new[] { LayerKinds.Lookup, LayerKinds.Mul, LayerKinds.Add })
                Assert.Contains(artifact.Layers, l => l.Kind == kind);
        var quantized = artifact.Tensors.Where(t => t.ElementType == ArtifactElementType.U8).ToArray();
        Assert.NotEmpty(quantized);
        Assert.All(quantized, t => Assert.True(t.QMin == 0 && t.QMax == levels - 1, $"{t.Name}: grid [{t.QMin}, {t.QMax}]"));

        var path = $"/project/obj/quantgen/{name}.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(artifact))], GeneratedCodeTests.Options(path));
        var (assembly, _) = GeneratorHarness.Build(GeneratorHarness.Compilation(GeneratedCodeTests.Probe(className)), driver);
        var run = assembly.GetType("Probe")!.GetMethod("Run")!;
        var paths = GeneratedCodeTests.KernelPaths(assembly);
        var simulator = new IntegerSimulator(artifact);
        var (images, _) = FashionMnist.TestSet;
        var used = new HashSet<int>();
        int outside = 0;
        for (int i = 0; i < 60; i++)
        {
            var image = images.AsSpan(i * FashionMnist.Pixels, FashionMnist.Pixels).ToArray();
            var expected = simulator.Run(new Dictionary<string, float[]> { ["image"] = image }, (_, values) =>
            {
                foreach (var q in values)
                {
                    used.Add(q);
                    if (q < 0 || q >= levels) outside++;
                }
            })["logits"];
            foreach (var (pathName, select) in paths)
            {
                select();
                Assert.True(expected.SequenceEqual((float[])run.Invoke(null, [image])!), $"image {i}: the {pathName} path differs from the simulator");
            }
        }
        paths[0].Select();
        output.WriteLine($"{name} W4A{activationBits}: 60 images bit-identical to the simulator on {paths.Length} kernel paths; {used.Count} distinct levels used of {levels}");
        Assert.Equal(0, outside);
        // The whole grid is in use (not a model collapsed onto a few levels), and nothing beyond it.
        Assert.True(used.Count == levels, $"{used.Count} levels used of {levels}");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(9)]
    [InlineData(12)]
    public void OtherWidthsAreAnOptionError(int bits)
    {
        var e = Assert.Throws<QuantGen.Core.ModelException>(() => new QuantizationOptions { ActivationBits = bits }.Validate());
        Assert.Equal(QuantGen.Core.ErrorCodes.InvalidOption, e.Code);
        Assert.Contains("use 3 to 8 or 16", e.Message, StringComparison.Ordinal);
    }
}
