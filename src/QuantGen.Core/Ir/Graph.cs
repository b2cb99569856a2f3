namespace QuantGen.Core.Ir;

/// <summary>
/// A computation graph: declared inputs and outputs, constant initializers, nodes, and (after shape inference)
/// the concrete type of every value. Passes mutate it in place; <see cref="Clone"/> gives an independent copy.
/// </summary>
public sealed class Graph
{
    public string Name { get; set; } = "";

    /// <summary>Declared graph inputs, excluding those that are initializers.</summary>
    public List<ValueDeclaration> Inputs { get; } = new();

    public List<ValueDeclaration> Outputs { get; } = new();

    /// <summary>Constant tensors by value name (weights, folded constants).</summary>
    public Dictionary<string, Tensor> Initializers { get; } = new(StringComparer.Ordinal);

    /// <summary>Nodes; in topological order once <see cref="Passes.TopologicalSort"/> has run (the importer runs it).</summary>
    public List<Node> Nodes { get; } = new();

    /// <summary>Concrete types and shapes of values, filled by shape inference.</summary>
    public Dictionary<string, TensorInfo> ValueInfos { get; } = new(StringComparer.Ordinal);

    public Graph Clone()
    {
        var copy = new Graph { Name = Name };
        copy.Inputs.AddRange(Inputs);
        copy.Outputs.AddRange(Outputs);
        foreach (var (k, v) in Initializers) copy.Initializers[k] = v;
        copy.Nodes.AddRange(Nodes);
        foreach (var (k, v) in ValueInfos) copy.ValueInfos[k] = v;
        return copy;
    }
}
