using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using QuantGen.Generated;

namespace QuantGen.Tests.Kernels;

/// <summary>
/// ConcatPart on a grid narrower than a byte (ActivationBits below 8, q ∈ [0, 15] here): an input on a coarser grid
/// requantized onto the output's lands outside [0, 15] for most of its values, and the kernel must clamp to the
/// output grid, as the simulator does, not to 0..255.
/// </summary>
[Collection(nameof(KernelTests))]
public sealed class NarrowGridConcatTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void ConcatPartClampsToTheOutputsNarrowGrid(int seed)
    {
        var random = new Random(seed * 131);
        int c = random.Next(2, 9), pixels = random.Next(9, 40), count = c * pixels;
        const int zx = 7, zy = 3;
        var text = "quantgen-artifact 1\nmodel concat4\n"
            + $"tensor x f32 1,{c},{pixels} 1 0 0 0\ntensor l f32 1,{c},{pixels} 1 0 0 0\ntensor y f32 1,{2 * c},{pixels} 1 0 0 0\n"
            + $"tensor x_q u8 1,{c},{pixels} 0.25 {zx} 0 15\ntensor l_q u8 1,{c},{pixels} 0.0625 {zy} 0 15\ntensor c_q u8 1,{2 * c},{pixels} 0.0625 {zy} 0 15\n"
            + "input x x\ninput l l\noutput y y\n"
            + "layer Quantize qx\nin x\nout x_q\nend\nlayer Quantize ql\nin l\nout l_q\nend\n"
            // x's step is 4 of the output's: multiplier 2^30 with shift 28.
            + $"layer Concat channels\nin x_q l_q\nout c_q\nints axis 1\nints multipliers {1 << 30} {1 << 30}\nints shifts 28 30\nend\n"
            + "layer Dequantize d\nin c_q\nout y\nend\n";
        var artifact = ArtifactText.Read(text);
        var captured = new Dictionary<string, int[]>(StringComparer.Ordinal);
        new IntegerSimulator(artifact).Run(new Dictionary<string, float[]>
        {
            ["x"] = Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray(),
            ["l"] = Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 1.2 - 0.4)).ToArray(),
        }, (name, values) => captured[name] = values);
        var expected = captured["c_q"];
        // The test means something only if the requantized x leaves the 4-bit grid on both sides.
        var xq = captured["x_q"];
        Assert.Contains(xq, q => (q - zx) * 4 + zy > 15);
        Assert.Contains(xq, q => (q - zx) * 4 + zy < 0);
        byte[] x = xq.Select(v => (byte)v).ToArray(), l = captured["l_q"].Select(v => (byte)v).ToArray();
        foreach (var simd in new[] { true, false })
        {
            var y = new byte[expected.Length];
            QuantGenKernels.SimdEnabled = simd;
            try
            {
                QuantGenKernels.ConcatPart(x, y, 1, count, 2 * count, 0, zx, 1 << 30, 28, zy, 0, 15);
                QuantGenKernels.ConcatPart(l, y, 1, count, 2 * count, count, zy, 1 << 30, 30, zy, 0, 15);
            }
            finally
            {
                QuantGenKernels.SimdEnabled = true;
            }
            for (int i = 0; i < y.Length; i++)
                Assert.True(expected[i] == y[i], $"SIMD {simd}: element {i} is {y[i]}, the simulator's {expected[i]}");
        }
    }
}
