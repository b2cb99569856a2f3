using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization.Factorization;

namespace QuantGen.Core.Quantization;

/// <summary>
/// The FactorizedFullyConnected and FactorizedConv layers (docs/artifact.md): factors as packed blobs, the two
/// requantizations. A Conv's B is a k×k conv to r channels (its rows are im2col rows), A the 1×1 conv after it.
/// </summary>
internal sealed partial class ArtifactBuilder
{
    /// <summary>The int16 intermediate z lies in [−IntermediateLevel, IntermediateLevel] (symmetric, narrow).</summary>
    internal const int IntermediateLevel = 32767;

    private void BuildFactorized(FloatLayer layer, FactorizedWeights factors, string comment)
    {
        var inGrid = _grids[layer.Inputs[0]];
        var outGrid = OutputGrid(layer);
        var (a, b) = (factors.A, factors.B);
        int m = a.Rows, r = b.Rows, k = b.Cols;

        // One scale s_z for every rank component keeps A's integer values usable as they are. Its range is the
        // largest |B̂·x| seen on the calibration inputs; without data, the bound Σ|B̂| · max|x| of the input grid.
        double largestInput = inGrid.Scale * Math.Max(inGrid.ZeroPoint - inGrid.QMin, inGrid.QMax - inGrid.ZeroPoint);
        double bound = Enumerable.Range(0, r)
            .Max(row => b.Scales[row] * Enumerable.Range(0, b.NonZerosPerRow).Sum(s => Math.Abs(b.Levels[row * b.NonZerosPerRow + s])) * largestInput);
        double intermediateMax = factors.IntermediateMax ?? bound;
        // Calibration inputs that never excite B say nothing about the range: the data-free bound then (and for an
        // all-zero B, z = 0 on any scale).
        if (!(intermediateMax > 0)) intermediateMax = bound > 0 ? bound : IntermediateLevel;
        double sz = intermediateMax / IntermediateLevel;

        if ((long)b.NonZerosPerRow * 255 * WeightQuantizer.MaxLevel(b.Bits) >= int.MaxValue)
            throw new ModelException(ErrorCodes.NotQuantizable, $"The factorized stage-1 accumulator could overflow ({b.NonZerosPerRow} entries per row).", nodeName: layer.Name);
        var zMultipliers = new int[r];
        var zShifts = new int[r];
        for (int row = 0; row < r; row++)
            (zMultipliers[row], zShifts[row]) = FixedPoint.Encode(inGrid.Scale * (double)b.Scales[row] / sz);

        var bias = new int[m];
        var multipliers = new int[m];
        var shifts = new int[m];
        int level = WeightQuantizer.MaxLevel(a.Bits);
        for (int o = 0; o < m; o++)
        {
            double accScale = a.Scales[o] * sz;
            long q = (long)Math.Round(layer.Bias![o] / accScale, MidpointRounding.ToEven);
            long worst = Math.Abs(q) + (long)a.NonZerosPerRow * IntermediateLevel * level;
            if (worst >= int.MaxValue)
                throw new ModelException(ErrorCodes.NotQuantizable, $"Factorized output {o}'s int32 accumulator could overflow (bias {q}).", nodeName: layer.Name);
            bias[o] = (int)q;
            (multipliers[o], shifts[o]) = FixedPoint.Encode(accScale / outGrid.Scale);
        }

        // Equalized ReLU6 channels clip at their own bound, as in a plain layer: hi is the largest, clampHigh has each.
        // A fused LeakyRelu's negMultiplier/negShift are added by BuildLayer from the multipliers below (acc is the
        // pre-activation on the positive scale sA[o]·sz, so its sign is the pre-activation's, as in a plain layer).
        int[]? channelHigh = layer.ChannelClampMax?.Select(outGrid.Clamp).ToArray();
        var factorInts = new[]
        {
            Ints("rank", r),
            Ints("nonzeros", b.NonZerosPerRow, a.NonZerosPerRow),
            Ints("bits", b.Bits, a.Bits),
            Ints("clamp", outGrid.Clamp(layer.ClampMin), channelHigh?.Max() ?? outGrid.Clamp(layer.ClampMax)),
        };
        bool conv = layer.Kind == LayerKinds.Conv;
        var ints = conv ? WindowInts(layer).Concat(factorInts).ToArray() : factorInts;
        var blobs = new List<ArtifactBlob> { ByteBlob("bValues", FactorStorage.PackValues(b.Levels, b.Bits)) };
        if (!b.IsDense) blobs.Add(ByteBlob("bIndices", FactorStorage.PackIndices(b.Columns, k)));
        blobs.Add(IntBlob("zMultiplier", zMultipliers));
        blobs.Add(IntBlob("zShift", zShifts));
        blobs.Add(ByteBlob("aValues", FactorStorage.PackValues(a.Levels, a.Bits)));
        if (!a.IsDense) blobs.Add(ByteBlob("aIndices", FactorStorage.PackIndices(a.Columns, r)));
        blobs.Add(IntBlob("bias", bias));
        blobs.Add(IntBlob("multiplier", multipliers));
        blobs.Add(IntBlob("shift", shifts));
        if (channelHigh is not null && channelHigh.Any(h => h != channelHigh.Max())) blobs.Add(IntBlob("clampHigh", channelHigh));
        var described = $"{comment}; W [{m}, {k}] as A·B, {factors.Setting.Describe(m, k)}";
        AddLayer(conv ? LayerKinds.FactorizedConv : LayerKinds.FactorizedFullyConnected, layer.Name, layer.Inputs, [layer.Output], ints, [], blobs.ToArray(), described);
        Reports.Add(new LayerReport(layer, outGrid, null));
    }

    private static ArtifactBlob ByteBlob(string key, int[] bytes) =>
        new(key, BlobType.U8, new([bytes.Length]), new(bytes), EquatableArray<float>.Empty);
}
