using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization.Factorization;

namespace QuantGen.Core.Quantization;

public sealed partial class IntegerSimulator
{
    /// <summary>
    /// FactorizedFullyConnected (docs/artifact.md), per input row: t_c = Σ B[c, j]·(x_j − zx) over B's stored entries
    /// (exact int32); z_c = Requantize(t_c, zMultiplier[c], zShift[c], 0, −32767, 32767); acc_o = bias[o] + Σ A[o, c]·z_c
    /// over A's stored entries; y_o = Requantize(acc_o, multiplier[o], shift[o], zy, lo, hi), with negMultiplier[o], negShift[o]
    /// when acc_o &lt; 0 and the layer has them (fused LeakyRelu), then min(y_o, clampHigh[o]) when it has clampHigh.
    /// </summary>
    private static int[] FactorizedFullyConnected(ArtifactLayer layer, ArtifactTensor inT, int[] x, ArtifactTensor outT)
    {
        int m = outT.Shape[^1], k = inT.Shape[^1], rows = x.Length / k;
        var stages = new FactorStages(layer, k, m);
        var centred = new int[k];
        var output = new int[m];
        var y = new int[rows * m];
        for (int row = 0; row < rows; row++)
        {
            for (int j = 0; j < k; j++) centred[j] = x[row * k + j] - inT.ZeroPoint;
            stages.Apply(centred, output, outT.ZeroPoint);
            output.CopyTo(y, row * m);
        }
        return y;
    }

    /// <summary>
    /// FactorizedConv (docs/artifact.md): FactorizedFullyConnected's two stages applied at every output position
    /// (n, oh, ow) to that position's im2col column x̃[j], j = (c·KH + kh)·KW + kw, with x̃[j] = x[n, c, oh·SH − top + kh·DH,
    /// ow·SW − left + kw·DW] − zx, and 0 for taps outside the input. Output NCHW.
    /// </summary>
    private static int[] FactorizedConv(ArtifactLayer layer, ArtifactTensor inT, int[] x, ArtifactTensor outT)
    {
        int[] kernel = layer.GetInts("kernel"), strides = layer.GetInts("strides"), pads = layer.GetInts("pads"), dilations = layer.GetInts("dilations");
        int n = inT.Shape[0], channels = inT.Shape[1], h = inT.Shape[2], w = inT.Shape[3];
        int m = outT.Shape[1], oh = outT.Shape[2], ow = outT.Shape[3], k = channels * kernel[0] * kernel[1];
        var column = new int[k];
        var output = new int[m];
        var y = new int[outT.ElementCount];
        var stages = new FactorStages(layer, k, m);
        for (int b = 0; b < n; b++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    for (int c = 0, j = 0; c < channels; c++)
                        for (int ky = 0; ky < kernel[0]; ky++)
                            for (int kx = 0; kx < kernel[1]; kx++, j++)
                            {
                                int iy = oy * strides[0] - pads[0] + ky * dilations[0], ix = ox * strides[1] - pads[1] + kx * dilations[1];
                                column[j] = iy >= 0 && iy < h && ix >= 0 && ix < w ? x[((b * channels + c) * h + iy) * w + ix] - inT.ZeroPoint : 0;
                            }
                    stages.Apply(column, output, outT.ZeroPoint);
                    for (int o = 0; o < m; o++) y[((b * m + o) * oh + oy) * ow + ox] = output[o];
                }
        return y;
    }

    /// <summary>The two stages of a factorized layer on one input vector already minus its zero point (x − zx), K long.</summary>
    private sealed class FactorStages(ArtifactLayer layer, int k, int m)
    {
        private readonly int _rank = layer.GetInt("rank");
        private readonly int[] _nonZeros = layer.GetInts("nonzeros"), _bits = layer.GetInts("bits"), _clamp = layer.GetInts("clamp");
        private readonly int[] _bias = layer.GetBlob("bias").Values.AsArray();
        private readonly float[] _scale = Scales(layer, "multiplier", "shift");
        private readonly float[] _negScale = layer.HasBlob("negMultiplier") ? Scales(layer, "negMultiplier", "negShift") : Scales(layer, "multiplier", "shift");
        private readonly int[]? _high = layer.HasBlob("clampHigh") ? layer.GetBlob("clampHigh").Values.AsArray() : null;
        private readonly float[] _zScale = Scales(layer, "zMultiplier", "zShift");
        private readonly int[] _bValues = layer.GetBlob("bValues").Values.AsArray(), _aValues = layer.GetBlob("aValues").Values.AsArray();
        private readonly int[]? _bIndices = layer.HasBlob("bIndices") ? layer.GetBlob("bIndices").Values.AsArray() : null;
        private readonly int[]? _aIndices = layer.HasBlob("aIndices") ? layer.GetBlob("aIndices").Values.AsArray() : null;

        private readonly int[] _z = new int[layer.GetInt("rank")];

        /// <summary>The float32 scales of a multiplier/shift pair of blobs (FixedPoint.Scale), as 8-bit weighted layers requantize.</summary>
        private static float[] Scales(ArtifactLayer layer, string multiplier, string shift)
        {
            int[] m = layer.GetBlob(multiplier).Values.AsArray(), s = layer.GetBlob(shift).Values.AsArray();
            return m.Select((value, i) => FixedPoint.Scale(value, s[i])).ToArray();
        }

        public void Apply(int[] centred, int[] y, int zeroPoint)
        {
            int level = ArtifactBuilder.IntermediateLevel;
            var z = _z;
            for (int c = 0; c < _rank; c++)
            {
                int t = 0;
                for (int s = 0; s < _nonZeros[0]; s++)
                {
                    int slot = c * _nonZeros[0] + s;
                    int j = _bIndices is null ? s : FactorStorage.ReadIndex(_bIndices, slot, k);
                    t += FactorStorage.ReadValue(_bValues, slot, _bits[0]) * centred[j];
                }
                z[c] = FixedPoint.RequantizeScaled(t, _zScale[c], 0, -level, level);
            }
            for (int o = 0; o < m; o++)
            {
                int acc = _bias[o];
                for (int s = 0; s < _nonZeros[1]; s++)
                {
                    int slot = o * _nonZeros[1] + s;
                    int c = _aIndices is null ? s : FactorStorage.ReadIndex(_aIndices, slot, _rank);
                    acc += FactorStorage.ReadValue(_aValues, slot, _bits[1]) * z[c];
                }
                y[o] = FixedPoint.RequantizeScaled(acc, acc >= 0 ? _scale[o] : _negScale[o], zeroPoint, _clamp[0], _clamp[1]);
                if (_high is not null) y[o] = Math.Min(y[o], _high[o]);
            }
        }
    }
}
