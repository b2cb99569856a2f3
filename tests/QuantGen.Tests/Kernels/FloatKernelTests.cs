using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;
using QuantGen.Core.Operators;
using QuantGen.Core.Quantization;
using QuantGen.Generated;
using Xunit.Abstractions;

namespace QuantGen.Tests.Kernels;

/// <summary>
/// The float kernels (QuantGenFloatKernels), called directly with the arguments FloatLayers.Describe resolves from a
/// float layer, against the reference operators (src/QuantGen.Core/Operators) on random shapes and attributes.
/// Arithmetic in the operators' order is bit-identical; the transcendental functions (Sigmoid, Tanh, Exp, Log) are the
/// kernels' own polynomials (QuantGenFloatKernels.Math.cs) where the operators use TensorPrimitives, and Softmax,
/// GlobalAveragePool, ReduceMean and LayerNormalization sum in the kernels' fixed order (FloatStatisticsTests): within 1e-5 relative (plus 1e-7 absolute near zero). Every case runs twice, on the SIMD paths (QuantGenFloatKernels.Simd.cs) and with
/// QuantGenKernels.SimdEnabled = false (the scalar loops): the two must be the same bits, the transcendental ones too.
/// </summary>
[Collection(nameof(KernelTests))]
public sealed class FloatKernelTests(ITestOutputHelper output)
{
    private static readonly HashSet<string> Approximate = ["Sigmoid", "Tanh", "Exp", "Log", "Softmax", "GlobalAveragePool", "ReduceMean", "LayerNormalization"];

    private readonly Random _random = new(2026);

    [Theory]
    [InlineData("Add")]
    [InlineData("Sub")]
    [InlineData("Mul")]
    [InlineData("Div")]
    [InlineData("Pow")]
    [InlineData("Max")]
    [InlineData("Min")]
    public void BinaryWithBroadcastingMatchesTheOperator(string op)
    {
        int[][][] shapes =
        [
            [[2, 3, 4, 5], [2, 3, 4, 5]], [[2, 3, 4, 5], [3, 1, 5]], [[2, 3, 4, 5], [1]], [[1, 3, 1, 5], [2, 1, 4, 1]], [[4], []], [[2, 1, 6], [2, 5, 1]],
            // Rows of 8 and more (the SIMD rows, both operands contiguous, one broadcast, a tail).
            [[3, 37], [3, 37]], [[2, 3, 19], [19]], [[2, 3, 19], [2, 3, 1]], [[21], []], [[4, 1], [1, 17]],
        ];
        foreach (var pair in shapes)
            foreach (bool constant in new[] { false, true })
            {
                var a = Values(pair[0], -3, 3, positive: op == "Pow");
                var b = Values(pair[1], op == "Pow" ? -2 : -3, op == "Pow" ? 2 : 3, nonzero: op == "Div");
                Check(op, [("a", pair[0], a, false), ("b", pair[1], b, constant)], []);
            }
    }

    [Theory]
    [InlineData("Relu")]
    [InlineData("Sigmoid")]
    [InlineData("Tanh")]
    [InlineData("Exp")]
    [InlineData("Log")]
    [InlineData("Sqrt")]
    [InlineData("Abs")]
    [InlineData("Neg")]
    [InlineData("LeakyRelu")]
    [InlineData("HardSigmoid")]
    [InlineData("HardSwish")]
    [InlineData("Clip")]
    public void UnaryMatchesTheOperator(string op)
    {
        for (int trial = 0; trial < 4; trial++)
        {
            var shape = RandomShape(1, 4, 7);
            var x = Values(shape, -5, 5, positive: op is "Log" or "Sqrt");
            var attributes = op switch
            {
                "LeakyRelu" => new[] { Float("alpha", 0.05f + trial * 0.1f) },
                "HardSigmoid" => [Float("alpha", 0.15f + trial * 0.05f), Float("beta", 0.4f + trial * 0.05f)],
                _ => [],
            };
            var inputs = new List<(string, int[], float[], bool)> { ("x", shape, x, false) };
            if (op == "Clip")
            {
                inputs.Add(("lo", [], [-1.5f + trial * 0.25f], true));
                if (trial % 2 == 0) inputs.Add(("hi", [], [2f - trial * 0.25f], true));
            }
            Check(op, inputs, attributes);
            if (op == "Clip")
            {
                // Bounds computed at run time (ClipBounds): the same inputs, not constants.
                inputs[1] = (inputs[1].Item1, inputs[1].Item2, inputs[1].Item3, false);
                Check(op, inputs, attributes);
            }
        }
    }

