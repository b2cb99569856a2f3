namespace QuantGen.Core.Quantization;

/// <summary>A linear Resize layer (LayerGraphBuilder.Resize.cs): per output row and column, two input indices and the weight of the second.</summary>
internal sealed partial class FloatLayer
{
    /// <summary>Bits of the per-axis fixed-point weights: a weight w is round(w · 2^11), so a 2-D tap product is on 2^22 and a sum of four u8 taps fits int32.</summary>
    public const int ResizeWeightBits = 11;

    /// <summary>Per output row: (lo, hi, weight of hi on 2^<see cref="ResizeWeightBits"/>), three ints each.</summary>
    public int[]? ResizeRows { get; set; }

    /// <summary>Per output column: (lo, hi, weight of hi on 2^<see cref="ResizeWeightBits"/>), three ints each.</summary>
    public int[]? ResizeColumns { get; set; }

    /// <summary>The operator's own (float) weights of hi, per output row and column, for the float model's pass.</summary>
    public float[]? ResizeRowFractions { get; set; }

    public float[]? ResizeColumnFractions { get; set; }

    /// <summary>The float layer on its input [planes, H, W]: each output the bilinear combination with the operator's weights.</summary>
    public float[] Resized(float[] x, int inH, int inW)
    {
        int[] rows = ResizeRows!, columns = ResizeColumns!;
        int outH = rows.Length / 3, outW = columns.Length / 3, planes = x.Length / (inH * inW);
        var y = new float[planes * outH * outW];
        for (int p = 0; p < planes; p++)
            for (int oh = 0; oh < outH; oh++)
            {
                double wr = ResizeRowFractions![oh];
                int r0 = (p * inH + rows[3 * oh]) * inW, r1 = (p * inH + rows[3 * oh + 1]) * inW;
                for (int ow = 0; ow < outW; ow++)
                {
                    double wc = ResizeColumnFractions![ow];
                    int c0 = columns[3 * ow], c1 = columns[3 * ow + 1];
                    double top = (1 - wc) * x[r0 + c0] + wc * x[r0 + c1], bottom = (1 - wc) * x[r1 + c0] + wc * x[r1 + c1];
                    y[(p * outH + oh) * outW + ow] = (float)((1 - wr) * top + wr * bottom);
                }
            }
        return y;
    }
}
