using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using QuantGen.Generated;
using QuantGen.Tests.Generator;

namespace QuantGen.Tests.Kernels;

/// <summary>
/// The kernels of src/QuantGen.Kernels called directly (no generator, no Roslyn compile per case) on random shapes,
/// against QuantGen.Core's IntegerSimulator (one-layer artifacts: <see cref="RandomLayerArtifacts"/> and the pooling
/// ones below) or FixedPoint, bit for bit, on every path this CPU has: SIMD (with VNNI where the CPU has it), SIMD
/// without VNNI, scalar. Each path writes into an output filled with fresh random bytes, so that a path that leaves
/// an output unwritten cannot pass on what another path wrote. The weights are laid out here from the documented
/// packed formats (docs/generator.md, "The kernels"), not by the generator's code. SimdEnabled and VnniEnabled are
/// process-wide switches of this assembly's copy of the kernels: the tests that flip them share one collection.
/// </summary>
[Collection(nameof(KernelTests))]
public sealed partial class KernelTests
{
    /// <summary>(SimdEnabled, VnniEnabled): SIMD as the CPU allows, SIMD without VNNI, scalar.</summary>
    private static readonly (bool Simd, bool Vnni)[] Paths = [(true, true), (true, false), (false, true)];

    public static TheoryData<string, int> ConvCases()
    {
        var data = new TheoryData<string, int>();
        foreach (var kind in new[] { "3x3", "pointwise", "strided", "grouped", "dilated", "wide" })
            for (int seed = 1; seed <= 4; seed++) data.Add(kind, seed);
        return data;
    }

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void ConvMatchesTheSimulator(string kind, int seed)
    {
        var random = new Random(seed * 7919 + kind.Length);
        int c = random.Next(1, 40), m = random.Next(1, 72), h = random.Next(5, 14), w = random.Next(5, 14);
        int kh = 3, kw = 3, sh = 1, sw = 1, dh = 1, dw = 1, g = 1;
        int pt = random.Next(0, 2), pl = random.Next(0, 2), pb = random.Next(0, 2), pr = random.Next(0, 2);
        switch (kind)
        {
            case "pointwise": kh = kw = 1; pt = pl = pb = pr = 0; c = 4 * random.Next(1, 17); break;
            case "strided": sh = sw = 2; break;
            case "grouped": g = random.Next(2, 5); c = g * random.Next(1, 9); m = g * random.Next(1, 12); break;
            case "dilated": dh = 2; dw = random.Next(1, 3); pt = pb = 2; break;
            case "wide": kh = random.Next(1, 4); kw = random.Next(4, 6); pl = pr = 2; break;
        }
        var layer = Simulate(RandomLayerArtifacts.Conv($"conv_{kind}_{seed}", 1, c, h, w, m, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, g,
            leaky: random.Next(2) == 0, forceNchw: false), clampHigh: random.Next(2) == 0);
        var s = layer.Shape;
        int cg = c / g, row = (kw * cg + 3) & ~3;
        var nhwcWeights = Pack(ChannelsLastReduction(layer.Weights, m, cg, kh, kw), m, kh * row, g);
        var nchwWeights = Pack(layer.Weights, m, cg * kh * kw, g);
        var expectedNhwc = ToNhwc(layer.Y, s.N, m, s.OH * s.OW);
        var xNhwc = ToNhwc(layer.X, s.N, c, h * w);

        foreach (var path in Paths)
        {
            var y = OnPath(path, expectedNhwc.Length, random, (y, col, acc) => QuantGenKernels.ConvNhwc(xNhwc, nhwcWeights, layer.Bias, layer.Scale, layer.NegScale, layer.High,
                y, col, acc, s.N, c, h, w, m, s.OH, s.OW, kh, kw, sh, sw, pt, pl, dh, dw, g, layer.Zx, layer.Zy, layer.Lo, layer.Hi));
            Assert.True(expectedNhwc.AsSpan().SequenceEqual(y), $"ConvNhwc {kind} {seed} on {path}: {FirstDifference(expectedNhwc, y)}");

            y = OnPath(path, layer.Y.Length, random, (y, col, acc) => QuantGenKernels.ConvPacked(layer.X, nchwWeights, layer.Bias, layer.Scale, layer.NegScale, layer.High,
                y, col, acc, s.N, c, h, w, m, s.OH, s.OW, kh, kw, sh, sw, pt, pl, dh, dw, g, layer.Zx, layer.Zy, layer.Lo, layer.Hi));
            Assert.True(layer.Y.AsSpan().SequenceEqual(y), $"ConvPacked {kind} {seed} on {path}: {FirstDifference(layer.Y, y)}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public void DepthwiseMatchesTheSimulator(int seed)
    {
        var random = new Random(seed * 104729);
        // Channels across the 16-channel blocks and their tails; kernels up to 5 wide (past the 4-wide interleave).
        int c = seed switch { 1 => 16, 2 => 40, _ => random.Next(1, 50) };
        int kh = random.Next(1, 4), kw = random.Next(1, 6), sh = random.Next(1, 3), sw = random.Next(1, 3);
        CheckDepthwise($"depthwise_{seed}", random, c, kh, kw, sh, sw, dh: seed == 6 ? 2 : 1, leaky: seed % 2 == 0, clampHigh: seed % 3 == 0, weightMagnitude: 127);
    }

    /// <summary>
    /// The 32-channel blocks of the AVX2 depthwise kernel (tap quadruplets, then the remaining taps one by one) and the
    /// 8-channel blocks after them: whole quadruplets only (2×2), a 3×3 (two and one), a 5×5 (six and one), a 1×3 (none);
    /// weights whose pairs fit vpmaddubsw (magnitude 64), general ones (127), and ones with −128 (128: the block falls back).
    /// Without VNNI on AVX-512, the 64-channel blocks (tap pairs, the 3×3 unrolled) and the 16-channel blocks after
    /// them: 64 + 16 + 8 channels (3×3, −128), 128 at stride 2 with a 5×5 (a pair loop ending in a lone tap), 64 with
    /// an even tap count (2×2) and with three taps (1×3).
    /// </summary>
    [Theory]
    [InlineData(32, 3, 3, 1, 127)]
    [InlineData(96, 3, 3, 2, 127)]
    [InlineData(72, 3, 3, 1, 64)]
    [InlineData(64, 2, 2, 1, 127)]
    [InlineData(40, 5, 5, 1, 127)]
    [InlineData(64, 1, 3, 1, 127)]
    [InlineData(104, 3, 3, 1, 128)]
    [InlineData(88, 3, 3, 1, 128)]
    [InlineData(128, 5, 5, 2, 128)]
    public void DepthwiseBlocksMatchTheSimulator(int c, int kh, int kw, int stride, int weightMagnitude)
    {
        var random = new Random(c * 31 + kh * 7 + kw + weightMagnitude);
        CheckDepthwise($"depthwise_{c}_{kh}x{kw}_{stride}_{weightMagnitude}", random, c, kh, kw, stride, stride, dh: 1,
            leaky: c % 3 == 0, clampHigh: c % 2 == 0, weightMagnitude);
    }

    private static void CheckDepthwise(string name, Random random, int c, int kh, int kw, int sh, int sw, int dh, bool leaky, bool clampHigh, int weightMagnitude)
    {
        int h = random.Next(5, 15), w = random.Next(5, 15), dw = 1;
        int pt = random.Next(0, kh), pl = random.Next(0, kw), pb = random.Next(0, kh), pr = random.Next(0, kw);
        var layer = Simulate(RandomLayerArtifacts.Conv(name, 1, c, h, w, c, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, c,
            leaky, forceNchw: false, weightMagnitude), clampHigh);
        var s = layer.Shape;
        // [C, KH·KW] as stored → [KH·KW, C] for the NHWC kernel.
        var taps = new sbyte[layer.Weights.Length];
        for (int ch = 0; ch < c; ch++)
            for (int t = 0; t < kh * kw; t++) taps[t * c + ch] = (sbyte)layer.Weights[ch * kh * kw + t];
        var stored = layer.Weights.Select(v => (sbyte)v).ToArray();
        var expectedNhwc = ToNhwc(layer.Y, s.N, c, s.OH * s.OW);
        var xNhwc = ToNhwc(layer.X, s.N, c, h * w);

        foreach (var path in Paths)
        {
            var y = OnPath(path, expectedNhwc.Length, random, (y, col, _) => QuantGenKernels.DepthwiseConvNhwc(xNhwc, taps, layer.Bias, layer.Scale, layer.NegScale, layer.High,
                y, col, s.N, c, h, w, s.OH, s.OW, kh, kw, sh, sw, pt, pl, dh, dw, layer.Zx, layer.Zy, layer.Lo, layer.Hi));
            Assert.True(expectedNhwc.AsSpan().SequenceEqual(y), $"DepthwiseConvNhwc {name} on {path}: {FirstDifference(expectedNhwc, y)}");

            y = OnPath(path, layer.Y.Length, random, (y, col, _) => QuantGenKernels.DepthwiseConv(layer.X, stored, layer.Bias, layer.Scale, layer.NegScale, layer.High,
                y, col, s.N, c, h, w, s.OH, s.OW, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, layer.Zx, layer.Zy, layer.Lo, layer.Hi));
            Assert.True(layer.Y.AsSpan().SequenceEqual(y), $"DepthwiseConv {name} on {path}: {FirstDifference(layer.Y, y)}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void ConvMaxPoolMatchesTheSimulator(int seed)
    {
        var random = new Random(seed * 31337);
        int c = random.Next(1, 20), m = 8 * random.Next(1, 6), side = random.Next(4, 13), k = random.Next(1, 4);
        var layer = Simulate(RandomLayerArtifacts.ConvThenMaxPool($"convpool_{seed}", 1, c, side, side, m, k, 1, k / 2, leaky: seed % 2 == 0,
            negativeMultiplier: false), pooled: true);
        var s = layer.Shape;
        int row = (k * c + 3) & ~3;
        var weights = Pack(ChannelsLastReduction(layer.Weights, m, c, k, k), m, k * row, 1);
        var expected = ToNhwc(layer.Y, s.N, m, s.OH / 2 * (s.OW / 2));
        var xNhwc = ToNhwc(layer.X, s.N, c, side * side);
        foreach (var path in Paths)
        {
            var conv = new byte[s.N * m * s.OH * s.OW];
            var pooled = OnPath(path, expected.Length, random, (y, col, acc) => QuantGenKernels.ConvMaxPoolNhwc(xNhwc, weights, layer.Bias, layer.Scale, layer.NegScale, layer.High,
                conv, y, col, acc, s.N, c, side, side, m, s.OH, s.OW, k, k, 1, 1, k / 2, k / 2, 1, 1, layer.Zx, layer.Zy, layer.Lo, layer.Hi));
            Assert.True(expected.AsSpan().SequenceEqual(pooled), $"ConvMaxPoolNhwc {seed} on {path}: {FirstDifference(expected, pooled)}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void FullyConnectedMatchesTheSimulator(int seed)
    {
        var random = new Random(seed * 65537);
        int rows = random.Next(1, 4), k = seed == 5 ? 1 : random.Next(1, 300), m = seed == 1 ? 1 : random.Next(1, 90);
        var layer = Simulate(RandomLayerArtifacts.FullyConnected($"fc_{seed}", 1, rows, k, m, leaky: seed % 2 == 1), clampHigh: seed % 2 == 0, fullyConnected: true);
        var weights = Pack(layer.Weights, m, k, 1);
        foreach (var path in Paths)
        {
            var y = OnPath(path, layer.Y.Length, random, (y, col, acc) => QuantGenKernels.FullyConnectedPacked(layer.X, weights, layer.Bias, layer.Scale, layer.NegScale, layer.High,
                y, col, acc, rows, k, m, layer.Zy, layer.Lo, layer.Hi));
            Assert.True(layer.Y.AsSpan().SequenceEqual(y), $"FullyConnectedPacked {seed} on {path}: {FirstDifference(layer.Y, y)}");
        }
    }

    /// <summary>
    /// Add on two independent inputs against docs/artifact.md's definition, y = clamp((((a − za)·ma + (b − zb)·mb +
    /// 2^(s−1)) &gt;&gt; s) + zy, lo, hi) in 64 bits, at shifts inside the AVX2 32-bit split's range (17-47, both ends) and
    /// outside it (the 64-bit lanes), with multipliers of both signs up to ±(2^31 − 1) and lengths with a scalar tail.
    /// </summary>
    [Theory]
    [InlineData(17)]
    [InlineData(21)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(47)]
    [InlineData(12)]
    [InlineData(52)]
    public void AddMatchesItsDefinition(int shift)
    {
        var random = new Random(shift * 97);
        foreach (var (ma, mb) in new[] { (int.MaxValue, int.MinValue + 1), (random.Next(1 << 20, 1 << 30), -random.Next(1 << 20, 1 << 30)), (-random.Next(1, 1 << 16), random.Next(1, 1 << 16)) })
        {
            int length = random.Next(40, 300), za = random.Next(0, 256), zb = random.Next(0, 256), zy = random.Next(0, 256);
            int lo = random.Next(0, 20), hi = random.Next(235, 256);
            var a = new byte[length];
            var b = new byte[length];
            random.NextBytes(a);
            random.NextBytes(b);
            var expected = new byte[length];
            for (int i = 0; i < length; i++)
            {
                long v = ((((long)(a[i] - za) * ma) + ((long)(b[i] - zb) * mb) + (1L << (shift - 1))) >> shift) + zy;
                expected[i] = (byte)Math.Clamp(v, lo, hi);
            }
            foreach (var path in Paths)
            {
                var y = OnPath(path, length, random, (y, _, _) => QuantGenKernels.Add(a, b, y, za, zb, ma, mb, shift, zy, lo, hi));
                Assert.True(expected.AsSpan().SequenceEqual(y), $"Add shift {shift}, multipliers {ma} {mb} on {path}: {FirstDifference(expected, y)}");
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public void PoolingAndAddMatchTheSimulator(int seed)
    {
        var random = new Random(seed * 271);
        // Multiples of 16 channels take MaxPoolNhwc's vector path, multiples of 8 the averages' blocks.
        int c = seed switch { 1 => 16, 2 => 32, 3 => 24, _ => random.Next(1, 30) };
        int h = random.Next(5, 12), w = random.Next(5, 12), kh = random.Next(1, 4), kw = random.Next(1, 4);
        int sh = random.Next(1, 3), sw = random.Next(1, 3), dh = seed == 5 ? 2 : 1, dw = 1;
        int pt = random.Next(0, kh), pl = random.Next(0, kw), pb = random.Next(0, kh), pr = random.Next(0, kw);
        int oh = (h + pt + pb - dh * (kh - 1) - 1) / sh + 1, ow = (w + pl + pr - dw * (kw - 1) - 1) / sw + 1;
        int ah = (h + pt + pb - kh) / sh + 1, aw = (w + pl + pr - kw) / sw + 1;
        bool includePad = seed % 2 == 0;
        int zx = random.Next(0, 256), za = random.Next(0, 256), zs = random.Next(0, 256), lo = random.Next(0, 10), hi = random.Next(245, 256);
        var multipliers = Enumerable.Range(0, kh * kw + 1).Select(n => n == 0 ? 0 : (int)(random.Next(600, 1000) / 1000.0 * (1L << 31) / n)).ToArray();
        int addA = random.Next(1 << 19, 1 << 21), addB = -random.Next(1 << 19, 1 << 21);
        string shape = $"1,{c},{h},{w}";
        var text = "quantgen-artifact 1\nmodel pools\nmeta source Models/pools.onnx\n"
            + $"tensor x f32 {shape} 1 0 0 0\ntensor x_q u8 {shape} 0.015625 {zx} 0 255\n"
            + $"tensor p_q u8 1,{c},{oh},{ow} 0.015625 {zx} 0 255\ntensor a_q u8 1,{c},{ah},{aw} 0.03125 {za} 0 255\n"
            + $"tensor b_q u8 {shape} 0.015625 {zx} 0 255\ntensor s_q u8 {shape} 0.0625 {zs} 0 255\ntensor y f32 {shape} 1 0 0 0\n"
            + "input x x\noutput y y\nlayer Quantize q\nin x\nout x_q\nend\n"
            + $"layer MaxPool mp\nin x_q\nout p_q\nints kernel {kh} {kw}\nints strides {sh} {sw}\nints pads {pt} {pl} {pb} {pr}\nints dilations {dh} {dw}\nend\n"
            + $"layer AveragePool ap\nin x_q\nout a_q\nints kernel {kh} {kw}\nints strides {sh} {sw}\nints pads {pt} {pl} {pb} {pr}\nints countIncludePad {(includePad ? 1 : 0)}\n"
            + $"ints clamp {lo} {hi}\nblob multiplier i32 {multipliers.Length} {Base64(multipliers)}\nblob shift i32 {multipliers.Length} {Base64(Enumerable.Repeat(31, multipliers.Length))}\nend\n"
            + "layer MaxPool same\nin x_q\nout b_q\nints kernel 1 1\nints strides 1 1\nints pads 0 0 0 0\nints dilations 1 1\nend\n"
            + $"layer Add add\nin x_q b_q\nout s_q\nints multipliers {addA} {addB}\nints shift 21\nints clamp {lo} {hi}\nend\n"
            + "layer Dequantize d\nin s_q\nout y\nend\n";
        var captured = Run(text, Enumerable.Range(0, c * h * w).Select(_ => (random.Next(0, 256) - zx) / 64f).ToArray());
        var x = Bytes(captured["x_q"]);
        var xNhwc = ToNhwc(x, 1, c, h * w);
        var max = Bytes(captured["p_q"]);
        var average = Bytes(captured["a_q"]);
        var sum = Bytes(captured["s_q"]);

        foreach (var path in Paths)
        {
            var y = OnPath(path, max.Length, random, (y, _, _) => QuantGenKernels.MaxPool(x, y, c, h, w, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw));
            Assert.True(max.AsSpan().SequenceEqual(y), $"MaxPool {seed} on {path}: {FirstDifference(max, y)}");
            var expected = ToNhwc(max, 1, c, oh * ow);
            y = OnPath(path, max.Length, random, (y, _, _) => QuantGenKernels.MaxPoolNhwc(xNhwc, y, 1, c, h, w, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw));
            Assert.True(expected.AsSpan().SequenceEqual(y), $"MaxPoolNhwc {seed} on {path}: {FirstDifference(expected, y)}");

            var shifts = Enumerable.Repeat(31, multipliers.Length).ToArray();
            y = OnPath(path, average.Length, random, (y, _, _) => QuantGenKernels.AveragePool(x, y, multipliers, shifts, c, h, w, ah, aw, kh, kw, sh, sw, pt, pl, includePad, zx, za, lo, hi));
            Assert.True(average.AsSpan().SequenceEqual(y), $"AveragePool {seed} on {path}: {FirstDifference(average, y)}");
            expected = ToNhwc(average, 1, c, ah * aw);
            y = OnPath(path, average.Length, random, (y, _, _) => QuantGenKernels.AveragePoolNhwc(xNhwc, y, multipliers, shifts, 1, c, h, w, ah, aw, kh, kw, sh, sw, pt, pl, includePad, zx, za, lo, hi));
            Assert.True(expected.AsSpan().SequenceEqual(y), $"AveragePoolNhwc {seed} on {path}: {FirstDifference(expected, y)}");

            // Add is elementwise: the layout does not matter. Its second operand is x through a 1×1 MaxPool (b_q).
            y = OnPath(path, sum.Length, random, (y, _, _) => QuantGenKernels.Add(x, x, y, zx, zx, addA, addB, 21, zs, lo, hi));
            Assert.True(sum.AsSpan().SequenceEqual(y), $"Add {seed} on {path}: {FirstDifference(sum, y)}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void QuantizeAndDequantizeMatchFixedPoint(int seed)
    {
        var random = new Random(seed);
        float scale = (float)(random.NextDouble() * 0.1 + 0.001);
        int zero = random.Next(0, 256), min = random.Next(0, 5), max = random.Next(250, 256);
        // Seed 1 stays below the SIMD paths' 32-pixel blocks, 2-3 add a partial block, 4 has more channels than
        // QuantizeToNhwc's block takes (17: scalar there).
        int channels = seed == 4 ? 17 : random.Next(1, 9), pixels = seed == 1 ? random.Next(1, 32) : random.Next(33, 100), length = channels * pixels;
        var x = new float[length];
        for (int i = 0; i < length; i++)
            x[i] = (i % 7) switch
            {
                0 => (random.Next(-300, 300) + 0.5f) * scale, // exact halves: round half to even
                1 => float.NaN,
                2 => i % 2 == 0 ? float.PositiveInfinity : float.NegativeInfinity,
                _ => (float)((random.NextDouble() - 0.5) * 600 * scale),
            };
        var expected = x.Select(v => (byte)FixedPoint.Quantize(v, scale, zero, min, max)).ToArray();
        var expectedNhwc = ToNhwc(expected, 1, channels, pixels);
        var q = Bytes(expected.Select(v => (int)v).ToArray());
        var dequantized = q.Select(v => FixedPoint.Dequantize(v, scale, zero)).ToArray();
        foreach (var path in Paths)
        {
            var y = OnPath(path, length, random, (y, _, _) => QuantGenKernels.Quantize(x, y, scale, zero, min, max));
            Assert.True(expected.AsSpan().SequenceEqual(y), $"Quantize {seed} on {path}: {FirstDifference(expected, y)}");
            y = OnPath(path, length, random, (y, _, _) => QuantGenKernels.QuantizeToNhwc(x, y, scale, zero, min, max, channels, pixels));
            Assert.True(expectedNhwc.AsSpan().SequenceEqual(y), $"QuantizeToNhwc {seed} on {path}: {FirstDifference(expectedNhwc, y)}");

            var f = new float[length];
            QuantGenKernels.Dequantize(q, f, scale, zero);
            Assert.Equal(dequantized, f);
            QuantGenKernels.DequantizeFromNhwc(ToNhwc(q, 1, channels, pixels), f, scale, zero, channels, pixels);
            Assert.Equal(dequantized, f);
        }
    }

    /// <summary>
    /// RequantizeChannels, the requantization of one output position's channels (8 at a time on the SIMD paths), against
    /// the simulator's definition: FixedPoint.RequantizeScaled with the negative scale for negative sums, then clampHigh.
    /// </summary>
    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 8)]
    [InlineData(3, 23)]
    [InlineData(4, 64)]
    [InlineData(5, 100)]
    public void RequantizeChannelsMatchesFixedPoint(int seed, int count)
    {
        var random = new Random(seed);
        var acc = Enumerable.Range(0, count).Select(_ => random.Next(-400000, 400000)).ToArray();
        var bias = Enumerable.Range(0, count).Select(_ => random.Next(-5000, 5000)).ToArray();
        var scale = Enumerable.Range(0, count).Select(_ => FixedPoint.Scale(random.Next(1 << 30, int.MaxValue), random.Next(38, 44))).ToArray();
        var negScale = seed % 2 == 0 ? scale : Enumerable.Range(0, count).Select(_ => FixedPoint.Scale(random.Next(1 << 30, int.MaxValue), random.Next(40, 46))).ToArray();
        int[] high = seed % 3 == 0 ? [] : Enumerable.Range(0, count).Select(_ => random.Next(50, 256)).ToArray();
        int zy = random.Next(0, 256), lo = random.Next(0, 20), hi = random.Next(235, 256), stride = seed % 2 + 1, start = random.Next(0, 5);
        var expected = new byte[start + count * stride];
        random.NextBytes(expected);
        var fill = (byte[])expected.Clone();
        for (int o = 0; o < count; o++)
        {
            int a = acc[o] + bias[o], r = FixedPoint.RequantizeScaled(a, a >= 0 ? scale[o] : negScale[o], zy, lo, hi);
            expected[start + o * stride] = (byte)(high.Length == 0 ? r : Math.Min(r, high[o]));
        }
        foreach (var path in Paths)
        {
            var y = OnPath(path, expected.Length, random, (y, _, _) =>
            {
                // Outside the channels' slots y keeps what it had: the same bytes as the expected array's.
                fill.CopyTo(y, 0);
                QuantGenKernels.RequantizeChannels(acc, bias, scale, negScale, high, y, start, stride, zy, lo, hi);
            });
            Assert.True(expected.AsSpan().SequenceEqual(y), $"RequantizeChannels {seed} on {path}: {FirstDifference(expected, y)}");
        }
    }

    /// <summary>The scalar requantizations every kernel ends in, against FixedPoint on random and extreme accumulators.</summary>
    [Fact]
    public void RequantizationMatchesFixedPoint()
    {
        var random = new Random(5);
        int[] extremes = [int.MinValue, int.MinValue + 1, -1, 0, 1, int.MaxValue - 1, int.MaxValue];
        for (int i = 0; i < 20000; i++)
        {
            int acc = i < extremes.Length ? extremes[i] : random.Next(int.MinValue, int.MaxValue) >> random.Next(0, 24);
            int multiplier = random.Next(1 << 30, int.MaxValue), shift = random.Next(20, 45), zero = random.Next(0, 256);
            int min = random.Next(0, 20), max = random.Next(235, 256);
            Assert.Equal(FixedPoint.Requantize(acc, multiplier, shift, zero, min, max), QuantGenKernels.Requantize(acc, multiplier, shift, zero, min, max));
            float scale = FixedPoint.Scale(multiplier, shift);
            Assert.Equal(FixedPoint.RequantizeScaled(acc, scale, zero, min, max), QuantGenKernels.RequantizeScaled(acc, scale, zero, min, max));
        }
    }

    /// <summary>The 16-bit models' dot product: AVX2 (int32 lanes widened every 256 steps) and scalar against an int64 sum.</summary>
    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 15)]
    [InlineData(3, 16)]
    [InlineData(4, 4097)]
    [InlineData(5, 20000)]
    public void WideDotMatchesAnInt64Sum(int seed, int length)
    {
        var random = new Random(seed);
        // Extremes of both ranges: every product −128 · −32768 or 127 · 32767 at its largest.
        var w = Enumerable.Range(0, length).Select(i => (sbyte)(seed == 5 ? (i % 2 == 0 ? -128 : 127) : random.Next(-128, 128))).ToArray();
        var x = Enumerable.Range(0, length + random.Next(0, 3)).Select(i => (short)(seed == 5 ? (i % 2 == 0 ? -32768 : 32767) : random.Next(-32768, 32768))).ToArray();
        long expected = 0;
        for (int i = 0; i < length; i++) expected += (long)w[i] * x[i];
        try
        {
            foreach (var simd in new[] { true, false })
            {
                QuantGenWideKernels.SimdEnabled = simd;
                Assert.Equal(expected, QuantGenWideKernels.Dot(w, x));
            }
        }
        finally
        {
            QuantGenWideKernels.SimdEnabled = true;
        }
    }

    /// <summary>The factorized layers' bit-field reader and int16 requantization (QuantGenKernels.Factorized.cs), against a field-by-field decoding and the float32 steps of docs/artifact.md.</summary>
    [Fact]
    public void FactorHelpersMatchTheirDefinitions()
    {
        var random = new Random(9);
        for (int bits = 2; bits <= 8; bits++)
        {
            var values = Enumerable.Range(0, 50).Select(_ => random.Next(-(1 << (bits - 1)), 1 << (bits - 1))).ToArray();
            var packed = new byte[(values.Length * bits + 7) / 8 + 1];
            for (int i = 0; i < values.Length; i++)
                for (int b = 0; b < bits; b++)
                    if (((values[i] >> b) & 1) != 0) packed[(i * bits + b) / 8] |= (byte)(1 << ((i * bits + b) % 8));
            for (int i = 0; i < values.Length; i++) Assert.Equal(values[i], QuantGenKernels.FactorLevel(packed, i, bits));
        }
        for (int i = 0; i < 5000; i++)
        {
            int t = random.Next(int.MinValue, int.MaxValue) >> random.Next(0, 20), multiplier = random.Next(1 << 30, int.MaxValue), shift = random.Next(20, 40);
            // The definition: float32 scale, float32 product, clamp to ±32767, round half to even. Every tenth t is
            // a tie (t · scale = k + 1/2 exactly) so that the rounding direction is exercised.
            float scale = (float)(multiplier * Math.Pow(2, -shift));
            if (i % 10 == 0) (t, scale) = (2 * random.Next(-20000, 20000) + 1, 0.5f);
            float v = Math.Clamp((float)((float)t * scale), -32767f, 32767f);
            Assert.Equal((int)Math.Round(v, MidpointRounding.ToEven), QuantGenKernels.RequantizeIntermediate(t, scale));
        }
    }

    /// <summary>A layer of a one-layer artifact after the simulator ran it: its input and output (NCHW bytes) and data.</summary>
    private sealed record SimulatedLayer(byte[] X, byte[] Y, int[] Weights, int[] Bias, float[] Scale, float[] NegScale, int[] High,
        int Zx, int Zy, int Lo, int Hi, (int N, int OH, int OW) Shape);

    /// <summary>
    /// Runs the case's artifact in the simulator (with a random per-channel clampHigh added to its layer when asked)
    /// and returns the layer's quantized input and output: y_q, or p_q (the 2×2 MaxPool after it) when pooled.
    /// </summary>
    private static SimulatedLayer Simulate(RandomLayerArtifacts.Case c, bool clampHigh = false, bool pooled = false, bool fullyConnected = false)
    {
        var text = c.Text;
        var artifact = ArtifactText.Read(text);
        var layer = artifact.Layers.First(l => l.Kind is LayerKinds.Conv or LayerKinds.FullyConnected);
        int m = layer.GetBlob("weights").Shape[0];
        if (clampHigh)
        {
            var random = new Random(m);
            var high = Enumerable.Range(0, m).Select(_ => random.Next(100, 256)).ToArray();
            int at = text.IndexOf("end\n", text.IndexOf("layer " + layer.Kind, StringComparison.Ordinal), StringComparison.Ordinal);
            text = text.Insert(at, $"blob clampHigh i32 {m} {Base64(high)}\n");
            artifact = ArtifactText.Read(text);
            layer = artifact.Layers.First(l => l.Kind is LayerKinds.Conv or LayerKinds.FullyConnected);
        }
        var captured = Run(text, c.Inputs[0]);
        var tensors = artifact.Tensors.ToDictionary(t => t.Name);
        var outT = tensors["y_q"];
        int[] multiplier = layer.GetBlob("multiplier").Values.AsArray(), shift = layer.GetBlob("shift").Values.AsArray();
        int[] negMultiplier = layer.HasBlob("negMultiplier") ? layer.GetBlob("negMultiplier").Values.AsArray() : multiplier;
        int[] negShift = layer.HasBlob("negShift") ? layer.GetBlob("negShift").Values.AsArray() : shift;
        int[] clamp = layer.GetInts("clamp");
        var shape = fullyConnected ? (1, 1, 1) : (outT.Shape[0], outT.Shape[2], outT.Shape[3]);
        return new SimulatedLayer(Bytes(captured["x_q"]), Bytes(captured[pooled ? "p_q" : "y_q"]), layer.GetBlob("weights").Values.AsArray(),
            layer.GetBlob("bias").Values.AsArray(),
            multiplier.Select((v, o) => FixedPoint.Scale(v, shift[o])).ToArray(), negMultiplier.Select((v, o) => FixedPoint.Scale(v, negShift[o])).ToArray(),
            layer.HasBlob("clampHigh") ? layer.GetBlob("clampHigh").Values.AsArray() : [],
            tensors["x_q"].ZeroPoint, outT.ZeroPoint, clamp[0], clamp[1], shape);
    }

    /// <summary>Every quantized tensor the simulator produced, by name.</summary>
    private static Dictionary<string, int[]> Run(string text, float[] input)
    {
        var captured = new Dictionary<string, int[]>(StringComparer.Ordinal);
        new IntegerSimulator(ArtifactText.Read(text)).Run(new Dictionary<string, float[]> { ["x"] = input }, (name, values) => captured[name] = values);
        return captured;
    }

    /// <summary>
    /// Calls a kernel on one path with a fresh output of random bytes and scratch generous for every path (a short
    /// scratch would only make a SIMD path fall back), then restores the switches.
    /// </summary>
    private static byte[] OnPath((bool Simd, bool Vnni) path, int length, Random random, Action<byte[], byte[], int[]> kernel)
    {
        var y = new byte[length];
        random.NextBytes(y);
        var col = new byte[1 << 20];
        random.NextBytes(col);
        var acc = new int[4096];
        QuantGenKernels.SimdEnabled = path.Simd;
        QuantGenKernels.VnniEnabled = path.Vnni;
        try
        {
            kernel(y, col, acc);
        }
        finally
        {
            QuantGenKernels.SimdEnabled = true;
            QuantGenKernels.VnniEnabled = true;
        }
        return y;
    }

    /// <summary>Weights [M, K'] (K' per group) → [G, KP/4, MP, 4], KP = K' rounded up to 4, MP = M/G rounded up to 8, zero padded.</summary>
    private static sbyte[] Pack(int[] w, int m, int k, int group)
    {
        int mg = m / group, kp = (k + 3) & ~3, mp = (mg + 7) & ~7;
        var packed = new sbyte[group * kp * mp];
        for (int g = 0; g < group; g++)
            for (int o = 0; o < mg; o++)
                for (int i = 0; i < k; i++)
                    packed[((g * (kp / 4) + i / 4) * mp + o) * 4 + i % 4] = (sbyte)w[(g * mg + o) * k + i];
        return packed;
    }

    /// <summary>Conv weights [M, C/G, KH, KW] → [M, KH, KW·C/G zero padded to a multiple of 4]: an NHWC receptive field's order.</summary>
    private static int[] ChannelsLastReduction(int[] w, int m, int cg, int kh, int kw)
    {
        int row = (kw * cg + 3) & ~3;
        var values = new int[m * kh * row];
        for (int o = 0; o < m; o++)
            for (int ci = 0; ci < cg; ci++)
                for (int ky = 0; ky < kh; ky++)
                    for (int kx = 0; kx < kw; kx++)
                        values[(o * kh + ky) * row + kx * cg + ci] = w[((o * cg + ci) * kh + ky) * kw + kx];
        return values;
    }

    private static byte[] ToNhwc(byte[] nchw, int n, int c, int pixels)
    {
        var nhwc = new byte[nchw.Length];
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
                for (int p = 0; p < pixels; p++)
                    nhwc[(b * pixels + p) * c + ch] = nchw[(b * c + ch) * pixels + p];
        return nhwc;
    }

    private static byte[] Bytes(int[] values) => values.Select(v => checked((byte)v)).ToArray();

    private static string Base64(IEnumerable<int> values) => Convert.ToBase64String(values.SelectMany(BitConverter.GetBytes).ToArray());

    private static string FirstDifference(byte[] expected, byte[] actual)
    {
        int i = 0;
        while (i < expected.Length && expected[i] == actual[i]) i++;
        return i == expected.Length ? "equal" : $"{expected.Where((v, j) => v != actual[j]).Count()} of {expected.Length} differ, first at {i}: expected {expected[i]}, got {actual[i]}";
    }
}

/// <summary>The tests that flip QuantGenKernels' process-wide switches run one at a time.</summary>
[CollectionDefinition(nameof(KernelTests), DisableParallelization = true)]
public sealed class KernelSwitchesRunAlone;
