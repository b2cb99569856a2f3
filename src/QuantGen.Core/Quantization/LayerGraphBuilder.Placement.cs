using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

internal sealed partial class LayerGraphBuilder
{
    /// <summary>
    /// For <see cref="NodeClassifier"/>: every node of the prepared graph with the layer that covers it (built, or
    /// absorbed into one as a fused BN, bias or activation; null for the Identity and Dropout that vanish), or the error
    /// that stops <see cref="Build"/> there. When <see cref="Build"/> accepts the graph, its layers are the answer; when it
    /// stops, the nodes are built one by one, going on after each error, so one pass names every node the quantized
    /// layers cannot express.
    /// </summary>
    internal static Dictionary<Node, (FloatLayer? Layer, ModelException? Problem)> Place(Graph graph, string? modelPath, int opset = 13)
    {
        try
        {
            var (layers, _, _) = Build(graph, modelPath, opset: opset);
            var byName = graph.Nodes.ToLookup(n => n.Name, StringComparer.Ordinal);
            var placed = new Dictionary<Node, (FloatLayer?, ModelException?)>();
            foreach (var layer in layers)
                foreach (var name in layer.Nodes)
                    foreach (var node in byName[name])
                        placed.TryAdd(node, (layer, null));
            foreach (var node in graph.Nodes)
                placed.TryAdd(node, (null, null));
            return placed;
        }
        catch (ModelException)
        {
            return PlaceNodeByNode(graph, modelPath, opset);
        }
    }

    private static Dictionary<Node, (FloatLayer? Layer, ModelException? Problem)> PlaceNodeByNode(Graph graph, string? modelPath, int opset)
    {
        var builder = new LayerGraphBuilder(graph, modelPath, null) { _opset = opset };
        var placed = new Dictionary<Node, (FloatLayer?, ModelException?)>();
        var batchNorms = new Dictionary<FloatLayer, FoldedBatchNorm>();
        foreach (var node in graph.Nodes)
        {
            if (builder._fused.Contains(node)) continue;
            (FloatLayer?, ModelException?) place;
            try
            {
                place = (builder.BuildLayer(node, batchNorms), null);
            }
            catch (ModelException e)
            {
                place = (null, e.WithContext(modelPath, node.Name));
                // A node with no quantized layer runs in float: data movement after it moves float values (LayerGraphBuilder.Remap.cs).
                builder._floatValues.UnionWith(node.Outputs);
            }
            if (place.Item1 is { } built) builder.TrackFloat(built);
            placed[node] = place;
            // The nodes this one absorbed (a fused BatchNormalization, bias Add, activations) share its placement.
            foreach (var fused in builder._fused)
                placed.TryAdd(fused, place);
        }
        return placed;
    }
}
