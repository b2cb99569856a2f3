namespace QuantGen.Core.Operators;

/// <summary>Elementwise math, activations, reductions, and shape/data-movement operators.</summary>
internal static class TensorOperators
{
    public static Operator[] All { get; } =
    [
        .. BinaryOperator.All,
        new PowOperator(),
        .. UnaryOperator.All,
        new ClipOperator(),
        .. PassThroughOperator.All,
        .. ReduceOperator.All,
        new SoftmaxOperator(),
        new LayerNormOperator(),
        new ReshapeOperator(),
        new FlattenOperator(),
        new SqueezeOperator(),
        new UnsqueezeOperator(),
        new TransposeOperator(),
        new ConcatOperator(),
        new SliceOperator(),
        new ShapeOperator(),
        new GatherOperator(),
        new ExpandOperator(),
        new CastOperator(),
        new ConstantOperator(),
    ];
}
