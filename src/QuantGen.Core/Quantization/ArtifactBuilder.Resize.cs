using QuantGen.Core.Artifact;

namespace QuantGen.Core.Quantization;

/// <summary>The Resize kind in the artifact (docs/artifact.md): a bilinear resize on its input's grid, weights in fixed point.</summary>
internal sealed partial class ArtifactBuilder
{
    private void BuildResize(FloatLayer layer, string comment)
    {
        // A convex combination of the input's values lies in its range: the output keeps the input's grid, and the
        // zero point cancels (the four weights sum to one exactly).
        var grid = _grids[layer.Inputs[0]];
        if (grid.ElementType != ArtifactElementType.U8)
            throw new ModelException(ErrorCodes.NotQuantizable, "Resize has no kernel for 16-bit activations yet: build with ActivationBits=8.", nodeName: layer.Name);
        if (_fixed?.Grids.TryGetValue(layer.Output, out var given) == true && given.Grid != grid)
            throw new ModelException(ErrorCodes.QdqNotExpressible,
                $"{layer.Nodes.FirstOrDefault() ?? layer.Name} interpolates on its input's grid ({FixedQuantizationPass.Describe(grid)}), and {_fixed.Origin} gives its output '{layer.Output}' another ({FixedQuantizationPass.Describe(given.Grid)}, '{given.Source}'): a requantization QuantGen has no layer for.",
                nodeName: layer.Name);
        _grids[layer.Output] = grid;
        AddTensor(grid.ToTensor(layer.Output, Shape(layer.Output)));
        int[] rows = layer.ResizeRows!, columns = layer.ResizeColumns!;
        AddLayer(layer.Kind, layer.Name, layer.Inputs, [layer.Output], [Ints("bits", FloatLayer.ResizeWeightBits)], [],
            [
                new ArtifactBlob("rows", BlobType.I32, new([rows.Length / 3, 3]), new(rows), EquatableArray<float>.Empty),
                new ArtifactBlob("columns", BlobType.I32, new([columns.Length / 3, 3]), new(columns), EquatableArray<float>.Empty),
            ], comment);
        Reports.Add(new LayerReport(layer, grid, null));
    }
}
