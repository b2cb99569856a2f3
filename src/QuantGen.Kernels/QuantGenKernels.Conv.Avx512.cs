// QuantGen kernels: the exact u8 × s8 convolution block and fully connected row of x86 CPUs with AVX-512BW and without
// VNNI (Skylake-SP to Ice Lake servers, Zen 4 as .NET 10 sees it: it exposes no 512-bit VNNI): ConvRowsAvx2's plane and
// field cursor, the k-steps as int16 vpmaddwd in 512-bit vectors (docs/generator.md, "Without VNNI").
// Emitted into the consumer's assembly by QuantGen.Generator (docs/generator.md, "Kernels").
#nullable enable

namespace QuantGen.Generated
{
    internal static partial class QuantGenKernels
    {

#if QUANTGEN_INTRINSICS
        /// <summary>
        /// One channel block of ConvRowsAvx2 (o..o+16, or the last 8) with AVX-512BW: each k-step's 32 weights of 8
        /// channels are sign-extended to int16 (vpmovsxbw), each position's four activations, read from the int16 copy
        /// of the plane (WidenBytes), broadcast as one 64-bit lane, and one vpmaddwd sums two products per int32 lane:
        /// lane 2j holds channel j's k0·x0 + k1·x1, lane 2j + 1 its k2·x2 + k3·x3, added once per position block
        /// (vpermt2d). Exact for every weight, −128 included (|x·w| ≤ 255 · 128 in int16 operands, a pair's sum in
        /// int32), so no form is chosen and no weight scanned; 32 MACs per vpmaddwd and vpaddd pair against the 32 per
        /// four instructions of AVX2's SignSplit.
        /// Weights as in ConvBlockAvx2 (wo, wm); pooled as there (ChannelBlock512.Store).
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private static void ConvBlockAvx512<TWeights>(global::System.ReadOnlySpan<short> source, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high, global::System.Span<byte> y,
            FieldCursor fields, bool pooled, int o, int m, int wo, int wm, int zy, int lo, int hi)
            where TWeights : struct, IWeightBlocks
        {
            var channels = new ChannelBlock512(bias, scale, negScale, high, o, m, zy, lo, hi);
            bool wide = channels.Wide;
            ref short plane = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(source);
            ref sbyte weights = ref Skip<TWeights>(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w), 4 * wo);
            int kh = fields.Kh, row = fields.Row, runStride = fields.RunStride, step = 4 * wm;
            for (int block = 0; block < fields.Blocks; block++)
            {
                int count = fields.Take(out int f0, out int f1, out int f2, out int f3);
                ref short r0 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref plane, f0);
                ref short r1 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref plane, f1);
                ref short r2 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref plane, f2);
                ref short r3 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref plane, f3);
                // a<position><half>: half 0 holds channels 0-7 (two lanes each), half 1 channels 8-15 (unused for 8).
                var a00 = global::System.Runtime.Intrinsics.Vector512<int>.Zero; var a01 = a00; var a10 = a00; var a11 = a00;
                var a20 = a00; var a21 = a00; var a30 = a00; var a31 = a00;
                ref sbyte packed = ref weights;
                for (int ky = 0; ky < kh; ky++)
                for (int k4 = ky * runStride, end = k4 + row; k4 < end; k4 += 4)
                {
                    var w0 = Widen(default(TWeights).Load256(ref packed));
                    if (wide)
                    {
                        var w1 = Widen(default(TWeights).Load256(ref Skip<TWeights>(ref packed, 32)));
                        var v = WidenedQuadruplet(ref r0, k4);
                        a00 = MultiplyAdd(a00, v, w0); a01 = MultiplyAdd(a01, v, w1);
                        v = WidenedQuadruplet(ref r1, k4);
                        a10 = MultiplyAdd(a10, v, w0); a11 = MultiplyAdd(a11, v, w1);
                        v = WidenedQuadruplet(ref r2, k4);
                        a20 = MultiplyAdd(a20, v, w0); a21 = MultiplyAdd(a21, v, w1);
                        v = WidenedQuadruplet(ref r3, k4);
                        a30 = MultiplyAdd(a30, v, w0); a31 = MultiplyAdd(a31, v, w1);
                    }
                    else
                    {
                        a00 = MultiplyAdd(a00, WidenedQuadruplet(ref r0, k4), w0);
                        a10 = MultiplyAdd(a10, WidenedQuadruplet(ref r1, k4), w0);
                        a20 = MultiplyAdd(a20, WidenedQuadruplet(ref r2, k4), w0);
                        a30 = MultiplyAdd(a30, WidenedQuadruplet(ref r3, k4), w0);
                    }
                    packed = ref Skip<TWeights>(ref packed, step);
                }
                channels.Store(y, pooled, block, count, m, o, channels.Start + PairSums(a00, a01), channels.Start + PairSums(a10, a11),
                    channels.Start + PairSums(a20, a21), channels.Start + PairSums(a30, a31));
            }
        }

        /// <summary>
        /// ConvBlockAvx512 for weights whose pairs cannot saturate vpmaddubsw (DotForm's PairsFit: every pair |w1| + |w2|
        /// ≤ 128, so 255 · (|w1| + |w2|) fits int16; packed 4- and 2-bit weights always): per k-step the 16 channels' 64
        /// weights in one register, each position's quadruplet broadcast as bytes, vpmaddubsw then vpmaddwd against ones:
        /// 64 MACs per three instructions, each lane one channel (no pair sums at the end).
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private static void ConvPairsBlockAvx512<TWeights>(global::System.ReadOnlySpan<byte> source, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high, global::System.Span<byte> y,
            FieldCursor fields, bool pooled, int o, int m, int wo, int wm, int zy, int lo, int hi)
            where TWeights : struct, IWeightBlocks
        {
            var channels = new ChannelBlock512(bias, scale, negScale, high, o, m, zy, lo, hi);
            bool wide = channels.Wide;
            var ones = global::System.Runtime.Intrinsics.Vector512.Create((short)1);
            ref byte plane = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(source);
            ref sbyte weights = ref Skip<TWeights>(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w), 4 * wo);
            int kh = fields.Kh, row = fields.Row, runStride = fields.RunStride, step = 4 * wm;
            for (int block = 0; block < fields.Blocks; block++)
            {
                int count = fields.Take(out int f0, out int f1, out int f2, out int f3);
                ref byte r0 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref plane, f0);
                ref byte r1 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref plane, f1);
                ref byte r2 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref plane, f2);
                ref byte r3 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref plane, f3);
                var a0 = channels.Start; var a1 = a0; var a2 = a0; var a3 = a0;
                ref sbyte packed = ref weights;
                for (int ky = 0; ky < kh; ky++)
                for (int k4 = ky * runStride, end = k4 + row; k4 < end; k4 += 4)
                {
                    // Not wide: the upper 8 channels' weights are zero, their lanes stay at 0.
                    var low = default(TWeights).Load256(ref packed);
                    var wv = wide
                        ? global::System.Runtime.Intrinsics.Vector512.Create(low, default(TWeights).Load256(ref Skip<TWeights>(ref packed, 32)))
                        : global::System.Runtime.Intrinsics.Vector256.ToVector512(low);
                    packed = ref Skip<TWeights>(ref packed, step);
                    a0 += global::System.Runtime.Intrinsics.X86.Avx512BW.MultiplyAddAdjacent(global::System.Runtime.Intrinsics.X86.Avx512BW.MultiplyAddAdjacent(Quadruplet512(ref r0, k4), wv), ones);
                    a1 += global::System.Runtime.Intrinsics.X86.Avx512BW.MultiplyAddAdjacent(global::System.Runtime.Intrinsics.X86.Avx512BW.MultiplyAddAdjacent(Quadruplet512(ref r1, k4), wv), ones);
                    a2 += global::System.Runtime.Intrinsics.X86.Avx512BW.MultiplyAddAdjacent(global::System.Runtime.Intrinsics.X86.Avx512BW.MultiplyAddAdjacent(Quadruplet512(ref r2, k4), wv), ones);
                    a3 += global::System.Runtime.Intrinsics.X86.Avx512BW.MultiplyAddAdjacent(global::System.Runtime.Intrinsics.X86.Avx512BW.MultiplyAddAdjacent(Quadruplet512(ref r3, k4), wv), ones);
                }
                channels.Store(y, pooled, block, count, m, o, a0, a1, a2, a3);
            }
        }

        /// <summary>The four activation bytes at x[k4..k4+4] in every 32-bit lane of a 512-bit vector.</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static global::System.Runtime.Intrinsics.Vector512<byte> Quadruplet512(ref byte x, int k4) =>
            global::System.Runtime.Intrinsics.Vector512.AsByte(global::System.Runtime.Intrinsics.Vector512.Create(
                global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<int>(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref x, k4))));

        /// <summary>
        /// DotPacked (a fully connected row) with AVX-512BW and without VNNI: ConvBlockAvx512's int16 vpmaddwd steps, the
        /// activation quadruplet widened once per k-step for 32 channels (four accumulators, 128 MACs per four vpmaddwd),
        /// then blocks of 16 and 8.
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private static void DotPackedAvx512<TWeights>(global::System.ReadOnlySpan<byte> col, global::System.ReadOnlySpan<sbyte> w, global::System.Span<int> acc, int kp, int mp) where TWeights : struct, IWeightBlocks
        {
            if (col.Length < kp || w.Length < WeightBytes<TWeights>(kp * mp) || acc.Length < mp || (mp & 7) != 0)
                throw new global::System.ArgumentException("The buffers do not hold the tensors.");
            ref byte x = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(col);
            ref sbyte weights = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w);
            ref int result = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(acc);
            int o = 0;
            for (; o + 32 <= mp; o += 32)
            {
                var a0 = global::System.Runtime.Intrinsics.Vector512<int>.Zero; var a1 = a0; var a2 = a0; var a3 = a0;
                ref sbyte row = ref Skip<TWeights>(ref weights, 4 * o);
                for (int k4 = 0; k4 < kp; k4 += 4, row = ref Skip<TWeights>(ref row, 4 * mp))
                {
                    var v = WidenedQuadruplet(ref x, k4);
                    a0 = MultiplyAdd(a0, v, Widen(default(TWeights).Load256(ref row)));
                    a1 = MultiplyAdd(a1, v, Widen(default(TWeights).Load256(ref Skip<TWeights>(ref row, 32))));
                    a2 = MultiplyAdd(a2, v, Widen(default(TWeights).Load256(ref Skip<TWeights>(ref row, 64))));
                    a3 = MultiplyAdd(a3, v, Widen(default(TWeights).Load256(ref Skip<TWeights>(ref row, 96))));
                }
                global::System.Runtime.Intrinsics.Vector512.StoreUnsafe(PairSums(a0, a1), ref result, (nuint)o);
                global::System.Runtime.Intrinsics.Vector512.StoreUnsafe(PairSums(a2, a3), ref result, (nuint)(o + 16));
            }
            for (; o < mp; o += 16)
            {
                bool wide = o + 16 <= mp;
                var a0 = global::System.Runtime.Intrinsics.Vector512<int>.Zero; var a1 = a0;
                ref sbyte row = ref Skip<TWeights>(ref weights, 4 * o);
                for (int k4 = 0; k4 < kp; k4 += 4, row = ref Skip<TWeights>(ref row, 4 * mp))
                {
                    var v = WidenedQuadruplet(ref x, k4);
                    a0 = MultiplyAdd(a0, v, Widen(default(TWeights).Load256(ref row)));
                    if (wide) a1 = MultiplyAdd(a1, v, Widen(default(TWeights).Load256(ref Skip<TWeights>(ref row, 32))));
                }
                var sums = PairSums(a0, a1);
                if (wide) global::System.Runtime.Intrinsics.Vector512.StoreUnsafe(sums, ref result, (nuint)o);
                else global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(global::System.Runtime.Intrinsics.Vector512.GetLower(sums), ref result, (nuint)o);
            }
        }

        /// <summary>
        /// The output channels of one 512-bit conv block, o..o+16 (Wide) or the last 8: their bias in the lanes the sums
        /// start from, their requantization constants (16 lanes, or 8) and the block's stores.
        /// </summary>
        private readonly struct ChannelBlock512
        {
            public readonly bool Wide;
            public readonly global::System.Runtime.Intrinsics.Vector512<int> Start;
            private readonly Requantization16 _q16;
            private readonly Requantization8 _q8;

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public ChannelBlock512(global::System.ReadOnlySpan<int> bias, global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale,
                global::System.ReadOnlySpan<int> high, int o, int m, int zy, int lo, int hi)
            {
                Wide = o + 16 <= m;
                _q16 = Wide ? new Requantization16(scale, negScale, high, hi, o, zy, lo) : default;
                _q8 = Wide ? default : new Requantization8(scale, negScale, high, hi, o, zy, lo);
                Start = Wide
                    ? global::System.Runtime.Intrinsics.Vector512.Create(bias.Slice(o, 16))
                    : global::System.Runtime.Intrinsics.Vector256.ToVector512(global::System.Runtime.Intrinsics.Vector256.Create(bias.Slice(o, 8)));
            }

            /// <summary>
            /// A block's four positions' channel sums (bias included) requantized into y; pooled, the block is a 2×2
            /// window and its largest sums are requantized once (requantization is monotonic: non-negative scales).
            /// </summary>
            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public void Store(global::System.Span<byte> y, bool pooled, int block, int count, int m, int o,
                global::System.Runtime.Intrinsics.Vector512<int> s0, global::System.Runtime.Intrinsics.Vector512<int> s1,
                global::System.Runtime.Intrinsics.Vector512<int> s2, global::System.Runtime.Intrinsics.Vector512<int> s3)
            {
                if (pooled)
                {
                    Store(y, block * m + o, global::System.Runtime.Intrinsics.Vector512.Max(global::System.Runtime.Intrinsics.Vector512.Max(s0, s1),
                        global::System.Runtime.Intrinsics.Vector512.Max(s2, s3)));
                    return;
                }
                int at = 4 * block * m + o;
                Store(y, at, s0);
                if (count > 1) Store(y, at + m, s1);
                if (count > 2) Store(y, at + 2 * m, s2);
                if (count > 3) Store(y, at + 3 * m, s3);
            }

            /// <summary>The 16 (or, not wide, the low 8) channels' sums requantized into y[at..]; Winograd tiles store each position here.</summary>
            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public void Store(global::System.Span<byte> y, int at, global::System.Runtime.Intrinsics.Vector512<int> sums)
            {
                if (Wide) _q16.Store(y, at, sums);
                else _q8.Store(y, at, global::System.Runtime.Intrinsics.Vector512.GetLower(sums));
            }
        }

        /// <summary>32 weights (8 channels × 4 k) sign-extended to int16.</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static global::System.Runtime.Intrinsics.Vector512<short> Widen(global::System.Runtime.Intrinsics.Vector256<sbyte> weights) =>
            global::System.Runtime.Intrinsics.X86.Avx512BW.ConvertToVector512Int16(weights);

        /// <summary>The four int16 activations at x[k4..k4+4] in every 64-bit lane (one vpbroadcastq from memory).</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static global::System.Runtime.Intrinsics.Vector512<short> WidenedQuadruplet(ref short x, int k4) =>
            global::System.Runtime.Intrinsics.Vector512.AsInt16(global::System.Runtime.Intrinsics.Vector512.Create(
                global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<long>(ref global::System.Runtime.CompilerServices.Unsafe.As<short, byte>(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref x, k4)))));

        /// <summary>x[k4..k4+4] zero-extended to four int16 in every 64-bit lane (vpmovzxbw, vpbroadcastq): DotPackedAvx512's, once per k-step for 32 channels.</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static global::System.Runtime.Intrinsics.Vector512<short> WidenedQuadruplet(ref byte x, int k4) =>
            global::System.Runtime.Intrinsics.Vector512.AsInt16(global::System.Runtime.Intrinsics.X86.Avx512F.BroadcastScalarToVector512(
                global::System.Runtime.Intrinsics.Vector128.AsUInt64(global::System.Runtime.Intrinsics.X86.Sse41.ConvertToVector128Int16(
                    global::System.Runtime.Intrinsics.Vector128.AsByte(global::System.Runtime.Intrinsics.Vector128.CreateScalarUnsafe(
                        global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<int>(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref x, k4))))))));

        /// <summary>Zero-extends <paramref name="source"/> into <paramref name="target"/> (vpmovzxbw, 32 bytes a step).</summary>
        private static void WidenBytes(global::System.ReadOnlySpan<byte> source, global::System.Span<short> target)
        {
            if (target.Length < source.Length) throw new global::System.ArgumentException("The buffers do not hold the tensors.");
            ref byte from = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(source);
            ref short to = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(target);
            int i = 0;
            for (; i + 32 <= source.Length; i += 32)
                global::System.Runtime.Intrinsics.Vector512.StoreUnsafe(
                    global::System.Runtime.Intrinsics.X86.Avx512BW.ConvertToVector512Int16(global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref from, (nuint)i)), ref to, (nuint)i);
            for (; i < source.Length; i++) global::System.Runtime.CompilerServices.Unsafe.Add(ref to, i) = global::System.Runtime.CompilerServices.Unsafe.Add(ref from, i);
        }

        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static global::System.Runtime.Intrinsics.Vector512<int> MultiplyAdd(global::System.Runtime.Intrinsics.Vector512<int> acc,
            global::System.Runtime.Intrinsics.Vector512<short> x, global::System.Runtime.Intrinsics.Vector512<short> w) =>
            acc + global::System.Runtime.Intrinsics.X86.Avx512BW.MultiplyAddAdjacent(x, w);

        /// <summary>
        /// Channel j's sum, lanes 2j and 2j + 1 of <paramref name="low"/> (channels 0-7) then of <paramref name="high"/>
        /// (8-15), in lane j: two vpermt2d and an add.
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static global::System.Runtime.Intrinsics.Vector512<int> PairSums(global::System.Runtime.Intrinsics.Vector512<int> low, global::System.Runtime.Intrinsics.Vector512<int> high) =>
            global::System.Runtime.Intrinsics.X86.Avx512F.PermuteVar16x32x2(low, global::System.Runtime.Intrinsics.Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), high)
            + global::System.Runtime.Intrinsics.X86.Avx512F.PermuteVar16x32x2(low, global::System.Runtime.Intrinsics.Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), high);
#endif
    }
}
