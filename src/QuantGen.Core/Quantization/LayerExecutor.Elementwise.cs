using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>Float execution of the elementwise kinds (Lookup, Affine, Mul, Concat), as docs/artifact.md defines their real functions.</summary>
internal sealed partial class LayerExecutor
{
    private float[] Elementwise(FloatLayer layer, Func<string, float[]> read)
    {
        var x = read(layer.Inputs[0]);
        switch (layer.Kind)
        {
            case LayerKinds.Lookup:
            {
                var y = new float[x.Length];
                var f = layer.Function!.Evaluate;
                for (int i = 0; i < x.Length; i++) y[i] = (float)f(x[i]);
                return y;
            }
            case LayerKinds.Affine:
            {
                var y = new float[x.Length];
                int channels = layer.BroadcastChannels, inner = layer.BroadcastInner;
                for (int i = 0; i < x.Length; i++)
                {
                    int c = i / inner % channels;
                    y[i] = x[i] * layer.AffineScale![c] + layer.AffineOffset![c];
                }
                return y;
            }
            case LayerKinds.Mul:
            {
                var b = read(layer.Inputs[1]);
                var y = new float[x.Length];
                for (int i = 0; i < x.Length; i++) y[i] = x[i] * b[i / layer.BroadcastInner];
                return y;
            }
            default:
            {
                // Concat: per outer index (the dimensions before the axis), each input's slab in turn.
                var outShape = Shape(layer.Output);
                int outer = 1;
                for (int d = 0; d < layer.Axis; d++) outer *= outShape[d];
                var y = new float[ShapeMath.ElementCount(outShape)];
                int offset = 0;
                foreach (var input in layer.Inputs)
                {
                    var values = read(input);
                    int chunk = values.Length / outer, stride = y.Length / outer;
                    for (int o = 0; o < outer; o++) values.AsSpan(o * chunk, chunk).CopyTo(y.AsSpan(o * stride + offset, chunk));
                    offset += chunk;
                }
                return y;
            }
        }
    }
}
