using System.Buffers;
using System.Numerics.Tensors;
using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;
using QuantGen.Core.Operators;

namespace QuantGen.Core.Quantization;

/// <summary>
/// Float execution of the quantizer's layer list, one layer for one sample at a time: what the equalization, bias
/// correction and AdaRound passes measure against. Unlike the ONNX reference executor it sees the layers as the
/// passes rewrite them (folded, equalized, absorbed) and can run them with quantized weights and fake-quantized
/// outputs, which is how the "already quantized" inputs of asymmetric reconstruction are produced.
/// </summary>
internal sealed partial class LayerExecutor
{
    private readonly Graph _graph;

    public LayerExecutor(Graph graph) => _graph = graph;

    /// <summary>Runs every layer for one sample (inputs by graph input name); returns every value by name.</summary>
    public Dictionary<string, float[]> Run(IReadOnlyList<FloatLayer> layers, IReadOnlyDictionary<string, float[]> inputs)
    {
        var values = new Dictionary<string, float[]>(inputs, StringComparer.Ordinal);
        foreach (var layer in layers)
            values[layer.Output] = Execute(layer, layer.Weights, layer.Bias, name => values[name]);
        return values;
    }

    /// <summary>
    /// One layer's output for one sample. <paramref name="weights"/> and <paramref name="bias"/> stand in for the
    /// layer's own (dequantized weights, corrected bias); <paramref name="read"/> gives the input values.
    /// </summary>
    public float[] Execute(FloatLayer layer, float[]? weights, float[]? bias, Func<string, float[]> read)
    {
        var output = layer.Kind switch
        {
            LayerKinds.Conv => Conv(layer, weights!, bias!, read(layer.Inputs[0])),
            LayerKinds.FullyConnected => FullyConnected(layer, weights!, bias!, read(layer.Inputs[0])),
            LayerKinds.MaxPool or LayerKinds.AveragePool => Pool(layer, read(layer.Inputs[0])),
            LayerKinds.Add => Add(read(layer.Inputs[0]), read(layer.Inputs[1]), layer.Subtract),
            LayerKinds.Lookup or LayerKinds.Affine or LayerKinds.Mul or LayerKinds.Concat => Elementwise(layer, read), // LayerExecutor.Elementwise.cs
            LayerKinds.Reshape => read(layer.Inputs[0]),
            LayerKinds.Remap => layer.Remap(read(layer.Inputs[0])), // FloatLayer.Remap.cs
            LayerKinds.Resize => layer.Resized(read(layer.Inputs[0]), Shape(layer.Inputs[0])[^2], Shape(layer.Inputs[0])[^1]), // FloatLayer.Resize.cs
            LayerKinds.MatMul => layer.MatMul(read(layer.Inputs[0]), Shape(layer.Inputs[0]), read(layer.Inputs[1]), Shape(layer.Inputs[1])), // FloatLayer.MatMul.cs
            LayerKinds.Softmax => Softmax(read(layer.Inputs[0]), Shape(layer.Output)[^1]),
            LayerKinds.Sigmoid => Sigmoid(read(layer.Inputs[0])),
            _ when layer.IsFloatOp => FloatIslands.Execute(layer, _graph, read),
            _ => throw new ModelException(ErrorCodes.InternalError, $"No float rule for layer kind {layer.Kind}.", nodeName: layer.Name),
        };
        if (layer.Kind is not (LayerKinds.Reshape or LayerKinds.Remap or LayerKinds.Resize or LayerKinds.MaxPool or LayerKinds.Softmax or LayerKinds.Sigmoid))
            ApplyActivation(layer, output);
        return output;
    }

    /// <summary>The fused activation: LeakyRelu's slope, then the clamp per output channel (channels are dimension 1 of NCHW, the last of [rows, M]).</summary>
    public void ApplyActivation(FloatLayer layer, float[] values)
    {
        if (layer.LeakyAlpha is { } alpha)
            for (int i = 0; i < values.Length; i++)
                if (values[i] < 0) values[i] *= alpha;
        if (float.IsNegativeInfinity(layer.ClampMin) && float.IsPositiveInfinity(layer.ClampMax) && layer.ChannelClampMax is null) return;
        var shape = Shape(layer.Output);
        var (channels, inner) = ChannelLayout(shape);
        for (int i = 0; i < values.Length; i++)
        {
            int c = (i / inner) % channels;
            float lo = layer.ClampMin, hi = layer.ClampMaxOf(c);
            float v = values[i];
            values[i] = v < lo ? lo : v > hi ? hi : v;
        }
    }

