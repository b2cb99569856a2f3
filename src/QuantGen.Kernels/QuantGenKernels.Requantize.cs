// QuantGen kernels: requantization of a position's channels: int32 accumulators to u8 (docs/artifact.md, RequantizeScaled).
// Emitted into the consumer's assembly by QuantGen.Generator (docs/generator.md, "Kernels").
#nullable enable

namespace QuantGen.Generated
{
    internal static partial class QuantGenKernels
    {
        /// <summary>
        /// y[start + o·stride] = Requantize(acc[o] + bias[o], …[o]) for the bias.Length channels of one output position,
        /// the negative pair for negative accumulators, then min(·, high[o]) where the layer has per-channel upper bounds
        /// (clampHigh; <paramref name="high"/> is empty otherwise).
        /// </summary>
        internal static void RequantizeChannels(global::System.ReadOnlySpan<int> acc, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, int start, int stride, int zy, int lo, int hi)
        {
            int o = 0, count = bias.Length;
#if QUANTGEN_INTRINSICS
            if (SimdEnabled && global::System.Runtime.Intrinsics.X86.Avx2.IsSupported)
                o = RequantizeChannels8(acc, bias, scale, negScale, high, y, start, stride, zy, lo, hi);
            else if (SimdEnabled && global::System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.IsSupported)
                o = RequantizeChannels4Arm(acc, bias, scale, negScale, high, y, start, stride, zy, lo, hi);
#endif
            for (; o < count; o++)
            {
                int a = acc[o] + bias[o];
                byte r = RequantizeScaled(a, a >= 0 ? scale[o] : negScale[o], zy, lo, hi);
                y[start + o * stride] = high.Length != 0 && r > high[o] ? (byte)high[o] : r;
            }
        }

#if QUANTGEN_INTRINSICS
        /// <summary>
        /// RequantizeChannels for whole blocks of 8 channels (Requantize8: AVX-512, or AVX2). Returns the number of
        /// channels done; the caller's scalar loop does the rest.
        /// </summary>
        private static int RequantizeChannels8(global::System.ReadOnlySpan<int> acc, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, int start, int stride, int zy, int lo, int hi)
        {
            int o = 0, count = bias.Length;
            var top = global::System.Runtime.Intrinsics.Vector256.Create(hi);
            var low = global::System.Runtime.Intrinsics.Vector256.Create((float)(lo - zy));
            var zero = global::System.Runtime.Intrinsics.Vector256.Create(zy);
            for (; o + 8 <= count; o += 8)
            {
                var a = global::System.Runtime.Intrinsics.Vector256.Create(acc.Slice(o, 8)) + global::System.Runtime.Intrinsics.Vector256.Create(bias.Slice(o, 8));
                var upper = high.Length == 0 ? top : global::System.Runtime.Intrinsics.Vector256.Min(top, global::System.Runtime.Intrinsics.Vector256.Create(high.Slice(o, 8)));
                var bytes = Requantize8(a, global::System.Runtime.Intrinsics.Vector256.Create(scale.Slice(o, 8)), global::System.Runtime.Intrinsics.Vector256.Create(negScale.Slice(o, 8)), true,
                    low, global::System.Runtime.Intrinsics.Vector256.ConvertToSingle(upper - zero), zy);
                if (stride == 1)
                {
                    global::System.Runtime.CompilerServices.Unsafe.WriteUnaligned(ref y[start + o],
                        global::System.Runtime.Intrinsics.Vector128.ToScalar(global::System.Runtime.Intrinsics.Vector128.AsUInt64(bytes)));
                }
                else
                {
                    for (int i = 0, index = start + o * stride; i < 8; i++, index += stride)
                        y[index] = global::System.Runtime.Intrinsics.Vector128.GetElement(bytes, i);
                }
            }
            return o;
        }

