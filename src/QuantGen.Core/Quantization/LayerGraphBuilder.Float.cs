using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;
using QuantGen.Core.Operators;

namespace QuantGen.Core.Quantization;

/// <summary>Float islands: a node the reference executor runs but no quantized layer covers becomes a float layer.</summary>
internal sealed partial class LayerGraphBuilder
{
    /// <summary>Nodes absorbed into the layer being built (undone when the node falls back to float).</summary>
    private readonly List<Node> _absorbed = new();

    /// <summary>True when the executor runs <paramref name="node"/> on float tensors in and out (what a float layer holds).</summary>
    private bool CanRunInFloat(Node node)
    {
        if (!OperatorRegistry.Default.IsSupported(node.OpType, node.Domain)) return false;
        if (node.Outputs.Count == 0 || !_graph.ValueInfos.TryGetValue(node.Outputs[0], out var output) || output.DataType != DataType.Float) return false;
        foreach (var input in node.Inputs)
            if (input.Length > 0 && !IsConstant(input) && (!_graph.ValueInfos.TryGetValue(Resolve(input), out var info) || info.DataType != DataType.Float))
                return false;
        return true;
    }

    /// <summary>
    /// The float edge layers (Softmax, Sigmoid) compute after the last dequantization; one whose output another layer
    /// reads is inside the graph, and becomes a float layer of its node instead (its readers then see a float value).
    /// </summary>
    private void FloatInnerEdgeLayers(List<FloatLayer> layers)
    {
        _absorbed.Clear();
        var read = layers.SelectMany(l => l.Inputs).ToHashSet(StringComparer.Ordinal);
        for (int i = 0; i < layers.Count; i++)
            if (layers[i].IsFloatTail && read.Contains(layers[i].Output) && _graph.Nodes.FirstOrDefault(n => n.Name == layers[i].Name && n.Outputs[0] == layers[i].Output) is { } node)
                layers[i] = BuildFloat(node, $"{node.OpType} is computed in float at the output edge only, and another layer reads its output here.");
    }

    /// <summary>
    /// Data movement (a one-node Remap: Transpose, Slice, Pad, Resize nearest, ...) that only float layers read moves
    /// float values (FloatReaders): the value is dequantized before it instead of after, and its producer, when a
    /// Conv or FullyConnected, can then write float (ArtifactBuilder.FloatOutputs.cs; the transformer's Q, K and V
    /// projections reach the float attention MatMuls through such transposes). From the last layer back, so that a
    /// chain of movements turns float as a whole.
    /// </summary>
    private void FloatMovementBeforeFloatLayers(List<FloatLayer> layers)
    {
        _absorbed.Clear();
        for (int i = layers.Count - 1; i >= 0; i--)
        {
            var layer = layers[i];
            if (layer.Kind != LayerKinds.Remap || layer.Nodes.Count != 1 || _fixedGrids is not null) continue;
            if (!new FloatReaders(layers, _graphOutputs).OnlyFloatRead(layer.Output)) continue;
            if (_graph.Nodes.FirstOrDefault(n => n.Name == layer.Name && n.Outputs[0] == layer.Output) is not { } node || !CanRunInFloat(node)) continue;
            layers[i] = BuildFloat(node, FloatIslands.MovedWithReadersReason);
        }
    }

    /// <summary>
    /// A one-node elementwise layer (Affine, Lookup, Add, Mul) whose inputs all come from float layers and whose
    /// output only float layers read would quantize a float value just to dequantize it again: it runs in float too
    /// (attention's Div by √d between the float Q·Kᵀ and the float Softmax). Repeated until nothing changes.
    /// </summary>
    private void FloatBetweenFloatLayers(List<FloatLayer> layers)
    {
        _absorbed.Clear();
        bool changed = true;
        while (changed)
        {
            changed = false;
            var producers = layers.ToDictionary(l => l.Output, StringComparer.Ordinal);
            for (int i = 0; i < layers.Count; i++)
            {
                var layer = layers[i];
                if (layer.IsFloatOp || layer.Kind is not (LayerKinds.Affine or LayerKinds.Lookup or LayerKinds.Add or LayerKinds.Mul) || layer.Nodes.Count != 1) continue;
                if (_graphOutputs.Contains(layer.Output) || !layer.Inputs.All(v => producers.TryGetValue(v, out var p) && p.IsFloatOp)) continue;
                var readers = layers.Where(l => l.Inputs.Contains(layer.Output, StringComparer.Ordinal)).ToList();
                if (readers.Count == 0 || !readers.All(r => r.IsFloatOp)) continue;
                if (_graph.Nodes.FirstOrDefault(n => n.Name == layer.Name && n.Outputs[0] == layer.Output) is not { } node || !CanRunInFloat(node)) continue;
                layers[i] = BuildFloat(node, $"{node.OpType} reads float layers only and only float layers read it: computed in float, not quantized in between.");
                changed = true;
            }
        }
    }

    /// <summary>The float layer of <paramref name="node"/>: its computed inputs as the layer's inputs, the node kept whole.</summary>
    private FloatLayer BuildFloat(Node node, string reason)
    {
        foreach (var absorbed in _absorbed) _fused.Remove(absorbed);
        _absorbed.Clear();
        for (int o = 1; o < node.Outputs.Count; o++)
            if (node.Outputs[o].Length > 0 && (_consumers.ContainsKey(node.Outputs[o]) || _graphOutputs.Contains(node.Outputs[o])))
                throw new ModelException(ErrorCodes.NotQuantizable, $"{node.OpType} uses its output {o}: a float layer has one output.", _modelPath, node.Name);
        var inputs = node.Inputs.Where(i => i.Length > 0 && !IsConstant(i)).Select(Resolve).Distinct(StringComparer.Ordinal).ToArray();
        var layer = new FloatLayer(FloatLayers.Kind(node.OpType), node.Name, inputs, node.Outputs[0])
        {
            FloatNode = node,
            FloatReason = reason,
            NodeInputs = node.Inputs.Select(i => i.Length == 0 || IsConstant(i) ? i : Resolve(i)).ToArray(),
        };
        layer.Nodes.Add(node.Name);
        return layer;
    }
}