    /// <summary>Channel count and the stride between channels: NCHW (rank 4) has channels in dim 1, others in the last dim.</summary>
    public static (int Channels, int Inner) ChannelLayout(int[] shape) =>
        shape.Length == 4 ? (shape[1], shape[2] * shape[3]) : (shape[^1], 1);

    public int[] Shape(string value) => _graph.ValueInfos[value].Shape;

    private float[] Conv(FloatLayer layer, float[] weights, float[] bias, float[] x)
    {
        int[] inShape = Shape(layer.Inputs[0]), outShape = Shape(layer.Output);
        int m = outShape[1], plane = outShape[2] * outShape[3], mg = m / layer.Group, k = layer.FanIn;
        var y = new float[m * plane];
        var columns = Im2Col.Columns(layer, x, inShape, outShape);
        for (int g = 0; g < layer.Group; g++)
            Gemm.MultiplyAdd(weights.AsSpan(g * mg * k, mg * k), columns.AsSpan(g * k * plane, k * plane), y.AsSpan(g * mg * plane, mg * plane), mg, k, plane);
        Im2Col.Return(columns);
        for (int o = 0; o < m; o++) TensorPrimitives.Add(y.AsSpan(o * plane, plane), bias[o], y.AsSpan(o * plane, plane));
        return y;
    }

    private static float[] FullyConnected(FloatLayer layer, float[] weights, float[] bias, float[] x)
    {
        int m = layer.OutputChannels, k = layer.FanIn, rows = x.Length / k;
        var y = new float[rows * m];
        for (int r = 0; r < rows; r++)
        {
            var xr = x.AsSpan(r * k, k);
            for (int o = 0; o < m; o++) y[r * m + o] = TensorPrimitives.Dot(weights.AsSpan(o * k, k), xr) + bias[o];
        }
        return y;
    }

    private float[] Pool(FloatLayer layer, float[] x)
    {
        int[] inShape = Shape(layer.Inputs[0]), outShape = Shape(layer.Output);
        bool isMax = layer.Kind == LayerKinds.MaxPool;
        int nc = inShape[0] * inShape[1], h = inShape[2], w = inShape[3], oh = outShape[2], ow = outShape[3];
        var y = new float[nc * oh * ow];
        for (int p = 0; p < nc; p++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    float best = float.NegativeInfinity, sum = 0;
                    int count = 0;
                    for (int ky = 0; ky < layer.Kernel[0]; ky++)
                        for (int kx = 0; kx < layer.Kernel[1]; kx++)
                        {
                            int iy = oy * layer.Strides[0] - layer.Pads[0] + ky * layer.Dilations[0];
                            int ix = ox * layer.Strides[1] - layer.Pads[1] + kx * layer.Dilations[1];
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                            float v = x[(p * h + iy) * w + ix];
                            best = MathF.Max(best, v);
                            sum += v;
                            count++;
                        }
                    int n = layer.CountIncludePad ? layer.Kernel[0] * layer.Kernel[1] : count;
                    y[(p * oh + oy) * ow + ox] = isMax ? best : n == 0 ? 0 : sum / n;
                }
        return y;
    }

    private static float[] Add(float[] a, float[] b, bool subtract)
    {
        var y = new float[a.Length];
        if (subtract) TensorPrimitives.Subtract(a, b, y);
        else TensorPrimitives.Add(a, b, y);
        return y;
    }

    private static float[] Softmax(float[] x, int n)
    {
        var y = new float[x.Length];
        for (int r = 0; r < x.Length; r += n) TensorPrimitives.SoftMax(x.AsSpan(r, n), y.AsSpan(r, n));
        return y;
    }

    private static float[] Sigmoid(float[] x)
    {
        var y = new float[x.Length];
        TensorPrimitives.Sigmoid(x, y);
        return y;
    }
}

