// QuantGen kernels: max and average pooling, NCHW and NHWC.
// Emitted into the consumer's assembly by QuantGen.Generator (docs/generator.md, "Kernels").
#nullable enable

namespace QuantGen.Generated
{
    internal static partial class QuantGenKernels
    {
        /// <summary>Max pooling, NHWC: each output pixel is the elementwise max of its window's in-bounds input pixels.</summary>
        public static void MaxPoolNhwc(global::System.ReadOnlySpan<byte> x, global::System.Span<byte> y,
            int n, int c, int h, int width, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft, int dh, int dw)
        {
            CheckWindow(x.Length, y.Length, n, c, h, width, c, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw);
#if QUANTGEN_INTRINSICS
            if (SimdEnabled && (c & 15) == 0 && global::System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated)
            {
                MaxPoolNhwcVector(x, y, n, c, h, width, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw);
                return;
            }
#endif
            for (int b = 0; b < n; b++)
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        var output = y.Slice(((b * oh + oy) * ow + ox) * c, c);
                        bool first = true;
                        for (int ky = 0; ky < kh; ky++)
                        {
                            int iy = oy * sh - padTop + ky * dh;
                            if (iy < 0 || iy >= h) continue;
                            for (int kx = 0; kx < kw; kx++)
                            {
                                int ix = ox * sw - padLeft + kx * dw;
                                if (ix < 0 || ix >= width) continue;
                                var input = x.Slice(((b * h + iy) * width + ix) * c, c);
                                if (first) input.CopyTo(output);
                                else MaxInto(output, input);
                                first = false;
                            }
                        }
                        // A window with no input pixel gives 0, as the NCHW kernel's (byte)int.MinValue.
                        if (first) output.Clear();
                    }
        }

        /// <summary>y[i] = max(y[i], x[i]).</summary>
        private static void MaxInto(global::System.Span<byte> y, global::System.ReadOnlySpan<byte> x)
        {
            int i = 0;
#if QUANTGEN_INTRINSICS
            if (SimdEnabled && global::System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated)
                for (; i + 32 <= y.Length; i += 32)
                    global::System.Runtime.Intrinsics.Vector256.CopyTo(
                        global::System.Runtime.Intrinsics.Vector256.Max(global::System.Runtime.Intrinsics.Vector256.Create((global::System.ReadOnlySpan<byte>)y.Slice(i, 32)),
                            global::System.Runtime.Intrinsics.Vector256.Create(x.Slice(i, 32))),
                        y.Slice(i, 32));
            if (SimdEnabled && global::System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated)
                for (; i + 16 <= y.Length; i += 16)
                    global::System.Runtime.Intrinsics.Vector128.CopyTo(
                        global::System.Runtime.Intrinsics.Vector128.Max(global::System.Runtime.Intrinsics.Vector128.Create((global::System.ReadOnlySpan<byte>)y.Slice(i, 16)),
                            global::System.Runtime.Intrinsics.Vector128.Create(x.Slice(i, 16))),
                        y.Slice(i, 16));
#endif
            for (; i < y.Length; i++)
                if (x[i] > y[i]) y[i] = x[i];
        }

