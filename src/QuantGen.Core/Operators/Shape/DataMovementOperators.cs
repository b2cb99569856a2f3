using QuantGen.Core.Ir;

namespace QuantGen.Core.Operators;

/// <summary>Transpose with an optional permutation (default: reverse the axes).</summary>
internal sealed class TransposeOperator : Operator
{
    public override string OpType => "Transpose";

    private static int[] Permutation(OpContext ctx, int rank)
    {
        var perm = ctx.Node.GetInts("perm");
        if (perm is null) return Enumerable.Range(0, rank).Reverse().ToArray();
        ctx.Require(perm.Length == rank && perm.Order().SequenceEqual(Enumerable.Range(0, rank).Select(i => (long)i)),
            $"perm [{string.Join(",", perm)}] is not a permutation of {rank} axes.");
        return Op.IntArray(perm);
    }

    public override TensorInfo[] InferOutputs(OpContext ctx, IReadOnlyList<TensorInfo?> inputs, IReadOnlyList<Tensor?> constants)
    {
        var x = Op.Required(ctx, inputs, 0, "data");
        var perm = Permutation(ctx, x.Rank);
        return Op.One(x.DataType, perm.Select(p => x.Shape[p]).ToArray());
    }

    public override Tensor[] Execute(OpContext ctx, IReadOnlyList<Tensor?> inputs)
    {
        var x = Op.Required(ctx, inputs, 0, "data");
        var perm = Permutation(ctx, x.Rank);
        return [TypeDispatch.Run<Tensor, Permute>(x.DataType, new Permute(x, perm))];
    }

    private readonly struct Permute(Tensor x, int[] perm) : ITypedFunc<Tensor>
    {
        public Tensor Invoke<T>() where T : unmanaged
        {
            int rank = perm.Length;
            var outShape = new int[rank];
            var inStrides = ShapeMath.Strides(x.Shape);
            var strides = new int[rank]; // input stride for each output axis
            for (int d = 0; d < rank; d++)
            {
                outShape[d] = x.Shape[perm[d]];
                strides[d] = inStrides[perm[d]];
            }
            var y = Tensor.Zeros(x.DataType, outShape);
            var src = x.AsSpan<T>();
            var dst = y.AsSpan<T>();
            if (dst.Length == 0) return y;
            if (rank == 0) { dst[0] = src[0]; return y; }
            var index = new int[rank];
            int offset = 0, inner = outShape[rank - 1], innerStride = strides[rank - 1];
            for (int o = 0; o < dst.Length; o += inner)
            {
                for (int i = 0; i < inner; i++) dst[o + i] = src[offset + i * innerStride];
                for (int d = rank - 2; d >= 0; d--)
                {
                    index[d]++;
                    offset += strides[d];
                    if (index[d] < outShape[d]) break;
                    offset -= strides[d] * outShape[d];
                    index[d] = 0;
                }
            }
            return y;
        }
    }
}

/// <summary>Concat along an axis; all inputs share type and every other dimension.</summary>
internal sealed class ConcatOperator : Operator
{
    public override string OpType => "Concat";

    public override TensorInfo[] InferOutputs(OpContext ctx, IReadOnlyList<TensorInfo?> inputs, IReadOnlyList<Tensor?> constants)
    {
        ctx.Require(inputs.Count > 0, "needs at least one input.");
        var first = Op.Required(ctx, inputs, 0, "input");
        // 'axis' defaulted to 1 before opset 4 and is required since.
        if (ctx.Opset >= 4 && !ctx.Node.HasAttribute("axis")) throw ctx.Error(ErrorCodes.InvalidAttribute, "the 'axis' attribute is required.");
        int axis = ShapeMath.NormalizeAxis(ctx.Node.GetInt("axis", 1), first.Rank);
        var shape = (int[])first.Shape.Clone();
        long total = 0;
        for (int i = 0; i < inputs.Count; i++)
        {
            var t = Op.Required(ctx, inputs, i, "input");
            ctx.Require(t.DataType == first.DataType && t.Rank == first.Rank, "inputs must share element type and rank.");
            for (int d = 0; d < t.Rank; d++)
                if (d != axis) ctx.Require(t.Shape[d] == first.Shape[d], $"input {i} has shape {ShapeMath.Format(t.Shape)}, incompatible with {ShapeMath.Format(first.Shape)}.");
            total += t.Shape[axis];
        }
        shape[axis] = checked((int)total);
        ShapeMath.ElementCount(shape);
        return Op.One(first.DataType, shape);
    }

    public override Tensor[] Execute(OpContext ctx, IReadOnlyList<Tensor?> inputs)
    {
        var info = InferOutputs(ctx, inputs.Select(t => t?.Info).ToArray(), inputs)[0];
        int axis = ShapeMath.NormalizeAxis(ctx.Node.GetInt("axis", 1), info.Rank);
        var y = Tensor.Zeros(info.DataType, info.Shape);
        int outer = 1;
        for (int d = 0; d < axis; d++) outer *= info.Shape[d];
        int size = DataTypes.SizeOf(info.DataType), outBlock = info.ElementCount / Math.Max(outer, 1), offset = 0;
        foreach (var t in inputs)
        {
            int block = outer == 0 ? 0 : t!.Length / outer;
            for (int o = 0; o < outer; o++)
                Buffer.BlockCopy(t!.Data, o * block * size, y.Data, (o * outBlock + offset) * size, block * size);
            offset += block;
        }
        return [y];
    }
}

