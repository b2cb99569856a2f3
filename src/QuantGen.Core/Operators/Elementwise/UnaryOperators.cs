using System.Numerics.Tensors;
using QuantGen.Core.Ir;
using Tensor = QuantGen.Core.Ir.Tensor;

namespace QuantGen.Core.Operators;

/// <summary>
/// Shape-preserving float activations and math functions. Float goes through TensorPrimitives where it has the
/// function; double is computed directly.
/// </summary>
internal sealed class UnaryOperator : Operator
{
    private readonly Action<OpContext, ReadOnlySpan<float>, Span<float>> _float;
    private readonly Func<OpContext, double, double> _double;

    private UnaryOperator(string opType, Action<OpContext, ReadOnlySpan<float>, Span<float>> f, Func<OpContext, double, double> d)
    {
        OpType = opType;
        _float = f;
        _double = d;
    }

    public override string OpType { get; }

    public static Operator[] All { get; } =
    [
        new UnaryOperator("Relu", (_, x, y) => TensorPrimitives.Max(x, 0f, y), (_, v) => v > 0 ? v : 0),
        new UnaryOperator("Sigmoid", (_, x, y) => TensorPrimitives.Sigmoid(x, y), (_, v) => 1 / (1 + Math.Exp(-v))),
        new UnaryOperator("Tanh", (_, x, y) => TensorPrimitives.Tanh(x, y), (_, v) => Math.Tanh(v)),
        new UnaryOperator("Sqrt", (_, x, y) => TensorPrimitives.Sqrt(x, y), (_, v) => Math.Sqrt(v)),
        new UnaryOperator("Log", (_, x, y) => TensorPrimitives.Log(x, y), (_, v) => Math.Log(v)),
        new UnaryOperator("Exp", (_, x, y) => TensorPrimitives.Exp(x, y), (_, v) => Math.Exp(v)),
        new UnaryOperator("Neg", (_, x, y) => TensorPrimitives.Negate(x, y), (_, v) => -v),
        new UnaryOperator("Abs", (_, x, y) => TensorPrimitives.Abs(x, y), (_, v) => Math.Abs(v)),
        new UnaryOperator("LeakyRelu", LeakyRelu, (ctx, v) => v >= 0 ? v : v * ctx.Node.GetFloat("alpha", 0.01f)),
        new UnaryOperator("HardSigmoid", HardSigmoid, (ctx, v) => Math.Clamp(ctx.Node.GetFloat("alpha", 0.2f) * v + ctx.Node.GetFloat("beta", 0.5f), 0, 1)),
        new UnaryOperator("HardSwish", HardSwish, (_, v) => v * Math.Clamp(v / 6 + 0.5, 0, 1)),
        new UnaryOperator("Erf", Erf, (_, v) => ErfFunction.Erf(v)),
    ];

    /// <summary>erf in double, rounded to float (no float kernel: a standalone Erf is QG0023 in a quantized build; GELU's is a table).</summary>
    private static void Erf(OpContext ctx, ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++) y[i] = (float)ErfFunction.Erf(x[i]);
    }

    public override TensorInfo[] InferOutputs(OpContext ctx, IReadOnlyList<TensorInfo?> inputs, IReadOnlyList<Tensor?> constants)
    {
        var x = Op.Required(ctx, inputs, 0, "X");
        Op.RequireType(ctx, x.DataType, DataType.Float, DataType.Double);
        return Op.One(x.DataType, x.Shape);
    }

    public override Tensor[] Execute(OpContext ctx, IReadOnlyList<Tensor?> inputs)
    {
        var x = Op.Required(ctx, inputs, 0, "X");
        InferOutputs(ctx, [x.Info], inputs);
        var y = Tensor.Zeros(x.DataType, x.Shape);
        if (x.DataType == DataType.Float)
        {
            _float(ctx, x.AsSpan<float>(), y.AsSpan<float>());
        }
        else
        {
            var input = x.AsSpan<double>();
            var output = y.AsSpan<double>();
            for (int i = 0; i < input.Length; i++) output[i] = _double(ctx, input[i]);
        }
        return [y];
    }

    private static void LeakyRelu(OpContext ctx, ReadOnlySpan<float> x, Span<float> y)
    {
        float alpha = ctx.Node.GetFloat("alpha", 0.01f);
        for (int i = 0; i < x.Length; i++) y[i] = x[i] >= 0 ? x[i] : x[i] * alpha;
    }

    private static void HardSigmoid(OpContext ctx, ReadOnlySpan<float> x, Span<float> y)
    {
        float alpha = ctx.Node.GetFloat("alpha", 0.2f), beta = ctx.Node.GetFloat("beta", 0.5f);
        for (int i = 0; i < x.Length; i++) y[i] = Math.Clamp(alpha * x[i] + beta, 0f, 1f);
    }

    private static void HardSwish(OpContext ctx, ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++) y[i] = x[i] * Math.Clamp(x[i] / 6f + 0.5f, 0f, 1f);
    }
}

