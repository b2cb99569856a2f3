// QuantGen kernels: the packed u8 × s8 dot products every Conv and FullyConnected layer reduces to.
// Emitted into the consumer's assembly by QuantGen.Generator (docs/generator.md, "Kernels").
#nullable enable

namespace QuantGen.Generated
{
    internal static partial class QuantGenKernels
    {
        /// <summary>
        /// acc[o] = Σ_k col[k] · w[k/4, o, k%4] for o &lt; mp, the weights packed [kp/4, mp, 4]: u8 activations times s8
        /// weights, exact in int32 (the quantizer bounds K · 255 · 127), so every path gives the same accumulators.
        /// </summary>
        private static void DotPacked<TWeights>(global::System.ReadOnlySpan<byte> col, global::System.ReadOnlySpan<sbyte> w, global::System.Span<int> acc, int kp, int mp) where TWeights : struct, IWeightBlocks
        {
#if QUANTGEN_INTRINSICS
            if (SimdEnabled && VnniEnabled && global::System.Runtime.Intrinsics.X86.AvxVnni.IsSupported)
            {
                DotPackedAvxVnni<TWeights>(col, w, acc, kp, mp);
                return;
            }
            if (SimdEnabled && global::System.Runtime.Intrinsics.X86.Avx512BW.IsSupported)
            {
                DotPackedAvx512<TWeights>(col, w, acc, kp, mp);
                return;
            }
            if (SimdEnabled && global::System.Runtime.Intrinsics.X86.Avx2.IsSupported)
            {
                DotPackedAvx2<TWeights>(col, w, acc, kp, mp);
                return;
            }
            if (SimdEnabled && global::System.Runtime.Intrinsics.Arm.Dp.IsSupported)
            {
                DotPackedArmDp<TWeights>(col, w, acc, kp, mp);
                return;
            }
#endif
            acc.Slice(0, mp).Clear();
            for (int k4 = 0; k4 < kp; k4 += 4)
            {
                int x0 = col[k4], x1 = col[k4 + 1], x2 = col[k4 + 2], x3 = col[k4 + 3];
                for (int o = 0, i = k4 * mp; o < mp; o++, i += 4)
                    acc[o] += x0 * default(TWeights).Get(w, i) + x1 * default(TWeights).Get(w, i + 1) + x2 * default(TWeights).Get(w, i + 2) + x3 * default(TWeights).Get(w, i + 3);
            }
        }