/// <summary>The im2col views of a convolution's input that the passes need: columns for the product, rows for reconstruction.</summary>
internal static class Im2Col
{
    /// <summary>
    /// The input as a [C·KH·KW, OH·OW] matrix, rows ordered (channel, ky, kx): group g's rows are the block
    /// [g·K, (g+1)·K) with K the fan-in. Out-of-bounds taps are 0 (zero padding).
    /// </summary>
    /// <remarks>The array is rented (im2col buffers are large-object-heap sized and made for every sample): hand it back with <see cref="Return"/>; it may be longer than needed.</remarks>
    public static float[] Columns(FloatLayer layer, float[] x, int[] inShape, int[] outShape)
    {
        int c = inShape[1], h = inShape[2], w = inShape[3], oh = outShape[2], ow = outShape[3];
        int kh = layer.Kernel[0], kw = layer.Kernel[1], plane = oh * ow;
        var columns = ArrayPool<float>.Shared.Rent(c * kh * kw * plane);
        Array.Clear(columns, 0, c * kh * kw * plane);
        for (int channel = 0; channel < c; channel++)
            for (int ky = 0; ky < kh; ky++)
                for (int kx = 0; kx < kw; kx++)
                {
                    var row = columns.AsSpan(((channel * kh + ky) * kw + kx) * plane, plane);
                    var input = x.AsSpan(channel * h * w, h * w);
                    for (int oy = 0; oy < oh; oy++)
                    {
                        int iy = oy * layer.Strides[0] - layer.Pads[0] + ky * layer.Dilations[0];
                        if (iy < 0 || iy >= h) continue;
                        for (int ox = 0; ox < ow; ox++)
                        {
                            int ix = ox * layer.Strides[1] - layer.Pads[1] + kx * layer.Dilations[1];
                            if (ix < 0 || ix >= w) continue;
                            row[oy * ow + ox] = input[iy * w + ix];
                        }
                    }
                }
        return columns;
    }

    public static void Return(float[] columns) => ArrayPool<float>.Shared.Return(columns);

    /// <summary>
    /// The layer's input rows (one per output position, fan-in values each), per group: im2col rows for a Conv,
    /// the input's rows for a FullyConnected layer (one group). <paramref name="positions"/> picks a subset of rows.
    /// </summary>
    public static float[][] Rows(FloatLayer layer, float[] x, int[] inShape, int[] outShape, int[] positions)
    {
        int k = layer.FanIn;
        if (layer.Kind == LayerKinds.FullyConnected)
        {
            var picked = new float[positions.Length * k];
            for (int r = 0; r < positions.Length; r++) x.AsSpan(positions[r] * k, k).CopyTo(picked.AsSpan(r * k, k));
            return [picked];
        }
        var columns = Columns(layer, x, inShape, outShape);
        int plane = outShape[2] * outShape[3];
        var groups = new float[layer.Group][];
        for (int g = 0; g < layer.Group; g++)
        {
            var rows = groups[g] = new float[positions.Length * k];
            for (int i = 0; i < k; i++)
            {
                var column = columns.AsSpan((g * k + i) * plane, plane);
                for (int r = 0; r < positions.Length; r++) rows[r * k + i] = column[positions[r]];
            }
        }
        Return(columns);
        return groups;
    }

    /// <summary>Per group, the sum of the input rows over all positions (im2col rows for conv, zero padding included), and the row count.</summary>
    public static (double[][] Sums, int Rows) RowSums(FloatLayer layer, float[] x, int[] inShape, int[] outShape)
    {
        int k = layer.FanIn;
        if (layer.Kind == LayerKinds.FullyConnected)
        {
            int n = x.Length / k;
            var sum = new double[k];
            for (int r = 0; r < n; r++)
                for (int i = 0; i < k; i++) sum[i] += x[r * k + i];
            return ([sum], n);
        }
        var columns = Columns(layer, x, inShape, outShape);
        int plane = outShape[2] * outShape[3];
        var sums = new double[layer.Group][];
        for (int g = 0; g < layer.Group; g++)
        {
            sums[g] = new double[k];
            for (int i = 0; i < k; i++) sums[g][i] = TensorPrimitives.Sum(columns.AsSpan((g * k + i) * plane, plane));
        }
        Return(columns);
        return (sums, plane);
    }

    /// <summary>Number of rows (output positions) per sample.</summary>
    public static int RowCount(FloatLayer layer, int[] inShape, int[] outShape) =>
        layer.Kind == LayerKinds.FullyConnected ? ShapeMath.ElementCount(inShape) / layer.FanIn : outShape[2] * outShape[3];
}
