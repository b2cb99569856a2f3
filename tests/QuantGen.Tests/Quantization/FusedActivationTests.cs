using QuantGen.Core;
using QuantGen.Core.Artifact;
using QuantGen.Core.Execution;
using QuantGen.Core.Ir;
using QuantGen.Core.Passes;
using QuantGen.Core.Quantization;
using Xunit.Abstractions;

namespace QuantGen.Tests.Quantization;

/// <summary>
/// LeakyRelu fused into Conv/Gemm as a second multiplier for negative accumulators, Max/Min with a constant folded
/// into the clamp, Transposes of size-1 axes as reshapes: the artifact they produce, the simulator's semantics
/// against the float model, data-free ranges, and the QG0017 errors for what stays unsupported.
/// </summary>
public sealed class FusedActivationTests(ITestOutputHelper output)
{
    [Fact]
    public void ConvLeakyReluMaxBecomesOneConvWithNegativeMultipliersAndAClampAtTheFloor()
    {
        var model = SyntheticModels.ConvLeakyMax();
        var artifact = Quantize(model, new SyntheticModels(10).Calibration([1, 2, 6, 5], 64, -2, 2));
        Assert.Equal([LayerKinds.Quantize, LayerKinds.Conv, LayerKinds.Conv, LayerKinds.Dequantize], artifact.Layers.Select(l => l.Kind));

        var first = artifact.Layers[1];
        Assert.Contains("leaky1", first.Comment);
        Assert.Contains("max1", first.Comment);
        AssertNegativeMultipliers(first, 0.2);
        // The Max(−0.4) is the clamp's lower bound, on the layer's output grid.
        var grid = artifact.GetTensor(first.Outputs[0]);
        Assert.Equal(Math.Max(0, (int)Math.Round(-0.4f / grid.Scale) + grid.ZeroPoint), first.GetInts("clamp")[0]);
        Assert.Equal(255, first.GetInts("clamp")[1]);

        var second = artifact.Layers[2];
        AssertNegativeMultipliers(second, 0.1);
        Assert.Equal([0, 255], second.GetInts("clamp"));
    }

    [Fact]
    public void GemmLeakyReluMinBecomesOneFullyConnectedWithAClampAtTheCeiling()
    {
        var artifact = Quantize(SyntheticModels.GemmLeakyMin(), new SyntheticModels(11).Calibration([1, 8], 64, -2, 2));
        Assert.Equal([LayerKinds.Quantize, LayerKinds.FullyConnected, LayerKinds.FullyConnected, LayerKinds.Dequantize], artifact.Layers.Select(l => l.Kind));
        var first = artifact.Layers[1];
        AssertNegativeMultipliers(first, 0.3);
        var grid = artifact.GetTensor(first.Outputs[0]);
        Assert.Equal(Math.Min(255, (int)Math.Round(1.5f / grid.Scale) + grid.ZeroPoint), first.GetInts("clamp")[1]);
        Assert.False(artifact.Layers[2].HasBlob("negMultiplier"));
    }

    [Fact]
    public void TransposeOfSizeOneAxesIsAReshapeAndReluThenMaxIsOneClamp()
    {
        var artifact = Quantize(SyntheticModels.NhwcConvReluMax(), new SyntheticModels(12).Calibration([1, 6, 5, 1], 64, -2, 2));
        Assert.Equal([LayerKinds.Quantize, LayerKinds.Reshape, LayerKinds.Conv, LayerKinds.Dequantize], artifact.Layers.Select(l => l.Kind));
        var conv = artifact.Layers[2];
        Assert.False(conv.HasBlob("negMultiplier"));
        var grid = artifact.GetTensor(conv.Outputs[0]);
        Assert.Equal((int)Math.Round(0.25f / grid.Scale) + grid.ZeroPoint, conv.GetInts("clamp")[0]);
        Assert.Equal([1, 1, 6, 5], artifact.GetTensor(conv.Inputs[0]).Shape);
    }

