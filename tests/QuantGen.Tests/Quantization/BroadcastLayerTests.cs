using Google.Protobuf;
using QuantGen.Core.Artifact;
using QuantGen.Core.Execution;
using QuantGen.Core.Ir;
using QuantGen.Core.Passes;
using QuantGen.Core.Quantization;
using QuantGen.Tests.BadInput;
using QuantGen.Tests.RealModels;
using Xunit.Abstractions;

namespace QuantGen.Tests.Quantization;

/// <summary>
/// Add, Sub and Mul of two computed tensors with a general (numpy) broadcast, either operand the smaller one or both
/// broadcast (issue 17): quantized as Remaps expanding the operands feeding the same-shape kernels. Each node's
/// quantized output is checked against its real function computed here, in double, on the node's own dequantized
/// operands as the simulator captured them, broadcast by this test's own index arithmetic: within one output step.
/// </summary>
public sealed class BroadcastLayerTests(ITestOutputHelper output)
{
    /// <summary>A computed operand of x [1,4,8,8]: its value name, after adding the nodes that compute it.</summary>
    private static string Operand(SyntheticModels g, string kind, string suffix)
    {
        switch (kind)
        {
            case "x":
                return "x";
            case "full": // [1,4,8,8]
                g.Node("Conv", "full" + suffix, ["x", g.Weights("wf" + suffix, 4, 4, 1, 1)], "full" + suffix);
                return "full" + suffix;
            case "plane": // [1,1,8,8]
                g.Node("Conv", "plane" + suffix, ["x", g.Weights("wp" + suffix, 1, 4, 1, 1)], "plane" + suffix);
                return "plane" + suffix;
            case "channel": // [1,4,1,1]
                g.Node("GlobalAveragePool", "channel" + suffix, ["x"], "channel" + suffix);
                return "channel" + suffix;
            case "rows": // [1,4,1,8]
                g.Node("AveragePool", "rows" + suffix, ["x"], "rows" + suffix, SyntheticModels.Ints("kernel_shape", 8, 1));
                return "rows" + suffix;
            case "column": // [1,1,8,1]
                g.Node("Conv", "column_conv" + suffix, ["x", g.Weights("wc" + suffix, 1, 4, 1, 1)], "column_c" + suffix)
                    .Node("AveragePool", "column" + suffix, ["column_c" + suffix], "column" + suffix, SyntheticModels.Ints("kernel_shape", 1, 8));
                return "column" + suffix;
            default:
                throw new ArgumentException(kind);
        }
    }

