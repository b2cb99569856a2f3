namespace QuantGen.Core.Ir;

/// <summary>Element types the IR can hold. Values match ONNX's TensorProto.DataType so the importer maps 1:1.</summary>
public enum DataType
{
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    Int32 = 6,
    Int64 = 7,
    Bool = 9,
    Double = 11,
}

public static class DataTypes
{
    /// <summary>Bytes per element.</summary>
    public static int SizeOf(DataType type) => type switch
    {
        DataType.Float => 4,
        DataType.UInt8 => 1,
        DataType.Int8 => 1,
        DataType.Int32 => 4,
        DataType.Int64 => 8,
        DataType.Bool => 1,
        DataType.Double => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unsupported data type."),
    };

    public static bool IsSupported(DataType type) => type is DataType.Float or DataType.UInt8 or DataType.Int8
        or DataType.Int32 or DataType.Int64 or DataType.Bool or DataType.Double;

    /// <summary>The IR element type of a CLR element type.</summary>
    public static DataType Of<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? DataType.Float :
        typeof(T) == typeof(long) ? DataType.Int64 :
        typeof(T) == typeof(int) ? DataType.Int32 :
        typeof(T) == typeof(byte) ? DataType.UInt8 :
        typeof(T) == typeof(sbyte) ? DataType.Int8 :
        typeof(T) == typeof(bool) ? DataType.Bool :
        typeof(T) == typeof(double) ? DataType.Double :
        throw new NotSupportedException($"No IR data type for {typeof(T)}.");

    /// <summary>Lower-case ONNX-style name ("float", "int64") for messages and the CLI.</summary>
    public static string Name(DataType type) => type switch
    {
        DataType.Float => "float",
        DataType.UInt8 => "uint8",
        DataType.Int8 => "int8",
        DataType.Int32 => "int32",
        DataType.Int64 => "int64",
        DataType.Bool => "bool",
        DataType.Double => "double",
        _ => $"type {(int)type}",
    };
}
