using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;
using QuantGen.Core.Operators;
using QuantGen.Core.Passes;

namespace QuantGen.Core.Quantization;

/// <summary>Where a quantized build runs one node of the model.</summary>
public enum NodePlacement
{
    /// <summary>In an integer layer of the generated class (or fused into one: BN, bias, activation; or a no-op Identity/Dropout).</summary>
    Quantized,

    /// <summary>In float: the reference executor supports it but no quantized layer expresses it (see <see cref="NodeClassification.Reason"/>).</summary>
    Float,

    /// <summary>Nowhere: QuantGen has no operator for it (QG0003), so the model neither runs nor builds.</summary>
    Unsupported,

    /// <summary>Not run at all: a constant or a shape computation folded while preparing the graph, or a node that feeds no output.</summary>
    Folded,

    /// <summary>Not classified, because other nodes of the model are <see cref="Unsupported"/> and the graph cannot be prepared.</summary>
    Unclassified,
}

/// <summary>One node of the model as loaded, where it runs, the layer kind covering it, and why it is not quantized.</summary>
public sealed record NodeClassification(string NodeName, string OpType, NodePlacement Placement, string? LayerKind, string? Reason);

/// <summary>
/// Answers, node by node, what the quantizer's layer graph (LayerGraphBuilder) makes of a model: quantized, float, or
/// unsupported. It asks LayerGraphBuilder itself, so it follows whatever that accepts: today a node without a quantized
/// layer is a QG0017 build error and is reported as <see cref="NodePlacement.Float"/> with that error as its reason
/// (the executor runs it); so is a layer LayerGraphBuilder builds for float execution (<see cref="FloatLayer.IsFloatTail"/>:
/// Softmax/Sigmoid at the output edge; float-island layers, kind "Float.OP", once LayerGraphBuilder builds them), with
/// no error code in the reason.
/// Checks after the layer graph (e.g. the artifact's geometry limits) are not part of the answer.
/// </summary>
public static class NodeClassifier
{
    /// <summary>
    /// Every node of <paramref name="model"/>, in graph order; for a QDQ model, of the float model its Q/DQ nodes describe
    /// (they disappear into the imported quantization, docs/interop.md). Throws <see cref="ModelException"/> when the
    /// shapes cannot be resolved (e.g. an open symbolic dim) or the QDQ import refuses the model.
    /// </summary>
    public static IReadOnlyList<NodeClassification> Classify(Model model, ShapeOptions shapes)
    {
        var source = QdqImport.IsQuantized(model) ? QdqImport.Rewrite(model).Model : model;
        if (source.Graph.Nodes.Any(n => !OperatorRegistry.Default.IsSupported(n.OpType, n.Domain)))
            return source.Graph.Nodes.Select(n => OperatorRegistry.Default.IsSupported(n.OpType, n.Domain)
                ? new NodeClassification(n.Name, n.OpType, NodePlacement.Unclassified, null, null)
                : new NodeClassification(n.Name, n.OpType, NodePlacement.Unsupported, null, $"{ErrorCodes.UnsupportedOperator}: no operator {Name(n)}")).ToList();

        var prepared = ModelPreparation.Prepare(source, shapes);
        var placed = LayerGraphBuilder.Place(prepared.Graph, model.Path, prepared.Opset);
        // The prepared graph is a copy: its nodes are matched to the loaded ones by their first output (unique in ONNX).
        var byOutput = new Dictionary<string, (FloatLayer? Layer, ModelException? Problem)>(StringComparer.Ordinal);
        foreach (var (node, place) in placed)
            if (node.Outputs.Count > 0) byOutput[node.Outputs[0]] = place;
        var result = new List<NodeClassification>(source.Graph.Nodes.Count);
        foreach (var node in source.Graph.Nodes)
        {
            if (node.Outputs.Count == 0 || !byOutput.TryGetValue(node.Outputs[0], out var place))
                result.Add(new(node.Name, node.OpType, NodePlacement.Folded, null, null));
            else if (place.Problem is { } problem)
                result.Add(new(node.Name, node.OpType, NodePlacement.Float, null, $"{problem.Code}: {problem.Message}"));
            else if (place.Layer is { IsFloatTail: true } tail)
                result.Add(new(node.Name, node.OpType, NodePlacement.Float, tail.Kind, $"a float {tail.Kind} layer at the output edge"));
            else if (place.Layer is { IsFloatOp: true } island)
                result.Add(new(node.Name, node.OpType, NodePlacement.Float, FloatLayers.Prefix + node.OpType, FloatIslands.IsMovedWithReaders(island)
                    ? "data movement moved with its float readers: only float layers read it"
                    : "a float island: dequantized, computed in float, quantized again"));
            else
                result.Add(new(node.Name, node.OpType, NodePlacement.Quantized, place.Layer?.Kind, null));
        }
        return result;
    }

    private static string Name(Node node) => node.Domain.Length > 0 ? $"{node.Domain}.{node.OpType}" : node.OpType;
}
