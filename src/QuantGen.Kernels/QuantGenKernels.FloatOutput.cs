// QuantGen kernels: Conv and FullyConnected layers whose output is read in float only (docs/artifact.md, "Float outputs").
// Emitted into the consumer's assembly by QuantGen.Generator (docs/generator.md, "Kernels").
#nullable enable

namespace QuantGen.Generated
{
    internal static partial class QuantGenKernels
    {
        /// <summary>
        /// y[start + o·stride] = clamp(float(acc[o] + bias[o]) · scale[o], lo, hi) (negScale for a negative sum: a fused
        /// LeakyRelu) for the bias.Length channels of one output position: the accumulators dequantized instead of
        /// requantized to u8, for a layer whose every reader is a float layer. The clamp is written as
        /// <c>v &gt; lo ? v : lo</c> then <c>v &lt; hi ? v : hi</c>, which is what vmaxps/vminps compute lane by lane.
        /// </summary>
        internal static void DequantizeChannels(global::System.ReadOnlySpan<int> acc, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale,
            global::System.Span<float> y, int start, int stride, float lo, float hi)
        {
            int o = 0, count = bias.Length;
#if QUANTGEN_INTRINSICS
            if (SimdEnabled && stride == 1 && global::System.Runtime.Intrinsics.X86.Avx2.IsSupported)
            {
                var low = global::System.Runtime.Intrinsics.Vector256.Create(lo);
                var high = global::System.Runtime.Intrinsics.Vector256.Create(hi);
                for (; o + 8 <= count; o += 8)
                {
                    var a = global::System.Runtime.Intrinsics.Vector256.Create(acc.Slice(o, 8)) + global::System.Runtime.Intrinsics.Vector256.Create(bias.Slice(o, 8));
                    var s = global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(
                        global::System.Runtime.Intrinsics.Vector256.AsSingle(global::System.Runtime.Intrinsics.Vector256.LessThan(a, global::System.Runtime.Intrinsics.Vector256<int>.Zero)),
                        global::System.Runtime.Intrinsics.Vector256.Create(negScale.Slice(o, 8)), global::System.Runtime.Intrinsics.Vector256.Create(scale.Slice(o, 8)));
                    var v = global::System.Runtime.Intrinsics.X86.Avx.Multiply(global::System.Runtime.Intrinsics.X86.Avx.ConvertToVector256Single(a), s);
                    v = global::System.Runtime.Intrinsics.X86.Avx.Min(global::System.Runtime.Intrinsics.X86.Avx.Max(v, low), high);
                    global::System.Runtime.Intrinsics.Vector256.CopyTo(v, y.Slice(start + o, 8));
                }
            }
#endif
            for (; o < count; o++)
            {
                int a = acc[o] + bias[o];
                float v = (float)((float)a * (a >= 0 ? scale[o] : negScale[o]));
                v = v > lo ? v : lo;
                y[start + o * stride] = v < hi ? v : hi;
            }
        }

        /// <summary>FullyConnectedPackedToFloat over weights stored one byte each (<see cref="Int8Weights"/>).</summary>
        public static void FullyConnectedPackedToFloat(
            global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale,
            global::System.Span<float> y, global::System.Span<byte> col, global::System.Span<int> acc,
            int rows, int k, int m, float lo, float hi) =>
            FullyConnectedPackedToFloat<Int8Weights>(x, w, bias, scale, negScale, y, col, acc, rows, k, m, lo, hi);

        /// <summary>FullyConnectedPacked with its accumulators dequantized to float (DequantizeChannels) instead of requantized.</summary>
        public static void FullyConnectedPackedToFloat<TWeights>(
            global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale,
            global::System.Span<float> y, global::System.Span<byte> col, global::System.Span<int> acc,
            int rows, int k, int m, float lo, float hi) where TWeights : struct, IWeightBlocks
        {
            CheckRows(x.Length, y.Length, rows, k, m);
            int kp = (k + 3) & ~3, mp = (m + 7) & ~7;
            if (w.Length < WeightBytes<TWeights>(kp * mp)) throw Outside();
            col.Slice(k, kp - k).Clear();
            for (int r = 0; r < rows; r++)
            {
                x.Slice(r * k, k).CopyTo(col);
                DotPacked<TWeights>(col, w, acc, kp, mp);
                DequantizeChannels(acc, bias, scale, negScale, y, r * m, 1, lo, hi);
            }
        }

