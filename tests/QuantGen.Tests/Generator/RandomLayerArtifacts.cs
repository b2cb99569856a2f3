using System.Text;

namespace QuantGen.Tests.Generator;

/// <summary>
/// Hand-built one-layer artifacts with random weights, biases, multipliers, shifts and zero points, and random inputs
/// for them, as data: <see cref="PackedKernelTests"/> checks each in-process, <see cref="OtherCpuTests"/> compiles all
/// of them into one assembly for the other CPUs.
/// </summary>
internal static class RandomLayerArtifacts
{
    /// <summary>An artifact (its model input is the tensor "x", its output "y") and inputs to run it on.</summary>
    public sealed record Case(string Name, string Text, float[][] Inputs);

    /// <summary>A Conv as in PackedKernelTests.ConvSimdAndScalarMatchTheSimulator, in the generator's layout or forced to NCHW.</summary>
    public static Case Conv(string name, int inputs, int c, int h, int w, int m, int kh, int kw, int sh, int sw,
        int pt, int pl, int pb, int pr, int dh, int dw, int g, bool leaky, bool forceNchw, int weightMagnitude = 127, bool floatOutput = false)
    {
        var random = new Random(c * 1000 + m * 10 + g + (forceNchw ? 1 : 0) + (floatOutput ? 2 : 0));
        int oh = (h + pt + pb - dh * (kh - 1) - 1) / sh + 1, ow = (w + pl + pr - dw * (kw - 1) - 1) / sw + 1;
        var layer = new StringBuilder()
            .Append("layer Conv conv\nin x_q\nout y_q\n")
            .Append($"ints kernel {kh} {kw}\nints strides {sh} {sw}\nints pads {pt} {pl} {pb} {pr}\nints dilations {dh} {dw}\nints group {g}\n");
        return floatOutput
            ? FloatOutputLayer(name, inputs, random, [1, c, h, w], [1, m, oh, ow], layer, m, c / g * kh * kw, leaky, forceNchw)
            : OneLayer(name, inputs, random, [1, c, h, w], [1, m, oh, ow], layer, m, c / g * kh * kw, leaky, forceNchw, weightMagnitude: weightMagnitude);
    }

    /// <summary>A Conv read only by a 2×2, stride-2 MaxPool, as in PackedKernelTests.ConvThenMaxPoolMatchesTheSimulator.</summary>
    public static Case ConvThenMaxPool(string name, int inputs, int c, int h, int w, int m, int k, int stride, int pad, bool leaky, bool negativeMultiplier,
        int weightMagnitude = 127)
    {
        var random = new Random(c * 31 + m * 7 + h);
        int oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
        var layer = new StringBuilder()
            .Append("layer Conv conv\nin x_q\nout y_q\n")
            .Append($"ints kernel {k} {k}\nints strides {stride} {stride}\nints pads {pad} {pad} {pad} {pad}\nints dilations 1 1\nints group 1\n");
        return OneLayer(name, inputs, random, [1, c, h, w], [1, m, oh, ow], layer, m, c * k * k, leaky, forceNchw: false, pool: true, negativeMultiplier, weightMagnitude);
    }

    /// <summary>A FullyConnected over rows × k, as in PackedKernelTests.FullyConnectedSimdAndScalarMatchTheSimulator.</summary>
    public static Case FullyConnected(string name, int inputs, int rows, int k, int m, bool leaky, int weightMagnitude = 127, bool floatOutput = false) => floatOutput
        ? FloatOutputLayer(name, inputs, new Random(k * 100 + m + 1), [rows, k], [rows, m], new StringBuilder("layer FullyConnected fc\nin x_q\nout y\n"), m, k, leaky, forceNchw: false)
        : OneLayer(name, inputs, new Random(k * 100 + m), [rows, k], [rows, m], new StringBuilder("layer FullyConnected fc\nin x_q\nout y_q\n"), m, k, leaky, forceNchw: false,
            weightMagnitude: weightMagnitude);