    [Theory]
    [InlineData("Add", "x", "plane", 1)] // [1,4,8,8] + [1,1,8,8]
    [InlineData("Add", "rows", "x", 1)] // [1,4,1,8] + [1,4,8,8]: the smaller one first
    [InlineData("Add", "rows", "column", 2)] // [1,4,1,8] + [1,1,8,1]: both broadcast to [1,4,8,8]
    [InlineData("Add", "channel", "full", 1)] // squeeze-excitation's shape, added
    [InlineData("Sub", "plane", "x", 1)] // [1,1,8,8] − [1,4,8,8]
    [InlineData("Sub", "full", "rows", 1)]
    [InlineData("Mul", "x", "plane", 1)] // spatial attention: [1,4,8,8] × [1,1,8,8]
    [InlineData("Mul", "plane", "full", 1)]
    [InlineData("Mul", "plane", "channel", 1)] // [1,1,8,8] × [1,4,1,1]: the channel scale kept as the trailing operand
    [InlineData("Mul", "rows", "column", 2)] // both expanded
    public void BroadcastOpIsQuantizedWithinOneStepOfItsRealFunction(string op, string first, string second, int remaps)
    {
        var g = new SyntheticModels(70);
        string a = Operand(g, first, "_a"), b = Operand(g, second, "_b");
        g.Node(op, "op", [a, b], "y");
        var artifact = Quantize(g.Build("bcast_" + op, [1, 4, 8, 8], [1, 4, 8, 8]));
        Assert.DoesNotContain(artifact.Layers, l => FloatLayers.IsFloat(l.Kind));
        var layer = artifact.Layers.Single(l => l.Name == "op");
        Assert.Equal(op == "Mul" ? LayerKinds.Mul : LayerKinds.Add, layer.Kind);
        var expanded = artifact.Layers.Where(l => l.Kind == LayerKinds.Remap).ToArray();
        Assert.Equal(remaps, expanded.Length);
        foreach (var remap in expanded)
        {
            // A Remap moves elements on one grid.
            ArtifactTensor from = artifact.GetTensor(remap.Inputs[0]), to = artifact.GetTensor(remap.Outputs[0]);
            Assert.Equal((from.Scale, from.ZeroPoint), (to.Scale, to.ZeroPoint));
        }
        if (op == "Sub") Assert.True(layer.GetInts("multipliers")[1] < 0);

        var captured = Capture(artifact);
        ArtifactTensor ta = artifact.GetTensor(a), tb = artifact.GetTensor(b), ty = artifact.GetTensor("y");
        var outShape = new[] { 1, 4, 8, 8 };
        var expected = new double[256];
        for (int i = 0; i < expected.Length; i++)
        {
            double va = FixedPoint.Dequantize(captured[a][Source(i, outShape, ta.Shape.AsArray())], ta.Scale, ta.ZeroPoint);
            double vb = FixedPoint.Dequantize(captured[b][Source(i, outShape, tb.Shape.AsArray())], tb.Scale, tb.ZeroPoint);
            expected[i] = op switch { "Add" => va + vb, "Sub" => va - vb, _ => va * vb };
        }
        var worst = AssertWithin(ty, captured[layer.Outputs[0]], expected, 1);
        output.WriteLine($"{op}({first}, {second}): {remaps} Remap(s), worst {worst:F4} output steps");
    }

    [Fact]
    public void ExpandNodeIsARemapAndTheReferenceExpandAgreesWithOnnxRuntime()
    {
        // x [1,4,8,8] → Conv to one channel → Expand to [1,4,8,8] → Add x.
        var g = new SyntheticModels(71);
        g.Node("Conv", "plane", ["x", g.Weights("w", 1, 4, 1, 1)], "p")
            .Node("Expand", "expand", ["p", g.ConstantInt64s("shape", 1, 4, 1, 1)], "e")
            .Node("Add", "add", ["e", "x"], "y");
        var model = g.Build("expand", [1, 4, 8, 8], [1, 4, 8, 8]);
        var artifact = Quantize(model);
        Assert.Equal([LayerKinds.Quantize, LayerKinds.Conv, LayerKinds.Remap, LayerKinds.Add, LayerKinds.Dequantize], artifact.Layers.Select(l => l.Kind));
        Assert.Equal("expand", artifact.Layers[2].Name);
        var captured = Capture(artifact);
        // The Remap copies p's element (n, 0, h, w) to every channel c.
        for (int i = 0; i < 256; i++) Assert.Equal(captured["p"][i % 64], captured["e"][i]);

        // The reference executor's Expand (new) against ONNX Runtime, both directions of broadcast and a rank increase.
        var e2 = new SyntheticModels(72);
        e2.Node("Expand", "expand", ["x", e2.ConstantInt64s("shape", 2, 1, 1, 4)], "y");
        var proto = e2.Proto("expand_only", ModelBuilder.Value("x", [3, 1]), ModelBuilder.Value("y", [2, 1, 3, 4]));
        var path = Path.Combine(Path.GetTempPath(), $"quantgen-expand-{Environment.ProcessId}.onnx");
        File.WriteAllBytes(path, proto.ToByteArray());
        try
        {
            var x = new float[] { 1.5f, -2f, 3.25f };
            using var oracle = new OnnxRuntimeOracle(path);
            var expected = oracle.Run("x", x, [3, 1])["y"];
            var actual = new ReferenceExecutor(e2.Build("expand_only", ModelBuilder.Value("x", [3, 1]), ModelBuilder.Value("y", [2, 1, 3, 4])))
                .Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray([3, 1], x) })["y"];
            Assert.Equal([2, 1, 3, 4], actual.Shape);
            Assert.Equal(expected, actual.ToArray<float>());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void BroadcastAddRunsInFloatAtSixteenBitsAndInspectCallsItQuantizedAtEight()
    {
        var g = new SyntheticModels(73);
        g.Node("Conv", "plane", ["x", g.Weights("w", 1, 4, 1, 1)], "p").Node("Mul", "attend", ["x", "p"], "m")
            .Node("GlobalAveragePool", "pool", ["m"], "q").Node("Sub", "center", ["m", "q"], "y");
        var model = g.Build("bcast16", [1, 4, 8, 8], [1, 4, 8, 8]);
        var wide = ModelQuantizer.Quantize(model, new QuantizationOptions { ActivationBits = 16, Algorithms = QuantizationAlgorithms.None },
            new SyntheticModels(7).Calibration([1, 4, 8, 8], 32, -7, 7)).Artifact;
        // The Remap has no 16-bit kernel: the broadcast nodes run in float, nothing is expanded.
        Assert.Contains(wide.Layers, l => l.Kind == "Float.Mul" && l.Name == "attend");
        Assert.Contains(wide.Layers, l => l.Kind == "Float.Sub" && l.Name == "center");
        Assert.DoesNotContain(wide.Layers, l => l.Kind == LayerKinds.Remap);

        var classified = NodeClassifier.Classify(model, new ShapeOptions());
        var attend = classified.Single(c => c.NodeName == "attend");
        var center = classified.Single(c => c.NodeName == "center");
        Assert.Equal((NodePlacement.Quantized, LayerKinds.Mul), (attend.Placement, attend.LayerKind));
        Assert.Equal((NodePlacement.Quantized, LayerKinds.Add), (center.Placement, center.LayerKind));
    }

