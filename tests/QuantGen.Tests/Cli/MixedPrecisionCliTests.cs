using static QuantGen.Tests.Cli.CliProcess;

namespace QuantGen.Tests.Cli;

/// <summary>quantize's mixed-precision options (issue 21): a bad budget is one QG0091 line; a good one reaches the report.</summary>
public sealed class MixedPrecisionCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("quantgen-mixed-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("--size-budget", "48GB")]
    [InlineData("--average-weight-bits", "9")]
    [InlineData("--first-layer-weight-bits", "eight")]
    public void ABadBudgetIsOneQG0091Line(string option, string value)
    {
        var (code, _, err) = Quantgen("quantize", RealModels.RealModelPaths.Fashion("fashion_cnn"), "--output", Path.Combine(_dir, "m.qgart"), option, value);
        Assert.Equal(1, code);
        Assert.Contains("error QG0091", err);
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public void AnAverageWeightBitsBudgetWritesTheFrontierIntoTheReport()
    {
        var report = Path.Combine(_dir, "m.quant.md");
        var (code, text, err) = Quantgen("quantize", RealModels.RealModelPaths.Fashion("fashion_cnn"), "--output", Path.Combine(_dir, "m.qgart"), "--report", report,
            "--calibration", Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy"), "--average-weight-bits", "4", "--algorithms", "none");
        Assert.True(code == 0, err);
        Assert.Contains("mixed precision (AverageWeightBits 4", text + err);
        Assert.Contains("## Mixed precision (HAWQ-V2)", File.ReadAllText(report));
    }
}
