// QuantGen kernels: the padded-plane row kernels (ConvRowsAvx2, ConvRowsAvxVnni) over packed 4- or 2-bit weights: each
// channel block's weights unpacked once per call for all its positions, or read in registers at every k-step.
// Emitted into the consumer's assembly by QuantGen.Generator (docs/generator.md, "Packed sub-8-bit weights").
#nullable enable

namespace QuantGen.Generated
{
    internal static partial class QuantGenKernels
    {
        /// <summary>
        /// The most stack (bytes) the row kernels take to unpack one channel block's packed weights (every k-step of 16
        /// output channels on AVX2, up to 32 with AVX-VNNI) once per call, for all the block's positions; a layer whose
        /// blocks need more reads its packed weights in registers at every k-step (IWeightBlocks), which unpacks each
        /// weight vector again for every four positions. 0: always in registers (the tests use it to run both forms).
        /// </summary>
        public static int UnpackedBlockBytes { get; set; } = 16384;

#if QUANTGEN_INTRINSICS
        /// <summary>
        /// The weights of output channels o..o+width (width a multiple of 8) of every k-step of a row kernel's stored
        /// weights ([steps, m, 4], packed in TWeights' blocks of 8 channels × 4) into <paramref name="into"/> as
        /// [steps, width, 4], one byte each: the layout of the same kernels over int8 weights with m = width and o = 0.
        /// </summary>
        private static void UnpackChannels<TWeights>(global::System.ReadOnlySpan<sbyte> w, global::System.Span<sbyte> into, int steps, int o, int width, int m)
            where TWeights : struct, IWeightBlocks
        {
            if (steps < 1 || w.Length < WeightBytes<TWeights>(4 * ((steps - 1) * m + o + width)) || into.Length < 4 * steps * width)
                throw new global::System.ArgumentException("The buffers do not hold the tensors.");
            ref sbyte source = ref Skip<TWeights>(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w), 4 * o);
            ref sbyte target = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(into);
            for (int s = 0; s < steps; s++, source = ref Skip<TWeights>(ref source, 4 * m))
                for (int j = 0; j < width; j += 8)
                    global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(default(TWeights).Load256(ref Skip<TWeights>(ref source, 4 * j)), ref target, (nuint)(4 * (s * width + j)));
        }

        /// <summary>
        /// One channel block of ConvRowsAvx2 (o..o+16, or the last 8), its weights the 8-channel blocks from weight
        /// 4·<paramref name="wo"/> on, 4·<paramref name="wm"/> weights per k-step (the stored weights: wo = o, wm = m;
        /// a block unpacked by UnpackChannels: 0 and its width).
        /// </summary>
        private static void ConvBlockAvx2<TDot, TWeights>(global::System.ReadOnlySpan<byte> source, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high, global::System.Span<byte> output,
            FieldCursor fields, bool pointwise, bool pooled, int positions, int c, int o, int m, int wo, int wm, int zy, int lo, int hi)
            where TDot : struct, IDotStep
            where TWeights : struct, IWeightBlocks
        {
            var q0 = new Requantization8(scale, negScale, high, hi, o, zy, lo);
            if (o + 16 > m)
            {
                ConvChannels8Avx2<TDot, TWeights>(source, w, bias, q0, output, fields, pooled, o, m, wo, wm);
                return;
            }
            var q1 = new Requantization8(scale, negScale, high, hi, o + 8, zy, lo);
            if (pointwise) PointwiseChannels16Avx2<TDot, TWeights>(source, w, bias, q0, q1, output, positions, c, o, m, wo, wm);
            else ConvChannels16Avx2<TDot, TWeights>(source, w, bias, q0, q1, output, fields, pooled, o, m, wo, wm);
        }

        /// <summary>
        /// One channel block of ConvRowsAvxVnni, <paramref name="width"/> channels from o (32 or 24: two pointwise blocks
        /// in one pass; 16; 8), its weights addressed as in ConvBlockAvx2 (wo, wm).
        /// </summary>
        private static void ConvBlockAvxVnni<TWeights>(global::System.ReadOnlySpan<byte> source, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high, global::System.Span<byte> output,
            FieldCursor fields, bool pointwise, bool pooled, int positions, int c, int o, int m, int wo, int wm, int width, int zy, int lo, int hi)
            where TWeights : struct, IWeightBlocks
        {
            if (width == 32)
                PointwiseChannels32AvxVnni<TWeights>(source, w, bias, new Requantization16(scale, negScale, high, hi, o, zy, lo),
                    new Requantization16(scale, negScale, high, hi, o + 16, zy, lo), output, positions, c, o, m, wo, wm);
            else if (width == 24)
                PointwiseChannels24AvxVnni<TWeights>(source, w, bias, new Requantization16(scale, negScale, high, hi, o, zy, lo),
                    new Requantization8(scale, negScale, high, hi, o + 16, zy, lo), output, positions, c, o, m, wo, wm);
            else if (width == 16 && pointwise)
                PointwiseChannels16AvxVnni<TWeights>(source, w, bias, new Requantization16(scale, negScale, high, hi, o, zy, lo), output, positions, c, o, m, wo, wm);
            else if (width == 16)
                ConvChannels16AvxVnni<TWeights>(source, w, bias, new Requantization16(scale, negScale, high, hi, o, zy, lo), output, fields, pooled, o, m, wo, wm);
            else
                ConvChannels8AvxVnni<TWeights>(source, w, bias, new Requantization8(scale, negScale, high, hi, o, zy, lo), output, fields, pooled, o, m, wo, wm);
        }
#endif
    }
}