    /// <summary>LayerNormalization (the recognised written-out LayerNorm): every axis, Scale and B per element, one value or omitted.</summary>
    [Fact]
    public void LayerNormMatchesTheOperatorBitForBit()
    {
        foreach (int[] shape in new[] { new[] { 2, 3, 8 }, new[] { 3, 13 } })
        {
            for (int axis = -1; axis >= -shape.Length; axis--)
            {
                int n = shape[(shape.Length + axis)..].Aggregate(1, (p, d) => p * d);
                int[] normalised = shape[(shape.Length + axis)..];
                var x = Values(shape, -4, 4);
                Check("LayerNormalization", [("x", shape, x, false), ("w", normalised, Values(normalised, -2, 2), true), ("b", normalised, Values(normalised, -1, 1), true)],
                    [Int("axis", axis), Float("epsilon", 1e-5f)]);
                Check("LayerNormalization", [("x", shape, x, false), ("w", [1], [0.5f], true)], [Int("axis", axis)]);
                Check("LayerNormalization", [("x", shape, x, false), ("", [], [], false), ("b", [n], Values([n], -1, 1), true)], [Int("axis", axis), Float("epsilon", 0.1f)]);
            }
        }
    }

    /// <summary>
    /// NaN, ±0, ±∞ and subnormals through the elementwise kernels: the SIMD lanes take the scalar loop's branches (Relu
    /// passes NaN and maps −0 to +0, Neg gives −0 for +0, Max/Min give a + b where either is NaN, Clamp's test order).
    /// The scalar loops are the oracle here (the operators do not all define these cases alike).
    /// </summary>
    [Fact]
    public void ElementwiseSimdTakesTheScalarBranchesOnSpecialValues()
    {
        float[] special = [float.NaN, 0f, -0f, float.PositiveInfinity, float.NegativeInfinity, 1e-45f, -1e-45f, 3f, -3f, 0.5f, -6f, 6f, 1f, -1f, float.MaxValue, -float.MaxValue];
        var x = Enumerable.Range(0, 67).Select(i => special[(i * 7) % special.Length]).ToArray();
        var z = Enumerable.Range(0, 67).Select(i => special[(i * 5 + 3) % special.Length]).ToArray();
        for (int op = 0; op <= 11; op++)
            Same($"Unary {op}", y => QuantGenFloatKernels.Unary(x, y, op, op == 11 ? -2.5f : 0.2f, op == 11 ? 2.5f : 0.5f), x.Length);
        for (int op = 0; op <= 6; op++)
        {
            Same($"Binary {op}", y => QuantGenFloatKernels.Binary(x, z, y, [x.Length], [1], [1], op), x.Length);
            Same($"Binary {op}, b broadcast", y => QuantGenFloatKernels.Binary(x, z.AsSpan(4, 1), y, [x.Length], [1], [0], op), x.Length);
        }
        Same("ChannelAffine", y => QuantGenFloatKernels.ChannelAffine(x, y, [float.NaN, -0f, 2f, float.PositiveInfinity], [0f, -0f, 1f, -1f], 1, 4, 16), 64);
        foreach (float exponent in new[] { 2f, 0.5f })
            Same($"Pow by {exponent}", y => QuantGenFloatKernels.Binary(x, [exponent], y, [x.Length], [1], [0], 4), x.Length);
        // GlobalMaxPool: planes of 16 with a NaN, with ±0 as their largest value (either first, the second in a lane
        // before the first's), with −∞ only.
        float[] planes =
        [
            1, 2, float.NaN, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
            -1, -2, 0f, -3, -4, -5, -6, -7, -8, -0f, -9, -1, -1, -1, -1, -1,
            -1, -2, -0f, -3, -4, -5, -6, -7, -8, 0f, -9, -1, -1, -1, -1, -1,
            float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity,
            float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity,
            -5, -4, -3, -2, -1, -0.5f, -0.25f, -2, -3, -4, -5, -6, -0.125f, -7, -8, -9,
        ];
        Same("GlobalMaxPool", y => QuantGenFloatKernels.GlobalPool(planes, y, 5, 16, 1), 5);
        Assert.True(BitConverter.SingleToInt32Bits(Max(16)) == 0 && BitConverter.SingleToInt32Bits(Max(32)) == BitConverter.SingleToInt32Bits(-0f) && float.IsNaN(Max(0)) && Max(64) == -0.125f,
            "GlobalMaxPool keeps the first NaN, the first of ±0, and the largest value");

        float Max(int at)
        {
            var y = new float[1];
            QuantGenFloatKernels.GlobalPool(planes.AsSpan(at, 16), y, 1, 16, 1);
            return y[0];
        }
    }

