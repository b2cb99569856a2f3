using System.Numerics.Tensors;
using QuantGen.Core.Artifact;

namespace QuantGen.Core.Quantization;

/// <summary>
/// Executes a quantized artifact exactly as docs/artifact.md specifies: the bit-exact reference the generated
/// code is tested against, and how the quantizer measures the integer model's error. Plain loops, except that
/// integer dot products run on TensorPrimitives (exact in any order): this is the specification in executable form.
/// </summary>
public sealed partial class IntegerSimulator
{
    private readonly QuantizedArtifact _artifact;
    private readonly Dictionary<string, ArtifactTensor> _tensors;

    public IntegerSimulator(QuantizedArtifact artifact)
    {
        _artifact = artifact;
        _tensors = artifact.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>Runs the model on float inputs (by graph input name), returning float outputs by graph output name.</summary>
    public Dictionary<string, float[]> Run(IReadOnlyDictionary<string, float[]> inputs, Action<string, int[]>? observeQuantized = null)
    {
        var ints = new Dictionary<string, int[]>(StringComparer.Ordinal);
        var floats = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var io in _artifact.Inputs)
        {
            if (!inputs.TryGetValue(io.Name, out var data))
                throw new ArgumentException($"No value for input '{io.Name}'.");
            if (data.Length != _tensors[io.Tensor].ElementCount)
                throw new ArgumentException($"Input '{io.Name}' needs {_tensors[io.Tensor].ElementCount} values, got {data.Length}.");
            floats[io.Tensor] = data;
        }

        foreach (var layer in _artifact.Layers)
        {
            var output = _tensors[layer.Outputs[0]];
            switch (layer.Kind)
            {
                case LayerKinds.Quantize:
                {
                    var x = floats[layer.Inputs[0]];
                    var y = new int[x.Length];
                    for (int i = 0; i < x.Length; i++) y[i] = FixedPoint.Quantize(x[i], output.Scale, output.ZeroPoint, output.QMin, output.QMax);
                    ints[output.Name] = y;
                    break;
                }
                case LayerKinds.Dequantize:
                {
                    var x = ints[layer.Inputs[0]];
                    var input = _tensors[layer.Inputs[0]];
                    var y = new float[x.Length];
                    for (int i = 0; i < x.Length; i++) y[i] = FixedPoint.Dequantize(x[i], input.Scale, input.ZeroPoint);
                    floats[output.Name] = y;
                    break;
                }
                case LayerKinds.Conv:
                {
                    // 16-bit activations accumulate in int64 (docs/artifact.md); u8 sums fit int32, which vectorises twice as wide.
                    var input = _tensors[layer.Inputs[0]];
                    var y = input.ElementType == ArtifactElementType.I16
                        ? Conv<long>(layer, input, ints[layer.Inputs[0]], output)
                        : Conv<int>(layer, input, ints[layer.Inputs[0]], output);
                    y.Publish(layer, output, output.Shape[1], output.Shape[2] * output.Shape[3], ints, floats);
                    break;
                }
                case LayerKinds.FullyConnected: FullyConnected(layer, _tensors[layer.Inputs[0]], ints[layer.Inputs[0]], output).Publish(layer, output, output.Shape[^1], 1, ints, floats); break;
                case LayerKinds.FactorizedFullyConnected: ints[output.Name] = FactorizedFullyConnected(layer, _tensors[layer.Inputs[0]], ints[layer.Inputs[0]], output); break;
                case LayerKinds.FactorizedConv: ints[output.Name] = FactorizedConv(layer, _tensors[layer.Inputs[0]], ints[layer.Inputs[0]], output); break;
                case LayerKinds.MaxPool: ints[output.Name] = Pool(layer, _tensors[layer.Inputs[0]], ints[layer.Inputs[0]], output, max: true); break;
                case LayerKinds.AveragePool: ints[output.Name] = Pool(layer, _tensors[layer.Inputs[0]], ints[layer.Inputs[0]], output, max: false); break;
                case LayerKinds.Add: ints[output.Name] = Add(layer, ints[layer.Inputs[0]], ints[layer.Inputs[1]], output); break;
                case LayerKinds.Lookup or LayerKinds.Affine or LayerKinds.Mul or LayerKinds.Concat: ints[output.Name] = Elementwise(layer, ints, output); break; // IntegerSimulator.Elementwise.cs
                case LayerKinds.MatMul: ints[output.Name] = MatMul(layer, ints[layer.Inputs[0]], ints[layer.Inputs[1]], output); break; // IntegerSimulator.MatMul.cs
                case LayerKinds.Remap: ints[output.Name] = Remap(layer, ints[layer.Inputs[0]]); break; // IntegerSimulator.Remap.cs
                case LayerKinds.Resize: ints[output.Name] = Resize(layer, _tensors[layer.Inputs[0]], ints[layer.Inputs[0]], output); break; // IntegerSimulator.Resize.cs
                case LayerKinds.Reshape:
                    if (output.ElementType == ArtifactElementType.F32) floats[output.Name] = floats[layer.Inputs[0]];
                    else ints[output.Name] = ints[layer.Inputs[0]];
                    break;
                case LayerKinds.Softmax: floats[output.Name] = Softmax(floats[layer.Inputs[0]], output.Shape.AsArray(), layer.GetInt("axis")); break;
                case LayerKinds.Sigmoid:
                {
                    var x = floats[layer.Inputs[0]];
                    var y = new float[x.Length];
                    for (int i = 0; i < x.Length; i++) y[i] = 1f / (1f + (float)Math.Exp(-x[i]));
                    floats[output.Name] = y;
                    break;
                }
                default:
                    if (!FloatLayers.IsFloat(layer.Kind)) throw new ArtifactFormatException($"Unknown layer kind '{layer.Kind}'.");
                    floats[output.Name] = RunFloat(layer, floats);
                    break;
            }
            if (observeQuantized is not null && ints.TryGetValue(output.Name, out var produced)) observeQuantized(output.Name, produced);
        }

        return _artifact.Outputs.ToDictionary(o => o.Name, o => floats[o.Tensor], StringComparer.Ordinal);
    }