        /// <summary>
        /// RequantizeChannels for whole blocks of 4 channels on Arm64 (AdvSimd: RequantizeLanesArm), where every
        /// convolution and fully connected layer of an Arm CPU requantizes. Returns the number of channels done; the
        /// caller's scalar loop does the rest.
        /// </summary>
        private static int RequantizeChannels4Arm(global::System.ReadOnlySpan<int> acc, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, int start, int stride, int zy, int lo, int hi)
        {
            int o = 0, count = bias.Length;
            var low = global::System.Runtime.Intrinsics.Vector128.Create((float)(lo - zy));
            var top = global::System.Runtime.Intrinsics.Vector128.Create(hi);
            var zero = global::System.Runtime.Intrinsics.Vector128.Create(zy);
            for (; o + 4 <= count; o += 4)
            {
                var a = global::System.Runtime.Intrinsics.Vector128.Create(acc.Slice(o, 4)) + global::System.Runtime.Intrinsics.Vector128.Create(bias.Slice(o, 4));
                var q = RequantizeLanesArm(a, global::System.Runtime.Intrinsics.Vector128.Create(scale.Slice(o, 4)), global::System.Runtime.Intrinsics.Vector128.Create(negScale.Slice(o, 4)),
                    low, UpperBoundArm(top, high, o, zero), zero);
                for (int i = 0, index = start + o * stride; i < 4; i++, index += stride)
                    y[index] = (byte)global::System.Runtime.Intrinsics.Vector128.GetElement(q, i);
            }
            return o;
        }

        /// <summary>
        /// RequantizeScaled of 4 int32 accumulators on Arm64 (bias included): scvtf, fmul by the scale (the negative one
        /// for a negative accumulator), the clamp to [low, upper] (already less the zero point) in float, fcvtns (round
        /// half to even) and the zero point added: the scalar loop's float32 steps exactly.
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static global::System.Runtime.Intrinsics.Vector128<int> RequantizeLanesArm(global::System.Runtime.Intrinsics.Vector128<int> a,
            global::System.Runtime.Intrinsics.Vector128<float> scale, global::System.Runtime.Intrinsics.Vector128<float> negScale,
            global::System.Runtime.Intrinsics.Vector128<float> low, global::System.Runtime.Intrinsics.Vector128<float> upper, global::System.Runtime.Intrinsics.Vector128<int> zero)
        {
            var s = global::System.Runtime.Intrinsics.Vector128.ConditionalSelect(
                global::System.Runtime.Intrinsics.Vector128.AsSingle(global::System.Runtime.Intrinsics.Vector128.LessThan(a, global::System.Runtime.Intrinsics.Vector128<int>.Zero)), negScale, scale);
            var v = global::System.Runtime.Intrinsics.Vector128.Min(global::System.Runtime.Intrinsics.Vector128.Max(global::System.Runtime.Intrinsics.Vector128.ConvertToSingle(a) * s, low), upper);
            return global::System.Runtime.Intrinsics.Arm.AdvSimd.ConvertToInt32RoundToEven(v) + zero;
        }

        /// <summary>
        /// The float upper clamp of channels o..o+4, less the zero point: min(hi, high[o]) where the layer has per-channel
        /// bounds (clamping to an integer before rounding equals clamping after), else hi.
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static global::System.Runtime.Intrinsics.Vector128<float> UpperBoundArm(global::System.Runtime.Intrinsics.Vector128<int> top, global::System.ReadOnlySpan<int> high, int o,
            global::System.Runtime.Intrinsics.Vector128<int> zero) =>
            global::System.Runtime.Intrinsics.Vector128.ConvertToSingle((high.Length == 0 ? top : global::System.Runtime.Intrinsics.Vector128.Min(top, global::System.Runtime.Intrinsics.Vector128.Create(high.Slice(o, 4)))) - zero);

        /// <summary>
        /// RequantizeScaled of 8 int32 accumulators: vcvtdq2ps, one vmulps by the channels' scales (the negative-slope
        /// ones for negative accumulators where the layer has a fused LeakyRelu), the clamp to [low, high] (already
        /// less the zero point) in float, vcvtps2dq (round half to even, the default rounding), the zero point added:
        /// the scalar loop's float32 steps exactly. Narrowed to bytes with vpmovdb (AVX-512) or two saturating packs
        /// (AVX2; the values are in [0, 255] already); the result is the low 8 bytes.
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static global::System.Runtime.Intrinsics.Vector128<byte> Requantize8(global::System.Runtime.Intrinsics.Vector256<int> a,
            global::System.Runtime.Intrinsics.Vector256<float> scale, global::System.Runtime.Intrinsics.Vector256<float> negScale, bool leaky,
            global::System.Runtime.Intrinsics.Vector256<float> low, global::System.Runtime.Intrinsics.Vector256<float> high, int zy)
        {
            var q = QuantizeLanes(a, scale, negScale, leaky, low, high, zy);
            return Narrow8(q);
        }

