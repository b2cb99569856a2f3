using QuantGen.Core.Artifact;
using QuantGen.Tests.RealModels;
using Xunit.Abstractions;

namespace QuantGen.Tests.EndToEnd;

/// <summary>
/// FloatNodes on a QuantModel item (issue 17) through `dotnet build`: an unknown name stops the build with QG0028
/// naming the metadata, the name and the model; the fixed item builds with the named node as a float layer of the
/// artifact the generated class compiles from, and says so in QG0022 and the report.
/// </summary>
public sealed class FloatNodesBuildTests(ITestOutputHelper output)
{
    private static string Item(string floatNodes) =>
        $"""<QuantModel Include="Models/fashion_cnn.onnx" ClassName="FashionCnn" Namespace="Demo" Calibration="Data/calib.npy" Algorithms="none" FloatNodes="{floatNodes}" />""";

    [Fact]
    public void FloatNodesOnTheItemKeepsTheNodeInFloat()
    {
        using var project = new ConsumerProject(Item("/Relu_1;/Rleu"), """Console.WriteLine(Demo.FashionCnn.OutputLength);""");
        project.Copy(RealModelPaths.Fashion("fashion_cnn"), "Models/fashion_cnn.onnx");
        project.Copy(Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy"), "Data/calib.npy");
        var quantgen = project.Path("obj", "Debug", "net10.0", "quantgen");

        var (code, log) = project.Build();
        Assert.NotEqual(0, code);
        var line = log.Split('\n').FirstOrDefault(l => l.Contains("error QG0028", StringComparison.Ordinal));
        Assert.True(line is not null, $"no QG0028 error in:\n{log}");
        Assert.Contains("fashion_cnn.onnx", line);
        Assert.Contains("FloatNodes names 1 node the model does not have: '/Rleu' (did you mean '/Relu'?)", line);
        Assert.DoesNotContain("   at ", log);
        Assert.False(File.Exists(Path.Combine(quantgen, "fashion_cnn.qgart")), "an artifact was written");
        output.WriteLine(line.Trim());

        // Empty entries and a duplicate are ignored.
        project.ReplaceItem(Item(" /Relu_1 ;;/Relu_1;"));
        (code, log) = project.Build();
        Assert.True(code == 0, log);
        Assert.Contains("warning QG0022: 1 node runs in float (requested in FloatNodes; ", log);
        var artifact = ArtifactText.Read(File.ReadAllText(Path.Combine(quantgen, "fashion_cnn.qgart")));
        var relu = Assert.Single(artifact.Layers, l => FloatLayers.IsFloat(l.Kind));
        Assert.Equal("/Relu_1", relu.Name);
        Assert.Equal(2, artifact.Layers.Count(l => l.Kind == LayerKinds.Conv));
        Assert.Contains("Float nodes requested (FloatNodes): /Relu_1 (Relu)", File.ReadAllText(Path.Combine(quantgen, "fashion_cnn.quant.md")));
    }
}
