using static QuantGen.Tests.Cli.CliProcess;

namespace QuantGen.Tests.Cli;

/// <summary>quantize's fine-tuning data (issue 20): a bad --training-data file is one QG0096 line, before any pass runs.</summary>
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
}
