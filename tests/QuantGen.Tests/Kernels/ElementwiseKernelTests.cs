using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using QuantGen.Generated;

namespace QuantGen.Tests.Kernels;

/// <summary>
/// The elementwise kernels (QuantGenKernels.Elementwise.cs: Lookup, Affine, Mul, ConcatPart) called directly on random
/// shapes against the IntegerSimulator running a hand-written artifact, bit for bit, on every path (SIMD, SIMD without
/// VNNI, scalar), in NCHW and in the channels-last form the generator uses for NHWC buffers.
/// </summary>
[Collection(nameof(KernelTests))]
public sealed class ElementwiseKernelTests
{
    private static readonly (bool Simd, bool Vnni)[] Paths = [(true, true), (true, false), (false, true)];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void ElementwiseKernelsMatchTheSimulator(int seed)
    {
        var random = new Random(seed * 977);
        int c = seed == 1 ? 1 : random.Next(2, 20), h = random.Next(2, 10), w = random.Next(2, 10), pixels = h * w, count = c * pixels;
        int zx = random.Next(0, 256), zs = random.Next(0, 256), zl = random.Next(0, 256), zy = random.Next(0, 256), lo = random.Next(0, 20), hi = random.Next(235, 256);
        var table = Enumerable.Range(0, 256).Select(_ => random.Next(0, 256)).ToArray();
        var multipliers = Enumerable.Range(0, c).Select(_ => (random.Next(2) * 2 - 1) * random.Next(1 << 20, 1 << 25)).ToArray();
        var offsets = Enumerable.Range(0, c).Select(_ => random.Next(-(1 << 30), 1 << 30)).ToArray();
        int scalarMultiplier = -random.Next(1 << 22, 1 << 24), scalarOffset = random.Next(-(1 << 29), 1 << 29);
        int mulMultiplier = random.Next(1 << 30, int.MaxValue), mulShift = random.Next(38, 44);
        // Concat: the first input on another grid (a real requantization), the second on the output's (a copy).
        int concatMultiplier = random.Next(1 << 30, int.MaxValue), concatShift = 31;
        string shape = $"1,{c},{h},{w}", doubled = $"1,{2 * c},{h},{w}", wide = $"1,{c},{h},{2 * w}";
        var text = "quantgen-artifact 1\nmodel elementwise\n"
            + $"tensor x f32 {shape} 1 0 0 0\ntensor s f32 1,{c},1,1 1 0 0 0\ntensor x_q u8 {shape} 0.015625 {zx} 0 255\ntensor s_q u8 1,{c},1,1 0.015625 {zs} 0 255\n"
            + $"tensor l_q u8 {shape} 0.03125 {zl} 0 255\ntensor f_q u8 {shape} 0.0625 {zy} 0 255\ntensor g_q u8 {shape} 0.0625 {zy} 0 255\n"
            + $"tensor m_q u8 {shape} 0.0625 {zy} 0 255\ntensor n_q u8 {shape} 0.0625 {zy} 0 255\ntensor c_q u8 {doubled} 0.03125 {zl} 0 255\ntensor d_q u8 {wide} 0.03125 {zl} 0 255\n"
            + $"tensor y f32 {doubled} 1 0 0 0\ninput x x\ninput s s\noutput y y\n"
            + "layer Quantize q\nin x\nout x_q\nend\nlayer Quantize qs\nin s\nout s_q\nend\n"
            + $"layer Lookup table\nin x_q\nout l_q\nblob table u8 256 {Convert.ToBase64String(table.Select(v => (byte)v).ToArray())}\nend\n"
            + $"layer Affine perchannel\nin x_q\nout f_q\nints broadcast {c} {pixels}\nints shift 24\nints clamp {lo} {hi}\nblob multiplier i32 {c} {Base64(multipliers)}\nblob offset i32 {c} {Base64(offsets)}\nend\n"
            + $"layer Affine scalar\nin x_q\nout g_q\nints broadcast 1 {count}\nints shift 24\nints clamp {lo} {hi}\nblob multiplier i32 1 {Base64([scalarMultiplier])}\nblob offset i32 1 {Base64([scalarOffset])}\nend\n"
            + $"layer Mul excite\nin x_q s_q\nout m_q\nints inner {pixels}\nints multiplier {mulMultiplier}\nints shift {mulShift}\nints clamp {lo} {hi}\nend\n"
            + $"layer Mul square\nin x_q l_q\nout n_q\nints inner 1\nints multiplier {mulMultiplier}\nints shift {mulShift}\nints clamp {lo} {hi}\nend\n"
            + $"layer Concat channels\nin x_q l_q\nout c_q\nints axis 1\nints multipliers {concatMultiplier} {1 << 30}\nints shifts {concatShift} 30\nend\n"
            + $"layer Concat columns\nin x_q l_q\nout d_q\nints axis 3\nints multipliers {concatMultiplier} {1 << 30}\nints shifts {concatShift} 30\nend\n"
            + "layer Dequantize d\nin c_q\nout y\nend\n";
        var artifact = ArtifactText.Read(text);
        Assert.Null(ArtifactGeometry.Check(artifact));
        var captured = new Dictionary<string, int[]>(StringComparer.Ordinal);
        new IntegerSimulator(artifact).Run(new Dictionary<string, float[]>
        {
            ["x"] = Enumerable.Range(0, count).Select(_ => (random.Next(0, 256) - zx) / 64f).ToArray(),
            ["s"] = Enumerable.Range(0, c).Select(_ => (random.Next(0, 256) - zs) / 64f).ToArray(),
        }, (name, values) => captured[name] = values);
        byte[] x = Bytes(captured["x_q"]), s = Bytes(captured["s_q"]), l = Bytes(captured["l_q"]);
        byte[] xNhwc = ToNhwc(x, c, pixels), lNhwc = ToNhwc(l, c, pixels);
        var tableBytes = table.Select(v => (byte)v).ToArray();

        foreach (var path in Paths)
        {
            Check(path, captured["l_q"], random, y => QuantGenKernels.Lookup(x, y, tableBytes), "Lookup");
            Check(path, captured["f_q"], random, y => QuantGenKernels.Affine(x, y, multipliers, offsets, c, pixels, zx, 24, zy, lo, hi), "Affine NCHW");
            Check(path, ToNhwc(Bytes(captured["f_q"]), c, pixels), random, y => QuantGenKernels.Affine(xNhwc, y, multipliers, offsets, c, 1, zx, 24, zy, lo, hi), "Affine NHWC");
            Check(path, captured["g_q"], random, y => QuantGenKernels.Affine(x, y, [scalarMultiplier], [scalarOffset], 1, count, zx, 24, zy, lo, hi), "Affine scalar");
            Check(path, captured["m_q"], random, y => QuantGenKernels.Mul(x, s, y, pixels, c, count, zx, zs, mulMultiplier, mulShift, zy, lo, hi), "Mul NCHW");
            Check(path, ToNhwc(Bytes(captured["m_q"]), c, pixels), random, y => QuantGenKernels.Mul(xNhwc, s, y, 1, c, count, zx, zs, mulMultiplier, mulShift, zy, lo, hi), "Mul NHWC");
            Check(path, captured["n_q"], random, y => QuantGenKernels.Mul(x, l, y, 1, count, count, zx, zl, mulMultiplier, mulShift, zy, lo, hi), "Mul same shape");
            Check(path, captured["c_q"], random, y =>
            {
                QuantGenKernels.ConcatPart(x, y, 1, count, 2 * count, 0, zx, concatMultiplier, concatShift, zl, 0, 255);
                QuantGenKernels.ConcatPart(l, y, 1, count, 2 * count, count, zl, 1 << 30, 30, zl, 0, 255);
            }, "Concat channels NCHW");
            Check(path, ToNhwc(Bytes(captured["c_q"]), 2 * c, pixels), random, y =>
            {
                QuantGenKernels.ConcatPart(xNhwc, y, pixels, c, 2 * c, 0, zx, concatMultiplier, concatShift, zl, 0, 255);
                QuantGenKernels.ConcatPart(lNhwc, y, pixels, c, 2 * c, c, zl, 1 << 30, 30, zl, 0, 255);
            }, "Concat channels NHWC");
            Check(path, captured["d_q"], random, y =>
            {
                QuantGenKernels.ConcatPart(x, y, c * h, w, 2 * w, 0, zx, concatMultiplier, concatShift, zl, 0, 255);
                QuantGenKernels.ConcatPart(l, y, c * h, w, 2 * w, w, zl, 1 << 30, 30, zl, 0, 255);
            }, "Concat columns NCHW");
        }
    }

