using System.Globalization;
using System.Text.RegularExpressions;
using QuantGen.Core.Artifact;
using QuantGen.Tests.RealModels;
using Xunit.Abstractions;

namespace QuantGen.Tests.EndToEnd;

/// <summary>
/// Mixed precision (issue 21) through `dotnet build` of a consumer project: SizeBudget / AverageWeightBits on a
/// QuantModel item reach the quantizer through the MSBuild task; the per-layer widths the report gives are the widths
/// of the artifact's integers, and their bytes are within the budget; a bad or unreachable budget is a QG error.
/// </summary>
public sealed partial class MixedPrecisionBuildTests(ITestOutputHelper output)
{
    private const string Program = """Console.WriteLine(Demo.FashionCnn.OutputLength);""";

    private static ConsumerProject Consumer(string budget)
    {
        var project = new ConsumerProject(
            $"""<QuantModel Include="Models/fashion_cnn.onnx" ClassName="FashionCnn" Namespace="Demo" Calibration="Data/calib.npy" Algorithms="none" {budget} />""", Program);
        project.Copy(RealModelPaths.Fashion("fashion_cnn"), "Models/fashion_cnn.onnx");
        project.Copy(Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy"), "Data/calib.npy");
        return project;
    }

    /// <summary>
    /// SizeBudget="8000B": the CNN's three weighted layers (144, 4608 and 15680 weights; uniform W4 takes 10448 bytes)
    /// must go below 4 bits on average. Each layer's width in the report is checked against its integers in the
    /// artifact (within ±(2^(b−1) − 1)), and Σ ⌈n·b/8⌉ + 4 bytes per output channel's scale, computed here from the
    /// artifact, is the chosen size the build prints and at most the budget.
    /// </summary>
    [Fact]
    public void ASizeBudgetOnTheItemChoosesPerLayerWidthsWithinIt()
    {
        const long Budget = 8000;
        using var project = Consumer($"SizeBudget=\"{Budget}B\"");
        var (code, log) = project.Build();
        Assert.True(code == 0, log);
        // The build's summary line (not its progress lines, which also start "quantgen: fashion_cnn:").
        var summary = log.Split('\n').First(l => l.Contains("quantgen: fashion_cnn:", StringComparison.Ordinal) && l.Contains(" weight bytes", StringComparison.Ordinal));
        Assert.Contains($"mixed precision (SizeBudget {Budget} bytes)", summary);
        long printed = long.Parse(ChosenBytes().Match(summary).Groups[1].Value, CultureInfo.InvariantCulture);

        var quantgen = project.Path("obj", "Debug", "net10.0", "quantgen");
        var artifact = ArtifactText.Read(File.ReadAllText(Path.Combine(quantgen, "fashion_cnn.qgart")));
        var report = File.ReadAllText(Path.Combine(quantgen, "fashion_cnn.quant.md"));
        Assert.Contains("## Mixed precision (HAWQ-V2)", report);
        long bytes = 0;
        var widths = new List<int>();
        foreach (var layer in artifact.Layers.Where(l => l.Kind is LayerKinds.Conv or LayerKinds.FullyConnected))
        {
            // The sensitivity table's row for the layer: | name | parameters | tr/n | Ω at 2, 3, 4, 8 bits | bits |.
            var row = report.Split('\n').First(l => l.StartsWith($"| {layer.Name} | ", StringComparison.Ordinal) && l.Split('|').Length == 10);
            var cells = row.Split('|').Select(c => c.Trim()).ToArray();
            int parameters = int.Parse(cells[2], CultureInfo.InvariantCulture), bits = int.Parse(cells[8], CultureInfo.InvariantCulture);
            var weights = layer.GetBlob("weights").Values.AsArray();
            Assert.Equal(parameters, weights.Length);
            int limit = (1 << (bits - 1)) - 1;
            Assert.True(weights.All(w => Math.Abs(w) <= limit), $"{layer.Name}: {bits} bits in the report, weights up to {weights.Max(Math.Abs)} in the artifact");
            bytes += (parameters * (long)bits + 7) / 8 + 4L * layer.GetBlob("multiplier").Values.Count;
            widths.Add(bits);
        }
        output.WriteLine($"SizeBudget {Budget} B: widths {string.Join(" ", widths)}, {bytes} weight bytes ({printed} printed); {summary.Trim()}");
        Assert.Equal(3, widths.Count);
        Assert.Equal(bytes, printed);
        Assert.True(bytes <= Budget, $"{bytes} bytes over the budget of {Budget}");
        // Below uniform W4's bytes, so some layer is under 4 bits; not everything at the fewest bits either.
        Assert.Contains(widths, b => b < 4);
        Assert.Contains(widths, b => b > 2);
    }

    /// <summary>AverageWeightBits="3" on the item: the build prints that budget and a mean width of at most 3.</summary>
    [Fact]
    public void AnAverageWeightBitsBudgetOnTheItemIsRespected()
    {
        using var project = Consumer("AverageWeightBits=\"3\"");
        var (code, log) = project.Build();
        Assert.True(code == 0, log);
        // The build's summary line (not its progress lines, which also start "quantgen: fashion_cnn:").
        var summary = log.Split('\n').First(l => l.Contains("quantgen: fashion_cnn:", StringComparison.Ordinal) && l.Contains(" weight bytes", StringComparison.Ordinal));
        Assert.Contains("mixed precision (AverageWeightBits 3 (", summary);
        var mean = double.Parse(MeanBits().Match(summary).Groups[1].Value, CultureInfo.InvariantCulture);
        output.WriteLine(summary.Trim());
        Assert.InRange(mean, 2.0, 3.0);
    }

    [Theory]
    [InlineData("SizeBudget=\"48GB\"", "QG0091", "SizeBudget")]
    [InlineData("AverageWeightBits=\"9\"", "QG0091", "AverageWeightBits")]
    [InlineData("SizeBudget=\"4KB\" AverageWeightBits=\"4\"", "QG0091", "both")]
    [InlineData("SizeBudget=\"100B\"", "QG0090", "cannot be met")]
    public void ABadBudgetIsAQgErrorThroughMsBuild(string budget, string errorCode, string words)
    {
        using var project = Consumer(budget);
        var (code, log) = project.Build();
        Assert.NotEqual(0, code);
        var line = log.Split('\n').FirstOrDefault(l => l.Contains($"error {errorCode}", StringComparison.Ordinal));
        Assert.True(line is not null, $"no {errorCode} error in:\n{log}");
        Assert.Contains(words, line);
        Assert.Contains("fashion_cnn.onnx", line);
        Assert.DoesNotContain("   at ", log);
        Assert.False(File.Exists(project.Path("obj", "Debug", "net10.0", "quantgen", "fashion_cnn.qgart")), "an artifact was written");
        output.WriteLine(line.Trim());
    }

    [GeneratedRegex(@"\): (\d+) weight bytes")]
    private static partial Regex ChosenBytes();

    [GeneratedRegex(@"weight bytes, mean (\d+(?:\.\d+)?) bits")]
    private static partial Regex MeanBits();
}
