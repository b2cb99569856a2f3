extern alias generator;
using generator::QuantGen.Generator;
using QuantGen.Generated;
using QuantGen.Tests.Generator;
using G = generator::QuantGen.Core.Artifact;

namespace QuantGen.Tests.Kernels;

/// <summary>
/// Sub-8-bit weights stored packed (docs/generator.md, "Packed sub-8-bit weights"): QuantGenKernels.UnpackWeights on
/// every path against the weights it was given, packed here from the documented layout (blocks of 32 weights, 4·bits
/// bytes each, weight i in field i / (4·bits) of byte i % (4·bits)), and the layer kernels fed through it against the
/// simulator at the weight ranges of W4 (±7, and −8 which the layout also holds) and W2 (±1).
/// </summary>
public sealed partial class KernelTests
{
    /// <summary>The packed layout, written from its documentation (not from ModelPlanner.PackBits).</summary>
    private static sbyte[] PackBitsAsDocumented(int[] weights, int bits)
    {
        int blockBytes = 4 * bits, blocks = (weights.Length + 31) / 32;
        var bytes = new byte[blocks * blockBytes];
        for (int i = 0; i < weights.Length; i++)
        {
            int field = weights[i] & ((1 << bits) - 1);
            bytes[i / 32 * blockBytes + i % 32 % blockBytes] |= (byte)(field << (i % 32 / blockBytes * bits));
        }
        return bytes.Select(b => unchecked((sbyte)b)).ToArray();
    }

    /// <summary>Unpacked through the kernel on one path into scratch of random bytes (so an unwritten weight shows).</summary>
    private static sbyte[] Unpacked(sbyte[] packed, int bits, int count, bool simd, Random random)
    {
        var into = new byte[(count + 31) & ~31];
        random.NextBytes(into);
        var scratch = into.Select(b => unchecked((sbyte)b)).ToArray();
        QuantGenKernels.SimdEnabled = simd;
        try
        {
            return QuantGenKernels.UnpackWeights(packed, bits, count, scratch).ToArray();
        }
        finally
        {
            QuantGenKernels.SimdEnabled = true;
        }
    }

    [Theory]
    [InlineData(4, 1)]
    [InlineData(4, 2)]
    [InlineData(4, 3)]
    [InlineData(2, 1)]
    [InlineData(2, 2)]
    [InlineData(2, 3)]
    public void UnpackWeightsGivesBackEveryWeight(int bits, int seed)
    {
        var random = new Random(seed * 977 + bits);
        // Whole blocks, one weight, and counts with a partial last block.
        int count = seed switch { 1 => 32 * random.Next(1, 40), 2 => 1, _ => random.Next(2, 3000) };
        int lo = -(1 << (bits - 1)), hi = (1 << (bits - 1)) - 1;
        var weights = Enumerable.Range(0, count).Select(_ => random.Next(lo, hi + 1)).ToArray();
        var packed = PackBitsAsDocumented(weights, bits);
        foreach (bool simd in new[] { true, false })
        {
            var unpacked = Unpacked(packed, bits, count, simd, random);
            Assert.True(weights.SequenceEqual(unpacked.Select(v => (int)v)), $"{bits}-bit, {count} weights, simd {simd}");
        }
        // The generator packs the same bytes, and stores them at this width.
        var blob = new G.ArtifactBlob("weights", G.BlobType.I8, new G.EquatableArray<int>([count]), new G.EquatableArray<int>(weights), G.EquatableArray<float>.Empty);
        Assert.Equal(packed.Select(v => (int)v), ModelPlanner.PackBits(blob, bits).Values.AsArray());
        Assert.Equal(weights.Min() >= -2 && weights.Max() <= 1 ? 2 : 4, ModelPlanner.StorageBits(blob));
    }