/// <summary>Shape: the input's dimensions as int64, with opset 15's start/end.</summary>
internal sealed class ShapeOperator : Operator
{
    public override string OpType => "Shape";

    private static (int Start, int End) Range(OpContext ctx, int rank)
    {
        long start = ctx.Node.GetInt("start", 0), end = ctx.Node.GetInt("end", rank);
        if (start < 0) start += rank;
        if (end < 0) end += rank;
        start = Math.Clamp(start, 0, rank);
        end = Math.Clamp(end, 0, rank);
        return ((int)start, (int)Math.Max(start, end));
    }

    public override TensorInfo[] InferOutputs(OpContext ctx, IReadOnlyList<TensorInfo?> inputs, IReadOnlyList<Tensor?> constants)
    {
        var x = Op.Required(ctx, inputs, 0, "data");
        var (start, end) = Range(ctx, x.Rank);
        return Op.One(DataType.Int64, [end - start]);
    }

    public override Tensor[] Execute(OpContext ctx, IReadOnlyList<Tensor?> inputs)
    {
        var x = Op.Required(ctx, inputs, 0, "data");
        var (start, end) = Range(ctx, x.Rank);
        return [Tensor.Int64Vector(x.Shape[start..end].Select(d => (long)d).ToArray())];
    }
}

/// <summary>Gather along an axis with int32/int64 indices of any rank; negative indices count from the end.</summary>
internal sealed class GatherOperator : Operator
{
    public override string OpType => "Gather";

    public override TensorInfo[] InferOutputs(OpContext ctx, IReadOnlyList<TensorInfo?> inputs, IReadOnlyList<Tensor?> constants)
    {
        var data = Op.Required(ctx, inputs, 0, "data");
        var indices = Op.Required(ctx, inputs, 1, "indices");
        Op.RequireType(ctx, indices.DataType, DataType.Int32, DataType.Int64);
        ctx.Require(data.Rank >= 1, "data must have rank ≥ 1.");
        int axis = ShapeMath.NormalizeAxis(ctx.Node.GetInt("axis", 0), data.Rank);
        var shape = data.Shape[..axis].Concat(indices.Shape).Concat(data.Shape[(axis + 1)..]).ToArray();
        ShapeMath.ElementCount(shape);
        return Op.One(data.DataType, shape);
    }

    public override Tensor[] Execute(OpContext ctx, IReadOnlyList<Tensor?> inputs)
    {
        var data = Op.Required(ctx, inputs, 0, "data");
        var indices = Op.Required(ctx, inputs, 1, "indices");
        var info = InferOutputs(ctx, [data.Info, indices.Info], inputs)[0];
        int axis = ShapeMath.NormalizeAxis(ctx.Node.GetInt("axis", 0), data.Rank);
        int outer = 1, inner = 1, n = data.Shape[axis];
        for (int d = 0; d < axis; d++) outer *= data.Shape[d];
        for (int d = axis + 1; d < data.Rank; d++) inner *= data.Shape[d];
        var idx = indices.ToInt64Array();
        var y = Tensor.Zeros(info.DataType, info.Shape);
        int size = DataTypes.SizeOf(data.DataType);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < idx.Length; i++)
            {
                long k = idx[i] < 0 ? idx[i] + n : idx[i];
                if (k < 0 || k >= n) throw ctx.Error(ErrorCodes.BadInput, $"index {idx[i]} is out of range for a dimension of size {n}.");
                Buffer.BlockCopy(data.Data, ((o * n + (int)k) * inner) * size, y.Data, ((o * idx.Length + i) * inner) * size, inner * size);
            }
        return [y];
    }
}

/// <summary>Constant: a tensor from the value / value_float(s) / value_int(s) attribute.</summary>
internal sealed class ConstantOperator : Operator
{
    public override string OpType => "Constant";

    private static Tensor Value(OpContext ctx)
    {
        var node = ctx.Node;
        if (node.GetTensor("value") is { } t) return t;
        if (node.HasAttribute("value_float")) return Tensor.Scalar(node.GetFloat("value_float", 0));
        if (node.GetFloats("value_floats") is { } fs) return Tensor.FromArray([fs.Length], (float[])fs.Clone());
        if (node.HasAttribute("value_int")) return Tensor.Scalar(node.GetInt("value_int", 0));
        if (node.GetInts("value_ints") is { } ints) return Tensor.Int64Vector((long[])ints.Clone());
        if (node.HasAttribute("value_string") || node.HasAttribute("value_strings"))
            throw ctx.Error(ErrorCodes.UnsupportedDataType, "string constants are not supported.");
        if (node.HasAttribute("sparse_value"))
            throw ctx.Error(ErrorCodes.UnsupportedDataType, "sparse constants are not supported.");
        throw ctx.Error(ErrorCodes.InvalidAttribute, "has no value attribute.");
    }

    public override TensorInfo[] InferOutputs(OpContext ctx, IReadOnlyList<TensorInfo?> inputs, IReadOnlyList<Tensor?> constants) => [Value(ctx).Info];

    public override Tensor[] Execute(OpContext ctx, IReadOnlyList<Tensor?> inputs) => [Value(ctx)];
}
