using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization.Factorization;

namespace QuantGen.Core.Quantization;

public sealed partial class IntegerSimulator
{
    /// <summary>
    /// FactorizedFullyConnected (docs/artifact.md), per input row: t_c = Σ B[c, j]·(x_j − zx) over B's stored entries
    /// (exact int32); z_c = Requantize(t_c, zMultiplier[c], zShift[c], 0, −32767, 32767); acc_o = bias[o] + Σ A[o, c]·z_c
    /// over A's stored entries; y_o = Requantize(acc_o, multiplier[o], shift[o], zy, lo, hi).
    /// </summary>
    private static int[] FactorizedFullyConnected(ArtifactLayer layer, ArtifactTensor inT, int[] x, ArtifactTensor outT)
    {
        int r = layer.GetInt("rank");
        int[] nonZeros = layer.GetInts("nonzeros"), bits = layer.GetInts("bits"), clamp = layer.GetInts("clamp");
        int[] bias = layer.GetBlob("bias").Values.AsArray(), mult = layer.GetBlob("multiplier").Values.AsArray(), shift = layer.GetBlob("shift").Values.AsArray();
        int[] zMult = layer.GetBlob("zMultiplier").Values.AsArray(), zShift = layer.GetBlob("zShift").Values.AsArray();
        int[] bValues = layer.GetBlob("bValues").Values.AsArray(), aValues = layer.GetBlob("aValues").Values.AsArray();
        int[]? bIndices = layer.HasBlob("bIndices") ? layer.GetBlob("bIndices").Values.AsArray() : null;
        int[]? aIndices = layer.HasBlob("aIndices") ? layer.GetBlob("aIndices").Values.AsArray() : null;
        int m = outT.Shape[^1], k = inT.Shape[^1], rows = x.Length / k;
        int level = ArtifactBuilder.IntermediateLevel;
        var y = new int[rows * m];
        var z = new int[r];
        for (int row = 0; row < rows; row++)
        {
            for (int c = 0; c < r; c++)
            {
                int t = 0;
                for (int s = 0; s < nonZeros[0]; s++)
                {
                    int slot = c * nonZeros[0] + s;
                    int j = bIndices is null ? s : FactorStorage.ReadIndex(bIndices, slot, k);
                    t += FactorStorage.ReadValue(bValues, slot, bits[0]) * (x[row * k + j] - inT.ZeroPoint);
                }
                z[c] = FixedPoint.Requantize(t, zMult[c], zShift[c], 0, -level, level);
            }
            for (int o = 0; o < m; o++)
            {
                int acc = bias[o];
                for (int s = 0; s < nonZeros[1]; s++)
                {
                    int slot = o * nonZeros[1] + s;
                    int c = aIndices is null ? s : FactorStorage.ReadIndex(aIndices, slot, r);
                    acc += FactorStorage.ReadValue(aValues, slot, bits[1]) * z[c];
                }
                y[row * m + o] = FixedPoint.Requantize(acc, mult[o], shift[o], outT.ZeroPoint, clamp[0], clamp[1]);
            }
        }
        return y;
    }
}