        /// <summary>8 int32 lanes already in [0, 255] as their low bytes (the result's low 8 bytes), in lane order.</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static global::System.Runtime.Intrinsics.Vector128<byte> Narrow8(global::System.Runtime.Intrinsics.Vector256<int> q)
        {
            if (global::System.Runtime.Intrinsics.X86.Avx512F.VL.IsSupported)
                return global::System.Runtime.Intrinsics.X86.Avx512F.VL.ConvertToVector128Byte(q);
            // Per 128-bit half: int32 → int16 → bytes; the halves' first four bytes are then put side by side.
            var words = global::System.Runtime.Intrinsics.X86.Avx2.PackSignedSaturate(q, q);
            var bytes = global::System.Runtime.Intrinsics.X86.Avx2.PackUnsignedSaturate(words, words);
            return global::System.Runtime.Intrinsics.Vector128.AsByte(global::System.Runtime.Intrinsics.X86.Sse2.UnpackLow(
                global::System.Runtime.Intrinsics.Vector128.AsInt32(global::System.Runtime.Intrinsics.Vector256.GetLower(bytes)),
                global::System.Runtime.Intrinsics.Vector128.AsInt32(global::System.Runtime.Intrinsics.Vector256.GetUpper(bytes))));
        }

        /// <summary>Requantize8's arithmetic: the requantized values as int32 lanes, the zero point added (in [lo, hi]).</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static global::System.Runtime.Intrinsics.Vector256<int> QuantizeLanes(global::System.Runtime.Intrinsics.Vector256<int> a,
            global::System.Runtime.Intrinsics.Vector256<float> scale, global::System.Runtime.Intrinsics.Vector256<float> negScale, bool leaky,
            global::System.Runtime.Intrinsics.Vector256<float> low, global::System.Runtime.Intrinsics.Vector256<float> high, int zy)
        {
            var s = leaky
                ? global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(
                    global::System.Runtime.Intrinsics.Vector256.AsSingle(global::System.Runtime.Intrinsics.Vector256.LessThan(a, global::System.Runtime.Intrinsics.Vector256<int>.Zero)), negScale, scale)
                : scale;
            var v = global::System.Runtime.Intrinsics.X86.Avx.Multiply(global::System.Runtime.Intrinsics.X86.Avx.ConvertToVector256Single(a), s);
            v = global::System.Runtime.Intrinsics.X86.Avx.Min(global::System.Runtime.Intrinsics.X86.Avx.Max(v, low), high);
            return global::System.Runtime.Intrinsics.X86.Avx.ConvertToVector256Int32(v) + global::System.Runtime.Intrinsics.Vector256.Create(zy);
        }

