using QuantGen.Core.Artifact;
using QuantGen.Core.Execution;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;
using QuantGen.Tests.Quantization;
using Xunit.Abstractions;

namespace QuantGen.Tests.Generator;

/// <summary>
/// A DB-style upsampling head in miniature with every data-movement layer between channels-last convolutions: Pad,
/// Resize nearest, a strided ConvTranspose (Remap + Conv), Concat, a general Transpose, and a 1-D Conv. Quantized
/// without any float layer, compiled by the generator and run on every kernel path against the simulator bit for bit
/// (the Remap maps permuted to NHWC buffers at generation time), and close to the float model.
/// </summary>
public sealed class DataMovementGeneratedCodeTests(ITestOutputHelper output)
{
    internal static Model UpsamplingBlock()
    {
        var g = new SyntheticModels(60);
        g.Node("Conv", "stem", ["x", g.Weights("w0", 8, 3, 3, 3), g.Constant("b0", [8], g.Uniform(8, -0.3f, 0.3f))], "c0", SyntheticModels.Ints("kernel_shape", 3, 3), SyntheticModels.Ints("pads", 1, 1, 1, 1))
            .Node("Relu", "stem_relu", ["c0"], "r0")
            .Node("Pad", "pad", ["r0", g.ConstantInt64s("pads", 0, 0, 1, 1, 0, 0, 1, 1)], "p0")
            .Node("Conv", "mid", ["p0", g.Weights("w1", 8, 8, 3, 3)], "c1", SyntheticModels.Ints("kernel_shape", 3, 3))
            .Node("Resize", "up_nearest", ["c1", "", g.Constant("scales", [4], [1, 1, 2, 2])], "u0", SyntheticModels.String("mode", "nearest"),
                SyntheticModels.String("coordinate_transformation_mode", "asymmetric"), SyntheticModels.String("nearest_mode", "floor"))
            .Node("ConvTranspose", "up_transposed", ["c1", g.Weights("wt", 8, 4, 2, 2), g.Constant("bt", [4], g.Uniform(4, -0.2f, 0.2f))], "t0",
                SyntheticModels.Ints("kernel_shape", 2, 2), SyntheticModels.Ints("strides", 2, 2))
            .Node("Relu", "up_relu", ["t0"], "t1")
            .Node("Concat", "join", ["u0", "t1"], "j0", SyntheticModels.Int("axis", 1))
            .Node("Transpose", "swap", ["j0"], "s0", SyntheticModels.Ints("perm", 0, 1, 3, 2))
            .Node("Conv", "head", ["s0", g.Weights("w2", 6, 12, 1, 1)], "h0")
            .Node("Reshape", "rows", ["h0", g.ConstantInt64s("rows_shape", 1, 6, 144)], "q0")
            .Node("Conv", "temporal", ["q0", g.Weights("w3", 5, 6, 3), g.Constant("b3", [5], g.Uniform(5, -0.2f, 0.2f))], "y", SyntheticModels.Ints("kernel_shape", 3), SyntheticModels.Ints("pads", 1, 1));
        return g.Build("upsampling_block", [1, 3, 6, 6], [1, 5, 144]);
    }

    [Fact]
    public void UpsamplingBlockMatchesTheSimulatorBitForBitOnEveryPath()
    {
        var model = UpsamplingBlock();
        var artifact = FusedActivationTests.Quantize(model, new SyntheticModels(61).Calibration([1, 3, 6, 6], 32, -2, 2));
        Assert.DoesNotContain(artifact.Layers, l => FloatLayers.IsFloat(l.Kind));
        Assert.Equal(
            [LayerKinds.Quantize, LayerKinds.Conv, LayerKinds.Remap, LayerKinds.Conv, LayerKinds.Remap, LayerKinds.Remap, LayerKinds.Conv, LayerKinds.Concat, LayerKinds.Remap,
             LayerKinds.Conv, LayerKinds.Reshape, LayerKinds.Reshape, LayerKinds.Conv, LayerKinds.Reshape, LayerKinds.Dequantize],
            artifact.Layers.Select(l => l.Kind));
        var path = "/project/obj/quantgen/upsampling_block.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(artifact))], GeneratedCodeTests.Options(path));
        var (assembly, result) = GeneratorHarness.Build(GeneratorHarness.Compilation(GeneratedCodeTests.Probe("UpsamplingBlock")), driver);
        var source = result.GeneratedTrees.Single(t => t.FilePath.EndsWith("UpsamplingBlock.g.cs", StringComparison.Ordinal)).ToString();
        Assert.Contains("QuantGenKernels.Remap(", source);
        // The maps with row structure are stored as templates and rebuilt once (RemapRows), so that path is compared too.
        Assert.Contains("QuantGenKernels.RemapRows(", source);

        var run = assembly.GetType("Probe")!.GetMethod("Run")!;
        var paths = GeneratedCodeTests.KernelPaths(assembly);
        var simulator = new IntegerSimulator(artifact);
        var executor = new ReferenceExecutor(model);
        var data = new SyntheticModels(62);
        double signal = 0, noise = 0;
        for (int i = 0; i < 20; i++)
        {
            var x = data.Uniform(108, -2f, 2f);
            var expected = simulator.Run(new Dictionary<string, float[]> { ["x"] = x })["y"];
            foreach (var (pathName, select) in paths)
            {
                select();
                var actual = (float[])run.Invoke(null, [x])!;
                Assert.True(expected.SequenceEqual(actual), $"sample {i}: the {pathName} path differs from the simulator");
            }
            var reference = executor.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray([1, 3, 6, 6], x) })["y"].ToArray<float>();
            for (int j = 0; j < reference.Length; j++)
            {
                signal += (double)reference[j] * reference[j];
                noise += (double)(reference[j] - expected[j]) * (reference[j] - expected[j]);
            }
        }
        paths[0].Select();
        double sqnr = 10 * Math.Log10(signal / noise);
        long allocated = (long)assembly.GetType("Probe")!.GetMethod("AllocatedBytesPerRun")!.Invoke(null, [data.Uniform(108, -2, 2)])!;
        output.WriteLine($"upsampling_block: 20 samples bit-identical to the simulator on {paths.Length} paths; SQNR against float {sqnr:0.0} dB; {allocated} bytes per Run");
        Assert.True(sqnr > 25, $"SQNR {sqnr:0.0} dB against the float model");
        Assert.Equal(0, allocated);
    }
}
