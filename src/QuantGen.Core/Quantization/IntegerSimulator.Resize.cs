using QuantGen.Core.Artifact;

namespace QuantGen.Core.Quantization;

/// <summary>The Resize kind, as docs/artifact.md specifies it: four taps, fixed-point weights, one rounding.</summary>
public sealed partial class IntegerSimulator
{
    private static int[] Resize(ArtifactLayer layer, ArtifactTensor inT, int[] x, ArtifactTensor outT)
    {
        int bits = layer.GetInt("bits"), one = 1 << bits, shift = 2 * bits;
        var rows = layer.GetBlob("rows").Values.AsArray();
        var columns = layer.GetBlob("columns").Values.AsArray();
        int inH = inT.Shape[^2], inW = inT.Shape[^1], outH = outT.Shape[^2], outW = outT.Shape[^1];
        int planes = x.Length / (inH * inW);
        var y = new int[planes * outH * outW];
        for (int p = 0; p < planes; p++)
            for (int oh = 0; oh < outH; oh++)
            {
                int r0 = (p * inH + rows[3 * oh]) * inW, r1 = (p * inH + rows[3 * oh + 1]) * inW, wr = rows[3 * oh + 2];
                for (int ow = 0; ow < outW; ow++)
                {
                    int c0 = columns[3 * ow], c1 = columns[3 * ow + 1], wc = columns[3 * ow + 2];
                    // Exact in int32: the weights sum to 2^(2·bits) ≤ 2^22 and the taps are at most 255.
                    int top = (one - wc) * x[r0 + c0] + wc * x[r0 + c1], bottom = (one - wc) * x[r1 + c0] + wc * x[r1 + c1];
                    y[(p * outH + oh) * outW + ow] = ((one - wr) * top + wr * bottom + (1 << (shift - 1))) >> shift;
                }
            }
        return y;
    }
}
