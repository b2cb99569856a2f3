using QuantGen.Core.Ir;

namespace QuantGen.Core.Operators;

/// <summary>
/// LayerNormalization (opset 17; the quantizer also builds one from the decomposed ReduceMean/Sub/Pow/ReduceMean/Add/
/// Sqrt/Div/Mul/Add pattern, LayerGraphBuilder.LayerNorm.cs): each of the outer rows of the n elements from 'axis'
/// (default −1) on is normalised, y = (x − mean) / sqrt(var + epsilon) · Scale + B, mean and (biased) variance in
/// double, rounded once to float. Scale and B hold n values or one; unlike ONNX, Scale may be omitted too (1), as the
/// written-out pattern without a Mul gives. The optional Mean and InvStdDev outputs have the shape of X with the
/// normalised axes set to 1 (stash_type float: each the double value rounded once).
/// QuantGenFloatKernels.LayerNorm computes the same in the same order (bit for bit).
/// </summary>
internal sealed class LayerNormOperator : Operator
{
    public override string OpType => "LayerNormalization";

    public override TensorInfo[] InferOutputs(OpContext ctx, IReadOnlyList<TensorInfo?> inputs, IReadOnlyList<Tensor?> constants)
    {
        var x = Op.Required(ctx, inputs, 0, "X");
        Op.RequireType(ctx, x.DataType, DataType.Float);
        var (_, n) = Rows(ctx, x.Shape);
        if (Op.Optional(inputs, 1) is { } scale) Check(ctx, scale, n, "Scale");
        if (Op.Optional(inputs, 2) is { } b) Check(ctx, b, n, "B");
        if (ctx.Node.Outputs.Count == 1) return Op.One(x.DataType, x.Shape);
        var statistics = new TensorInfo(DataType.Float, StatisticsShape(ctx, x.Shape));
        return ctx.Node.Outputs.Count == 2 ? [new TensorInfo(x.DataType, x.Shape), statistics] : [new TensorInfo(x.DataType, x.Shape), statistics, statistics];
    }

    public override Tensor[] Execute(OpContext ctx, IReadOnlyList<Tensor?> inputs)
    {
        var x = Op.Required(ctx, inputs, 0, "X");
        var scaleTensor = Op.Optional(inputs, 1);
        var biasTensor = Op.Optional(inputs, 2);
        InferOutputs(ctx, [x.Info, scaleTensor?.Info, biasTensor?.Info], inputs);
        var (outer, n) = Rows(ctx, x.Shape);
        float epsilon = ctx.Node.GetFloat("epsilon", 1e-5f);
        var scale = scaleTensor?.ToFloatArray() ?? [];
        var bias = biasTensor?.ToFloatArray() ?? [];
        var data = x.AsSpan<float>();
        var y = Tensor.Zeros(DataType.Float, x.Shape);
        var output = (float[])y.Data;
        var statisticsShape = StatisticsShape(ctx, x.Shape);
        var meanTensor = Tensor.Zeros(DataType.Float, statisticsShape);
        var inverseTensor = Tensor.Zeros(DataType.Float, statisticsShape);
        var means = (float[])meanTensor.Data;
        var inverses = (float[])inverseTensor.Data;
        for (int o = 0; o < outer; o++)
        {
            int b = o * n;
            double sum = 0, squares = 0;
            for (int i = 0; i < n; i++) sum += data[b + i];
            double mean = sum / n;
            for (int i = 0; i < n; i++)
            {
                double d = data[b + i] - mean;
                squares += d * d;
            }
            double inverse = 1 / Math.Sqrt(squares / n + epsilon);
            means[o] = (float)mean;
            inverses[o] = (float)inverse;
            for (int i = 0; i < n; i++)
                output[b + i] = (float)((data[b + i] - mean) * inverse * (scale.Length == 0 ? 1 : scale[scale.Length == 1 ? 0 : i]) + (bias.Length == 0 ? 0 : bias[bias.Length == 1 ? 0 : i]));
        }
        return ctx.Node.Outputs.Count switch { 1 => [y], 2 => [y, meanTensor], _ => [y, meanTensor, inverseTensor] };
    }

    /// <summary>X's shape with the normalised axes (axis on) set to 1: the shape of Mean and InvStdDev.</summary>
    private static int[] StatisticsShape(OpContext ctx, int[] shape)
    {
        int axis = ShapeMath.NormalizeAxis(ctx.Node.GetInt("axis", -1), shape.Length, "axis");
        return shape.Select((d, i) => i < axis ? d : 1).ToArray();
    }

    private static (int Outer, int N) Rows(OpContext ctx, int[] shape)
    {
        int axis = ShapeMath.NormalizeAxis(ctx.Node.GetInt("axis", -1), shape.Length, "axis");
        return (shape[..axis].Aggregate(1, (p, d) => p * d), shape[axis..].Aggregate(1, (p, d) => p * d));
    }

    private static void Check(OpContext ctx, TensorInfo info, int n, string what)
    {
        int count = info.Shape.Aggregate(1, (p, d) => p * d);
        if (count != n && count != 1) throw ctx.Error(ErrorCodes.BadShape, $"{what} has {count} values; the normalised axes hold {n}.");
    }
}