    /// <summary>
    /// acc[m, p] = bias[m] + Σ_k w[m, k] · col[k, p] with col the im2col of the input (taps outside read zx), then
    /// Requantize. Integer sums are exact in any order, so the product runs as row AXPYs over SIMD vectors of the
    /// accumulator type <typeparamref name="TAcc"/> (int32 for u8 activations, int64 for i16).
    /// </summary>
    private static WeightedRequantization Conv<TAcc>(ArtifactLayer layer, ArtifactTensor inT, int[] x, ArtifactTensor outT)
        where TAcc : struct, System.Numerics.IBinaryInteger<TAcc>
    {
        int[] k = layer.GetInts("kernel"), s = layer.GetInts("strides"), p = layer.GetInts("pads"), d = layer.GetInts("dilations");
        int group = layer.GetInt("group");
        var w = layer.GetBlob("weights").Values.AsArray();
        int[] bias = layer.GetBlob("bias").Values.AsArray();
        var requantize = new WeightedRequantization(layer, outT, wide: typeof(TAcc) != typeof(int));
        int n = inT.Shape[0], c = inT.Shape[1], h = inT.Shape[2], wd = inT.Shape[3];
        int m = outT.Shape[1], oh = outT.Shape[2], ow = outT.Shape[3], plane = oh * ow;
        int cg = c / group, mg = m / group, taps = cg * k[0] * k[1];
        var columns = new TAcc[taps * plane];
        var acc = new TAcc[plane];
        var pad = TAcc.CreateTruncating(inT.ZeroPoint);
        for (int b = 0; b < n; b++)
            for (int g = 0; g < group; g++)
            {
                for (int ci = 0; ci < cg; ci++)
                    for (int ky = 0; ky < k[0]; ky++)
                        for (int kx = 0; kx < k[1]; kx++)
                        {
                            int row = ((ci * k[0] + ky) * k[1] + kx) * plane;
                            for (int oy = 0; oy < oh; oy++)
                                for (int ox = 0; ox < ow; ox++)
                                {
                                    int iy = oy * s[0] - p[0] + ky * d[0], ix = ox * s[1] - p[1] + kx * d[1];
                                    columns[row + oy * ow + ox] = iy >= 0 && iy < h && ix >= 0 && ix < wd ? TAcc.CreateTruncating(x[((b * c + g * cg + ci) * h + iy) * wd + ix]) : pad;
                                }
                        }
                for (int o = g * mg; o < (g + 1) * mg; o++)
                {
                    Array.Fill(acc, TAcc.CreateTruncating(bias[o]));
                    for (int t = 0; t < taps; t++)
                    {
                        int weight = w[o * taps + t];
                        if (weight != 0) TensorPrimitives.MultiplyAdd(columns.AsSpan(t * plane, plane), TAcc.CreateTruncating(weight), acc, acc);
                    }
                    int outBase = (b * m + o) * plane;
                    for (int i = 0; i < plane; i++)
                        requantize.Store(outBase + i, long.CreateTruncating(acc[i]), o);
                }
            }
        return requantize;
    }