        /// <summary>Average pooling, NHWC: AveragePool's sums and requantization, channel by channel.</summary>
        public static void AveragePoolNhwc(global::System.ReadOnlySpan<byte> x, global::System.Span<byte> y,
            global::System.ReadOnlySpan<int> multiplier, global::System.ReadOnlySpan<int> shift,
            int n, int c, int h, int width, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft,
            bool countIncludePad, int zx, int zy, int lo, int hi)
        {
            CheckWindow(x.Length, y.Length, n, c, h, width, c, oh, ow, kh, kw, sh, sw, padTop, padLeft, 1, 1);
            for (int b = 0; b < n; b++)
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        int outBase = ((b * oh + oy) * ow + ox) * c, ch = 0;
                        // The window's in-bounds pixels, the same for every channel.
                        int rows = global::System.Math.Max(0, global::System.Math.Min(oy * sh - padTop + kh, h) - global::System.Math.Max(oy * sh - padTop, 0));
                        int columns = global::System.Math.Max(0, global::System.Math.Min(ox * sw - padLeft + kw, width) - global::System.Math.Max(ox * sw - padLeft, 0));
                        int count = rows * columns, entry = countIncludePad ? kh * kw : count;
#if QUANTGEN_INTRINSICS
                if (SimdEnabled && global::System.Runtime.Intrinsics.X86.Avx512F.VL.IsSupported)
                    ch = AverageChannelsAvx512(x, y, multiplier[entry], shift[entry], outBase, b, oy * sh - padTop, ox * sw - padLeft,
                        c, h, width, kh, kw, count * zx, zy, lo, hi);
                else if (SimdEnabled && global::System.Runtime.Intrinsics.X86.Avx2.IsSupported)
                    ch = AverageChannelsAvx2(x, y, multiplier[entry], shift[entry], outBase, b, oy * sh - padTop, ox * sw - padLeft,
                        c, h, width, kh, kw, count * zx, zy, lo, hi);
#endif
                        for (; ch < c; ch++)
                        {
                            int acc = 0;
                            for (int ky = 0; ky < kh; ky++)
                            {
                                int iy = oy * sh - padTop + ky;
                                if (iy < 0 || iy >= h) continue;
                                for (int kx = 0; kx < kw; kx++)
                                {
                                    int ix = ox * sw - padLeft + kx;
                                    if (ix < 0 || ix >= width) continue;
                                    acc += x[((b * h + iy) * width + ix) * c + ch] - zx;
                                }
                            }
                            y[outBase + ch] = Requantize(acc, multiplier[entry], shift[entry], zy, lo, hi);
                        }
                    }
        }

        /// <summary>Max pooling over in-bounds window positions (input and output share one grid).</summary>
        public static void MaxPool(global::System.ReadOnlySpan<byte> x, global::System.Span<byte> y,
            int planes, int h, int width, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft, int dh, int dw)
        {
            CheckWindow(x.Length, y.Length, planes, 1, h, width, 1, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw);
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
                        y[(p * oh + oy) * ow + ox] = (byte)best;
                    }
        }

        /// <summary>Average pooling: the sum of (x − zx) over the window, requantized by the entry for its element count.</summary>
        public static void AveragePool(global::System.ReadOnlySpan<byte> x, global::System.Span<byte> y,
            global::System.ReadOnlySpan<int> multiplier, global::System.ReadOnlySpan<int> shift,
            int planes, int h, int width, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft,
            bool countIncludePad, int zx, int zy, int lo, int hi)
        {
            CheckWindow(x.Length, y.Length, planes, 1, h, width, 1, oh, ow, kh, kw, sh, sw, padTop, padLeft, 1, 1);
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

#if QUANTGEN_INTRINSICS
        /// <summary>
        /// AveragePoolNhwc for whole blocks of 8 channels of one output position: the window's bytes summed in int32
        /// lanes, count · zx subtracted (the same integer as Σ(x − zx)), requantized with the window's multiplier in
        /// 64-bit lanes as the scalar Requantize (vpmuldq's exact product, rounding term, vpsraq, clamp), vpmovqb.
        /// </summary>
        private static int AverageChannelsAvx512(global::System.ReadOnlySpan<byte> x, global::System.Span<byte> y, int multiplier, int shift, int outBase,
            int b, int iy0, int ix0, int c, int h, int width, int kh, int kw, int offset, int zy, int lo, int hi)
        {
            ref byte input = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
            // vpmuldq multiplies each 64-bit lane's low int32s: the multiplier sits in every lane's low half.
            var m = global::System.Runtime.Intrinsics.Vector512.AsInt32(global::System.Runtime.Intrinsics.Vector512.Create((long)multiplier));
            var half = global::System.Runtime.Intrinsics.Vector512.Create(1L << (shift - 1));
            var zero = global::System.Runtime.Intrinsics.Vector512.Create((long)zy);
            var low = global::System.Runtime.Intrinsics.Vector512.Create((long)lo);
            var top = global::System.Runtime.Intrinsics.Vector512.Create((long)hi);
            int ch = 0;
            for (; ch + 8 <= c; ch += 8)
            {
                var acc = global::System.Runtime.Intrinsics.Vector256.Create(-offset);
                for (int iy = iy0 < 0 ? 0 : iy0; iy < iy0 + kh && iy < h; iy++)
                    for (int ix = ix0 < 0 ? 0 : ix0; ix < ix0 + kw && ix < width; ix++)
                        acc += global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int32(global::System.Runtime.Intrinsics.Vector128.AsByte(
                            global::System.Runtime.Intrinsics.Vector128.CreateScalar(global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<ulong>(
                                ref global::System.Runtime.CompilerServices.Unsafe.Add(ref input, ((b * h + iy) * width + ix) * c + ch)))));
                var product = global::System.Runtime.Intrinsics.X86.Avx512F.Multiply(
                    global::System.Runtime.Intrinsics.Vector512.AsInt32(global::System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector512Int64(acc)), m);
                var v = global::System.Runtime.Intrinsics.Vector512.ShiftRightArithmetic(product + half, shift) + zero;
                v = global::System.Runtime.Intrinsics.Vector512.Min(global::System.Runtime.Intrinsics.Vector512.Max(v, low), top);
                global::System.Runtime.CompilerServices.Unsafe.WriteUnaligned(ref y.Slice(outBase + ch, 8)[0],
                    global::System.Runtime.Intrinsics.Vector128.ToScalar(global::System.Runtime.Intrinsics.Vector128.AsUInt64(
                        global::System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector128Byte(v))));
            }
            return ch;
        }

        /// <summary>
        /// MaxPoolNhwc for a multiple of 16 channels: per output pixel, the window's in-bounds taps folded with vpmaxub
        /// 16 channels at a time; a window with no input pixel gives 0.
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private static void MaxPoolNhwcVector(global::System.ReadOnlySpan<byte> x, global::System.Span<byte> y,
            int n, int c, int h, int width, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft, int dh, int dw)
        {
            if (x.Length < n * h * width * c || y.Length < n * oh * ow * c) throw new global::System.ArgumentException("The buffers do not hold the tensors.");
            ref byte input = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
            ref byte output = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(y);
            for (int b = 0; b < n; b++)
            for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
            {
                int iy0 = oy * sh - padTop, ix0 = ox * sw - padLeft, target = ((b * oh + oy) * ow + ox) * c;
                for (int ch = 0; ch < c; ch += 16)
                {
                    // Every value is ≥ 0, so 0 is the identity of the max (and the result of an empty window).
                    var best = global::System.Runtime.Intrinsics.Vector128<byte>.Zero;
                    for (int ky = 0; ky < kh; ky++)
                    {
                        int iy = iy0 + ky * dh;
                        if ((uint)iy >= (uint)h) continue;
                        for (int kx = 0; kx < kw; kx++)
                        {
                            int ix = ix0 + kx * dw;
                            if ((uint)ix >= (uint)width) continue;
                            best = global::System.Runtime.Intrinsics.Vector128.Max(best,
                                global::System.Runtime.Intrinsics.Vector128.LoadUnsafe(ref input, (nuint)(((b * h + iy) * width + ix) * c + ch)));
                        }
                    }
                    global::System.Runtime.Intrinsics.Vector128.StoreUnsafe(best, ref output, (nuint)(target + ch));
                }
            }
        }

        /// <summary>
        /// AverageChannelsAvx512 for AVX2: the window's bytes of 8 channels summed in int32 lanes, count · zx subtracted,
        /// then Requantize's 64-bit steps on two 4-lane halves (vpmuldq, ShiftClamp). Returns the channels done (0 for a
        /// shift outside [1, 62]).
        /// </summary>
        private static int AverageChannelsAvx2(global::System.ReadOnlySpan<byte> x, global::System.Span<byte> y, int multiplier, int shift, int outBase,
            int b, int iy0, int ix0, int c, int h, int width, int kh, int kw, int offset, int zy, int lo, int hi)
        {
            if (shift < 1 || shift > 62 || x.Length < (b + 1) * h * width * c) return 0;
            ref byte input = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
            var m = global::System.Runtime.Intrinsics.Vector256.AsInt32(global::System.Runtime.Intrinsics.Vector256.Create((long)multiplier));
            var rounding = global::System.Runtime.Intrinsics.Vector256.Create((1L << (shift - 1)) + (1L << 62));
            var after = global::System.Runtime.Intrinsics.Vector256.Create((long)zy - ((1L << 62) >> shift));
            var low = global::System.Runtime.Intrinsics.Vector256.Create((long)lo);
            var top = global::System.Runtime.Intrinsics.Vector256.Create((long)hi);
            int ch = 0;
            for (; ch + 8 <= c; ch += 8)
            {
                var acc = global::System.Runtime.Intrinsics.Vector256.Create(-offset);
                for (int iy = iy0 < 0 ? 0 : iy0; iy < iy0 + kh && iy < h; iy++)
                    for (int ix = ix0 < 0 ? 0 : ix0; ix < ix0 + kw && ix < width; ix++)
                        acc += global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int32(global::System.Runtime.Intrinsics.Vector128.AsByte(
                            global::System.Runtime.Intrinsics.Vector128.CreateScalar(global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<ulong>(
                                ref global::System.Runtime.CompilerServices.Unsafe.Add(ref input, ((b * h + iy) * width + ix) * c + ch)))));
                var v0 = ShiftClamp(global::System.Runtime.Intrinsics.X86.Avx2.Multiply(global::System.Runtime.Intrinsics.Vector256.AsInt32(
                    global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int64(global::System.Runtime.Intrinsics.Vector256.GetLower(acc))), m), rounding, shift, after, low, top);
                var v1 = ShiftClamp(global::System.Runtime.Intrinsics.X86.Avx2.Multiply(global::System.Runtime.Intrinsics.Vector256.AsInt32(
                    global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int64(global::System.Runtime.Intrinsics.Vector256.GetUpper(acc))), m), rounding, shift, after, low, top);
                var ints = global::System.Runtime.Intrinsics.Vector256.Narrow(v0, v1);
                var words = global::System.Runtime.Intrinsics.Vector128.Narrow(global::System.Runtime.Intrinsics.Vector256.GetLower(ints), global::System.Runtime.Intrinsics.Vector256.GetUpper(ints));
                var bytes = global::System.Runtime.Intrinsics.Vector128.Narrow(global::System.Runtime.Intrinsics.Vector128.AsUInt16(words), global::System.Runtime.Intrinsics.Vector128.AsUInt16(words));
                global::System.Runtime.CompilerServices.Unsafe.WriteUnaligned(ref y.Slice(outBase + ch, 8)[0],
                    global::System.Runtime.Intrinsics.Vector128.ToScalar(global::System.Runtime.Intrinsics.Vector128.AsUInt64(bytes)));
            }
            return ch;
        }
#endif
    }
}
