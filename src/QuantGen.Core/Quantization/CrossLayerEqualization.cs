namespace QuantGen.Core.Quantization;

/// <summary>
/// Cross-layer equalization (DFQ, arXiv 1906.04721 §4.1). For each <see cref="LayerPair"/>, output channel i of
/// the first layer is divided by s_i = sqrt(r1_i / r2_i) and the second layer's weights reading it multiplied by
/// s_i, so both end with the range sqrt(r1_i · r2_i); the float function is unchanged because the activation
/// between them commutes with positive scales. Chains (1×1 → depthwise → 1×1) share layers, so the pairs are swept
/// repeatedly until no scale moves by more than 1e-8.
/// ReLU6: a scaled channel clips at 6/s_i, kept as a per-channel upper bound (<see cref="FloatLayer.ChannelClampMax"/>)
/// instead of the paper's ReLU6 → ReLU replacement, so equalization is exact.
/// </summary>
internal static class CrossLayerEqualization
{
    private const int MaxSweeps = 100;
    private const double Tolerance = 1e-8;

    /// <summary>Equalizes every pair in place; returns the number of sweeps done. Folded BN statistics are rescaled with their channels.</summary>
    public static int Apply(IReadOnlyList<LayerPair> pairs, IReadOnlyDictionary<FloatLayer, FoldedBatchNorm> batchNorms)
    {
        for (int sweep = 1; sweep <= MaxSweeps; sweep++)
        {
            double largestChange = 0;
            foreach (var pair in pairs)
                for (int i = 0; i < pair.Channels; i++)
                {
                    float r1 = pair.FirstRange(i), r2 = pair.SecondRange(i);
                    if (r1 <= 0 || r2 <= 0) continue;
                    float s = MathF.Sqrt(r1 / r2);
                    if (!float.IsFinite(s) || s <= 0) continue;
                    largestChange = Math.Max(largestChange, Math.Abs(Math.Log(s)));
                    Scale(pair, i, s, batchNorms.GetValueOrDefault(pair.First));
                }
            if (largestChange < Tolerance) return sweep;
        }
        return MaxSweeps;
    }

    /// <summary>Divides output channel i of the first layer by s and multiplies the second layer's reading weights by s.</summary>
    private static void Scale(LayerPair pair, int i, float s, FoldedBatchNorm? bn)
    {
        var first = pair.First;
        int fanIn = first.FanIn;
        for (int j = 0; j < fanIn; j++) first.Weights![i * fanIn + j] /= s;
        first.Bias![i] /= s;
        if (!float.IsPositiveInfinity(first.ClampMaxOf(i))) first.EditableChannelClampMax()[i] /= s;
        if (bn is not null)
        {
            bn.Beta[i] /= s;
            bn.Gamma[i] /= s;
        }
        foreach (var j in pair.SecondWeights(i)) pair.Second.Weights![j] *= s;
    }
}

/// <summary>
/// High-bias absorption (DFQ §4.1). After equalization a channel may carry a large bias that pushes its whole
/// distribution up, widening the activation grid. Where the first layer of a pair has a folded BatchNormalization
/// and a ReLU-like activation, the part c_i = max(0, β_i − 3|γ_i|) that is (by the BN statistics) almost always
/// present is moved into the next layer: b1_i −= c_i, b2 += W2 · c. Exact for every input whose pre-activation is
/// at least c_i; applied only where the second layer has no zero padding (padding would not carry the constant).
/// </summary>
internal static class HighBiasAbsorption
{
    /// <summary>Absorbs in place; returns how many channels moved a non-zero amount.</summary>
    public static int Apply(IReadOnlyList<LayerPair> pairs, IReadOnlyDictionary<FloatLayer, FoldedBatchNorm> batchNorms)
    {
        int moved = 0;
        foreach (var pair in pairs)
        {
            if (pair.First.ClampMin != 0 || !pair.ShiftIsExact || !batchNorms.TryGetValue(pair.First, out var bn)) continue;
            var first = pair.First;
            var second = pair.Second;
            for (int i = 0; i < pair.Channels; i++)
            {
                float c = MathF.Max(0, bn.Beta[i] - 3 * MathF.Abs(bn.Gamma[i]));
                if (c <= 0) continue;
                first.Bias![i] -= c;
                bn.Beta[i] -= c;
                if (!float.IsPositiveInfinity(first.ClampMaxOf(i))) first.EditableChannelClampMax()[i] -= c;
                // Each weight reading channel i (weights are [M, fan-in]) adds w · c to its output channel's pre-activation.
                foreach (var j in pair.SecondWeights(i)) second.Bias![j / second.FanIn] += second.Weights![j] * c;
                moved++;
            }
        }
        return moved;
    }
}