        /// <summary>ConvPackedToFloat over weights stored one byte each (<see cref="Int8Weights"/>).</summary>
        public static void ConvPackedToFloat(
            global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale,
            global::System.Span<float> y, global::System.Span<byte> col, global::System.Span<int> acc,
            int n, int c, int h, int width, int m, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft,
            int dh, int dw, int group, int zx, float lo, float hi) =>
            ConvPackedToFloat<Int8Weights>(x, w, bias, scale, negScale, y, col, acc, n, c, h, width, m, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw, group, zx, lo, hi);

        /// <summary>
        /// ConvPacked (NCHW in, weights packed the same way) with its accumulators dequantized to float, NCHW out: the
        /// receptive field gathered per position, one packed dot product for the group's channels, DequantizeChannels.
        /// </summary>
        public static void ConvPackedToFloat<TWeights>(
            global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale,
            global::System.Span<float> y, global::System.Span<byte> col, global::System.Span<int> acc,
            int n, int c, int h, int width, int m, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft,
            int dh, int dw, int group, int zx, float lo, float hi) where TWeights : struct, IWeightBlocks
        {
            CheckWindow(x.Length, y.Length, n, c, h, width, m, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw);
            int cg = c / group, mg = m / group, k = cg * kh * kw, kp = (k + 3) & ~3, mp = (mg + 7) & ~7;
            col.Slice(k, kp - k).Clear();
            for (int b = 0; b < n; b++)
                for (int g = 0; g < group; g++)
                {
                    var packed = WeightSlice<TWeights>(w, g * kp * mp, kp * mp);
                    int o0 = g * mg;
                    for (int oy = 0; oy < oh; oy++)
                        for (int ox = 0; ox < ow; ox++)
                        {
                            GatherField(x, col, b, c, g * cg, cg, h, width, oy, ox, kh, kw, sh, sw, padTop, padLeft, dh, dw, (byte)zx);
                            DotPacked<TWeights>(col, packed, acc, kp, mp);
                            DequantizeChannels(acc, bias.Slice(o0, mg), scale.Slice(o0, mg), negScale.Slice(o0, mg),
                                y, ((b * m + o0) * oh + oy) * ow + ox, oh * ow, lo, hi);
                        }
                }
        }

        /// <summary>ConvNhwcToFloat over weights stored one byte each (<see cref="Int8Weights"/>).</summary>
        public static void ConvNhwcToFloat(
            global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale,
            global::System.Span<float> y, global::System.Span<byte> col, global::System.Span<int> acc,
            int n, int c, int h, int width, int m, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft,
            int dh, int dw, int group, int zx, float lo, float hi) =>
            ConvNhwcToFloat<Int8Weights>(x, w, bias, scale, negScale, y, col, acc, n, c, h, width, m, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw, group, zx, lo, hi);

        /// <summary>
        /// ConvNhwc's input and weights (channels-last image, reduction in (KH, KW, C/G) order) with the accumulators
        /// dequantized to float into an NCHW output, the layout every float layer reads: four positions per weight pass
        /// (DotFour), then each position's channels written a plane apart.
        /// </summary>
        public static void ConvNhwcToFloat<TWeights>(
            global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale,
            global::System.Span<float> y, global::System.Span<byte> col, global::System.Span<int> acc,
            int n, int c, int h, int width, int m, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft,
            int dh, int dw, int group, int zx, float lo, float hi) where TWeights : struct, IWeightBlocks
        {
            CheckWindow(x.Length, y.Length, n, c, h, width, m, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw);
            int cg = c / group, mg = m / group, kp = kh * ((kw * cg + 3) & ~3), mp = (mg + 7) & ~7, positions = oh * ow;
            var field = new ReceptiveField(c, h, width, cg, kh, kw, sh, sw, padTop, padLeft, dh, dw, ow, (byte)zx);
            col.Slice(0, 4 * kp).Clear();
            for (int b = 0; b < n; b++)
                for (int g = 0; g < group; g++)
                {
                    var packed = WeightSlice<TWeights>(w, g * kp * mp, kp * mp);
                    int o0 = g * mg;
                    for (int p = 0; p < positions; p += 4)
                    {
                        int count = positions - p < 4 ? positions - p : 4;
                        field.DotFour<TWeights>(x, col, packed, acc, kp, mp, b, g, p, count);
                        for (int j = 0; j < count; j++)
                            DequantizeChannels(acc.Slice(j * mp, mp), bias.Slice(o0, mg), scale.Slice(o0, mg), negScale.Slice(o0, mg),
                                y, (b * m + o0) * positions + p + j, positions, lo, hi);
                    }
                }
        }
    }
}
