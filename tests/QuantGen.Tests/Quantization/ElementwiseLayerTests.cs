using QuantGen.Core;
using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;
using Xunit.Abstractions;

namespace QuantGen.Tests.Quantization;

/// <summary>
/// The elementwise layers of issue 17: table activations and the patterns exporters decompose them into (recognised
/// and, for near misses, not), Add/Sub/Mul/Div by constants (Affine), Mul by a broadcast tensor, Concat. Each layer's
/// output is checked against its real function computed here, in double, on the layer's own dequantized inputs (the
/// values the simulator captured): a table within half an output step (exact rounding), the fixed-point kinds within one.
/// </summary>
public sealed class ElementwiseLayerTests(ITestOutputHelper output)
{
    private static double HardSwish(double v) => v * Math.Clamp(v + 3, 0, 6) / 6;

    private static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));

    /// <summary>x [1,4,8,8] → the pattern → y, calibrated on [−7, 7].</summary>
    private static Model Pattern(string name)
    {
        var g = new SyntheticModels(40);
        string three = g.Constant("three", [], [3f]), six = g.Constant("six", [], [6f]), zero = g.Constant("zero", [], [0f]);
        switch (name)
        {
            case "hardswish_div_then_mul": // x * (relu6(x + 3) / 6)
                g.Node("Add", "add", ["x", three], "a").Node("Clip", "clip", ["a", zero, six], "c").Node("Div", "div", ["c", six], "h").Node("Mul", "mul", ["x", "h"], "y");
                break;
            case "hardswish_mul_then_div": // x * relu6(x + 3) / 6, PyTorch's order
                g.Node("Add", "add", [three, "x"], "a").Node("Clip", "clip", ["a", zero, six], "c").Node("Mul", "mul", ["c", "x"], "m").Node("Div", "div", ["m", six], "y");
                break;
            case "hardswish_sixth":
                g.Node("Add", "add", ["x", three], "a").Node("Clip", "clip", ["a", zero, six], "c")
                    .Node("Mul", "sixth", ["c", g.Constant("one_sixth", [], [1f / 6])], "h").Node("Mul", "mul", ["h", "x"], "y");
                break;
            case "hardsigmoid_decomposed":
                g.Node("Add", "add", ["x", three], "a").Node("Clip", "clip", ["a", zero, six], "c").Node("Div", "div", ["c", six], "y");
                break;
            case "swish":
                g.Node("Sigmoid", "sigmoid", ["x"], "s").Node("Mul", "mul", ["x", "s"], "y");
                break;
            case "hardswish_gate":
                g.Node("HardSigmoid", "hsig", ["x"], "s", SyntheticModels.Float("alpha", 1f / 6), SyntheticModels.Float("beta", 0.5f)).Node("Mul", "mul", ["s", "x"], "y");
                break;
            case "tanh":
                g.Node("Tanh", "tanh", ["x"], "y");
                break;
            case "sigmoid_inside":
                g.Node("Sigmoid", "sigmoid", ["x"], "s").Node("Mul", "double", ["s", g.Constant("two", [], [2f])], "y");
                break;
            case "hardsigmoid":
                g.Node("HardSigmoid", "hsig", ["x"], "y", SyntheticModels.Float("alpha", 0.25f));
                break;
            case "leaky":
                g.Node("LeakyRelu", "leaky", ["x"], "y", SyntheticModels.Float("alpha", 0.1f));
                break;
            case "near_miss_plus_two":
                g.Node("Add", "add", ["x", g.Constant("two", [], [2f])], "a").Node("Clip", "clip", ["a", zero, six], "c").Node("Mul", "mul", ["c", "x"], "m").Node("Div", "div", ["m", six], "y");
                break;
            case "near_miss_other_tensor":
                g.Node("Conv", "conv", ["x", g.Weights("w", 4, 4, 1, 1)], "z")
                    .Node("Add", "add", ["x", three], "a").Node("Clip", "clip", ["a", zero, six], "c").Node("Mul", "mul", ["c", "z"], "m").Node("Div", "div", ["m", six], "y");
                break;
            case "near_miss_clip_five":
                g.Node("Add", "add", ["x", three], "a").Node("Clip", "clip", ["a", zero, g.Constant("five", [], [5f])], "c").Node("Mul", "mul", ["c", "x"], "m").Node("Div", "div", ["m", six], "y");
                break;
            default:
                throw new ArgumentException(name);
        }
        return g.Build(name, [1, 4, 8, 8], [1, 4, 8, 8]);
    }

    [Theory]
    [InlineData("hardswish_div_then_mul", "HardSwish")]
    [InlineData("hardswish_mul_then_div", "HardSwish")]
    [InlineData("hardswish_sixth", "HardSwish")]
    [InlineData("hardswish_gate", "HardSwish")]
    [InlineData("hardsigmoid_decomposed", "HardSigmoid")]
    [InlineData("swish", "Swish")]
    [InlineData("tanh", "Tanh")]
    [InlineData("hardsigmoid", "HardSigmoid alpha 0.25 beta 0.5")]
    [InlineData("leaky", "LeakyRelu alpha 0.1")]
    public void PatternIsOneTableExactToHalfAStep(string name, string function)
    {
        var artifact = Quantize(Pattern(name));
        Assert.Equal([LayerKinds.Quantize, LayerKinds.Lookup, LayerKinds.Dequantize], artifact.Layers.Select(l => l.Kind));
        Assert.EndsWith($"(table of {function})", artifact.Layers[1].Comment);
        Func<double, double> f = name switch
        {
            "hardsigmoid_decomposed" => v => Math.Clamp(v + 3, 0, 6) / 6,
            "swish" => v => v * Sigmoid(v),
            "tanh" => Math.Tanh,
            "hardsigmoid" => v => Math.Clamp(0.25 * v + 0.5, 0, 1),
            "leaky" => v => v >= 0 ? v : 0.1 * v,
            _ => HardSwish,
        };
        var worst = AssertUnary(artifact, artifact.Layers[1], f, 0.5);
        output.WriteLine($"{name}: worst {worst:F4} output steps");
    }

    [Fact]
    public void SigmoidAtTheOutputStaysFloatAndInsideIsATable()
    {
        var g = new SyntheticModels(41);
        g.Node("Sigmoid", "sigmoid", ["x"], "y");
        var atOutput = Quantize(g.Build("sigmoid_out", [1, 4, 8, 8], [1, 4, 8, 8]));
        // The float edge layer reads the float input itself here: no table, no output rounding.
        Assert.Equal(LayerKinds.Sigmoid, atOutput.Layers[^1].Kind);
        Assert.DoesNotContain(atOutput.Layers, l => l.Kind == LayerKinds.Lookup);

        var inside = Quantize(Pattern("sigmoid_inside"));
        Assert.Equal([LayerKinds.Quantize, LayerKinds.Lookup, LayerKinds.Affine, LayerKinds.Dequantize], inside.Layers.Select(l => l.Kind));
        AssertUnary(inside, inside.Layers[1], Sigmoid, 0.5);
        AssertUnary(inside, inside.Layers[2], v => 2 * v, 1);
    }

    [Theory]
    [InlineData("near_miss_plus_two", new[] { LayerKinds.Affine, LayerKinds.Mul, LayerKinds.Affine })]
    [InlineData("near_miss_other_tensor", new[] { LayerKinds.Conv, LayerKinds.Affine, LayerKinds.Mul, LayerKinds.Affine })]
    [InlineData("near_miss_clip_five", new[] { LayerKinds.Affine, LayerKinds.Mul, LayerKinds.Affine })]
    public void NearMissIsNotFusedAndStillComputesItsOwnFunction(string name, string[] kinds)
    {
        var artifact = Quantize(Pattern(name));
        Assert.Equal([LayerKinds.Quantize, .. kinds, LayerKinds.Dequantize], artifact.Layers.Select(l => l.Kind));
        Assert.DoesNotContain(artifact.Layers, l => l.Kind == LayerKinds.Lookup);
        // The Clip is the Add's fused clamp: x + c into [0, hi], on the Add's grid.
        var add = artifact.Layers.First(l => l.Kind == LayerKinds.Affine);
        float c = name == "near_miss_plus_two" ? 2 : 3, hi = name == "near_miss_clip_five" ? 5 : 6;
        AssertUnary(artifact, add, v => Math.Clamp(v + c, 0, hi), 1);
        var mul = artifact.Layers.First(l => l.Kind == LayerKinds.Mul);
        AssertBinary(artifact, mul, 1);
        AssertUnary(artifact, artifact.Layers[^2], v => v / 6, 1);
    }

    [Fact]
    public void ConstantsPerChannelFoldIntoOneAffineWithItsRelu()
    {
        // x [1,4,8,8] · k[4] + b[4] → Relu, then 1.5 − y, then / 4: two Affine layers (the Relu ends the first).
        var g = new SyntheticModels(42);
        float[] k = [0.5f, -1.25f, 2f, 0.75f], b = [0.1f, -0.3f, 1f, 0f];
        g.Node("Mul", "scale", ["x", g.Constant("k", [4, 1, 1], k)], "s")
            .Node("Add", "shift", [g.Constant("b", [1, 4, 1, 1], b), "s"], "t")
            .Node("Relu", "relu", ["t"], "r")
            .Node("Sub", "flip", [g.Constant("c", [], [1.5f]), "r"], "f")
            .Node("Div", "quarter", ["f", g.Constant("d", [1], [4f])], "y");
        var artifact = Quantize(g.Build("affine", [1, 4, 8, 8], [1, 4, 8, 8]));
        Assert.Equal([LayerKinds.Quantize, LayerKinds.Affine, LayerKinds.Affine, LayerKinds.Dequantize], artifact.Layers.Select(l => l.Kind));
        var first = artifact.Layers[1];
        Assert.Equal([4, 64], first.GetInts("broadcast"));
        Assert.Contains("relu", first.Comment);
        Assert.Equal([1, 256], artifact.Layers[2].GetInts("broadcast"));
        AssertUnary(artifact, first, (v, i) => Math.Max(0, v * k[i / 64] + b[i / 64]), 1);
        AssertUnary(artifact, artifact.Layers[2], (v, _) => (1.5 - v) / 4, 1);
    }

    [Fact]
    public void SqueezeExcitationMulBroadcastsOverThePlane()
    {
        // x → GlobalAveragePool → Sigmoid (a table: not the output) → Mul(x, s) [1,4,8,8] × [1,4,1,1].
        var g = new SyntheticModels(43);
        g.Node("GlobalAveragePool", "pool", ["x"], "p").Node("Sigmoid", "gate", ["p"], "s").Node("Mul", "excite", ["s", "x"], "y");
        var artifact = Quantize(g.Build("se", [1, 4, 8, 8], [1, 4, 8, 8]));
        Assert.Equal([LayerKinds.Quantize, LayerKinds.AveragePool, LayerKinds.Lookup, LayerKinds.Mul, LayerKinds.Dequantize], artifact.Layers.Select(l => l.Kind));
        var mul = artifact.Layers[3];
        Assert.Equal("x", mul.Inputs[0]);
        Assert.Equal(64, mul.GetInt("inner"));
        AssertBinary(artifact, mul, 1);
    }

    [Fact]
    public void SubOfTwoTensorsIsAnAddWithANegativeMultiplier()
    {
        var g = new SyntheticModels(44);
        g.Node("Conv", "conv", ["x", g.Weights("w", 4, 4, 1, 1)], "z").Node("Sub", "sub", ["x", "z"], "y");
        var artifact = Quantize(g.Build("sub", [1, 4, 8, 8], [1, 4, 8, 8]));
        var sub = artifact.Layers.Single(l => l.Kind == LayerKinds.Add);
        Assert.True(sub.GetInts("multipliers")[1] < 0);
        AssertBinary(artifact, sub, 1, subtract: true);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(-1)]
    public void ConcatRequantizesEachInputOntoTheOutputGrid(int axis)
    {
        // Two branches on different grids (x and 3·x + 1 through a Conv), concatenated.
        var g = new SyntheticModels(45);
        g.Node("Conv", "conv", ["x", g.Weights("w", 4, 4, 1, 1)], "z").Node("Mul", "triple", ["z", g.Constant("three", [], [3f])], "t")
            .Node("Concat", "concat", ["x", "t", "x"], "y", SyntheticModels.Int("axis", axis));
        long[] outShape = ((axis + 4) % 4) switch { 1 => [1, 12, 8, 8], 2 => [1, 4, 24, 8], _ => [1, 4, 8, 24] };
        var artifact = Quantize(g.Build("concat", [1, 4, 8, 8], outShape));
        var concat = artifact.Layers.Single(l => l.Kind == LayerKinds.Concat);
        Assert.Equal((axis + 4) % 4, concat.GetInt("axis"));
        var captured = Capture(artifact);
        var outT = artifact.GetTensor(concat.Outputs[0]);
        var expected = new List<double>();
        int outer = 1;
        for (int d = 0; d < concat.GetInt("axis"); d++) outer *= outT.Shape[d];
        for (int o = 0; o < outer; o++)
            foreach (var input in concat.Inputs)
            {
                var t = artifact.GetTensor(input);
                int chunk = t.ElementCount / outer;
                expected.AddRange(captured[input].Skip(o * chunk).Take(chunk).Select(q => (double)FixedPoint.Dequantize(q, t.Scale, t.ZeroPoint)));
            }
        AssertWithin(outT, captured[concat.Outputs[0]], expected.ToArray(), 1);
    }

    [Fact]
    public void DataFreeBuildOfTheElementwiseKindsFollowsTheFloatModel()
    {
        var artifact = ModelQuantizer.Quantize(Pattern("hardswish_mul_then_div"), new QuantizationOptions { InputStatistics = InputStatistics.Parse("-6,6", null, null) }, null).Artifact;
        Assert.Equal([LayerKinds.Quantize, LayerKinds.Lookup, LayerKinds.Dequantize], artifact.Layers.Select(l => l.Kind));
        var outT = artifact.GetTensor(artifact.Layers[1].Outputs[0]);
        // The table's range is the function's image of the input range: hard-swish on [−6, 6] is [−0.375, 6].
        Assert.InRange(outT.Scale * (0 - outT.ZeroPoint), -0.375f - outT.Scale, -0.3f);
        Assert.InRange(outT.Scale * (255 - outT.ZeroPoint), 6f - outT.Scale, 6f + outT.Scale);
    }

    [Fact]
    public void DivOfTwoTensorsRunsInFloatOrIsNamedInTheError()
    {
        var g = new SyntheticModels(46);
        g.Node("Conv", "conv", ["x", g.Weights("w", 4, 4, 1, 1)], "z").Node("Div", "ratio", ["x", "z"], "y");
        var model = g.Build("div", [1, 4, 8, 8], [1, 4, 8, 8]);
        // No quantized kernel divides two tensors: a float island, with the reason in FloatFallback=false's error.
        Assert.Contains(Quantize(model).Layers, l => l.Kind == "Float.Div" && l.Name == "ratio");
        var e = Assert.Throws<ModelException>(() => ModelQuantizer.Quantize(model,
            new QuantizationOptions { Algorithms = QuantizationAlgorithms.None, FloatFallback = false }, new SyntheticModels(7).Calibration([1, 4, 8, 8], 32, -7, 7)));
        Assert.Equal(ErrorCodes.FloatFallbackDisabled, e.Code);
        Assert.Contains("'ratio' (Div", e.Message);
        Assert.Contains("Div of two computed tensors", e.Message);
    }

    private static QuantizedArtifact Quantize(Model model) =>
        FusedActivationTests.Quantize(model, new SyntheticModels(7).Calibration([1, 4, 8, 8], 32, -7, 7));

    /// <summary>Every quantized tensor on the 256 input grid points (and a calibration-like sample for the rest).</summary>
    private static Dictionary<string, int[]> Capture(QuantizedArtifact artifact)
    {
        var x = artifact.GetTensor("x");
        var input = Enumerable.Range(0, 256).Select(q => FixedPoint.Dequantize(q, x.Scale, x.ZeroPoint)).ToArray();
        var captured = new Dictionary<string, int[]>(StringComparer.Ordinal);
        new IntegerSimulator(artifact).Run(new Dictionary<string, float[]> { ["x"] = input }, (name, values) => captured[name] = values);
        Assert.Equal(Enumerable.Range(0, 256), captured["x"]);
        return captured;
    }

    private static double AssertUnary(QuantizedArtifact artifact, ArtifactLayer layer, Func<double, double> f, double steps) =>
        AssertUnary(artifact, layer, (v, _) => f(v), steps);

    private static double AssertUnary(QuantizedArtifact artifact, ArtifactLayer layer, Func<double, int, double> f, double steps)
    {
        var captured = Capture(artifact);
        var inT = artifact.GetTensor(layer.Inputs[0]);
        var expected = captured[layer.Inputs[0]].Select((q, i) => f(FixedPoint.Dequantize(q, inT.Scale, inT.ZeroPoint), i)).ToArray();
        return AssertWithin(artifact.GetTensor(layer.Outputs[0]), captured[layer.Outputs[0]], expected, steps);
    }

    private void AssertBinary(QuantizedArtifact artifact, ArtifactLayer layer, double steps, bool subtract = false)
    {
        var captured = Capture(artifact);
        ArtifactTensor a = artifact.GetTensor(layer.Inputs[0]), b = artifact.GetTensor(layer.Inputs[1]);
        int inner = a.ElementCount / b.ElementCount;
        var qa = captured[layer.Inputs[0]];
        var qb = captured[layer.Inputs[1]];
        var expected = qa.Select((q, i) =>
        {
            double va = FixedPoint.Dequantize(q, a.Scale, a.ZeroPoint), vb = FixedPoint.Dequantize(qb[i / inner], b.Scale, b.ZeroPoint);
            return layer.Kind == LayerKinds.Mul ? va * vb : subtract ? va - vb : va + vb;
        }).ToArray();
        var worst = AssertWithin(artifact.GetTensor(layer.Outputs[0]), captured[layer.Outputs[0]], expected, steps);
        output.WriteLine($"{layer.Kind} {layer.Name}: worst {worst:F4} output steps");
    }

    /// <summary>
    /// |q − (real / scale + zero)| in output steps, the real value first clamped into the grid's range (saturation is
    /// the grid's, not an error) and the layer's clamp: at most <paramref name="steps"/>. Returns the worst.
    /// </summary>
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
