namespace QuantGen.Core.Ir;

/// <summary>
/// One operator application. Inputs and outputs name values in the graph; an empty string marks an omitted
/// optional input or output (ONNX convention). Attribute accessors validate kinds and throw QG0010 on mismatch.
/// </summary>
public sealed class Node
{
    public Node(string name, string opType, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs,
        IReadOnlyDictionary<string, NodeAttribute>? attributes = null, string domain = "")
    {
        Name = name;
        OpType = opType;
        Inputs = inputs;
        Outputs = outputs;
        Attributes = attributes ?? new Dictionary<string, NodeAttribute>();
        Domain = domain;
    }

    /// <summary>The node's name; the importer gives unnamed nodes a stable one ("OpType_index").</summary>
    public string Name { get; }

    public string OpType { get; }

    /// <summary>"" for the default ONNX domain.</summary>
    public string Domain { get; }

    public IReadOnlyList<string> Inputs { get; }

    public IReadOnlyList<string> Outputs { get; }

    public IReadOnlyDictionary<string, NodeAttribute> Attributes { get; }

    /// <summary>True when input <paramref name="index"/> exists and is not the empty (omitted) name.</summary>
    public bool HasInput(int index) => index < Inputs.Count && Inputs[index].Length > 0;

    public bool HasAttribute(string name) => Attributes.ContainsKey(name);

    public long GetInt(string name, long defaultValue) => Get(name, AttributeKind.Int)?.Int ?? defaultValue;

    public float GetFloat(string name, float defaultValue) => Get(name, AttributeKind.Float)?.Float ?? defaultValue;

    public string GetString(string name, string defaultValue) => Get(name, AttributeKind.String)?.String ?? defaultValue;

    public long[]? GetInts(string name) => Get(name, AttributeKind.Ints)?.Ints;

    public float[]? GetFloats(string name) => Get(name, AttributeKind.Floats)?.Floats;

    public Tensor? GetTensor(string name) => Get(name, AttributeKind.Tensor)?.Tensor;

    public long GetRequiredInt(string name) => Get(name, AttributeKind.Int)?.Int
        ?? throw new ModelException(ErrorCodes.InvalidAttribute, $"Required attribute '{name}' is missing.", nodeName: Name);

    private NodeAttribute? Get(string name, AttributeKind kind)
    {
        if (!Attributes.TryGetValue(name, out var attribute)) return null;
        if (attribute.Kind != kind)
            throw new ModelException(ErrorCodes.InvalidAttribute,
                $"Attribute '{name}' of {OpType} should be {kind}, found {attribute.Kind}.", nodeName: Name);
        return attribute;
    }

    public override string ToString() => $"{OpType} '{Name}' ({string.Join(", ", Inputs)}) -> ({string.Join(", ", Outputs)})";
}
