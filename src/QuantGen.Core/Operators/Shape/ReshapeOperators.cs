using QuantGen.Core.Ir;

namespace QuantGen.Core.Operators;

/// <summary>
/// Ops that only reinterpret the shape (Reshape, Flatten, Squeeze, Unsqueeze): the output shares the input's
/// elements in the same order, so Execute is a no-copy <see cref="Tensor.Reshape"/>.
/// </summary>
internal abstract class ReshapeLikeOperator : Operator
{
    protected abstract int[] OutputShape(OpContext ctx, int[] input, Func<int, string, Tensor?> constant);

    public override TensorInfo[] InferOutputs(OpContext ctx, IReadOnlyList<TensorInfo?> inputs, IReadOnlyList<Tensor?> constants)
    {
        var x = Op.Required(ctx, inputs, 0, "data");
        var shape = OutputShape(ctx, x.Shape, (i, what) => ctx.Node.HasInput(i) ? Op.Constant(ctx, constants, i, what) : null);
        ctx.Require(ShapeMath.ElementCount(shape) == x.ElementCount, $"cannot turn {ShapeMath.Format(x.Shape)} into {ShapeMath.Format(shape)}.");
        return Op.One(x.DataType, shape);
    }

    public override Tensor[] Execute(OpContext ctx, IReadOnlyList<Tensor?> inputs)
    {
        var x = Op.Required(ctx, inputs, 0, "data");
        var shape = InferOutputs(ctx, inputs.Select(t => t?.Info).ToArray(), inputs)[0].Shape;
        return [x.Reshape(shape)];
    }

    /// <summary>Axes from the attribute (older opsets) or the input (newer), normalised and sorted.</summary>
    protected static int[]? Axes(OpContext ctx, Func<int, string, Tensor?> constant, int inputIndex, int rank, int attributeBeforeOpset)
    {
        long[]? axes = ctx.Opset < attributeBeforeOpset ? ctx.Node.GetInts("axes")
            : ctx.Node.HasInput(inputIndex) ? constant(inputIndex, "axes")!.ToInt64Array() : null;
        if (axes is null) return null;
        var normalized = axes.Select(a => ShapeMath.NormalizeAxis(a, rank, "axes")).ToArray();
        if (normalized.Distinct().Count() != normalized.Length) throw ctx.Error(ErrorCodes.InvalidAttribute, "axes has duplicates.");
        Array.Sort(normalized);
        return normalized;
    }
}

internal sealed class ReshapeOperator : ReshapeLikeOperator
{
    public override string OpType => "Reshape";

    protected override int[] OutputShape(OpContext ctx, int[] input, Func<int, string, Tensor?> constant)
    {
        long[] target = ctx.Opset < 5
            ? ctx.Node.GetInts("shape") ?? throw ctx.Error(ErrorCodes.InvalidAttribute, "the 'shape' attribute is required.")
            : (constant(1, "shape") ?? throw ctx.Error(ErrorCodes.MissingValue, "the shape input is required.")).ToInt64Array();
        bool allowZero = ctx.Node.GetInt("allowzero", 0) != 0;
        var shape = new int[target.Length];
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < target.Length; i++)
        {
            long d = target[i];
            if (d == -1)
            {
                if (inferred >= 0) throw ctx.Error(ErrorCodes.BadShape, "the shape has more than one -1.");
                inferred = i;
                continue;
            }
            if (d == 0 && !allowZero)
            {
                if (i >= input.Length) throw ctx.Error(ErrorCodes.BadShape, $"shape[{i}] = 0 copies a dimension the input does not have.");
                d = input[i];
            }
            if (d < 0 || d > ShapeMath.MaxElements) throw ctx.Error(ErrorCodes.BadShape, $"invalid dimension {d} in the target shape.");
            shape[i] = (int)d;
            known *= d;
            if (known > ShapeMath.MaxElements) throw ctx.Error(ErrorCodes.TensorTooLarge, "the target shape is too large.");
        }
        if (inferred >= 0)
        {
            long total = ShapeMath.ElementCount(input);
            if (known == 0 || total % known != 0)
                throw ctx.Error(ErrorCodes.BadShape, $"cannot infer -1 reshaping {ShapeMath.Format(input)} to [{string.Join(",", target)}].");
            shape[inferred] = (int)(total / known);
        }
        return shape;
    }
}

internal sealed class FlattenOperator : ReshapeLikeOperator
{
    public override string OpType => "Flatten";

    protected override int[] OutputShape(OpContext ctx, int[] input, Func<int, string, Tensor?> constant)
    {
        long axis = ctx.Node.GetInt("axis", 1);
        int a = (int)(axis < 0 ? axis + input.Length : axis);
        if (a < 0 || a > input.Length) throw ctx.Error(ErrorCodes.InvalidAttribute, $"axis {axis} is out of range for rank {input.Length}.");
        long outer = 1, inner = 1;
        for (int i = 0; i < a; i++) outer *= input[i];
        for (int i = a; i < input.Length; i++) inner *= input[i];
        return [(int)outer, (int)inner];
    }
}

internal sealed class SqueezeOperator : ReshapeLikeOperator
{
    public override string OpType => "Squeeze";

    protected override int[] OutputShape(OpContext ctx, int[] input, Func<int, string, Tensor?> constant)
    {
        var axes = Axes(ctx, constant, 1, input.Length, attributeBeforeOpset: 13);
        var shape = new List<int>();
        for (int i = 0; i < input.Length; i++)
        {
            bool squeeze = axes is null ? input[i] == 1 : Array.IndexOf(axes, i) >= 0;
            if (squeeze && input[i] != 1) throw ctx.Error(ErrorCodes.BadShape, $"cannot squeeze axis {i} of size {input[i]}.");
            if (!squeeze) shape.Add(input[i]);
        }
        return shape.ToArray();
    }
}

internal sealed class UnsqueezeOperator : ReshapeLikeOperator
{
    public override string OpType => "Unsqueeze";

    protected override int[] OutputShape(OpContext ctx, int[] input, Func<int, string, Tensor?> constant)
    {
        long[] raw = (ctx.Opset < 13 ? ctx.Node.GetInts("axes") : constant(1, "axes")?.ToInt64Array())
            ?? throw ctx.Error(ErrorCodes.InvalidAttribute, "axes are required.");
        int rank = input.Length + raw.Length;
        var axes = raw.Select(a => ShapeMath.NormalizeAxis(a, rank, "axes")).ToHashSet();
        if (axes.Count != raw.Length) throw ctx.Error(ErrorCodes.InvalidAttribute, "axes has duplicates.");
        var shape = new int[rank];
        for (int i = 0, j = 0; i < rank; i++) shape[i] = axes.Contains(i) ? 1 : input[j++];
        return shape;
    }
}
