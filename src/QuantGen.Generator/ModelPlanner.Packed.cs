using System.Linq;
using QuantGen.Core.Artifact;

namespace QuantGen.Generator
{
    /// <summary>
    /// Sub-8-bit weights stored packed (docs/generator.md, "Packed sub-8-bit weights"): each plain Conv, depthwise Conv and
    /// FullyConnected layer of an 8-bit model gets the storage width its own int8 weights need — 2 bits when they all lie
    /// in [−2, 1] (the W2 grid ±1), 4 bits in [−8, 7] (the W4 grid ±7 and the W3 grid ±3), else one byte — so any mix of
    /// per-layer bit-widths (uniform WeightBits or mixed precision) is stored at the width of its integers.
    /// </summary>
    internal sealed partial class ModelPlanner
    {
        /// <summary>
        /// The bits a layer's weights are stored in: 2, 4 or 8, the narrowest two's-complement width holding every value.
        /// 3-bit weights (±3) are stored as 4-bit: a 3-bit field would straddle bytes, so the kernels' loads could not
        /// take a k-step's weights from whole bytes with one shift and mask, for a quarter fewer bytes than 4-bit.
        /// </summary>
        internal static int StorageBits(ArtifactBlob weights)
        {
            if (weights.Type != BlobType.I8 || weights.Values.Count == 0) return 8;
            int min = weights.Values.Min(), max = weights.Values.Max();
            return min >= -2 && max <= 1 ? 2 : min >= -8 && max <= 7 ? 4 : 8;
        }

        /// <summary>
        /// int8 weights, in the order the kernel reads them, packed <paramref name="bits"/> to a byte (QuantGenKernels.IWeightBlocks, UnpackWeights):
        /// blocks of 32 weights (the last zero padded) of 4·bits bytes; weight i of a block is field i / (4·bits) of byte
        /// i % (4·bits). The blob's values are the packed bytes (as sbyte), its shape [count] the weights they hold.
        /// </summary>
        internal static ArtifactBlob PackBits(ArtifactBlob weights, int bits)
        {
            int count = weights.Values.Count, blocks = (count + 31) / 32, blockBytes = 4 * bits, mask = (1 << bits) - 1;
            var bytes = new int[blocks * blockBytes];
            for (int i = 0; i < count; i++)
            {
                int b = i / 32, j = i % 32;
                bytes[b * blockBytes + j % blockBytes] |= (weights.Values[i] & mask) << (j / blockBytes * bits);
            }
            return new ArtifactBlob("packed" + CSharpLiterals.Int(bits), BlobType.I8, new EquatableArray<int>(new[] { count }),
                new EquatableArray<int>(bytes.Select(v => (int)unchecked((sbyte)v)).ToArray()), EquatableArray<float>.Empty);
        }

        /// <summary>
        /// The weights argument of a Conv/FullyConnected kernel (already reordered for it): the blob as stored, or, for
        /// an 8-bit model whose layer fits 2 or 4 bits, the packed blob: read as stored by a kernel that unpacks in
        /// registers (<paramref name="inRegisters"/>: the packed dot products of ConvNhwc, ConvMaxPoolNhwc, ConvPacked and
        /// FullyConnectedPacked), else unpacked once, when the class is first used, into a static int8 array (the
        /// depthwise kernels, whose [taps, C] rows do not fall on 32-weight blocks; their weights are taps · C bytes, and
        /// every depthwise path prepares a channel block's weights once for all its positions, so reading them packed
        /// would save no time: docs/generator.md, "Packed sub-8-bit weights").
        /// </summary>
        private ArgumentValue WeightsValue(string method, ArtifactBlob weights, bool inRegisters)
        {
            int bits = Wide ? 8 : StorageBits(weights);
            if (bits == 8) return new DataValue(DataName(method, "Weights", weights), DataView.Elements);
            int count = weights.Values.Count;
            var member = DataName(method, "Weights", PackBits(weights, bits));
            if (inRegisters) return new PackedWeightsValue(member, bits);
            return Derived(method + "Unpacked", "sbyte", Call(KernelLibrary.Kernels, "UnpackWeights",
                Line(Pos(new DataValue(member, DataView.Elements)), Named("bits", bits), Named("count", count))));
        }

        /// <summary>The call with the stored form of its packed weights (the kernel's type argument), if it reads them as stored.</summary>
        private static KernelCall ReadingPacked(KernelCall call)
        {
            foreach (var line in call.Lines)
                foreach (var argument in line.Arguments)
                    if (argument.Value is PackedWeightsValue packed) return call with { WeightBits = packed.Bits };
            return call;
        }
    }
}
