using QuantGen.Core.Ir;

namespace QuantGen.Core.Operators;

/// <summary>A computation generic over the element type, for data-movement ops that work on every type.</summary>
internal interface ITypedFunc<TResult>
{
    TResult Invoke<T>() where T : unmanaged;
}

internal static class TypeDispatch
{
    public static TResult Run<TResult, TFunc>(DataType type, TFunc func) where TFunc : ITypedFunc<TResult> => type switch
    {
        DataType.Float => func.Invoke<float>(),
        DataType.Double => func.Invoke<double>(),
        DataType.Int64 => func.Invoke<long>(),
        DataType.Int32 => func.Invoke<int>(),
        DataType.UInt8 => func.Invoke<byte>(),
        DataType.Int8 => func.Invoke<sbyte>(),
        DataType.Bool => func.Invoke<bool>(),
        _ => throw new ModelException(ErrorCodes.UnsupportedDataType, $"Element type {DataTypes.Name(type)} is not supported."),
    };
}
