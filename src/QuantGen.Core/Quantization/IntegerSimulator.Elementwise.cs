using QuantGen.Core.Artifact;

namespace QuantGen.Core.Quantization;

/// <summary>The elementwise kinds, exactly as docs/artifact.md specifies them: Lookup, Affine, Mul, Concat.</summary>
public sealed partial class IntegerSimulator
{
    private int[] Elementwise(ArtifactLayer layer, Dictionary<string, int[]> ints, ArtifactTensor outT)
    {
        var x = ints[layer.Inputs[0]];
        int zx = _tensors[layer.Inputs[0]].ZeroPoint, zy = outT.ZeroPoint;
        switch (layer.Kind)
        {
            case LayerKinds.Lookup:
            {
                var table = layer.GetBlob("table").Values.AsArray();
                return x.Select(v => table[v]).ToArray();
            }
            case LayerKinds.Affine:
            {
                int[] broadcast = layer.GetInts("broadcast"), clamp = layer.GetInts("clamp");
                int shift = layer.GetInt("shift");
                int[] m = layer.GetBlob("multiplier").Values.AsArray(), o = layer.GetBlob("offset").Values.AsArray();
                var y = new int[x.Length];
                for (int i = 0; i < x.Length; i++)
                {
                    int c = i / broadcast[1] % broadcast[0];
                    long v = (((long)(x[i] - zx) * m[c] + o[c] + (1L << (shift - 1))) >> shift) + zy;
                    y[i] = v < clamp[0] ? clamp[0] : v > clamp[1] ? clamp[1] : (int)v;
                }
                return y;
            }
            case LayerKinds.Mul:
            {
                var b = ints[layer.Inputs[1]];
                int zb = _tensors[layer.Inputs[1]].ZeroPoint, inner = layer.GetInt("inner"), multiplier = layer.GetInt("multiplier"), shift = layer.GetInt("shift");
                int[] clamp = layer.GetInts("clamp");
                var y = new int[x.Length];
                for (int i = 0; i < x.Length; i++)
                    y[i] = FixedPoint.Requantize((x[i] - zx) * (b[i / inner] - zb), multiplier, shift, zy, clamp[0], clamp[1]);
                return y;
            }
            case LayerKinds.Concat:
            {
                int axis = layer.GetInt("axis");
                int[] multipliers = layer.GetInts("multipliers"), shifts = layer.GetInts("shifts");
                int outer = 1;
                for (int d = 0; d < axis; d++) outer *= outT.Shape[d];
                var y = new int[outT.ElementCount];
                int stride = y.Length / outer, offset = 0;
                for (int j = 0; j < layer.Inputs.Count; j++)
                {
                    var input = ints[layer.Inputs[j]];
                    int zj = _tensors[layer.Inputs[j]].ZeroPoint, chunk = input.Length / outer;
                    for (int o = 0; o < outer; o++)
                        for (int i = 0; i < chunk; i++)
                            y[o * stride + offset + i] = FixedPoint.Requantize(input[o * chunk + i] - zj, multipliers[j], shifts[j], zy, outT.QMin, outT.QMax);
                    offset += chunk;
                }
                return y;
            }
            default:
                throw new ArtifactFormatException($"Unknown layer kind '{layer.Kind}'.");
        }
    }
}
