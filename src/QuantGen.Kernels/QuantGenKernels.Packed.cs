// QuantGen kernels: sub-8-bit weights stored packed (2 or 4 bits per weight), unpacked to int8 once per process for the
// depthwise kernels (the dot-product kernels read them in registers: QuantGenKernels.Weights.cs).
// Emitted into the consumer's assembly by QuantGen.Generator (docs/generator.md, "Packed sub-8-bit weights").
#nullable enable

namespace QuantGen.Generated
{
    internal static partial class QuantGenKernels
    {
        /// <summary>
        /// The <paramref name="count"/> int8 weights of a packed depthwise layer in a new array: the generated class calls
        /// it once, in a static field's initializer (the depthwise kernels read int8 weights; docs/generator.md, "Packed
        /// sub-8-bit weights").
        /// </summary>
        public static sbyte[] UnpackWeights(global::System.ReadOnlySpan<sbyte> packed, int bits, int count) =>
            UnpackWeights(packed, bits, count, new sbyte[(count + 31) & ~31]).ToArray();

        /// <summary>
        /// Unpacks <paramref name="count"/> weights of <paramref name="bits"/> bits (2 or 4, two's complement) into
        /// <paramref name="into"/> and returns its first <paramref name="count"/> values, the int8 weights the layer's
        /// kernel reads, in the order the generator packed them for that kernel (the depthwise kernels, whose [taps, C] rows do
        /// not fall on 32-weight blocks; the Conv/FullyConnected kernels read packed weights as stored, IWeightBlocks). The packed stream is whole blocks of 32
        /// weights (the last one zero padded), <c>4·bits</c> bytes each: weight i of a block is field <c>i / (4·bits)</c>
        /// (from the low bits up) of byte <c>i % (4·bits)</c>. So a block's bytes, masked and shifted, give its weights
        /// 16 (4-bit) or 8 (2-bit) at a time in order: one k-step of 8 output channels × 4 of the packed dot products.
        /// <paramref name="into"/> must hold the whole blocks (count rounded up to 32).
        /// </summary>
        public static global::System.ReadOnlySpan<sbyte> UnpackWeights(global::System.ReadOnlySpan<sbyte> packed, int bits, int count, global::System.Span<sbyte> into)
        {
            int blocks = (count + 31) >> 5, blockBytes = 4 * bits;
            if ((bits != 2 && bits != 4) || count < 0 || packed.Length < blocks * blockBytes || into.Length < 32 * blocks) throw Outside();
#if QUANTGEN_INTRINSICS
            if (SimdEnabled && global::System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated)
            {
                if (bits == 4) UnpackNibbles(packed, into, blocks);
                else UnpackCrumbs(packed, into, blocks);
                return into.Slice(0, count);
            }
#endif
            int mask = (1 << bits) - 1, half = 1 << (bits - 1);
            for (int b = 0; b < blocks; b++)
            {
                var block = packed.Slice(b * blockBytes, blockBytes);
                var target = into.Slice(32 * b, 32);
                for (int i = 0; i < 32; i++)
                {
                    int field = (block[i % blockBytes] >> (i / blockBytes * bits)) & mask;
                    target[i] = (sbyte)((field ^ half) - half);
                }
            }
            return into.Slice(0, count);
        }

#if QUANTGEN_INTRINSICS
        /// <summary>
        /// 4-bit blocks (16 bytes → 32 weights) with 128-bit vectors (SSE2/AVX on x86, AdvSimd on Arm): the low nibbles
        /// are weights 0-15, the high nibbles 16-31, each sign-extended as (v ^ 8) − 8.
        /// </summary>
        private static void UnpackNibbles(global::System.ReadOnlySpan<sbyte> packed, global::System.Span<sbyte> into, int blocks)
        {
            ref byte source = ref global::System.Runtime.CompilerServices.Unsafe.As<sbyte, byte>(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(packed));
            ref byte target = ref global::System.Runtime.CompilerServices.Unsafe.As<sbyte, byte>(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(into));
            var mask = global::System.Runtime.Intrinsics.Vector128.Create((byte)0x0F);
            var sign = global::System.Runtime.Intrinsics.Vector128.Create((byte)8);
            for (int b = 0; b < blocks; b++)
            {
                var v = global::System.Runtime.Intrinsics.Vector128.LoadUnsafe(ref source, (nuint)(16 * b));
                var low = v & mask;
                var high = global::System.Runtime.Intrinsics.Vector128.ShiftRightLogical(v, 4) & mask;
                global::System.Runtime.Intrinsics.Vector128.StoreUnsafe((low ^ sign) - sign, ref target, (nuint)(32 * b));
                global::System.Runtime.Intrinsics.Vector128.StoreUnsafe((high ^ sign) - sign, ref target, (nuint)(32 * b + 16));
            }
        }

        /// <summary>
        /// 2-bit blocks (8 bytes → 32 weights): the block as one 64-bit value u, the vector (u, u &gt;&gt; 2) masked to 2
        /// bits per byte gives weights 0-15 and (u &gt;&gt; 4, u &gt;&gt; 6) weights 16-31 (bits shifted in from the next
        /// byte fall outside the mask), each sign-extended as (v ^ 2) − 2.
        /// </summary>
        private static void UnpackCrumbs(global::System.ReadOnlySpan<sbyte> packed, global::System.Span<sbyte> into, int blocks)
        {
            ref byte source = ref global::System.Runtime.CompilerServices.Unsafe.As<sbyte, byte>(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(packed));
            ref byte target = ref global::System.Runtime.CompilerServices.Unsafe.As<sbyte, byte>(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(into));
            var mask = global::System.Runtime.Intrinsics.Vector128.Create((byte)0x03);
            var sign = global::System.Runtime.Intrinsics.Vector128.Create((byte)2);
            for (int b = 0; b < blocks; b++)
            {
                ulong u = global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<ulong>(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref source, 8 * b));
                var first = global::System.Runtime.Intrinsics.Vector128.AsByte(global::System.Runtime.Intrinsics.Vector128.Create(u, u >> 2)) & mask;
                var second = global::System.Runtime.Intrinsics.Vector128.AsByte(global::System.Runtime.Intrinsics.Vector128.Create(u >> 4, u >> 6)) & mask;
                global::System.Runtime.Intrinsics.Vector128.StoreUnsafe((first ^ sign) - sign, ref target, (nuint)(32 * b));
                global::System.Runtime.Intrinsics.Vector128.StoreUnsafe((second ^ sign) - sign, ref target, (nuint)(32 * b + 16));
            }
        }
#endif
    }
}