    /// <summary>The flat index into an operand of shape <paramref name="shape"/> that output element i reads (numpy broadcasting).</summary>
    private static int Source(int i, int[] outShape, int[] shape)
    {
        int index = 0, stride = 1, rest = i;
        var coords = new int[outShape.Length];
        for (int d = outShape.Length - 1; d >= 0; d--)
        {
            coords[d] = rest % outShape[d];
            rest /= outShape[d];
        }
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            int od = d + outShape.Length - shape.Length;
            index += (shape[d] == 1 ? 0 : coords[od]) * stride;
            stride *= shape[d];
        }
        return index;
    }

    private static QuantizedArtifact Quantize(Model model) =>
        FusedActivationTests.Quantize(model, new SyntheticModels(7).Calibration([1, 4, 8, 8], 32, -7, 7));

    /// <summary>Every quantized tensor on the 256 input grid points.</summary>
    private static Dictionary<string, int[]> Capture(QuantizedArtifact artifact)
    {
        var x = artifact.GetTensor("x");
        var input = Enumerable.Range(0, 256).Select(q => FixedPoint.Dequantize(q, x.Scale, x.ZeroPoint)).ToArray();
        var captured = new Dictionary<string, int[]>(StringComparer.Ordinal);
        new IntegerSimulator(artifact).Run(new Dictionary<string, float[]> { ["x"] = input }, (name, values) => captured[name] = values);
        Assert.Equal(Enumerable.Range(0, 256), captured["x"]);
        return captured;
    }

    /// <summary>|q − (real / scale + zero)| in output steps, the real value clamped into the grid: at most <paramref name="steps"/>.</summary>
    private static double AssertWithin(ArtifactTensor outT, int[] actual, double[] expected, double steps)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double ideal = Math.Clamp(expected[i] / outT.Scale + outT.ZeroPoint, outT.QMin, outT.QMax);
            double error = Math.Abs(actual[i] - ideal);
            worst = Math.Max(worst, error);
            Assert.True(error <= steps + 1e-4, $"element {i}: {actual[i]} against the ideal {ideal:F4} (real {expected[i]:G6}), more than {steps} steps");
        }
        return worst;
    }
}
