using QuantGen.Core.Ir;

namespace QuantGen.Core.Operators;

/// <summary>What an operator implementation sees of the node it runs: the node itself and the model's opset.</summary>
public sealed class OpContext
{
    public OpContext(Node node, int opset)
    {
        Node = node;
        Opset = opset;
    }

    public Node Node { get; }

    /// <summary>Default-domain opset of the model; operators switch behaviour on it (e.g. Clip's min/max moved from attributes to inputs at 11).</summary>
    public int Opset { get; }

    /// <summary>The caps scratch buffers are checked against before an operator allocates them.</summary>
    public ResourceBudget Budget { get; init; } = ResourceBudget.Default;

    /// <summary>QG0041 unless a scratch buffer of <paramref name="elements"/> (a 64-bit count, never wrapped) fits the budget.</summary>
    public void RequireScratch(long elements, string what)
    {
        try
        {
            Budget.RequireTensor(elements, what);
        }
        catch (ModelException e)
        {
            throw Error(e.Code, e.Message);
        }
    }

    /// <summary>A <see cref="ModelException"/> naming this node.</summary>
    public ModelException Error(string code, string message) => new(code, $"{Node.OpType}: {message}", nodeName: Node.Name);

    /// <summary>Throws QG0004 unless <paramref name="condition"/> holds.</summary>
    public void Require(bool condition, string message)
    {
        if (!condition) throw Error(ErrorCodes.BadShape, message);
    }
}

/// <summary>
/// One ONNX operator: shape/type inference and float reference execution. Implementations are stateless singletons;
/// everything per-node comes through <see cref="OpContext"/>. Both methods validate the node (attributes, input
/// count, ranks) and throw <see cref="ModelException"/> with a QG code, never another exception, on bad models.
/// </summary>
public abstract class Operator
{
    /// <summary>The ONNX op_type, e.g. "Conv".</summary>
    public abstract string OpType { get; }

    /// <summary>
    /// Output types and shapes, one per node output (entries for omitted optional outputs may be anything).
    /// <paramref name="inputs"/> has null for omitted optional inputs; <paramref name="constants"/> holds the value of
    /// inputs that are known constants (initializers or folded), null otherwise, so that e.g. Reshape can read its target shape.
    /// </summary>
    public abstract TensorInfo[] InferOutputs(OpContext ctx, IReadOnlyList<TensorInfo?> inputs, IReadOnlyList<Tensor?> constants);

    /// <summary>Computes the outputs (one per node output) from the inputs (null for omitted optional inputs).</summary>
    public abstract Tensor[] Execute(OpContext ctx, IReadOnlyList<Tensor?> inputs);
}
