namespace QuantGen.Core.Operators;

/// <summary>Elementwise math, activations, reductions, and shape/data-movement operators.</summary>
internal static class TensorOperators
{
    public static Operator[] All { get; } =
    [
    ];
}
