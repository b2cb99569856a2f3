using QuantGen.Core.Artifact;

namespace QuantGen.Core.Quantization;

/// <summary>
/// The MatMul kind, as docs/artifact.md specifies it: for each output matrix t (A's matrix ia, B's ib from
/// ArtifactGeometry.MatMulBatches), y[t, i, j] = Requantize(Σ_p (a[ia, i, p] − za)(b[ib, p, j] − zb)) with an int32 sum.
/// </summary>
public sealed partial class IntegerSimulator
{
    private int[] MatMul(ArtifactLayer layer, int[] a, int[] b, ArtifactTensor outT)
    {
        ArtifactTensor aT = _tensors[layer.Inputs[0]], bT = _tensors[layer.Inputs[1]];
        var pairs = ArtifactGeometry.MatMulBatches(aT.Shape.AsArray(), bT.Shape.AsArray(), out _)
            ?? throw new ArtifactFormatException($"MatMul '{layer.Name}': the input shapes do not broadcast.");
        int m = aT.Shape[^2], k = aT.Shape[^1], n = bT.Shape[^1];
        int za = aT.ZeroPoint, zb = bT.ZeroPoint, zy = outT.ZeroPoint, multiplier = layer.GetInt("multiplier"), shift = layer.GetInt("shift");
        int[] clamp = layer.GetInts("clamp");
        var y = new int[outT.ElementCount];
        for (int t = 0; t < pairs.Length / 2; t++)
        {
            int aBase = pairs[2 * t] * m * k, bBase = pairs[2 * t + 1] * k * n, yBase = t * m * n;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    int acc = 0;
                    for (int p = 0; p < k; p++) acc += (a[aBase + i * k + p] - za) * (b[bBase + p * n + j] - zb);
                    y[yBase + i * n + j] = FixedPoint.Requantize(acc, multiplier, shift, zy, clamp[0], clamp[1]);
                }
        }
        return y;
    }
}
