// QuantGen kernels: the model's edges: float input to the u8 grid and back, Softmax and Sigmoid in float.
// Emitted into the consumer's assembly by QuantGen.Generator (docs/generator.md, "Kernels").
#nullable enable

namespace QuantGen.Generated
{
    internal static partial class QuantGenKernels
    {
        /// <summary>Float input → u8 grid: clamp(round_half_even(x / scale) + zero).</summary>
        public static void Quantize(global::System.ReadOnlySpan<float> x, global::System.Span<byte> y, float scale, int zero, int min, int max)
        {
            int i = 0;
#if QUANTGEN_INTRINSICS
            if (SimdEnabled) i = QuantizeSimd(x, y, scale, zero, min, max);
#endif
            for (; i < x.Length; i++) y[i] = QuantizeValue(x[i], scale, zero, min, max);
        }

        /// <summary>
        /// Quantize of an NCHW float image into an NHWC buffer: the transpose happens at the model's edge, in the same pass.
        /// With SIMD, blocks of 32 pixels: each channel's run quantized by the vector path into a small stack block, then
        /// interleaved byte by byte (the scalar division and rounding per element cost far more than a byte copy).
        /// </summary>
        public static void QuantizeToNhwc(global::System.ReadOnlySpan<float> x, global::System.Span<byte> y, float scale, int zero, int min, int max,
            int channels, int pixels)
        {
            int image = channels * pixels;
#if QUANTGEN_INTRINSICS
            // 32 pixels of at most 16 channels: a 512-byte block (an image of more channels is not an input image).
            global::System.Span<byte> block = stackalloc byte[SimdEnabled && channels <= 16 ? 32 * channels : 0];
#endif
            for (int b = 0; b < x.Length; b += image)
            {
                int start = 0;
#if QUANTGEN_INTRINSICS
                if (block.Length != 0)
                    for (; start + 32 <= pixels; start += 32)
                    {
                        int done = 32;
                        for (int ch = 0; ch < channels && done == 32; ch++)
                            done = QuantizeSimd(x.Slice(b + ch * pixels + start, 32), block.Slice(32 * ch, 32), scale, zero, min, max);
                        if (done != 32) break; // no SIMD path on this CPU
                        for (int p = 0, o = b + start * channels; p < 32; p++)
                            for (int ch = 0; ch < channels; ch++, o++)
                                y[o] = block[32 * ch + p];
                    }
#endif
                for (int ch = 0; ch < channels; ch++)
                    for (int p = start, i = b + ch * pixels + start, o = b + start * channels + ch; p < pixels; p++, i++, o += channels)
                        y[o] = QuantizeValue(x[i], scale, zero, min, max);
            }
        }

        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static byte QuantizeValue(float x, float scale, int zero, int min, int max)
        {
            float scaled = x / scale;
            if (float.IsNaN(scaled)) return (byte)(zero < min ? min : zero > max ? max : zero);
            double r = global::System.Math.Round(scaled, global::System.MidpointRounding.ToEven) + zero;
            return (byte)(r < min ? min : r > max ? max : r);
        }

        /// <summary>u8 grid → float output: scale · (q − zero).</summary>
        public static void Dequantize(global::System.ReadOnlySpan<byte> x, global::System.Span<float> y, float scale, int zero)
        {
            for (int i = 0; i < x.Length; i++) y[i] = scale * (x[i] - zero);
        }

        /// <summary>Dequantize of an NHWC buffer into the model's NCHW float output, transposing in the same pass.</summary>
        public static void DequantizeFromNhwc(global::System.ReadOnlySpan<byte> x, global::System.Span<float> y, float scale, int zero, int channels, int pixels)
        {
            int image = channels * pixels;
            for (int b = 0; b < y.Length; b += image)
                for (int ch = 0; ch < channels; ch++)
                    for (int p = 0, o = b + ch * pixels, i = b + ch; p < pixels; p++, o++, i += channels)
                        y[o] = scale * (x[i] - zero);
        }

        /// <summary>Softmax over slices of n elements, stride inner: exp(x − max) summed in float, in index order.</summary>
        public static void Softmax(global::System.ReadOnlySpan<float> x, global::System.Span<float> y, int outer, int n, int inner)
        {
            for (int o = 0; o < outer; o++)
                for (int j = 0; j < inner; j++)
                {
                    int baseIndex = o * n * inner + j;
                    float max = float.NegativeInfinity;
                    for (int i = 0; i < n; i++) max = global::System.Math.Max(max, x[baseIndex + i * inner]);
                    float sum = 0;
                    for (int i = 0; i < n; i++) sum += y[baseIndex + i * inner] = (float)global::System.Math.Exp(x[baseIndex + i * inner] - max);
                    for (int i = 0; i < n; i++) y[baseIndex + i * inner] /= sum;
                }
        }

