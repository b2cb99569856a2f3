using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;
using QuantGen.Tests.Quantization;
using Xunit.Abstractions;

namespace QuantGen.Tests.Generator;

/// <summary>
/// A MobileNetV3-style block in miniature, as exporters write it (hard-swish decomposed into Add/Clip/Mul/Div,
/// squeeze-excitation as GlobalAveragePool → Conv → Relu → Conv → HardSigmoid → Mul, a Concat, constants), compiled
/// by the generator and run on every kernel path against the simulator, bit for bit, NHWC inside.
/// </summary>
public sealed class ElementwiseGeneratedCodeTests(ITestOutputHelper output)
{
    internal static Model MobileBlock()
    {
        var g = new SyntheticModels(50);
        string three = g.Constant("three", [], [3f]), six = g.Constant("six", [], [6f]), zero = g.Constant("zero", [], [0f]);
        g.Node("Conv", "stem", ["x", g.Weights("w0", 8, 3, 3, 3), g.Constant("b0", [8], g.Uniform(8, -0.5f, 0.5f))], "c0", SyntheticModels.Ints("kernel_shape", 3, 3), SyntheticModels.Ints("pads", 1, 1, 1, 1))
            .Node("Add", "hs_add", ["c0", three], "a0").Node("Clip", "hs_clip", ["a0", zero, six], "r0").Node("Mul", "hs_mul", ["c0", "r0"], "m0").Node("Div", "hs_div", ["m0", six], "h0")
            .Node("GlobalAveragePool", "se_pool", ["h0"], "p0")
            .Node("Conv", "se_reduce", ["p0", g.Weights("w1", 4, 8, 1, 1)], "q0").Node("Relu", "se_relu", ["q0"], "q1")
            .Node("Conv", "se_expand", ["q1", g.Weights("w2", 8, 4, 1, 1)], "e0").Node("HardSigmoid", "se_gate", ["e0"], "e1", SyntheticModels.Float("alpha", 1f / 6))
            .Node("Mul", "se_scale", ["h0", "e1"], "s0")
            .Node("Conv", "branch", ["x", g.Weights("w3", 4, 3, 1, 1)], "b1").Node("Tanh", "branch_tanh", ["b1"], "b2")
            .Node("Concat", "join", ["s0", "b2"], "j0", SyntheticModels.Int("axis", 1))
            .Node("Mul", "bn_scale", ["j0", g.Constant("k", [12, 1, 1], g.Uniform(12, 0.5f, 1.5f))], "j1")
            .Node("Add", "bn_shift", ["j1", g.Constant("o", [1, 12, 1, 1], g.Uniform(12, -0.5f, 0.5f))], "j2")
            .Node("Conv", "head", ["j2", g.Weights("w4", 5, 12, 1, 1)], "y");
        return g.Build("mobile_block", [1, 3, 8, 8], [1, 5, 8, 8]);
    }

    [Fact]
    public void MobileBlockMatchesTheSimulatorBitForBitOnEveryPath()
    {
        var calibration = new SyntheticModels(51).Calibration([1, 3, 8, 8], 32, -2, 2);
        var artifact = FusedActivationTests.Quantize(MobileBlock(), calibration);
        Assert.Equal(
            [LayerKinds.Quantize, LayerKinds.Conv, LayerKinds.Lookup, LayerKinds.AveragePool, LayerKinds.Conv, LayerKinds.Conv, LayerKinds.Lookup, LayerKinds.Mul,
             LayerKinds.Conv, LayerKinds.Lookup, LayerKinds.Concat, LayerKinds.Affine, LayerKinds.Conv, LayerKinds.Dequantize],
            artifact.Layers.Select(l => l.Kind));
        var path = "/project/obj/quantgen/mobile_block.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(artifact))], GeneratedCodeTests.Options(path));
        var (assembly, result) = GeneratorHarness.Build(GeneratorHarness.Compilation(GeneratedCodeTests.Probe("MobileBlock")), driver);
        var source = result.GeneratedTrees.Single(t => t.FilePath.EndsWith("MobileBlock.g.cs", StringComparison.Ordinal)).ToString();
        // NHWC inside: the squeeze-excitation scale is indexed by channel (inner 1), the constants too, Concat per pixel.
        Assert.Contains("QuantGenKernels.Mul(", source);
        Assert.Contains("inner: 1, channels: 8, period: 512", source);
        Assert.Contains("channels: 12, inner: 1", source);
        Assert.Contains("QuantGenKernels.ConcatPart(", source);
        Assert.Contains("outer: 64, chunk: 8, stride: 12, offset: 0", source);
        Assert.Contains("QuantGenKernels.Lookup(", source);

        var run = assembly.GetType("Probe")!.GetMethod("Run")!;
        var paths = GeneratedCodeTests.KernelPaths(assembly);
        var simulator = new IntegerSimulator(artifact);
        var data = new SyntheticModels(52);
        for (int i = 0; i < 40; i++)
        {
            var x = data.Uniform(192, -2.5f, 2.5f);
            var expected = simulator.Run(new Dictionary<string, float[]> { ["x"] = x })["y"];
            foreach (var (pathName, select) in paths)
            {
                select();
                var actual = (float[])run.Invoke(null, [x])!;
                Assert.True(expected.SequenceEqual(actual), $"sample {i}: the {pathName} path differs from the simulator");
            }
        }
        paths[0].Select();
        long allocated = (long)assembly.GetType("Probe")!.GetMethod("AllocatedBytesPerRun")!.Invoke(null, [data.Uniform(192, -2, 2)])!;
        output.WriteLine($"mobile_block: 40 samples bit-identical to the simulator on {paths.Length} paths; {allocated} bytes per Run");
        Assert.Equal(0, allocated);
    }
}
