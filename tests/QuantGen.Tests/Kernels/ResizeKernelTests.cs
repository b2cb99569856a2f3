using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using QuantGen.Generated;

namespace QuantGen.Tests.Kernels;

/// <summary>
/// QuantGenKernels.ResizeBilinear (QuantGenKernels.Resize.cs) called directly, NCHW (one channel per plane) and
/// channels-last (8 and 11 channels: the AVX2 lanes and a remainder), SIMD on and off, against the IntegerSimulator
/// running a hand-written Resize artifact with random tables (weights 0, 2^11 and between), bit for bit.
/// </summary>
[Collection(nameof(KernelTests))]
public sealed class ResizeKernelTests
{
    [Theory]
    [InlineData(1, 3, 1)]
    [InlineData(2, 8, 8)]
    [InlineData(3, 11, 11)]
    [InlineData(4, 2, 1)]
    public void ResizeBilinearMatchesTheSimulator(int seed, int c, int kernelChannels)
    {
        var random = new Random(seed * 17);
        int inH = random.Next(1, 7), inW = random.Next(1, 9), outH = random.Next(1, 12), outW = random.Next(1, 20), zx = random.Next(0, 256);
        int[] Table(int outSize, int inSize) => Enumerable.Range(0, outSize).SelectMany(o =>
        {
            int lo = random.Next(0, inSize), hi = Math.Min(lo + 1, inSize - 1);
            int w = o % 5 == 0 ? 0 : o % 5 == 1 ? 2048 : random.Next(0, 2049);
            return new[] { lo, hi, w };
        }).ToArray();
        int[] rows = Table(outH, inH), columns = Table(outW, inW);
        string Blob(int[] v) => Convert.ToBase64String(v.SelectMany(BitConverter.GetBytes).ToArray());
        string inShape = $"1,{c},{inH},{inW}", outShape = $"1,{c},{outH},{outW}";
        var text = "quantgen-artifact 1\nmodel resize\n"
            + $"tensor x f32 {inShape} 1 0 0 0\ntensor x_q u8 {inShape} 0.03125 {zx} 0 255\ntensor y_q u8 {outShape} 0.03125 {zx} 0 255\ntensor y f32 {outShape} 1 0 0 0\n"
            + "input x x\noutput y y\nlayer Quantize q\nin x\nout x_q\nend\n"
            + $"layer Resize r\nin x_q\nout y_q\nints bits 11\nblob rows i32 {outH},3 {Blob(rows)}\nblob columns i32 {outW},3 {Blob(columns)}\nend\n"
            + "layer Dequantize d\nin y_q\nout y\nend\n";
        var artifact = ArtifactText.Read(text);
        Assert.Null(ArtifactGeometry.Check(artifact));
        var captured = new Dictionary<string, int[]>(StringComparer.Ordinal);
        new IntegerSimulator(artifact).Run(new Dictionary<string, float[]>
        {
            ["x"] = Enumerable.Range(0, c * inH * inW).Select(_ => (random.Next(0, 256) - zx) / 32f).ToArray(),
        }, (name, values) => captured[name] = values);
        var x = captured["x_q"].Select(v => (byte)v).ToArray();
        var expected = captured["y_q"].Select(v => (byte)v).ToArray();
        bool channelsLast = kernelChannels > 1;
        if (channelsLast)
        {
            x = ToChannelsLast(x, c, inH * inW);
            expected = ToChannelsLast(expected, c, outH * outW);
        }
        foreach (bool simd in new[] { true, false })
        {
            var y = new byte[expected.Length];
            random.NextBytes(y);
            QuantGenKernels.SimdEnabled = simd;
            try
            {
                QuantGenKernels.ResizeBilinear(x, y, channelsLast ? 1 : c, inH, inW, outH, outW, kernelChannels, rows, columns, 11);
            }
            finally
            {
                QuantGenKernels.SimdEnabled = true;
            }
            for (int i = 0; i < y.Length; i++)
                Assert.True(expected[i] == y[i], $"{(simd ? "SIMD" : "scalar")}, {(channelsLast ? "channels-last" : "NCHW")}: element {i} is {y[i]}, the simulator's {expected[i]}");
        }
    }

    [Fact]
    public void ResizeBilinearRefusesWideWeightsAndShortTables()
    {
        var x = new byte[4];
        var y = new byte[4];
        int[] table = [0, 1, 1024, 0, 1, 1024];
        Assert.Throws<ArgumentException>(() => QuantGenKernels.ResizeBilinear(x, y, 1, 2, 2, 2, 2, 1, table, table, 12));
        Assert.Throws<ArgumentException>(() => QuantGenKernels.ResizeBilinear(x, y, 1, 2, 2, 2, 2, 1, table.AsSpan(0, 3), table, 11));
    }

    private static byte[] ToChannelsLast(byte[] nchw, int channels, int pixels)
    {
        var nhwc = new byte[nchw.Length];
        for (int ch = 0; ch < channels; ch++)
            for (int p = 0; p < pixels; p++)
                nhwc[p * channels + ch] = nchw[ch * pixels + p];
        return nhwc;
    }
}
