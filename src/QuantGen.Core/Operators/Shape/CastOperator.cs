using QuantGen.Core.Ir;

namespace QuantGen.Core.Operators;

/// <summary>Cast between float, double, int8, uint8, int32, int64 and bool. Float → integer truncates toward zero (C casts, as numpy's astype).</summary>
internal sealed class CastOperator : Operator
{
    public override string OpType => "Cast";

    private static DataType Target(OpContext ctx)
    {
        var to = (DataType)ctx.Node.GetRequiredInt("to");
        if (!DataTypes.IsSupported(to))
            throw ctx.Error(ErrorCodes.UnsupportedDataType, $"casting to ONNX type {(int)to} is not supported.");
        return to;
    }

    public override TensorInfo[] InferOutputs(OpContext ctx, IReadOnlyList<TensorInfo?> inputs, IReadOnlyList<Tensor?> constants) =>
        Op.One(Target(ctx), Op.Required(ctx, inputs, 0, "input").Shape);

    public override Tensor[] Execute(OpContext ctx, IReadOnlyList<Tensor?> inputs)
    {
        var x = Op.Required(ctx, inputs, 0, "input");
        var to = Target(ctx);
        if (to == x.DataType) return [x];
        var y = Tensor.Zeros(to, x.Shape);
        switch (x.Data)
        {
            case float[] f: FromDouble(Array.ConvertAll(f, v => (double)v), y); break;
            case double[] d: FromDouble(d, y); break;
            default: FromInt64(x.ToInt64Array(), y); break;
        }
        return [y];
    }

    private static void FromDouble(double[] v, Tensor y)
    {
        switch (y.Data)
        {
            case float[] o: for (int i = 0; i < v.Length; i++) o[i] = (float)v[i]; break;
            case double[] o: v.CopyTo(o, 0); break;
            case bool[] o: for (int i = 0; i < v.Length; i++) o[i] = v[i] != 0; break;
            default: FromInt64(Array.ConvertAll(v, d => double.IsNaN(d) ? 0 : (long)d), y); break;
        }
    }

    /// <summary>Writes integers into any tensor, wrapping as a C cast does.</summary>
    public static void FromInt64(long[] v, Tensor y)
    {
        switch (y.DataType)
        {
            case DataType.Float: { var o = y.AsSpan<float>(); for (int i = 0; i < v.Length; i++) o[i] = v[i]; break; }
            case DataType.Double: { var o = y.AsSpan<double>(); for (int i = 0; i < v.Length; i++) o[i] = v[i]; break; }
            case DataType.Int64: v.CopyTo(y.AsSpan<long>()); break;
            case DataType.Int32: { var o = y.AsSpan<int>(); for (int i = 0; i < v.Length; i++) o[i] = unchecked((int)v[i]); break; }
            case DataType.UInt8: { var o = y.AsSpan<byte>(); for (int i = 0; i < v.Length; i++) o[i] = unchecked((byte)v[i]); break; }
            case DataType.Int8: { var o = y.AsSpan<sbyte>(); for (int i = 0; i < v.Length; i++) o[i] = unchecked((sbyte)v[i]); break; }
            case DataType.Bool: { var o = y.AsSpan<bool>(); for (int i = 0; i < v.Length; i++) o[i] = v[i] != 0; break; }
        }
    }
}
