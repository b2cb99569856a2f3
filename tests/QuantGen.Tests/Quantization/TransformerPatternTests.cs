using QuantGen.Core.Artifact;
using QuantGen.Core.Execution;
using QuantGen.Core.Ir;
using QuantGen.Core.Passes;
using QuantGen.Core.Quantization;
using Xunit.Abstractions;

namespace QuantGen.Tests.Quantization;

/// <summary>
/// The transformer patterns exporters write out (issue 17): LayerNorm as ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div
/// (then Mul, Add) recognised as one LayerNormalization float layer, GELU (tanh and erf forms) as one Lookup table;
/// near misses stay the nodes they are and still compute their own function.
/// </summary>
public sealed class TransformerPatternTests(ITestOutputHelper output)
{
    /// <summary>x [1,16,32] → a written-out LayerNorm over the last axis (variant <paramref name="name"/>) → y.</summary>
    private static Model LayerNorm(string name)
    {
        var g = new SyntheticModels(50);
        string two = g.Constant("two", [], [2f]), eps = g.Constant("eps", [], [1e-5f]);
        string w = g.Constant("w", [32], g.Uniform(32, 0.5f, 1.5f)), b = g.Constant("b", [32], g.Uniform(32, -0.5f, 0.5f));
        var axes = SyntheticModels.Ints("axes", name == "near_miss_axis" ? 1 : -1);
        g.Node("ReduceMean", "mean", ["x"], "m", axes);
        g.Node("Sub", "sub", name == "near_miss_reversed" ? ["m", "x"] : ["x", "m"], "d");
        g.Node(name == "mul_square" ? "Mul" : "Pow", "square", name == "mul_square" ? ["d", "d"] : ["d", two], "p");
        g.Node("ReduceMean", "variance", ["p"], "v", SyntheticModels.Ints("axes", -1));
        // near_miss_divides_x: x / σ, not (x − mean) / σ.
        g.Node("Add", "add_eps", ["v", eps], "ve").Node("Sqrt", "sqrt", ["ve"], "s").Node("Div", "div", [name == "near_miss_divides_x" ? "x" : "d", "s"], "n");
        if (name == "no_affine")
        {
            g.Node("Relu", "relu", ["n"], "y");
        }
        else if (name == "near_miss_third_reader")
        {
            // d read a third time: the normalised value is not all d feeds.
            g.Node("Mul", "scale", ["n", w], "nw").Node("Add", "shift", ["nw", b], "z").Node("Add", "leak", ["z", "d"], "y");
        }
        else
        {
            g.Node("Mul", "scale", ["n", w], "nw").Node("Add", "shift", ["nw", b], "y");
        }
        return g.Build(name, [1, 16, 32], [1, 16, 32]);
    }

