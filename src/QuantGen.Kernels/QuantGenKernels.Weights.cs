// QuantGen kernels: how the dot-product kernels read their weights, one byte each or packed 4 or 2 bits each, unpacked in
// registers (docs/generator.md, "Packed sub-8-bit weights").
// Emitted into the consumer's assembly by QuantGen.Generator (docs/generator.md, "Kernels").
#nullable enable

namespace QuantGen.Generated
{
    internal static partial class QuantGenKernels
    {
        /// <summary>
        /// The stored form of a layer's weights, a struct type argument of the dot-product kernels (as IDotStep), so the
        /// JIT compiles each kernel once per form with the loads inlined: Int8Weights (one byte per weight), NibbleWeights
        /// (4 bits), CrumbWeights (2 bits). The weights are in the kernel's order ([KP/4, MP, 4] for the packed dot
        /// products); a packed form stores them in blocks of 32 weights, 4·bits bytes each, weight i of a block in field
        /// i / (4·bits) (from the low bits up) of byte i % (4·bits). A block is one k-step of 8 output channels × 4, so a
        /// kernel's 32-byte weight vector is one block, unpacked with a shift and a mask per field.
        /// </summary>
        internal interface IWeightBlocks
        {
            /// <summary>log2(8 / bits): a count of weights shifted right by it is their bytes (whole blocks).</summary>
            int Shift { get; }

            /// <summary>Weight <paramref name="i"/> of the stream (the scalar loops).</summary>
            int Get(global::System.ReadOnlySpan<sbyte> w, int i);
#if QUANTGEN_INTRINSICS

            /// <summary>The 32 weights of the block that starts at <paramref name="block"/>.</summary>
            global::System.Runtime.Intrinsics.Vector256<sbyte> Load256(ref sbyte block);

            /// <summary>Weights 0-15 of the block that starts at <paramref name="block"/>.</summary>
            global::System.Runtime.Intrinsics.Vector128<sbyte> LoadLow(ref sbyte block);

            /// <summary>Weights 16-31 of the block that starts at <paramref name="block"/>.</summary>
            global::System.Runtime.Intrinsics.Vector128<sbyte> LoadHigh(ref sbyte block);
#endif
        }

        /// <summary>One byte per weight: the loads are plain loads.</summary>
        internal readonly struct Int8Weights : IWeightBlocks
        {
            public int Shift => 0;

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public int Get(global::System.ReadOnlySpan<sbyte> w, int i) => w[i];
#if QUANTGEN_INTRINSICS

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public global::System.Runtime.Intrinsics.Vector256<sbyte> Load256(ref sbyte block) => global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref block);

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public global::System.Runtime.Intrinsics.Vector128<sbyte> LoadLow(ref sbyte block) => global::System.Runtime.Intrinsics.Vector128.LoadUnsafe(ref block);

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public global::System.Runtime.Intrinsics.Vector128<sbyte> LoadHigh(ref sbyte block) => global::System.Runtime.Intrinsics.Vector128.LoadUnsafe(ref block, 16);
#endif
        }

        /// <summary>
        /// 4 bits per weight, 16 bytes per block: byte j holds weight j in its low nibble and weight j + 16 in its high
        /// one, each sign-extended as (v ^ 8) − 8.
        /// </summary>
        internal readonly struct NibbleWeights : IWeightBlocks
        {
            public int Shift => 1;

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public int Get(global::System.ReadOnlySpan<sbyte> w, int i) => (((w[((i >> 5) << 4) + (i & 15)] >> ((i & 16) >> 2)) & 15) ^ 8) - 8;
#if QUANTGEN_INTRINSICS

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public global::System.Runtime.Intrinsics.Vector256<sbyte> Load256(ref sbyte block)
            {
                var v = global::System.Runtime.Intrinsics.Vector128.LoadUnsafe(ref global::System.Runtime.CompilerServices.Unsafe.As<sbyte, byte>(ref block));
                var both = global::System.Runtime.Intrinsics.Vector256.Create(v, global::System.Runtime.Intrinsics.Vector128.ShiftRightLogical(v, 4));
                return global::System.Runtime.Intrinsics.Vector256.AsSByte(((both & global::System.Runtime.Intrinsics.Vector256.Create((byte)0x0F)) ^ global::System.Runtime.Intrinsics.Vector256.Create((byte)8))
                    - global::System.Runtime.Intrinsics.Vector256.Create((byte)8));
            }

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public global::System.Runtime.Intrinsics.Vector128<sbyte> LoadLow(ref sbyte block) =>
                Nibbles(global::System.Runtime.Intrinsics.Vector128.LoadUnsafe(ref global::System.Runtime.CompilerServices.Unsafe.As<sbyte, byte>(ref block)));

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public global::System.Runtime.Intrinsics.Vector128<sbyte> LoadHigh(ref sbyte block) =>
                Nibbles(global::System.Runtime.Intrinsics.Vector128.ShiftRightLogical(
                    global::System.Runtime.Intrinsics.Vector128.LoadUnsafe(ref global::System.Runtime.CompilerServices.Unsafe.As<sbyte, byte>(ref block)), 4));

            /// <summary>The low nibble of each byte, sign-extended.</summary>
            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            private static global::System.Runtime.Intrinsics.Vector128<sbyte> Nibbles(global::System.Runtime.Intrinsics.Vector128<byte> v) =>
                global::System.Runtime.Intrinsics.Vector128.AsSByte(((v & global::System.Runtime.Intrinsics.Vector128.Create((byte)0x0F)) ^ global::System.Runtime.Intrinsics.Vector128.Create((byte)8))
                    - global::System.Runtime.Intrinsics.Vector128.Create((byte)8));
#endif
        }

