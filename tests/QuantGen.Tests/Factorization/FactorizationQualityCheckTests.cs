using System.Text.RegularExpressions;
using QuantGen.Core;
using QuantGen.Core.IO;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;
using QuantGen.Core.Quantization.Factorization;
using QuantGen.Onnx;
using QuantGen.Tests.RealModels;

namespace QuantGen.Tests.Factorization;

/// <summary>
/// QG0019: a factorized build whose ratio cost its accuracy warns instead of shipping silently. fashion_cnn at
/// CompressionRatio 24 leaves its classifier rank 4 at 2 bits (measured 41.8% top-1 on 2000 images, output SQNR
/// 4.3 dB; docs/accuracy.md); at ratio 8 (91.95%, 23.5 dB) FactorizedConvModelTests asserts there is no warning.
/// </summary>
public sealed class FactorizationQualityCheckTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("quantgen-qg0019-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Calibration => Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy");

    [Fact]
    public void CollapsedPlanWarnsNamingTheModelAndTheWorstLayer()
    {
        var path = RealModelPaths.Fashion("fashion_cnn");
        var model = OnnxModelLoader.Load(path);
        var calibration = new CalibrationSet(new Dictionary<string, Tensor> { ["image"] = Npy.Read(Calibration) });
        var result = ModelQuantizer.Quantize(model, new QuantizationOptions { Compression = WeightCompression.Factorized, CompressionRatio = 24 }, calibration);

        var warning = Assert.Single(result.Warnings);
        Assert.Equal(ErrorCodes.PoorFactorization, warning.Code);
        Assert.Equal(model.Path, warning.ModelPath);
        Assert.Contains("CompressionRatio=24", warning.Message);
        Assert.Contains("lower CompressionRatio", warning.Message);
        // The classifier is the worst layer: named first.
        Assert.Matches(@"Worst factorized layers: '/fc/Gemm' ", warning.Message);
        Assert.True(result.CalibrationSqnrDb < FactorizationQualityCheck.MinOutputSqnrDb, $"output SQNR {result.CalibrationSqnrDb} dB");
        Assert.Contains($"**Warning {ErrorCodes.PoorFactorization}:**", result.ReportMarkdown);
    }

    [Fact]
    public void TheCliPrintsTheWarningAsAnMSBuildLineAndStillWritesTheArtifact()
    {
        var model = RealModelPaths.Fashion("fashion_cnn");
        var artifact = Path.Combine(_dir, "fashion_cnn.qgart");
        var output = new StringWriter();
        var error = new StringWriter();
        int code = QuantGen.Cli.Program.Run(
            ["quantize", model, "--output", artifact, "--calibration", Calibration, "--compression", "factorized", "--compression-ratio", "24"], output, error);
        Assert.True(code == 0, error.ToString());
        Assert.True(File.Exists(artifact));
        // The line QuantGen.Build's QuantizeModel turns into an MSBuild warning: "file: warning QGnnnn: message".
        var line = Assert.Single(output.ToString().Split('\n'), l => l.Contains(" warning QG", StringComparison.Ordinal)).TrimEnd('\r');
        var match = Regex.Match(line, @"^(?<file>.*?): (?<kind>error|warning) (?<code>QG\d{4}): (?<message>.*)$");
        Assert.True(match.Success, line);
        Assert.Equal(model, match.Groups["file"].Value);
        Assert.Equal("QG0019", match.Groups["code"].Value);
        Assert.Contains("'/fc/Gemm'", match.Groups["message"].Value);
    }
}
