using QuantGen.Core.Artifact;
using QuantGen.Core.Execution;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;

namespace QuantGen.Tests.Quantization;

/// <summary>
/// Data movement as a Remap layer (docs/artifact.md): each op, quantized alone (x → op → y), must run as
/// Quantize → Remap → Dequantize, and the simulator's output must equal, bit for bit, the float reference operator
/// run on the dequantized input (moving elements commutes with the grid). The expected values come from the
/// reference executor on the original model, not from the map.
/// </summary>
public sealed class RemapLayerTests
{
    private static readonly long[] InputShape = [1, 3, 4, 5];

    public static TheoryData<string> MovementCases =>
    [
        "transpose", "transpose_inner", "slice_negative_step", "pad_constant", "pad_reflect", "pad_edge",
        "resize_half_pixel", "resize_asymmetric_floor", "resize_align_corners_ceil", "resize_sizes_pytorch", "gather",
    ];

    internal static Model Movement(string name)
    {
        var g = new SyntheticModels(11);
        long[] output;
        switch (name)
        {
            case "transpose":
                g.Node("Transpose", "t", ["x"], "y", SyntheticModels.Ints("perm", 0, 2, 3, 1));
                output = [1, 4, 5, 3];
                break;
            case "transpose_inner":
                g.Node("Transpose", "t", ["x"], "y", SyntheticModels.Ints("perm", 0, 1, 3, 2));
                output = [1, 3, 5, 4];
                break;
            case "slice_negative_step":
                // Channels 0 and 2; columns 4, 2, 0.
                g.Node("Slice", "s", ["x", g.ConstantInt64s("starts", 0, -1), g.ConstantInt64s("ends", 3, -100), g.ConstantInt64s("axes", 1, 3), g.ConstantInt64s("steps", 2, -2)], "y");
                output = [1, 2, 4, 3];
                break;
            case "pad_constant":
            case "pad_reflect":
            case "pad_edge":
                g.Node("Pad", "p", ["x", g.ConstantInt64s("pads", 0, 0, 1, 2, 0, 0, 2, 1)], "y", SyntheticModels.String("mode", name[4..]));
                output = [1, 3, 7, 8];
                break;
            case "resize_half_pixel":
                g.Node("Resize", "r", ["x", "", g.Constant("scales", [4], [1, 1, 2, 2])], "y", SyntheticModels.String("mode", "nearest"));
                output = [1, 3, 8, 10];
                break;
            case "resize_asymmetric_floor":
                g.Node("Resize", "r", ["x", "", g.Constant("scales", [4], [1, 1, 2, 3])], "y", SyntheticModels.String("mode", "nearest"),
                    SyntheticModels.String("coordinate_transformation_mode", "asymmetric"), SyntheticModels.String("nearest_mode", "floor"));
                output = [1, 3, 8, 15];
                break;
            case "resize_align_corners_ceil":
                g.Node("Resize", "r", ["x", "", g.Constant("scales", [4], [1, 1, 1.5f, 2])], "y", SyntheticModels.String("mode", "nearest"),
                    SyntheticModels.String("coordinate_transformation_mode", "align_corners"), SyntheticModels.String("nearest_mode", "round_prefer_ceil"));
                output = [1, 3, 6, 10];
                break;
            case "resize_sizes_pytorch":
                g.Node("Resize", "r", ["x", "", "", g.ConstantInt64s("sizes", 1, 3, 7, 9)], "y", SyntheticModels.String("mode", "nearest"),
                    SyntheticModels.String("coordinate_transformation_mode", "pytorch_half_pixel"), SyntheticModels.String("nearest_mode", "ceil"));
                output = [1, 3, 7, 9];
                break;
            case "gather":
                g.Node("Gather", "g", ["x", g.ConstantInt64s("indices", 4, 0, 0, 2)], "y", SyntheticModels.Int("axis", 3));
                output = [1, 3, 4, 4];
                break;
            case "resize_linear":
                g.Node("Resize", "r", ["x", "", g.Constant("scales", [4], [1, 1, 2, 2])], "y", SyntheticModels.String("mode", "linear"));
                output = [1, 3, 8, 10];
                break;
            default:
                throw new ArgumentException(name);
        }
        return g.Build(name, InputShape, output);
    }

