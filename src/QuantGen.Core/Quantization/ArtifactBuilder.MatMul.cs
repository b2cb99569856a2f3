using QuantGen.Core.Artifact;

namespace QuantGen.Core.Quantization;

/// <summary>MatMul of two computed tensors in the artifact (docs/artifact.md, "MatMul").</summary>
internal sealed partial class ArtifactBuilder
{
    private void BuildMatMul(FloatLayer layer, string comment)
    {
        ActivationGrid a = _grids[layer.Inputs[0]], b = _grids[layer.Inputs[1]];
        if (a.ElementType != ArtifactElementType.U8 || b.ElementType != ArtifactElementType.U8)
            throw new ModelException(ErrorCodes.NotQuantizable, "MatMul of two computed tensors has no kernel for 16-bit activations yet: build with ActivationBits=8.", nodeName: layer.Name);
        var outGrid = OutputGrid(layer);
        // One requantization of the int32 sum Σ (a − za)(b − zb): real = sa · sb · factor · sum.
        var (multiplier, shift) = FixedPoint.Encode((double)a.Scale * b.Scale * layer.MatMulFactor / outGrid.Scale);
        AddLayer(layer.Kind, layer.Name, layer.Inputs, [layer.Output],
            [Ints("multiplier", multiplier), Ints("shift", shift), Ints("clamp", outGrid.Clamp(layer.ClampMin), outGrid.Clamp(layer.ClampMax))], [], [],
            comment + (layer.MatMulFactor == 1f ? "" : $" (times {layer.MatMulFactor.ToString("R", System.Globalization.CultureInfo.InvariantCulture)})"));
        Reports.Add(new LayerReport(layer, outGrid, null));
    }
}
