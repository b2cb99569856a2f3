using QuantGen.Core.Ir;
using Tensor = QuantGen.Core.Ir.Tensor;

namespace QuantGen.Core.Operators;

/// <summary>Gemm: Y = alpha · op(A) · op(B) + beta · C, C broadcast to [M, N] (unidirectionally).</summary>
internal sealed class GemmOperator : Operator
{
    public override string OpType => "Gemm";

    private static (int M, int K, int N) Dims(OpContext ctx, TensorInfo a, TensorInfo b, TensorInfo? c)
    {
        Op.RequireType(ctx, a.DataType, DataType.Float);
        ctx.Require(a.Rank == 2 && b.Rank == 2 && b.DataType == DataType.Float, $"A {a} and B {b} must be float matrices.");
        bool ta = ctx.Node.GetInt("transA", 0) != 0, tb = ctx.Node.GetInt("transB", 0) != 0;
        int m = ta ? a.Shape[1] : a.Shape[0], k = ta ? a.Shape[0] : a.Shape[1];
        int kb = tb ? b.Shape[1] : b.Shape[0], n = tb ? b.Shape[0] : b.Shape[1];
        ctx.Require(k == kb, $"inner dimensions differ: A {a} (transA={ta}), B {b} (transB={tb}).");
        if (c is { } ci) ctx.Require(ShapeMath.Broadcast(ci.Shape, [m, n]) is { } s && s[0] == m && s[1] == n, $"C {ci} does not broadcast to [{m},{n}].");
        return (m, k, n);
    }

    public override TensorInfo[] InferOutputs(OpContext ctx, IReadOnlyList<TensorInfo?> inputs, IReadOnlyList<Tensor?> constants)
    {
        var (m, _, n) = Dims(ctx, Op.Required(ctx, inputs, 0, "A"), Op.Required(ctx, inputs, 1, "B"), Op.Optional(inputs, 2));
        return Op.One(DataType.Float, [m, n]);
    }

    public override Tensor[] Execute(OpContext ctx, IReadOnlyList<Tensor?> inputs)
    {
        var a = Op.Required(ctx, inputs, 0, "A");
        var b = Op.Required(ctx, inputs, 1, "B");
        var c = Op.Optional(inputs, 2);
        var (m, k, n) = Dims(ctx, a.Info, b.Info, c?.Info);
        float alpha = ctx.Node.GetFloat("alpha", 1f), beta = ctx.Node.GetFloat("beta", 1f);
        float[] aMat = ctx.Node.GetInt("transA", 0) != 0 ? Gemm.Transpose(a.AsSpan<float>(), k, m) : a.ToArray<float>();
        float[] bMat = ctx.Node.GetInt("transB", 0) != 0 ? Gemm.Transpose(b.AsSpan<float>(), n, k) : b.ToArray<float>();
        if (alpha != 1f) System.Numerics.Tensors.TensorPrimitives.Multiply(aMat, alpha, aMat);
        var y = Tensor.Zeros(DataType.Float, [m, n]);
        var ys = y.AsSpan<float>();
        if (c is not null && beta != 0f)
        {
            var cs = c.AsSpan<float>();
            var strides = Broadcast.AlignedStrides(c.Shape, [m, n]);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    ys[i * n + j] = beta * cs[i * strides[0] + j * strides[1]];
        }
        Gemm.MultiplyAdd(aMat, bMat, ys, m, k, n);
        return [y];
    }
}

/// <summary>MatMul with numpy semantics: 1-D operands promoted and squeezed back, leading batch dims broadcast.</summary>
internal sealed class MatMulOperator : Operator
{
    public override string OpType => "MatMul";

    private static (int[] Batch, int M, int K, int N, int[] Output) Dims(OpContext ctx, TensorInfo a, TensorInfo b)
    {
        Op.RequireType(ctx, a.DataType, DataType.Float);
        ctx.Require(b.DataType == DataType.Float && a.Rank >= 1 && b.Rank >= 1, $"A {a} and B {b} must be float tensors of rank ≥ 1.");
        int[] sa = a.Rank == 1 ? [1, a.Shape[0]] : a.Shape, sb = b.Rank == 1 ? [b.Shape[0], 1] : b.Shape;
        int m = sa[^2], k = sa[^1], kb = sb[^2], n = sb[^1];
        ctx.Require(k == kb, $"inner dimensions differ: {a} · {b}.");
        var batch = ShapeMath.Broadcast(sa.AsSpan()[..^2], sb.AsSpan()[..^2]) ?? throw ctx.Error(ErrorCodes.BadShape, $"batch dimensions of {a} and {b} do not broadcast.");
        var output = new List<int>(batch);
        if (a.Rank > 1) output.Add(m);
        if (b.Rank > 1) output.Add(n);
        return (batch, m, k, n, output.ToArray());
    }

    public override TensorInfo[] InferOutputs(OpContext ctx, IReadOnlyList<TensorInfo?> inputs, IReadOnlyList<Tensor?> constants) =>
        Op.One(DataType.Float, Dims(ctx, Op.Required(ctx, inputs, 0, "A"), Op.Required(ctx, inputs, 1, "B")).Output);

    public override Tensor[] Execute(OpContext ctx, IReadOnlyList<Tensor?> inputs)
    {
        var a = Op.Required(ctx, inputs, 0, "A");
        var b = Op.Required(ctx, inputs, 1, "B");
        var (batch, m, k, n, output) = Dims(ctx, a.Info, b.Info);
        var y = Tensor.Zeros(DataType.Float, output);
        int[] aBatch = a.Rank > 2 ? a.Shape[..^2] : [], bBatch = b.Rank > 2 ? b.Shape[..^2] : [];
        int[] sa = Broadcast.AlignedStrides(aBatch, batch), sb = Broadcast.AlignedStrides(bBatch, batch);
        int count = batch.Aggregate(1, (p, d) => p * d);
        ReadOnlySpan<float> xs = a.AsSpan<float>(), zs = b.AsSpan<float>();
        var ys = y.AsSpan<float>();
        var index = new int[batch.Length];
        for (int i = 0; i < count; i++)
        {
            int oa = 0, ob = 0;
            for (int d = 0; d < batch.Length; d++) { oa += index[d] * sa[d]; ob += index[d] * sb[d]; }
            Gemm.MultiplyAdd(xs.Slice(oa * m * k, m * k), zs.Slice(ob * k * n, k * n), ys.Slice(i * m * n, m * n), m, k, n);
            for (int d = batch.Length - 1; d >= 0 && ++index[d] >= batch[d]; d--) index[d] = 0;
        }
        return [y];
    }
}
