using System.Globalization;
using QuantGen.Core;
using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;
using QuantGen.Onnx;
using QuantGen.Tests.Data;
using QuantGen.Tests.RealModels;

namespace QuantGen.Tests.Import;

/// <summary>
/// AIMET encodings (docs/interop.md): a file in each documented format version with deliberately different ranges for
/// the Fashion CNN's first ReLU output, its logits and its first Conv's weights; QuantGen must use exactly those.
/// </summary>
public sealed class AimetEncodingsTests : IDisposable
{
    private const string Relu = "/Relu_output_0";
    private const string Weight = "onnx::Conv_28";
    private const float ReluScale = 0.05f;
    private const float LogitScale = 0.2f;
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("quantgen-encodings-");
    private readonly Model _model = OnnxModelLoader.Load(RealModelPaths.Fashion("fashion_cnn"));

    public void Dispose() => _directory.Delete(recursive: true);

    /// <summary>Per-channel weight steps 1.5× the max-abs ones: coarser than any range setting QuantGen would choose.</summary>
    private float[] WeightScales()
    {
        var w = _model.Graph.Initializers[Weight].ToFloatArray();
        return Enumerable.Range(0, 16).Select(c => w.Skip(c * 9).Take(9).Max(MathF.Abs) / 127f * 1.5f).ToArray();
    }

    private static string F(float v) => v.ToString("R", CultureInfo.InvariantCulture);

    private string Write(string version, string relu = Relu)
    {
        var scales = WeightScales();
        string json = version switch
        {
            "0.6.1" => $$"""
                {"version": "0.6.1",
                 "activation_encodings": {
                   "{{relu}}": [{"bitwidth": 8, "dtype": "int", "is_symmetric": "False", "max": 12.75, "min": 0.0, "offset": 0, "scale": {{F(ReluScale)}} }],
                   "logits": [{"bitwidth": 8, "dtype": "int", "is_symmetric": "False", "max": 25.4, "min": -25.6, "offset": -128, "scale": {{F(LogitScale)}} }]},
                 "param_encodings": {
                   "{{Weight}}": [{{string.Join(", ", scales.Select(s => $$"""{"bitwidth": 8, "dtype": "int", "is_symmetric": "True", "max": {{F(s * 127)}}, "min": {{F(-s * 128)}}, "offset": -128, "scale": {{F(s)}} }"""))}}]},
                 "quantizer_args": {"activation_bitwidth": 8, "dtype": "int", "is_symmetric": true, "param_bitwidth": 8, "per_channel_quantization": true, "quant_scheme": "post_training_tf"} }
                """,
            "1.0.0" => $$"""
                {"version": "1.0.0",
                 "activation_encodings": [
                   {"name": "{{relu}}", "dtype": "INT", "enc_type": "PER_TENSOR", "bw": 8, "is_sym": false, "scale": [{{F(ReluScale)}}], "offset": [0]},
                   {"name": "logits", "dtype": "INT", "enc_type": "PER_TENSOR", "bw": 8, "is_sym": false, "scale": [{{F(LogitScale)}}], "offset": [-128]}],
                 "param_encodings": [
                   {"name": "{{Weight}}", "dtype": "INT", "enc_type": "PER_CHANNEL", "bw": 8, "is_sym": true, "scale": [{{string.Join(", ", scales.Select(F))}}], "offset": [{{string.Join(", ", scales.Select(_ => "-128"))}}]}],
                 "excluded_layers": [], "quantizer_args": {} }
                """,
            _ => $$"""
                {"version": "2.0.0",
                 "encodings": [
                   {"name": "{{relu}}", "output_dtype": "uint8", "y_scale": {{F(ReluScale)}}, "y_zero_point": 0},
                   {"name": "logits", "output_dtype": "uint8", "y_scale": {{F(LogitScale)}}, "y_zero_point": 128},
                   {"name": "{{Weight}}", "output_dtype": "int8", "axis": 0, "y_scale": [{{string.Join(", ", scales.Select(F))}}], "y_zero_point": [{{string.Join(", ", scales.Select(_ => "0"))}}]}]}
                """,
        };
        var path = Path.Combine(_directory.FullName, $"cnn-{version}.encodings");
        File.WriteAllText(path, json);
        return path;
    }

    private QuantizationResult Quantize(string? encodings) =>
        ModelQuantizer.Quantize(_model, new QuantizationOptions
        {
            InputStatistics = InputStatistics.Parse("0,1", null, null),
            Algorithms = QuantizationAlgorithms.None,
            EncodingsPath = encodings,
        }, null);

