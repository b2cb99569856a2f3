using System.Globalization;

namespace QuantGen.Core;

/// <summary>
/// Caps on what a model may make QuantGen allocate, checked before the allocation (QG0041): elements of one tensor
/// (weights, activations, scratch buffers and .npy files alike), the float activation memory live at once while the
/// reference executor runs the graph, the model's parameters, its nodes, and the C# the generator emits. The
/// defaults fit every model of the repository with a wide margin and stop the memory bombs of docs/security.md;
/// raise them with CLI options (<c>--max-tensor-elements</c> …) or <c>QuantModel</c> item metadata
/// (<c>MaxTensorElements</c> …).
/// </summary>
public sealed record ResourceBudget
{
    /// <summary>Elements of any one tensor or scratch buffer (64 Mi: 256 MiB as float).</summary>
    public long MaxTensorElements { get; init; } = 1L << 26;

    /// <summary>Bytes of float activations live at the widest point of the graph in the reference executor (1 GiB).</summary>
    public long MaxActivationBytes { get; init; } = 1L << 30;

    /// <summary>Elements of all initializers together (64 Mi parameters).</summary>
    public long MaxParameters { get; init; } = 1L << 26;

    /// <summary>Nodes in the graph as loaded (10 000; MobileNet-style models have a few hundred).</summary>
    public int MaxNodes { get; init; } = 10_000;

    /// <summary>
    /// Characters of C# the generator may emit for one model (64 Mi; the weights are string literals, and QG1005
    /// already caps those at 12 MiB of data per assembly). The generator reads it from the QuantModel metadata.
    /// </summary>
    public long MaxGeneratedSourceChars { get; init; } = 64L << 20;

    public static ResourceBudget Default { get; } = new();

    /// <summary>QG0041 unless <paramref name="elements"/> fits <see cref="MaxTensorElements"/>.</summary>
    public void RequireTensor(long elements, string what)
    {
        if (elements < 0 || elements > MaxTensorElements)
            throw Exceeded($"{what} needs {Count(elements)} elements, over the budget of {Count(MaxTensorElements)} per tensor", "MaxTensorElements", "--max-tensor-elements");
    }

    /// <summary>QG0041 for a budget exceeded; names the knob that raises it.</summary>
    public static ModelException Exceeded(string message, string metadata, string option) =>
        new(ErrorCodes.BudgetExceeded, $"{message} (raise it with the QuantModel metadata {metadata}=\"…\" or the CLI option {option}).");

    /// <summary>Product of non-negative factors, or −1 when it passes 2^62 (never wraps).</summary>
    public static long Product(params long[] factors)
    {
        long p = 1;
        foreach (long f in factors)
        {
            if (f < 0) return -1;
            if (f != 0 && p > (1L << 62) / f) return -1;
            p *= f;
        }
        return p;
    }

    /// <summary>Checks the caps themselves (QG0015 for a value below 1).</summary>
    public ResourceBudget Validated()
    {
        if (MaxTensorElements < 1 || MaxActivationBytes < 1 || MaxParameters < 1 || MaxNodes < 1 || MaxGeneratedSourceChars < 1)
            throw new ModelException(ErrorCodes.InvalidOption, "Resource budgets must be positive.");
        return this;
    }

    private static string Count(long n) => n < 0 ? "more than 2^62" : n.ToString("N0", CultureInfo.InvariantCulture);
}