    [Fact]
    public void UnpackWeightsRefusesShortSpansAndOtherWidths()
    {
        var packed = new sbyte[16];
        Assert.Throws<ArgumentOutOfRangeException>(() => QuantGenKernels.UnpackWeights(packed, 4, 33, new sbyte[64]).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => QuantGenKernels.UnpackWeights(packed, 4, 32, new sbyte[31]).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => QuantGenKernels.UnpackWeights(packed, 3, 32, new sbyte[32]).Length);
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(4, 2)]
    [InlineData(4, 3)]
    [InlineData(2, 4)]
    public void PackedConvMatchesTheSimulator(int bits, int seed)
    {
        var random = new Random(seed * 7907 + bits);
        int c = random.Next(1, 40), m = 8 * random.Next(1, 6) + (seed == 3 ? 3 : 0), h = random.Next(5, 12), w = random.Next(5, 12), g = seed == 4 ? 2 : 1;
        if (g == 2) { c = 2 * random.Next(1, 9); m = 2 * random.Next(1, 12); }
        var layer = Simulate(RandomLayerArtifacts.Conv($"packed_conv_{bits}_{seed}", 1, c, h, w, m, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, g,
            leaky: seed % 2 == 0, forceNchw: false, weightMagnitude: bits == 2 ? 1 : 7), clampHigh: seed % 2 == 1);
        var s = layer.Shape;
        int cg = c / g, row = (3 * cg + 3) & ~3;
        var nhwc = Pack(ChannelsLastReduction(layer.Weights, m, cg, 3, 3), m, 3 * row, g).Select(v => (int)v).ToArray();
        var nchw = Pack(layer.Weights, m, cg * 9, g).Select(v => (int)v).ToArray();
        var expectedNhwc = ToNhwc(layer.Y, s.N, m, s.OH * s.OW);
        var xNhwc = ToNhwc(layer.X, s.N, c, h * w);
        foreach (var path in Paths)
        {
            var y = OnPath(path, expectedNhwc.Length, random, (y, col, acc) => QuantGenKernels.ConvNhwc(xNhwc,
                QuantGenKernels.UnpackWeights(PackBitsAsDocumented(nhwc, bits), bits, nhwc.Length, new sbyte[nhwc.Length + 31]),
                layer.Bias, layer.Scale, layer.NegScale, layer.High, y, col, acc, s.N, c, h, w, m, s.OH, s.OW, 3, 3, 1, 1, 1, 1, 1, 1, g, layer.Zx, layer.Zy, layer.Lo, layer.Hi));
            Assert.True(expectedNhwc.AsSpan().SequenceEqual(y), $"ConvNhwc {bits}-bit {seed} on {path}: {FirstDifference(expectedNhwc, y)}");
            y = OnPath(path, layer.Y.Length, random, (y, col, acc) => QuantGenKernels.ConvPacked(layer.X,
                QuantGenKernels.UnpackWeights(PackBitsAsDocumented(nchw, bits), bits, nchw.Length, new sbyte[nchw.Length + 31]),
                layer.Bias, layer.Scale, layer.NegScale, layer.High, y, col, acc, s.N, c, h, w, m, s.OH, s.OW, 3, 3, 1, 1, 1, 1, 1, 1, g, layer.Zx, layer.Zy, layer.Lo, layer.Hi));
            Assert.True(layer.Y.AsSpan().SequenceEqual(y), $"ConvPacked {bits}-bit {seed} on {path}: {FirstDifference(layer.Y, y)}");
        }
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(4, 2)]
    [InlineData(4, 3)]
    public void PackedDepthwiseMatchesTheSimulator(int bits, int seed)
    {
        var random = new Random(seed * 4243 + bits);
        int c = seed == 2 ? 40 : random.Next(1, 50), h = random.Next(5, 14), w = random.Next(5, 14), stride = seed == 3 ? 2 : 1;
        var layer = Simulate(RandomLayerArtifacts.Conv($"packed_dw_{bits}_{seed}", 1, c, h, w, c, 3, 3, stride, stride, 1, 1, 1, 1, 1, 1, c,
            leaky: seed == 2, forceNchw: false, weightMagnitude: bits == 2 ? 1 : 7), clampHigh: seed == 3);
        var s = layer.Shape;
        var taps = new int[layer.Weights.Length];
        for (int ch = 0; ch < c; ch++)
            for (int t = 0; t < 9; t++) taps[t * c + ch] = layer.Weights[ch * 9 + t];
        var expectedNhwc = ToNhwc(layer.Y, s.N, c, s.OH * s.OW);
        var xNhwc = ToNhwc(layer.X, s.N, c, h * w);
        foreach (var path in Paths)
        {
            var y = OnPath(path, expectedNhwc.Length, random, (y, col, _) => QuantGenKernels.DepthwiseConvNhwc(xNhwc,
                QuantGenKernels.UnpackWeights(PackBitsAsDocumented(taps, bits), bits, taps.Length, new sbyte[taps.Length + 31]),
                layer.Bias, layer.Scale, layer.NegScale, layer.High, y, col, s.N, c, h, w, s.OH, s.OW, 3, 3, stride, stride, 1, 1, 1, 1, layer.Zx, layer.Zy, layer.Lo, layer.Hi));
            Assert.True(expectedNhwc.AsSpan().SequenceEqual(y), $"DepthwiseConvNhwc {bits}-bit {seed} on {path}: {FirstDifference(expectedNhwc, y)}");
            y = OnPath(path, layer.Y.Length, random, (y, col, _) => QuantGenKernels.DepthwiseConv(layer.X,
                QuantGenKernels.UnpackWeights(PackBitsAsDocumented(layer.Weights, bits), bits, layer.Weights.Length, new sbyte[layer.Weights.Length + 31]),
                layer.Bias, layer.Scale, layer.NegScale, layer.High, y, col, s.N, c, h, w, s.OH, s.OW, 3, 3, stride, stride, 1, 1, 1, 1, 1, 1, layer.Zx, layer.Zy, layer.Lo, layer.Hi));
            Assert.True(layer.Y.AsSpan().SequenceEqual(y), $"DepthwiseConv {bits}-bit {seed} on {path}: {FirstDifference(layer.Y, y)}");
        }
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(4, 2)]
    [InlineData(4, 3)]
    public void PackedFullyConnectedMatchesTheSimulator(int bits, int seed)
    {
        var random = new Random(seed * 6007 + bits);
        int rows = random.Next(1, 4), k = random.Next(1, 300), m = random.Next(1, 90);
        var layer = Simulate(RandomLayerArtifacts.FullyConnected($"packed_fc_{bits}_{seed}", 1, rows, k, m, leaky: seed % 2 == 1, weightMagnitude: bits == 2 ? 1 : 7),
            clampHigh: seed % 2 == 0, fullyConnected: true);
        var packed = Pack(layer.Weights, m, k, 1).Select(v => (int)v).ToArray();
        foreach (var path in Paths)
        {
            var y = OnPath(path, layer.Y.Length, random, (y, col, acc) => QuantGenKernels.FullyConnectedPacked(layer.X,
                QuantGenKernels.UnpackWeights(PackBitsAsDocumented(packed, bits), bits, packed.Length, new sbyte[packed.Length + 31]),
                layer.Bias, layer.Scale, layer.NegScale, layer.High, y, col, acc, rows, k, m, layer.Zy, layer.Lo, layer.Hi));
            Assert.True(layer.Y.AsSpan().SequenceEqual(y), $"FullyConnectedPacked {bits}-bit {seed} on {path}: {FirstDifference(layer.Y, y)}");
        }
    }
}