    [Theory]
    [InlineData("0.6.1")]
    [InlineData("1.0.0")]
    [InlineData("2.0.0")]
    public void EncodingsOverrideTheRangesTheyName(string version)
    {
        var baseline = Quantize(null);
        var result = Quantize(Write(version));
        var artifact = result.Artifact;

        // The named activations have the file's grids (QuantGen's own would differ: its ReLU range is measured).
        var relu = artifact.GetTensor(Relu);
        Assert.Equal((ReluScale, 0), (relu.Scale, relu.ZeroPoint));
        Assert.NotEqual(ReluScale, baseline.Artifact.GetTensor(Relu).Scale);
        var logits = artifact.GetTensor("logits");
        Assert.Equal((LogitScale, 128), (logits.Scale, logits.ZeroPoint));
        // MaxPool keeps the grid it is given.
        Assert.Equal(ReluScale, artifact.GetTensor("/MaxPool_output_0").Scale);

        // The named weights are rounded on the file's steps (computed here from the model and the file's scales).
        var w = _model.Graph.Initializers[Weight].ToFloatArray();
        var scales = WeightScales();
        var expected = w.Select((v, i) => (int)Math.Clamp(Math.Round(v / (double)scales[i / 9], MidpointRounding.ToEven), -128, 127)).ToArray();
        var conv1 = artifact.Layers.First(l => l.Kind == LayerKinds.Conv);
        Assert.Equal(expected, conv1.GetBlob("weights").Values.AsArray());
        Assert.NotEqual(expected, baseline.Artifact.Layers.First(l => l.Kind == LayerKinds.Conv).GetBlob("weights").Values.AsArray());
        // Unnamed layers keep QuantGen's quantization.
        Assert.Equal(baseline.Artifact.Layers.Last(l => l.Kind == LayerKinds.Conv).GetBlob("weights").Values.AsArray(),
            artifact.Layers.Last(l => l.Kind == LayerKinds.Conv).GetBlob("weights").Values.AsArray());

        // The report says so and shows the grids; the outputs change accordingly.
        Assert.Contains("2 activations, 1 parameters", result.Summary);
        Assert.Contains($"fixed grids for 2 activations ({Relu}, logits)", result.ReportMarkdown);
        Assert.Contains($"| {ReluScale.ToString("G6", CultureInfo.InvariantCulture)} | 0 |", result.ReportMarkdown);
        var (images, _) = FashionMnist.TestSet;
        var image = images.AsSpan(0, FashionMnist.Pixels).ToArray();
        var before = new IntegerSimulator(baseline.Artifact).Run(new Dictionary<string, float[]> { ["image"] = image })["logits"];
        var after = new IntegerSimulator(artifact).Run(new Dictionary<string, float[]> { ["image"] = image })["logits"];
        Assert.NotEqual(before, after);
        // Every logit is on the file's output grid: a multiple of 0.2 within its u8 range.
        Assert.All(after, v => Assert.True(Math.Abs(v / LogitScale - Math.Round(v / LogitScale)) < 1e-3 && v >= -128 * LogitScale - 1e-3 && v <= 127 * LogitScale + 1e-3, $"{v}"));
    }

    [Fact]
    public void AllThreeVersionsGiveTheSameArtifact()
    {
        string Text(string version) => ArtifactText.Write(Quantize(Write(version)).Artifact with { Metadata = new([]) });
        var v1 = Text("1.0.0");
        Assert.Equal(v1, Text("0.6.1"));
        Assert.Equal(v1, Text("2.0.0"));
    }

    [Fact]
    public void MisspeltNamesAreListedInOneError()
    {
        var path = Write("1.0.0", relu: "/Relu_outptu_0");
        var e = Assert.Throws<ModelException>(() => Quantize(path));
        Assert.Equal(ErrorCodes.UnknownEncodingNames, e.Code);
        Assert.Contains("names 1 tensor the model does not have: activation '/Relu_outptu_0'", e.Message);
        Assert.Equal(_model.Path, e.ModelPath);
    }

    [Fact]
    public void MalformedFilesAndUnknownVersionsAreRefused()
    {
        var path = Path.Combine(_directory.FullName, "bad.encodings");
        File.WriteAllText(path, "{\"version\": \"0.4.0\", \"activation_encodings\": {}}");
        var e = Assert.Throws<ModelException>(() => Quantize(path));
        Assert.Equal(ErrorCodes.BadEncodings, e.Code);
        Assert.Contains("version '0.4.0' is not one QuantGen reads (0.6.1, 1.0.0, 2.0.0)", e.Message);
        File.WriteAllText(path, "{\"version\": \"1.0.0\", \"activation_encodings\": [{\"name\": \"logits\", \"bw\": 8");
        Assert.Equal(ErrorCodes.BadEncodings, Assert.Throws<ModelException>(() => Quantize(path)).Code);
        // An asymmetric weight encoding needs a weight zero point QuantGen does not have.
        File.WriteAllText(path, $$"""{"version": "1.0.0", "param_encodings": [{"name": "{{Weight}}", "dtype": "INT", "enc_type": "PER_TENSOR", "bw": 8, "is_sym": false, "scale": [0.01], "offset": [-100]}]}""");
        var asym = Assert.Throws<ModelException>(() => Quantize(path));
        Assert.Equal(ErrorCodes.QdqNotExpressible, asym.Code);
        Assert.Contains("asymmetric parameter encodings are not expressible", asym.Message);
    }
}
