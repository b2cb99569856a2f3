using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>
/// MatMul of two quantized computed tensors (attention's Q·Kᵀ) as a quantized MatMul layer when the options ask for it
/// (QuantizationOptions.QuantizedAttention); by default it runs in float, and a MatMul reading a value computed in float
/// (attention·V after a float Softmax) always does: docs/accuracy.md has the measurements that decided both. A following
/// Div or Mul by a one-element constant (1/√d) folds into the layer's requantization.
/// </summary>
internal sealed partial class LayerGraphBuilder
{
    /// <summary>True to quantize MatMuls of two computed tensors (else they run in float).</summary>
    private bool _quantizedAttention;

    private FloatLayer BuildActivationMatMul(Node node)
    {
        Require(_quantizedAttention,
            "MatMul of two computed tensors runs in float by default (QuantizedAttention=\"true\" quantizes it; docs/accuracy.md).");
        string a = node.Inputs[0], b = node.Inputs[1];
        int[] aShape = Shape(a), bShape = Shape(b);
        var pairs = ArtifactGeometry.MatMulBatches(aShape, bShape, out var batch);
        Require(pairs is not null,
            $"MatMul of {ShapeMath.Format(aShape)} by {ShapeMath.Format(bShape)} is quantized for inputs of rank ≥ 2 whose batch dimensions broadcast.");
        Require((long)aShape[^1] * 255 * 255 <= int.MaxValue, $"MatMul over K = {aShape[^1]} can overflow its int32 accumulator.");
        // A value computed in float (attention's Softmax) is multiplied in float: a u8 grid for it only adds a rounding,
        // and on fashion_transformer it cost top-1 agreement (98.7% with attention·V quantized, 99.0% without; docs/accuracy.md).
        Require(!_floatValues.Contains(Resolve(a)) && !_floatValues.Contains(Resolve(b)),
            "MatMul reads a value computed in float: it multiplies it in float (quantizing it first only adds a rounding; docs/accuracy.md).");
        var layer = NewLayer(LayerKinds.MatMul, node, [Resolve(a), Resolve(b)]);
        while (SoleConsumer(layer.Output) is { OpType: "Div" or "Mul" } next && next.Inputs.Count == 2 && !KeepsApart(layer.Output, next.Outputs[0]))
        {
            bool divides = next.OpType == "Div";
            string other = next.Inputs[0] == layer.Output ? next.Inputs[1] : next.Inputs[0];
            if ((divides && next.Inputs[0] != layer.Output) || !IsConstant(other) || _graph.Initializers[other].Length != 1 || !SameShape(next.Outputs[0], layer.Output)) break;
            float c = _graph.Initializers[other].ToFloatArray()[0];
            float factor = divides ? layer.MatMulFactor / c : layer.MatMulFactor * c;
            if (!(factor > 0) || float.IsInfinity(factor)) break;
            layer.MatMulFactor = factor;
            Absorb(layer, next);
        }
        TryFuseActivation(layer);
        return layer;
    }
}
