using QuantGen.Core;
using QuantGen.Core.Artifact;
using QuantGen.Core.Execution;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;
using static QuantGen.Tests.Quantization.SyntheticModels;

namespace QuantGen.Tests.Quantization;

/// <summary>
/// FloatNodes (issue 17): named nodes run as float islands even where a quantized kernel exists (a ReLU that would be
/// fused into its Conv stays a node of its own, in float); the warning and the report say they were requested; a name
/// the model does not have is QG0028, with the closest node name.
/// </summary>
public sealed class FloatNodesTests
{
    /// <summary>x [1,2,6,5] → Conv → Relu → Conv → Relu → y [1,3,6,5]: without FloatNodes both ReLUs fuse into their Convs.</summary>
    private static Model ConvReluConvRelu()
    {
        var g = new SyntheticModels(31);
        g.Node("Conv", "conv1", ["x", g.Weights("w1", 4, 2, 3, 3)], "c1", Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1))
            .Node("Relu", "relu1", ["c1"], "r1")
            .Node("Conv", "conv2", ["r1", g.Weights("w2", 3, 4, 3, 3)], "c2", Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1))
            .Node("Relu", "relu2", ["c2"], "y");
        return g.Build("conv_relu", [1, 2, 6, 5], [1, 3, 6, 5]);
    }

    private static QuantizationResult Quantize(Model model, params string[] floatNodes) =>
        ModelQuantizer.Quantize(model, new QuantizationOptions { FloatNodes = floatNodes }, new SyntheticModels(32).Calibration([1, 2, 6, 5], 32, -2, 2));

    [Fact]
    public void ARequestedNodeRunsInFloatAndItsNeighboursStayQuantized()
    {
        var plain = Quantize(ConvReluConvRelu());
        Assert.DoesNotContain(plain.Artifact.Layers, l => FloatLayers.IsFloat(l.Kind));
        Assert.DoesNotContain(plain.Warnings, w => w.Code == ErrorCodes.FloatFallback);

        var model = ConvReluConvRelu();
        var result = Quantize(model, "relu1");
        var floats = result.Artifact.Layers.Where(l => FloatLayers.IsFloat(l.Kind)).ToArray();
        var relu = Assert.Single(floats);
        Assert.Equal("relu1", relu.Name);
        Assert.Equal("Relu", FloatLayers.OpOf(relu.Kind));
        Assert.Equal(["conv1", "conv2"], result.Artifact.Layers.Where(l => l.Kind == LayerKinds.Conv).Select(l => l.Name));
        var warning = Assert.Single(result.Warnings, w => w.Code == ErrorCodes.FloatFallback);
        Assert.Contains("1 node runs in float (requested in FloatNodes; ", warning.Message);
        Assert.Contains("'relu1' (Relu, requested, 0.0% of MACs)", warning.Message);
        // Only requested nodes: there is no fallback for FloatFallback="false" to refuse.
        Assert.DoesNotContain("FloatFallback", warning.Message);
        Assert.Contains("Float nodes requested (FloatNodes): relu1 (Relu)", result.ReportMarkdown);

        // The build still computes the model: the integer simulator against the float reference.
        var simulator = new IntegerSimulator(result.Artifact);
        var executor = new ReferenceExecutor(model);
        var data = new SyntheticModels(33);
        double signal = 0, noise = 0;
        for (int i = 0; i < 20; i++)
        {
            var x = data.Uniform(60, -2, 2);
            var actual = simulator.Run(new Dictionary<string, float[]> { ["x"] = x })["y"];
            var expected = executor.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray([1, 2, 6, 5], x) })["y"].AsSpan<float>().ToArray();
            for (int j = 0; j < expected.Length; j++)
            {
                signal += (double)expected[j] * expected[j];
                noise += Math.Pow(expected[j] - actual[j], 2);
            }
        }
        Assert.True(10 * Math.Log10(signal / noise) > 25, $"SQNR {10 * Math.Log10(signal / noise):F1} dB");
    }

    [Fact]
    public void RequestedNodesAreNotRefusedByFloatFallbackFalse()
    {
        var result = ModelQuantizer.Quantize(ConvReluConvRelu(), new QuantizationOptions { FloatNodes = ["relu2"], FloatFallback = false },
            new SyntheticModels(32).Calibration([1, 2, 6, 5], 32, -2, 2));
        Assert.Equal("relu2", Assert.Single(result.Artifact.Layers, l => FloatLayers.IsFloat(l.Kind)).Name);
    }

    [Fact]
    public void ATrailingStarMatchesAPrefix()
    {
        var result = Quantize(ConvReluConvRelu(), "relu*");
        Assert.Equal(["relu1", "relu2"], result.Artifact.Layers.Where(l => FloatLayers.IsFloat(l.Kind)).Select(l => l.Name));
        Assert.Equal(2, result.Artifact.Layers.Count(l => l.Kind == LayerKinds.Conv));
    }

    [Fact]
    public void UnknownNamesAreQg0028WithTheClosestName()
    {
        var e = Assert.Throws<ModelException>(() => Quantize(ConvReluConvRelu(), "relu1", "relu_2", "softmax_out", "conv9*"));
        Assert.Equal(ErrorCodes.UnknownFloatNode, e.Code);
        Assert.Equal("conv_relu.onnx", e.ModelPath);
        Assert.Contains("FloatNodes names 3 nodes the model does not have: 'relu_2' (did you mean 'relu2'?); 'softmax_out'; 'conv9*' (did you mean 'conv1'?).", e.Message);
        Assert.DoesNotContain("'relu1'", e.Message);
    }

    /// <summary>x → Relu → Cast to int64 → Cast to float → y: the int64 value cannot be a float island's output.</summary>
    [Fact]
    public void ANodeThatCannotRunInFloatIsQg0029()
    {
        var g = new SyntheticModels(34);
        g.Node("Relu", "relu", ["x"], "r")
            .Node("Cast", "to_int", ["r"], "i", Int("to", 7))
            .Node("Cast", "to_float", ["i"], "y", Int("to", 1));
        var model = g.Build("cast_int", [1, 2, 6, 5], [1, 2, 6, 5]);
        var e = Assert.Throws<ModelException>(() => Quantize(model, "to_int"));
        Assert.Equal(ErrorCodes.FloatNodeNotFloat, e.Code);
        Assert.Equal("to_int", e.NodeName);
        Assert.Contains("FloatNodes names Cast node 'to_int', which cannot run in float", e.Message);
    }

    [Theory]
    [InlineData(null, new string[0])]
    [InlineData("  ", new string[0])]
    [InlineData("a", new[] { "a" })]
    [InlineData(" a ;; b;a; ;", new[] { "a", "b" })]
    public void TheListIgnoresEmptyEntriesAndDuplicates(string? text, string[] expected)
    {
        Assert.Equal(expected, QuantizationOptions.ParseFloatNodes(text));
        Assert.Equal(expected, QuantizationOptions.ParseFloatNodes(text is null ? null : [text, text]));
    }

    [Fact]
    public void TheHintNamesTheLayersFirstOnnxNodesAndSkipsNamesTheListCannotHold()
    {
        var conv = new FloatLayer(LayerKinds.Conv, "conv1", ["x"], "r1");
        conv.Nodes.AddRange(["conv1", "relu1"]);
        var odd = new FloatLayer(LayerKinds.Conv, "a;b", ["x"], "y");
        odd.Nodes.Add("a;b");
        var fc = new FloatLayer(LayerKinds.FullyConnected, "/fc/MatMul", ["x"], "z");
        fc.Nodes.Add("/fc/MatMul");
        var hint = OutputQualityCheck.FloatNodesHint([conv, odd, fc]);
        Assert.Contains("FloatNodes=\"conv1;/fc/MatMul\"", hint);
        Assert.Equal("", OutputQualityCheck.FloatNodesHint([odd]));
    }
}