        /// <summary>Logistic sigmoid in float.</summary>
        public static void Sigmoid(global::System.ReadOnlySpan<float> x, global::System.Span<float> y)
        {
            for (int i = 0; i < x.Length; i++) y[i] = 1f / (1f + (float)global::System.Math.Exp(-x[i]));
        }

#if QUANTGEN_INTRINSICS
        /// <summary>
        /// Quantize for whole blocks of 32 floats (x86 with AVX2) or 16 (Arm64): the same IEEE division (vdivps, fdiv),
        /// round half to even (vroundps, frintn), + zero and the clamp in float (exact: a rounded value beyond 2^24 is
        /// clamped either way), NaN to the clamped zero point, then truncated to int32 and narrowed to bytes (every value
        /// is in 0..255 by then). AVX-512 CPUs take this path too (the division bounds it, and wider divisions are no
        /// faster per element in the instruction tables we know of); measured on a Zen 4, the CNN's 784-pixel input cost
        /// 0.19-0.23 µs with the former 512-bit path and 0.24-0.26 with this one, within that VM's noise. Returns the
        /// number of elements done (0 on a CPU with neither).
        /// </summary>
        private static int QuantizeSimd(global::System.ReadOnlySpan<float> x, global::System.Span<byte> y, float scale, int zero, int min, int max)
        {
            float nan = zero < min ? min : zero > max ? max : zero;
            int i = 0;
            if (global::System.Runtime.Intrinsics.X86.Avx2.IsSupported)
            {
                var q = new Quantizer256(scale, zero, min, max, nan);
                for (; i + 32 <= x.Length; i += 32)
                {
                    var low = global::System.Runtime.Intrinsics.Vector256.Narrow(q.Apply(x.Slice(i, 8)), q.Apply(x.Slice(i + 8, 8)));
                    var high = global::System.Runtime.Intrinsics.Vector256.Narrow(q.Apply(x.Slice(i + 16, 8)), q.Apply(x.Slice(i + 24, 8)));
                    global::System.Runtime.Intrinsics.Vector256.CopyTo(global::System.Runtime.Intrinsics.Vector256.Narrow(
                        global::System.Runtime.Intrinsics.Vector256.AsUInt16(low), global::System.Runtime.Intrinsics.Vector256.AsUInt16(high)), y.Slice(i, 32));
                }
            }
            else if (global::System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.IsSupported)
            {
                var q = new Quantizer128(scale, zero, min, max, nan);
                for (; i + 16 <= x.Length; i += 16)
                {
                    var low = global::System.Runtime.Intrinsics.Vector128.Narrow(q.Apply(x.Slice(i, 4)), q.Apply(x.Slice(i + 4, 4)));
                    var high = global::System.Runtime.Intrinsics.Vector128.Narrow(q.Apply(x.Slice(i + 8, 4)), q.Apply(x.Slice(i + 12, 4)));
                    global::System.Runtime.Intrinsics.Vector128.CopyTo(global::System.Runtime.Intrinsics.Vector128.Narrow(
                        global::System.Runtime.Intrinsics.Vector128.AsUInt16(low), global::System.Runtime.Intrinsics.Vector128.AsUInt16(high)), y.Slice(i, 16));
                }
            }
            return i;
        }

        /// <summary>QuantizeSimd's constants and steps for eight floats (x86, AVX).</summary>
        private readonly struct Quantizer256
        {
            private readonly global::System.Runtime.Intrinsics.Vector256<float> _divisor, _offset, _low, _top, _nan;

            public Quantizer256(float scale, int zero, int min, int max, float nan)
            {
                _divisor = global::System.Runtime.Intrinsics.Vector256.Create(scale);
                _offset = global::System.Runtime.Intrinsics.Vector256.Create((float)zero);
                _low = global::System.Runtime.Intrinsics.Vector256.Create((float)min);
                _top = global::System.Runtime.Intrinsics.Vector256.Create((float)max);
                _nan = global::System.Runtime.Intrinsics.Vector256.Create(nan);
            }

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public global::System.Runtime.Intrinsics.Vector256<int> Apply(global::System.ReadOnlySpan<float> x)
            {
                var scaled = global::System.Runtime.Intrinsics.Vector256.Create(x) / _divisor;
                var v = global::System.Runtime.Intrinsics.X86.Avx.RoundToNearestInteger(scaled) + _offset;
                v = global::System.Runtime.Intrinsics.Vector256.Min(global::System.Runtime.Intrinsics.Vector256.Max(v, _low), _top);
                v = global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(global::System.Runtime.Intrinsics.Vector256.Equals(scaled, scaled), v, _nan);
                return global::System.Runtime.Intrinsics.Vector256.ConvertToInt32(v);
            }
        }

        /// <summary>
        /// QuantizeSimd's constants and steps for four floats (Arm64, AdvSimd): Quantizer256's twin in 128 bits, since
        /// .NET 8 (the kernels' floor) has no arithmetic generic over the vector width, and one 128-bit path on x86 would
        /// halve the division's throughput there.
        /// </summary>
        private readonly struct Quantizer128
        {
            private readonly global::System.Runtime.Intrinsics.Vector128<float> _divisor, _offset, _low, _top, _nan;

            public Quantizer128(float scale, int zero, int min, int max, float nan)
            {
                _divisor = global::System.Runtime.Intrinsics.Vector128.Create(scale);
                _offset = global::System.Runtime.Intrinsics.Vector128.Create((float)zero);
                _low = global::System.Runtime.Intrinsics.Vector128.Create((float)min);
                _top = global::System.Runtime.Intrinsics.Vector128.Create((float)max);
                _nan = global::System.Runtime.Intrinsics.Vector128.Create(nan);
            }

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public global::System.Runtime.Intrinsics.Vector128<int> Apply(global::System.ReadOnlySpan<float> x)
            {
                var scaled = global::System.Runtime.Intrinsics.Vector128.Create(x) / _divisor;
                var v = global::System.Runtime.Intrinsics.Arm.AdvSimd.RoundToNearest(scaled) + _offset;
                v = global::System.Runtime.Intrinsics.Vector128.Min(global::System.Runtime.Intrinsics.Vector128.Max(v, _low), _top);
                v = global::System.Runtime.Intrinsics.Vector128.ConditionalSelect(global::System.Runtime.Intrinsics.Vector128.Equals(scaled, scaled), v, _nan);
                return global::System.Runtime.Intrinsics.Vector128.ConvertToInt32(v);
            }
        }
#endif
    }
}
