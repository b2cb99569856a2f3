// QuantGen kernels of the models with 16-bit activations (ActivationBits=16), emitted only into compilations that have one.
// Emitted into the consumer's assembly by QuantGen.Generator (docs/generator.md, "Kernels").
#nullable enable

namespace QuantGen.Generated
{
    /// <summary>Integer kernels of the QuantGen models with 16-bit activations (docs/artifact.md, "16-bit activations").</summary>
    internal static class QuantGenWideKernels
    {
        /// <summary>
        /// round(acc · multiplier · 2^−shift) + zero, half toward +∞, clamped to [min, max]. The artifact builder
        /// chose the multiplier's precision so that |acc| · multiplier stays below 2^62: the product is exact.
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public static short Requantize(long acc, int multiplier, int shift, int zero, int min, int max)
        {
            long v = ((acc * multiplier + (1L << (shift - 1))) >> shift) + zero;
            return (short)(v < min ? min : v > max ? max : v);
        }

        /// <summary>
        /// When false, Dot takes its scalar loop even where a SIMD path is supported (the SIMD-vs-scalar tests set it).
        /// Both give the same exact int64 sums.
        /// </summary>
        public static bool SimdEnabled { get; set; } = true;

        /// <summary>Float input → i16 grid: clamp(round_half_even(x / scale) + zero).</summary>
        public static void Quantize(global::System.ReadOnlySpan<float> x, global::System.Span<short> y, float scale, int zero, int min, int max)
        {
            for (int i = 0; i < x.Length; i++)
            {
                float scaled = x[i] / scale;
                if (float.IsNaN(scaled))
                {
                    y[i] = (short)(zero < min ? min : zero > max ? max : zero);
                    continue;
                }
                double r = global::System.Math.Round(scaled, global::System.MidpointRounding.ToEven) + zero;
                y[i] = (short)(r < min ? min : r > max ? max : r);
            }
        }

        /// <summary>i16 grid → float output: scale · (q − zero).</summary>
        public static void Dequantize(global::System.ReadOnlySpan<short> x, global::System.Span<float> y, float scale, int zero)
        {
            for (int i = 0; i < x.Length; i++) y[i] = scale * (x[i] - zero);
        }

        /// <summary>
        /// 2-D convolution, NCHW in and out, weights [M, C/G, KH, KW] as in the artifact: for every output position the
        /// receptive field of each group is gathered into <paramref name="col"/> (positions outside the input read zx),
        /// then each output channel's int64 dot product with it is requantized. Negative accumulators use
        /// negMultiplier/negShift (the same spans as multiplier/shift without a fused LeakyRelu); then min(·, high[o])
        /// where the layer has per-channel upper bounds (clampHigh; <paramref name="high"/> is empty otherwise).
        /// </summary>
        public static void Conv(
            global::System.ReadOnlySpan<short> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<int> multiplier, global::System.ReadOnlySpan<int> shift,
            global::System.ReadOnlySpan<int> negMultiplier, global::System.ReadOnlySpan<int> negShift, global::System.ReadOnlySpan<int> high, global::System.Span<short> y,
            global::System.Span<short> col,
            int n, int c, int h, int width, int m, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft,
            int dh, int dw, int group, int zx, int zy, int lo, int hi)
        {
            int cg = c / group, mg = m / group, k = cg * kh * kw, plane = oh * ow;
            for (int b = 0; b < n; b++)
                for (int g = 0; g < group; g++)
                    for (int oy = 0; oy < oh; oy++)
                        for (int ox = 0; ox < ow; ox++)
                        {
                            int t = 0;
                            for (int ci = 0; ci < cg; ci++)
                            {
                                var input = x.Slice(((b * c) + g * cg + ci) * h * width, h * width);
                                for (int ky = 0; ky < kh; ky++)
                                {
                                    int iy = oy * sh - padTop + ky * dh;
                                    bool rowInside = iy >= 0 && iy < h;
                                    for (int kx = 0; kx < kw; kx++, t++)
                                    {
                                        int ix = ox * sw - padLeft + kx * dw;
                                        col[t] = rowInside && ix >= 0 && ix < width ? input[iy * width + ix] : (short)zx;
                                    }
                                }
                            }
                            var field = col.Slice(0, k);
                            for (int o = g * mg; o < (g + 1) * mg; o++)
                            {
                                long acc = bias[o] + Dot(w.Slice(o * k, k), field);
                                y[(b * m + o) * plane + oy * ow + ox] = Clip(acc >= 0
                                    ? Requantize(acc, multiplier[o], shift[o], zy, lo, hi)
                                    : Requantize(acc, negMultiplier[o], negShift[o], zy, lo, hi), high, o);
                            }
                        }
        }

        /// <summary>
        /// Fully connected: for every row r of the input, acc = bias[m] + Σ_k w[m, k] · x[r, k] in int64, requantized
        /// (negMultiplier/negShift for negative accumulators, then clampHigh's bound, as Conv).
        /// </summary>
        public static void FullyConnected(
            global::System.ReadOnlySpan<short> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<int> multiplier, global::System.ReadOnlySpan<int> shift,
            global::System.ReadOnlySpan<int> negMultiplier, global::System.ReadOnlySpan<int> negShift, global::System.ReadOnlySpan<int> high, global::System.Span<short> y,
            int rows, int k, int m, int zy, int lo, int hi)
        {
            for (int r = 0; r < rows; r++)
            {
                var input = x.Slice(r * k, k);
                for (int o = 0; o < m; o++)
                {
                    long acc = bias[o] + Dot(w.Slice(o * k, k), input);
                    y[r * m + o] = Clip(acc >= 0
                        ? Requantize(acc, multiplier[o], shift[o], zy, lo, hi)
                        : Requantize(acc, negMultiplier[o], negShift[o], zy, lo, hi), high, o);
                }
            }
        }

