using QuantGen.Core.Artifact;
using QuantGen.Core.Execution;
using QuantGen.Core.Ir;
using QuantGen.Core.Passes;
using QuantGen.Core.Quantization;
using Xunit.Abstractions;

namespace QuantGen.Tests.Quantization;

/// <summary>
/// A Conv read only by a hard-swish table gets an output grid that stops just below −3 (hard-swish is 0 there), not at
/// the calibration minimum: a finer grid for the same table entries. A Conv output something else also reads keeps its
/// full range.
/// </summary>
public sealed class TableInputRangeTests(ITestOutputHelper output)
{
    private static Model ConvHardSwish(bool alsoReadByAdd)
    {
        var g = new SyntheticModels(60);
        string three = g.Constant("three", [], [3f]), six = g.Constant("six", [], [6f]), zero = g.Constant("zero", [], [0f]);
        g.Node("Conv", "conv", ["x", g.Weights("w", 4, 4, 1, 1)], "z")
            .Node("Add", "add", ["z", three], "a").Node("Clip", "clip", ["a", zero, six], "c").Node("Mul", "mul", ["c", "z"], "m")
            .Node("Div", "div", ["m", six], alsoReadByAdd ? "h" : "y");
        if (alsoReadByAdd) g.Node("Add", "residual", ["h", "z"], "y");
        return g.Build("conv_hswish", [1, 4, 8, 8], [1, 4, 8, 8]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void HardSwishInputGridEndsWhereTheTableStopsChanging(bool alsoReadByAdd)
    {
        var model = ConvHardSwish(alsoReadByAdd);
        var artifact = FusedActivationTests.Quantize(model, new SyntheticModels(7).Calibration([1, 4, 8, 8], 32, -7, 7));
        var conv = artifact.Layers.Single(l => l.Kind == LayerKinds.Conv);
        Assert.Contains(artifact.Layers, l => l.Kind == LayerKinds.Lookup && l.Inputs[0] == conv.Outputs[0]);
        var z = artifact.GetTensor(conv.Outputs[0]);
        double lowest = (z.QMin - z.ZeroPoint) * (double)z.Scale;
        output.WriteLine($"residual {alsoReadByAdd}: conv output grid from {lowest:F3}, step {z.Scale:G4}");
        if (alsoReadByAdd)
        {
            Assert.True(lowest < -5, $"the grid starts at {lowest}: clipped although the Add reads the values below −3");
        }
        else
        {
            Assert.True(lowest <= -3 && lowest >= -3.5, $"the grid starts at {lowest}, not just below −3");
        }
        // Either way the model still computes its function: the simulator against the float reference executor.
        var x = new SyntheticModels(61).Uniform(256, -7, 7);
        var expected = new ReferenceExecutor(ModelPreparation.Prepare(model)).Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray([1, 4, 8, 8], x) })["y"].ToArray<float>();
        var actual = new IntegerSimulator(artifact).Run(new Dictionary<string, float[]> { ["x"] = x })["y"];
        double signal = expected.Sum(v => (double)v * v), noise = expected.Zip(actual, (e, a) => (double)(e - a) * (e - a)).Sum();
        double sqnr = 10 * Math.Log10(signal / noise);
        output.WriteLine($"SQNR {sqnr:F1} dB");
        Assert.True(sqnr > 30, $"SQNR {sqnr:F1} dB");
    }
}