        /// <summary>The requantization constants of 8 output channels, prepared once for several positions.</summary>
        private readonly struct Requantization8
        {
            private readonly global::System.Runtime.Intrinsics.Vector256<float> _scale, _negScale, _low, _high;
            private readonly int _zy;
            private readonly bool _leaky;

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public Requantization8(global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
                int hi, int o, int zy, int lo)
                : this(scale, negScale, high, hi, o, o + 4, zy, lo)
            {
            }

            /// <summary>
            /// The constants of 8 channels taken as two runs of 4, <paramref name="first"/>… and <paramref name="second"/>…,
            /// for the lanes of a 128-bit-lane-wise interleave (DepthwiseNhwcQuadsAvx2).
            /// </summary>
            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public Requantization8(global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
                int hi, int first, int second, int zy, int lo)
            {
                _scale = Lanes(scale, first, second);
                _negScale = Lanes(negScale, first, second);
                _leaky = !global::System.Runtime.Intrinsics.Vector256.EqualsAll(_scale, _negScale);
                var top = global::System.Runtime.Intrinsics.Vector256.Create(hi);
                var upper = high.Length == 0 ? top : global::System.Runtime.Intrinsics.Vector256.Min(top, Lanes(high, first, second));
                _high = global::System.Runtime.Intrinsics.Vector256.ConvertToSingle(upper - global::System.Runtime.Intrinsics.Vector256.Create(zy));
                _low = global::System.Runtime.Intrinsics.Vector256.Create((float)(lo - zy));
                _zy = zy;
            }

            /// <summary>values[first..first+4] in the low 128-bit lane, values[second..second+4] in the high one.</summary>
            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public static global::System.Runtime.Intrinsics.Vector256<T> Lanes<T>(global::System.ReadOnlySpan<T> values, int first, int second) where T : struct =>
                global::System.Runtime.Intrinsics.Vector256.Create(global::System.Runtime.Intrinsics.Vector128.Create(values.Slice(first, 4)),
                    global::System.Runtime.Intrinsics.Vector128.Create(values.Slice(second, 4)));

            /// <summary>
            /// The requantized values as int32 lanes, zero point added (in [lo, hi]): Requantize8 before its narrowing, for
            /// kernels that pack several vectors' results at once.
            /// </summary>
            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public global::System.Runtime.Intrinsics.Vector256<int> Quantize(global::System.Runtime.Intrinsics.Vector256<int> acc) =>
                QuantizeLanes(acc, _scale, _negScale, _leaky, _low, _high, _zy);

            /// <summary>
            /// 16 channels at once: <paramref name="low"/>'s 8 requantized by this, <paramref name="high"/>'s by
            /// <paramref name="next"/>, narrowed together (vpackssdw, vpackuswb, one vpermd) and stored as 16 bytes,
            /// unchecked: two Store calls narrow each half on its own.
            /// </summary>
            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public void StorePairUnchecked(in Requantization8 next, ref byte target, global::System.Runtime.Intrinsics.Vector256<int> low, global::System.Runtime.Intrinsics.Vector256<int> high)
            {
                // In-lane packs: int16 (0-3, 8-11 | 4-7, 12-15), then bytes whose first two dwords of each lane are those runs.
                var words = global::System.Runtime.Intrinsics.X86.Avx2.PackSignedSaturate(Quantize(low), next.Quantize(high));
                var bytes = global::System.Runtime.Intrinsics.X86.Avx2.PackUnsignedSaturate(words, words);
                var ordered = global::System.Runtime.Intrinsics.X86.Avx2.PermuteVar8x32(global::System.Runtime.Intrinsics.Vector256.AsInt32(bytes),
                    global::System.Runtime.Intrinsics.Vector256.Create(0, 4, 1, 5, 0, 4, 1, 5));
                global::System.Runtime.Intrinsics.Vector128.StoreUnsafe(global::System.Runtime.Intrinsics.Vector128.AsByte(global::System.Runtime.Intrinsics.Vector256.GetLower(ordered)), ref target);
            }

            /// <summary>y[at..at+8] = the requantized accumulators (bias included).</summary>
            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public void Store(global::System.Span<byte> y, int at, global::System.Runtime.Intrinsics.Vector256<int> acc) => StoreUnchecked(ref y.Slice(at, 8)[0], acc);

            /// <summary>Store into the 8 bytes at <paramref name="target"/>, unchecked (Requantization16.StoreUnchecked).</summary>
            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public void StoreUnchecked(ref byte target, global::System.Runtime.Intrinsics.Vector256<int> acc) =>
                global::System.Runtime.CompilerServices.Unsafe.WriteUnaligned(ref target, global::System.Runtime.Intrinsics.Vector128.ToScalar(
                    global::System.Runtime.Intrinsics.Vector128.AsUInt64(Requantize8(acc, _scale, _negScale, _leaky, _low, _high, _zy))));
        }

