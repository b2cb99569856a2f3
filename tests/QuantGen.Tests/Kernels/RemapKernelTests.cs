using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using QuantGen.Generated;

namespace QuantGen.Tests.Kernels;

/// <summary>
/// QuantGenKernels.Remap (QuantGenKernels.Remap.cs) called directly on random maps (copies, repeats, fills) against the
/// IntegerSimulator running a hand-written Remap artifact, bit for bit; and its refusal of a fill off the u8 grid.
/// </summary>
[Collection(nameof(KernelTests))]
public sealed class RemapKernelTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RemapMatchesTheSimulator(int seed)
    {
        var random = new Random(seed * 31);
        int count = random.Next(5, 80), outCount = random.Next(8, 120), zx = random.Next(0, 256);
        // Every kind of entry: −1 (fill), repeated indices, the first and the last input element.
        var map = Enumerable.Range(0, outCount).Select(i => i % 7 == 3 ? -1 : i % 11 == 5 ? count - 1 : random.Next(0, count)).ToArray();
        map[0] = 0;
        var text = "quantgen-artifact 1\nmodel remap\n"
            + $"tensor x f32 {count} 1 0 0 0\ntensor x_q u8 {count} 0.03125 {zx} 0 255\ntensor y_q u8 {outCount} 0.03125 {zx} 0 255\ntensor y f32 {outCount} 1 0 0 0\n"
            + "input x x\noutput y y\nlayer Quantize q\nin x\nout x_q\nend\n"
            + $"layer Remap move\nin x_q\nout y_q\nints fill {zx}\nblob map i32 {outCount} {Convert.ToBase64String(map.SelectMany(BitConverter.GetBytes).ToArray())}\nend\n"
            + "layer Dequantize d\nin y_q\nout y\nend\n";
        var artifact = ArtifactText.Read(text);
        Assert.Null(ArtifactGeometry.Check(artifact));
        var captured = new Dictionary<string, int[]>(StringComparer.Ordinal);
        new IntegerSimulator(artifact).Run(new Dictionary<string, float[]>
        {
            ["x"] = Enumerable.Range(0, count).Select(_ => (random.Next(0, 256) - zx) / 32f).ToArray(),
        }, (name, values) => captured[name] = values);
        var x = captured["x_q"].Select(v => (byte)v).ToArray();
        var y = new byte[outCount];
        random.NextBytes(y);
        QuantGenKernels.Remap(x, y, map, zx);
        var expected = captured["y_q"];
        for (int i = 0; i < outCount; i++)
            Assert.True(expected[i] == y[i], $"element {i} (map {map[i]}): {y[i]}, the simulator's {expected[i]}");
        Assert.Contains(y, v => v == zx); // the fill was written
    }

    [Fact]
    public void RemapRefusesAFillOffTheGridAndAShortMap()
    {
        var x = new byte[4];
        var y = new byte[3];
        Assert.Throws<ArgumentException>(() => QuantGenKernels.Remap(x, y, new[] { 0, 1, -1 }, 256));
        Assert.Throws<ArgumentException>(() => QuantGenKernels.Remap(x, y, new[] { 0, 1 }, 0));
    }
}
