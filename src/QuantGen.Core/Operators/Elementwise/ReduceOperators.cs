using QuantGen.Core.Ir;

namespace QuantGen.Core.Operators;

/// <summary>
/// ReduceMean and ReduceMax over float/double/int: axes from the attribute before opset 18 and from the optional
/// input since; keepdims; noop_with_empty_axes. Sums accumulate in double.
/// </summary>
internal sealed class ReduceOperator : Operator
{
    private readonly bool _mean;

    private ReduceOperator(string opType, bool mean)
    {
        OpType = opType;
        _mean = mean;
    }

    public override string OpType { get; }

    public static Operator[] All { get; } = [new ReduceOperator("ReduceMean", true), new ReduceOperator("ReduceMax", false)];

    private static bool[]? ReducedAxes(OpContext ctx, int rank, Func<int, Tensor?> constant)
    {
        // ReduceMax moved axes to an input at opset 18, as ReduceMean did.
        long[]? axes = ctx.Opset < 18 ? ctx.Node.GetInts("axes") : ctx.Node.HasInput(1) ? constant(1)?.ToInt64Array() : null;
        if (ctx.Opset >= 18 && ctx.Node.HasInput(1) && axes is null)
            throw ctx.Error(ErrorCodes.BadShape, "axes must be a constant.");
        var reduced = new bool[rank];
        if (axes is null || axes.Length == 0)
        {
            if (ctx.Node.GetInt("noop_with_empty_axes", 0) != 0) return null;
            Array.Fill(reduced, true);
            return reduced;
        }
        foreach (var a in axes) reduced[ShapeMath.NormalizeAxis(a, rank, "axes")] = true;
        return reduced;
    }

    private static int[] OutputShape(OpContext ctx, int[] input, bool[]? reduced)
    {
        if (reduced is null) return input;
        bool keep = ctx.Node.GetInt("keepdims", 1) != 0;
        var shape = new List<int>();
        for (int d = 0; d < input.Length; d++)
            if (!reduced[d]) shape.Add(input[d]);
            else if (keep) shape.Add(1);
        return shape.ToArray();
    }

    public override TensorInfo[] InferOutputs(OpContext ctx, IReadOnlyList<TensorInfo?> inputs, IReadOnlyList<Tensor?> constants)
    {
        var x = Op.Required(ctx, inputs, 0, "data");
        Op.RequireType(ctx, x.DataType, DataType.Float, DataType.Double, DataType.Int32, DataType.Int64, DataType.UInt8, DataType.Int8);
        var reduced = ReducedAxes(ctx, x.Rank, i => Op.Optional(constants, i));
        return Op.One(x.DataType, OutputShape(ctx, x.Shape, reduced));
    }

    public override Tensor[] Execute(OpContext ctx, IReadOnlyList<Tensor?> inputs)
    {
        var x = Op.Required(ctx, inputs, 0, "data");
        var reduced = ReducedAxes(ctx, x.Rank, i => Op.Optional(inputs, i));
        var shape = OutputShape(ctx, x.Shape, reduced);
        if (reduced is null) return [x];
        if (!_mean && x.Length == 0) throw ctx.Error(ErrorCodes.BadInput, "ReduceMax of an empty tensor.");

        double[] values = x.Data switch
        {
            float[] f => Array.ConvertAll(f, v => (double)v),
            double[] d => d,
            _ => Array.ConvertAll(x.ToInt64Array(), v => (double)v),
        };
        int outCount = ShapeMath.ElementCount(shape);
        var acc = new double[outCount];
        if (!_mean) Array.Fill(acc, double.NegativeInfinity);
        // Output strides for every input axis (0 on reduced axes) map each input element to its bucket.
        var outStrides = new int[x.Rank];
        for (int d = x.Rank - 1, s = 1; d >= 0; d--)
        {
            outStrides[d] = reduced[d] ? 0 : s;
            if (!reduced[d]) s *= x.Shape[d];
        }
        var index = new int[x.Rank];
        int bucket = 0;
        for (int i = 0; i < values.Length; i++)
        {
            acc[bucket] = _mean ? acc[bucket] + values[i] : Math.Max(acc[bucket], values[i]);
            for (int d = x.Rank - 1; d >= 0; d--)
            {
                index[d]++;
                bucket += outStrides[d];
                if (index[d] < x.Shape[d]) break;
                bucket -= outStrides[d] * x.Shape[d];
                index[d] = 0;
            }
        }
        if (_mean && outCount > 0)
        {
            double n = (double)values.Length / outCount;
            for (int i = 0; i < acc.Length; i++) acc[i] /= n;
        }
        var y = Tensor.Zeros(x.DataType, shape);
        switch (y.Data)
        {
            case float[] o: for (int i = 0; i < o.Length; i++) o[i] = (float)acc[i]; break;
            case double[] o: acc.CopyTo(o, 0); break;
            default: CastOperator.FromInt64(Array.ConvertAll(acc, v => (long)Math.Floor(v)), y); break;
        }
        return [y];
    }
}

