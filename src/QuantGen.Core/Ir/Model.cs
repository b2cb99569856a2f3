namespace QuantGen.Core.Ir;

/// <summary>An imported model: its graph plus the metadata needed to interpret it.</summary>
public sealed class Model
{
    public Model(Graph graph, int opset, string? path = null)
    {
        Graph = graph;
        Opset = opset;
        Path = path;
    }

    public Graph Graph { get; }

    /// <summary>Opset version of the default ONNX domain.</summary>
    public int Opset { get; }

    /// <summary>File the model came from (for diagnostics); null for in-memory models.</summary>
    public string? Path { get; }

    public string ProducerName { get; init; } = "";

    public string ProducerVersion { get; init; } = "";

    public long IrVersion { get; init; }

    /// <summary>The resource caps this model was prepared under; the executor checks its scratch buffers against them.</summary>
    public ResourceBudget Budget { get; set; } = ResourceBudget.Default;
}
