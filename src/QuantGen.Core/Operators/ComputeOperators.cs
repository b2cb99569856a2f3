namespace QuantGen.Core.Operators;

/// <summary>Convolution, matrix products, pooling, normalization, resize and pad.</summary>
internal static class ComputeOperators
{
    public static Operator[] All { get; } =
    [
        new ConvOperator(),
        new ConvTransposeOperator(),
        new GemmOperator(),
        new MatMulOperator(),
        .. PoolOperator.All,
        .. GlobalPoolOperator.All,
        new BatchNormalizationOperator(),
        new ResizeOperator(),
        new PadOperator(),
    ];
}
