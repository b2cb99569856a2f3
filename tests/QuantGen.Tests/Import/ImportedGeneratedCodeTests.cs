using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using QuantGen.Tests.Data;
using QuantGen.Tests.Generator;
using Xunit.Abstractions;

namespace QuantGen.Tests.Import;

/// <summary>
/// The generated class of an imported QAT model equals the integer simulator on every kernel path: PyTorch's symmetric
/// int8 weights reach −128, which the AVX2 kernels' exact forms must take (docs/generator.md "Without VNNI").
/// </summary>
public sealed class ImportedGeneratedCodeTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("fashion_cnn_qat", "FashionCnnQat")]
    [InlineData("fashion_mobilenet_qat", "FashionMobilenetQat")]
    public void GeneratedClassOfAnImportedModelMatchesTheSimulator(string name, string className)
    {
        var artifact = QdqImportTests.Import(name);
        int minWeight = artifact.Layers.Where(l => l.HasBlob("weights")).Min(l => l.GetBlob("weights").Values.AsArray().Min());
        var path = $"/project/obj/quantgen/{name}.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(artifact))], GeneratedCodeTests.Options(path));
        var (assembly, _) = GeneratorHarness.Build(GeneratorHarness.Compilation(GeneratedCodeTests.Probe(className)), driver);
        var run = assembly.GetType("Probe")!.GetMethod("Run")!;
        var paths = GeneratedCodeTests.KernelPaths(assembly);
        var simulator = new IntegerSimulator(artifact);
        var (images, _) = FashionMnist.TestSet;
        for (int i = 0; i < 100; i++)
        {
            var image = images.AsSpan(i * FashionMnist.Pixels, FashionMnist.Pixels).ToArray();
            var expected = simulator.Run(new Dictionary<string, float[]> { ["image"] = image })["logits"];
            foreach (var (pathName, select) in paths)
            {
                select();
                Assert.True(expected.SequenceEqual((float[])run.Invoke(null, [image])!), $"image {i}: the {pathName} path differs from the simulator");
            }
        }
        paths[0].Select();
        output.WriteLine($"{name}: 100 images bit-identical to the simulator on {paths.Length} kernel paths; smallest weight {minWeight}");
    }
}