        /// <summary>
        /// The requantization constants of 16 output channels, prepared once for many positions: a store is vcvtdq2ps,
        /// vmulps, vmaxps, vminps, vcvtps2dq, vpaddd and vpmovdb (Requantize8's steps on 16 lanes), plus a per-lane choice
        /// of scale where the layer has a fused LeakyRelu.
        /// </summary>
        private readonly struct Requantization16
        {
            private readonly global::System.Runtime.Intrinsics.Vector512<float> _scale, _negScale, _low, _high;
            private readonly int _zy;
            private readonly bool _leaky;

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public Requantization16(global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
                int hi, int o, int zy, int lo)
            {
                _scale = global::System.Runtime.Intrinsics.Vector512.Create(scale.Slice(o, 16));
                _negScale = global::System.Runtime.Intrinsics.Vector512.Create(negScale.Slice(o, 16));
                _leaky = !global::System.Runtime.Intrinsics.Vector512.EqualsAll(_scale, _negScale);
                var top = global::System.Runtime.Intrinsics.Vector512.Create(hi);
                var upper = high.Length == 0 ? top : global::System.Runtime.Intrinsics.Vector512.Min(top, global::System.Runtime.Intrinsics.Vector512.Create(high.Slice(o, 16)));
                _high = global::System.Runtime.Intrinsics.Vector512.ConvertToSingle(upper - global::System.Runtime.Intrinsics.Vector512.Create(zy));
                _low = global::System.Runtime.Intrinsics.Vector512.Create((float)(lo - zy));
                _zy = zy;
            }

            /// <summary>y[at..at+16] = the requantized accumulators (bias included) of the 16 channels, low and high 8.</summary>
            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public void Store(global::System.Span<byte> y, int at, global::System.Runtime.Intrinsics.Vector256<int> low, global::System.Runtime.Intrinsics.Vector256<int> high) =>
                Store(y, at, Join(low, high));

            /// <summary>y[at..at+16] = the requantized accumulators (bias included) of the 16 channels.</summary>
            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public void Store(global::System.Span<byte> y, int at, global::System.Runtime.Intrinsics.Vector512<int> acc) =>
                global::System.Runtime.Intrinsics.Vector128.CopyTo(Requantize(acc), y.Slice(at, 16));

            /// <summary>
            /// Store into the 16 bytes at <paramref name="target"/>, unchecked: for kernels that checked the whole output's
            /// length once (a checked store costs five instructions more than the requantization's seven).
            /// </summary>
            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public void StoreUnchecked(ref byte target, global::System.Runtime.Intrinsics.Vector256<int> low, global::System.Runtime.Intrinsics.Vector256<int> high) =>
                global::System.Runtime.Intrinsics.Vector128.StoreUnsafe(Requantize(Join(low, high)), ref target);

            /// <summary>
            /// One vinserti32x8 onto <paramref name="low"/>'s register (Vector512.Create(low, high) inserts both halves
            /// into a third register, which also waits on that register's last writer).
            /// </summary>
            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            private static global::System.Runtime.Intrinsics.Vector512<int> Join(global::System.Runtime.Intrinsics.Vector256<int> low, global::System.Runtime.Intrinsics.Vector256<int> high) =>
                global::System.Runtime.Intrinsics.Vector512.WithUpper(global::System.Runtime.Intrinsics.Vector256.ToVector512Unsafe(low), high);

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            private global::System.Runtime.Intrinsics.Vector128<byte> Requantize(global::System.Runtime.Intrinsics.Vector512<int> acc) =>
                global::System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector128Byte(Quantize(acc));

            /// <summary>The 16 channels' output bytes (bias included in the sums), each in its int32 lane: for kernels that pack them their own way.</summary>
            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public global::System.Runtime.Intrinsics.Vector512<int> Quantize(global::System.Runtime.Intrinsics.Vector512<int> acc)
            {
                var s = _leaky
                    ? global::System.Runtime.Intrinsics.Vector512.ConditionalSelect(
                        global::System.Runtime.Intrinsics.Vector512.AsSingle(global::System.Runtime.Intrinsics.Vector512.LessThan(acc, global::System.Runtime.Intrinsics.Vector512<int>.Zero)), _negScale, _scale)
                    : _scale;
                var v = global::System.Runtime.Intrinsics.X86.Avx512F.Multiply(global::System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector512Single(acc), s);
                v = global::System.Runtime.Intrinsics.X86.Avx512F.Min(global::System.Runtime.Intrinsics.X86.Avx512F.Max(v, _low), _high);
                return global::System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector512Int32(v) + global::System.Runtime.Intrinsics.Vector512.Create(_zy);
            }
        }
#endif
    }
}