    /// <summary>Runs <paramref name="kernel"/> on the SIMD path and on the scalar loops and requires the same bits.</summary>
    private static void Same(string what, Action<float[]> kernel, int length)
    {
        var simd = new float[length];
        var scalar = new float[length];
        kernel(simd);
        QuantGenKernels.SimdEnabled = false;
        try
        {
            kernel(scalar);
        }
        finally
        {
            QuantGenKernels.SimdEnabled = true;
        }
        for (int i = 0; i < length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(simd[i]) == BitConverter.SingleToInt32Bits(scalar[i]) || (float.IsNaN(simd[i]) && float.IsNaN(scalar[i])),
                $"{what}: element {i} is {simd[i]:R} on the SIMD path, {scalar[i]:R} on the scalar one");
    }

    [Fact]
    public void SoftmaxOverEveryAxisMatchesTheOperator()
    {
        int[] shape = [2, 3, 4, 5];
        for (int axis = -4; axis < 4; axis++)
        {
            Check("Softmax", [("x", shape, Values(shape, -6, 6), false)], [Int("axis", axis)]);
            if (axis >= 0) Check("Softmax", [("x", shape, Values(shape, -6, 6), false)], [Int("axis", axis)], opset: 11);
        }
    }

    [Fact]
    public void TransposeSliceAndConcatMatchTheOperator()
    {
        for (int trial = 0; trial < 8; trial++)
        {
            var shape = RandomShape(2, 5, 5);
            var perm = Enumerable.Range(0, shape.Length).OrderBy(_ => _random.Next()).Select(d => (long)d).ToArray();
            Check("Transpose", [("x", shape, Values(shape, -1, 1), false)], [Ints("perm", perm)]);

            int axis = _random.Next(shape.Length), dim = shape[axis];
            long step = _random.Next(2) == 0 ? 1 + _random.Next(2) : -1 - _random.Next(2);
            long start = _random.Next(-dim, dim), end = step > 0 ? int.MaxValue : -dim - 1;
            Check("Slice", [("x", shape, Values(shape, -1, 1), false), ("starts", [1], [start], true), ("ends", [1], [end], true),
                ("axes", [1], [axis], true), ("steps", [1], [step], true)], []);

            var parts = Enumerable.Range(0, 3).Select(i =>
            {
                var s = (int[])shape.Clone();
                s[axis] = 1 + _random.Next(3);
                return ($"x{i}", s, Values(s, -1, 1), false);
            }).ToList();
            Check("Concat", parts, [Int("axis", axis - (trial % 2) * shape.Length)]);
        }
    }

    [Theory]
    [InlineData("ReduceMean")]
    [InlineData("ReduceMax")]
    public void ReduceOverAxesMatchesTheOperator(string op)
    {
        for (int trial = 0; trial < 8; trial++)
        {
            var shape = RandomShape(1, 4, 6);
            var axes = Enumerable.Range(0, shape.Length).Where(_ => _random.Next(2) == 0).Select(d => (long)(d - (_random.Next(2) * shape.Length))).ToArray();
            var attributes = new List<NodeAttribute> { Int("keepdims", trial % 2) };
            if (axes.Length > 0) attributes.Add(Ints("axes", axes));
            Check(op, [("x", shape, Values(shape, -4, 4), false)], [.. attributes]);
        }
    }

