using System.Linq;
using QuantGen.Core.Artifact;

namespace QuantGen.Generator
{
    /// <summary>The weights and requantization constants reordered, packed or converted at build time for the kernel a layer calls.</summary>
    internal sealed partial class ModelPlanner
    {
        /// <summary>
        /// The float32 requantization scales of 8-bit Conv/FullyConnected channels (FixedPoint.Scale of each encoded
        /// multiplier and shift: docs/artifact.md), computed here once so that the kernels multiply by them directly.
        /// </summary>
        private static ArtifactBlob ScaleBlob(string key, ArtifactBlob multiplier, ArtifactBlob shift) =>
            new(key, BlobType.F32, multiplier.Shape, EquatableArray<int>.Empty,
                new(Enumerable.Range(0, multiplier.Values.Count).Select(o => FixedPoint.Scale(multiplier.Values[o], shift.Values[o])).ToArray()));

        /// <summary>
        /// Weights [M, K'] (K' = C/G·KH·KW, or K for FullyConnected) → [G, KP/4, MP, 4]: KP = K' rounded up to 4, MP =
        /// M/G rounded up to 8, zero padded. Element (g, k4, o, j) is w[g·M/G + o, 4·k4 + j]: four consecutive
        /// reduction steps of one output channel are adjacent, as u8 × s8 dot-product instructions (VNNI) read them.
        /// </summary>
        internal static ArtifactBlob PackWeights(ArtifactBlob weights, int group)
        {
            int m = weights.Shape[0], k = weights.Values.Count / m, mg = m / group, kp = (k + 3) & ~3, mp = (mg + 7) & ~7;
            var packed = new int[group * kp * mp];
            for (int g = 0; g < group; g++)
                for (int o = 0; o < mg; o++)
                    for (int i = 0; i < k; i++)
                        packed[((g * (kp / 4) + i / 4) * mp + o) * 4 + i % 4] = weights.Values[(g * mg + o) * k + i];
            return new ArtifactBlob(weights.Key, weights.Type, new EquatableArray<int>(new[] { group, kp / 4, mp, 4 }),
                new EquatableArray<int>(packed), weights.FloatValues);
        }

        /// <summary>
        /// Conv weights [M, C/G, KH, KW] → [M, KH, KW·C/G padded to a multiple of 4]: the reduction order of an NHWC
        /// receptive field, each kernel row a whole number of 4-byte dot-product steps (ConvNhwc copies rows in 4-byte
        /// chunks; the padding's zero weights cancel the extra bytes).
        /// </summary>
        internal static ArtifactBlob ReductionChannelsLast(ArtifactBlob weights, int kh, int kw)
        {
            int m = weights.Shape[0], cg = weights.Values.Count / (m * kh * kw), row = (kw * cg + 3) & ~3;
            var values = new int[m * kh * row];
            for (int o = 0; o < m; o++)
                for (int ci = 0; ci < cg; ci++)
                    for (int ky = 0; ky < kh; ky++)
                        for (int kx = 0; kx < kw; kx++)
                            values[(o * kh + ky) * row + kx * cg + ci] = weights.Values[((o * cg + ci) * kh + ky) * kw + kx];
            return weights with { Shape = new EquatableArray<int>(new[] { m, kh * row }), Values = new EquatableArray<int>(values) };
        }

        /// <summary>Depthwise weights [C, 1, KH, KW] → [KH·KW, C]: one tap's weights for neighbouring channels adjacent.</summary>
        internal static ArtifactBlob TapsByChannel(ArtifactBlob weights)
        {
            int c = weights.Shape[0], taps = weights.Values.Count / c;
            var values = new int[weights.Values.Count];
            for (int ch = 0; ch < c; ch++)
                for (int t = 0; t < taps; t++)
                    values[t * c + ch] = weights.Values[ch * taps + t];
            return weights with { Values = new EquatableArray<int>(values) };
        }

        /// <summary>FullyConnected weights [M, C·H·W] → the same with columns in (H·W, C) order, for a flattened NHWC input.</summary>
        internal static ArtifactBlob FlattenedColumnsChannelsLast(ArtifactBlob weights, int channels, int pixels)
        {
            int m = weights.Shape[0], k = channels * pixels;
            var values = new int[weights.Values.Count];
            for (int o = 0; o < m; o++)
                for (int ch = 0; ch < channels; ch++)
                    for (int p = 0; p < pixels; p++)
                        values[o * k + p * channels + ch] = weights.Values[o * k + ch * pixels + p];
            return weights with { Values = new EquatableArray<int>(values) };
        }
    }
}
