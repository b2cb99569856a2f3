namespace QuantGen.Core.Ir;

/// <summary>Element type and concrete shape of a value, as known after shape inference.</summary>
public readonly struct TensorInfo : IEquatable<TensorInfo>
{
    public TensorInfo(DataType dataType, int[] shape)
    {
        DataType = dataType;
        Shape = shape;
    }

    public DataType DataType { get; }

    public int[] Shape { get; }

    public int Rank => Shape.Length;

    public int ElementCount => ShapeMath.ElementCount(Shape);

    public bool Equals(TensorInfo other) => DataType == other.DataType && Shape.AsSpan().SequenceEqual(other.Shape);

    public override bool Equals(object? obj) => obj is TensorInfo other && Equals(other);

    public static bool operator ==(TensorInfo left, TensorInfo right) => left.Equals(right);

    public static bool operator !=(TensorInfo left, TensorInfo right) => !left.Equals(right);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(DataType);
        foreach (int d in Shape) hash.Add(d);
        return hash.ToHashCode();
    }

    public override string ToString() => $"{DataTypes.Name(DataType)}{ShapeMath.Format(Shape)}";
}
