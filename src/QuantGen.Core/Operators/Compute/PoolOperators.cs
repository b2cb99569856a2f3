using QuantGen.Core.Ir;
using Tensor = QuantGen.Core.Ir.Tensor;

namespace QuantGen.Core.Operators;

/// <summary>MaxPool and AveragePool over 1-3 spatial dims (pads, strides, dilations, ceil_mode, count_include_pad, MaxPool's Indices).</summary>
internal sealed class PoolOperator : Operator
{
    private readonly bool _max;

    private PoolOperator(string opType, bool max)
    {
        OpType = opType;
        _max = max;
    }

    public override string OpType { get; }

    public static Operator[] All { get; } = [new PoolOperator("MaxPool", true), new PoolOperator("AveragePool", false)];

    public override TensorInfo[] InferOutputs(OpContext ctx, IReadOnlyList<TensorInfo?> inputs, IReadOnlyList<Tensor?> constants)
    {
        var x = Op.Required(ctx, inputs, 0, "X");
        Op.RequireType(ctx, x.DataType, DataType.Float, DataType.Double, DataType.UInt8, DataType.Int8);
        var g = SpatialGeometry.Create(ctx, x.Shape, null, allowCeil: true);
        int[] shape = [x.Shape[0], x.Shape[1], .. g.Output];
        return _max && ctx.Node.Outputs.Count > 1 ? [new TensorInfo(x.DataType, shape), new TensorInfo(DataType.Int64, shape)] : Op.One(x.DataType, shape);
    }

    public override Tensor[] Execute(OpContext ctx, IReadOnlyList<Tensor?> inputs)
    {
        var x = Op.Required(ctx, inputs, 0, "X");
        InferOutputs(ctx, [x.Info], inputs);
        var g = SpatialGeometry.Create(ctx, x.Shape, null, allowCeil: true);
        int planes = x.Shape[0] * x.Shape[1], inPlane = g.Input.Aggregate(1, (p, d) => p * d), outPlane = g.OutputSize, kSize = g.KernelSize;
        var window = g.WindowIndices(ctx);
        double[] values = x.DataType switch
        {
            DataType.Float => Array.ConvertAll(x.ToArray<float>(), v => (double)v),
            DataType.Double => x.ToArray<double>(),
            _ => Array.ConvertAll(x.ToInt64Array(), v => (double)v),
        };
        var result = new double[planes * outPlane];
        var indices = new long[_max ? result.Length : 0];
        bool includePad = ctx.Node.GetInt("count_include_pad", 0) != 0;
        int storageOrder = (int)ctx.Node.GetInt("storage_order", 0);
        int[] padCounts = includePad ? PaddedCounts(g) : [];
        for (int p = 0; p < planes; p++)
            for (int o = 0; o < outPlane; o++)
            {
                double best = double.NegativeInfinity, sum = 0;
                int count = 0, bestIndex = -1;
                for (int ki = 0; ki < kSize; ki++)
                {
                    int index = window[o * kSize + ki];
                    if (index < 0) continue;
                    double v = values[p * inPlane + index];
                    if (v > best || bestIndex < 0) { best = v; bestIndex = index; }
                    sum += v;
                    count++;
                }
                int r = p * outPlane + o;
                if (_max)
                {
                    result[r] = bestIndex < 0 ? double.NegativeInfinity : best;
                    indices[r] = p * (long)inPlane + (storageOrder == 1 ? ColumnMajor(bestIndex, g.Input) : bestIndex);
                }
                else
                {
                    int n = includePad ? padCounts[o] : count;
                    result[r] = n == 0 ? 0 : sum / n;
                }
            }
        var y = Tensor.Zeros(x.DataType, [x.Shape[0], x.Shape[1], .. g.Output]);
        switch (x.DataType)
        {
            case DataType.Float: { var s = y.AsSpan<float>(); for (int i = 0; i < s.Length; i++) s[i] = (float)result[i]; break; }
            case DataType.Double: result.CopyTo(y.AsSpan<double>()); break;
            default: CastOperator.FromInt64(Array.ConvertAll(result, v => (long)Math.Round(v)), y); break;
        }
        if (!_max || ctx.Node.Outputs.Count < 2) return [y];
        return [y, Tensor.FromArray(y.Shape, indices)];
    }

    /// <summary>count_include_pad: window positions inside input + explicit pads (not the ceil-mode overhang).</summary>
    private static int[] PaddedCounts(SpatialGeometry g)
    {
        var counts = new int[g.OutputSize];
        var o = new int[g.Rank];
        for (int oi = 0; oi < counts.Length; oi++)
        {
            int count = 1;
            for (int d = 0; d < g.Rank; d++)
            {
                int start = o[d] * g.Strides[d] - g.PadBegin[d];
                int end = Math.Min(start + (g.Kernel[d] - 1) * g.Dilations[d] + 1, g.Input[d] + g.PadEnd[d]);
                int inside = 0;
                for (int pos = start; pos < end; pos += g.Dilations[d]) inside++;
                count *= inside;
            }
            counts[oi] = count;
            for (int d = g.Rank - 1; d >= 0 && ++o[d] >= g.Output[d]; d--) o[d] = 0;
        }
        return counts;
    }