    private static void Check((bool Simd, bool Vnni) path, int[] expected, Random random, Action<byte[]> kernel, string what) =>
        Check(path, Bytes(expected), random, kernel, what);

    private static void Check((bool Simd, bool Vnni) path, byte[] expected, Random random, Action<byte[]> kernel, string what)
    {
        var y = new byte[expected.Length];
        random.NextBytes(y);
        QuantGenKernels.SimdEnabled = path.Simd;
        QuantGenKernels.VnniEnabled = path.Vnni;
        try
        {
            kernel(y);
        }
        finally
        {
            QuantGenKernels.SimdEnabled = true;
            QuantGenKernels.VnniEnabled = true;
        }
        for (int i = 0; i < y.Length; i++)
            Assert.True(expected[i] == y[i], $"{what} on {path}: element {i} of {y.Length} is {y[i]}, the simulator's {expected[i]}");
    }

    private static byte[] ToNhwc(byte[] nchw, int c, int pixels)
    {
        var nhwc = new byte[nchw.Length];
        for (int ch = 0; ch < c; ch++)
            for (int p = 0; p < pixels; p++)
                nhwc[p * c + ch] = nchw[ch * pixels + p];
        return nhwc;
    }

    private static byte[] Bytes(int[] values) => values.Select(v => checked((byte)v)).ToArray();

    private static string Base64(IEnumerable<int> values) => Convert.ToBase64String(values.SelectMany(BitConverter.GetBytes).ToArray());
}