    [Fact]
    public void BatchedMatMulMatchesTheOperator()
    {
        int[][][] shapes =
        [
            [[3, 4], [4, 5]], [[2, 3, 4], [4, 6]], [[2, 1, 3, 4], [3, 4, 5]], [[1, 2, 7, 3], [2, 1, 3, 2]],
            // Attention-sized: columns in blocks of 32 and 8 and a tail (the SIMD path keeps a block of columns in registers).
            [[2, 5, 16], [2, 16, 45]], [[3, 9], [9, 8]], [[1, 4, 7, 12], [4, 12, 7]],
        ];
        foreach (var pair in shapes)
            foreach (bool constant in new[] { false, true })
                Check("MatMul", [("a", pair[0], Values(pair[0], -1, 1), false), ("b", pair[1], Values(pair[1], -1, 1), constant)], []);
    }

    [Fact]
    public void ConvAndConvTransposeMatchTheOperator()
    {
        // The melspectrogram's shape of convolution, scaled down: 1-D, one input channel, long kernel, large stride; and
        // 2-D ones whose output rows hold 8 positions and more (the SIMD path's one-load rows), channels in blocks of 8 and a tail.
        Check("Conv", [("x", [1, 1, 400], Values([1, 1, 400], -1, 1), false), ("w", [12, 1, 64], Values([12, 1, 64], -1, 1), true)], [Ints("strides", 16)]);
        Check("Conv", [("x", [1, 3, 12, 19], Values([1, 3, 12, 19], -1, 1), false), ("w", [11, 3, 3, 3], Values([11, 3, 3, 3], -1, 1), true), ("b", [11], Values([11], -1, 1), true)],
            [Ints("pads", 1, 1, 1, 1)]);
        Check("Conv", [("x", [2, 4, 9, 17], Values([2, 4, 9, 17], -1, 1), false), ("w", [8, 2, 3, 5], Values([8, 2, 3, 5], -1, 1), true)],
            [Ints("pads", 2, 0, 1, 3), Ints("dilations", 2, 1), Int("group", 2)]);
        for (int trial = 0; trial < 10; trial++)
        {
            bool oneD = trial % 3 == 2;
            int group = 1 + _random.Next(2), c = group * (1 + _random.Next(3)), m = group * (1 + _random.Next(3));
            int h = oneD ? 1 : 4 + _random.Next(4), w = 4 + _random.Next(5), kh = oneD ? 1 : 1 + _random.Next(3), kw = 1 + _random.Next(3);
            int s = 1 + _random.Next(2), d = 1 + _random.Next(2), p = _random.Next(2);
            int[] x = oneD ? [1, c, w] : [1 + _random.Next(2), c, h, w];
            long[] Spatial(long a, long b) => oneD ? [b] : [a, b];
            long[] Pads(long v) => oneD ? [v, v] : [v, v, v, v];
            int[] convW = oneD ? [m, c / group, kw] : [m, c / group, kh, kw];
            var convInputs = new List<(string, int[], float[], bool)> { ("x", x, Values(x, -1, 1), false), ("w", convW, Values(convW, -1, 1), true) };
            if (trial % 2 == 0) convInputs.Add(("b", [m], Values([m], -1, 1), true));
            Check("Conv", convInputs, [Ints("strides", Spatial(s, s)), Ints("dilations", Spatial(d, 1)), Ints("pads", Pads(p)), Int("group", group)]);

            int[] deconvW = oneD ? [c, m / group, kw] : [c, m / group, kh, kw];
            var attributes = new List<NodeAttribute> { Ints("strides", Spatial(s, s)), Ints("pads", Pads(p)), Int("group", group) };
            if (s > 1) attributes.Add(Ints("output_padding", Spatial(1, 1)));
            Check("ConvTranspose", [("x", x, Values(x, -1, 1), false), ("w", deconvW, Values(deconvW, -1, 1), true), ("b", [m], Values([m], -1, 1), true)], [.. attributes]);
        }
    }

    [Fact]
    public void ResizeNearestAndLinearMatchTheOperator()
    {
        string[] transforms = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nearest", "half_pixel_symmetric"];
        string[] nearestModes = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"];
        for (int trial = 0; trial < 16; trial++)
        {
            int[] x = [1, 1 + _random.Next(3), 2 + _random.Next(4), 2 + _random.Next(5)];
            var attributes = new List<NodeAttribute>
            {
                Str("mode", trial % 2 == 0 ? "nearest" : "linear"),
                Str("coordinate_transformation_mode", transforms[trial % transforms.Length]),
                Str("nearest_mode", nearestModes[trial / 2 % nearestModes.Length]),
            };
            var inputs = new List<(string, int[], float[], bool)> { ("x", x, Values(x, -1, 1), false), ("", [], [], false) };
            if (trial % 3 == 0)
            {
                inputs.Add(("", [], [], false));
                inputs.Add(("sizes", [4], [1, x[1], 1 + _random.Next(9), 1 + _random.Next(9)], true));
            }
            else
                inputs.Add(("scales", [4], [1, 1, 0.5f + _random.Next(6) * 0.5f, 0.75f + _random.Next(5) * 0.5f], true));
            Check("Resize", inputs, [.. attributes]);
        }
    }

