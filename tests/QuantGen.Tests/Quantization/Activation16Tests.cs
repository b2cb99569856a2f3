using QuantGen.Core;
using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using QuantGen.Tests.Generator;

namespace QuantGen.Tests.Quantization;

/// <summary>
/// 16-bit activations (ActivationBits=16): the int64 requantization, the symmetric grid, the option, the artifact's
/// i16 tensors, and the bound the artifact builder promises the generated code (|acc| · multiplier &lt; 2^62).
/// Expected values are worked out by hand in the comments.
/// </summary>
public sealed class Activation16Tests
{
    [Theory]
    // 0.75 = 24576 · 2^−15 with 15 significant bits; = 1610612736 · 2^−31 with 31.
    [InlineData(0.75, 15, 24576, 15)]
    [InlineData(0.75, 31, 1610612736, 31)]
    // 3e-5 = 0.98304 · 2^−15: 0.98304 · 2^15 = 32212.25 → 32212 · 2^−30 (15 bits).
    [InlineData(3e-5, 15, 32212, 30)]
    // 1.0 with 20 bits: 2^19 · 2^−19.
    [InlineData(1.0, 20, 524288, 19)]
    public void EncodeWithReducedPrecisionKeepsThatManyBits(double real, int bits, int multiplier, int shift)
    {
        Assert.Equal((multiplier, shift), FixedPoint.Encode(real, bits));
    }

    [Fact]
    public void EncodeWith31BitsIsTheEightBitEncoding()
    {
        foreach (double real in new[] { 1e-9, 0.001, 0.3, 0.999999, 17.25 })
            Assert.Equal(FixedPoint.Encode(real), FixedPoint.Encode(real, 31));
    }

    [Theory]
    // 16384 · 2^−40 = 2^−26. 5_000_000_001 / 2^26 = 74.5058… → 75; its negative −74.5058… → −75 (floor of x + ½).
    [InlineData(5_000_000_001L, 75)]
    [InlineData(-5_000_000_001L, -75)]
    // Exact halves round toward +∞: ±1.5 → 2 and −1.
    [InlineData(3L << 25, 2)]
    [InlineData(-(3L << 25), -1)]
    // −2.5 → −2; 2.5 → 3.
    [InlineData(-(5L << 25), -2)]
    [InlineData(5L << 25, 3)]
    // Beyond 2^31 and still exact: 2^40 / 2^26 = 16384.
    [InlineData(1L << 40, 16384)]
    // Clamped to the 16-bit grid: 2^45 / 2^26 = 524288 → 32767, and its negative → −32767.
    [InlineData(1L << 45, 32767)]
    [InlineData(-(1L << 45), -32767)]
    public void RequantizesLargeInt64Accumulators(long acc, int expected)
    {
        Assert.Equal(expected, FixedPoint.Requantize(acc, 16384, 40, 0, -32767, 32767));
    }

    [Fact]
    public void RequantizeAddsTheZeroPointAfterRoundingAndClampsToTheFusedBounds()
    {
        // 100 · 2^30 · 2^−31 = 50, + zero 7 = 57; ReLU6 as [0, 40] clamps it to 40.
        Assert.Equal(57, FixedPoint.Requantize(100L, 1 << 30, 31, 7, -32767, 32767));
        Assert.Equal(40, FixedPoint.Requantize(100L, 1 << 30, 31, 7, 0, 40));
        Assert.Equal(0, FixedPoint.Requantize(-100L, 1 << 30, 31, 7, 0, 40));
    }

    [Fact]
    public void RequantizeRefusesAProductBeyond64Bits()
    {
        // 2^40 · 2^30 = 2^70: the builder never writes such a pair; the reference semantics must not wrap silently.
        Assert.Throws<OverflowException>(() => FixedPoint.Requantize(1L << 40, 1 << 30, 62, 0, -32767, 32767));
    }

