using QuantGen.Core.Ir;

namespace QuantGen.Core.Operators;

/// <summary>Small helpers shared by the operator implementations: input access, constant reading, type checks.</summary>
internal static class Op
{
    /// <summary>Input <paramref name="index"/>, which the node must provide.</summary>
    public static T Required<T>(OpContext ctx, IReadOnlyList<T?> inputs, int index, string what) where T : struct
    {
        if (index >= inputs.Count || inputs[index] is not { } value)
            throw ctx.Error(ErrorCodes.MissingValue, $"input {index} ({what}) is required.");
        return value;
    }

    public static Tensor Required(OpContext ctx, IReadOnlyList<Tensor?> inputs, int index, string what)
    {
        if (index >= inputs.Count || inputs[index] is not { } value)
            throw ctx.Error(ErrorCodes.MissingValue, $"input {index} ({what}) is required.");
        return value;
    }

    public static Tensor? Optional(IReadOnlyList<Tensor?> inputs, int index) => index < inputs.Count ? inputs[index] : null;

    public static TensorInfo? Optional(IReadOnlyList<TensorInfo?> inputs, int index) => index < inputs.Count ? inputs[index] : null;

    /// <summary>The value of a constant input (e.g. Reshape's shape) during shape inference, or QG0004.</summary>
    public static Tensor Constant(OpContext ctx, IReadOnlyList<Tensor?> constants, int index, string what) =>
        (index < constants.Count ? constants[index] : null)
        ?? throw ctx.Error(ErrorCodes.BadShape, $"{what} (input {index}) must be a constant for static shape inference.");

    /// <summary>A one-output inference result.</summary>
    public static TensorInfo[] One(DataType type, int[] shape) => [new TensorInfo(type, shape)];

    public static void RequireType(OpContext ctx, DataType type, params DataType[] allowed)
    {
        if (Array.IndexOf(allowed, type) < 0)
            throw ctx.Error(ErrorCodes.UnsupportedDataType, $"element type {DataTypes.Name(type)} is not supported here.");
    }

    public static int[] IntArray(long[] values) => Array.ConvertAll(values, v => checked((int)v));

    /// <summary>An int attribute in [<paramref name="min"/>, <paramref name="max"/>]: QG0042 outside the int range, QG0010 outside the allowed one.</summary>
    public static int Int(OpContext ctx, string name, long fallback, int min, int max)
    {
        long value = ctx.Node.GetInt(name, fallback);
        if (value < int.MinValue || value > int.MaxValue)
            throw ctx.Error(ErrorCodes.ValueOutOfRange, $"{name} {value} is outside the 32-bit range.");
        if (value < min || value > max)
            throw ctx.Error(ErrorCodes.InvalidAttribute, $"{name} {value} must be from {min} to {max}.");
        return (int)value;
    }
}