/// <summary>
/// Softmax. Before opset 13 the input is coerced to 2-D at 'axis' (default 1) and normalised over the flattened
/// tail; from 13 over the single 'axis' (default −1). Max-subtracted for stability.
/// </summary>
internal sealed class SoftmaxOperator : Operator
{
    public override string OpType => "Softmax";

    public override TensorInfo[] InferOutputs(OpContext ctx, IReadOnlyList<TensorInfo?> inputs, IReadOnlyList<Tensor?> constants)
    {
        var x = Op.Required(ctx, inputs, 0, "input");
        Op.RequireType(ctx, x.DataType, DataType.Float, DataType.Double);
        long axis = ctx.Node.GetInt("axis", ctx.Opset < 13 ? 1 : -1);
        // Before opset 13 'axis' may equal the rank (everything flattens into the outer dimension).
        if (axis < -x.Rank || axis >= (ctx.Opset < 13 ? x.Rank + 1 : Math.Max(x.Rank, 1)))
            throw ctx.Error(ErrorCodes.InvalidAttribute, $"axis {axis} is out of range for rank {x.Rank}.");
        return Op.One(x.DataType, x.Shape);
    }

    public override Tensor[] Execute(OpContext ctx, IReadOnlyList<Tensor?> inputs)
    {
        var x = Op.Required(ctx, inputs, 0, "input");
        InferOutputs(ctx, [x.Info], inputs);
        int rank = x.Rank, outer, n, inner;
        if (ctx.Opset < 13)
        {
            long a = ctx.Node.GetInt("axis", 1);
            int axis = (int)(a < 0 ? a + rank : a);
            if (axis < 0 || axis > rank) throw ctx.Error(ErrorCodes.InvalidAttribute, $"axis {a} is out of range.");
            outer = x.Shape[..axis].Aggregate(1, (p, d) => p * d);
            n = x.Shape[axis..].Aggregate(1, (p, d) => p * d);
            inner = 1;
        }
        else
        {
            int axis = ShapeMath.NormalizeAxis(ctx.Node.GetInt("axis", -1), rank);
            outer = x.Shape[..axis].Aggregate(1, (p, d) => p * d);
            n = x.Shape[axis];
            inner = x.Shape[(axis + 1)..].Aggregate(1, (p, d) => p * d);
        }
        double[] v = x.Data is float[] f ? Array.ConvertAll(f, e => (double)e) : (double[])((double[])x.Data).Clone();
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < inner; j++)
            {
                int b = o * n * inner + j;
                double max = double.NegativeInfinity, sum = 0;
                for (int i = 0; i < n; i++) max = Math.Max(max, v[b + i * inner]);
                for (int i = 0; i < n; i++) sum += v[b + i * inner] = Math.Exp(v[b + i * inner] - max);
                for (int i = 0; i < n; i++) v[b + i * inner] /= sum;
            }
        var y = Tensor.Zeros(x.DataType, x.Shape);
        if (y.Data is float[] yo) for (int i = 0; i < v.Length; i++) yo[i] = (float)v[i];
        else v.CopyTo((double[])y.Data, 0);
        return [y];
    }
}
