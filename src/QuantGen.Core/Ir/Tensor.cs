namespace QuantGen.Core.Ir;

/// <summary>
/// A dense, row-major tensor with a concrete shape. The element storage is a CLR array of the element type
/// (float[], long[], int[], byte[], sbyte[], bool[], double[]); typed access goes through <see cref="Span{T}"/>.
/// </summary>
public sealed class Tensor
{
    private readonly Array _data;

    private Tensor(DataType type, int[] shape, Array data)
    {
        DataType = type;
        Shape = shape;
        _data = data;
    }

    public DataType DataType { get; }

    /// <summary>
    /// The ONNX element width when it is narrower than <see cref="DataType"/>'s (4 for int4/uint4 held as int8/uint8,
    /// 16 for int16 held as int32: QDQ import, docs/interop.md); 0 when the tensor is stored as its ONNX type.
    /// </summary>
    public int StoredBits { get; private init; }

    /// <summary>This tensor (same data) marked as read from a narrower ONNX type of <paramref name="bits"/> bits.</summary>
    public Tensor WithStoredBits(int bits) => new(DataType, Shape, _data) { StoredBits = bits };

    /// <summary>Concrete dimensions; a scalar has rank 0.</summary>
    public int[] Shape { get; }

    public int Rank => Shape.Length;

    public int Length => _data.Length;

    /// <summary>The backing array; its CLR element type matches <see cref="DataType"/>.</summary>
    public Array Data => _data;

    /// <summary>Wraps <paramref name="data"/> (not copied) with <paramref name="shape"/>.</summary>
    public static Tensor FromArray<T>(int[] shape, T[] data) where T : unmanaged
    {
        int count = ShapeMath.ElementCount(shape);
        if (count != data.Length)
            throw new ArgumentException($"Shape {ShapeMath.Format(shape)} needs {count} elements, got {data.Length}.");
        return new Tensor(DataTypes.Of<T>(), shape, data);
    }

    /// <summary>A zero-filled tensor; the element count is checked before allocation.</summary>
    public static Tensor Zeros(DataType type, int[] shape)
    {
        int count = ShapeMath.ElementCount(shape);
        Array data = type switch
        {
            DataType.Float => new float[count],
            DataType.UInt8 => new byte[count],
            DataType.Int8 => new sbyte[count],
            DataType.Int32 => new int[count],
            DataType.Int64 => new long[count],
            DataType.Bool => new bool[count],
            DataType.Double => new double[count],
            _ => throw new ModelException(ErrorCodes.UnsupportedDataType, $"Tensors of {DataTypes.Name(type)} are not supported."),
        };
        return new Tensor(type, shape, data);
    }

    public static Tensor Zeros<T>(params int[] shape) where T : unmanaged => Zeros(DataTypes.Of<T>(), shape);

    public static Tensor Scalar(float value) => FromArray(Array.Empty<int>(), new[] { value });

    public static Tensor Scalar(long value) => FromArray(Array.Empty<int>(), new[] { value });

    /// <summary>A 1-D int64 tensor, the form shapes and indices take in ONNX.</summary>
    public static Tensor Int64Vector(params long[] values) => FromArray(new[] { values.Length }, values);

    public Span<T> AsSpan<T>() where T : unmanaged
    {
        // Compare element types, not 'is T[]': the CLR lets sbyte[] pass as byte[] (and int[] as uint[]).
        if (DataTypes.Of<T>() != DataType || _data is not T[] array)
            throw new InvalidOperationException($"Tensor holds {DataTypes.Name(DataType)}, not {typeof(T).Name}.");
        return array;
    }

    public T[] ToArray<T>() where T : unmanaged => AsSpan<T>().ToArray();

    /// <summary>Same data, new shape with the same element count (no copy).</summary>
    public Tensor Reshape(int[] shape)
    {
        if (ShapeMath.ElementCount(shape) != Length)
            throw new ArgumentException($"Cannot reshape {ShapeMath.Format(Shape)} to {ShapeMath.Format(shape)}.");
        return new Tensor(DataType, shape, _data);
    }

    /// <summary>Deep copy.</summary>
    public Tensor Clone() => new(DataType, (int[])Shape.Clone(), (Array)_data.Clone());

    /// <summary>Values as 64-bit integers (from any integer or bool type), for shape/index inputs.</summary>
    public long[] ToInt64Array() => DataType switch
    {
        DataType.Int64 => (long[])_data.Clone(),
        DataType.Int32 => Array.ConvertAll((int[])_data, v => (long)v),
        DataType.UInt8 => Array.ConvertAll((byte[])_data, v => (long)v),
        DataType.Int8 => Array.ConvertAll((sbyte[])_data, v => (long)v),
        DataType.Bool => Array.ConvertAll((bool[])_data, v => v ? 1L : 0L),
        _ => throw new InvalidOperationException($"Tensor of {DataTypes.Name(DataType)} is not an integer tensor."),
    };

    /// <summary>Values converted to float, for comparisons and reports.</summary>
    public float[] ToFloatArray() => DataType switch
    {
        DataType.Float => (float[])_data.Clone(),
        DataType.Double => Array.ConvertAll((double[])_data, v => (float)v),
        DataType.Int64 => Array.ConvertAll((long[])_data, v => (float)v),
        DataType.Int32 => Array.ConvertAll((int[])_data, v => (float)v),
        DataType.UInt8 => Array.ConvertAll((byte[])_data, v => (float)v),
        DataType.Int8 => Array.ConvertAll((sbyte[])_data, v => (float)v),
        DataType.Bool => Array.ConvertAll((bool[])_data, v => v ? 1f : 0f),
        _ => throw new InvalidOperationException("Unknown storage."),
    };

    public TensorInfo Info => new(DataType, Shape);

    public override string ToString() => $"{DataTypes.Name(DataType)}{ShapeMath.Format(Shape)}";
}
