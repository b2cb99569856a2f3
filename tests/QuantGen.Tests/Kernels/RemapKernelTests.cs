using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;
using QuantGen.Core.Operators;
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

    /// <summary>
    /// The maps of real data movement, built as the quantizer builds them (the reference operator run on the input's
    /// indices + 1, 0 for a padded position): Transpose, Slice, Pad, Resize nearest. The SIMD path (16-byte windows
    /// and shuffles, fill blocks) and the scalar gather must both give y[i] = x[map[i]] or the fill, byte for byte.
    /// </summary>
    [Fact]
    public void RemapOfOperatorMapsIsExactOnEveryPath()
    {
        var random = new Random(17);
        var cases = new List<(string Op, int[] Shape, Tensor?[] Constants, NodeAttribute[] Attributes)>
        {
            ("Transpose", [1, 16, 6, 10], [], [Ints("perm", 0, 2, 3, 1)]),
            ("Transpose", [1, 3, 10, 12], [], [Ints("perm", 0, 2, 3, 1)]),
            ("Transpose", [2, 5, 33], [], [Ints("perm", 0, 2, 1)]),
            ("Slice", [1, 8, 20, 24], [Tensor.FromArray([2], new long[] { 2, 3 }), Tensor.FromArray([2], new long[] { 18, 23 }), Tensor.FromArray([2], new long[] { 2, 3 })], []),
            ("Slice", [1, 4, 10, 40], [Tensor.FromArray([1], new long[] { 39 }), Tensor.FromArray([1], new long[] { -100 }), Tensor.FromArray([1], new long[] { 3 }), Tensor.FromArray([1], new long[] { -1 })], []),
            ("Slice", [1, 4, 10, 40], [Tensor.FromArray([1], new long[] { 1 }), Tensor.FromArray([1], new long[] { 39 }), Tensor.FromArray([1], new long[] { 3 }), Tensor.FromArray([1], new long[] { 2 })], []),
            ("Pad", [1, 3, 9, 21], [Tensor.FromArray([8], new long[] { 0, 0, 2, 1, 0, 0, 3, 17 })], [Str("mode", "constant")]),
            ("Pad", [1, 3, 9, 21], [Tensor.FromArray([8], new long[] { 0, 0, 2, 1, 0, 0, 3, 5 })], [Str("mode", "reflect")]),
            ("Pad", [1, 3, 9, 21], [Tensor.FromArray([8], new long[] { 0, 0, 2, 1, 0, 0, 3, 5 })], [Str("mode", "edge")]),
            ("Resize", [1, 4, 7, 9], [null, Tensor.FromArray([4], new float[] { 1, 1, 2, 2 })], [Str("mode", "nearest")]),
            ("Resize", [1, 2, 6, 11], [null, Tensor.FromArray([4], new float[] { 1, 1, 1.5f, 3 })], [Str("mode", "nearest"), Str("nearest_mode", "floor")]),
            ("Resize", [1, 8, 5, 5], [null, null, Tensor.FromArray([4], new long[] { 1, 8, 13, 16 })], [Str("mode", "nearest"), Str("coordinate_transformation_mode", "asymmetric")]),
        };
        foreach (var (op, shape, constants, attributes) in cases)
        {
            int count = shape.Aggregate(1, (p, d) => p * d);
            var inputs = new Tensor?[1 + constants.Length];
            inputs[0] = Tensor.FromArray(shape, Enumerable.Range(1, count).Select(i => (float)i).ToArray());
            constants.CopyTo(inputs, 1);
            var names = Enumerable.Range(0, inputs.Length).Select(i => inputs[i] is null ? "" : $"i{i}").ToArray();
            var node = new Node("move", op, names, ["y"], attributes.ToDictionary(a => a.Name));
            Assert.True(OperatorRegistry.Default.TryGet(op, out var reference));
            var moved = reference.Execute(new OpContext(node, 13), inputs)[0].ToFloatArray();
            var map = moved.Select(v => (int)v - 1).ToArray();

            var x = new byte[count];
            random.NextBytes(x);
            int fill = random.Next(256);
            var expected = map.Select(m => m >= 0 ? x[m] : (byte)fill).ToArray();
            foreach (bool simd in new[] { true, false })
            {
                var y = new byte[map.Length];
                random.NextBytes(y);
                QuantGenKernels.SimdEnabled = simd;
                try
                {
                    QuantGenKernels.Remap(x, y, map, fill);
                }
                finally
                {
                    QuantGenKernels.SimdEnabled = true;
                }
                for (int i = 0; i < y.Length; i++)
                    Assert.True(expected[i] == y[i], $"{op} [{string.Join(",", shape)}] ({(simd ? "SIMD" : "scalar")}): element {i} (map {map[i]}) is {y[i]}, x gives {expected[i]}");
            }
        }
    }

    private static NodeAttribute Ints(string name, params long[] values) => new() { Name = name, Kind = AttributeKind.Ints, Ints = values };

    private static NodeAttribute Str(string name, string value) => new() { Name = name, Kind = AttributeKind.String, String = value };

    [Fact]
    public void RemapRefusesAFillOffTheGridAndAShortMap()
    {
        var x = new byte[4];
        var y = new byte[3];
        Assert.Throws<ArgumentException>(() => QuantGenKernels.Remap(x, y, new[] { 0, 1, -1 }, 256));
        Assert.Throws<ArgumentException>(() => QuantGenKernels.Remap(x, y, new[] { 0, 1 }, 0));
    }
}
