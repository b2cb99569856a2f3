using QuantGen.Core.Artifact;

namespace QuantGen.Core.Quantization;

/// <summary>The Remap kind in the artifact (docs/artifact.md): data movement as an index map, on its input's grid.</summary>
internal sealed partial class ArtifactBuilder
{
    private void BuildRemap(FloatLayer layer, string comment)
    {
        // Moving elements commutes with the affine map: the output keeps the input's grid, like Reshape.
        var grid = _grids[layer.Inputs[0]];
        if (grid.ElementType != ArtifactElementType.U8)
            throw new ModelException(ErrorCodes.NotQuantizable, "Remap has no kernel for 16-bit activations yet: build with ActivationBits=8.", nodeName: layer.Name);
        if (_fixed?.Grids.TryGetValue(layer.Output, out var given) == true && given.Grid != grid)
            throw new ModelException(ErrorCodes.QdqNotExpressible,
                $"{layer.Nodes.FirstOrDefault() ?? layer.Name} moves data and keeps its input's grid ({FixedQuantizationPass.Describe(grid)}), and {_fixed.Origin} gives its output '{layer.Output}' another ({FixedQuantizationPass.Describe(given.Grid)}, '{given.Source}'): a requantization QuantGen has no layer for.",
                nodeName: layer.Name);
        _grids[layer.Output] = grid;
        AddTensor(grid.ToTensor(layer.Output, Shape(layer.Output)));
        // The fill (Pad's constant, ConvTranspose's inserted zeros) on that grid: real 0 is the zero point exactly.
        int fill = FixedPoint.Quantize(layer.RemapFill ?? 0f, grid.Scale, grid.ZeroPoint, grid.QMin, grid.QMax);
        var map = layer.RemapMap!;
        AddLayer(layer.Kind, layer.Name, layer.Inputs, [layer.Output], [Ints("fill", fill)], [],
            [new ArtifactBlob("map", BlobType.I32, new(Shape(layer.Output)), new(map), EquatableArray<float>.Empty)], comment);
        Reports.Add(new LayerReport(layer, grid, null));
    }
}
