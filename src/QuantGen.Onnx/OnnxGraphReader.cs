using QuantGen.Core;
using QuantGen.Core.Ir;
using QuantGen.Core.Passes;
using QuantGen.Onnx.Proto;

namespace QuantGen.Onnx;

/// <summary>Converts a parsed <see cref="ModelProto"/> into the IR.</summary>
internal sealed class OnnxGraphReader
{
    private readonly ModelProto _proto;
    private readonly string? _baseDirectory;

    public OnnxGraphReader(ModelProto proto, string? baseDirectory)
    {
        _proto = proto;
        _baseDirectory = baseDirectory;
    }

    public Model Read(string? path)
    {
        if (_proto.Graph is null || (_proto.Graph.Node.Count == 0 && _proto.Graph.Output.Count == 0))
            throw new ModelException(ErrorCodes.MalformedModel, "The file holds no ONNX graph (empty or not a model).");

        int opset = ReadOpset();
        var graphProto = _proto.Graph;
        var graph = new Graph { Name = graphProto.Name };

        foreach (var initializer in graphProto.Initializer)
        {
            if (string.IsNullOrEmpty(initializer.Name))
                throw new ModelException(ErrorCodes.MalformedModel, "An initializer has no name.");
            try
            {
                graph.Initializers[initializer.Name] = TensorReader.Read(initializer, _baseDirectory);
            }
            catch (ModelException e) when (e.Code == ErrorCodes.ValueOutOfRange)
            {
                // Name the node that reads it (a QuantizeLinear's zero point, typically).
                var reader = graphProto.Node.Select((n, i) => (n, i)).FirstOrDefault(p => p.n.Input.Contains(initializer.Name));
                if (reader.n is null) throw;
                var nodeName = string.IsNullOrEmpty(reader.n.Name) ? $"{reader.n.OpType}_{reader.i}" : reader.n.Name;
                // A QDQ zero point out of its type's range is a bad quantization parameter (QG0080, docs/interop.md).
                var code = reader.n.OpType is "QuantizeLinear" or "DequantizeLinear" or "QLinearConv" or "QLinearMatMul" ? ErrorCodes.BadQdqParameters : e.Code;
                throw new ModelException(code, $"{reader.n.OpType} '{nodeName}' reads {e.Message[0..1].ToLowerInvariant()}{e.Message[1..]}", e.ModelPath, nodeName, e);
            }
        }

        // Before IR version 4 initializers were also listed as inputs: those are constants, not inputs.
        foreach (var input in graphProto.Input)
            if (!graph.Initializers.ContainsKey(input.Name))
                graph.Inputs.Add(ReadDeclaration(input));
        foreach (var output in graphProto.Output)
            graph.Outputs.Add(ReadDeclaration(output));

        var usedNames = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < graphProto.Node.Count; i++)
        {
            var nodeProto = graphProto.Node[i];
            // Unnamed (or duplicate-named) nodes get a stable name so every diagnostic can point at one.
            var name = string.IsNullOrEmpty(nodeProto.Name) || usedNames.Contains(nodeProto.Name)
                ? $"{nodeProto.OpType}_{i}"
                : nodeProto.Name;
            usedNames.Add(name);
            var attributes = new Dictionary<string, NodeAttribute>(StringComparer.Ordinal);
            foreach (var a in nodeProto.Attribute)
            {
                try
                {
                    attributes[a.Name] = ReadAttribute(a);
                }
                catch (ModelException e)
                {
                    throw e.WithContext(nodeName: name);
                }
            }
            graph.Nodes.Add(new Node(name, nodeProto.OpType, nodeProto.Input.ToArray(), nodeProto.Output.ToArray(), attributes, nodeProto.Domain));
        }

