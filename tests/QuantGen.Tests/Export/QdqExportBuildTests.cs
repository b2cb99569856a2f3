using Microsoft.ML.OnnxRuntime;
using QuantGen.Core.Artifact;
using QuantGen.Tests.EndToEnd;
using QuantGen.Tests.RealModels;

namespace QuantGen.Tests.Export;

/// <summary>ExportQdq="true" on a QuantModel item: the build writes NAME.qdq.onnx to obj/ beside the artifact.</summary>
public sealed class QdqExportBuildTests
{
    [Fact]
    public void ExportQdqWritesTheQdqModelOfTheBuiltArtifact()
    {
        using var project = new ConsumerProject(
            """<QuantModel Include="Models/fashion_cnn.onnx" ClassName="FashionCnn" Namespace="Demo" Calibration="Data/calib.npy" ExportQdq="true" />""",
            "System.Console.WriteLine(Demo.FashionCnn.OutputLength);");
        project.Copy(RealModelPaths.Fashion("fashion_cnn"), "Models/fashion_cnn.onnx");
        project.Copy(Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy"), "Data/calib.npy");
        var (code, log) = project.Build();
        Assert.True(code == 0, log);
        var quantgen = project.Path("obj", "Debug", "net10.0", "quantgen");
        Assert.Contains("QDQ model", log);
        var artifact = ArtifactText.Read(File.ReadAllText(Path.Combine(quantgen, "fashion_cnn.qgart")));
        using var session = new InferenceSession(Path.Combine(quantgen, "fashion_cnn.qdq.onnx"), new SessionOptions { IntraOpNumThreads = 1 });
        var (agreement, maxLsb, _, _, _) = QdqExportTests.Compare(artifact, session, 100);
        Assert.Equal(1.0, agreement);
        Assert.Equal(0, maxLsb);
    }
}
