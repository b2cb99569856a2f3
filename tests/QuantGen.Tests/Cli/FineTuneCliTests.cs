using System.CommandLine;
using System.Text.RegularExpressions;
using QuantGen.Cli;
using static QuantGen.Tests.Cli.CliProcess;

namespace QuantGen.Tests.Cli;

/// <summary>
/// quantize's fine-tuning data and knobs (issue 20): a bad --training-data file is one QG0096 line, before any pass
/// runs; the batch and temperature parse from their CLI spellings, and bad values are one QG0015 line.
/// </summary>
public sealed class FineTuneCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("quantgen-finetune-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void AMissingTrainingDataFileIsOneQG0096Line()
    {
        var (code, _, err) = Quantgen("quantize", RealModels.RealModelPaths.Fashion("fashion_mlp"), "--output", Path.Combine(_dir, "m.qgart"),
            "--calibration", Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy"), "--weight-bits", "2",
            "--algorithms", "cle;adaround;finetune", "--training-data", Path.Combine(_dir, "missing.npy"));
        Assert.Equal(1, code);
        Assert.Contains("error QG0096", err);
        Assert.Contains("missing.npy", err);
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public void BatchAndTemperatureParseFromTheirCliSpellings()
    {
        var command = new Command("quantize");
        var set = new QuantizeOptionSet();
        set.AddTo(command);
        var options = set.Read(command.Parse(["--finetune-batch", " 64", "--finetune-temperature", "2.5", "--finetune-loss", "kl", "--finetune-feature-weight", "0.5"]));
        Assert.Equal((64, 2.5f, true, 0.5f), (options.FineTuneBatch, options.ResolveFineTuneTemperature(), options.FineTuneKullbackLeibler, options.FineTuneFeatureWeight));
        var defaults = set.Read(command.Parse([]));
        Assert.Equal((16, null, 2f, 0f), (defaults.FineTuneBatch, defaults.FineTuneTemperature, defaults.ResolveFineTuneTemperature(), defaults.FineTuneFeatureWeight));
    }

    [Theory]
    [InlineData("--finetune-batch", "0", "batch 0 (1..4096)")]
    [InlineData("--finetune-batch", "8.5", "FineTuneBatch: '8.5' must be a positive integer")]
    [InlineData("--finetune-temperature", "warm", "FineTuneTemperature: 'warm' must be a number")]
    [InlineData("--finetune-temperature", "0.05", "temperature 0.05 must be in 0.1..100")]
    [InlineData("--finetune-feature-weight", "-1", "feature weight -1 must be in 0..1000")]
    [InlineData("--finetune-feature-weight", "lots", "FineTuneFeatureWeight: 'lots' must be a number")]
    public void ABadBatchOrTemperatureIsOneQG0015Line(string option, string value, string expected)
    {
        var (code, _, err) = Quantgen("quantize", RealModels.RealModelPaths.Fashion("fashion_mlp"), "--output", Path.Combine(_dir, "m.qgart"),
            "--calibration", Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy"), "--weight-bits", "2",
            "--algorithms", "cle;adaround;finetune", option, value);
        Assert.Equal(1, code);
        Assert.Contains("error QG0015", err);
        Assert.Contains(expected, err);
        Assert.DoesNotContain("   at ", err);
        Assert.False(File.Exists(Path.Combine(_dir, "m.qgart")));
    }

    [Fact]
    public void ATemperatureWithTheMseLossIsAnError()
    {
        var options = new Core.Quantization.QuantizationOptions { FineTuneKullbackLeibler = false }.WithFineTuneBatchText(null, "2");
        var e = Assert.Throws<Core.ModelException>(options.Validate);
        Assert.Equal(Core.ErrorCodes.InvalidOption, e.Code);
        Assert.Contains("FineTuneLoss=mse", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Activations below 8 bits default to MSE ranges (measured +1.05 points at W4A4), 8 and 16 bits keep min-max, and RangeMethod still wins.</summary>
    [Theory]
    [InlineData(4, null, Core.Quantization.RangeMethod.Mse)]
    [InlineData(7, null, Core.Quantization.RangeMethod.Mse)]
    [InlineData(8, null, Core.Quantization.RangeMethod.MinMax)]
    [InlineData(16, null, Core.Quantization.RangeMethod.MinMax)]
    [InlineData(4, Core.Quantization.RangeMethod.MinMax, Core.Quantization.RangeMethod.MinMax)]
    public void ActivationRangesDefaultToMseBelow8Bits(int bits, Core.Quantization.RangeMethod? set, Core.Quantization.RangeMethod expected) =>
        Assert.Equal(expected, new Core.Quantization.QuantizationOptions { ActivationBits = bits, RangeMethod = set }.ResolveActivationRanges());

    /// <summary>FineTuneCosine's schedule: the full rate at the first step, half at the middle, near 0 at the last (½(1 + cos(π (t − 1)/T))).</summary>
    [Fact]
    public void CosineScheduleDecaysFromOneToNearZero()
    {
        Assert.Equal(1f, Core.Training.FineTuning.CosineFactor(1, 200));
        Assert.Equal(0.5f, Core.Training.FineTuning.CosineFactor(101, 200), 1e-6f);
        Assert.True(Core.Training.FineTuning.CosineFactor(200, 200) is > 0f and < 1e-3f);
    }

    /// <summary>Every item metadata the QuantizeModel task reads is on the stamp line too, so changing it rebuilds the artifact (FineTuneBatch and FineTuneTemperature included).</summary>
    [Fact]
    public void EveryTaskMetadataIsOnTheStampLine()
    {
        var targets = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "build", "QuantGen.targets"));
        var stamp = Regex.Match(targets, "Lines=\"([^\"]*)\"").Groups[1].Value;
        var task = Regex.Match(targets, "<QuantizeModel\\b[^>]*>", RegexOptions.Singleline).Value;
        var read = Regex.Matches(task, @"%\(_QuantGenModel\.(\w+)\)").Select(m => m.Groups[1].Value).ToArray();
        Assert.Contains("FineTuneBatch", read);
        Assert.Contains("FineTuneTemperature", read);
        Assert.Contains("FineTuneFeatureWeight", read);
        // The model and the paths derived from it (Source, Artifact, Report, Qdq) are inputs and outputs of the target, not settings.
        foreach (var name in read.Where(n => n is not ("Identity" or "Source" or "Artifact" or "Report" or "Qdq")))
            Assert.Contains($"%(_QuantGenModel.{name})", stamp, StringComparison.Ordinal);
    }
}