    [Fact]
    public void BatchNormalizationGlobalPoolsGemmAndPadMatchTheOperator()
    {
        for (int trial = 0; trial < 6; trial++)
        {
            var x = RandomShape(3, 4, 6);
            int c = x[1];
            Check("BatchNormalization", [("x", x, Values(x, -3, 3), false), ("scale", [c], Values([c], 0.5f, 2), true), ("bias", [c], Values([c], -1, 1), true),
                ("mean", [c], Values([c], -1, 1), true), ("var", [c], Values([c], 0.1f, 3), true)], [Float("epsilon", 1e-3f)]);
            Check("GlobalAveragePool", [("x", x, Values(x, -3, 3), false)], []);
            Check("GlobalMaxPool", [("x", x, Values(x, -3, 3), false)], []);

            bool ta = trial % 2 == 1, tb = trial % 3 == 1;
            int m = 1 + _random.Next(5), k = 1 + _random.Next(7), n = 1 + _random.Next(trial < 3 ? 5 : 45);
            int[] a = ta ? [k, m] : [m, k], b = tb ? [n, k] : [k, n];
            int[] cShape = (trial % 3) switch { 0 => [n], 1 => [m, 1], _ => [m, n] };
            Check("Gemm", [("a", a, Values(a, -1, 1), false), ("b", b, Values(b, -1, 1), trial % 2 == 0), ("c", cShape, Values(cShape, -1, 1), true)],
                [Int("transA", ta ? 1 : 0), Int("transB", tb ? 1 : 0), Float("alpha", trial == 2 ? 1 : 0.75f), Float("beta", trial == 4 ? 0 : 1.5f)]);

            var pads = x.Select(_ => (float)_random.Next(0, 3)).Concat(x.Select(d => (float)_random.Next(-Math.Min(1, d - 1), 3))).ToArray();
            foreach (var mode in new[] { "constant", "reflect", "edge" })
                Check("Pad", [("x", x, Values(x, -1, 1), false), ("pads", [pads.Length], pads, true), ("value", [], [0.25f], true)], [Str("mode", mode)]);
        }
    }