        /// <summary>
        /// 2 bits per weight, 8 bytes per block: byte j holds weights j, j + 8, j + 16, j + 24 from the low bits up. The
        /// block as one 64-bit value u: (u, u &gt;&gt; 2, u &gt;&gt; 4, u &gt;&gt; 6) masked to 2 bits per byte is the
        /// 32 weights in order (bits shifted in from the next byte fall outside the mask), sign-extended as (v ^ 2) − 2.
        /// </summary>
        internal readonly struct CrumbWeights : IWeightBlocks
        {
            public int Shift => 2;

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public int Get(global::System.ReadOnlySpan<sbyte> w, int i) => (((w[((i >> 5) << 3) + (i & 7)] >> (((i >> 3) & 3) << 1)) & 3) ^ 2) - 2;
#if QUANTGEN_INTRINSICS

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public global::System.Runtime.Intrinsics.Vector256<sbyte> Load256(ref sbyte block)
            {
                ulong u = global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<ulong>(ref global::System.Runtime.CompilerServices.Unsafe.As<sbyte, byte>(ref block));
                global::System.Runtime.Intrinsics.Vector256<byte> fields;
                if (global::System.Runtime.Intrinsics.X86.Avx2.IsSupported)
                    fields = global::System.Runtime.Intrinsics.Vector256.AsByte(global::System.Runtime.Intrinsics.X86.Avx2.ShiftRightLogicalVariable(
                        global::System.Runtime.Intrinsics.Vector256.Create(u), global::System.Runtime.Intrinsics.Vector256.Create(0UL, 2UL, 4UL, 6UL)));
                else
                    fields = global::System.Runtime.Intrinsics.Vector256.AsByte(global::System.Runtime.Intrinsics.Vector256.Create(u, u >> 2, u >> 4, u >> 6));
                return global::System.Runtime.Intrinsics.Vector256.AsSByte(((fields & global::System.Runtime.Intrinsics.Vector256.Create((byte)3)) ^ global::System.Runtime.Intrinsics.Vector256.Create((byte)2))
                    - global::System.Runtime.Intrinsics.Vector256.Create((byte)2));
            }

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public global::System.Runtime.Intrinsics.Vector128<sbyte> LoadLow(ref sbyte block)
            {
                ulong u = global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<ulong>(ref global::System.Runtime.CompilerServices.Unsafe.As<sbyte, byte>(ref block));
                return Crumbs(global::System.Runtime.Intrinsics.Vector128.Create(u, u >> 2));
            }

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public global::System.Runtime.Intrinsics.Vector128<sbyte> LoadHigh(ref sbyte block)
            {
                ulong u = global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<ulong>(ref global::System.Runtime.CompilerServices.Unsafe.As<sbyte, byte>(ref block));
                return Crumbs(global::System.Runtime.Intrinsics.Vector128.Create(u >> 4, u >> 6));
            }

            /// <summary>The low 2 bits of each byte, sign-extended.</summary>
            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            private static global::System.Runtime.Intrinsics.Vector128<sbyte> Crumbs(global::System.Runtime.Intrinsics.Vector128<ulong> v) =>
                global::System.Runtime.Intrinsics.Vector128.AsSByte(((global::System.Runtime.Intrinsics.Vector128.AsByte(v) & global::System.Runtime.Intrinsics.Vector128.Create((byte)3))
                    ^ global::System.Runtime.Intrinsics.Vector128.Create((byte)2)) - global::System.Runtime.Intrinsics.Vector128.Create((byte)2));
#endif
        }

        /// <summary>The bytes that hold <paramref name="count"/> weights (a whole number of blocks, or any count at 8 bits).</summary>
        private static int WeightBytes<TWeights>(int count) where TWeights : struct, IWeightBlocks => count >> default(TWeights).Shift;

        /// <summary>
        /// The stored weights from weight <paramref name="start"/> on, <paramref name="count"/> of them (both whole blocks
        /// when packed: a group's or a channel block's weights).
        /// </summary>
        private static global::System.ReadOnlySpan<sbyte> WeightSlice<TWeights>(global::System.ReadOnlySpan<sbyte> w, int start, int count) where TWeights : struct, IWeightBlocks =>
            w.Slice(start >> default(TWeights).Shift, count >> default(TWeights).Shift);
#if QUANTGEN_INTRINSICS

        /// <summary>The stored position of the weight <paramref name="weights"/> weights after <paramref name="at"/> (a block start).</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static ref sbyte Skip<TWeights>(ref sbyte at, int weights) where TWeights : struct, IWeightBlocks =>
            ref global::System.Runtime.CompilerServices.Unsafe.Add(ref at, weights >> default(TWeights).Shift);
#endif
    }
}
