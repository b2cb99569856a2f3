using System.Runtime.InteropServices;
using QuantGen.Core;
using QuantGen.Core.Ir;
using QuantGen.Onnx.Proto;

namespace QuantGen.Onnx;

/// <summary>
/// TensorProto → <see cref="Tensor"/>: raw_data (little-endian), the typed repeated fields, and external data.
/// The element count is checked against the declared dims before any buffer is allocated.
/// </summary>
internal static class TensorReader
{
    public static Tensor Read(TensorProto proto, string? baseDirectory)
    {
        var type = (DataType)proto.DataType;
        string what = string.IsNullOrEmpty(proto.Name) ? "tensor" : $"tensor '{proto.Name}'";
        if (NarrowIntegers.IsNarrow(proto.DataType)) return NarrowIntegers.Read(proto, baseDirectory, what); // TensorReader.Narrow.cs
        if (!DataTypes.IsSupported(type))
            throw new ModelException(ErrorCodes.UnsupportedDataType,
                $"{what} has element type {(TensorProto.Types.DataType)proto.DataType}, which is not supported.");

        int[] shape = ShapeMath.ToIntShape(proto.Dims.ToArray(), what);
        int count = ShapeMath.ElementCount(shape, what);

        if (proto.DataLocation == TensorProto.Types.DataLocation.External)
        {
            var bytes = ExternalDataReader.Read(proto, baseDirectory, (long)count * DataTypes.SizeOf(type), what);
            return FromRaw(type, shape, count, bytes, what);
        }
        if (proto.HasRawData)
            return FromRaw(type, shape, count, proto.RawData.Span, what);
        return FromTypedFields(proto, type, shape, count, what);
    }

    private static Tensor FromRaw(DataType type, int[] shape, int count, ReadOnlySpan<byte> raw, string what)
    {
        long expected = (long)count * DataTypes.SizeOf(type);
        if (raw.Length != expected)
            throw new ModelException(ErrorCodes.MalformedModel, $"{what} has {raw.Length} bytes of data, its shape {ShapeMath.Format(shape)} needs {expected}.");
        var tensor = Tensor.Zeros(type, shape);
        // Byte order: ONNX raw data is little-endian; on a big-endian host the copy would need swapping.
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("Big-endian hosts are not supported.");
        switch (type)
        {
            case DataType.Float: raw.CopyTo(MemoryMarshal.AsBytes(tensor.AsSpan<float>())); break;
            case DataType.Double: raw.CopyTo(MemoryMarshal.AsBytes(tensor.AsSpan<double>())); break;
            case DataType.Int64: raw.CopyTo(MemoryMarshal.AsBytes(tensor.AsSpan<long>())); break;
            case DataType.Int32: raw.CopyTo(MemoryMarshal.AsBytes(tensor.AsSpan<int>())); break;
            case DataType.UInt8: raw.CopyTo(tensor.AsSpan<byte>()); break;
            case DataType.Int8: raw.CopyTo(MemoryMarshal.AsBytes(tensor.AsSpan<sbyte>())); break;
            case DataType.Bool:
                var b = tensor.AsSpan<bool>();
                for (int i = 0; i < raw.Length; i++) b[i] = raw[i] != 0;
                break;
        }
        return tensor;
    }

    private static Tensor FromTypedFields(TensorProto proto, DataType type, int[] shape, int count, string what)
    {
        int available = type switch
        {
            DataType.Float => proto.FloatData.Count,
            DataType.Double => proto.DoubleData.Count,
            DataType.Int64 => proto.Int64Data.Count,
            _ => proto.Int32Data.Count, // int32, int8, uint8 and bool live in int32_data
        };
        if (available != count)
            throw new ModelException(ErrorCodes.MalformedModel, $"{what} has {available} values, its shape {ShapeMath.Format(shape)} needs {count}.");

        var tensor = Tensor.Zeros(type, shape);
        switch (type)
        {
            case DataType.Float: CopyTo(proto.FloatData, tensor.AsSpan<float>()); break;
            case DataType.Double: CopyTo(proto.DoubleData, tensor.AsSpan<double>()); break;
            case DataType.Int64: CopyTo(proto.Int64Data, tensor.AsSpan<long>()); break;
            case DataType.Int32: CopyTo(proto.Int32Data, tensor.AsSpan<int>()); break;
            case DataType.UInt8: { var s = tensor.AsSpan<byte>(); for (int i = 0; i < count; i++) s[i] = (byte)InRange(proto.Int32Data[i], 0, 255, "uint8", what, i); break; }
            case DataType.Int8: { var s = tensor.AsSpan<sbyte>(); for (int i = 0; i < count; i++) s[i] = (sbyte)InRange(proto.Int32Data[i], -128, 127, "int8", what, i); break; }
            case DataType.Bool: { var s = tensor.AsSpan<bool>(); for (int i = 0; i < count; i++) s[i] = proto.Int32Data[i] != 0; break; }
        }
        return tensor;
    }

    /// <summary>
    /// int8/uint8 values live in int32_data: one outside the type's range is not a value of the tensor (it used to be
    /// truncated silently; a QDQ zero point of 300 would have become 44).
    /// </summary>
    private static int InRange(int value, int min, int max, string type, string what, int index) =>
        value >= min && value <= max ? value
        : throw new ModelException(ErrorCodes.ValueOutOfRange, $"{what} stores {value} at element {index} (int32_data), outside {type}'s range [{min}, {max}].");

    private static void CopyTo<T>(Google.Protobuf.Collections.RepeatedField<T> source, Span<T> target)
    {
        for (int i = 0; i < target.Length; i++) target[i] = source[i];
    }
}
