namespace QuantGen.Core.Ir;

public enum AttributeKind
{
    Float,
    Int,
    String,
    Tensor,
    Floats,
    Ints,
    Strings,
    /// <summary>A sub-graph or another kind the IR does not model; its presence is recorded so ops can refuse it.</summary>
    Unsupported,
}

/// <summary>One node attribute. Exactly the field matching <see cref="Kind"/> is meaningful.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "ONNX calls them attributes; this is not a .NET attribute.")]
public sealed class NodeAttribute
{
    public required string Name { get; init; }
    public required AttributeKind Kind { get; init; }
    public float Float { get; init; }
    public long Int { get; init; }
    public string String { get; init; } = "";
    public Tensor? Tensor { get; init; }
    public float[] Floats { get; init; } = [];
    public long[] Ints { get; init; } = [];
    public string[] Strings { get; init; } = [];

    public override string ToString() => Kind switch
    {
        AttributeKind.Float => $"{Name}={Float.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}",
        AttributeKind.Int => $"{Name}={Int}",
        AttributeKind.String => $"{Name}=\"{String}\"",
        AttributeKind.Ints => $"{Name}=[{string.Join(",", Ints)}]",
        AttributeKind.Floats => $"{Name}=[{string.Join(",", Floats.Select(f => f.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))}]",
        AttributeKind.Strings => $"{Name}=[{string.Join(",", Strings)}]",
        AttributeKind.Tensor => $"{Name}={Tensor}",
        _ => $"{Name}=<unsupported>",
    };
}
