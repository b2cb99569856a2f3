using Microsoft.ML.OnnxRuntime;
using QuantGen.Core.Artifact;
using QuantGen.Onnx.Export;
using static QuantGen.Tests.Cli.CliProcess;

namespace QuantGen.Tests.Export;

/// <summary>quantgen quantize --format qdq / --qdq-output, and QG0070 for what QDQ cannot express.</summary>
public sealed class QdqExportCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("quantgen-qdq-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Calibration => Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy");

    [Fact]
    public void FormatQdqWritesAModelOnnxRuntimeRuns()
    {
        var qdq = Path.Combine(_dir, "fashion_mlp.qdq.onnx");
        var (code, text, err) = Quantgen("quantize", RealModels.RealModelPaths.Fashion("fashion_mlp"), "--format", "qdq", "-o", qdq, "--calibration", Calibration);
        Assert.True(code == 0, err);
        Assert.Contains("QDQ model", text);
        Assert.Empty(Directory.GetFiles(_dir, "*.qgart"));
        using var session = new InferenceSession(qdq);
        Assert.Equal("image", session.InputMetadata.Keys.Single());
        Assert.Equal("logits", session.OutputMetadata.Keys.Single());
    }

    /// <summary>The build's ExportQdq: artifact and QDQ model from one quantization, and they agree bit for bit here.</summary>
    [Fact]
    public void QdqOutputBesideTheArtifactMatchesTheArtifact()
    {
        var artifactPath = Path.Combine(_dir, "fashion_cnn.qgart");
        var qdq = Path.Combine(_dir, "fashion_cnn.qdq.onnx");
        var (code, _, err) = Quantgen("quantize", RealModels.RealModelPaths.Fashion("fashion_cnn"), "--output", artifactPath, "--qdq-output", qdq, "--calibration", Calibration);
        Assert.True(code == 0, err);
        var artifact = ArtifactText.Read(File.ReadAllText(artifactPath));
        using var session = new InferenceSession(qdq, new SessionOptions { IntraOpNumThreads = 1 });
        var (agreement, maxLsb, _, _, _) = QdqExportTests.Compare(artifact, session, 200);
        Assert.Equal(1.0, agreement);
        Assert.Equal(0, maxLsb);
    }

    [Theory]
    [InlineData(new[] { "--activation-bits", "16" }, QdqExporter.SixteenBitMessage)]
    [InlineData(new[] { "--compression", "factorized", "--compression-ratio", "8" }, QdqExporter.FactorizedMessage)]
    public void WhatQdqCannotExpressIsQG0070(string[] options, string message)
    {
        var model = RealModels.RealModelPaths.Fashion("fashion_mlp");
        var (code, _, err) = Quantgen(["quantize", model, "--format", "qdq", "-o", Path.Combine(_dir, "x.onnx"), .. options]);
        Assert.Equal(1, code);
        Assert.Equal($"{model}: error QG0070: {message}", err.TrimEnd());
    }

    [Fact]
    public void BadFormatIsAnInvalidOption()
    {
        var (code, _, err) = Quantgen("quantize", RealModels.RealModelPaths.Fashion("fashion_mlp"), "--format", "tflite", "-o", Path.Combine(_dir, "x"));
        Assert.Equal(1, code);
        Assert.Contains("error QG0015: --format tflite: expected artifact or qdq.", err);
    }
}
