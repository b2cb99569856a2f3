namespace QuantGen.Core.Operators;

/// <summary>The supported operator set, by op_type. The one place that lists them.</summary>
public sealed class OperatorRegistry
{
    private readonly Dictionary<string, Operator> _operators;

    public OperatorRegistry(IEnumerable<Operator> operators)
    {
        _operators = operators.ToDictionary(o => o.OpType, StringComparer.Ordinal);
    }

    /// <summary>Every operator QuantGen implements: the compute-heavy ones and the tensor/elementwise ones.</summary>
    public static OperatorRegistry Default { get; } = new(ComputeOperators.All.Concat(TensorOperators.All));

    /// <summary>Supported op types, sorted.</summary>
    public IReadOnlyList<string> OpTypes => _operators.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>True for the default ONNX domain ("" or "ai.onnx").</summary>
    public static bool IsDefaultDomain(string domain) => domain.Length == 0 || domain == "ai.onnx";

    public bool IsSupported(string opType, string domain = "") => IsDefaultDomain(domain) && _operators.ContainsKey(opType);

    public bool TryGet(string opType, out Operator op) => _operators.TryGetValue(opType, out op!);
}
