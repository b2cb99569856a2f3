using QuantGen.Core;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;
using QuantGen.Tests.BadInput;
using static QuantGen.Tests.Quantization.SyntheticModels;

namespace QuantGen.Tests.Quantization;

/// <summary>
/// What the user states about the inputs: their distribution for a data-free build (InputRange, InputMean/InputStd;
/// none is QG0021, never a silent [0, 1]) and their shapes where the model leaves dims symbolic (InputShape).
/// </summary>
public sealed class InputSettingsTests
{
    [Fact]
    public void DataFreeWithoutAnInputRangeStopsNamingTheInputAndTheLineToAdd()
    {
        var model = SyntheticModels.ConvLeakyMax();
        var e = Assert.Throws<ModelException>(() => ModelQuantizer.Quantize(model, new QuantizationOptions(), null));
        Assert.Equal(ErrorCodes.MissingInputRange, e.Code);
        Assert.Contains("input 'x'", e.Message);
        Assert.Contains("InputRange=\"MIN,MAX\"", e.Message);
        Assert.Contains("InputMean", e.Message);
        Assert.Equal(model.Path, e.ModelPath);
    }

    [Fact]
    public void TheStatedRangeIsTheInputGridAndTheReportSaysWhatWasAssumed()
    {
        var model = SyntheticModels.ConvLeakyMax();
        var unit = Quantize(model, "0,1", null, null);
        var symmetric = Quantize(model, "-1,1", null, null);
        var (unitMin, unitMax) = InputBounds(unit);
        var (symMin, symMax) = InputBounds(symmetric);
        Assert.Equal(0f, unitMin, 1e-6f);
        Assert.Equal(1f, unitMax, 1e-6f);
        Assert.Equal(-1f, symMin, 0.01f);
        Assert.Equal(1f, symMax, 0.01f);
        // The propagated ranges follow: a wider input widens the first conv's output grid.
        Assert.True(OutputScale(symmetric, 0) > OutputScale(unit, 0) * 1.3, "the first layer's range did not follow the input range");
        Assert.Contains("Inputs (assumed, data-free): x [-1, 1] (mean 0, std 0.57735", symmetric.ReportMarkdown);
        Assert.Contains("x [-1, 1]", symmetric.Artifact.GetMetadata("inputRanges"));
    }

    [Fact]
    public void MeanAndStdCoverFourSigmas()
    {
        var result = Quantize(SyntheticModels.ConvLeakyMax(), null, "0.5", "0.25");
        var (min, max) = InputBounds(result);
        Assert.Equal(-0.5f, min, 0.01f);
        Assert.Equal(1.5f, max, 0.01f);
        Assert.Contains("x [-0.5, 1.5] (mean 0.5, std 0.25)", result.ReportMarkdown);
    }

    [Theory]
    [InlineData("1,0", null, null, "MIN < MAX")]
    [InlineData("0;1", null, null, "not MIN,MAX")]
    [InlineData("0,inf", null, null, "not MIN,MAX")]
    [InlineData(null, "0.5", null, "must name the same inputs")]
    [InlineData(null, "0.5", "0", "positive number")]
    [InlineData("0,1", "0.5", "0.1", "twice")]
    // A name given twice, or an empty name, is a QG0015 naming the setting (the parsers once threw ArgumentException here).
    [InlineData(null, "x=0.5;x=0.6", "x=0.1", "InputMean=\"x=0.5;x=0.6\" gives input 'x' twice")]
    [InlineData(null, "0.5", "0.1;0.2", "InputStd=\"0.1;0.2\" gives the input twice")]
    [InlineData("=0,1", null, null, "InputRange: '=0,1' has an empty name")]
    public void BadInputSettingsAreQg0015(string? range, string? mean, string? std, string words)
    {
        var e = Assert.Throws<ModelException>(() => InputStatistics.Parse(range, mean, std));
        Assert.Equal(ErrorCodes.InvalidOption, e.Code);
        Assert.Contains(words, e.Message);
    }

