using Google.Protobuf;
using QuantGen.Core.Artifact;
using QuantGen.Core.Execution;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;
using QuantGen.Tests.BadInput;
using QuantGen.Tests.Quantization;
using QuantGen.Tests.RealModels;
using Xunit.Abstractions;

namespace QuantGen.Tests.Generator;

/// <summary>
/// Broadcast elementwise ops between computed tensors (issue 17) in one small graph: spatial attention
/// <c>c · Sigmoid(Conv(c))</c> with a [N,1,H,W] gate, a broadcast Add of [1,C,1,W] row means, an explicit Expand feeding
/// a Sub, and a Mul of [1,C,1,1] by [1,1,H,W] (both operands broadcast). Quantized without a float layer, compiled by
/// the generator and run on every kernel path against the simulator bit for bit, and close to ONNX Runtime float.
/// </summary>
public sealed class BroadcastGeneratedCodeTests(ITestOutputHelper output)
{
    private static SyntheticModels AttentionBlock()
    {
        var g = new SyntheticModels(80);
        g.Node("Conv", "stem", ["x", g.Weights("w0", 8, 3, 3, 3), g.Constant("b0", [8], g.Uniform(8, -0.3f, 0.3f))], "c0", SyntheticModels.Ints("kernel_shape", 3, 3), SyntheticModels.Ints("pads", 1, 1, 1, 1))
            .Node("Relu", "stem_relu", ["c0"], "c")
            .Node("Conv", "gate_conv", ["c", g.Weights("w1", 1, 8, 3, 3)], "g0", SyntheticModels.Ints("kernel_shape", 3, 3), SyntheticModels.Ints("pads", 1, 1, 1, 1))
            .Node("Sigmoid", "gate", ["g0"], "g")
            .Node("Mul", "attend", ["c", "g"], "sa") // [1,8,8,8] × [1,1,8,8]
            .Node("AveragePool", "row_mean", ["sa"], "r", SyntheticModels.Ints("kernel_shape", 8, 1))
            .Node("Add", "add_rows", ["r", "sa"], "ad") // [1,8,1,8] + [1,8,8,8]
            .Node("GlobalAveragePool", "pool", ["c"], "p")
            .Node("Expand", "expand", ["p", g.ConstantInt64s("shape", 1, 8, 8, 8)], "e")
            .Node("Sub", "center", ["ad", "e"], "sb")
            .Node("Mul", "outer", ["g", "p"], "m2") // [1,1,8,8] × [1,8,1,1]
            .Node("Add", "join", ["sb", "m2"], "t")
            .Node("Conv", "head", ["t", g.Weights("w2", 4, 8, 1, 1)], "y");
        return g;
    }

    [Fact]
    public void AttentionBlockMatchesTheSimulatorBitForBitOnEveryPathAndOnnxRuntimeFloat()
    {
        var g = AttentionBlock();
        var model = g.Build("attention_block", [1, 3, 8, 8], [1, 4, 8, 8]);
        var artifact = FusedActivationTests.Quantize(model, new SyntheticModels(81).Calibration([1, 3, 8, 8], 32, -2, 2));
        Assert.DoesNotContain(artifact.Layers, l => FloatLayers.IsFloat(l.Kind));
        // The gate expanded for 'attend', the row means for 'add_rows', the Expand node, the gate again for 'outer' (p kept as its trailing operand).
        Assert.Equal(4, artifact.Layers.Count(l => l.Kind == LayerKinds.Remap));
        Assert.Equal(["attend", "outer"], artifact.Layers.Where(l => l.Kind == LayerKinds.Mul).Select(l => l.Name));
        Assert.Equal(["add_rows", "center", "join"], artifact.Layers.Where(l => l.Kind == LayerKinds.Add).Select(l => l.Name));

        var path = "/project/obj/quantgen/attention_block.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(artifact))], GeneratedCodeTests.Options(path));
        var (assembly, result) = GeneratorHarness.Build(GeneratorHarness.Compilation(GeneratedCodeTests.Probe("AttentionBlock")), driver);
        var source = result.GeneratedTrees.Single(t => t.FilePath.EndsWith("AttentionBlock.g.cs", StringComparison.Ordinal)).ToString();
        Assert.Contains("QuantGenKernels.Remap(", source);
        Assert.Contains("QuantGenKernels.Mul(", source);

        var onnx = Path.Combine(Path.GetTempPath(), $"quantgen-attention-block-{Environment.ProcessId}.onnx");
        File.WriteAllBytes(onnx, AttentionBlock().Proto("attention_block", ModelBuilder.Value("x", [1, 3, 8, 8]), ModelBuilder.Value("y", [1, 4, 8, 8])).ToByteArray());
        try
        {
            using var oracle = new OnnxRuntimeOracle(onnx);
            var run = assembly.GetType("Probe")!.GetMethod("Run")!;
            var paths = GeneratedCodeTests.KernelPaths(assembly);
            var simulator = new IntegerSimulator(artifact);
            var executor = new ReferenceExecutor(model);
            var data = new SyntheticModels(82);
            double signal = 0, noise = 0, worstFloat = 0;
            for (int i = 0; i < 20; i++)
            {
                var x = data.Uniform(192, -2f, 2f);
                var expected = simulator.Run(new Dictionary<string, float[]> { ["x"] = x })["y"];
                foreach (var (pathName, select) in paths)
                {
                    select();
                    var actual = (float[])run.Invoke(null, [x])!;
                    Assert.True(expected.SequenceEqual(actual), $"sample {i}: the {pathName} path differs from the simulator");
                }
                var ort = oracle.Run("x", x, [1, 3, 8, 8])["y"];
                var reference = executor.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray([1, 3, 8, 8], x) })["y"].ToArray<float>();
                for (int j = 0; j < ort.Length; j++)
                {
                    worstFloat = Math.Max(worstFloat, Math.Abs(ort[j] - reference[j]));
                    signal += (double)ort[j] * ort[j];
                    noise += (double)(ort[j] - expected[j]) * (ort[j] - expected[j]);
                }
            }
            paths[0].Select();
            double sqnr = 10 * Math.Log10(signal / noise);
            long allocated = (long)assembly.GetType("Probe")!.GetMethod("AllocatedBytesPerRun")!.Invoke(null, [data.Uniform(192, -2, 2)])!;
            output.WriteLine($"attention_block: 20 samples bit-identical to the simulator on {paths.Length} paths; SQNR against ONNX Runtime float {sqnr:0.0} dB; " +
                $"reference executor within {worstFloat:G3} of ONNX Runtime; {allocated} bytes per Run");
            Assert.True(worstFloat < 1e-4, $"the reference executor differs from ONNX Runtime by {worstFloat}");
            Assert.True(sqnr > 25, $"SQNR {sqnr:0.0} dB against the float model");
            Assert.Equal(0, allocated);
        }
        finally
        {
            File.Delete(onnx);
        }
    }
}
