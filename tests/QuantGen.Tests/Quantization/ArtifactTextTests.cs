using QuantGen.Core.Artifact;

namespace QuantGen.Tests.Quantization;

public sealed class ArtifactTextTests
{
    internal static QuantizedArtifact Sample() => new(
        QuantizedArtifact.CurrentFormatVersion,
        "tiny model",
        new([new ArtifactMetadata("source", "Models/tiny model.onnx"), new ArtifactMetadata("weightBits", "8")]),
        new([
            new ArtifactTensor("x@f32", ArtifactElementType.F32, new([1, 4]), 1f, 0, 0, 0),
            new ArtifactTensor("x", ArtifactElementType.U8, new([1, 4]), 0.0039215689f, 0, 0, 255),
            new ArtifactTensor("{\"1\": \"odd name\"}", ArtifactElementType.U8, new([1, 3]), 0.1f, 128, 0, 255),
            new ArtifactTensor("y@f32", ArtifactElementType.F32, new([1, 3]), 1f, 0, 0, 0),
        ]),
        new([new ArtifactIo("x", "x@f32")]),
        new([new ArtifactIo("y", "y@f32")]),
        new([
            new ArtifactLayer(LayerKinds.Quantize, "quantize_x", new(["x@f32"]), new(["x"]), EquatableArray<ArtifactInts>.Empty, EquatableArray<ArtifactFloats>.Empty, EquatableArray<ArtifactBlob>.Empty, ""),
            new ArtifactLayer(LayerKinds.FullyConnected, "fc 1", new(["x"]), new(["{\"1\": \"odd name\"}"]),
                new([new ArtifactInts("clamp", new([0, 255]))]),
                new([new ArtifactFloats("unused", new([1.5f, -0f, float.Epsilon]))]),
                new([
                    new ArtifactBlob("weights", BlobType.I8, new([3, 4]), new([-127, 0, 1, 127, 5, -5, 64, -64, 3, 2, 1, 0]), EquatableArray<float>.Empty),
                    new ArtifactBlob("bias", BlobType.I32, new([3]), new([int.MinValue, 0, int.MaxValue]), EquatableArray<float>.Empty),
                    new ArtifactBlob("f", BlobType.F32, new([2]), EquatableArray<int>.Empty, new([0.1f, float.NegativeInfinity])),
                    new ArtifactBlob("none", BlobType.U8, new([0]), EquatableArray<int>.Empty, EquatableArray<float>.Empty),
                ]),
                "ONNX Gemm_0 + Relu_1"),
            new ArtifactLayer(LayerKinds.Dequantize, "dequantize_y", new(["{\"1\": \"odd name\"}"]), new(["y@f32"]), EquatableArray<ArtifactInts>.Empty, EquatableArray<ArtifactFloats>.Empty, EquatableArray<ArtifactBlob>.Empty, "model output"),
        ]));

    [Fact]
    public void RoundTripsEveryFieldExactly()
    {
        var artifact = Sample();
        var text = ArtifactText.Write(artifact);
        var read = ArtifactText.Read(text);
        Assert.Equal(artifact, read);
        Assert.Equal(text, ArtifactText.Write(read));
    }

    [Fact]
    public void WritesOneTokenPerNameAndNoCarriageReturns()
    {
        var text = ArtifactText.Write(Sample());
        Assert.DoesNotContain('\r', text);
        Assert.Contains("layer FullyConnected fc%201\n", text);
        Assert.Contains("blob weights i8 3,4 ", text);
    }

    [Fact]
    public void RefusesOtherVersions()
    {
        var text = ArtifactText.Write(Sample()).Replace("quantgen-artifact 1", "quantgen-artifact 99");
        var e = Assert.Throws<ArtifactFormatException>(() => ArtifactText.Read(text));
        Assert.Contains("version 99", e.Message);
    }

    [Theory]
    [InlineData("blob weights i8 3,4 ", "blob weights i8 3,5 ")]
    [InlineData("tensor x u8 1,4 ", "tensor x u8 1,x ")]
    [InlineData("\nend\n", "\n")]
    public void ReportsCorruptionWithALineNumber(string find, string replace)
    {
        var text = ArtifactText.Write(Sample());
        var index = text.IndexOf(find, StringComparison.Ordinal);
        Assert.True(index >= 0);
        var corrupted = text[..index] + replace + text[(index + find.Length)..];
        var e = Assert.Throws<ArtifactFormatException>(() => ArtifactText.Read(corrupted));
        Assert.StartsWith("Artifact line ", e.Message);
    }
}
