using QuantGen.Core.Artifact;

namespace QuantGen.Core.Quantization;

/// <summary>The elementwise kinds in the artifact (docs/artifact.md: Lookup, Affine, Mul, Concat).</summary>
internal sealed partial class ArtifactBuilder
{
    private void BuildElementwise(FloatLayer layer, string comment)
    {
        foreach (var input in layer.Inputs)
            if (_grids[input].ElementType != ArtifactElementType.U8)
                throw new ModelException(ErrorCodes.NotQuantizable, $"{layer.Kind} has no kernel for 16-bit activations yet: build with ActivationBits=8.", nodeName: layer.Name);
        var inGrid = _grids[layer.Inputs[0]];
        var outGrid = OutputGrid(layer);
        var clamp = Ints("clamp", outGrid.Clamp(layer.ClampMin), outGrid.Clamp(layer.ClampMax));
        switch (layer.Kind)
        {
            case LayerKinds.Lookup:
            {
                // Exact by construction: every input index's real value through the function, rounded onto the output grid once.
                var function = layer.Function!;
                var table = new int[256];
                for (int q = 0; q < 256; q++)
                {
                    double real = function.Evaluate(FixedPoint.Dequantize(q, inGrid.Scale, inGrid.ZeroPoint));
                    table[q] = FixedPoint.Quantize((float)real, outGrid.Scale, outGrid.ZeroPoint, outGrid.QMin, outGrid.QMax);
                }
                AddLayer(layer.Kind, layer.Name, layer.Inputs, [layer.Output], [], [],
                    [new ArtifactBlob("table", BlobType.U8, new([256]), new(table), EquatableArray<float>.Empty)], comment + $" (table of {function.Name})");
                break;
            }
            case LayerKinds.Affine:
            {
                int channels = layer.BroadcastChannels;
                var multiplier = new double[channels];
                var offset = new double[channels];
                double largest = 0;
                for (int c = 0; c < channels; c++)
                {
                    multiplier[c] = (double)inGrid.Scale * layer.AffineScale![c] / outGrid.Scale;
                    offset[c] = layer.AffineOffset![c] / (double)outGrid.Scale;
                    largest = Math.Max(largest, Math.Max(Math.Abs(multiplier[c]), Math.Abs(offset[c])));
                }
                // One shift for the layer: the largest keeping every multiplier and offset below 2^31 (31 bits for the largest).
                int shift = largest == 0 ? 31 : (int)Math.Clamp(Math.Floor(Math.Log2(int.MaxValue / largest)), 0, 62);
                if (shift < 1)
                    throw new ModelException(ErrorCodes.NotQuantizable, $"The constants of {layer.Kind} '{layer.Name}' are too large for its output's scale {outGrid.Scale} (a multiplier or offset of {largest} steps).", nodeName: layer.Name);
                var m = multiplier.Select(v => (int)Math.Round(v * Math.Pow(2, shift), MidpointRounding.ToEven)).ToArray();
                var o = offset.Select(v => (int)Math.Round(v * Math.Pow(2, shift), MidpointRounding.ToEven)).ToArray();
                AddLayer(layer.Kind, layer.Name, layer.Inputs, [layer.Output],
                    [Ints("broadcast", channels, layer.BroadcastInner), Ints("shift", shift), clamp], [], [IntBlob("multiplier", m), IntBlob("offset", o)], comment);
                break;
            }
            case LayerKinds.Mul:
            {
                var b = _grids[layer.Inputs[1]];
                var (multiplier, shift) = FixedPoint.Encode((double)inGrid.Scale * b.Scale / outGrid.Scale);
                AddLayer(layer.Kind, layer.Name, layer.Inputs, [layer.Output],
                    [Ints("inner", layer.BroadcastInner), Ints("multiplier", multiplier), Ints("shift", shift), clamp], [], [], comment);
                break;
            }
            default:
            {
                // Concat: each input onto the output grid (the identity pair (2^30, 30) where the grids' scales agree).
                var encoded = layer.Inputs.Select(i => FixedPoint.Encode((double)_grids[i].Scale / outGrid.Scale)).ToArray();
                AddLayer(layer.Kind, layer.Name, layer.Inputs, [layer.Output],
                    [Ints("axis", layer.Axis), Ints("multipliers", encoded.Select(e => e.Multiplier).ToArray()), Ints("shifts", encoded.Select(e => e.Shift).ToArray())],
                    [], [], comment);
                break;
            }
        }
        Reports.Add(new LayerReport(layer, outGrid, null));
    }
}