    private static long ColumnMajor(int rowMajor, int[] dims)
    {
        var coords = new int[dims.Length];
        for (int d = dims.Length - 1; d >= 0; d--) { coords[d] = rowMajor % dims[d]; rowMajor /= dims[d]; }
        long flat = 0, stride = 1;
        for (int d = 0; d < dims.Length; d++) { flat += coords[d] * stride; stride *= dims[d]; }
        return flat;
    }
}

/// <summary>GlobalAveragePool and GlobalMaxPool: one value per (N, C) plane.</summary>
internal sealed class GlobalPoolOperator : Operator
{
    private readonly bool _max;

    private GlobalPoolOperator(string opType, bool max)
    {
        OpType = opType;
        _max = max;
    }

    public override string OpType { get; }

    public static Operator[] All { get; } = [new GlobalPoolOperator("GlobalAveragePool", false), new GlobalPoolOperator("GlobalMaxPool", true)];

    public override TensorInfo[] InferOutputs(OpContext ctx, IReadOnlyList<TensorInfo?> inputs, IReadOnlyList<Tensor?> constants)
    {
        var x = Op.Required(ctx, inputs, 0, "X");
        Op.RequireType(ctx, x.DataType, DataType.Float);
        ctx.Require(x.Rank >= 3, "input must be N, C and spatial dims.");
        return Op.One(x.DataType, [x.Shape[0], x.Shape[1], .. Enumerable.Repeat(1, x.Rank - 2)]);
    }

    public override Tensor[] Execute(OpContext ctx, IReadOnlyList<Tensor?> inputs)
    {
        var x = Op.Required(ctx, inputs, 0, "X");
        var info = InferOutputs(ctx, [x.Info], inputs)[0];
        var y = Tensor.Zeros(DataType.Float, info.Shape);
        int planes = x.Shape[0] * x.Shape[1], size = x.Length / Math.Max(planes, 1);
        ReadOnlySpan<float> xs = x.AsSpan<float>();
        var ys = y.AsSpan<float>();
        for (int p = 0; p < planes; p++)
        {
            var plane = xs.Slice(p * size, size);
            ys[p] = _max ? System.Numerics.Tensors.TensorPrimitives.Max(plane) : System.Numerics.Tensors.TensorPrimitives.Sum(plane) / size;
        }
        return [y];
    }
}

/// <summary>BatchNormalization in inference form: y = (x − mean) / sqrt(var + ε) · scale + B over channel axis 1.</summary>
internal sealed class BatchNormalizationOperator : Operator
{
    public override string OpType => "BatchNormalization";

    public override TensorInfo[] InferOutputs(OpContext ctx, IReadOnlyList<TensorInfo?> inputs, IReadOnlyList<Tensor?> constants)
    {
        var x = Op.Required(ctx, inputs, 0, "X");
        Op.RequireType(ctx, x.DataType, DataType.Float);
        ctx.Require(x.Rank >= 2, "input must have a channel axis.");
        if (ctx.Node.GetInt("training_mode", 0) != 0 || ctx.Node.Outputs.Skip(1).Any(o => o.Length > 0))
            throw ctx.Error(ErrorCodes.UnsupportedAttributeValue, "training-mode BatchNormalization (running statistics outputs) is not supported.");
        if (ctx.Opset < 7 && ctx.Node.GetInt("is_test", 0) == 0 && ctx.Node.Outputs.Count > 1)
            throw ctx.Error(ErrorCodes.UnsupportedAttributeValue, "training-mode BatchNormalization is not supported.");
        for (int i = 1; i <= 4; i++)
        {
            var p = Op.Required(ctx, inputs, i, i switch { 1 => "scale", 2 => "B", 3 => "mean", _ => "var" });
            ctx.Require(p.ElementCount == x.Shape[1], $"parameter {i} has {p.ElementCount} values for {x.Shape[1]} channels.");
        }
        return Op.One(x.DataType, x.Shape);
    }

    public override Tensor[] Execute(OpContext ctx, IReadOnlyList<Tensor?> inputs)
    {
        var x = Op.Required(ctx, inputs, 0, "X");
        InferOutputs(ctx, inputs.Select(t => t?.Info).ToArray(), inputs);
        float epsilon = ctx.Node.GetFloat("epsilon", 1e-5f);
        float[] scale = inputs[1]!.ToFloatArray(), bias = inputs[2]!.ToFloatArray(), mean = inputs[3]!.ToFloatArray(), variance = inputs[4]!.ToFloatArray();
        int n = x.Shape[0], c = x.Shape[1], plane = x.Length / Math.Max(n * c, 1);
        var y = Tensor.Zeros(DataType.Float, x.Shape);
        ReadOnlySpan<float> xs = x.AsSpan<float>();
        var ys = y.AsSpan<float>();
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
            {
                float factor = scale[ch] / MathF.Sqrt(variance[ch] + epsilon);
                float shift = bias[ch] - mean[ch] * factor;
                var src = xs.Slice((b * c + ch) * plane, plane);
                var dst = ys.Slice((b * c + ch) * plane, plane);
                System.Numerics.Tensors.TensorPrimitives.Multiply(src, factor, dst);
                System.Numerics.Tensors.TensorPrimitives.Add(dst, shift, dst);
            }
        return [y];
    }
}
