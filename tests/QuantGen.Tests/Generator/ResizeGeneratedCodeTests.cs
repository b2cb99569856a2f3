using QuantGen.Core.Artifact;
using QuantGen.Core.Execution;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;
using QuantGen.Tests.Quantization;
using Xunit.Abstractions;

namespace QuantGen.Tests.Generator;

/// <summary>
/// The quantized bilinear Resize in generated code: between two convolutions (channels-last buffers, 8 channels: the
/// kernel's SIMD form) and on a rank-3 tensor (NCHW, one channel per plane), compiled by the generator and run on every
/// kernel path against the simulator bit for bit, and close to the float model.
/// </summary>
public sealed class ResizeGeneratedCodeTests(ITestOutputHelper output)
{
    private static Model BetweenConvs()
    {
        var g = new SyntheticModels(70);
        g.Node("Conv", "stem", ["x", g.Weights("w0", 8, 3, 3, 3), g.Constant("b0", [8], g.Uniform(8, -0.3f, 0.3f))], "c0", SyntheticModels.Ints("kernel_shape", 3, 3), SyntheticModels.Ints("pads", 1, 1, 1, 1))
            .Node("Relu", "stem_relu", ["c0"], "r0")
            .Node("Resize", "up", ["r0", "", g.Constant("scales", [4], [1, 1, 2, 2])], "u0", SyntheticModels.String("mode", "linear"),
                SyntheticModels.String("coordinate_transformation_mode", "half_pixel"))
            .Node("Conv", "head", ["u0", g.Weights("w1", 4, 8, 3, 3)], "y", SyntheticModels.Ints("kernel_shape", 3, 3), SyntheticModels.Ints("pads", 1, 1, 1, 1));
        return g.Build("resize_between_convs", [1, 3, 5, 6], [1, 4, 10, 12]);
    }

    [Theory]
    [InlineData("between_convs")]
    [InlineData("rank3")]
    public void BilinearResizeMatchesTheSimulatorBitForBitOnEveryPath(string name)
    {
        var model = name == "between_convs" ? BetweenConvs() : ResizeLayerTests.Linear("align_corners", null, [1, 11, 17], [1, 11, 17], [1, 6, 7]);
        int[] inShape = name == "between_convs" ? [1, 3, 5, 6] : [1, 6, 7];
        int count = inShape.Aggregate(1, (a, b) => a * b);
        var artifact = FusedActivationTests.Quantize(model, new SyntheticModels(71).Calibration(inShape, 32, -2, 2));
        Assert.DoesNotContain(artifact.Layers, l => FloatLayers.IsFloat(l.Kind));
        Assert.Contains(artifact.Layers, l => l.Kind == LayerKinds.Resize);
        var className = name == "between_convs" ? "ResizeBetweenConvs" : "ResizeRank3";
        var path = $"/project/obj/quantgen/{name}.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(artifact))], GeneratedCodeTests.Options(path, className));
        var (assembly, result) = GeneratorHarness.Build(GeneratorHarness.Compilation(GeneratedCodeTests.Probe(className)), driver);
        var source = result.GeneratedTrees.Single(t => t.FilePath.EndsWith(className + ".g.cs", StringComparison.Ordinal)).ToString();
        Assert.Contains("QuantGenKernels.ResizeBilinear(", source);
        // Between the convs the buffers are channels-last (8 channels per pixel); the rank-3 tensor is one channel per plane.
        Assert.Contains(name == "between_convs" ? "planes: 1, inH: 5, inW: 6, outH: 10, outW: 12, channels: 8" : "planes: 1, inH: 6, inW: 7, outH: 11, outW: 17, channels: 1", source);

        var run = assembly.GetType("Probe")!.GetMethod("Run")!;
        var paths = GeneratedCodeTests.KernelPaths(assembly);
        var simulator = new IntegerSimulator(artifact);
        var executor = new ReferenceExecutor(model);
        var data = new SyntheticModels(72);
        double signal = 0, noise = 0;
        for (int i = 0; i < 10; i++)
        {
            var x = data.Uniform(count, -2f, 2f);
            var expected = simulator.Run(new Dictionary<string, float[]> { ["x"] = x })["y"];
            foreach (var (pathName, select) in paths)
            {
                select();
                var actual = (float[])run.Invoke(null, [x])!;
                Assert.True(expected.SequenceEqual(actual), $"sample {i}: the {pathName} path differs from the simulator");
            }
            var reference = executor.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(inShape, x) })["y"].ToArray<float>();
            for (int j = 0; j < reference.Length; j++)
            {
                signal += (double)reference[j] * reference[j];
                noise += (double)(reference[j] - expected[j]) * (reference[j] - expected[j]);
            }
        }
        paths[0].Select();
        double sqnr = 10 * Math.Log10(signal / noise);
        long allocated = (long)assembly.GetType("Probe")!.GetMethod("AllocatedBytesPerRun")!.Invoke(null, [data.Uniform(count, -2, 2)])!;
        output.WriteLine($"{name}: 10 samples bit-identical to the simulator on {paths.Length} paths; SQNR against float {sqnr:0.0} dB; {allocated} bytes per Run");
        Assert.Equal(0, allocated);
        Assert.True(sqnr >= 30, $"SQNR {sqnr:0.0} dB");
    }
}
