using QuantGen.Core.Artifact;
using static QuantGen.Tests.Cli.CliProcess;

namespace QuantGen.Tests.Cli;

/// <summary>
/// --quantized-attention on quantize (the CLI spelling of QuantizedAttention, which the build passes on): the attention
/// products of the test transformer become quantized MatMul layers only when it is true; a bad value is QG0015.
/// </summary>
public sealed class QuantizedAttentionCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("quantgen-attention-").FullName;

    private static string Model => Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_transformer.onnx");

    private static string Calibration => Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TrueQuantizesTheAttentionProductsAndTheDefaultKeepsThemInFloat()
    {
        var quantized = Quantize("--quantized-attention", "true");
        // Q·Kᵀ of each of the two blocks; attention·V reads the float Softmax and stays float.
        Assert.Equal(2, quantized.Layers.Count(l => l.Kind == LayerKinds.MatMul));
        Assert.Equal(2, quantized.Layers.Count(l => l.Kind == FloatLayers.Kind("MatMul")));
        var byDefault = Quantize();
        Assert.DoesNotContain(byDefault.Layers, l => l.Kind == LayerKinds.MatMul);
        Assert.Equal(4, byDefault.Layers.Count(l => l.Kind == FloatLayers.Kind("MatMul")));
    }

    [Fact]
    public void ABadValueIsQg0015()
    {
        var (code, _, err) = Quantgen("quantize", Model, "--calibration", Calibration, "--output", Path.Combine(_dir, "x.qgart"), "--quantized-attention", "sometimes");
        Assert.Equal(1, code);
        Assert.Contains("error QG0015: QuantizedAttention: 'sometimes' must be true or false.", err);
        Assert.DoesNotContain("   at ", err);
        Assert.False(File.Exists(Path.Combine(_dir, "x.qgart")));
    }

    private QuantizedArtifact Quantize(params string[] extra)
    {
        var output = Path.Combine(_dir, $"t{extra.Length}.qgart");
        var (code, _, err) = Quantgen(["quantize", Model, "--calibration", Calibration, "--algorithms", "none", "--output", output, .. extra]);
        Assert.True(code == 0, err);
        return ArtifactText.Read(File.ReadAllText(output));
    }
}
