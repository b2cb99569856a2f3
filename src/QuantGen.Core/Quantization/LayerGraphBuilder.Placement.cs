using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

internal sealed partial class LayerGraphBuilder
{
    /// <summary>
    /// The node-by-node form of <see cref="Build"/> for <see cref="NodeClassifier"/>: every node of the prepared graph
    /// with the layer that covers it (built, or absorbed into one as a fused BN, bias or activation; null for the Identity
    /// and Dropout that vanish), or the error <see cref="Build"/> would stop at. Unlike <see cref="Build"/> it goes on
    /// after an error, so one pass lists every node the quantized layers cannot express.
    /// </summary>
    internal static Dictionary<Node, (FloatLayer? Layer, ModelException? Problem)> Place(Graph graph, string? modelPath)
    {
        var builder = new LayerGraphBuilder(graph, modelPath);
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
            }
            placed[node] = place;
            // The nodes this one absorbed (a fused BatchNormalization, bias Add, activations) share its placement.
            foreach (var fused in builder._fused)
                placed.TryAdd(fused, place);
        }
        return placed;
    }
}