        /// <summary>
        /// DotPacked for four receptive fields against the same packed weights: acc[j·mp + o] for field j. The SIMD path
        /// loads each weight vector once for the four fields; the scalar path is four DotPacked calls.
        /// </summary>
        private static void DotPacked4<TWeights>(global::System.ReadOnlySpan<byte> x0, global::System.ReadOnlySpan<byte> x1, global::System.ReadOnlySpan<byte> x2,
            global::System.ReadOnlySpan<byte> x3, global::System.ReadOnlySpan<sbyte> w, global::System.Span<int> acc, int kp, int mp) where TWeights : struct, IWeightBlocks
        {
#if QUANTGEN_INTRINSICS
            if (SimdEnabled && VnniEnabled && global::System.Runtime.Intrinsics.X86.AvxVnni.IsSupported)
            {
                DotPacked4AvxVnni<TWeights>(x0, x1, x2, x3, w, acc, kp, mp);
                return;
            }
            if (SimdEnabled && global::System.Runtime.Intrinsics.X86.Avx2.IsSupported)
            {
                DotPacked4Avx2<TWeights>(x0, x1, x2, x3, w, acc, kp, mp);
                return;
            }
#endif
            DotPacked<TWeights>(x0, w, acc.Slice(0, mp), kp, mp);
            DotPacked<TWeights>(x1, w, acc.Slice(mp, mp), kp, mp);
            DotPacked<TWeights>(x2, w, acc.Slice(2 * mp, mp), kp, mp);
            DotPacked<TWeights>(x3, w, acc.Slice(3 * mp, mp), kp, mp);
        }

#if QUANTGEN_INTRINSICS
        /// <summary>
        /// DotPacked with AVX-VNNI (vpdpbusd: four u8 × s8 products summed into each int32 lane): the four activation
        /// bytes of a k-step are broadcast to every lane, each lane holds one output channel. Blocks of 32 channels keep
        /// four independent accumulators in registers, then blocks of 8.
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private static void DotPackedAvxVnni<TWeights>(global::System.ReadOnlySpan<byte> col, global::System.ReadOnlySpan<sbyte> w, global::System.Span<int> acc, int kp, int mp) where TWeights : struct, IWeightBlocks
        {
            ref byte x = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(col);
            ref sbyte weights = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w);
            ref int result = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(acc);
            int o = 0;
            for (; o + 32 <= mp; o += 32)
            {
                var a0 = global::System.Runtime.Intrinsics.Vector256<int>.Zero;
                var a1 = a0;
                var a2 = a0;
                var a3 = a0;
                ref sbyte block = ref Skip<TWeights>(ref weights, 4 * o);
                for (int k4 = 0; k4 < kp; k4 += 4)
                {
                    var xv = global::System.Runtime.Intrinsics.Vector256.AsByte(global::System.Runtime.Intrinsics.Vector256.Create(
                        global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<int>(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref x, k4))));
                    ref sbyte row = ref Skip<TWeights>(ref block, k4 * mp);
                    a0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a0, xv, default(TWeights).Load256(ref row));
                    a1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a1, xv, default(TWeights).Load256(ref Skip<TWeights>(ref row, 32)));
                    a2 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a2, xv, default(TWeights).Load256(ref Skip<TWeights>(ref row, 64)));
                    a3 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a3, xv, default(TWeights).Load256(ref Skip<TWeights>(ref row, 96)));
                }
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a0, ref result, (nuint)o);
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a1, ref result, (nuint)(o + 8));
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a2, ref result, (nuint)(o + 16));
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a3, ref result, (nuint)(o + 24));
            }
            // Small M (a classifier's last layer: few channels, long K): independent chains over alternate k-steps, or a
            // chain would wait on vpdpbusd's latency every step.
            for (; o + 16 <= mp; o += 16)
            {
                var a0 = global::System.Runtime.Intrinsics.Vector256<int>.Zero;
                var a1 = a0; var a2 = a0; var a3 = a0;
                ref sbyte block = ref Skip<TWeights>(ref weights, 4 * o);
                int k4 = 0;
                for (; k4 + 8 <= kp; k4 += 8)
                {
                    ref sbyte row = ref Skip<TWeights>(ref block, k4 * mp);
                    ref sbyte next = ref Skip<TWeights>(ref block, (k4 + 4) * mp);
                    var x0 = Broadcast4(ref x, k4);
                    var x1 = Broadcast4(ref x, k4 + 4);
                    a0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a0, x0, default(TWeights).Load256(ref row));
                    a1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a1, x0, default(TWeights).Load256(ref Skip<TWeights>(ref row, 32)));
                    a2 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a2, x1, default(TWeights).Load256(ref next));
                    a3 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a3, x1, default(TWeights).Load256(ref Skip<TWeights>(ref next, 32)));
                }
                if (k4 < kp)
                {
                    ref sbyte row = ref Skip<TWeights>(ref block, k4 * mp);
                    var x0 = Broadcast4(ref x, k4);
                    a0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a0, x0, default(TWeights).Load256(ref row));
                    a1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a1, x0, default(TWeights).Load256(ref Skip<TWeights>(ref row, 32)));
                }
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a0 + a2, ref result, (nuint)o);
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a1 + a3, ref result, (nuint)(o + 8));
            }
            if (o < mp)
            {
                var a0 = global::System.Runtime.Intrinsics.Vector256<int>.Zero;
                var a1 = a0; var a2 = a0; var a3 = a0;
                ref sbyte block = ref Skip<TWeights>(ref weights, 4 * o);
                int k4 = 0;
                for (; k4 + 16 <= kp; k4 += 16)
                {
                    a0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a0, Broadcast4(ref x, k4),
                        default(TWeights).Load256(ref Skip<TWeights>(ref block, k4 * mp)));
                    a1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a1, Broadcast4(ref x, k4 + 4),
                        default(TWeights).Load256(ref Skip<TWeights>(ref block, (k4 + 4) * mp)));
                    a2 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a2, Broadcast4(ref x, k4 + 8),
                        default(TWeights).Load256(ref Skip<TWeights>(ref block, (k4 + 8) * mp)));
                    a3 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a3, Broadcast4(ref x, k4 + 12),
                        default(TWeights).Load256(ref Skip<TWeights>(ref block, (k4 + 12) * mp)));
                }
                for (; k4 < kp; k4 += 4)
                    a0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a0, Broadcast4(ref x, k4),
                        default(TWeights).Load256(ref Skip<TWeights>(ref block, k4 * mp)));
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe((a0 + a1) + (a2 + a3), ref result, (nuint)o);
            }
        }

        /// <summary>
        /// DotPacked4 with AVX-VNNI: per k-step, two weight vectors (16 output channels) are loaded once and multiplied
        /// against the broadcast activation bytes of four receptive fields: eight accumulators in registers (VEX encoding
        /// has 16), then a last block of 8 channels.
        /// </summary>
        private static void DotPacked4AvxVnni<TWeights>(global::System.ReadOnlySpan<byte> x0, global::System.ReadOnlySpan<byte> x1, global::System.ReadOnlySpan<byte> x2,
            global::System.ReadOnlySpan<byte> x3, global::System.ReadOnlySpan<sbyte> w, global::System.Span<int> acc, int kp, int mp) where TWeights : struct, IWeightBlocks
        {
            ref byte r0 = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(x0);
            ref byte r1 = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(x1);
            ref byte r2 = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(x2);
            ref byte r3 = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(x3);
            ref sbyte weights = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w);
            ref int result = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(acc);
            int o = 0;
            for (; o + 16 <= mp; o += 16)
            {
                var a00 = global::System.Runtime.Intrinsics.Vector256<int>.Zero;
                var a01 = a00; var a10 = a00; var a11 = a00; var a20 = a00; var a21 = a00; var a30 = a00; var a31 = a00;
                ref sbyte block = ref Skip<TWeights>(ref weights, 4 * o);
                for (int k4 = 0; k4 < kp; k4 += 4)
                {
                    ref sbyte row = ref Skip<TWeights>(ref block, k4 * mp);
                    var w0 = default(TWeights).Load256(ref row);
                    var w1 = default(TWeights).Load256(ref Skip<TWeights>(ref row, 32));
                    var v = Broadcast4(ref r0, k4);
                    a00 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a00, v, w0);
                    a01 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a01, v, w1);
                    v = Broadcast4(ref r1, k4);
                    a10 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a10, v, w0);
                    a11 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a11, v, w1);
                    v = Broadcast4(ref r2, k4);
                    a20 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a20, v, w0);
                    a21 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a21, v, w1);
                    v = Broadcast4(ref r3, k4);
                    a30 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a30, v, w0);
                    a31 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a31, v, w1);
                }
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a00, ref result, (nuint)o);
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a01, ref result, (nuint)(o + 8));
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a10, ref result, (nuint)(mp + o));
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a11, ref result, (nuint)(mp + o + 8));
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a20, ref result, (nuint)(2 * mp + o));
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a21, ref result, (nuint)(2 * mp + o + 8));
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a30, ref result, (nuint)(3 * mp + o));
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a31, ref result, (nuint)(3 * mp + o + 8));
            }
            if (o < mp)
            {
                var a0 = global::System.Runtime.Intrinsics.Vector256<int>.Zero;
                var a1 = a0; var a2 = a0; var a3 = a0;
                ref sbyte block = ref Skip<TWeights>(ref weights, 4 * o);
                for (int k4 = 0; k4 < kp; k4 += 4)
                {
                    var w0 = default(TWeights).Load256(ref Skip<TWeights>(ref block, k4 * mp));
                    a0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a0, Broadcast4(ref r0, k4), w0);
                    a1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a1, Broadcast4(ref r1, k4), w0);
                    a2 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a2, Broadcast4(ref r2, k4), w0);
                    a3 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a3, Broadcast4(ref r3, k4), w0);
                }
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a0, ref result, (nuint)o);
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a1, ref result, (nuint)(mp + o));
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a2, ref result, (nuint)(2 * mp + o));
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a3, ref result, (nuint)(3 * mp + o));
            }
        }

        /// <summary>The four activation bytes at x[k4..k4+4] in every 32-bit lane.</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static global::System.Runtime.Intrinsics.Vector256<byte> Broadcast4(ref byte x, int k4) =>
            global::System.Runtime.Intrinsics.Vector256.AsByte(global::System.Runtime.Intrinsics.Vector256.Create(
                global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<int>(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref x, k4))));

        /// <summary>
        /// DotPacked with the Arm dot-product instructions (System.Runtime.Intrinsics.Arm.Dp, Armv8.2+: udot, four u8 × u8 products summed into
        /// each uint32 lane). Arm has no u8 × s8 form without the i8mm extension, so the weights are read as w + 128
        /// (their sign bit flipped, an unsigned byte) and 128 · Σx taken off at the end: Σ x·(w + 128) − 128·Σ x = Σ x·w.
        /// Every step is an addition modulo 2^32, so the result is exact whenever the true sum fits in int32 (the
        /// quantizer bounds it), even where the intermediate sums wrap. Σx is one udot per k-step against a vector of ones.
        /// </summary>
        private static void DotPackedArmDp<TWeights>(global::System.ReadOnlySpan<byte> col, global::System.ReadOnlySpan<sbyte> w, global::System.Span<int> acc, int kp, int mp) where TWeights : struct, IWeightBlocks
        {
            ref byte x = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(col);
            ref sbyte weights = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w);
            ref int result = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(acc);
            var flip = global::System.Runtime.Intrinsics.Vector128.Create((byte)0x80);
            var sum = global::System.Runtime.Intrinsics.Vector128<uint>.Zero;
            for (int k4 = 0; k4 < kp; k4 += 4)
                sum = global::System.Runtime.Intrinsics.Arm.Dp.DotProduct(sum, Quadruplet(ref x, k4), global::System.Runtime.Intrinsics.Vector128.Create((byte)1));
            var correction = global::System.Runtime.Intrinsics.Vector128.ShiftLeft(sum, 7);
            int o = 0;
            // Blocks of 32 channels: eight independent accumulators, so that consecutive udots do not wait on each
            // other's results (with the two of an 8-channel block, each k-step waited on the previous one's latency).
            for (; o + 32 <= mp; o += 32)
            {
                var a0 = global::System.Runtime.Intrinsics.Vector128<uint>.Zero;
                var a1 = a0; var a2 = a0; var a3 = a0; var a4 = a0; var a5 = a0; var a6 = a0; var a7 = a0;
                ref sbyte row = ref Skip<TWeights>(ref weights, 4 * o);
                for (int k4 = 0; k4 < kp; k4 += 4, row = ref Skip<TWeights>(ref row, 4 * mp))
                {
                    var xv = Quadruplet(ref x, k4);
                    DotGroupArmDp<TWeights>(ref row, xv, flip, ref a0, ref a1);
                    DotGroupArmDp<TWeights>(ref Skip<TWeights>(ref row, 32), xv, flip, ref a2, ref a3);
                    DotGroupArmDp<TWeights>(ref Skip<TWeights>(ref row, 64), xv, flip, ref a4, ref a5);
                    DotGroupArmDp<TWeights>(ref Skip<TWeights>(ref row, 96), xv, flip, ref a6, ref a7);
                }
                global::System.Runtime.Intrinsics.Vector128.StoreUnsafe(global::System.Runtime.Intrinsics.Vector128.AsInt32(a0 - correction), ref result, (nuint)o);
                global::System.Runtime.Intrinsics.Vector128.StoreUnsafe(global::System.Runtime.Intrinsics.Vector128.AsInt32(a1 - correction), ref result, (nuint)(o + 4));
                global::System.Runtime.Intrinsics.Vector128.StoreUnsafe(global::System.Runtime.Intrinsics.Vector128.AsInt32(a2 - correction), ref result, (nuint)(o + 8));
                global::System.Runtime.Intrinsics.Vector128.StoreUnsafe(global::System.Runtime.Intrinsics.Vector128.AsInt32(a3 - correction), ref result, (nuint)(o + 12));
                global::System.Runtime.Intrinsics.Vector128.StoreUnsafe(global::System.Runtime.Intrinsics.Vector128.AsInt32(a4 - correction), ref result, (nuint)(o + 16));
                global::System.Runtime.Intrinsics.Vector128.StoreUnsafe(global::System.Runtime.Intrinsics.Vector128.AsInt32(a5 - correction), ref result, (nuint)(o + 20));
                global::System.Runtime.Intrinsics.Vector128.StoreUnsafe(global::System.Runtime.Intrinsics.Vector128.AsInt32(a6 - correction), ref result, (nuint)(o + 24));
                global::System.Runtime.Intrinsics.Vector128.StoreUnsafe(global::System.Runtime.Intrinsics.Vector128.AsInt32(a7 - correction), ref result, (nuint)(o + 28));
            }
            for (; o < mp; o += 8)
            {
                var a0 = global::System.Runtime.Intrinsics.Vector128<uint>.Zero;
                var a1 = a0;
                ref sbyte row = ref Skip<TWeights>(ref weights, 4 * o);
                for (int k4 = 0; k4 < kp; k4 += 4, row = ref Skip<TWeights>(ref row, 4 * mp))
                    DotGroupArmDp<TWeights>(ref row, Quadruplet(ref x, k4), flip, ref a0, ref a1);
                global::System.Runtime.Intrinsics.Vector128.StoreUnsafe(global::System.Runtime.Intrinsics.Vector128.AsInt32(a0 - correction), ref result, (nuint)o);
                global::System.Runtime.Intrinsics.Vector128.StoreUnsafe(global::System.Runtime.Intrinsics.Vector128.AsInt32(a1 - correction), ref result, (nuint)(o + 4));
            }
        }

        /// <summary>One k-step of an 8-channel group of DotPackedArmDp: its two halves' weights, sign bits flipped, udot into the group's sums (channels 0-3, 4-7).</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static void DotGroupArmDp<TWeights>(ref sbyte row, global::System.Runtime.Intrinsics.Vector128<byte> xv, global::System.Runtime.Intrinsics.Vector128<byte> flip,
            ref global::System.Runtime.Intrinsics.Vector128<uint> low, ref global::System.Runtime.Intrinsics.Vector128<uint> high) where TWeights : struct, IWeightBlocks
        {
            low = global::System.Runtime.Intrinsics.Arm.Dp.DotProduct(low, xv, global::System.Runtime.Intrinsics.Vector128.AsByte(default(TWeights).LoadLow(ref row)) ^ flip);
            high = global::System.Runtime.Intrinsics.Arm.Dp.DotProduct(high, xv, global::System.Runtime.Intrinsics.Vector128.AsByte(default(TWeights).LoadHigh(ref row)) ^ flip);
        }

        /// <summary>The four activation bytes at x[k4..k4+4] in every 32-bit lane of a 128-bit vector.</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static global::System.Runtime.Intrinsics.Vector128<byte> Quadruplet(ref byte x, int k4) =>
            global::System.Runtime.Intrinsics.Vector128.AsByte(global::System.Runtime.Intrinsics.Vector128.Create(
                global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<uint>(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref x, k4))));

        /// <summary>
        /// DotPacked4 for x86 without VNNI (AVX2): DotPackedAvx2's exact vpmaddwd steps, each k-step's weights sign-extended
        /// once for the four receptive fields (eight accumulators in registers), per block of 8 channels.
        /// </summary>
        private static void DotPacked4Avx2<TWeights>(global::System.ReadOnlySpan<byte> x0, global::System.ReadOnlySpan<byte> x1, global::System.ReadOnlySpan<byte> x2,
            global::System.ReadOnlySpan<byte> x3, global::System.ReadOnlySpan<sbyte> w, global::System.Span<int> acc, int kp, int mp) where TWeights : struct, IWeightBlocks
        {
            ref byte r0 = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(x0);
            ref byte r1 = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(x1);
            ref byte r2 = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(x2);
            ref byte r3 = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(x3);
            ref sbyte weights = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w);
            ref int result = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(acc);
            for (int o = 0; o < mp; o += 8)
            {
                var l0 = global::System.Runtime.Intrinsics.Vector256<int>.Zero;
                var h0 = l0; var l1 = l0; var h1 = l0; var l2 = l0; var h2 = l0; var l3 = l0; var h3 = l0;
                ref sbyte block = ref Skip<TWeights>(ref weights, 4 * o);
                for (int k4 = 0; k4 < kp; k4 += 4)
                {
                    ref sbyte row = ref Skip<TWeights>(ref block, k4 * mp);
                    var wl = global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int16(default(TWeights).LoadLow(ref row));
                    var wh = global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int16(default(TWeights).LoadHigh(ref row));
                    var v = Widened4(ref r0, k4);
                    l0 += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(wl, v);
                    h0 += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(wh, v);
                    v = Widened4(ref r1, k4);
                    l1 += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(wl, v);
                    h1 += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(wh, v);
                    v = Widened4(ref r2, k4);
                    l2 += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(wl, v);
                    h2 += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(wh, v);
                    v = Widened4(ref r3, k4);
                    l3 += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(wl, v);
                    h3 += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(wh, v);
                }
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(ChannelSums(l0, h0), ref result, (nuint)o);
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(ChannelSums(l1, h1), ref result, (nuint)(mp + o));
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(ChannelSums(l2, h2), ref result, (nuint)(2 * mp + o));
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(ChannelSums(l3, h3), ref result, (nuint)(3 * mp + o));
            }
        }

        /// <summary>The four activation bytes at x[k4..k4+4], zero-extended to int16 and repeated in every 64-bit lane.</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static global::System.Runtime.Intrinsics.Vector256<short> Widened4(ref byte x, int k4) =>
            global::System.Runtime.Intrinsics.Vector256.AsInt16(global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int16(
                global::System.Runtime.Intrinsics.Vector128.AsByte(global::System.Runtime.Intrinsics.Vector128.Create(
                    global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<int>(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref x, k4))))));

        /// <summary>
        /// The 8 channels' sums from DotPackedAvx2's two accumulators (channels 0-3 and 4-7, two int32 per channel): per
        /// 128-bit lane vphaddd gives [c0 c1 c4 c5] and [c2 c3 c6 c7]; 64-bit lanes 0, 2, 1, 3 restore the order.
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static global::System.Runtime.Intrinsics.Vector256<int> ChannelSums(global::System.Runtime.Intrinsics.Vector256<int> low, global::System.Runtime.Intrinsics.Vector256<int> high) =>
            global::System.Runtime.Intrinsics.Vector256.AsInt32(global::System.Runtime.Intrinsics.X86.Avx2.Permute4x64(
                global::System.Runtime.Intrinsics.Vector256.AsInt64(global::System.Runtime.Intrinsics.X86.Avx2.HorizontalAdd(low, high)), 0b11_01_10_00));

        /// <summary>
        /// DotPacked for x86 without VNNI (AVX2): the activation bytes zero-extended and the weights sign-extended to
        /// int16, then vpmaddwd (pairs of int16 products summed into int32, exact: |2 · 255 · 128| is far inside int16 ×
        /// int16 → int32), never vpmaddubsw, whose int16 pair sums saturate. A k-step's 32 weight bytes are 8 channels × 4:
        /// the low 16 (channels 0-3) and the high 16 (channels 4-7) each give two int32 per channel, summed pairwise once
        /// at the end (vphaddd, then the 64-bit lanes put back in channel order). Blocks of 32 channels first, as
        /// DotPackedAvx512 does: the activation quadruplet is widened once per k-step for four 8-channel groups (eight
        /// accumulators), where block by block of 8 it was widened four times (the MLP's 784 → 256 layer at the AVX2
        /// level of a Zen 4: 6.45 → 3.85 µs; docs/benchmarks.md); then blocks of 8.
        /// </summary>
        private static void DotPackedAvx2<TWeights>(global::System.ReadOnlySpan<byte> col, global::System.ReadOnlySpan<sbyte> w, global::System.Span<int> acc, int kp, int mp) where TWeights : struct, IWeightBlocks
        {
            if (col.Length < kp || w.Length < WeightBytes<TWeights>(kp * mp) || acc.Length < mp || (mp & 7) != 0)
                throw new global::System.ArgumentException("The buffers do not hold the tensors.");
            ref byte x = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(col);
            ref sbyte weights = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w);
            ref int result = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(acc);
            int o = 0;
            for (; o + 32 <= mp; o += 32)
            {
                var l0 = global::System.Runtime.Intrinsics.Vector256<int>.Zero;
                var h0 = l0; var l1 = l0; var h1 = l0; var l2 = l0; var h2 = l0; var l3 = l0; var h3 = l0;
                ref sbyte row = ref Skip<TWeights>(ref weights, 4 * o);
                for (int k4 = 0; k4 < kp; k4 += 4, row = ref Skip<TWeights>(ref row, 4 * mp))
                {
                    var xv = Widened4(ref x, k4);
                    MultiplyAddGroup<TWeights>(ref row, xv, ref l0, ref h0);
                    MultiplyAddGroup<TWeights>(ref Skip<TWeights>(ref row, 32), xv, ref l1, ref h1);
                    MultiplyAddGroup<TWeights>(ref Skip<TWeights>(ref row, 64), xv, ref l2, ref h2);
                    MultiplyAddGroup<TWeights>(ref Skip<TWeights>(ref row, 96), xv, ref l3, ref h3);
                }
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(ChannelSums(l0, h0), ref result, (nuint)o);
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(ChannelSums(l1, h1), ref result, (nuint)(o + 8));
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(ChannelSums(l2, h2), ref result, (nuint)(o + 16));
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(ChannelSums(l3, h3), ref result, (nuint)(o + 24));
            }
            for (; o < mp; o += 8)
            {
                var low = global::System.Runtime.Intrinsics.Vector256<int>.Zero;
                var high = low;
                ref sbyte row = ref Skip<TWeights>(ref weights, 4 * o);
                for (int k4 = 0; k4 < kp; k4 += 4, row = ref Skip<TWeights>(ref row, 4 * mp))
                    MultiplyAddGroup<TWeights>(ref row, Widened4(ref x, k4), ref low, ref high);
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(ChannelSums(low, high), ref result, (nuint)o);
            }
        }

        /// <summary>One k-step of an 8-channel group of DotPackedAvx2: its 32 weights sign-extended in two halves, two vpmaddwd into the group's sums.</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static void MultiplyAddGroup<TWeights>(ref sbyte row, global::System.Runtime.Intrinsics.Vector256<short> xv,
            ref global::System.Runtime.Intrinsics.Vector256<int> low, ref global::System.Runtime.Intrinsics.Vector256<int> high) where TWeights : struct, IWeightBlocks
        {
            low += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int16(default(TWeights).LoadLow(ref row)), xv);
            high += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int16(default(TWeights).LoadHigh(ref row)), xv);
        }
#endif
    }
}
