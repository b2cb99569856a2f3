using QuantGen.Core;
using QuantGen.Core.IO;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;
using QuantGen.Onnx;
using QuantGen.Tests.RealModels;

namespace QuantGen.Tests.Training;

/// <summary>Algorithms "finetune" end to end through the quantizer.</summary>
public sealed class FineTuningTests
{
    private static readonly Lazy<CalibrationSet> Calibration = new(() =>
        new CalibrationSet(new Dictionary<string, Tensor> { ["image"] = Npy.Read(Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy")) }));

    [Fact]
    public void FineTuningRaisesTheOutputSqnrOfA2BitMlpOverNearestRounding()
    {
        var model = OnnxModelLoader.Load(RealModelPaths.Fashion("fashion_mlp"));
        var plain = ModelQuantizer.Quantize(model, new QuantizationOptions { WeightBits = 2, Algorithms = QuantizationAlgorithms.Cle, MaxCalibrationSamples = 128 }, Calibration.Value);
        var tuned = ModelQuantizer.Quantize(model, new QuantizationOptions
        {
            WeightBits = 2,
            Algorithms = QuantizationAlgorithms.Cle | QuantizationAlgorithms.FineTune,
            MaxCalibrationSamples = 128,
            FineTuneSteps = 100,
            FineTuneBatch = 16,
        }, Calibration.Value);
        Assert.Equal("bn-fold;cle;finetune", tuned.Artifact.GetMetadata("algorithms"));
        Assert.True(tuned.CalibrationSqnrDb > plain.CalibrationSqnrDb + 3, $"SQNR {plain.CalibrationSqnrDb:F2} dB → {tuned.CalibrationSqnrDb:F2} dB");
    }

    [Fact]
    public void FineTuningWithoutCalibrationDataIsAnOptionError()
    {
        var model = OnnxModelLoader.Load(RealModelPaths.Fashion("fashion_mlp"));
        var e = Assert.Throws<ModelException>(() => ModelQuantizer.Quantize(model, new QuantizationOptions
        {
            Algorithms = QuantizationAlgorithms.FineTune,
            InputStatistics = InputStatistics.Parse("0,1", null, null),
        }, null));
        Assert.Equal(ErrorCodes.InvalidOption, e.Code);
        Assert.Contains("finetune needs calibration data", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AlgorithmsParseAndFormatFinetune()
    {
        Assert.Equal(QuantizationAlgorithms.Cle | QuantizationAlgorithms.FineTune, QuantizationOptions.ParseAlgorithms("cle;finetune"));
        Assert.Equal("cle;adaround;finetune", QuantizationOptions.Format(QuantizationAlgorithms.Cle | QuantizationAlgorithms.AdaRound | QuantizationAlgorithms.FineTune));
    }
}
