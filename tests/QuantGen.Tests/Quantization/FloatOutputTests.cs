using Microsoft.CodeAnalysis.CSharp;
using QuantGen.Core.Artifact;
using QuantGen.Core.Execution;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;
using QuantGen.Tests.Generator;
using Xunit.Abstractions;
using static QuantGen.Tests.Quantization.SyntheticModels;

namespace QuantGen.Tests.Quantization;

/// <summary>
/// Float outputs (docs/artifact.md, "Float outputs"): a Conv or FullyConnected that only float layers read writes f32
/// (its accumulators dequantized, no u8 step); data movement that only float layers read moves float values, so that
/// its producer can write float too. A value that any quantized layer reads, or that is a graph output, keeps its grid.
/// </summary>
public sealed class FloatOutputTests(ITestOutputHelper output)
{
    private static QuantizationResult Quantize(Model model, int[] shape, int weightBits = 8) =>
        ModelQuantizer.Quantize(model, new QuantizationOptions { WeightBits = weightBits }, new SyntheticModels(40).Calibration(shape, 32, -2, 2),
            [new ArtifactMetadata("source", $"Models/{model.Path}")]);

    private static ArtifactLayer Producer(QuantizedArtifact artifact, string name) => artifact.Layers.Single(l => l.Name == name);

    private static ArtifactElementType OutputType(QuantizedArtifact artifact, string layer) =>
        artifact.GetTensor(Producer(artifact, layer).Outputs[0]).ElementType;

    /// <summary>x [1,4,8] → MatMul (constant weights) → Transpose → Softmax at the output → y [1,8,4].</summary>
    private static Model ProjectionTransposeSoftmax()
    {
        var g = new SyntheticModels(51);
        g.Node("MatMul", "proj", ["x", g.Weights("wq", 8, 8)], "q")
            .Node("Transpose", "qt", ["q"], "t", Ints("perm", 0, 2, 1))
            .Node("Softmax", "attn", ["t"], "y", Int("axis", -1));
        return g.Build("projection", [1, 4, 8], [1, 8, 4]);
    }

