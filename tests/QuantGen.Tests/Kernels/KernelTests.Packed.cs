extern alias generator;
using generator::QuantGen.Generator;
using QuantGen.Generated;
using QuantGen.Tests.Generator;
using G = generator::QuantGen.Core.Artifact;

namespace QuantGen.Tests.Kernels;

/// <summary>
/// Sub-8-bit weights stored packed (docs/generator.md, "Packed sub-8-bit weights"): QuantGenKernels.UnpackWeights on
/// every path against the weights it was given, packed here from the documented layout (blocks of 32 weights, 4·bits
/// bytes each, weight i in field i / (4·bits) of byte i % (4·bits)); the weight loads of the dot-product kernels
/// (IWeightBlocks) against the same layout; the Conv/FullyConnected kernels reading the packed weights as stored (the row
/// kernels both ways: each channel block unpacked once per call, and in registers), and the depthwise kernels fed
/// through UnpackWeights, against the simulator at the weight ranges of W4 (±7, and −8
/// which the layout also holds) and W2 (±1).
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

    /// <summary>
    /// The weight loads of the dot-product kernels (QuantGenKernels.IWeightBlocks) against the documented layout: every
    /// weight of random blocks through Get (the scalar loops) and, per block, Load256, LoadLow and LoadHigh (the SIMD
    /// loops), for the 8-, 4- and 2-bit forms over their whole ranges.
    /// </summary>
    [Theory]
    [InlineData(8, 1)]
    [InlineData(4, 2)]
    [InlineData(4, 3)]
    [InlineData(2, 4)]
    [InlineData(2, 5)]
    public void WeightLoadsGiveBackEveryWeight(int bits, int seed)
    {
        var random = new Random(seed * 31337 + bits);
        int blocks = random.Next(1, 60), lo = -(1 << (bits - 1)), hi = (1 << (bits - 1)) - 1;
        var weights = Enumerable.Range(0, 32 * blocks).Select(_ => random.Next(lo, hi + 1)).ToArray();
        // Both ends of the range in the first block, so a sign-extension slip cannot hide.
        weights[0] = lo;
        weights[31] = hi;
        var stored = bits == 8 ? weights.Select(v => (sbyte)v).ToArray() : PackBitsAsDocumented(weights, bits);
        var (get, load256, loadLow, loadHigh) = Loads(bits);
        Assert.Equal(weights.Length * bits / 8, stored.Length);
        for (int i = 0; i < weights.Length; i++)
            Assert.True(weights[i] == get(stored, i), $"{bits}-bit Get({i}): {get(stored, i)}, expected {weights[i]}");
        for (int b = 0; b < blocks; b++)
        {
            var expected = weights.AsSpan(32 * b, 32).ToArray().Select(v => (sbyte)v).ToArray();
            int at = 32 * b * bits / 8;
            Assert.Equal(expected, load256(stored, at));
            Assert.Equal(expected[..16], loadLow(stored, at));
            Assert.Equal(expected[16..], loadHigh(stored, at));
        }
    }

    /// <summary>The IWeightBlocks loads of one stored form, as plain functions of the stored bytes and a block's byte offset.</summary>
    private static (Func<sbyte[], int, int> Get, Func<sbyte[], int, sbyte[]> Load256, Func<sbyte[], int, sbyte[]> LoadLow, Func<sbyte[], int, sbyte[]> LoadHigh) Loads(int bits) => bits switch
    {
        8 => ((w, i) => default(QuantGenKernels.Int8Weights).Get(w, i),
            (w, at) => ToArray(default(QuantGenKernels.Int8Weights).Load256(ref w[at])),
            (w, at) => ToArray(default(QuantGenKernels.Int8Weights).LoadLow(ref w[at])),
            (w, at) => ToArray(default(QuantGenKernels.Int8Weights).LoadHigh(ref w[at]))),
        4 => ((w, i) => default(QuantGenKernels.NibbleWeights).Get(w, i),
            (w, at) => ToArray(default(QuantGenKernels.NibbleWeights).Load256(ref w[at])),
            (w, at) => ToArray(default(QuantGenKernels.NibbleWeights).LoadLow(ref w[at])),
            (w, at) => ToArray(default(QuantGenKernels.NibbleWeights).LoadHigh(ref w[at]))),
        _ => ((w, i) => default(QuantGenKernels.CrumbWeights).Get(w, i),
            (w, at) => ToArray(default(QuantGenKernels.CrumbWeights).Load256(ref w[at])),
            (w, at) => ToArray(default(QuantGenKernels.CrumbWeights).LoadLow(ref w[at])),
            (w, at) => ToArray(default(QuantGenKernels.CrumbWeights).LoadHigh(ref w[at]))),
    };

    private static sbyte[] ToArray(System.Runtime.Intrinsics.Vector256<sbyte> v) => Enumerable.Range(0, 32).Select(i => System.Runtime.Intrinsics.Vector256.GetElement(v, i)).ToArray();

    private static sbyte[] ToArray(System.Runtime.Intrinsics.Vector128<sbyte> v) => Enumerable.Range(0, 16).Select(i => System.Runtime.Intrinsics.Vector128.GetElement(v, i)).ToArray();

    /// <summary>
    /// ConvNhwc and ConvPacked reading 4- and 2-bit weights as stored (the type argument), against the simulator on every
    /// path: 3×3 over the padded-plane rows (M a multiple of 8), the gathered path (M not a multiple of 8, groups), a
    /// 1×1 pointwise layer (16 + 8 channels), and the same pointwise layer fused with nothing at 2 bits.
    /// </summary>
    [Theory]
    [InlineData(2, 1, 3)]
    [InlineData(4, 2, 3)]
    [InlineData(4, 3, 3)]
    [InlineData(2, 4, 3)]
    [InlineData(4, 5, 1)]
    [InlineData(2, 6, 1)]
    public void PackedConvMatchesTheSimulator(int bits, int seed, int k)
    {
        var random = new Random(seed * 7907 + bits);
        int c = random.Next(1, 40), m = 8 * random.Next(1, 6) + (seed == 3 ? 3 : 0), h = random.Next(5, 12), w = random.Next(5, 12), g = seed == 4 ? 2 : 1;
        if (g == 2) { c = 2 * random.Next(1, 9); m = 2 * random.Next(1, 12); }
        int pad = k / 2;
        if (k == 1) { c = 4 * random.Next(1, 10); m = 24; }
        var layer = Simulate(RandomLayerArtifacts.Conv($"packed_conv_{bits}_{seed}", 1, c, h, w, m, k, k, 1, 1, pad, pad, pad, pad, 1, 1, g,
            leaky: seed % 2 == 0, forceNchw: false, weightMagnitude: bits == 2 ? 1 : 7), clampHigh: seed % 2 == 1);
        var s = layer.Shape;
        int cg = c / g, row = (k * cg + 3) & ~3;
        var nhwc = PackBitsAsDocumented(Pack(ChannelsLastReduction(layer.Weights, m, cg, k, k), m, k * row, g).Select(v => (int)v).ToArray(), bits);
        var nchw = PackBitsAsDocumented(Pack(layer.Weights, m, cg * k * k, g).Select(v => (int)v).ToArray(), bits);
        var expectedNhwc = ToNhwc(layer.Y, s.N, m, s.OH * s.OW);
        var xNhwc = ToNhwc(layer.X, s.N, c, h * w);
        // The row kernels both ways: each channel block unpacked once per call (the default), and in registers (0).
        try
        {
            foreach (int limit in new[] { QuantGenKernels.UnpackedBlockBytes, 0 })
            {
                QuantGenKernels.UnpackedBlockBytes = limit;
                foreach (var path in Paths)
                {
                    var y = OnPath(path, expectedNhwc.Length, random, (y, col, acc) =>
                    {
                        if (bits == 4)
                            QuantGenKernels.ConvNhwc<QuantGenKernels.NibbleWeights>(xNhwc, nhwc, layer.Bias, layer.Scale, layer.NegScale, layer.High, y, col, acc,
                                s.N, c, h, w, m, s.OH, s.OW, k, k, 1, 1, pad, pad, 1, 1, g, layer.Zx, layer.Zy, layer.Lo, layer.Hi);
                        else
                            QuantGenKernels.ConvNhwc<QuantGenKernels.CrumbWeights>(xNhwc, nhwc, layer.Bias, layer.Scale, layer.NegScale, layer.High, y, col, acc,
                                s.N, c, h, w, m, s.OH, s.OW, k, k, 1, 1, pad, pad, 1, 1, g, layer.Zx, layer.Zy, layer.Lo, layer.Hi);
                    });
                    Assert.True(expectedNhwc.AsSpan().SequenceEqual(y), $"ConvNhwc {bits}-bit {seed} on {path}, unpack limit {limit}: {FirstDifference(expectedNhwc, y)}");
                    y = OnPath(path, layer.Y.Length, random, (y, col, acc) =>
                    {
                        if (bits == 4)
                            QuantGenKernels.ConvPacked<QuantGenKernels.NibbleWeights>(layer.X, nchw, layer.Bias, layer.Scale, layer.NegScale, layer.High, y, col, acc,
                                s.N, c, h, w, m, s.OH, s.OW, k, k, 1, 1, pad, pad, 1, 1, g, layer.Zx, layer.Zy, layer.Lo, layer.Hi);
                        else
                            QuantGenKernels.ConvPacked<QuantGenKernels.CrumbWeights>(layer.X, nchw, layer.Bias, layer.Scale, layer.NegScale, layer.High, y, col, acc,
                                s.N, c, h, w, m, s.OH, s.OW, k, k, 1, 1, pad, pad, 1, 1, g, layer.Zx, layer.Zy, layer.Lo, layer.Hi);
                    });
                    Assert.True(layer.Y.AsSpan().SequenceEqual(y), $"ConvPacked {bits}-bit {seed} on {path}, unpack limit {limit}: {FirstDifference(layer.Y, y)}");
                }
            }
        }
        finally
        {
            QuantGenKernels.UnpackedBlockBytes = 16384;
        }
    }

    /// <summary>
    /// The depthwise kernels over packed weights unpacked as the generated class unpacks them, once, into a static array
    /// (UnpackWeights(packed, bits, count)): W2 and W4, odd channel counts (the 8- and 32-channel SIMD blocks plus the
    /// scalar rest), stride 2, and −8 weights (the 4-bit field's low end, which the W4 grid never writes but an imported
    /// model may), against the simulator on every path.
    /// </summary>
    [Theory]
    [InlineData(2, 1)]
    [InlineData(4, 2)]
    [InlineData(4, 3)]
    [InlineData(2, 4)]
    [InlineData(4, 5)]
    [InlineData(4, 6)]
    public void PackedDepthwiseMatchesTheSimulator(int bits, int seed)
    {
        var random = new Random(seed * 4243 + bits);
        int c = seed switch { 2 => 40, 4 => 37, 5 => 67, 6 => 33, _ => random.Next(1, 50) };
        int h = random.Next(5, 14), w = random.Next(5, 14), stride = seed is 3 or 4 or 6 ? 2 : 1;
        var artifact = RandomLayerArtifacts.Conv($"packed_dw_{bits}_{seed}", 1, c, h, w, c, 3, 3, stride, stride, 1, 1, 1, 1, 1, 1, c,
            leaky: seed % 2 == 0, forceNchw: false, weightMagnitude: bits == 2 ? 1 : 7);
        if (seed >= 5) artifact = WithMinusEight(artifact, random);
        var layer = Simulate(artifact, clampHigh: seed == 3);
        if (seed >= 5) Assert.Contains(-8, layer.Weights);
        var s = layer.Shape;
        var taps = new int[layer.Weights.Length];
        for (int ch = 0; ch < c; ch++)
            for (int t = 0; t < 9; t++) taps[t * c + ch] = layer.Weights[ch * 9 + t];
        var expectedNhwc = ToNhwc(layer.Y, s.N, c, s.OH * s.OW);
        var xNhwc = ToNhwc(layer.X, s.N, c, h * w);
        var unpackedTaps = QuantGenKernels.UnpackWeights(PackBitsAsDocumented(taps, bits), bits, taps.Length);
        var unpacked = QuantGenKernels.UnpackWeights(PackBitsAsDocumented(layer.Weights, bits), bits, layer.Weights.Length);
        Assert.Equal(taps, unpackedTaps.Select(v => (int)v));
        foreach (var path in Paths)
        {
            var y = OnPath(path, expectedNhwc.Length, random, (y, col, _) => QuantGenKernels.DepthwiseConvNhwc(xNhwc, unpackedTaps,
                layer.Bias, layer.Scale, layer.NegScale, layer.High, y, col, s.N, c, h, w, s.OH, s.OW, 3, 3, stride, stride, 1, 1, 1, 1, layer.Zx, layer.Zy, layer.Lo, layer.Hi));
            Assert.True(expectedNhwc.AsSpan().SequenceEqual(y), $"DepthwiseConvNhwc {bits}-bit {seed} on {path}: {FirstDifference(expectedNhwc, y)}");
            y = OnPath(path, layer.Y.Length, random, (y, col, _) => QuantGenKernels.DepthwiseConv(layer.X, unpacked,
                layer.Bias, layer.Scale, layer.NegScale, layer.High, y, col, s.N, c, h, w, s.OH, s.OW, 3, 3, stride, stride, 1, 1, 1, 1, 1, 1, layer.Zx, layer.Zy, layer.Lo, layer.Hi));
            Assert.True(layer.Y.AsSpan().SequenceEqual(y), $"DepthwiseConv {bits}-bit {seed} on {path}: {FirstDifference(layer.Y, y)}");
        }
    }

    /// <summary>The case with about a tenth of its weights (and the first) set to −8, the 4-bit field's lowest value.</summary>
    private static RandomLayerArtifacts.Case WithMinusEight(RandomLayerArtifacts.Case c, Random random)
    {
        var lines = c.Text.Split('\n');
        int at = Array.FindIndex(lines, l => l.StartsWith("blob weights i8 ", StringComparison.Ordinal));
        var parts = lines[at].Split(' ');
        var bytes = Convert.FromBase64String(parts[^1]);
        for (int i = 0; i < bytes.Length; i++)
            if (i == 0 || random.Next(10) == 0) bytes[i] = unchecked((byte)(sbyte)-8);
        parts[^1] = Convert.ToBase64String(bytes);
        lines[at] = string.Join(' ', parts);
        return c with { Text = string.Join('\n', lines) };
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(4, 2)]
    [InlineData(4, 3)]
    [InlineData(2, 4)]
    public void PackedFullyConnectedMatchesTheSimulator(int bits, int seed)
    {
        var random = new Random(seed * 6007 + bits);
        int rows = random.Next(1, 4), k = random.Next(1, 300), m = random.Next(1, 90);
        // A classifier's shape: few outputs over a long K (the 16- and 8-channel blocks with split chains).
        if (seed == 4) (k, m) = (1568, 10);
        var layer = Simulate(RandomLayerArtifacts.FullyConnected($"packed_fc_{bits}_{seed}", 1, rows, k, m, leaky: seed % 2 == 1, weightMagnitude: bits == 2 ? 1 : 7),
            clampHigh: seed % 2 == 0, fullyConnected: true);
        var stored = PackBitsAsDocumented(Pack(layer.Weights, m, k, 1).Select(v => (int)v).ToArray(), bits);
        foreach (var path in Paths)
        {
            var y = OnPath(path, layer.Y.Length, random, (y, col, acc) =>
            {
                if (bits == 4)
                    QuantGenKernels.FullyConnectedPacked<QuantGenKernels.NibbleWeights>(layer.X, stored, layer.Bias, layer.Scale, layer.NegScale, layer.High, y, col, acc, rows, k, m, layer.Zy, layer.Lo, layer.Hi);
                else
                    QuantGenKernels.FullyConnectedPacked<QuantGenKernels.CrumbWeights>(layer.X, stored, layer.Bias, layer.Scale, layer.NegScale, layer.High, y, col, acc, rows, k, m, layer.Zy, layer.Lo, layer.Hi);
            });
            Assert.True(layer.Y.AsSpan().SequenceEqual(y), $"FullyConnectedPacked {bits}-bit {seed} on {path}: {FirstDifference(layer.Y, y)}");
        }
    }
}