        TopologicalSort.Run(graph);
        return new Model(graph, opset, path)
        {
            ProducerName = _proto.ProducerName,
            ProducerVersion = _proto.ProducerVersion,
            IrVersion = _proto.IrVersion,
        };
    }

    private int ReadOpset()
    {
        foreach (var import in _proto.OpsetImport)
        {
            if (import.Domain is "" or "ai.onnx")
            {
                if (import.Version < OnnxModelLoader.MinOpset || import.Version > OnnxModelLoader.MaxOpset)
                    throw new ModelException(ErrorCodes.UnsupportedOpset,
                        $"Opset {import.Version} is outside the supported range {OnnxModelLoader.MinOpset}..{OnnxModelLoader.MaxOpset}.");
                return (int)import.Version;
            }
        }
        // IR version 1/2 models predate opset_import; ONNX treats them as opset 1.
        if (_proto.OpsetImport.Count == 0) return 1;
        // A graph made only of other domains' ops needs no default opset; its ops are reported as unsupported later.
        var stray = _proto.Graph.Node.FirstOrDefault(n => n.Domain is "" or "ai.onnx");
        if (stray is null) return OnnxModelLoader.MaxOpset;
        throw new ModelException(ErrorCodes.UnsupportedOpset, $"The model uses default-domain op {stray.OpType} but imports no ai.onnx opset.", nodeName: stray.Name);
    }

    private static ValueDeclaration ReadDeclaration(ValueInfoProto value)
    {
        var tensorType = value.Type?.TensorType;
        if (tensorType is null)
            throw new ModelException(ErrorCodes.UnsupportedDataType, $"Graph value '{value.Name}' is not a tensor (sequences, maps and optionals are not supported).");
        var type = (DataType)tensorType.ElemType;
        List<Dim>? dims = null;
        if (tensorType.Shape is not null)
        {
            dims = new List<Dim>();
            foreach (var d in tensorType.Shape.Dim)
            {
                if (d.HasDimValue)
                {
                    if (d.DimValue < 0)
                        throw new ModelException(ErrorCodes.BadShape, $"Graph value '{value.Name}' declares a negative dimension {d.DimValue}.");
                    dims.Add(Dim.Fixed(d.DimValue));
                }
                else if (d.HasDimParam && d.DimParam.Length > 0) dims.Add(Dim.Named(d.DimParam));
                else dims.Add(Dim.Unknown);
            }
        }
        return new ValueDeclaration(value.Name, type, dims);
    }

    private NodeAttribute ReadAttribute(AttributeProto a)
    {
        // Old exporters leave 'type' unset; infer it from the populated field as onnx's checker does.
        var kind = a.Type switch
        {
            AttributeProto.Types.AttributeType.Float => AttributeKind.Float,
            AttributeProto.Types.AttributeType.Int => AttributeKind.Int,
            AttributeProto.Types.AttributeType.String => AttributeKind.String,
            AttributeProto.Types.AttributeType.Tensor => AttributeKind.Tensor,
            AttributeProto.Types.AttributeType.Floats => AttributeKind.Floats,
            AttributeProto.Types.AttributeType.Ints => AttributeKind.Ints,
            AttributeProto.Types.AttributeType.Strings => AttributeKind.Strings,
            AttributeProto.Types.AttributeType.Undefined => InferKind(a),
            _ => AttributeKind.Unsupported,
        };
        return kind switch
        {
            AttributeKind.Float => new NodeAttribute { Name = a.Name, Kind = kind, Float = a.F },
            AttributeKind.Int => new NodeAttribute { Name = a.Name, Kind = kind, Int = a.I },
            AttributeKind.String => new NodeAttribute { Name = a.Name, Kind = kind, String = a.S.ToStringUtf8() },
            AttributeKind.Tensor => new NodeAttribute { Name = a.Name, Kind = kind, Tensor = TensorReader.Read(a.T, _baseDirectory) },
            AttributeKind.Floats => new NodeAttribute { Name = a.Name, Kind = kind, Floats = a.Floats.ToArray() },
            AttributeKind.Ints => new NodeAttribute { Name = a.Name, Kind = kind, Ints = a.Ints.ToArray() },
            AttributeKind.Strings => new NodeAttribute { Name = a.Name, Kind = kind, Strings = a.Strings.Select(s => s.ToStringUtf8()).ToArray() },
            _ => new NodeAttribute { Name = a.Name, Kind = AttributeKind.Unsupported },
        };
    }

    private static AttributeKind InferKind(AttributeProto a) =>
        a.Floats.Count > 0 ? AttributeKind.Floats :
        a.Ints.Count > 0 ? AttributeKind.Ints :
        a.Strings.Count > 0 ? AttributeKind.Strings :
        a.T is not null ? AttributeKind.Tensor :
        a.G is not null ? AttributeKind.Unsupported :
        a.HasS ? AttributeKind.String :
        a.HasF ? AttributeKind.Float :
        a.HasI ? AttributeKind.Int :
        AttributeKind.Unsupported;
}