    [Fact]
    public void SixteenBitGridIsSymmetricWithZeroPointZero()
    {
        var grid = ActivationGrid.FromRange(-1f, 3f, 16);
        Assert.Equal(3f / 32767, grid.Scale);
        Assert.Equal((0, -32767, 32767), (grid.ZeroPoint, grid.QMin, grid.QMax));
        Assert.Equal(ArtifactElementType.I16, grid.ElementType);
        // A ReLU output [0, 2] still gets the symmetric grid (one bit unused: the price of no zero-point terms).
        var relu = ActivationGrid.FromRange(0f, 2f, 16);
        Assert.Equal((2f / 32767, 0), (relu.Scale, relu.ZeroPoint));
        Assert.Equal(32767, relu.Clamp(2f));
        Assert.Equal(0, relu.Clamp(0f));
        Assert.Equal(-32767, relu.Clamp(float.NegativeInfinity));
        // All zeros: scale 1.
        Assert.Equal(1f, ActivationGrid.FromRange(0f, 0f, 16).Scale);
        // 8 bits unchanged: asymmetric u8.
        var u8 = ActivationGrid.FromRange(-1f, 3f, 8);
        Assert.Equal((64, 0, 255, ArtifactElementType.U8), (u8.ZeroPoint, u8.QMin, u8.QMax, u8.ElementType));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(12)]
    [InlineData(32)]
    public void OtherActivationWidthsAreRefusedWithQG0015(int bits)
    {
        var e = Assert.Throws<ModelException>(() => new QuantizationOptions { ActivationBits = bits }.Validate());
        Assert.Equal("QG0015", e.Code);
        Assert.Contains("3 to 8 or 16", e.Message);
    }

    [Fact]
    public void SixteenBitsIsAccepted() => new QuantizationOptions { ActivationBits = 16 }.Validate();

    [Fact]
    public void I16TensorsRoundTripThroughTheArtifactText()
    {
        var artifact = Fashion16("fashion_cnn");
        var text = ArtifactText.Write(artifact);
        Assert.Contains(" i16 ", text);
        Assert.Equal(artifact, ArtifactText.Read(text));
        Assert.Equal(text, ArtifactText.Write(ArtifactText.Read(text)));
    }

    [Theory]
    [InlineData("fashion_mlp")]
    [InlineData("fashion_cnn")]
    [InlineData("fashion_mobilenet")]
    public void EveryActivationIsI16AndEveryProductFitsIn64Bits(string name)
    {
        var artifact = Fashion16(name);
        var tensors = artifact.Tensors.ToDictionary(t => t.Name);
        foreach (var t in artifact.Tensors.Where(t => t.ElementType != ArtifactElementType.F32))
        {
            Assert.Equal(ArtifactElementType.I16, t.ElementType);
            Assert.Equal((0, -32767, 32767), (t.ZeroPoint, t.QMin, t.QMax));
        }
        foreach (var layer in artifact.Layers.Where(l => l.Kind is LayerKinds.Conv or LayerKinds.FullyConnected))
        {
            var weights = layer.GetBlob("weights");
            int m = weights.Shape[0], fanIn = weights.Values.Count / m;
            int[] bias = layer.GetBlob("bias").Values.AsArray();
            var multipliers = layer.GetBlob("multiplier").Values.AsArray().Concat(layer.HasBlob("negMultiplier") ? layer.GetBlob("negMultiplier").Values.AsArray() : []);
            // The largest |acc| any input can produce: |bias| + Σ |w| · 32767, from the stored integers alone.
            var worst = Enumerable.Range(0, m).Max(o => Math.Abs((long)bias[o]) + weights.Values.AsArray().Skip(o * fanIn).Take(fanIn).Sum(w => (long)Math.Abs(w)) * 32767);
            Assert.True((UInt128)worst * (UInt128)multipliers.Max() < (UInt128)1 << 62, $"{name}/{layer.Name}: {worst} · {multipliers.Max()} reaches 2^62");
        }
    }

    private static QuantizedArtifact Fashion16(string name) => GeneratedCodeTests.QuantizeFashion(name, new QuantizationOptions { ActivationBits = 16 });
}
