using QuantGen.Core.IO;
using QuantGen.Core.Ir;
using QuantGen.Onnx;
using static QuantGen.Tests.Cli.CliProcess;

namespace QuantGen.Tests.Cli;

/// <summary>The quantgen command in-process, on real models.</summary>
public sealed class CliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("quantgen-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void InspectDescribesAModel()
    {
        var (code, text, _) = Quantgen("inspect", RealModels.RealModelPaths.Fashion("fashion_cnn_bn"));
        Assert.Equal(0, code);
        Assert.Contains("image: float[batch,1,28,28]  ->  float[1,1,28,28]", text);
        Assert.Contains("logits: float[batch,10]  ->  float[1,10]", text);
        Assert.Matches(@"BatchNormalization\s+2", text);
        Assert.Contains("opset 13", text);
        int parameters = OnnxModelLoader.Load(RealModels.RealModelPaths.Fashion("fashion_cnn_bn")).Graph.Initializers.Values.Sum(t => t.Length);
        Assert.Contains($"{parameters:N0}", text);
    }

    [Fact]
    public void InspectListsUnsupportedOpsWithTheirNodes()
    {
        var (code, text, _) = Quantgen("inspect", RealModels.RealModelPaths.WakeWord("hey_jarvis_v0.1"));
        Assert.Equal(1, code);
        Assert.Contains("unsupported operators", text);
        Assert.Matches(@"If: \S+", text);
        Assert.Matches(@"GreaterOrEqual: \S+", text);
    }

    [Fact]
    public void RunWritesOutputsThatMatchTheSuite()
    {
        var dir = "/usr/share/libonnx-testdata/data/node/test_conv_with_strides_and_asymmetric_padding";
        var (_, x) = OnnxTensorFile.Read(Path.Combine(dir, "test_data_set_0", "input_0.pb"));
        var (_, w) = OnnxTensorFile.Read(Path.Combine(dir, "test_data_set_0", "input_1.pb"));
        var (_, expected) = OnnxTensorFile.Read(Path.Combine(dir, "test_data_set_0", "output_0.pb"));
        Npy.Write(Path.Combine(_dir, "x.npy"), x);
        Npy.Write(Path.Combine(_dir, "w.npy"), w);
        var model = OnnxModelLoader.Load(Path.Combine(dir, "model.onnx"));
        var (code, text, err) = Quantgen("run", Path.Combine(dir, "model.onnx"),
            "--input", $"{model.Graph.Inputs[0].Name}={Path.Combine(_dir, "x.npy")}",
            "--input", $"{model.Graph.Inputs[1].Name}={Path.Combine(_dir, "w.npy")}",
            "--output-dir", Path.Combine(_dir, "out"));
        Assert.True(code == 0, err);
        var actual = Npy.Read(Path.Combine(_dir, "out", model.Graph.Outputs[0].Name + ".npy"));
        Assert.Null(Conformance.TensorComparison.Compare(expected, actual, 1e-5, 1e-6));
        Assert.Contains("->", text);
    }

    [Fact]
    public void ErrorsAreOneLineWithCodeAndNoStackTrace()
    {
        var (code, _, err) = Quantgen("inspect", Path.Combine(_dir, "missing.onnx"));
        Assert.Equal(1, code);
        Assert.Matches(@"^\S*missing\.onnx: error QG0001: .+\n$", err.Replace("\r", ""));
        Assert.DoesNotContain("   at ", err);

        File.WriteAllBytes(Path.Combine(_dir, "garbage.onnx"), [1, 2, 3, 4, 5]);
        (code, _, err) = Quantgen("inspect", Path.Combine(_dir, "garbage.onnx"));
        Assert.Equal(1, code);
        Assert.Contains("error QG0002", err);
    }

    [Fact]
    public void RunRefusesAWronglyShapedInput()
    {
        Npy.Write(Path.Combine(_dir, "bad.npy"), Tensor.FromArray([1, 1, 27, 28], new float[27 * 28]));
        var (code, _, err) = Quantgen("run", RealModels.RealModelPaths.Fashion("fashion_cnn"), "--input", $"image={Path.Combine(_dir, "bad.npy")}", "--output-dir", _dir);
        Assert.Equal(1, code);
        Assert.Contains("error QG0013", err);
    }

    [Fact]
    public void SafeFileNamesKeepOnlyPortableCharacters()
    {
        Assert.Equal("__1____1_minute_timer__", QuantGen.Cli.RunCommand.SafeFileName("{\"1\": \"1_minute_timer\"}"));
        Assert.Equal("output", QuantGen.Cli.RunCommand.SafeFileName("..."));
    }
}
