using QuantGen.Core.Artifact;

namespace QuantGen.Core.Quantization;

/// <summary>
/// QDQ import with float islands: ONNX computes a node on integers only where its inputs come from DequantizeLinear
/// and its result goes to a QuantizeLinear; everywhere else the QDQ model computes in float. A layer of an imported
/// model whose computed inputs or output have no Q → DQ pair therefore becomes a float layer (its node run in float
/// between the model's own grids), as ONNX defines it, instead of a quantized layer with no grid to use.
/// </summary>
internal sealed partial class LayerGraphBuilder
{
    /// <summary>Values on an integer grid without a pair of their own: MaxPool and reshape outputs keep their input's.</summary>
    private readonly HashSet<string> _inheritedGrids = new(StringComparer.Ordinal);

    /// <summary>The imported model's dequantized weights (DequantizeLinear outputs); a Conv/Gemm/MatMul reading other weights is float.</summary>
    private IReadOnlySet<string>? _fixedWeights;

    /// <summary>
    /// Import only (fixed grids given): throws the NotQuantizable error that makes <paramref name="layer"/>'s node a
    /// float layer when one of its computed inputs or its output has no Q → DQ pair.
    /// </summary>
    private void RequireImportedGrids(FloatLayer layer)
    {
        if (_fixedGrids is null || layer.IsFloatOp || layer.IsFloatTail) return;
        bool Gridded(string value) => _fixedGrids.ContainsKey(value) || _inheritedGrids.Contains(value);
        var missing = layer.Inputs.FirstOrDefault(i => !Gridded(i));
        if (missing is not null)
            throw new ModelException(ErrorCodes.NotQuantizable,
                $"its input '{missing}' has no QuantizeLinear → DequantizeLinear pair in the QDQ model, so ONNX computes the node in float.");
        if (layer.Kind is LayerKinds.MaxPool or LayerKinds.Reshape)
        {
            _inheritedGrids.Add(layer.Output);
            return;
        }
        if (!Gridded(layer.Output))
            throw new ModelException(ErrorCodes.NotQuantizable,
                $"its output '{layer.Output}' has no QuantizeLinear → DequantizeLinear pair in the QDQ model, so ONNX computes the node in float.");
        // Float weights between two pairs (a layer QAT left in float, or excluded from quantize_static): ONNX computes
        // DQ(x) → Conv(W) → Q in float, and so does the island, between the model's own grids.
        if (_fixedWeights is not null && layer.Kind is LayerKinds.Conv or LayerKinds.FullyConnected && layer.WeightSource is { } weights && !_fixedWeights.Contains(weights))
            throw new ModelException(ErrorCodes.NotQuantizable,
                $"its weights '{weights}' are float (no DequantizeLinear) in the QDQ model, so ONNX computes the node in float.");
    }
}
