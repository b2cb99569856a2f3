using Microsoft.CodeAnalysis.CSharp;
using QuantGen.Core;
using QuantGen.Core.Artifact;
using QuantGen.Core.Execution;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;
using QuantGen.Tests.Quantization;
using Xunit.Abstractions;
using static QuantGen.Tests.Quantization.SyntheticModels;

namespace QuantGen.Tests.Generator;

/// <summary>
/// Float islands: nodes with no quantized kernel run in float (Float.OP layers) at the start, in the middle, at the end
/// of a graph and between two quantized layers; the generated class (C# 9) computes exactly what the integer
/// simulator computes, which runs those layers through the reference operators or, for the kernels with their own
/// transcendental functions and summation order, through those kernels.
/// </summary>
public sealed class FloatIslandTests(ITestOutputHelper output)
{
    /// <summary>x [1,2,6,5] → Abs → Pow 2 → Div by a computed Add (float island at the start) → Conv 3×3 → Relu → y [1,3,6,5].</summary>
    internal static Model IslandAtStart()
    {
        var g = new SyntheticModels(11);
        g.Node("Abs", "abs", ["x"], "a")
            .Node("Pow", "pow", ["a", g.Constant("two", [], [2f])], "p")
            .Node("Add", "plus_one", ["a", g.Constant("one", [1, 2, 1, 1], [1f, 0.5f])], "d")
            .Node("Div", "div", ["p", "d"], "q")
            .Node("Conv", "conv", ["q", g.Weights("w", 3, 2, 3, 3)], "c", Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1))
            .Node("Relu", "relu", ["c"], "y");
        return g.Build("island_start", [1, 2, 6, 5], [1, 3, 6, 5]);
    }

    /// <summary>
    /// x [1,2,6,5] → Conv → Relu → Sub of the ReduceMean over channels → general Transpose → Mul by a broadcast [1,4,1,1]
    /// constant (the float island between two quantized layers; the Transpose moves float values, so it stays in it) →
    /// Conv → y [1,3,5,6].
    /// </summary>
    internal static Model IslandInTheMiddle()
    {
        var g = new SyntheticModels(12);
        g.Node("Conv", "conv1", ["x", g.Weights("w1", 4, 2, 3, 3)], "c1", Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1))
            .Node("Relu", "relu1", ["c1"], "r1")
            .Node("ReduceMean", "mean_c", ["r1"], "m", Ints("axes", 1))
            .Node("Sub", "center", ["r1", "m"], "s")
            .Node("Transpose", "swap_hw", ["s"], "t", Ints("perm", 0, 1, 3, 2))
            .Node("Mul", "scale", ["t", g.Constant("gain", [1, 4, 1, 1], g.Uniform(4, 0.5f, 2f))], "u")
            .Node("Conv", "conv2", ["u", g.Weights("w2", 3, 4, 3, 3)], "y", Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1));
        return g.Build("island_middle", [1, 2, 6, 5], [1, 3, 5, 6]);
    }

    /// <summary>x [1,2,6,5] → Conv → Softmax over the channels (axis 1, not the last: no edge kernel) → Slice of rows 1..4 → y [1,3,3,5].</summary>
    internal static Model IslandAtTheEnd()
    {
        var g = new SyntheticModels(13);
        g.Node("Conv", "conv", ["x", g.Weights("w", 3, 2, 3, 3)], "c", Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1))
            .Node("Softmax", "softmax_c", ["c"], "s", Int("axis", 1))
            .Node("Slice", "rows", ["s", Int64("starts", 1), Int64("ends", 4), Int64("axes", 2)], "y");
        return g.Build("island_end", [1, 2, 6, 5], [1, 3, 3, 5]);
        string Int64(string name, long value)
        {
            g.ConstantInt64(name, value);
            return name;
        }
    }

    /// <summary>
    /// Attention in miniature: x [1,4,8] → MatMul (constant weights: quantized) → q; scores = q · qᵀ (MatMul of two computed
    /// tensors) → Softmax → · q → Concat with q on the features → MatMul (quantized) → y [1,4,3].
    /// </summary>
    internal static Model Attention()
    {
        var g = new SyntheticModels(14);
        g.Node("MatMul", "proj", ["x", g.Weights("wq", 8, 8)], "q")
            .Node("Transpose", "qt", ["q"], "k", Ints("perm", 0, 2, 1))
            .Node("MatMul", "scores", ["q", "k"], "sc")
            .Node("Softmax", "attn", ["sc"], "a", Int("axis", -1))
            .Node("MatMul", "mix", ["a", "q"], "v")
            .Node("Concat", "join", ["v", "q"], "j", Int("axis", 2))
            .Node("MatMul", "out", ["j", g.Weights("wo", 16, 3)], "y");
        return g.Build("attention", [1, 4, 8], [1, 4, 3]);
    }

    /// <summary>
    /// A DB-style segmentation head: x [1,2,6,6] → Conv (stride 2) → Relu → ConvTranspose (stride 2) and Abs (float) → Resize ×2
    /// linear (float) → Concat → Conv 1×1 → Sigmoid → Resize nearest ×2 (float, after the Sigmoid edge layer) → y [1,1,12,12].
    /// </summary>
    internal static Model SegmentationHead()
    {
        var g = new SyntheticModels(17);
        g.Node("Conv", "down", ["x", g.Weights("w1", 4, 2, 3, 3)], "c1", Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1), Ints("strides", 2, 2))
            .Node("Relu", "relu", ["c1"], "r1")
            .Node("ConvTranspose", "up_learned", ["r1", g.Weights("wt", 4, 2, 2, 2), g.Constant("bt", [2], [0.1f, -0.1f])], "u1", Ints("kernel_shape", 2, 2), Ints("strides", 2, 2))
            // Abs has no quantized kernel: a float island, and the linear Resize reading its float output stays float too
            // (on a quantized input it would be a quantized Resize layer; after the Relu, Abs is the identity).
            .Node("Abs", "magnitude", ["r1"], "a1")
            .Node("Resize", "up_linear", ["a1", "", g.Constant("scales", [4], [1, 1, 2, 2])], "u2", Str("mode", "linear"))
            .Node("Concat", "join", ["u1", "u2"], "j", Int("axis", 1))
            .Node("Conv", "head", ["j", g.Weights("w2", 1, 6, 1, 1)], "h")
            .Node("Sigmoid", "prob", ["h"], "p")
            .Node("Resize", "up_nearest", ["p", "", g.Constant("scales2", [4], [1, 1, 2, 2])], "y", Str("mode", "nearest"));
        return g.Build("segmentation_head", [1, 2, 6, 6], [1, 1, 12, 12]);
    }

    private static Onnx.Proto.AttributeProto Str(string name, string value) =>
        new() { Name = name, Type = Onnx.Proto.AttributeProto.Types.AttributeType.String, S = Google.Protobuf.ByteString.CopyFromUtf8(value) };

    public static TheoryData<string> Islands => new() { "island_start", "island_middle", "island_end", "attention", "segmentation_head", "transcendental" };

    internal static (Model Model, int[] Shape) Island(string name) => name switch
    {
        "island_start" => (IslandAtStart(), [1, 2, 6, 5]),
        "island_middle" => (IslandInTheMiddle(), [1, 2, 6, 5]),
        "island_end" => (IslandAtTheEnd(), [1, 2, 6, 5]),
        "attention" => (Attention(), [1, 4, 8]),
        "segmentation_head" => (SegmentationHead(), [1, 2, 6, 6]),
        "transcendental" => (Kernels.FloatMathTests.TranscendentalIslands(), [1, 2, 6, 16]),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Islands))]
    public void GeneratedIslandsMatchTheSimulatorBitForBit(string name)
    {
        var (model, shape) = Island(name);
        var result = ModelQuantizer.Quantize(model, new QuantizationOptions(), new SyntheticModels(40).Calibration(shape, 32, -2, 2),
            [new ArtifactMetadata("source", $"Models/{model.Path}")]);
        var artifact = result.Artifact;
        Assert.Contains(artifact.Layers, l => FloatLayers.IsFloat(l.Kind));
        Assert.Contains(artifact.Layers, l => l.Kind is LayerKinds.Conv or LayerKinds.FullyConnected);
        Assert.Contains(result.Warnings, w => w.Code == ErrorCodes.FloatFallback);

        var path = $"/project/obj/quantgen/{name}.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(artifact))],
            GeneratedCodeTests.Options(path, "Model"), LanguageVersion.CSharp9);
        var (assembly, run) = GeneratorHarness.Build(GeneratorHarness.Compilation(Probe, LanguageVersion.CSharp9), driver);
        Assert.Contains(run.GeneratedTrees, t => t.ToString().Contains("QuantGenFloatKernels.", StringComparison.Ordinal));
        var probe = assembly.GetType("Probe")!.GetMethod("Run")!.CreateDelegate<Func<float[], float[]>>();
        // Float buffers are fields like the byte buffers, the kernels use stackalloc: Run allocates nothing.
        Assert.Equal(0, assembly.GetType("Probe")!.GetMethod("AllocatedBytesPerRun")!.CreateDelegate<Func<float[], long>>()(new float[shape.Aggregate(1, (a, d) => a * d)]));

        var simulator = new IntegerSimulator(artifact);
        var executor = new ReferenceExecutor(model);
        var data = new SyntheticModels(41);
        int size = shape.Aggregate(1, (a, d) => a * d), checkedValues = 0, identical = 0;
        double signal = 0, noise = 0;
        // The simulator runs Sigmoid, Tanh, Exp, Log, Softmax and GlobalAveragePool through the float kernels the
        // generated code calls (FloatIslands.Kernels.cs), every other float layer through its reference operator, which
        // the kernel follows operation for operation: bit for bit everywhere.
        const bool exact = true;
        for (int i = 0; i < 50; i++)
        {
            var x = data.Uniform(size, -2, 2);
            var expected = simulator.Run(new Dictionary<string, float[]> { ["x"] = x })["y"];
            var actual = probe(x);
            if (exact) Assert.Equal(expected, actual);
            for (int j = 0; j < expected.Length; j++)
            {
                Assert.True(Math.Abs(expected[j] - actual[j]) <= 1e-5 * Math.Abs(expected[j]) + 1e-7, $"output {j}: {actual[j]:R}, the simulator gives {expected[j]:R}");
                if (expected[j] == actual[j]) identical++;
            }
            checkedValues += expected.Length;
            var reference = executor.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(shape, x) })["y"].ToFloatArray();
            for (int j = 0; j < reference.Length; j++)
            {
                signal += (double)reference[j] * reference[j];
                noise += Math.Pow(reference[j] - expected[j], 2);
            }
        }
        double sqnr = 10 * Math.Log10(signal / noise);
        output.WriteLine($"{name}: {identical} of {checkedValues} outputs bit-identical to the simulator{(exact ? "" : " (the others within 1e-5 relative)")}; SQNR against the float model {sqnr:F1} dB");
        output.WriteLine(result.Warnings.First(w => w.Code == ErrorCodes.FloatFallback).Message);
        // The quantized model still approximates the float one (a wrong island would be far off).
        Assert.True(sqnr > 20, $"SQNR {sqnr:F1} dB");
    }

    /// <summary>Runs Demo.Models.Model on an array, and counts what one Run allocates (the least over five batches of 50).</summary>
    private const string Probe = """
        public static class Probe
        {
            private static readonly Demo.Models.Model Model = new Demo.Models.Model();

            public static float[] Run(float[] input)
            {
                var output = new float[Demo.Models.Model.OutputLength];
                Model.Run(input, output);
                return output;
            }

            public static long AllocatedBytesPerRun(float[] input)
            {
                var output = new float[Demo.Models.Model.OutputLength];
                Model.Run(input, output);
                long least = long.MaxValue;
                for (int batch = 0; batch < 5; batch++)
                {
                    long before = System.GC.GetAllocatedBytesForCurrentThread();
                    for (int i = 0; i < 50; i++) Model.Run(input, output);
                    least = System.Math.Min(least, (System.GC.GetAllocatedBytesForCurrentThread() - before) / 50);
                }
                return least;
            }
        }
        """;

    [Fact]
    public void SixteenBitModelsRunFloatIslandsToo()
    {
        var (model, shape) = Island("island_middle");
        var artifact = ModelQuantizer.Quantize(model, new QuantizationOptions { ActivationBits = 16 }, new SyntheticModels(40).Calibration(shape, 32, -2, 2),
            [new ArtifactMetadata("source", $"Models/{model.Path}")]).Artifact;
        Assert.Contains(artifact.Tensors, t => t.ElementType == ArtifactElementType.I16);
        var path = "/project/obj/quantgen/island16.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(artifact))],
            GeneratedCodeTests.Options(path, "Model"), LanguageVersion.CSharp9);
        var (assembly, _) = GeneratorHarness.Build(GeneratorHarness.Compilation(FusedActivationKernelTests.Probe, LanguageVersion.CSharp9), driver);
        var probe = assembly.GetType("Probe")!.GetMethod("Run")!.CreateDelegate<Func<float[], float[]>>();
        var simulator = new IntegerSimulator(artifact);
        var data = new SyntheticModels(43);
        for (int i = 0; i < 10; i++)
        {
            var x = data.Uniform(shape.Aggregate(1, (a, d) => a * d), -2, 2);
            Assert.Equal(simulator.Run(new Dictionary<string, float[]> { ["x"] = x })["y"], probe(x));
        }
    }

    [Theory]
    [InlineData("layer Float.Transpose swap_hw", "layer Float.Gather swap_hw")]
    [InlineData("ints is.perm 0 1 3 2", "ints is.perm 0 1 3 9")]
    [InlineData("ints is.perm 0 1 3 2", "ints is.perm 0 1 3")]
    [InlineData("ints inputs 0\n", "ints inputs 5\n")]
    public void AHostileFloatLayerIsRefusedByTheGenerator(string line, string with)
    {
        var (model, shape) = Island("island_middle");
        var text = ArtifactText.Write(ModelQuantizer.Quantize(model, new QuantizationOptions(), new SyntheticModels(40).Calibration(shape, 32, -2, 2)).Artifact);
        line = line.Replace("\\n", "\n", StringComparison.Ordinal);
        with = with.Replace("\\n", "\n", StringComparison.Ordinal);
        Assert.Contains(line, text, StringComparison.Ordinal);
        var path = "/project/obj/quantgen/hostile.qgart";
        var run = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, text.Replace(line, with, StringComparison.Ordinal))], GeneratedCodeTests.Options(path, "Model"))
            .RunGenerators(GeneratorHarness.Compilation()).GetRunResult();
        Assert.All(run.Results, r => Assert.Null(r.Exception));
        Assert.Contains(run.Diagnostics, d => d.Id == "QG1040");
    }

    [Fact]
    public void AFloatNodeNamedLikeCodeStaysAComment()
    {
        const string evil = "*/ } public class Evil { } /* \\u0022 \" \\";
        var g = new SyntheticModels(18);
        g.Node("Conv", "conv", ["x", g.Weights("w", 3, 2, 3, 3)], "c", Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1))
            .Node("Transpose", evil, ["c"], "y", Ints("perm", 0, 1, 3, 2));
        var model = g.Build("evil", [1, 2, 6, 5], [1, 3, 5, 6]);
        var artifact = ModelQuantizer.Quantize(model, new QuantizationOptions(), new SyntheticModels(40).Calibration([1, 2, 6, 5], 32, -2, 2)).Artifact;
        var path = "/project/obj/quantgen/evil.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(artifact))], GeneratedCodeTests.Options(path, "Model"), LanguageVersion.CSharp9);
        var (assembly, _) = GeneratorHarness.Build(GeneratorHarness.Compilation(FusedActivationKernelTests.Probe, LanguageVersion.CSharp9), driver);
        Assert.Null(assembly.GetType("Evil"));
        Assert.DoesNotContain(assembly.GetTypes(), t => t.Name == "Evil");
    }

    [Fact]
    public void TheWarningListsEveryFloatNodeWithItsShareOfMacs()
    {
        var (model, shape) = Island("attention");
        var result = ModelQuantizer.Quantize(model, new QuantizationOptions(), new SyntheticModels(40).Calibration(shape, 32, -2, 2));
        var warning = Assert.Single(result.Warnings, w => w.Code == ErrorCodes.FloatFallback);
        // MACs: proj 4·8·8 = 256, scores 4·4·8 = 128, mix 4·8·4 = 128, out 4·3·16 = 192; total 704.
        // The Transpose ('qt') of the quantized projection has a kernel (Remap), but only the float Q·Qᵀ MatMul reads
        // it: it moves float values, said so, and is no fallback.
        Assert.Equal(
            "4 nodes run in float (no quantized kernel, or moved with their float readers (1); 36.4% of MACs): 'qt' (Transpose, moved with its float readers, 0.0% of MACs); " +
            "'scores' (MatMul, 18.2% of MACs); 'attn' (Softmax, 0.0% of MACs); 'mix' (MatMul, 18.2% of MACs). Set FloatFallback=\"false\" on the QuantModel item to make this an error.",
            warning.Message);
        // The Concat ('join') has a quantized layer of its own (Concat kind).
        Assert.DoesNotContain("'join'", warning.Message, StringComparison.Ordinal);
        Assert.StartsWith("attention.onnx: warning QG0022: 4 nodes run in float", warning.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void DataMovedWithRequestedFloatReadersIsNoFallback()
    {
        // Every float node of the attention model requested: the Transpose moved with them is not refused either.
        var (model, shape) = Island("attention");
        var result = ModelQuantizer.Quantize(model, new QuantizationOptions { FloatFallback = false, FloatNodes = ["scores", "attn", "mix"] },
            new SyntheticModels(40).Calibration(shape, 32, -2, 2));
        Assert.Contains(result.Artifact.Layers, l => l.Name == "qt" && l.Kind == "Float.Transpose");
        // ... and without the requests it is the three nodes with no kernel that are refused, not the Transpose.
        var e = Assert.Throws<ModelException>(() =>
            ModelQuantizer.Quantize(model, new QuantizationOptions { FloatFallback = false }, new SyntheticModels(40).Calibration(shape, 32, -2, 2)));
        Assert.Contains("3 nodes have no quantized kernel", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("'qt'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FloatFallbackFalseListsEveryNodeAtOnce()
    {
        var (model, shape) = Island("island_middle");
        var e = Assert.Throws<ModelException>(() =>
            ModelQuantizer.Quantize(model, new QuantizationOptions { FloatFallback = false }, new SyntheticModels(40).Calibration(shape, 32, -2, 2)));
        Assert.Equal(ErrorCodes.FloatFallbackDisabled, e.Code);
        foreach (var node in new[] { "'swap_hw' (Transpose", "'mean_c' (ReduceMean", "'center' (Sub" })
            Assert.Contains(node, e.Message, StringComparison.Ordinal);
        // The broadcast Mul ('scale') is a quantized Mul layer.
        Assert.DoesNotContain("'scale'", e.Message, StringComparison.Ordinal);
        Assert.Contains("3 nodes have no quantized kernel and FloatFallback is false", e.Message, StringComparison.Ordinal);
        Assert.Equal("island_middle.onnx", e.ModelPath);
    }

    [Fact]
    public void FloatFallbackParsesTrueFalseAndRefusesOtherText()
    {
        Assert.True(QuantizationOptions.ParseFloatFallback(""));
        Assert.False(QuantizationOptions.ParseFloatFallback(" false "));
        Assert.True(QuantizationOptions.ParseFloatFallback("True"));
        Assert.Equal(ErrorCodes.InvalidOption, Assert.Throws<ModelException>(() => QuantizationOptions.ParseFloatFallback("no")).Code);
    }

    [Fact]
    public void AnOperatorTheExecutorDoesNotSupportIsStillQG0003()
    {
        var g = new SyntheticModels(15);
        g.Node("Conv", "conv", ["x", g.Weights("w", 3, 2, 3, 3)], "c", Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1))
            .Node("Sin", "sin", ["c"], "y"); // Erf was the example until the erf-GELU needed it
        var e = Assert.Throws<ModelException>(() => ModelQuantizer.Quantize(g.Build("sin", [1, 2, 6, 5], [1, 3, 6, 5]), new QuantizationOptions(),
            new SyntheticModels(40).Calibration([1, 2, 6, 5], 32, -2, 2)));
        Assert.Equal(ErrorCodes.UnsupportedOperator, e.Code);
        Assert.Equal("sin", e.NodeName);
    }

    [Fact]
    public void AnExecutorOpWithoutAFloatKernelIsQG0023NamingTheNode()
    {
        // Gather has a reference operator but no float kernel yet. (Of a quantized value it is a Remap: here it reads
        // the output of a float Log, so it moves float values and stays a float layer.)
        var g = new SyntheticModels(16);
        g.Node("Conv", "conv", ["x", g.Weights("w", 3, 2, 3, 3)], "c", Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1))
            .Node("Log", "log", ["c"], "l")
            .Node("Gather", "pick", ["l", g.ConstantInt64("index", 1)], "y", Int("axis", 1));
        var e = Assert.Throws<ModelException>(() => ModelQuantizer.Quantize(g.Build("gather", [1, 2, 6, 5], [1, 1, 6, 5]), new QuantizationOptions(),
            new SyntheticModels(40).Calibration([1, 2, 6, 5], 32, -2, 2)));
        Assert.Equal(ErrorCodes.NoFloatKernel, e.Code);
        Assert.Equal("pick", e.NodeName);
        Assert.Contains("Gather node 'pick' runs in float", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ADataFreeBuildBoundsIslandOutputsFromTheStatedInputRange()
    {
        var (model, shape) = Island("island_middle");
        var options = new QuantizationOptions { InputStatistics = InputStatistics.Parse("-2,2", null, null) };
        var artifact = ModelQuantizer.Quantize(model, options, calibration: null).Artifact;
        var simulator = new IntegerSimulator(artifact);
        var executor = new ReferenceExecutor(model);
        var data = new SyntheticModels(42);
        double signal = 0, noise = 0;
        for (int i = 0; i < 20; i++)
        {
            var x = data.Uniform(shape.Aggregate(1, (a, d) => a * d), -2, 2);
            var actual = simulator.Run(new Dictionary<string, float[]> { ["x"] = x })["y"];
            var reference = executor.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(shape, x) })["y"].ToFloatArray();
            for (int j = 0; j < reference.Length; j++)
            {
                signal += (double)reference[j] * reference[j];
                noise += Math.Pow(reference[j] - actual[j], 2);
            }
        }
        double sqnr = 10 * Math.Log10(signal / noise);
        output.WriteLine($"data-free island_middle: SQNR {sqnr:F1} dB");
        Assert.True(sqnr > 15, $"SQNR {sqnr:F1} dB");
    }
}