/// <summary>Clip: bounds from attributes before opset 11, from optional inputs from 11; any numeric type.</summary>
internal sealed class ClipOperator : Operator
{
    public override string OpType => "Clip";

    public override TensorInfo[] InferOutputs(OpContext ctx, IReadOnlyList<TensorInfo?> inputs, IReadOnlyList<Tensor?> constants)
    {
        var x = Op.Required(ctx, inputs, 0, "input");
        Op.RequireType(ctx, x.DataType, DataType.Float, DataType.Double, DataType.Int32, DataType.Int64, DataType.UInt8, DataType.Int8);
        return Op.One(x.DataType, x.Shape);
    }

    public override Tensor[] Execute(OpContext ctx, IReadOnlyList<Tensor?> inputs)
    {
        var x = Op.Required(ctx, inputs, 0, "input");
        InferOutputs(ctx, [x.Info], inputs);
        double min = double.NegativeInfinity, max = double.PositiveInfinity;
        if (ctx.Opset < 11)
        {
            min = ctx.Node.GetFloat("min", float.NegativeInfinity);
            max = ctx.Node.GetFloat("max", float.PositiveInfinity);
        }
        else
        {
            if (Op.Optional(inputs, 1) is { } lo) min = Scalar(ctx, lo, "min");
            if (Op.Optional(inputs, 2) is { } hi) max = Scalar(ctx, hi, "max");
        }
        var y = Tensor.Zeros(x.DataType, x.Shape);
        switch (x.Data)
        {
            case float[] f:
            {
                var o = y.AsSpan<float>();
                float fmin = (float)min, fmax = (float)max;
                for (int i = 0; i < f.Length; i++) o[i] = f[i] < fmin ? fmin : f[i] > fmax ? fmax : f[i];
                break;
            }
            case double[] d:
            {
                var o = y.AsSpan<double>();
                for (int i = 0; i < d.Length; i++) o[i] = d[i] < min ? min : d[i] > max ? max : d[i];
                break;
            }
            default:
            {
                var v = x.ToInt64Array();
                for (int i = 0; i < v.Length; i++) v[i] = v[i] < min ? (long)min : v[i] > max ? (long)max : v[i];
                CastOperator.FromInt64(v, y);
                break;
            }
        }
        return [y];
    }

    private static double Scalar(OpContext ctx, Tensor t, string what)
    {
        ctx.Require(t.Length == 1, $"{what} must be a scalar.");
        return t.Data switch
        {
            float[] f => f[0],
            double[] d => d[0],
            _ => t.ToInt64Array()[0],
        };
    }
}

/// <summary>Identity and inference-mode Dropout: the input passes through (Dropout's optional mask is all true).</summary>
internal sealed class PassThroughOperator : Operator
{
    private PassThroughOperator(string opType) => OpType = opType;

    public override string OpType { get; }

    public static Operator[] All { get; } = [new PassThroughOperator("Identity"), new PassThroughOperator("Dropout")];

    public override TensorInfo[] InferOutputs(OpContext ctx, IReadOnlyList<TensorInfo?> inputs, IReadOnlyList<Tensor?> constants)
    {
        var x = Op.Required(ctx, inputs, 0, "input");
        if (OpType == "Dropout")
        {
            if (ctx.Node.GetInt("is_test", 1) == 0 && ctx.Opset < 7)
                throw ctx.Error(ErrorCodes.UnsupportedAttributeValue, "training-mode Dropout (is_test=0) is not supported.");
            if (Op.Optional(constants, 2) is { } training && training.ToInt64Array()[0] != 0)
                throw ctx.Error(ErrorCodes.UnsupportedAttributeValue, "training-mode Dropout is not supported.");
            if (ctx.Node.HasInput(2) && Op.Optional(constants, 2) is null)
                throw ctx.Error(ErrorCodes.UnsupportedAttributeValue, "Dropout's training_mode must be a constant false.");
        }
        return ctx.Node.Outputs.Count > 1 ? [x, new TensorInfo(DataType.Bool, x.Shape)] : [x];
    }

    public override Tensor[] Execute(OpContext ctx, IReadOnlyList<Tensor?> inputs)
    {
        var x = Op.Required(ctx, inputs, 0, "input");
        InferOutputs(ctx, [x.Info], inputs);
        if (ctx.Node.Outputs.Count < 2) return [x];
        var mask = Tensor.Zeros(DataType.Bool, x.Shape);
        mask.AsSpan<bool>().Fill(true);
        return [x, mask];
    }
}
