namespace QuantGen.Core.Ir;

/// <summary>A declared dimension of a graph input or output: a fixed size, a named symbol ("batch"), or unknown.</summary>
public readonly record struct Dim(long Value, string? Symbol)
{
    public static Dim Fixed(long value) => new(value, null);

    public static Dim Named(string symbol) => new(-1, symbol);

    public static Dim Unknown => new(-1, null);

    public bool IsFixed => Value >= 0;

    public override string ToString() => IsFixed ? Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : Symbol ?? "?";
}

/// <summary>A graph input or output as declared in the model: name, element type and (possibly symbolic) dims.</summary>
public sealed record ValueDeclaration(string Name, DataType DataType, IReadOnlyList<Dim>? Dims)
{
    public override string ToString() =>
        $"{Name}: {DataTypes.Name(DataType)}" + (Dims is null ? "[?]" : "[" + string.Join(",", Dims) + "]");
}