    /// <summary>
    /// MaxPool and AveragePool of one input and an Add of the two, as in PackedKernelTests.PoolingAndAddMatchTheSimulator;
    /// inputs on half steps of the input grid, beyond both ends, with one NaN each.
    /// </summary>
    public static Case PoolingAndAdd(string name, int inputs, int c, int h, int w, bool countIncludePad, bool forceNchw)
    {
        var random = new Random(c * 7 + h + (forceNchw ? 1 : 0));
        int zx = random.Next(0, 256), zy = random.Next(0, 256), zs = random.Next(0, 256);
        var shape = $"1,{c},{h},{w}";
        // Average of n values: multiplier 2^31 / n · 0.9 at shift 31 (a different output grid).
        var multipliers = Enumerable.Range(0, 10).Select(n => n == 0 ? 0 : (int)(0.9 * (1L << 31) / n)).ToArray();
        int size = c * h * w;
        var text = $"quantgen-artifact 1\nmodel pools\nmeta source Models/{name}.onnx\n"
            + $"tensor x f32 {shape} 1 0 0 0\ntensor x_q u8 {shape} 0.015625 {zx} 0 255\n"
            + $"tensor p_q u8 {shape} 0.015625 {zx} 0 255\ntensor a_q u8 {shape} 0.015625 {zy} 0 255\ntensor s_q u8 {shape} 0.03125 {zs} 0 255\n"
            + (forceNchw ? $"tensor f_q u8 1,{size} 0.03125 {zs} 0 255\ntensor y f32 1,{size} 1 0 0 0\n" : $"tensor y f32 {shape} 1 0 0 0\n")
            + "input x x\noutput y y\nlayer Quantize q\nin x\nout x_q\nend\n"
            + "layer MaxPool mp\nin x_q\nout p_q\nints kernel 3 3\nints strides 1 1\nints pads 1 1 1 1\nints dilations 1 1\nend\n"
            + $"layer AveragePool ap\nin x_q\nout a_q\nints kernel 3 3\nints strides 1 1\nints pads 1 1 1 1\nints countIncludePad {(countIncludePad ? 1 : 0)}\nints clamp 3 250\n"
            + $"blob multiplier i32 10 {Ints(multipliers)}\nblob shift i32 10 {Ints(Enumerable.Repeat(31, 10))}\nend\n"
            + "layer Add add\nin p_q a_q\nout s_q\nints multipliers 1000000 -700000\nints shift 21\nints clamp 0 255\nend\n"
            + (forceNchw ? "layer Reshape flatten\nin s_q\nout f_q\nend\nlayer Dequantize d\nin f_q\nout y\nend\n" : "layer Dequantize d\nin s_q\nout y\nend\n");
        var x = Enumerable.Range(0, inputs).Select(i =>
        {
            var values = Enumerable.Range(0, size).Select(_ => (random.Next(-20, 532) - 2 * zx) / 128f).ToArray();
            values[i % size] = float.NaN;
            return values;
        }).ToArray();
        return new Case(name, text, x);
    }

    /// <summary>
    /// Quantize → the layer (→ a 2×2 MaxPool) (→ a flatten that keeps it NCHW) → Dequantize; weights uniform in
    /// [−weightMagnitude, min(weightMagnitude, 127)] (128: −128 among them, which the quantizer never writes).
    /// </summary>
    private static Case OneLayer(string name, int inputs, Random random, int[] inShape, int[] outShape, StringBuilder layer, int m, int k,
        bool leaky, bool forceNchw, bool pool = false, bool negativeMultiplier = false, int weightMagnitude = 127)
    {
        int zx = random.Next(0, 256), zy = random.Next(0, 256);
        // Shifts that spread the outputs over the u8 grid: |acc| is about √K · 127 · 128.
        int shift = 31 + ((int)Math.Round(Math.Log2(Math.Sqrt(k) * 127 * 128 / 64.0)));
        int[] Random(int count, int lo, int hi) => Enumerable.Range(0, count).Select(_ => random.Next(lo, hi)).ToArray();
        int lo = random.Next(0, 20), hi = random.Next(235, 256);
        layer.Append($"ints clamp {lo} {hi}\n")
            .Append($"blob weights i8 {m},{k} {Convert.ToBase64String(Random(m * k, -weightMagnitude, Math.Min(weightMagnitude, 127) + 1).Select(v => unchecked((byte)(sbyte)v)).ToArray())}\n")
            .Append($"blob bias i32 {m} {Ints(Random(m, -3000, 3000))}\n")
            .Append($"blob multiplier i32 {m} {Ints(Random(m, 1 << 30, int.MaxValue).Select((v, i) => negativeMultiplier && i == 0 ? -v : v))}\n")
            .Append($"blob shift i32 {m} {Ints(Random(m, shift - 1, shift + 2))}\n");
        if (leaky)
            layer.Append($"blob negMultiplier i32 {m} {Ints(Random(m, 1 << 30, int.MaxValue))}\n")
                .Append($"blob negShift i32 {m} {Ints(Random(m, shift + 1, shift + 4))}\n");
        layer.Append("end\n");
        string Shape(int[] s) => string.Join(",", s);
        // With pool: a 2×2, stride-2 MaxPool reads the layer's output (y_q) and writes the model's (p_q).
        var layerShape = outShape;
        if (pool)
        {
            layer.Append("layer MaxPool pool\nin y_q\nout p_q\nints kernel 2 2\nints strides 2 2\nints pads 0 0 0 0\nints dilations 1 1\nend\n");
            outShape = [outShape[0], m, outShape[2] / 2, outShape[3] / 2];
        }
        var last = pool ? "p_q" : "y_q";
        int outSize = outShape.Aggregate(1, (a, d) => a * d);
        // A flatten read by no FullyConnected keeps the layer's output, and so the layer, in NCHW.
        var resultShape = forceNchw ? [1, outSize] : outShape;
        var text = $"quantgen-artifact 1\nmodel packed\nmeta source Models/{name}.onnx\n"
            + $"tensor x f32 {Shape(inShape)} 1 0 0 0\ntensor x_q u8 {Shape(inShape)} 0.015625 {zx} 0 255\n"
            + $"tensor y_q u8 {Shape(layerShape)} 0.0625 {zy} 0 255\n"
            + (pool ? $"tensor p_q u8 {Shape(outShape)} 0.0625 {zy} 0 255\n" : "")
            + (forceNchw ? $"tensor f_q u8 {Shape(resultShape)} 0.0625 {zy} 0 255\n" : "")
            + $"tensor y f32 {Shape(resultShape)} 1 0 0 0\n"
            + "input x x\noutput y y\nlayer Quantize q\nin x\nout x_q\nend\n" + layer
            + (forceNchw ? $"layer Reshape flatten\nin {last}\nout f_q\nend\nlayer Dequantize d\nin f_q\nout y\nend\n" : $"layer Dequantize d\nin {last}\nout y\nend\n");
        // The whole u8 grid, zero point included (real = (q − zx) / 64).
        int size = inShape.Aggregate(1, (a, d) => a * d);
        var x = Enumerable.Range(0, inputs).Select(_ => Enumerable.Range(0, size).Select(_ => (random.Next(0, 256) - zx) / 64f).ToArray()).ToArray();
        return new Case(name, text, x);
    }