    [Theory]
    [InlineData("conv_leaky_max")]
    [InlineData("gemm_leaky_min")]
    [InlineData("nhwc_conv_relu_max")]
    public void SimulatorFollowsTheFloatModelWithinAFewSteps(string name)
    {
        var (model, shape) = Synthetic(name);
        var calibration = new SyntheticModels(20).Calibration(shape, 64, -2, 2);
        var artifact = Quantize(model, calibration);
        var prepared = ModelPreparation.Prepare(model);
        var executor = new ReferenceExecutor(prepared);
        var simulator = new IntegerSimulator(artifact);
        var outScale = artifact.Tensors.Single(t => t.Name == artifact.Layers[^2].Outputs[0]).Scale;
        double worst = 0, below = 0, total = 0;
        for (int i = 0; i < 50; i++)
        {
            // The calibration inputs themselves: every value inside its calibrated range, so no error is saturation.
            var x = calibration.Sample(prepared.Graph, i)["x"].ToArray<float>();
            var expected = executor.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(shape, x) })["y"].ToArray<float>();
            var actual = simulator.Run(new Dictionary<string, float[]> { ["x"] = x })["y"];
            for (int j = 0; j < expected.Length; j++)
            {
                worst = Math.Max(worst, Math.Abs(expected[j] - actual[j]));
                below += expected[j] < 0 ? 1 : 0;
                total++;
            }
        }
        output.WriteLine($"{name}: max |int8 − float| = {worst:G4} = {worst / outScale:F2} output steps; {below / total:P0} of outputs negative");
        // A dropped negative slope would be off by (1 − α)·|x|, dozens of steps; rounding through two layers is a few.
        Assert.True(worst <= 4 * outScale, $"{name}: max error {worst} > 4 output steps ({outScale})");
        if (name != "nhwc_conv_relu_max") Assert.True(below / total > 0.1, "the negative branch must be exercised");
    }

    /// <summary>The exact rule on a hand-made artifact: acc &lt; 0 takes negMultiplier/negShift, acc ≥ 0 the others.</summary>
    [Fact]
    public void NegativeAccumulatorsUseTheNegativeMultiplier()
    {
        static ArtifactBlob Blob(string key, BlobType type, int[] values) => new(key, type, new([values.Length]), new(values), EquatableArray<float>.Empty);
        var artifact = new QuantizedArtifact(1, "m", EquatableArray<ArtifactMetadata>.Empty,
            new([
                new ArtifactTensor("x@f32", ArtifactElementType.F32, new([1, 1]), 1, 0, 0, 0),
                new ArtifactTensor("x", ArtifactElementType.U8, new([1, 1]), 1, 100, 0, 255),
                new ArtifactTensor("y", ArtifactElementType.U8, new([1, 1]), 1, 100, 0, 255),
                new ArtifactTensor("y@f32", ArtifactElementType.F32, new([1, 1]), 1, 0, 0, 0),
            ]),
            new([new ArtifactIo("x", "x@f32")]), new([new ArtifactIo("y", "y@f32")]),
            new([
                new ArtifactLayer(LayerKinds.Quantize, "q", new(["x@f32"]), new(["x"]), EquatableArray<ArtifactInts>.Empty, EquatableArray<ArtifactFloats>.Empty, EquatableArray<ArtifactBlob>.Empty, ""),
                new ArtifactLayer(LayerKinds.FullyConnected, "fc", new(["x"]), new(["y"]), new([new ArtifactInts("clamp", new([95, 140]))]), EquatableArray<ArtifactFloats>.Empty,
                    new([Blob("weights", BlobType.I8, [1]) with { Shape = new([1, 1]) }, Blob("bias", BlobType.I32, [-100]),
                         Blob("multiplier", BlobType.I32, [1 << 30]), Blob("shift", BlobType.I32, [31]),        // 0.5
                         Blob("negMultiplier", BlobType.I32, [1 << 30]), Blob("negShift", BlobType.I32, [33])]), // 0.125
                    ""),
                new ArtifactLayer(LayerKinds.Dequantize, "dq", new(["y"]), new(["y@f32"]), EquatableArray<ArtifactInts>.Empty, EquatableArray<ArtifactFloats>.Empty, EquatableArray<ArtifactBlob>.Empty, ""),
            ]));
        var simulator = new IntegerSimulator(artifact);
        // acc = x (the bias cancels the input zero point): y = round(acc · (acc ≥ 0 ? 0.5 : 0.125)), half to even (the
        // float32 contract of 8-bit weighted layers), clamped to [95, 140] − 100 = [−5, 40].
        foreach (var (x, y) in new[] { (0f, 0f), (3f, 2f), (5f, 2f), (80f, 40f), (81f, 40f), (155f, 40f), (-3f, 0f), (-4f, 0f), (-5f, -1f), (-12f, -2f), (-13f, -2f), (-28f, -4f), (-36f, -4f), (-37f, -5f), (-100f, -5f) })
            Assert.Equal(y, simulator.Run(new Dictionary<string, float[]> { ["x"] = [x] })["y"][0]);
    }

    [Fact]
    public void DataFreeRangesRespectTheSlopeAndTheFloor()
    {
        var model = SyntheticModels.ConvLeakyMax();
        var artifact = ModelQuantizer.Quantize(model, new QuantizationOptions { InputStatistics = InputStatistics.Parse("0,1", null, null) }, null).Artifact;
        var first = artifact.GetTensor(artifact.Layers[1].Outputs[0]);
        float min = first.Scale * (first.QMin - first.ZeroPoint), max = first.Scale * (first.QMax - first.ZeroPoint);
        output.WriteLine($"data-free range of the first LeakyRelu+Max output: [{min:G4}, {max:G4}]");
        Assert.InRange(min, -0.4f - first.Scale, -0.05f);
        Assert.True(max > 0.5f, $"max {max}");

        // Against the float model on inputs from the assumed data-free distribution (uniform on [0, 1]).
        var executor = new ReferenceExecutor(ModelPreparation.Prepare(model));
        var simulator = new IntegerSimulator(artifact);
        var data = new SyntheticModels(30);
        var reference = new List<float>();
        var quantized = new List<float>();
        for (int i = 0; i < 30; i++)
        {
            var x = data.Uniform(60, 0, 1);
            reference.AddRange(executor.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray([1, 2, 6, 5], x) })["y"].ToArray<float>());
            quantized.AddRange(simulator.Run(new Dictionary<string, float[]> { ["x"] = x })["y"]);
        }
        double sqnr = Sqnr.Of(reference.ToArray(), quantized.ToArray());
        output.WriteLine($"data-free SQNR {sqnr:F1} dB");
        Assert.True(sqnr > 25, $"data-free SQNR {sqnr:F1} dB");
    }

    [Fact]
    public void LeakyReluWithoutAProducingConvIsATable()
    {
        var g = new SyntheticModels(4);
        g.Node("Conv", "conv", ["x", g.Weights("w", 2, 1, 3, 3)], "c", SyntheticModels.Ints("kernel_shape", 3, 3))
            .Node("MaxPool", "pool", ["c"], "p", SyntheticModels.Ints("kernel_shape", 2, 2), SyntheticModels.Ints("strides", 2, 2))
            .Node("LeakyRelu", "lonely_leaky", ["p"], "y");
        var artifact = ModelQuantizer.Quantize(g.Build("leaky_after_pool", [1, 1, 6, 6], [1, 2, 2, 2]), new QuantizationOptions { InputStatistics = InputStatistics.Parse("0,1", null, null) }, null).Artifact;
        Assert.Equal([LayerKinds.Quantize, LayerKinds.Conv, LayerKinds.MaxPool, LayerKinds.Lookup, LayerKinds.Dequantize], artifact.Layers.Select(l => l.Kind));
        Assert.EndsWith("(table of LeakyRelu alpha 0.01)", artifact.Layers[3].Comment);
    }

    [Fact]
    public void MaxOfTwoComputedTensorsIsNamedInTheError()
    {
        var g = new SyntheticModels(5);
        g.Node("Conv", "a", ["x", g.Weights("wa", 2, 1, 1, 1)], "ya")
            .Node("Conv", "b", ["x", g.Weights("wb", 2, 1, 1, 1)], "yb")
            .Node("Max", "max_of_two", ["ya", "yb"], "y");
        AssertNotQuantizable(g.Build("max_of_two", [1, 1, 4, 4], [1, 2, 4, 4]), "max_of_two", "Max/Min with a constant scalar");
    }

    [Fact]
    public void TransposeThatReordersElementsIsARemap()
    {
        // NCHW [1,2,4,3] → NHWC [1,4,3,2]: output (h, w, c) reads input (c, h, w) (RemapLayerTests checks the values).
        var g = new SyntheticModels(6);
        g.Node("Conv", "conv", ["x", g.Weights("w", 2, 1, 1, 1)], "c")
            .Node("Transpose", "to_nhwc", ["c"], "y", SyntheticModels.Ints("perm", 0, 2, 3, 1));
        var artifact = Quantize(g.Build("real_transpose", [1, 1, 4, 3], [1, 4, 3, 2]), new SyntheticModels(7).Calibration([1, 1, 4, 3], 32, -2, 2));
        Assert.Equal([LayerKinds.Quantize, LayerKinds.Conv, LayerKinds.Remap, LayerKinds.Dequantize], artifact.Layers.Select(l => l.Kind));
        var expected = new int[24];
        for (int h = 0; h < 4; h++)
            for (int w = 0; w < 3; w++)
                for (int ch = 0; ch < 2; ch++)
                    expected[(h * 3 + w) * 2 + ch] = ch * 12 + h * 3 + w;
        Assert.Equal(expected, artifact.Layers[2].GetBlob("map").Values.AsArray());
    }

    internal static (Model Model, int[] InputShape) Synthetic(string name) => name switch
    {
        "conv_leaky_max" => (SyntheticModels.ConvLeakyMax(), [1, 2, 6, 5]),
        "gemm_leaky_min" => (SyntheticModels.GemmLeakyMin(), [1, 8]),
        "nhwc_conv_relu_max" => (SyntheticModels.NhwcConvReluMax(), [1, 6, 5, 1]),
        _ => throw new ArgumentException(name),
    };

    /// <summary>Without the PTQ passes: equalization would turn the fused bounds checked here into per-channel ones (PassTests covers that).</summary>
    internal static QuantizedArtifact Quantize(Model model, CalibrationSet calibration) =>
        ModelQuantizer.Quantize(model, new QuantizationOptions { Algorithms = QuantizationAlgorithms.None }, calibration, [new ArtifactMetadata("source", $"Models/{model.Path}")]).Artifact;

    private static void AssertNegativeMultipliers(ArtifactLayer layer, double alpha)
    {
        int[] m = layer.GetBlob("multiplier").Values.AsArray(), s = layer.GetBlob("shift").Values.AsArray();
        int[] nm = layer.GetBlob("negMultiplier").Values.AsArray(), ns = layer.GetBlob("negShift").Values.AsArray();
        Assert.Equal(m.Length, nm.Length);
        for (int o = 0; o < m.Length; o++)
        {
            double ratio = FixedPoint.Decode(nm[o], ns[o]) / FixedPoint.Decode(m[o], s[o]);
            Assert.InRange(ratio, (float)alpha * (1 - 1e-6), (float)alpha * (1 + 1e-6));
        }
    }

    private static void AssertNotQuantizable(Model model, string node, string message)
    {
        // Such a node runs in float by default (a float island, FloatIslandTests); FloatFallback=false refuses it, saying why.
        var options = new QuantizationOptions { InputStatistics = InputStatistics.Parse("0,1", null, null), FloatFallback = false };
        var e = Assert.Throws<ModelException>(() => ModelQuantizer.Quantize(model, options, null));
        Assert.Equal(ErrorCodes.FloatFallbackDisabled, e.Code);
        Assert.Contains($"'{node}' (", e.Message);
        Assert.Contains(message, e.Message);
        Assert.Equal(model.Path, e.ModelPath);
    }
}