    /// <summary>
    /// x [1,2,6,5] → Conv → Relu → r; Abs(r) (float) and r both feed a Mul (quantized) → Conv → y: r has a quantized
    /// reader, so the first Conv keeps its u8 output (the near miss).
    /// </summary>
    private static Model ReadInFloatAndQuantized()
    {
        var g = new SyntheticModels(52);
        g.Node("Conv", "conv1", ["x", g.Weights("w1", 4, 2, 3, 3)], "c1", Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1))
            .Node("Relu", "relu1", ["c1"], "r")
            .Node("Abs", "magnitude", ["r"], "a")
            .Node("Mul", "gate", ["a", "r"], "m")
            .Node("Conv", "conv2", ["m", g.Weights("w2", 3, 4, 3, 3)], "y", Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1));
        return g.Build("near_miss", [1, 2, 6, 5], [1, 3, 6, 5]);
    }

    [Fact]
    public void AConvReadOnlyByFloatLayersWritesFloatWithItsReluBounds()
    {
        var (model, shape) = FloatIslandTests.Island("island_middle");
        var result = Quantize(model, shape);
        var artifact = result.Artifact;
        var conv = Producer(artifact, "conv1");
        // The report's row says the output is float, with no grid (scale and zero point cells).
        Assert.Contains(result.ReportMarkdown.Split('\n'), line => line.StartsWith("| conv1 |", StringComparison.Ordinal) && line.Contains("| float32 |  |", StringComparison.Ordinal));
        Assert.Equal(ArtifactElementType.F32, artifact.GetTensor(conv.Outputs[0]).ElementType);
        Assert.Equal([0f, float.MaxValue], conv.GetFloats("bounds"));
        Assert.False(conv.HasInts("clamp"));
        // No u8 value and no Dequantize is left between it and the float ReduceMean/Sub.
        Assert.Equal("r1@f32", conv.Outputs[0]);
        Assert.DoesNotContain(artifact.Tensors, t => t.Name == "r1");
        Assert.DoesNotContain(artifact.Layers, l => l.Kind == LayerKinds.Dequantize && l.Inputs[0] == "r1");
        // The text format keeps it (read back identical).
        Assert.Equal(ArtifactText.Write(artifact), ArtifactText.Write(ArtifactText.Read(ArtifactText.Write(artifact))));
    }

    [Fact]
    public void AValueWithAQuantizedReaderOrAtTheOutputKeepsItsGrid()
    {
        var nearMiss = Quantize(ReadInFloatAndQuantized(), [1, 2, 6, 5]).Artifact;
        Assert.Equal(ArtifactElementType.U8, OutputType(nearMiss, "conv1"));
        Assert.Contains(nearMiss.Layers, l => l.Kind == LayerKinds.Mul);
        // island_start: the Conv is the graph output (the model's last layer keeps its grid and Dequantize).
        var (model, shape) = FloatIslandTests.Island("island_start");
        var atOutput = Quantize(model, shape).Artifact;
        Assert.Equal(ArtifactElementType.U8, OutputType(atOutput, "conv"));
        Assert.Contains(atOutput.Layers, l => l.Kind == LayerKinds.Dequantize);
        // attention: proj's output q is also read by the quantized Concat, so it stays u8; its Transpose, read only by
        // the float Q·Qᵀ MatMul, moves float values.
        var (attention, attentionShape) = FloatIslandTests.Island("attention");
        var mixed = Quantize(attention, attentionShape).Artifact;
        Assert.Equal(ArtifactElementType.U8, OutputType(mixed, "proj"));
        Assert.Equal("Float.Transpose", Producer(mixed, "qt").Kind);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(4)]
    public void AProjectionReachingAFloatSoftmaxThroughATransposeWritesFloat(int weightBits)
    {
        var model = ProjectionTransposeSoftmax();
        int[] shape = [1, 4, 8];
        var artifact = Quantize(model, shape, weightBits).Artifact;
        Assert.Equal(LayerKinds.FullyConnected, Producer(artifact, "proj").Kind);
        Assert.Equal(ArtifactElementType.F32, OutputType(artifact, "proj"));
        Assert.Equal("Float.Transpose", Producer(artifact, "qt").Kind);
        Assert.DoesNotContain(artifact.Layers, l => l.Kind == LayerKinds.Dequantize);

        // The generated class (every kernel path) equals the simulator bit for bit, and both follow the float model.
        var path = $"/project/obj/quantgen/projection{weightBits}.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(artifact))],
            GeneratedCodeTests.Options(path, "Model"), LanguageVersion.CSharp9);
        var (assembly, run) = GeneratorHarness.Build(GeneratorHarness.Compilation(FusedActivationKernelTests.Probe, LanguageVersion.CSharp9), driver);
        Assert.Contains(run.GeneratedTrees, t => t.ToString().Contains("QuantGenKernels.FullyConnectedPackedToFloat", StringComparison.Ordinal));
        var probe = assembly.GetType("Probe")!.GetMethod("Run")!.CreateDelegate<Func<float[], float[]>>();
        var simulator = new IntegerSimulator(artifact);
        var executor = new ReferenceExecutor(model);
        var data = new SyntheticModels(53);
        double signal = 0, noise = 0;
        for (int i = 0; i < 20; i++)
        {
            var x = data.Uniform(32, -2, 2);
            var expected = simulator.Run(new Dictionary<string, float[]> { ["x"] = x })["y"];
            foreach (var (name, select) in GeneratedCodeTests.KernelPaths(assembly))
            {
                select();
                Assert.True(expected.SequenceEqual(probe(x)), $"{name} path differs from the simulator");
            }
            var reference = executor.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(shape, x) })["y"].ToFloatArray();
            for (int j = 0; j < reference.Length; j++)
            {
                signal += (double)reference[j] * reference[j];
                noise += Math.Pow(reference[j] - expected[j], 2);
            }
        }
        double sqnr = 10 * Math.Log10(signal / noise);
        output.WriteLine($"W{weightBits}: softmax SQNR against the float model {sqnr:F1} dB");
        Assert.True(sqnr > (weightBits == 8 ? 30 : 15), $"SQNR {sqnr:F1} dB");
    }
}