    /// <summary>
    /// The kernels rewritten row by row, on shapes whose rows reach their vector loops (8 columns and more) and their
    /// edges: Pow by a broadcast 2 or 0.5 (squared / square-rooted lanes), GlobalMaxPool over planes of 8 and more,
    /// Gemm with B transposed (blocks of 8 columns, k past the 256-deep tile), ConvTranspose at stride 1 (one multiply-
    /// add per kernel column over a run of input columns) and 2, Pad with crops wider than a row, Resize of rank 2 to 5.
    /// </summary>
    [Fact]
    public void RowKernelsMatchTheOperatorOnWideShapes()
    {
        foreach (float exponent in new[] { 2f, 0.5f })
            foreach (var shape in new[] { new[] { 3, 37 }, new[] { 2, 4, 8 }, new[] { 7 } })
                Check("Pow", [("a", shape, Values(shape, exponent == 2f ? -3 : 0, 3), false), ("b", [], [exponent], true)], []);

        foreach (var x in new[] { new[] { 1, 3, 4, 5 }, new[] { 2, 2, 9, 7 }, new[] { 1, 5, 64 }, new[] { 1, 1, 3, 3, 3 } })
            Check("GlobalMaxPool", [("x", x, Values(x, -3, 3), false)], []);

        foreach (var (m, k, n) in new[] { (1, 300, 19), (3, 513, 8), (5, 7, 45), (2, 256, 16) })
            foreach (bool ta in new[] { false, true })
            {
                int[] a = ta ? [k, m] : [m, k], b = [n, k];
                Check("Gemm", [("a", a, Values(a, -1, 1), false), ("b", b, Values(b, -1, 1), !ta), ("c", [n], Values([n], -1, 1), true)],
                    [Int("transA", ta ? 1 : 0), Int("transB", 1), Float("alpha", ta ? 0.75f : 1f), Float("beta", 1.5f)]);
            }

        foreach (var (s, d, p, k) in new[] { (1, 1, 0, 3), (1, 2, 1, 3), (1, 1, 2, 5), (2, 1, 0, 2), (2, 1, 1, 4), (3, 2, 1, 3) })
        {
            int[] x = [1, 3, 5, 23], w = [3, 2, k, k];
            var attributes = new List<NodeAttribute> { Ints("strides", s, s), Ints("dilations", d, d), Ints("pads", p, p, p, p) };
            if (s > 1) attributes.Add(Ints("output_padding", 1, 1));
            Check("ConvTranspose", [("x", x, Values(x, -1, 1), false), ("w", w, Values(w, -1, 1), true), ("b", [2], Values([2], -1, 1), true)], [.. attributes]);
        }

        int[] padded = [2, 3, 21];
        foreach (var pads in new[] { new float[] { 0, 1, 3, 1, 0, 9 }, new float[] { 1, 0, -4, 0, 2, -5 }, new float[] { 0, 0, -25, 0, 0, 30 }, new float[] { 0, 2, 25, 0, 1, -30 } })
            foreach (var mode in new[] { "constant", "reflect", "edge" })
            {
                if (mode != "constant" && pads[2] + pads[5] + padded[2] <= 0) continue; // nothing left of the row to reflect
                Check("Pad", [("x", padded, Values(padded, -1, 1), false), ("pads", [pads.Length], pads, true), ("value", [], [0.25f], true)], [Str("mode", mode)]);
            }

        // −0 in the input: the operator's sum starts at +0, so a nearest copy of −0 is +0.
        int[] signed = [1, 2, 4, 9];
        var zeros = Values(signed, -1, 1).Select((v, i) => i % 3 == 0 ? -0f : v).ToArray();
        foreach (var mode in new[] { "nearest", "linear" })
            Check("Resize", [("x", signed, zeros, false), ("", [], [], false), ("scales", [4], [1, 1, 2, 2], true)], [Str("mode", mode), Str("coordinate_transformation_mode", "asymmetric")]);
        // Nine axes: more corners than the kernel keeps on its stack; the plan refuses it with the node's name.
        var nine = new Node("wide_resize", "Resize", ["x", "", "scales"], ["y"], new Dictionary<string, NodeAttribute>());
        var layer9 = ArtifactBuilder.FloatLayerOf(nine, 13, new Dictionary<string, Tensor> { ["scales"] = Tensor.FromArray([9], Enumerable.Repeat(1f, 9).ToArray()) }, name => name, "y", "");
        int[] shape9 = [1, 1, 1, 1, 1, 1, 1, 2, 2];
        var error = Assert.Throws<ArtifactFormatException>(() => FloatLayers.Describe(layer9, _ => new ArtifactTensor("t", ArtifactElementType.F32, new(shape9), 1f, 0, 0, 0)));
        Assert.Contains("'wide_resize'", error.Message);
        Assert.Contains("more than 8 axes", error.Message);

        foreach (var x in new[] { new[] { 5, 19 }, new[] { 2, 3, 11 }, new[] { 1, 2, 3, 4, 10 } })
            foreach (var mode in new[] { "nearest", "linear" })
            {
                var scales = x.Select((_, i) => i == 0 ? 1f : 1.5f + i * 0.25f).ToArray();
                Check("Resize", [("x", x, Values(x, -1, 1), false), ("", [], [], false), ("scales", [x.Length], scales, true)],
                    [Str("mode", mode), Str("coordinate_transformation_mode", "half_pixel")]);
            }
    }

