using QuantGen.Core.Artifact;
using QuantGen.Core.Execution;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;

namespace QuantGen.Tests.Quantization;

/// <summary>
/// Resize in linear mode as a quantized Resize layer (docs/artifact.md): each coordinate transformation mode the
/// exporters write, quantized alone (x → Resize → y), runs as Quantize → Resize → Dequantize, and the simulator's output
/// is within one output step of the float reference operator run on the dequantized input (the expected values come
/// from the reference executor on the original model, not from the layer's tables). Near misses stay float.
/// </summary>
public sealed class ResizeLayerTests
{
    public static TheoryData<string, float[]?, long[]?, long[]> Cases => new()
    {
        { "half_pixel", [1, 1, 2, 2], null, [1, 3, 10, 12] },
        { "align_corners", [1, 1, 2, 2], null, [1, 3, 10, 12] },
        { "asymmetric", [1, 1, 2, 2], null, [1, 3, 10, 12] },
        { "pytorch_half_pixel", null, [1, 3, 7, 9], [1, 3, 7, 9] },
        { "half_pixel", null, [1, 3, 3, 4], [1, 3, 3, 4] }, // downsampling
        { "align_corners", null, [1, 3, 13, 1], [1, 3, 13, 1] }, // one output column: align_corners's 0/0
        { "asymmetric", [1, 1, 1.5f, 2.5f], null, [1, 3, 7, 15] },
        { "pytorch_half_pixel", [1, 1, 1, 3], null, [1, 3, 5, 18] }, // one axis only
    };

    private static readonly long[] InputShape = [1, 3, 5, 6];

    internal static Model Linear(string transform, float[]? scales, long[]? sizes, long[] output, long[]? inputShape = null)
    {
        var g = new SyntheticModels(21);
        var inputs = sizes is null ? new[] { "x", "", g.Constant("scales", [scales!.Length], scales) } : ["x", "", "", g.ConstantInt64s("sizes", sizes)];
        g.Node("Resize", "r", inputs, "y", SyntheticModels.String("mode", "linear"), SyntheticModels.String("coordinate_transformation_mode", transform));
        return g.Build("resize_" + transform, inputShape ?? InputShape, output);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void LinearResizeIsWithinOneStepOfTheFloatOperator(string transform, float[]? scales, long[]? sizes, long[] output)
    {
        var model = Linear(transform, scales, sizes, output);
        var artifact = FusedActivationTests.Quantize(model, new SyntheticModels(22).Calibration([1, 3, 5, 6], 32, -1, 2));
        Assert.Equal([LayerKinds.Quantize, LayerKinds.Resize, LayerKinds.Dequantize], artifact.Layers.Select(l => l.Kind));
        Assert.Null(ArtifactGeometry.Check(artifact));
        var input = artifact.Tensors.Single(t => t.Name == "x");
        var simulator = new IntegerSimulator(artifact);
        var executor = new ReferenceExecutor(model);
        var data = new SyntheticModels(23);
        double worst = 0;
        bool differs = false;
        for (int sample = 0; sample < 20; sample++)
        {
            var x = data.Uniform(90, -1.5f, 2.5f);
            var onGrid = x.Select(v => FixedPoint.Dequantize(FixedPoint.Quantize(v, input.Scale, input.ZeroPoint, input.QMin, input.QMax), input.Scale, input.ZeroPoint)).ToArray();
            var expected = executor.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray([1, 3, 5, 6], onGrid) })["y"].ToArray<float>();
            var actual = simulator.Run(new Dictionary<string, float[]> { ["x"] = x })["y"];
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++)
            {
                double steps = Math.Abs(expected[i] - actual[i]) / input.Scale;
                worst = Math.Max(worst, steps);
                differs |= steps > 1e-3;
            }
        }
        // Exact rounding of the exact combination is within half a step; the 11-bit weights add at most 255 · 2^−11.
        Assert.True(worst <= 0.5 + 255.0 / 2048 + 1e-3, $"{transform}: {worst:0.000} steps from the float operator");
        Assert.True(differs || output[2] * output[3] <= 30, "new values are computed (not a copy)");
    }

    [Fact]
    public void ResizeOverTheChannelsStaysFloat()
    {
        // A near miss: linear over the channel axis is not the layer's two trailing axes.
        var model = Linear("half_pixel", [1, 2, 1, 1], null, [1, 6, 5, 6]);
        var artifact = FusedActivationTests.Quantize(model, new SyntheticModels(22).Calibration([1, 3, 5, 6], 32, -1, 2));
        Assert.DoesNotContain(artifact.Layers, l => l.Kind == LayerKinds.Resize);
        Assert.Contains(artifact.Layers, l => l.Kind == FloatLayers.Prefix + "Resize");
    }

    [Fact]
    public void ATableEntryOutsideTheInputOrAWeightAboveOneIsRefused()
    {
        var artifact = FusedActivationTests.Quantize(Linear("half_pixel", [1, 1, 2, 2], null, [1, 3, 10, 12]), new SyntheticModels(22).Calibration([1, 3, 5, 6], 32, -1, 2));
        var resize = artifact.Layers.Single(l => l.Kind == LayerKinds.Resize);
        QuantizedArtifact With(string blob, int at, int value)
        {
            var values = resize.GetBlob(blob).Values.AsArray().ToArray();
            values[at] = value;
            return artifact with { Layers = new(artifact.Layers.Select(l => l == resize ? l with { Blobs = new(l.Blobs.Select(b => b.Key == blob ? b with { Values = new(values) } : b).ToArray()) } : l).ToArray()) };
        }
        Assert.Contains("'rows' entry 1 reads", ArtifactGeometry.Check(With("rows", 4, 5)));
        Assert.Contains("'columns' entry 0 has weight 2049", ArtifactGeometry.Check(With("columns", 2, 2049)));
    }
}
