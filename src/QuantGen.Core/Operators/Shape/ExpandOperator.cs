using QuantGen.Core.Ir;

namespace QuantGen.Core.Operators;

/// <summary>
/// Expand: the input broadcast (numpy rules, both ways) against a constant shape. Every output element copies one
/// input element, <see cref="SourceIndices"/>; the quantizer uses the same map for a quantized Remap (issue 17).
/// </summary>
internal sealed class ExpandOperator : Operator
{
    public override string OpType => "Expand";

    public override TensorInfo[] InferOutputs(OpContext ctx, IReadOnlyList<TensorInfo?> inputs, IReadOnlyList<Tensor?> constants)
    {
        var x = Op.Required(ctx, inputs, 0, "input");
        var target = Op.Constant(ctx, constants, 1, "shape").ToInt64Array();
        ctx.Require(target.All(d => d >= 0 && d <= int.MaxValue), $"shape [{string.Join(",", target)}] has a negative or too large dimension.");
        var shape = Broadcast.Shape(ctx, x.Shape, Op.IntArray(target));
        ShapeMath.ElementCount(shape);
        return Op.One(x.DataType, shape);
    }

    public override Tensor[] Execute(OpContext ctx, IReadOnlyList<Tensor?> inputs)
    {
        var x = Op.Required(ctx, inputs, 0, "input");
        var info = InferOutputs(ctx, [x.Info, Op.Optional(inputs, 1)?.Info], inputs)[0];
        var map = SourceIndices(x.Shape, info.Shape);
        var y = Tensor.Zeros(info.DataType, info.Shape);
        int size = DataTypes.SizeOf(x.DataType);
        for (int i = 0; i < map.Length; i++) Buffer.BlockCopy(x.Data, map[i] * size, y.Data, i * size, size);
        return [y];
    }

    /// <summary>
    /// For every element of <paramref name="output"/> (row-major), the element of <paramref name="input"/> it reads when
    /// the input is broadcast to that shape (right-aligned; a dimension of 1 repeats). The shapes must broadcast that way.
    /// </summary>
    public static int[] SourceIndices(int[] input, int[] output)
    {
        var map = new int[ShapeMath.ElementCount(output)];
        if (map.Length == 0) return map;
        int rank = output.Length;
        if (rank == 0) return map;
        var strides = Broadcast.AlignedStrides(input, output);
        var index = new int[rank];
        int offset = 0;
        for (int i = 0; i < map.Length; i++)
        {
            map[i] = offset;
            for (int d = rank - 1; d >= 0; d--)
            {
                index[d]++;
                offset += strides[d];
                if (index[d] < output[d]) break;
                offset -= strides[d] * output[d];
                index[d] = 0;
            }
        }
        return map;
    }
}
