using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using QuantGen.Generated;

namespace QuantGen.Tests.Kernels;

/// <summary>
/// QuantGenKernels.MatMul (a product of two computed u8 tensors) called directly on random shapes, batch broadcast
/// included, against the IntegerSimulator running a hand-written artifact, bit for bit on every path (SIMD, SIMD
/// without VNNI, scalar); and the simulator's bytes against the exact product of the quantized inputs in double.
/// </summary>
[Collection(nameof(KernelTests))]
public sealed class MatMulKernelTests
{
    private static readonly (bool Simd, bool Vnni)[] Paths = [(true, true), (true, false), (false, true)];

    [Theory]
    [InlineData(1, new[] { 1, 4, 8 }, new[] { 1, 8, 16 })] // two full column blocks, K even
    [InlineData(2, new[] { 2, 3, 5, 7 }, new[] { 2, 3, 7, 9 })] // K odd (the lone last step), N = 8 + a scalar column
    [InlineData(3, new[] { 2, 1, 6, 13 }, new[] { 1, 3, 13, 8 })] // both inputs broadcast over a batch dimension
    [InlineData(4, new[] { 3, 6, 5 }, new[] { 5, 20 })] // B of rank 2 shared by every matrix of A; N = 16 + 4
    [InlineData(5, new[] { 16, 17 }, new[] { 17, 3 })] // N below one vector: scalar only
    [InlineData(6, new[] { 1, 2, 16, 16 }, new[] { 1, 2, 16, 16 })] // attention's Q·Kᵀ of fashion_transformer
    [InlineData(7, new[] { 4, 1 }, new[] { 2, 1, 33 })] // K = 1, A broadcast against B's batch
    public void MatMulMatchesTheSimulatorOnEveryPath(int seed, int[] aShape, int[] bShape)
    {
        var random = new Random(seed * 7919);
        var pairs = ArtifactGeometry.MatMulBatches(aShape, bShape, out var batch)!;
        int m = aShape[^2], k = aShape[^1], n = bShape[^1];
        var yShape = batch.Append(m).Append(n).ToArray();
        int za = random.Next(0, 256), zb = random.Next(0, 256), zy = random.Next(0, 256), lo = random.Next(0, 20), hi = random.Next(235, 256);
        // Output steps of about a twentieth of the sums' spread, so most bytes are inside the clamp and some clamp.
        int multiplier = random.Next(1 << 30, int.MaxValue), shift = 31 + (int)Math.Round(Math.Log2(Math.Sqrt(k) * 5000.0 / 20 / 4));
        string Dims(int[] s) => string.Join(",", s);
        var text = "quantgen-artifact 1\nmodel matmul\n"
            + $"tensor a f32 {Dims(aShape)} 1 0 0 0\ntensor b f32 {Dims(bShape)} 1 0 0 0\ntensor y f32 {Dims(yShape)} 1 0 0 0\n"
            + $"tensor a_q u8 {Dims(aShape)} 0.015625 {za} 0 255\ntensor b_q u8 {Dims(bShape)} 0.015625 {zb} 0 255\ntensor y_q u8 {Dims(yShape)} 0.0625 {zy} 0 255\n"
            + "input a a\ninput b b\noutput y y\n"
            + "layer Quantize qa\nin a\nout a_q\nend\nlayer Quantize qb\nin b\nout b_q\nend\n"
            + $"layer MatMul product\nin a_q b_q\nout y_q\nints multiplier {multiplier}\nints shift {shift}\nints clamp {lo} {hi}\nend\n"
            + "layer Dequantize d\nin y_q\nout y\nend\n";
        var artifact = ArtifactText.Read(text);
        Assert.Null(ArtifactGeometry.Check(artifact));
        var captured = new Dictionary<string, int[]>(StringComparer.Ordinal);
        float[] Random(int[] shape, int zero) => Enumerable.Range(0, shape.Aggregate(1, (p, d) => p * d)).Select(_ => (random.Next(0, 256) - zero) / 64f).ToArray();
        new IntegerSimulator(artifact).Run(new Dictionary<string, float[]> { ["a"] = Random(aShape, za), ["b"] = Random(bShape, zb) }, (name, values) => captured[name] = values);
        byte[] a = captured["a_q"].Select(v => checked((byte)v)).ToArray(), b = captured["b_q"].Select(v => checked((byte)v)).ToArray();
        var expected = captured["y_q"];

        // The simulator against the exact sums: round(sum · multiplier / 2^shift) + zy, clamped (independent of both implementations).
        int clamped = 0;
        for (int t = 0; t < pairs.Length / 2; t++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    long sum = 0;
                    for (int p = 0; p < k; p++) sum += (a[pairs[2 * t] * m * k + i * k + p] - za) * (long)(b[pairs[2 * t + 1] * k * n + p * n + j] - zb);
                    double real = sum * (double)multiplier / Math.Pow(2, shift) + zy;
                    double want = Math.Clamp(Math.Floor(real + 0.5), lo, hi);
                    if (want == lo || want == hi) clamped++;
                    Assert.Equal(want, expected[(t * m + i) * n + j]);
                }
        Assert.True(clamped < expected.Length, "every output clamped: the test would not see the sums");

        foreach (var path in Paths)
        {
            var y = new byte[expected.Length];
            random.NextBytes(y);
            QuantGenKernels.SimdEnabled = path.Simd;
            QuantGenKernels.VnniEnabled = path.Vnni;
            try
            {
                QuantGenKernels.MatMul(a, b, y, pairs, m, k, n, za, zb, multiplier, shift, zy, lo, hi);
            }
            finally
            {
                QuantGenKernels.SimdEnabled = true;
                QuantGenKernels.VnniEnabled = true;
            }
            for (int i = 0; i < y.Length; i++)
                Assert.True(expected[i] == y[i], $"MatMul on {path}: element {i} of {y.Length} is {y[i]}, the simulator's {expected[i]}");
        }
    }

    [Fact]
    public void BatchPairsFollowOnnxBroadcasting()
    {
        // [2,1,M,K] × [3,K,N] → [2,3,M,N]: A's matrix by the first index, B's by the second.
        Assert.Equal([0, 0, 0, 1, 0, 2, 1, 0, 1, 1, 1, 2], ArtifactGeometry.MatMulBatches([2, 1, 4, 5], [3, 5, 6], out var batch)!);
        Assert.Equal([2, 3], batch);
        Assert.Equal([0, 0], ArtifactGeometry.MatMulBatches([4, 5], [5, 6], out batch)!);
        Assert.Empty(batch);
        Assert.Null(ArtifactGeometry.MatMulBatches([2, 4, 5], [3, 5, 6], out _)); // 2 and 3 do not broadcast
        Assert.Null(ArtifactGeometry.MatMulBatches([4, 5], [4, 6], out _)); // K differs
        Assert.Null(ArtifactGeometry.MatMulBatches([5], [5, 6], out _)); // rank 1 is not quantized
    }
}
