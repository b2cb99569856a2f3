using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>
/// FloatNodes: nodes the user keeps in float run as float islands even where a quantized kernel exists, and no
/// quantized layer absorbs one (a fused activation, bias or pattern stops before it: <see cref="SoleConsumer"/>).
/// </summary>
internal sealed partial class LayerGraphBuilder
{
    private static readonly IReadOnlySet<string> NoNodes = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>The node names FloatNodes selected (FloatNodeSelection).</summary>
    private IReadOnlySet<string> _requestedFloat = NoNodes;

    private bool IsRequestedFloat(Node node) => _requestedFloat.Contains(node.Name);

    /// <summary>The float layer of a requested node; QG0029 when the node cannot be one (not float in and out, or no reference operator).</summary>
    private FloatLayer BuildRequestedFloat(Node node)
    {
        if (!CanRunInFloat(node))
            throw new ModelException(ErrorCodes.FloatNodeNotFloat,
                $"FloatNodes names {node.OpType} node '{node.Name}', which cannot run in float: a float island reads and writes float32 tensors through a reference operator. Remove it from FloatNodes.",
                _modelPath, node.Name);
        return BuildFloat(node, FloatNodeSelection.Reason);
    }

    /// <summary>
    /// A pattern that gathered its nodes without <see cref="SoleConsumer"/> (GELU) and took in a requested node is not
    /// built: its first node then runs in float alone (the NotQuantizable path), and the nodes after it are built one by one.
    /// </summary>
    private void RefuseFusedRequested(FloatLayer? layer)
    {
        if (layer is null || layer.IsFloatOp) return;
        if (layer.Nodes.Skip(1).FirstOrDefault(_requestedFloat.Contains) is { } requested)
            throw new ModelException(ErrorCodes.NotQuantizable, $"{layer.Kind} would fuse node '{requested}', which FloatNodes keeps in float.", _modelPath);
    }
}
