extern alias generator;
using generator::QuantGen.Generator;
using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using QuantGen.Tests.Data;
using Xunit.Abstractions;
using GeneratorArtifactText = generator::QuantGen.Core.Artifact.ArtifactText;

namespace QuantGen.Tests.Generator;

/// <summary>
/// Sub-8-bit weights stored packed in the generated class (docs/generator.md, "Packed sub-8-bit weights"): the classes
/// of real models quantized at W4 and W2 compute what the simulator computes, bit for bit, on every kernel path, and
/// their weight data takes bits/8 bytes per weight.
/// </summary>
public sealed class PackedWeightsGeneratedTests(ITestOutputHelper output)
{
    // Without AdaRound (which does not change what is stored, only which integers): a quicker build of the same kind of artifact.
    private static QuantizationOptions Options(int bits) =>
        new() { WeightBits = bits, Algorithms = QuantizationAlgorithms.Cle | QuantizationAlgorithms.BiasAbsorption | QuantizationAlgorithms.BiasCorrection };

    [Theory]
    [InlineData("fashion_cnn", "FashionCnn", 4)]
    [InlineData("fashion_mobilenet", "FashionMobilenet", 2)]
    public void PackedClassMatchesTheSimulatorBitForBit(string name, string className, int bits)
    {
        var artifact = GeneratedCodeTests.QuantizeFashion(name, Options(bits));
        var path = $"/project/obj/quantgen/{name}.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(artifact))], GeneratedCodeTests.Options(path));
        var (assembly, result) = GeneratorHarness.Build(GeneratorHarness.Compilation(GeneratedCodeTests.Probe(className)), driver);
        var source = result.GeneratedTrees.Single(t => t.FilePath.EndsWith($"{className}.g.cs", StringComparison.Ordinal)).ToString();
        // Each Conv/FullyConnected layer is stored at the width its integers need: 2 bits within ±1, 4 within ±7, else 8.
        var widths = artifact.Layers.Where(l => l.Kind is LayerKinds.Conv or LayerKinds.FullyConnected)
            .Select(l => l.GetBlob("weights").Values.Max(Math.Abs)).Select(max => max <= 1 ? 2 : max <= 7 ? 4 : 8).ToList();
        output.WriteLine($"{name} W{bits}: stored widths {string.Join(" ", widths)}");
        Assert.Contains(bits, widths);
        // Conv/FullyConnected kernels read their packed weights as stored (the form their type argument); the depthwise
        // kernels read int8 weights unpacked once, when the class is first used, into a static array per layer.
        var depthwise = artifact.Layers.Where(l => l.Kind is LayerKinds.Conv or LayerKinds.FullyConnected)
            .Select(l => l.Kind == LayerKinds.Conv && l.GetInt("group") > 1 && l.GetInt("group") == artifact.GetTensor(l.Outputs[0]).Shape[1]).ToList();
        int packedDepthwise = widths.Where((b, i) => b < 8 && depthwise[i]).Count();
        Assert.Equal(widths.Count(b => b < 8) - packedDepthwise,
            CountOf(source, "QuantGenKernels.NibbleWeights>(") + CountOf(source, "QuantGenKernels.CrumbWeights>("));
        Assert.Equal(packedDepthwise, CountOf(source, "QuantGenKernels.UnpackWeights("));
        Assert.Equal(packedDepthwise, CountOf(source, "Unpacked = global::QuantGen.Generated.QuantGenKernels.UnpackWeights("));
        Assert.DoesNotContain("_weights", source, StringComparison.Ordinal);
        output.WriteLine($"{name} W{bits}: {widths.Count(b => b < 8) - packedDepthwise} packed layers read as stored, {packedDepthwise} depthwise unpacked once into statics");
        Assert.Equal(widths.Count(b => b == 4), CountOf(source, "stored 4 bits each"));
        Assert.Equal(widths.Count(b => b == 2), CountOf(source, "stored 2 bits each"));
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
                var actual = (float[])run.Invoke(null, [image])!;
                Assert.True(expected.SequenceEqual(actual), $"image {i}: the {pathName} path differs from the simulator");
            }
        }
        paths[0].Select();
        long allocated = (long)assembly.GetType("Probe")!.GetMethod("AllocatedBytesPerRun")!.Invoke(null, [images[..FashionMnist.Pixels]])!;
        output.WriteLine($"{name} W{bits}: 100 images bit-identical to the simulator on {paths.Length} paths; {allocated} bytes allocated per Run");
        Assert.Equal(0, allocated);
    }

    private static int CountOf(string text, string part)
    {
        int count = 0;
        for (int at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal)) count++;
        return count;
    }

    /// <summary>
    /// The static data of the generated class (every constant blob: weights, bias, scales) and of its weights alone, for
    /// the fashion models at W8, W4 and W2: the weights take at most parameters · bits / 8 bytes plus one zero-padded
    /// 32-weight block per layer (the parameters counted in the artifact, after the kernels' padding to 4 and 8).
    /// </summary>
    [Theory]
    [InlineData("fashion_cnn")]
    [InlineData("fashion_mobilenet")]
    public void WeightDataTakesBitsOverEightBytesPerWeight(string name)
    {
        long w8 = 0;
        foreach (int bits in new[] { 8, 4, 2 })
        {
            var artifact = GeneratedCodeTests.QuantizeFashion(name, Options(bits));
            var plan = ModelPlanner.Plan(GeneratorArtifactText.Read(ArtifactText.Write(artifact)), new EmitPlan("Demo.Models", "Model", "public sealed partial class"));
            var data = plan.Data.Select(d => (d.Member, Bytes: (long)BlobEmbedding.Bytes(d.Blob).Length)).ToList();
            var weights = data.Where(d => d.Member.EndsWith("Weights", StringComparison.Ordinal)).ToList();
            long weightBytes = weights.Sum(d => d.Bytes), total = data.Sum(d => d.Bytes);
            long parameters = artifact.Layers.Where(l => l.Kind is LayerKinds.Conv or LayerKinds.FullyConnected).Sum(l => (long)l.GetBlob("weights").Values.Count);
            output.WriteLine($"{name} W{bits}: {parameters} weights; weight data {weightBytes} bytes in {weights.Count} blobs; all static data {total} bytes");
            if (bits == 8) w8 = weightBytes;
            else Assert.InRange(weightBytes, 1, w8 * bits / 8 + weights.Count * 4 * bits);
        }
    }
}
