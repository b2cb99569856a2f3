using System;
using System.Collections.Generic;
using System.Linq;
using QuantGen.Core.Artifact;

namespace QuantGen.Generator
{
    /// <summary>
    /// The Conv → MaxPool pairs the generated code computes in one kernel (QuantGenKernels.ConvMaxPoolNhwc): a group-1
    /// NHWC convolution whose output is read only by a 2×2, stride-2, unpadded, undilated NHWC MaxPool. The SIMD path
    /// then requantizes once per pooling window instead of four times and never writes the convolution's output.
    /// </summary>
    /// <remarks>
    /// That is exact only because requantization never decreases as the accumulator grows, so the max of four
    /// requantized values is the requantized max of the four accumulators: every multiplier (and negative-slope
    /// multiplier) must be ≥ 0, which is checked here from the layer's data rather than assumed.
    /// </remarks>
    internal sealed class ConvPoolFusion
    {
        private readonly Dictionary<string, ArtifactLayer> _poolByConv;
        private readonly HashSet<string> _fusedPools;

        private ConvPoolFusion(Dictionary<string, ArtifactLayer> poolByConv)
        {
            _poolByConv = poolByConv;
            _fusedPools = new HashSet<string>(poolByConv.Values.Select(p => p.Name), StringComparer.Ordinal);
        }

        /// <summary>The MaxPool fused into this convolution, if any.</summary>
        public ArtifactLayer? PoolAfter(ArtifactLayer conv) => _poolByConv.TryGetValue(conv.Name, out var pool) ? pool : null;

        /// <summary>True when this MaxPool is computed by the convolution before it.</summary>
        public bool IsFused(ArtifactLayer pool) => _fusedPools.Contains(pool.Name);

        public static ConvPoolFusion Find(QuantizedArtifact artifact, ActivationLayout layout)
        {
            var tensors = artifact.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
            var readers = new Dictionary<string, List<ArtifactLayer>>(StringComparer.Ordinal);
            foreach (var layer in artifact.Layers)
                foreach (var input in layer.Inputs)
                {
                    if (!readers.TryGetValue(input, out var list)) readers[input] = list = new List<ArtifactLayer>();
                    list.Add(layer);
                }
            var modelOutputs = new HashSet<string>(artifact.Outputs.Select(o => o.Tensor), StringComparer.Ordinal);
            var pairs = new Dictionary<string, ArtifactLayer>(StringComparer.Ordinal);
            foreach (var conv in artifact.Layers)
            {
                if (conv.Kind != LayerKinds.Conv || conv.GetInt("group") != 1 || !layout.RunsNhwc(conv)) continue;
                var y = conv.Outputs[0];
                if (modelOutputs.Contains(y) || !readers.TryGetValue(y, out var readersOfY) || readersOfY.Count != 1) continue;
                var pool = readersOfY[0];
                if (pool.Kind != LayerKinds.MaxPool || !layout.RunsNhwc(pool) || !IsHalvingWindow(pool)) continue;
                var convShape = tensors[y].Shape;
                var poolShape = tensors[pool.Outputs[0]].Shape;
                if (poolShape[2] != convShape[2] / 2 || poolShape[3] != convShape[3] / 2) continue;
                if (!NonNegative(conv, "multiplier") || !NonNegative(conv, "negMultiplier")) continue;
                pairs[conv.Name] = pool;
            }
            return new ConvPoolFusion(pairs);
        }

        private static bool IsHalvingWindow(ArtifactLayer pool) =>
            pool.GetInts("kernel").SequenceEqual(new[] { 2, 2 }) && pool.GetInts("strides").SequenceEqual(new[] { 2, 2 })
            && pool.GetInts("pads").All(p => p == 0) && pool.GetInts("dilations").All(d => d == 1);

        /// <summary>The blob's values are all ≥ 0 (or the layer has no such blob).</summary>
        private static bool NonNegative(ArtifactLayer layer, string key) =>
            layer.Blobs.FirstOrDefault(b => b.Key == key) is not { } blob || blob.Values.All(v => v >= 0);
    }
}