    /// <summary>The optional per-channel upper bound of equalized bounded activations: y = min(y, clampHigh[c]).</summary>
    private static int[] ClampChannels(ArtifactLayer layer, int[] y, int channels, int inner)
    {
        var blob = layer.Blobs.FirstOrDefault(b => b.Key == "clampHigh");
        if (blob is null) return y;
        var high = blob.Values.AsArray();
        for (int i = 0; i < y.Length; i++) y[i] = Math.Min(y[i], high[i / inner % channels]);
        return y;
    }

    private static WeightedRequantization FullyConnected(ArtifactLayer layer, ArtifactTensor inT, int[] x, ArtifactTensor outT)
    {
        var wBlob = layer.GetBlob("weights");
        int m = wBlob.Shape[0], k = wBlob.Shape[1];
        var w = wBlob.Values.AsArray();
        int[] bias = layer.GetBlob("bias").Values.AsArray();
        int rows = x.Length / k;
        bool wide = inT.ElementType == ArtifactElementType.I16;
        var requantize = new WeightedRequantization(layer, outT, wide);
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < m; o++)
            {
                // 16-bit activations: an int64 sum (its terms reach 2^22, their sum can pass 2^31).
                long acc = wide ? bias[o] + WideDot(w.AsSpan(o * k, k), x.AsSpan(r * k, k))
                    : bias[o] + TensorPrimitives.Dot<int>(w.AsSpan(o * k, k), x.AsSpan(r * k, k));
                requantize.Store(r * m + o, acc, o);
            }
        return requantize;
    }

    private static long WideDot(ReadOnlySpan<int> w, ReadOnlySpan<int> x)
    {
        long sum = 0;
        for (int i = 0; i < w.Length; i++) sum += (long)w[i] * x[i];
        return sum;
    }

    /// <summary>
    /// A Conv or FullyConnected layer's requantization of output channel o, and the output it fills: with 8-bit
    /// activations through the float32 scales (FixedPoint.RequantizeScaled), with 16-bit ones in fixed point on the
    /// int64 accumulator; a fused LeakyRelu's negative-slope pair for negative accumulators (without one, the layer's
    /// own pair again). An f32 output (docs/artifact.md, "Float outputs") takes float32(acc) · scale clamped to the
    /// layer's bounds, as <c>v &gt; low ? v : low</c> then <c>v &lt; high ? v : high</c>.
    /// </summary>
    private sealed class WeightedRequantization
    {
        private readonly int[] _multiplier, _shift, _negMultiplier, _negShift, _clamp;
        private readonly float[] _scale, _negScale, _bounds;
        private readonly int _zero;
        private readonly bool _wide;
        private readonly int[]? _ints;
        private readonly float[]? _floats;

        public WeightedRequantization(ArtifactLayer layer, ArtifactTensor outT, bool wide)
        {
            _multiplier = layer.GetBlob("multiplier").Values.AsArray();
            _shift = layer.GetBlob("shift").Values.AsArray();
            (_negMultiplier, _negShift) = layer.HasBlob("negMultiplier")
                ? (layer.GetBlob("negMultiplier").Values.AsArray(), layer.GetBlob("negShift").Values.AsArray())
                : (_multiplier, _shift);
            _scale = _multiplier.Select((m, o) => FixedPoint.Scale(m, _shift[o])).ToArray();
            _negScale = _negMultiplier.Select((m, o) => FixedPoint.Scale(m, _negShift[o])).ToArray();
            _zero = outT.ZeroPoint;
            _wide = wide;
            if (outT.ElementType == ArtifactElementType.F32)
            {
                if (wide) throw new ArtifactFormatException($"Layer '{layer.Name}' writes f32 from 16-bit activations: float outputs are 8-bit only.");
                _bounds = layer.GetFloats("bounds");
                if (_bounds.Length != 2) throw new ArtifactFormatException($"Layer '{layer.Name}': 'bounds' needs 2 values.");
                _clamp = [];
                _floats = new float[outT.ElementCount];
            }
            else
            {
                _clamp = layer.GetInts("clamp");
                _bounds = [];
                _ints = new int[outT.ElementCount];
            }
        }

        /// <summary>Writes output element <paramref name="index"/> (channel <paramref name="o"/>) from its accumulator.</summary>
        public void Store(int index, long acc, int o)
        {
            if (_ints is not null) { _ints[index] = Apply(acc, o); return; }
            float v = (float)((float)checked((int)acc) * (acc >= 0 ? _scale[o] : _negScale[o]));
            v = v > _bounds[0] ? v : _bounds[0];
            _floats![index] = v < _bounds[1] ? v : _bounds[1];
        }

        /// <summary>The filled output into <paramref name="ints"/> (per-channel clampHigh applied) or <paramref name="floats"/>.</summary>
        public void Publish(ArtifactLayer layer, ArtifactTensor output, int channels, int inner, Dictionary<string, int[]> ints, Dictionary<string, float[]> floats)
        {
            if (_floats is not null) floats[output.Name] = _floats;
            else ints[output.Name] = ClampChannels(layer, _ints!, channels, inner);
        }

        public int Apply(long acc, int o) =>
            _wide ? FixedPoint.Requantize(acc, acc >= 0 ? _multiplier[o] : _negMultiplier[o], acc >= 0 ? _shift[o] : _negShift[o], _zero, _clamp[0], _clamp[1])
            : FixedPoint.RequantizeScaled(checked((int)acc), acc >= 0 ? _scale[o] : _negScale[o], _zero, _clamp[0], _clamp[1]);
    }

    private static int[] Pool(ArtifactLayer layer, ArtifactTensor inT, int[] x, ArtifactTensor outT, bool max)
    {
        int[] k = layer.GetInts("kernel"), s = layer.GetInts("strides"), p = layer.GetInts("pads");
        int[] d = max ? layer.GetInts("dilations") : [1, 1];
        int nc = inT.Shape[0] * inT.Shape[1], h = inT.Shape[2], w = inT.Shape[3], oh = outT.Shape[2], ow = outT.Shape[3];
        int[]? mult = max ? null : layer.GetBlob("multiplier").Values.AsArray();
        int[]? shift = max ? null : layer.GetBlob("shift").Values.AsArray();
        int[]? clamp = max ? null : layer.GetInts("clamp");
        bool includePad = !max && layer.GetInt("countIncludePad") != 0;
        var y = new int[outT.ElementCount];
        for (int plane = 0; plane < nc; plane++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    int best = int.MinValue, acc = 0, count = 0;
                    for (int ky = 0; ky < k[0]; ky++)
                        for (int kx = 0; kx < k[1]; kx++)
                        {
                            int iy = oy * s[0] - p[0] + ky * d[0], ix = ox * s[1] - p[1] + kx * d[1];
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                            int v = x[(plane * h + iy) * w + ix];
                            best = Math.Max(best, v);
                            acc += v - inT.ZeroPoint;
                            count++;
                        }
                    int n = includePad ? k[0] * k[1] : count;
                    y[(plane * oh + oy) * ow + ox] = max
                        ? best
                        : FixedPoint.Requantize(acc, mult![n], shift![n], outT.ZeroPoint, clamp![0], clamp[1]);
                }
        return y;
    }

    private int[] Add(ArtifactLayer layer, int[] a, int[] b, ArtifactTensor outT)
    {
        int za = _tensors[layer.Inputs[0]].ZeroPoint, zb = _tensors[layer.Inputs[1]].ZeroPoint;
        int[] m = layer.GetInts("multipliers"), clamp = layer.GetInts("clamp");
        int shift = layer.GetInt("shift");
        var y = new int[a.Length];
        for (int i = 0; i < a.Length; i++)
        {
            long v = (((long)(a[i] - za) * m[0] + (long)(b[i] - zb) * m[1] + (1L << (shift - 1))) >> shift) + outT.ZeroPoint;
            y[i] = v < clamp[0] ? clamp[0] : v > clamp[1] ? clamp[1] : (int)v;
        }
        return y;
    }

    private static float[] Softmax(float[] x, int[] shape, int axis)
    {
        int inner = 1;
        for (int i = axis + 1; i < shape.Length; i++) inner *= shape[i];
        int n = shape[axis], outer = x.Length / (n * inner);
        var y = new float[x.Length];
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < inner; j++)
            {
                int baseIndex = o * n * inner + j;
                float max = float.NegativeInfinity;
                for (int i = 0; i < n; i++) max = Math.Max(max, x[baseIndex + i * inner]);
                float sum = 0;
                for (int i = 0; i < n; i++) sum += y[baseIndex + i * inner] = (float)Math.Exp(x[baseIndex + i * inner] - max);
                for (int i = 0; i < n; i++) y[baseIndex + i * inner] /= sum;
            }
        return y;
    }
}
