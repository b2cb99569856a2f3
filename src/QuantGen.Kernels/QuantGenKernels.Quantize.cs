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
            if (SimdEnabled && global::System.Runtime.Intrinsics.X86.Avx512F.IsSupported)
                i = QuantizeAvx512(x, y, scale, zero, min, max);
#endif
            for (; i < x.Length; i++) y[i] = QuantizeValue(x[i], scale, zero, min, max);
        }

        /// <summary>Quantize of an NCHW float image into an NHWC buffer: the transpose happens at the model's edge, in the same pass.</summary>
        public static void QuantizeToNhwc(global::System.ReadOnlySpan<float> x, global::System.Span<byte> y, float scale, int zero, int min, int max,
            int channels, int pixels)
        {
            int image = channels * pixels;
            for (int b = 0; b < x.Length; b += image)
                for (int ch = 0; ch < channels; ch++)
                    for (int p = 0, i = b + ch * pixels, o = b + ch; p < pixels; p++, i++, o += channels)
                        y[o] = QuantizeValue(x[i], scale, zero, min, max);
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
        /// Quantize for whole blocks of 16 floats: the same IEEE division (vdivps), round half to even (vrndscaleps),
        /// + zero and the clamp in float (exact: a rounded value beyond 2^24 is clamped either way), NaN to the clamped
        /// zero point, vpmovdb. Returns the number of elements done.
        /// </summary>
        private static int QuantizeAvx512(global::System.ReadOnlySpan<float> x, global::System.Span<byte> y, float scale, int zero, int min, int max)
        {
            var divisor = global::System.Runtime.Intrinsics.Vector512.Create(scale);
            var offset = global::System.Runtime.Intrinsics.Vector512.Create((float)zero);
            var low = global::System.Runtime.Intrinsics.Vector512.Create((float)min);
            var top = global::System.Runtime.Intrinsics.Vector512.Create((float)max);
            var nan = global::System.Runtime.Intrinsics.Vector512.Create((float)(zero < min ? min : zero > max ? max : zero));
            int i = 0;
            for (; i + 16 <= x.Length; i += 16)
            {
                var scaled = global::System.Runtime.Intrinsics.Vector512.Create(x.Slice(i, 16)) / divisor;
                var v = global::System.Runtime.Intrinsics.X86.Avx512F.RoundScale(scaled, 0) + offset;
                v = global::System.Runtime.Intrinsics.Vector512.Min(global::System.Runtime.Intrinsics.Vector512.Max(v, low), top);
                v = global::System.Runtime.Intrinsics.Vector512.ConditionalSelect(global::System.Runtime.Intrinsics.Vector512.Equals(scaled, scaled), v, nan);
                var bytes = global::System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector128Byte(global::System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector512Int32WithTruncation(v));
                global::System.Runtime.Intrinsics.Vector128.CopyTo(bytes, y.Slice(i, 16));
            }
            return i;
        }
#endif
    }
}