    [Fact]
    public void InputShapeResolvesSymbolicDims()
    {
        var model = SymbolicConv();
        var e = Assert.Throws<ModelException>(() => ModelQuantizer.Quantize(model, UnitRange(), null));
        Assert.Equal(ErrorCodes.BadShape, e.Code);
        Assert.Contains("InputShape=\"1,2,height,width\"", e.Message);

        var result = ModelQuantizer.Quantize(model, UnitRange() with { InputShapes = Core.Passes.ShapeOptions.ParseInputShapes(["1,2,6,5"], "InputShape") }, null);
        Assert.Equal([1, 2, 6, 5], result.Artifact.GetTensor(result.Artifact.Inputs[0].Tensor).Shape.ToArray());
        Assert.Equal([1, 4, 1, 1], result.Artifact.GetTensor(result.Artifact.Outputs[0].Tensor).Shape.ToArray());
        // By name, as InputShapes gives it.
        var named = ModelQuantizer.Quantize(model, UnitRange() with { InputShapes = Core.Passes.ShapeOptions.ParseInputShapes(["x=1,2,7,3"], "InputShapes") }, null);
        Assert.Equal([1, 2, 7, 3], named.Artifact.GetTensor(named.Artifact.Inputs[0].Tensor).Shape.ToArray());
    }

    [Theory]
    [InlineData("1,2,6", "rank 3")]
    [InlineData("1,3,6,5", "fixes it at 2")]
    [InlineData("z=1,2,6,5", "input 'z', which the model does not have")]
    public void BadInputShapesAreQg0015NamingTheSetting(string setting, string words)
    {
        var options = UnitRange() with { InputShapes = Core.Passes.ShapeOptions.ParseInputShapes([setting], "InputShape") };
        var e = Assert.Throws<ModelException>(() => ModelQuantizer.Quantize(SymbolicConv(), options, null));
        Assert.Equal(ErrorCodes.InvalidOption, e.Code);
        Assert.Contains("InputShape", e.Message);
        Assert.Contains(words, e.Message);
    }

    [Theory]
    [InlineData("1,2,0,5")]
    [InlineData("1,2,-6,5")]
    [InlineData("1,2,x,5")]
    public void NonPositiveOrNonNumericDimsAreRefusedWhenParsed(string setting)
    {
        var e = Assert.Throws<ModelException>(() => Core.Passes.ShapeOptions.ParseInputShapes([setting], "InputShape"));
        Assert.Equal(ErrorCodes.InvalidOption, e.Code);
        Assert.Contains("must be a positive integer", e.Message);
    }

    /// <summary>x [N, 2, height, width] → Conv 3×3 pad 1 → GlobalAveragePool → y [N, 4, 1, 1].</summary>
    private static Model SymbolicConv()
    {
        var g = new SyntheticModels(5);
        g.Node("Conv", "conv", ["x", g.Weights("w", 4, 2, 3, 3)], "c", Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1))
            .Node("GlobalAveragePool", "pool", ["c"], "y");
        return g.Build("symbolic", ModelBuilder.SymbolicValue("x", "N", "2", "height", "width"), ModelBuilder.SymbolicValue("y", "N", "4", "1", "1"));
    }

    private static QuantizationOptions UnitRange() => new() { InputStatistics = InputStatistics.Parse("0,1", null, null) };

    private static QuantizationResult Quantize(Model model, string? range, string? mean, string? std) =>
        ModelQuantizer.Quantize(model, new QuantizationOptions { InputStatistics = InputStatistics.Parse(range, mean, std) }, null);

    private static (float Min, float Max) InputBounds(QuantizationResult result)
    {
        // The first layer quantizes the float input: its output tensor holds the input grid.
        var artifact = result.Artifact;
        var quantized = artifact.GetTensor(artifact.Layers[0].Outputs[0]);
        return (quantized.Scale * (quantized.QMin - quantized.ZeroPoint), quantized.Scale * (quantized.QMax - quantized.ZeroPoint));
    }

    private static float OutputScale(QuantizationResult result, int convIndex)
    {
        var artifact = result.Artifact;
        var conv = artifact.Layers.Where(l => l.Kind == Core.Artifact.LayerKinds.Conv).ElementAt(convIndex);
        return artifact.GetTensor(conv.Outputs[0]).Scale;
    }
}