    [Theory]
    [InlineData("pow_square", 9)]
    [InlineData("mul_square", 9)]
    [InlineData("no_affine", 7)]
    public void WrittenOutLayerNormIsOneFloatLayer(string name, int nodes)
    {
        var model = LayerNorm(name);
        var artifact = Quantize(model);
        var floats = artifact.Layers.Where(l => FloatLayers.IsFloat(l.Kind)).ToList();
        var norm = Assert.Single(floats);
        Assert.Equal(FloatLayers.Kind("LayerNormalization"), norm.Kind);
        Assert.Equal(nodes == 9 ? 3 : 1, FloatLayers.InputCount(norm)); // x, w, b; or x alone (the Relu is a table after it)
        Assert.Equal(1e-5f, FloatLayers.GetFloat(norm, "epsilon", 0));

        // The whole model against the float reference executor running the nine nodes.
        var x = new SyntheticModels(51).Uniform(16 * 32, -3, 5);
        var expected = new ReferenceExecutor(ModelPreparation.Prepare(model)).Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray([1, 16, 32], x) })["y"].ToArray<float>();
        var actual = new IntegerSimulator(artifact).Run(new Dictionary<string, float[]> { ["x"] = x })["y"];
        double worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        output.WriteLine($"{name}: {string.Join(", ", artifact.Layers.Select(l => l.Kind))}; worst |Δ| {worst:E2}");
        // Float all the way (1e-5), or, with the Relu table, half a step of its input grid (the LayerNorm's output
        // rounded) and half a step of its output grid.
        var table = artifact.Layers.SingleOrDefault(l => l.Kind == LayerKinds.Lookup);
        double tolerance = table is null ? 1e-5 : 0.5 * (artifact.GetTensor(table.Inputs[0]).Scale + artifact.GetTensor(table.Outputs[0]).Scale) + 1e-5;
        Assert.True(worst <= tolerance, $"worst |Δ| {worst} > {tolerance}");
    }

    [Theory]
    [InlineData("near_miss_axis")]
    [InlineData("near_miss_divides_x")]
    [InlineData("near_miss_reversed")]
    [InlineData("near_miss_third_reader")]
    public void NearMissLayerNormIsNotFused(string name)
    {
        var model = LayerNorm(name);
        var artifact = Quantize(model);
        Assert.DoesNotContain(artifact.Layers, l => l.Kind == FloatLayers.Kind("LayerNormalization"));
        Assert.Contains(artifact.Layers, l => l.Kind == FloatLayers.Kind("ReduceMean"));
        // Still the model's own function: the simulator against the reference executor, within a few output steps.
        var x = new SyntheticModels(51).Uniform(16 * 32, -3, 5);
        var expected = new ReferenceExecutor(ModelPreparation.Prepare(model)).Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray([1, 16, 32], x) })["y"].ToArray<float>();
        var actual = new IntegerSimulator(artifact).Run(new Dictionary<string, float[]> { ["x"] = x })["y"];
        double signal = expected.Sum(v => (double)v * v), noise = expected.Zip(actual, (e, a) => (double)(e - a) * (e - a)).Sum();
        double sqnr = 10 * Math.Log10(signal / noise);
        output.WriteLine($"{name}: {string.Join(", ", artifact.Layers.Select(l => l.Kind))}; SQNR {sqnr:F1} dB");
        Assert.True(sqnr > 25, $"{name}: SQNR {sqnr:F1} dB");
    }

    /// <summary>x [1,4,8,8] → GELU written out (form <paramref name="name"/>) → y.</summary>
    private static Model Gelu(string name)
    {
        var g = new SyntheticModels(52);
        string C(string n, float v) => g.Constant(n, [], [v]);
        switch (name)
        {
            case "tanh": // PyTorch: 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))
            case "near_miss_tanh":
                g.Node("Mul", "half", ["x", C("half_c", 0.5f)], "h")
                    .Node("Pow", "cube", ["x", C("three", 3f)], "x3")
                    .Node("Mul", "k", ["x3", C("k_c", name == "tanh" ? 0.044715f : 0.05f)], "kx3")
                    .Node("Add", "inner", ["x", "kx3"], "u")
                    .Node("Mul", "scale", [C("s_c", MathF.Sqrt(2 / MathF.PI)), "u"], "su")
                    .Node("Tanh", "tanh", ["su"], "t")
                    .Node("Add", "one", ["t", C("one", 1f)], "t1")
                    .Node("Mul", "gate", ["h", "t1"], "y");
                break;
            case "erf": // x * 0.5 * (1 + erf(x / sqrt(2))), another order
                g.Node("Div", "div", ["x", C("root2", MathF.Sqrt(2))], "xs")
                    .Node("Erf", "erf", ["xs"], "e")
                    .Node("Add", "one", ["e", C("one", 1f)], "e1")
                    .Node("Mul", "gate", ["x", "e1"], "g")
                    .Node("Mul", "half", ["g", C("half_c", 0.5f)], "y");
                break;
            default:
                throw new ArgumentException(name);
        }
        return g.Build(name, [1, 4, 8, 8], [1, 4, 8, 8]);
    }

    [Theory]
    [InlineData("tanh", "GELU (tanh)")]
    [InlineData("erf", "GELU (erf)")]
    public void WrittenOutGeluIsOneTableExactToHalfAStep(string name, string function)
    {
        var artifact = Quantize(Gelu(name));
        Assert.Equal([LayerKinds.Quantize, LayerKinds.Lookup, LayerKinds.Dequantize], artifact.Layers.Select(l => l.Kind));
        Assert.EndsWith($"(table of {function})", artifact.Layers[1].Comment);
        // Every input grid point through the simulator, against the textbook GELU computed here.
        ArtifactTensor x = artifact.GetTensor(artifact.Layers[1].Inputs[0]), y = artifact.GetTensor(artifact.Layers[1].Outputs[0]);
        var input = Enumerable.Range(0, 256).Select(q => FixedPoint.Dequantize(q, x.Scale, x.ZeroPoint)).ToArray();
        var captured = new Dictionary<string, int[]>(StringComparer.Ordinal);
        new IntegerSimulator(artifact).Run(new Dictionary<string, float[]> { ["x"] = input }, (n, values) => captured[n] = values);
        double worst = 0;
        for (int q = 0; q < 256; q++)
        {
            double v = FixedPoint.Dequantize(captured[x.Name][q], x.Scale, x.ZeroPoint);
            double gelu = name == "tanh" ? 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))) : 0.5 * v * (1 + Erf(v / Math.Sqrt(2)));
            double ideal = Math.Clamp(gelu / y.Scale + y.ZeroPoint, y.QMin, y.QMax);
            worst = Math.Max(worst, Math.Abs(captured[y.Name][q] - ideal));
        }
        output.WriteLine($"{name}: worst {worst:F4} output steps");
        Assert.True(worst <= 0.5 + 1e-3, $"worst {worst} steps");
    }

    [Fact]
    public void NearMissGeluIsNotATable()
    {
        var artifact = Quantize(Gelu("near_miss_tanh"));
        Assert.DoesNotContain(artifact.Layers, l => l.Comment.Contains("GELU", StringComparison.Ordinal));
        Assert.True(artifact.Layers.Count(l => l.Kind != LayerKinds.Quantize && l.Kind != LayerKinds.Dequantize) > 3);
    }

    /// <summary>erf by its Maclaurin series (the test's own; to 1e-11 for |v| &lt; 4, and within 2e-8 of ±1 beyond).</summary>
    private static double Erf(double v)
    {
        double a = Math.Abs(v);
        if (a >= 4) return Math.Sign(v);
        double term = a, sum = a;
        for (int n = 1; n < 400; n++)
        {
            term *= -a * a / n;
            sum += term / (2 * n + 1);
        }
        return Math.Sign(v) * 2 / Math.Sqrt(Math.PI) * sum;
    }

    private static QuantizedArtifact Quantize(Model model)
    {
        var shape = model.Graph.Inputs[0].Dims!.Select(d => (int)d.Value).ToArray();
        return FusedActivationTests.Quantize(model, new SyntheticModels(7).Calibration(shape, 32, -4, 4));
    }
}
