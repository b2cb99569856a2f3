using QuantGen.Core.Artifact;
using static QuantGen.Tests.Cli.CliProcess;

namespace QuantGen.Tests.Import;

/// <summary>The CLI (what the build task runs): a QDQ model needs no calibration or input range; --encodings; their errors as MSBuild lines.</summary>
public sealed class ImportCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("quantgen-import-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void QdqModelCompilesWithoutCalibrationOrInputRange()
    {
        var output = Path.Combine(_dir, "qat.qgart");
        var (code, text, err) = Quantgen("quantize", RealModels.RealModelPaths.Fashion("fashion_cnn_qat"), "-o", output);
        Assert.True(code == 0, err);
        Assert.Contains("imported QDQ quantization", text);
        var artifact = ArtifactText.Read(File.ReadAllText(output));
        Assert.Equal("imported", artifact.Metadata.AsArray().Single(m => m.Key == "activationRanges").Value);
    }

    [Fact]
    public void BadQdqModelIsOneMsBuildLineWithPathAndNode()
    {
        var model = Path.Combine(_dir, "bad.onnx");
        File.WriteAllBytes(model, new QdqModelBuilder { WeightScales = [0.004f, 0f, 0.005f] }.Build());
        var (code, _, err) = Quantgen("quantize", model, "-o", Path.Combine(_dir, "x.qgart"));
        Assert.Equal(1, code);
        Assert.Equal($"{model}: error QG0080: DequantizeLinear 'w_dequantize': scale[1] is 0; a scale must be positive and finite. (node 'w_dequantize')", err.TrimEnd());
    }

    [Fact]
    public void EncodingsOptionIsReadAndUnknownNamesAreListed()
    {
        var encodings = Path.Combine(_dir, "cnn.encodings");
        File.WriteAllText(encodings, """{"version": "2.0.0", "encodings": [{"name": "/Relu_output_0", "output_dtype": "uint8", "y_scale": 0.05, "y_zero_point": 0}]}""");
        var model = RealModels.RealModelPaths.Fashion("fashion_cnn");
        var output = Path.Combine(_dir, "cnn.qgart");
        var (code, text, err) = Quantgen("quantize", model, "-o", output, "--input-range", "0,1", "--encodings", encodings);
        Assert.True(code == 0, err);
        Assert.Contains("encodings cnn.encodings (1 activations, 0 parameters)", text);
        Assert.Equal(0.05f, ArtifactText.Read(File.ReadAllText(output)).GetTensor("/Relu_output_0").Scale);

        File.WriteAllText(encodings, """{"version": "2.0.0", "encodings": [{"name": "/Relu_output_0", "output_dtype": "uint8", "y_scale": 0.05}, {"name": "/Relu_outptu_1", "output_dtype": "uint8", "y_scale": 0.05}, {"name": "fc.weigth", "output_dtype": "int8", "y_scale": 0.01}]}""");
        (code, _, err) = Quantgen("quantize", model, "-o", output, "--input-range", "0,1", "--encodings", encodings);
        Assert.Equal(1, code);
        Assert.StartsWith($"{model}: error QG0085: Encodings file '{encodings}' names 2 tensors the model does not have: activation '/Relu_outptu_1', parameter 'fc.weigth'.", err);
    }
}
