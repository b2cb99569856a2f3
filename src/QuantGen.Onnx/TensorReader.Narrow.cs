using QuantGen.Core;
using QuantGen.Core.Ir;
using QuantGen.Onnx.Proto;

namespace QuantGen.Onnx;

/// <summary>
/// ONNX integer types narrower or wider than QuantGen's IR holds, read for QDQ import (opset 21 quantization): int4 and
/// uint4 (two per byte, low nibble first, in raw_data or one packed byte per int32_data entry) as int8/uint8, int16 as
/// int32, each marked with <see cref="Tensor.StoredBits"/> so the import knows the type's range.
/// </summary>
internal static class NarrowIntegers
{
    private const int UInt4 = 21, Int4 = 22, Int16 = 5;

    public static bool IsNarrow(int dataType) => dataType is UInt4 or Int4 or Int16;

    public static Tensor Read(TensorProto proto, string? baseDirectory, string what)
    {
        int[] shape = ShapeMath.ToIntShape(proto.Dims.ToArray(), what);
        int count = ShapeMath.ElementCount(shape, what);
        if (proto.DataType == Int16)
        {
            var values = new int[count];
            if (proto.DataLocation == TensorProto.Types.DataLocation.External || proto.HasRawData)
            {
                var raw = proto.DataLocation == TensorProto.Types.DataLocation.External
                    ? ExternalDataReader.Read(proto, baseDirectory, 2L * count, what) : proto.RawData.ToByteArray();
                if (raw.Length != 2L * count)
                    throw new ModelException(ErrorCodes.MalformedModel, $"{what} has {raw.Length} bytes of data, its shape {ShapeMath.Format(shape)} needs {2L * count} (int16).");
                for (int i = 0; i < count; i++) values[i] = (short)(raw[2 * i] | (raw[2 * i + 1] << 8));
            }
            else
            {
                if (proto.Int32Data.Count != count)
                    throw new ModelException(ErrorCodes.MalformedModel, $"{what} has {proto.Int32Data.Count} values, its shape {ShapeMath.Format(shape)} needs {count}.");
                for (int i = 0; i < count; i++)
                {
                    int v = proto.Int32Data[i];
                    if (v < short.MinValue || v > short.MaxValue)
                        throw new ModelException(ErrorCodes.ValueOutOfRange, $"{what} stores {v} at element {i} (int32_data), outside int16's range [-32768, 32767].");
                    values[i] = v;
                }
            }
            return Tensor.FromArray(shape, values).WithStoredBits(16);
        }

        // int4/uint4: ceil(count / 2) bytes, element 2k in the low nibble of byte k, 2k + 1 in the high nibble.
        int packed = (count + 1) / 2;
        byte[] bytes;
        if (proto.DataLocation == TensorProto.Types.DataLocation.External || proto.HasRawData)
        {
            bytes = proto.DataLocation == TensorProto.Types.DataLocation.External
                ? ExternalDataReader.Read(proto, baseDirectory, packed, what) : proto.RawData.ToByteArray();
            if (bytes.Length != packed)
                throw new ModelException(ErrorCodes.MalformedModel, $"{what} has {bytes.Length} bytes of data, its shape {ShapeMath.Format(shape)} needs {packed} (two 4-bit values per byte).");
        }
        else
        {
            if (proto.Int32Data.Count != packed)
                throw new ModelException(ErrorCodes.MalformedModel, $"{what} has {proto.Int32Data.Count} int32_data entries, its shape {ShapeMath.Format(shape)} needs {packed} (two 4-bit values per entry).");
            bytes = new byte[packed];
            for (int i = 0; i < packed; i++)
            {
                int v = proto.Int32Data[i];
                if (v < 0 || v > 255)
                    throw new ModelException(ErrorCodes.ValueOutOfRange, $"{what} stores {v} at entry {i} (int32_data), which is not two packed 4-bit values.");
                bytes[i] = (byte)v;
            }
        }
        if (proto.DataType == UInt4)
        {
            var u = new byte[count];
            for (int i = 0; i < count; i++) u[i] = (byte)((bytes[i / 2] >> (4 * (i % 2))) & 0xF);
            return Tensor.FromArray(shape, u).WithStoredBits(4);
        }
        var s = new sbyte[count];
        for (int i = 0; i < count; i++)
        {
            int nibble = (bytes[i / 2] >> (4 * (i % 2))) & 0xF;
            s[i] = (sbyte)(nibble >= 8 ? nibble - 16 : nibble);
        }
        return Tensor.FromArray(shape, s).WithStoredBits(4);
    }
}