        /// <summary>
        /// Σ w[i] · x[i] in int64. Each product of an int8 and an i16 value fits int32 (|p| &lt; 2^22), so runs of 256
        /// products are summed in int32 (|sum| &lt; 2^30) before widening: exact, and cheaper than widening each term.
        /// </summary>
        public static long Dot(global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<short> x)
        {
            // The SIMD loop reads x through LoadUnsafe as far as w reaches: x must be at least as long (docs/security.md).
            if (x.Length < w.Length) throw new global::System.ArgumentOutOfRangeException(nameof(x), "Dot: x is shorter than w.");
            long sum = 0;
            int i = 0;
#if QUANTGEN_INTRINSICS
            if (SimdEnabled && global::System.Runtime.Intrinsics.X86.Avx2.IsSupported)
            {
                ref sbyte weights = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w);
                ref short values = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
                int whole = w.Length & ~15;
                while (i < whole)
                {
                    int end = global::System.Math.Min(whole, i + 16 * 256);
                    var lanes = global::System.Runtime.Intrinsics.Vector256<int>.Zero;
                    for (; i < end; i += 16)
                    {
                        var wv = global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int16(global::System.Runtime.Intrinsics.Vector128.LoadUnsafe(ref weights, (nuint)i));
                        var xv = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref values, (nuint)i);
                        lanes = global::System.Runtime.Intrinsics.X86.Avx2.Add(lanes, global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(wv, xv));
                    }
                    sum += global::System.Runtime.Intrinsics.Vector256.Sum(global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int64(global::System.Runtime.Intrinsics.Vector256.GetLower(lanes)))
                        + global::System.Runtime.Intrinsics.Vector256.Sum(global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int64(global::System.Runtime.Intrinsics.Vector256.GetUpper(lanes)));
                }
            }
#endif
            for (int start = i; start < w.Length; start += 256)
            {
                int end = global::System.Math.Min(w.Length, start + 256), run = 0;
                for (int j = start; j < end; j++) run += w[j] * x[j];
                sum += run;
            }
            return sum;
        }

        /// <summary>
        /// min(value, high[o]): the per-channel upper bound of equalized bounded activations (clampHigh), folded into
        /// requantization as in the u8 kernels; <paramref name="high"/> is empty for a layer without one.
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static short Clip(short value, global::System.ReadOnlySpan<int> high, int o) =>
            high.Length != 0 && value > high[o] ? (short)high[o] : value;

        /// <summary>Max pooling over in-bounds window positions (input and output share one grid).</summary>
        public static void MaxPool(global::System.ReadOnlySpan<short> x, global::System.Span<short> y,
            int planes, int h, int width, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft, int dh, int dw)
        {
            for (int p = 0; p < planes; p++)
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        int best = int.MinValue;
                        for (int ky = 0; ky < kh; ky++)
                        {
                            int iy = oy * sh - padTop + ky * dh;
                            if (iy < 0 || iy >= h) continue;
                            for (int kx = 0; kx < kw; kx++)
                            {
                                int ix = ox * sw - padLeft + kx * dw;
                                if (ix < 0 || ix >= width) continue;
                                int v = x[(p * h + iy) * width + ix];
                                if (v > best) best = v;
                            }
                        }
                        y[(p * oh + oy) * ow + ox] = (short)best;
                    }
        }

        /// <summary>
        /// Average pooling: the sum of (x − zx) over the window (an int32: at most 65536 · 32767, which the quantizer
        /// checks), requantized by the entry for its element count.
        /// </summary>
        public static void AveragePool(global::System.ReadOnlySpan<short> x, global::System.Span<short> y,
            global::System.ReadOnlySpan<int> multiplier, global::System.ReadOnlySpan<int> shift,
            int planes, int h, int width, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft,
            bool countIncludePad, int zx, int zy, int lo, int hi)
        {
            for (int p = 0; p < planes; p++)
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        int acc = 0, count = 0;
                        for (int ky = 0; ky < kh; ky++)
                        {
                            int iy = oy * sh - padTop + ky;
                            if (iy < 0 || iy >= h) continue;
                            for (int kx = 0; kx < kw; kx++)
                            {
                                int ix = ox * sw - padLeft + kx;
                                if (ix < 0 || ix >= width) continue;
                                acc += x[(p * h + iy) * width + ix] - zx;
                                count++;
                            }
                        }
                        int entry = countIncludePad ? kh * kw : count;
                        y[(p * oh + oy) * ow + ox] = Requantize(acc, multiplier[entry], shift[entry], zy, lo, hi);
                    }
        }

        /// <summary>Elementwise sum of two grids onto the output grid, one rounding in 64 bits.</summary>
        public static void Add(global::System.ReadOnlySpan<short> a, global::System.ReadOnlySpan<short> b, global::System.Span<short> y,
            int za, int zb, int ma, int mb, int shift, int zy, int lo, int hi)
        {
            long half = 1L << (shift - 1);
            for (int i = 0; i < y.Length; i++)
            {
                long v = (((long)(a[i] - za) * ma + (long)(b[i] - zb) * mb + half) >> shift) + zy;
                y[i] = (short)(v < lo ? lo : v > hi ? hi : v);
            }
        }
    }
}
