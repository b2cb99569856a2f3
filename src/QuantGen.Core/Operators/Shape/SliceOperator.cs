using QuantGen.Core.Ir;

namespace QuantGen.Core.Operators;

/// <summary>
/// Slice: starts/ends/axes as attributes before opset 10, as inputs (with steps) from 10. Out-of-range bounds are
/// clamped as numpy does, negative steps walk backwards.
/// </summary>
internal sealed class SliceOperator : Operator
{
    public override string OpType => "Slice";

    private readonly record struct Plan(int[] Start, int[] Step, int[] Shape);

    private static Plan MakePlan(OpContext ctx, int[] input, Func<int, string, Tensor?> constant)
    {
        long[] starts, ends;
        long[]? axes, steps = null;
        if (ctx.Opset < 10)
        {
            starts = ctx.Node.GetInts("starts") ?? throw ctx.Error(ErrorCodes.InvalidAttribute, "'starts' is required.");
            ends = ctx.Node.GetInts("ends") ?? throw ctx.Error(ErrorCodes.InvalidAttribute, "'ends' is required.");
            axes = ctx.Node.GetInts("axes");
        }
        else
        {
            starts = (constant(1, "starts") ?? throw ctx.Error(ErrorCodes.MissingValue, "starts is required.")).ToInt64Array();
            ends = (constant(2, "ends") ?? throw ctx.Error(ErrorCodes.MissingValue, "ends is required.")).ToInt64Array();
            axes = constant(3, "axes")?.ToInt64Array();
            steps = constant(4, "steps")?.ToInt64Array();
        }
        int rank = input.Length;
        axes ??= Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        steps ??= Enumerable.Repeat(1L, starts.Length).ToArray();
        ctx.Require(ends.Length == starts.Length && axes.Length == starts.Length && steps.Length == starts.Length,
            "starts, ends, axes and steps must have the same length.");

        var start = new int[rank];
        var step = Enumerable.Repeat(1, rank).ToArray();
        var shape = (int[])input.Clone();
        var seen = new HashSet<int>();
        for (int i = 0; i < starts.Length; i++)
        {
            int axis = ShapeMath.NormalizeAxis(axes[i], rank, "axes");
            if (!seen.Add(axis)) throw ctx.Error(ErrorCodes.InvalidAttribute, "axes has duplicates.");
            long dim = input[axis], s = steps[i];
            if (s == 0) throw ctx.Error(ErrorCodes.InvalidAttribute, "a step is 0.");
            // A step longer than the axis takes at most one element: clamping it keeps the count arithmetic (and
            // the int step) exact for INT64_MAX and INT64_MIN, which ONNX defines as "the start element only".
            s = Math.Clamp(s, -(dim + 1), dim + 1);
            long b = starts[i] < 0 ? starts[i] + dim : starts[i];
            long e = ends[i] < 0 ? ends[i] + dim : ends[i];
            if (s > 0)
            {
                b = Math.Clamp(b, 0, dim);
                e = Math.Clamp(e, 0, dim);
            }
            else
            {
                b = Math.Clamp(b, -1, dim - 1);
                e = Math.Clamp(e, -1, dim - 1);
            }
            long count = s > 0 ? (e - b + s - 1) / s : (b - e + (-s) - 1) / -s;
            start[axis] = (int)b;
            step[axis] = (int)s;
            shape[axis] = (int)Math.Max(0, count);
        }
        return new Plan(start, step, shape);
    }

    public override TensorInfo[] InferOutputs(OpContext ctx, IReadOnlyList<TensorInfo?> inputs, IReadOnlyList<Tensor?> constants)
    {
        var x = Op.Required(ctx, inputs, 0, "data");
        var plan = MakePlan(ctx, x.Shape, (i, what) => ctx.Node.HasInput(i) ? Op.Constant(ctx, constants, i, what) : null);
        return Op.One(x.DataType, plan.Shape);
    }

    public override Tensor[] Execute(OpContext ctx, IReadOnlyList<Tensor?> inputs)
    {
        var x = Op.Required(ctx, inputs, 0, "data");
        var plan = MakePlan(ctx, x.Shape, (i, what) => ctx.Node.HasInput(i) ? Op.Constant(ctx, inputs, i, what) : null);
        return [TypeDispatch.Run<Tensor, Copy>(x.DataType, new Copy(x, plan))];
    }

    private readonly struct Copy(Tensor x, Plan plan) : ITypedFunc<Tensor>
    {
        public Tensor Invoke<T>() where T : unmanaged
        {
            var y = Tensor.Zeros(x.DataType, plan.Shape);
            var src = x.AsSpan<T>();
            var dst = y.AsSpan<T>();
            int rank = plan.Shape.Length;
            if (dst.Length == 0) return y;
            if (rank == 0) { dst[0] = src[0]; return y; }
            var strides = ShapeMath.Strides(x.Shape);
            var index = new int[rank];
            for (int o = 0; o < dst.Length; o++)
            {
                int offset = 0;
                for (int d = 0; d < rank; d++) offset += (plan.Start[d] + index[d] * plan.Step[d]) * strides[d];
                dst[o] = src[offset];
                for (int d = rank - 1; d >= 0; d--)
                {
                    if (++index[d] < plan.Shape[d]) break;
                    index[d] = 0;
                }
            }
            return y;
        }
    }
}
