using QuantGen.Core.Artifact;
using static QuantGen.Tests.Cli.CliProcess;

namespace QuantGen.Tests.Cli;

/// <summary>--float-nodes on quantize (issue 17): the named nodes become float layers; an unknown name is QG0028 on one line.</summary>
public sealed class FloatNodesCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("quantgen-floatnodes-").FullName;

    private static string Model => RealModels.RealModelPaths.Fashion("fashion_cnn");

    private static string Calibration => Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TheNamedNodesRunInFloat()
    {
        var output = Path.Combine(_dir, "fashion_cnn.qgart");
        // Repeated, with an empty entry and a duplicate: all ignored but the two names.
        var (code, text, err) = Quantgen("quantize", Model, "--calibration", Calibration, "--algorithms", "none", "--output", output,
            "--float-nodes", "/Relu;;", "--float-nodes", "/Relu_1;/Relu");
        Assert.True(code == 0, err);
        var artifact = ArtifactText.Read(File.ReadAllText(output));
        Assert.Equal(["/Relu", "/Relu_1"], artifact.Layers.Where(l => FloatLayers.IsFloat(l.Kind)).Select(l => l.Name));
        Assert.Equal(2, artifact.Layers.Count(l => l.Kind == LayerKinds.Conv));
        Assert.Contains("warning QG0022: 2 nodes run in float (requested in FloatNodes; ", text);
    }

    [Fact]
    public void AnUnknownNameIsQg0028()
    {
        var (code, _, err) = Quantgen("quantize", Model, "--calibration", Calibration, "--output", Path.Combine(_dir, "x.qgart"), "--float-nodes", "/conv1/Conv;/Rlu_1");
        Assert.Equal(1, code);
        Assert.Matches(@"^\S*fashion_cnn\.onnx: error QG0028: FloatNodes names 1 node the model does not have: '/Rlu_1' \(did you mean '/Relu_1'\?\)\. .+\n$", err.Replace("\r", ""));
        Assert.DoesNotContain("   at ", err);
        Assert.False(File.Exists(Path.Combine(_dir, "x.qgart")));
    }
}