    /// <summary>
    /// Quantize → the layer, writing the model's f32 output itself (docs/artifact.md, "Float outputs"): accumulators
    /// dequantized and clamped to random bounds (none, a ReLU's, a ReLU6's, or an arbitrary Clip's). With
    /// <paramref name="forceNchw"/> the model input is flat and a Reshape makes the image, which keeps it NCHW (a
    /// Reshape that is no flatten constrains its operands to NCHW), so the layer runs its NCHW kernel.
    /// </summary>
    private static Case FloatOutputLayer(string name, int inputs, Random random, int[] inShape, int[] outShape, StringBuilder layer, int m, int k,
        bool leaky, bool forceNchw)
    {
        int zx = random.Next(0, 256);
        // Scales that put the outputs around ±8 (|acc| is about √K · 127 · 128).
        int shift = 31 + ((int)Math.Round(Math.Log2(Math.Sqrt(k) * 127 * 128 / 8.0)));
        int[] Random(int count, int lo, int hi) => Enumerable.Range(0, count).Select(_ => random.Next(lo, hi)).ToArray();
        (float Lo, float Hi)[] choices = [(-float.MaxValue, float.MaxValue), (0f, float.MaxValue), (0f, 6f), (-1.5f, 2.25f)];
        var (lo, hi) = choices[random.Next(choices.Length)];
        string F(float v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        layer.Replace("in x_q\n", forceNchw ? "in x4_q\n" : "in x_q\n").Replace("out y_q\n", "out y\n")
            .Append($"floats bounds {F(lo)} {F(hi)}\n")
            .Append($"blob weights i8 {m},{k} {Convert.ToBase64String(Random(m * k, -127, 128).Select(v => unchecked((byte)(sbyte)v)).ToArray())}\n")
            .Append($"blob bias i32 {m} {Ints(Random(m, -3000, 3000))}\n")
            .Append($"blob multiplier i32 {m} {Ints(Random(m, 1 << 30, int.MaxValue))}\n")
            .Append($"blob shift i32 {m} {Ints(Random(m, shift - 1, shift + 2))}\n");
        if (leaky)
            layer.Append($"blob negMultiplier i32 {m} {Ints(Random(m, 1 << 30, int.MaxValue))}\n")
                .Append($"blob negShift i32 {m} {Ints(Random(m, shift + 1, shift + 4))}\n");
        layer.Append("end\n");
        string Shape(int[] s) => string.Join(",", s);
        int size = inShape.Aggregate(1, (a, d) => a * d);
        var modelInput = forceNchw ? $"1,{size}" : Shape(inShape);
        var text = $"quantgen-artifact 1\nmodel floatout\nmeta source Models/{name}.onnx\n"
            + $"tensor x f32 {modelInput} 1 0 0 0\ntensor x_q u8 {modelInput} 0.015625 {zx} 0 255\n"
            + (forceNchw ? $"tensor x4_q u8 {Shape(inShape)} 0.015625 {zx} 0 255\n" : "")
            + $"tensor y f32 {Shape(outShape)} 1 0 0 0\n"
            + "input x x\noutput y y\nlayer Quantize q\nin x\nout x_q\nend\n"
            + (forceNchw ? "layer Reshape image\nin x_q\nout x4_q\nend\n" : "")
            + layer;
        var x = Enumerable.Range(0, inputs).Select(_ => Enumerable.Range(0, size).Select(_ => (random.Next(0, 256) - zx) / 64f).ToArray()).ToArray();
        return new Case(name, text, x);
    }

    private static string Ints(IEnumerable<int> values) => Convert.ToBase64String(values.SelectMany(BitConverter.GetBytes).ToArray());
}