    /// <summary>
    /// Runs <paramref name="op"/> through its reference operator and through the float kernels the layer's description
    /// calls, and compares; inputs are (name, shape, values, constant).
    /// </summary>
    private void Check(string op, List<(string Name, int[] Shape, float[] Values, bool Constant)> inputs, NodeAttribute[] attributes, int opset = 13)
    {
        var node = new Node("node", op, inputs.Select(i => i.Name).ToArray(), ["y"], attributes.ToDictionary(a => a.Name));
        bool Integer(int index) => op == "Slice" && index > 0 || op == "Pad" && index is 1 or 3 || op == "Resize" && index == 3;
        var tensors = inputs.Select((i, index) => i.Name.Length == 0 ? null : Integer(index)
            ? Tensor.FromArray(i.Shape, i.Values.Select(v => (long)v).ToArray())
            : Tensor.FromArray(i.Shape, i.Values)).ToArray();
        Assert.True(OperatorRegistry.Default.TryGet(op, out var reference));
        var expected = reference.Execute(new OpContext(node, opset), tensors)[0];

        var constants = inputs.Select((input, index) => (input, index)).Where(p => p.input.Constant).ToDictionary(p => p.input.Name, p => tensors[p.index]!);
        var layer = ArtifactBuilder.FloatLayerOf(node, opset, constants, name => name, "y", "");
        var artifactTensors = inputs.Where(i => !i.Constant && i.Name.Length > 0).Select(i => new ArtifactTensor(i.Name, ArtifactElementType.F32, new(i.Shape), 1f, 0, 0, 0))
            .Append(new ArtifactTensor("y", ArtifactElementType.F32, new(expected.Shape), 1f, 0, 0, 0)).ToDictionary(t => t.Name);
        var calls = FloatLayers.Describe(layer, n => artifactTensors[n]);

        float[] Operand(int index)
        {
            int source = FloatLayers.Source(layer, index);
            return source >= 0 ? inputs.Single(i => i.Name == layer.Inputs[source]).Values : source == -2 ? FloatLayers.ConstantFloats(layer, index)! : [];
        }
        var y = new float[expected.Length];
        y.AsSpan().Fill(float.NaN);
        foreach (var call in calls) Run(call, Operand, y);
        var scalar = new float[expected.Length];
        scalar.AsSpan().Fill(float.NaN);
        QuantGenKernels.SimdEnabled = false;
        try
        {
            foreach (var call in calls) Run(call, Operand, scalar);
        }
        finally
        {
            QuantGenKernels.SimdEnabled = true;
        }
        for (int i = 0; i < y.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(scalar[i]) == BitConverter.SingleToInt32Bits(y[i]) || (float.IsNaN(scalar[i]) && float.IsNaN(y[i])),
                $"{op}: element {i} is {y[i]:R} on the SIMD path, {scalar[i]:R} on the scalar one");

        // The simulator's path too: the node rebuilt from the artifact layer gives the operator's result, and the
        // simulator's float layer (FloatIslands.Kernels.cs) the generated kernel's, bit for bit.
        var read = (string name) => (inputs.Single(i => i.Name == name).Values, inputs.Single(i => i.Name == name).Shape);
        var want = expected.ToFloatArray();
        Assert.Equal(want, FloatIslands.Execute(layer, read));
        var simulated = FloatIslands.Execute(layer, read, n => artifactTensors[n]);
        for (int i = 0; i < y.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(simulated[i]) == BitConverter.SingleToInt32Bits(y[i]) || (float.IsNaN(simulated[i]) && float.IsNaN(y[i])),
                $"{op}: element {i} is {y[i]:R} in the kernel, {simulated[i]:R} in the simulator");
        int exact = 0;
        for (int i = 0; i < want.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(want[i]) == BitConverter.SingleToInt32Bits(y[i]) || (float.IsNaN(want[i]) && float.IsNaN(y[i]))) { exact++; continue; }
            Assert.True(Approximate.Contains(op), $"{op} {string.Join(",", inputs.Select(p => "[" + string.Join(",", p.Shape) + "]"))}: element {i} is {y[i]:R}, the operator gives {want[i]:R}");
            Assert.True(Math.Abs(want[i] - y[i]) <= 1e-5 * Math.Abs(want[i]) + 1e-7, $"{op}: element {i} is {y[i]:R}, the operator gives {want[i]:R}");
        }
        output.WriteLine($"{op} {string.Join(" ", inputs.Select(p => $"{p.Name}[{string.Join(",", p.Shape)}]{(p.Constant ? "c" : "")}"))}: {exact}/{want.Length} bit-identical");
    }

    /// <summary>The call as the generated code makes it, arguments in order.</summary>
    private static void Run(FloatCall call, Func<int, float[]> operand, float[] y)
    {
        var a = call.Arguments;
        float[] In(int i) => a[i].Kind == FloatArgumentKind.Output ? throw new InvalidOperationException() : operand(a[i].Index);
        switch (call.Kernel)
        {
            case "Binary": QuantGenFloatKernels.Binary(In(0), In(1), y, a[3].Ints, a[4].Ints, a[5].Ints, a[6].Value); break;
            case "Unary": QuantGenFloatKernels.Unary(In(0), y, a[2].Value, a[3].FloatValue, a[4].FloatValue); break;
            case "Softmax": QuantGenFloatKernels.Softmax(In(0), y, a[2].Value, a[3].Value, a[4].Value); break;
            case "LayerNorm": QuantGenFloatKernels.LayerNorm(In(0), In(1), In(2), y, a[4].Value, a[5].Value, a[6].FloatValue); break;
            case "StridedCopy": QuantGenFloatKernels.StridedCopy(In(0), y, a[2].Ints, a[3].Ints, a[4].Value); break;
            case "CopyBlocks": QuantGenFloatKernels.CopyBlocks(In(0), y, a[2].Value, a[3].Value, a[4].Value, a[5].Value); break;
            case "Reduce": QuantGenFloatKernels.Reduce(In(0), y, a[2].Ints, a[3].Ints, a[4].Ints, a[5].Ints, a[6].Value); break;
            case "MatMul": QuantGenFloatKernels.MatMul(In(0), In(1), y, a[3].Ints, a[4].Ints, a[5].Value, a[6].Value, a[7].Value); break;
            case "ClipBounds": QuantGenFloatKernels.ClipBounds(In(0), In(1), In(2), y); break;
            case "Resize": QuantGenFloatKernels.Resize(In(0), y, a[2].Ints, a[3].Ints, a[4].Ints, a[5].Ints, a[6].Ints); break;
            case "ChannelAffine": QuantGenFloatKernels.ChannelAffine(In(0), y, a[2].Floats, a[3].Floats, a[4].Value, a[5].Value, a[6].Value); break;
            case "GlobalPool": QuantGenFloatKernels.GlobalPool(In(0), y, a[2].Value, a[3].Value, a[4].Value); break;
            case "Gemm": QuantGenFloatKernels.Gemm(In(0), In(1), In(2), y, a[4].Ints, a[5].Value, a[6].Value, a[7].Value, a[8].Value, a[9].Value, a[10].FloatValue, a[11].FloatValue); break;
            case "Pad": QuantGenFloatKernels.Pad(In(0), y, a[2].Ints, a[3].Ints, a[4].Ints, a[5].Value, a[6].FloatValue); break;
            case "Conv":
            case "ConvTranspose":
            {
                var v = a.Skip(4).Select(x => x.Value).ToArray();
                if (call.Kernel == "Conv")
                    QuantGenFloatKernels.Conv(In(0), In(1), In(2), y, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15]);
                else
                    QuantGenFloatKernels.ConvTranspose(In(0), In(1), In(2), y, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15]);
                break;
            }
            default: throw new InvalidOperationException(call.Kernel);
        }
    }

    private int[] RandomShape(int minRank, int maxRank, int maxDim) =>
        Enumerable.Range(0, _random.Next(minRank, maxRank + 1)).Select(_ => 1 + _random.Next(maxDim)).ToArray();

    private float[] Values(int[] shape, float lo, float hi, bool positive = false, bool nonzero = false)
    {
        int count = shape.Aggregate(1, (p, d) => p * d);
        return Enumerable.Range(0, count).Select(_ =>
        {
            float v = lo + (float)_random.NextDouble() * (hi - lo);
            if (positive) v = Math.Abs(v) + 0.01f;
            if (nonzero && Math.Abs(v) < 0.1f) v += 0.5f;
            return v;
        }).ToArray();
    }

    private static NodeAttribute Int(string name, long value) => new() { Name = name, Kind = AttributeKind.Int, Int = value };

    private static NodeAttribute Ints(string name, params long[] values) => new() { Name = name, Kind = AttributeKind.Ints, Ints = values };

    private static NodeAttribute Str(string name, string value) => new() { Name = name, Kind = AttributeKind.String, String = value };

    private static NodeAttribute Float(string name, float value) => new() { Name = name, Kind = AttributeKind.Float, Float = value };
}
