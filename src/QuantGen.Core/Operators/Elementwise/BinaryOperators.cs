using System.Numerics;
using System.Numerics.Tensors;
using QuantGen.Core.Ir;
using IrTensor = QuantGen.Core.Ir.Tensor;

namespace QuantGen.Core.Operators;

/// <summary>
/// Add, Sub, Mul, Div, Max, Min (variadic), Pow: broadcasting elementwise arithmetic over float, double, int32 and
/// int64. Integer division truncates toward zero, as the ONNX reference does.
/// </summary>
internal sealed class BinaryOperator : Operator
{
    private readonly Kind _kind;

    private BinaryOperator(string opType, Kind kind)
    {
        OpType = opType;
        _kind = kind;
    }

    private enum Kind { Add, Sub, Mul, Div, Max, Min }

    public override string OpType { get; }

    public static Operator[] All { get; } =
    [
        new BinaryOperator("Add", Kind.Add),
        new BinaryOperator("Sub", Kind.Sub),
        new BinaryOperator("Mul", Kind.Mul),
        new BinaryOperator("Div", Kind.Div),
        new BinaryOperator("Max", Kind.Max),
        new BinaryOperator("Min", Kind.Min),
    ];

    private bool IsVariadic => _kind is Kind.Max or Kind.Min;

    public override TensorInfo[] InferOutputs(OpContext ctx, IReadOnlyList<TensorInfo?> inputs, IReadOnlyList<IrTensor?> constants)
    {
        inputs = AlignLegacyBroadcast(ctx, inputs);
        ctx.Require(inputs.Count >= (IsVariadic ? 1 : 2), $"needs {(IsVariadic ? "at least one input" : "two inputs")}.");
        var first = Op.Required(ctx, inputs, 0, "A");
        var shape = first.Shape;
        for (int i = 1; i < inputs.Count; i++)
        {
            var next = Op.Required(ctx, inputs, i, "operand");
            if (next.DataType != first.DataType)
                throw ctx.Error(ErrorCodes.BadShape, $"inputs have different element types ({DataTypes.Name(first.DataType)}, {DataTypes.Name(next.DataType)}).");
            shape = Broadcast.Shape(ctx, shape, next.Shape);
        }
        Op.RequireType(ctx, first.DataType, DataType.Float, DataType.Double, DataType.Int32, DataType.Int64, DataType.UInt8, DataType.Int8);
        return Op.One(first.DataType, shape);
    }

    public override IrTensor[] Execute(OpContext ctx, IReadOnlyList<IrTensor?> inputs)
    {
        inputs = AlignLegacyBroadcast(ctx, inputs);
        var infos = inputs.Select(t => t is null ? (TensorInfo?)null : t.Info).ToArray();
        var info = InferOutputs(ctx, infos, inputs)[0];
        var result = Op.Required(ctx, inputs, 0, "A");
        if (inputs.Count == 1) return [result.Clone()];
        for (int i = 1; i < inputs.Count; i++)
        {
            var shape = i == inputs.Count - 1 ? info.Shape : Broadcast.Shape(ctx, result.Shape, inputs[i]!.Shape);
            result = Apply(result, inputs[i]!, shape);
        }
        return [result];
    }

    private IrTensor Apply(IrTensor a, IrTensor b, int[] shape) => a.DataType switch
    {
        DataType.Float => ApplyFloat(a, b, shape),
        DataType.Double => Apply<double>(a, b, shape),
        DataType.Int32 => Apply<int>(a, b, shape),
        DataType.Int64 => Apply<long>(a, b, shape),
        DataType.UInt8 => Apply<byte>(a, b, shape),
        _ => Apply<sbyte>(a, b, shape),
    };

    private IrTensor ApplyFloat(IrTensor a, IrTensor b, int[] shape)
    {
        // Same-shape float inputs, the common case in real models, go through TensorPrimitives' SIMD loops.
        if (!a.Shape.AsSpan().SequenceEqual(b.Shape) && b.Length != 1) return Apply<float>(a, b, shape);
        if (a.Length != ShapeMath.ElementCount(shape)) return Apply<float>(a, b, shape);
        var y = IrTensor.Zeros(DataType.Float, shape);
        ReadOnlySpan<float> x = a.AsSpan<float>();
        var output = y.AsSpan<float>();
        if (b.Length == 1 && !a.Shape.AsSpan().SequenceEqual(b.Shape))
        {
            float s = b.AsSpan<float>()[0];
            switch (_kind)
            {
                case Kind.Add: TensorPrimitives.Add(x, s, output); break;
                case Kind.Sub: TensorPrimitives.Subtract(x, s, output); break;
                case Kind.Mul: TensorPrimitives.Multiply(x, s, output); break;
                case Kind.Div: TensorPrimitives.Divide(x, s, output); break;
                default: return Apply<float>(a, b, shape);
            }
            return y;
        }
        ReadOnlySpan<float> z = b.AsSpan<float>();
        switch (_kind)
        {
            case Kind.Add: TensorPrimitives.Add(x, z, output); break;
            case Kind.Sub: TensorPrimitives.Subtract(x, z, output); break;
            case Kind.Mul: TensorPrimitives.Multiply(x, z, output); break;
            case Kind.Div: TensorPrimitives.Divide(x, z, output); break;
            default: return Apply<float>(a, b, shape);
        }
        return y;
    }