    [Theory]
    [MemberData(nameof(MovementCases))]
    public void DataMovementIsARemapEqualToTheFloatOperator(string name)
    {
        var model = Movement(name);
        var artifact = FusedActivationTests.Quantize(model, new SyntheticModels(12).Calibration([1, 3, 4, 5], 32, -1, 2));
        Assert.Equal([LayerKinds.Quantize, LayerKinds.Remap, LayerKinds.Dequantize], artifact.Layers.Select(l => l.Kind));
        Assert.Null(ArtifactGeometry.Check(artifact));
        var input = artifact.Tensors.Single(t => t.Name == "x");
        var simulator = new IntegerSimulator(artifact);
        var executor = new ReferenceExecutor(model);
        var data = new SyntheticModels(13);
        for (int sample = 0; sample < 5; sample++)
        {
            var x = data.Uniform(60, -1.5f, 2.5f); // beyond the calibrated range too: the clamp happens at Quantize
            var onGrid = x.Select(v => FixedPoint.Dequantize(FixedPoint.Quantize(v, input.Scale, input.ZeroPoint, input.QMin, input.QMax), input.Scale, input.ZeroPoint)).ToArray();
            var expected = executor.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray([1, 3, 4, 5], onGrid) })["y"].ToArray<float>();
            var actual = simulator.Run(new Dictionary<string, float[]> { ["x"] = x })["y"];
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void ResizeInLinearModeIsNotARemap()
    {
        // A near miss: linear interpolation computes new values, so the index map must not claim it.
        var artifact = FusedActivationTests.Quantize(Movement("resize_linear"), new SyntheticModels(12).Calibration([1, 3, 4, 5], 32, -1, 2));
        Assert.DoesNotContain(artifact.Layers, l => l.Kind == LayerKinds.Remap);
        Assert.Contains(artifact.Layers, l => l.Kind == LayerKinds.Resize); // ResizeLayerTests
    }

    [Fact]
    public void PadFillsWithTheZeroPointWhenZeroIsInsideTheRange()
    {
        // Inputs in [0.5, 2]: the grid still holds real 0 (ranges always include it), and the padded positions are its zero point.
        var artifact = FusedActivationTests.Quantize(Movement("pad_constant"), new SyntheticModels(14).Calibration([1, 3, 4, 5], 32, 0.5f, 2));
        var remap = artifact.Layers.Single(l => l.Kind == LayerKinds.Remap);
        var input = artifact.Tensors.Single(t => t.Name == "x");
        Assert.Equal(input.ZeroPoint, remap.GetInt("fill"));
        Assert.Equal(0f, FixedPoint.Dequantize(remap.GetInt("fill"), input.Scale, input.ZeroPoint));
        Assert.Equal(7 * 8 - 4 * 5, remap.GetBlob("map").Values.AsArray().Take(56).Count(v => v < 0));
    }

    [Fact]
    public void AMapEntryOutsideTheInputIsRefused()
    {
        var artifact = FusedActivationTests.Quantize(Movement("transpose"), new SyntheticModels(12).Calibration([1, 3, 4, 5], 32, -1, 2));
        var remap = artifact.Layers.Single(l => l.Kind == LayerKinds.Remap);
        var map = remap.GetBlob("map");
        var values = map.Values.AsArray();
        values[7] = 60; // the input has 60 elements: 0..59
        var hostile = artifact with { Layers = new(artifact.Layers.Select(l => l == remap ? l with { Blobs = new(l.Blobs.Select(b => b.Key == "map" ? b with { Values = new(values) } : b).ToArray()) } : l).ToArray()) };
        Assert.Contains("map entry 7 is 60", ArtifactGeometry.Check(hostile));
        Assert.Throws<ArtifactFormatException>(() => new IntegerSimulator(hostile).Run(new Dictionary<string, float[]> { ["x"] = new float[60] }));
    }
}