    private IrTensor Apply<T>(IrTensor a, IrTensor b, int[] shape) where T : unmanaged, INumber<T>
    {
        var y = IrTensor.Zeros(a.DataType, shape);
        Func<T, T, T> op = _kind switch
        {
            Kind.Add => static (x, z) => x + z,
            Kind.Sub => static (x, z) => x - z,
            Kind.Mul => static (x, z) => x * z,
            Kind.Div => static (x, z) => T.IsZero(z) && !IsFloating<T>() ? T.Zero : x / z,
            // NaN propagates through Max/Min as in numpy's maximum/minimum.
            Kind.Max => static (x, z) => T.IsNaN(x) || T.IsNaN(z) ? x + z : x > z ? x : z,
            _ => static (x, z) => T.IsNaN(x) || T.IsNaN(z) ? x + z : x < z ? x : z,
        };
        Broadcast.Apply<T, T>(a.AsSpan<T>(), a.Shape, b.AsSpan<T>(), b.Shape, y.AsSpan<T>(), shape, op);
        return y;
    }

    private static bool IsFloating<T>() => typeof(T) == typeof(float) || typeof(T) == typeof(double);

    /// <summary>
    /// Before opset 7, broadcasting was explicit: with broadcast=1, B's dims line up with A's starting at 'axis'
    /// (default: suffix alignment, which numpy's rule already gives). Reshaping B to A's rank with 1s around it
    /// turns that into numpy broadcasting.
    /// </summary>
    private static IReadOnlyList<T?> AlignLegacyBroadcast<T>(OpContext ctx, IReadOnlyList<T?> inputs)
    {
        if (ctx.Opset >= 7 || !ctx.Node.HasAttribute("axis") || inputs.Count != 2 || inputs[0] is null || inputs[1] is null) return inputs;
        int[] a = ShapeOf(inputs[0]!), b = ShapeOf(inputs[1]!);
        int axis = ShapeMath.NormalizeAxis(ctx.Node.GetInt("axis", 0), a.Length);
        // Exporters also set 'axis' where B already has A's rank: numpy's suffix rule covers those.
        if (axis + b.Length > a.Length) return inputs;
        var aligned = new int[a.Length];
        Array.Fill(aligned, 1);
        b.CopyTo(aligned, axis);
        object reshaped = inputs[1] switch
        {
            IrTensor t => t.Reshape(aligned),
            TensorInfo info => new TensorInfo(info.DataType, aligned),
            _ => throw new InvalidOperationException(),
        };
        return [inputs[0], (T)reshaped];
    }

    private static int[] ShapeOf<T>(T value) => value switch
    {
        IrTensor t => t.Shape,
        TensorInfo info => info.Shape,
        _ => throw new InvalidOperationException(),
    };
}

/// <summary>Pow: float/double/int base with an exponent of any numeric type; the output has the base's type.</summary>
internal sealed class PowOperator : Operator
{
    public override string OpType => "Pow";

    public override TensorInfo[] InferOutputs(OpContext ctx, IReadOnlyList<TensorInfo?> inputs, IReadOnlyList<IrTensor?> constants)
    {
        var x = Op.Required(ctx, inputs, 0, "X");
        var y = Op.Required(ctx, inputs, 1, "Y");
        Op.RequireType(ctx, x.DataType, DataType.Float, DataType.Double, DataType.Int32, DataType.Int64);
        return Op.One(x.DataType, Broadcast.Shape(ctx, x.Shape, y.Shape));
    }

    public override IrTensor[] Execute(OpContext ctx, IReadOnlyList<IrTensor?> inputs)
    {
        var x = Op.Required(ctx, inputs, 0, "X");
        var e = Op.Required(ctx, inputs, 1, "Y");
        var shape = InferOutputs(ctx, [x.Info, e.Info], inputs)[0].Shape;
        var y = IrTensor.Zeros(x.DataType, shape);
        double[] xd = ToDoubles(x), ed = ToDoubles(e);
        var result = new double[y.Length];
        Broadcast.Apply<double, double>(xd, x.Shape, ed, e.Shape, result, shape, Math.Pow);
        switch (x.DataType)
        {
            case DataType.Float:
            {
                // Square and square root are exact in float; the rest matches numpy's float32 pow within an ulp.
                var output = y.AsSpan<float>();
                for (int i = 0; i < output.Length; i++) output[i] = (float)result[i];
                break;
            }
            case DataType.Double: result.CopyTo(y.AsSpan<double>()); break;
            case DataType.Int32: { var o = y.AsSpan<int>(); for (int i = 0; i < o.Length; i++) o[i] = (int)result[i]; break; }
            default: { var o = y.AsSpan<long>(); for (int i = 0; i < o.Length; i++) o[i] = (long)result[i]; break; }
        }
        return [y];
    }

    private static double[] ToDoubles(IrTensor t) => t.Data switch
    {
        float[] f => Array.ConvertAll(f, v => (double)v),
        double[] d => d,
        _ => Array.ConvertAll(t.ToInt64Array(), v => (double)v),
    };
}
