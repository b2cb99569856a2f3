namespace QuantGen.Generator
{
    /// <summary>
    /// The integer kernels every generated model calls, emitted once per compilation: C# 9 with a scalar path that
    /// compiles everywhere (Unity, netstandard2.1), plus SIMD paths where the compilation has System.Runtime.Intrinsics;
    /// each kernel implements one layer kind of docs/artifact.md exactly as QuantGen.Core's IntegerSimulator does, bit
    /// for bit, on every path.
    /// </summary>
    internal static class KernelSource
    {
        /// <summary>The kernels for a compilation with (true) or without System.Runtime.Intrinsics' AvxVnni and Vector512 (.NET 8+).</summary>
        public static string Text(bool intrinsics) =>
            Scalar.Replace("/*SIMD*/", intrinsics ? SimdDispatch : "").Replace("/*SIMDREQUANTIZE*/", intrinsics ? SimdRequantizeDispatch : "")
                .Replace("/*SIMDDEPTHWISE*/", intrinsics ? SimdDepthwiseDispatch : "").Replace("/*SIMDCLAMP*/", intrinsics ? SimdClampDispatch : "").Replace("/*SIMDKERNELS*/", intrinsics ? SimdKernels : "");

        /// <summary>Inserted before ClampChannels' scalar loop over one channel's run: 32 bytes at a time (vpminub).</summary>
        private const string SimdClampDispatch = @"                    if (SimdEnabled && global::System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated && h >= 0 && h <= 255)
                    {
                        var bound = global::System.Runtime.Intrinsics.Vector256.Create((byte)h);
                        for (; j + 32 <= inner; j += 32)
                            global::System.Runtime.Intrinsics.Vector256.CopyTo(
                                global::System.Runtime.Intrinsics.Vector256.Min(global::System.Runtime.Intrinsics.Vector256.Create((global::System.ReadOnlySpan<byte>)run.Slice(j, 32)), bound),
                                run.Slice(j, 32));
                    }
";

        /// <summary>Inserted before DepthwiseConv's scalar loop over a row: blocks of 8 output positions (stride 1 or 2) in AVX2/AVX-512.</summary>
        private const string SimdDepthwiseDispatch = @"                    if (SimdEnabled && (sw == 1 || sw == 2) && global::System.Runtime.Intrinsics.X86.Avx512F.VL.IsSupported)
                        ox = DepthwiseRowAvx512(plane, taps, output, oy * sh * pw, pw, kh, kw, sw, dh, dw, bo, mult, sft, negMult, negSft, zy, lo, hi);
";

        /// <summary>Inserted at the top of RequantizeChannels' loop: whole blocks of 8 channels in AVX-512, the rest scalar.</summary>
        private const string SimdRequantizeDispatch = @"            if (SimdEnabled && global::System.Runtime.Intrinsics.X86.Avx512F.IsSupported && global::System.Runtime.Intrinsics.X86.Avx512F.VL.IsSupported)
                o = RequantizeChannelsAvx512(acc, bias, multiplier, shift, negMultiplier, negShift, y, start, stride, zy, lo, hi);
";

        /// <summary>Inserted at the top of DotPacked: the SIMD paths, each behind an IsSupported check the JIT/NativeAOT fold.</summary>
        private const string SimdDispatch = @"            if (SimdEnabled && global::System.Runtime.Intrinsics.X86.AvxVnni.IsSupported)
            {
                DotPackedAvxVnni(col, w, acc, kp, mp);
                return;
            }
";

        /// <summary>The SIMD dot products (compilations with System.Runtime.Intrinsics only).</summary>
        private const string SimdKernels = @"
        /// <summary>
        /// DotPacked with AVX-VNNI (vpdpbusd: four u8 × s8 products summed into each int32 lane): the four activation
        /// bytes of a k-step are broadcast to every lane, each lane holds one output channel. Blocks of 32 channels keep
        /// four independent accumulators in registers, then blocks of 8.
        /// </summary>
        private static void DotPackedAvxVnni(global::System.ReadOnlySpan<byte> col, global::System.ReadOnlySpan<sbyte> w, global::System.Span<int> acc, int kp, int mp)
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
                ref sbyte block = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, 4 * o);
                for (int k4 = 0; k4 < kp; k4 += 4)
                {
                    var xv = global::System.Runtime.Intrinsics.Vector256.AsByte(global::System.Runtime.Intrinsics.Vector256.Create(
                        global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<int>(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref x, k4))));
                    ref sbyte row = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref block, k4 * mp);
                    a0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a0, xv, global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row));
                    a1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a1, xv, global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row, 32));
                    a2 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a2, xv, global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row, 64));
                    a3 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a3, xv, global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row, 96));
                }
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a0, ref result, (nuint)o);
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a1, ref result, (nuint)(o + 8));
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a2, ref result, (nuint)(o + 16));
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a3, ref result, (nuint)(o + 24));
            }
            for (; o < mp; o += 8)
            {
                var a0 = global::System.Runtime.Intrinsics.Vector256<int>.Zero;
                ref sbyte block = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, 4 * o);
                for (int k4 = 0; k4 < kp; k4 += 4)
                {
                    var xv = global::System.Runtime.Intrinsics.Vector256.AsByte(global::System.Runtime.Intrinsics.Vector256.Create(
                        global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<int>(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref x, k4))));
                    a0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a0, xv,
                        global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref block, k4 * mp)));
                }
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a0, ref result, (nuint)o);
            }
        }

        /// <summary>
        /// RequantizeChannels for whole blocks of 8 channels, 8 lanes of 64 bits: vpmuldq gives the exact product of the
        /// int32 accumulator and multiplier, vpsravq the per-channel arithmetic shift, vpmovqb the u8 results. Returns
        /// the number of channels done; the caller's scalar loop does the rest.
        /// </summary>
        private static int RequantizeChannelsAvx512(global::System.ReadOnlySpan<int> acc, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<int> multiplier, global::System.ReadOnlySpan<int> shift,
            global::System.ReadOnlySpan<int> negMultiplier, global::System.ReadOnlySpan<int> negShift,
            global::System.Span<byte> y, int start, int stride, int zy, int lo, int hi)
        {
            int o = 0, count = bias.Length;
            for (; o + 8 <= count; o += 8)
            {
                var a = global::System.Runtime.Intrinsics.Vector256.Create(acc.Slice(o, 8)) + global::System.Runtime.Intrinsics.Vector256.Create(bias.Slice(o, 8));
                var bytes = Requantize8Avx512(a,
                    global::System.Runtime.Intrinsics.Vector256.Create(multiplier.Slice(o, 8)), global::System.Runtime.Intrinsics.Vector256.Create(shift.Slice(o, 8)),
                    global::System.Runtime.Intrinsics.Vector256.Create(negMultiplier.Slice(o, 8)), global::System.Runtime.Intrinsics.Vector256.Create(negShift.Slice(o, 8)), zy, lo, hi);
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
        /// One whole output row of DepthwiseConv, 8 positions at a time (the last block partial): the 8 (stride 1) or 16 (stride 2, even bytes kept)
        /// input bytes of a tap zero-extended to int32 lanes (vpmovzxbd) and multiplied by the tap, all taps summed in
        /// registers, then requantized as RequantizeChannelsAvx512 does. Returns the row's length.
        /// </summary>
        private static int DepthwiseRowAvx512(global::System.Span<byte> plane, global::System.ReadOnlySpan<sbyte> taps, global::System.Span<byte> output,
            int rowStart, int pw, int kh, int kw, int sw, int dh, int dw, int bias, int multiplier, int shift, int negMultiplier, int negShift, int zy, int lo, int hi)
        {
            ref byte p = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(plane);
            var evenBytes = global::System.Runtime.Intrinsics.Vector128.Create((byte)0, 2, 4, 6, 8, 10, 12, 14, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80);
            int ox = 0, ow = output.Length;
            for (; ox < ow; ox += 8)
            {
                var acc = global::System.Runtime.Intrinsics.Vector256.Create(bias);
                for (int ky = 0, t = 0; ky < kh; ky++)
                {
                    int row = rowStart + ky * dh * pw + ox * sw;
                    for (int kx = 0; kx < kw; kx++, t++)
                    {
                        ref byte at = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref p, row + kx * dw);
                        var bytes = sw == 1
                            ? global::System.Runtime.Intrinsics.Vector128.AsByte(global::System.Runtime.Intrinsics.Vector128.CreateScalar(global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<ulong>(ref at)))
                            : global::System.Runtime.Intrinsics.X86.Ssse3.Shuffle(global::System.Runtime.Intrinsics.Vector128.LoadUnsafe(ref at), evenBytes);
                        acc += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyLow(global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int32(bytes),
                            global::System.Runtime.Intrinsics.Vector256.Create((int)taps[t]));
                    }
                }
                var result = Requantize8Avx512(acc,
                    global::System.Runtime.Intrinsics.Vector256.Create(multiplier), global::System.Runtime.Intrinsics.Vector256.Create(shift),
                    global::System.Runtime.Intrinsics.Vector256.Create(negMultiplier), global::System.Runtime.Intrinsics.Vector256.Create(negShift), zy, lo, hi);
                if (ox + 8 <= ow)
                {
                    global::System.Runtime.CompilerServices.Unsafe.WriteUnaligned(ref output[ox],
                        global::System.Runtime.Intrinsics.Vector128.ToScalar(global::System.Runtime.Intrinsics.Vector128.AsUInt64(result)));
                }
                else
                {
                    // The row's tail: lanes past its end read the plane's next bytes (or the slack) and are dropped.
                    for (int i = 0; ox + i < ow; i++) output[ox + i] = global::System.Runtime.Intrinsics.Vector128.GetElement(result, i);
                }
            }
            return ow;
        }
        /// <summary>
        /// Requantize of 8 int32 accumulators in 64-bit lanes: vpmuldq gives the exact product with the multiplier,
        /// vpsravq the per-lane arithmetic shift, the negative pair chosen per lane by the accumulator's sign; the
        /// results (already clamped to [lo, hi] within 0..255) are the low 8 bytes.
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static global::System.Runtime.Intrinsics.Vector128<byte> Requantize8Avx512(global::System.Runtime.Intrinsics.Vector256<int> a,
            global::System.Runtime.Intrinsics.Vector256<int> multiplier, global::System.Runtime.Intrinsics.Vector256<int> shift,
            global::System.Runtime.Intrinsics.Vector256<int> negMultiplier, global::System.Runtime.Intrinsics.Vector256<int> negShift, int zy, int lo, int hi)
        {
            var negative = global::System.Runtime.Intrinsics.Vector256.LessThan(a, global::System.Runtime.Intrinsics.Vector256<int>.Zero);
            var m = global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(negative, negMultiplier, multiplier);
            var s = global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(negative, negShift, shift);
            var one = global::System.Runtime.Intrinsics.Vector512.Create(1UL);
            var s64 = global::System.Runtime.Intrinsics.Vector512.AsUInt64(global::System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector512Int64(s));
            var product = global::System.Runtime.Intrinsics.X86.Avx512F.Multiply(
                global::System.Runtime.Intrinsics.Vector512.AsInt32(global::System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector512Int64(a)),
                global::System.Runtime.Intrinsics.Vector512.AsInt32(global::System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector512Int64(m)));
            var half = global::System.Runtime.Intrinsics.Vector512.AsInt64(global::System.Runtime.Intrinsics.X86.Avx512F.ShiftLeftLogicalVariable(one, s64 - one));
            var v = global::System.Runtime.Intrinsics.X86.Avx512F.ShiftRightArithmeticVariable(product + half, s64) + global::System.Runtime.Intrinsics.Vector512.Create((long)zy);
            v = global::System.Runtime.Intrinsics.Vector512.Min(global::System.Runtime.Intrinsics.Vector512.Max(v, global::System.Runtime.Intrinsics.Vector512.Create((long)lo)),
                global::System.Runtime.Intrinsics.Vector512.Create((long)hi));
            return global::System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector128Byte(v);
        }
";

        private const string Scalar = @"// <auto-generated/>
#nullable enable

namespace QuantGen.Generated
{
    /// <summary>Integer kernels shared by the QuantGen models of this assembly (docs/artifact.md gives their exact semantics).</summary>
    internal static class QuantGenKernels
    {
        /// <summary>round(acc · multiplier · 2^−shift) + zero, half toward +∞, clamped to [min, max].</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public static byte Requantize(int acc, int multiplier, int shift, int zero, int min, int max)
        {
            long v = ((acc * (long)multiplier + (1L << (shift - 1))) >> shift) + zero;
            return (byte)(v < min ? min : v > max ? max : v);
        }

        /// <summary>Requantize with a fused LeakyRelu: negative accumulators use the negative-slope multiplier.</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public static byte RequantizeLeaky(int acc, int multiplier, int shift, int negMultiplier, int negShift, int zero, int min, int max) =>
            acc >= 0 ? Requantize(acc, multiplier, shift, zero, min, max) : Requantize(acc, negMultiplier, negShift, zero, min, max);

        /// <summary>Float input → u8 grid: clamp(round_half_even(x / scale) + zero).</summary>
        public static void Quantize(global::System.ReadOnlySpan<float> x, global::System.Span<byte> y, float scale, int zero, int min, int max)
        {
            for (int i = 0; i < x.Length; i++)
            {
                float scaled = x[i] / scale;
                if (float.IsNaN(scaled))
                {
                    y[i] = (byte)(zero < min ? min : zero > max ? max : zero);
                    continue;
                }
                double r = global::System.Math.Round(scaled, global::System.MidpointRounding.ToEven) + zero;
                y[i] = (byte)(r < min ? min : r > max ? max : r);
            }
        }

        /// <summary>u8 grid → float output: scale · (q − zero).</summary>
        public static void Dequantize(global::System.ReadOnlySpan<byte> x, global::System.Span<float> y, float scale, int zero)
        {
            for (int i = 0; i < x.Length; i++) y[i] = scale * (x[i] - zero);
        }

        /// <summary>
        /// When false, the packed dot products take their scalar loop even where a SIMD path is supported: the
        /// benchmark's ""scalar"" job and the SIMD-vs-scalar tests set it. Both loops give the same int32 accumulators.
        /// </summary>
        public static bool SimdEnabled { get; set; } = true;

        /// <summary>
        /// 2-D convolution, NCHW in and out, weights pre-packed at build time as [G, KP/4, MP, 4] (KP = C/G·KH·KW
        /// rounded up to 4, MP = M/G rounded up to 8, zero padded): for every output position the receptive field is
        /// gathered into <paramref name=""col""/> (positions outside the input read zx), then one packed dot product gives
        /// the accumulators of all the group's output channels. Negative accumulators use negMultiplier/negShift (the
        /// same spans as multiplier/shift when the layer has no fused LeakyRelu).
        /// </summary>
        public static void ConvPacked(
            global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<int> multiplier, global::System.ReadOnlySpan<int> shift,
            global::System.ReadOnlySpan<int> negMultiplier, global::System.ReadOnlySpan<int> negShift, global::System.Span<byte> y,
            global::System.Span<byte> col, global::System.Span<int> acc,
            int n, int c, int h, int width, int m, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft,
            int dh, int dw, int group, int zx, int zy, int lo, int hi)
        {
            int cg = c / group, mg = m / group, k = cg * kh * kw, kp = (k + 3) & ~3, mp = (mg + 7) & ~7;
            byte pad = (byte)zx;
            col.Slice(k, kp - k).Clear();
            for (int b = 0; b < n; b++)
            for (int g = 0; g < group; g++)
            {
                var packed = w.Slice(g * kp * mp, kp * mp);
                for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    int ki = 0, iy0 = oy * sh - padTop, ix0 = ox * sw - padLeft;
                    if (iy0 >= 0 && iy0 + (kh - 1) * dh < h && ix0 >= 0 && ix0 + (kw - 1) * dw < width)
                    {
                        // The whole receptive field is inside the input: no per-tap bounds tests.
                        int origin = ((b * c + g * cg) * h + iy0) * width + ix0, planeSize = h * width, rowStep = dh * width;
                        for (int ci = 0; ci < cg; ci++, origin += planeSize)
                            for (int ky = 0, r = origin; ky < kh; ky++, r += rowStep)
                                for (int kx = 0, i = r; kx < kw; kx++, i += dw)
                                    col[ki++] = x[i];
                    }
                    else
                    for (int ci = 0; ci < cg; ci++)
                    {
                        int plane = (b * c + g * cg + ci) * h;
                        for (int ky = 0; ky < kh; ky++)
                        {
                            int iy = oy * sh - padTop + ky * dh;
                            bool rowInside = iy >= 0 && iy < h;
                            int row = (plane + iy) * width;
                            for (int kx = 0; kx < kw; kx++, ki++)
                            {
                                int ix = ox * sw - padLeft + kx * dw;
                                col[ki] = rowInside && ix >= 0 && ix < width ? x[row + ix] : pad;
                            }
                        }
                    }
                    DotPacked(col, packed, acc, kp, mp);
                    int o0 = g * mg;
                    RequantizeChannels(acc, bias.Slice(o0, mg), multiplier.Slice(o0, mg), shift.Slice(o0, mg), negMultiplier.Slice(o0, mg), negShift.Slice(o0, mg),
                        y, ((b * m + o0) * oh + oy) * ow + ox, oh * ow, zy, lo, hi);
                }
            }
        }

        /// <summary>
        /// Depthwise 2-D convolution (group = C = M), NCHW, weights [C, KH, KW] as the artifact stores them: each input
        /// plane is copied into <paramref name=""plane""/> with a border of zx (so no tap needs a bounds check), then every
        /// output row is computed from that padded plane. <paramref name=""plane""/> holds (H + top + bottom) · (W + left +
        /// right) bytes plus 64 of slack for the vector loads past a row's end.
        /// </summary>
        public static void DepthwiseConv(
            global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<int> multiplier, global::System.ReadOnlySpan<int> shift,
            global::System.ReadOnlySpan<int> negMultiplier, global::System.ReadOnlySpan<int> negShift, global::System.Span<byte> y,
            global::System.Span<byte> plane,
            int n, int c, int h, int width, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft, int padBottom, int padRight,
            int dh, int dw, int zx, int zy, int lo, int hi)
        {
            int ph = h + padTop + padBottom, pw = width + padLeft + padRight;
            var padded = plane.Slice(0, ph * pw);
            for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
            {
                padded.Fill((byte)zx);
                var input = x.Slice((b * c + ch) * h * width, h * width);
                for (int iy = 0; iy < h; iy++)
                    input.Slice(iy * width, width).CopyTo(padded.Slice((iy + padTop) * pw + padLeft, width));
                var taps = w.Slice(ch * kh * kw, kh * kw);
                int bo = bias[ch], mult = multiplier[ch], sft = shift[ch], negMult = negMultiplier[ch], negSft = negShift[ch];
                for (int oy = 0; oy < oh; oy++)
                {
                    var output = y.Slice(((b * c + ch) * oh + oy) * ow, ow);
                    int ox = 0;
/*SIMDDEPTHWISE*/                    for (; ox < ow; ox++)
                    {
                        int acc = bo, t = 0;
                        for (int ky = 0; ky < kh; ky++)
                        {
                            int row = (oy * sh + ky * dh) * pw + ox * sw;
                            for (int kx = 0; kx < kw; kx++, t++) acc += taps[t] * plane[row + kx * dw];
                        }
                        output[ox] = acc >= 0 ? Requantize(acc, mult, sft, zy, lo, hi) : Requantize(acc, negMult, negSft, zy, lo, hi);
                    }
                }
            }
        }

        /// <summary>
        /// Fully connected: every input row of K values against weights pre-packed as [KP/4, MP, 4] (as ConvPacked,
        /// one group). The row is copied into <paramref name=""col""/> so that its zero-padded tail is never read from x.
        /// </summary>
        public static void FullyConnectedPacked(
            global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<int> multiplier, global::System.ReadOnlySpan<int> shift,
            global::System.ReadOnlySpan<int> negMultiplier, global::System.ReadOnlySpan<int> negShift, global::System.Span<byte> y,
            global::System.Span<byte> col, global::System.Span<int> acc,
            int rows, int k, int m, int zy, int lo, int hi)
        {
            int kp = (k + 3) & ~3, mp = (m + 7) & ~7;
            col.Slice(k, kp - k).Clear();
            for (int r = 0; r < rows; r++)
            {
                x.Slice(r * k, k).CopyTo(col);
                DotPacked(col, w, acc, kp, mp);
                RequantizeChannels(acc, bias, multiplier, shift, negMultiplier, negShift, y, r * m, 1, zy, lo, hi);
            }
        }

        /// <summary>
        /// y[start + o·stride] = Requantize(acc[o] + bias[o], …[o]) for the bias.Length channels of one output position,
        /// the negative pair for negative accumulators.
        /// </summary>
        private static void RequantizeChannels(global::System.ReadOnlySpan<int> acc, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<int> multiplier, global::System.ReadOnlySpan<int> shift,
            global::System.ReadOnlySpan<int> negMultiplier, global::System.ReadOnlySpan<int> negShift,
            global::System.Span<byte> y, int start, int stride, int zy, int lo, int hi)
        {
            int o = 0, count = bias.Length;
/*SIMDREQUANTIZE*/            for (; o < count; o++)
            {
                int a = acc[o] + bias[o];
                y[start + o * stride] = a >= 0
                    ? Requantize(a, multiplier[o], shift[o], zy, lo, hi)
                    : Requantize(a, negMultiplier[o], negShift[o], zy, lo, hi);
            }
        }

        /// <summary>
        /// acc[o] = Σ_k col[k] · w[k/4, o, k%4] for o &lt; mp, the weights packed [kp/4, mp, 4]: u8 activations times s8
        /// weights, exact in int32 (the quantizer bounds K · 255 · 127), so every path gives the same accumulators.
        /// </summary>
        private static void DotPacked(global::System.ReadOnlySpan<byte> col, global::System.ReadOnlySpan<sbyte> w, global::System.Span<int> acc, int kp, int mp)
        {
/*SIMD*/            acc.Slice(0, mp).Clear();
            for (int k4 = 0; k4 < kp; k4 += 4)
            {
                int x0 = col[k4], x1 = col[k4 + 1], x2 = col[k4 + 2], x3 = col[k4 + 3];
                var rowWeights = w.Slice(k4 * mp, 4 * mp);
                for (int o = 0, i = 0; o < mp; o++, i += 4)
                    acc[o] += x0 * rowWeights[i] + x1 * rowWeights[i + 1] + x2 * rowWeights[i + 2] + x3 * rowWeights[i + 3];
            }
        }
/*SIMDKERNELS*/        /// <summary>y = min(y, high[c]) for channel c, y laid out [outer, channels, inner].</summary>
        public static void ClampChannels(global::System.Span<byte> y, global::System.ReadOnlySpan<int> high, int outer, int channels, int inner)
        {
            int i = 0;
            for (int p = 0; p < outer; p++)
                for (int c = 0; c < channels; c++, i += inner)
                {
                    int h = high[c], j = 0;
                    var run = y.Slice(i, inner);
/*SIMDCLAMP*/                    for (; j < inner; j++)
                        if (run[j] > h) run[j] = (byte)h;
                }
        }

        /// <summary>Max pooling over in-bounds window positions (input and output share one grid).</summary>
        public static void MaxPool(global::System.ReadOnlySpan<byte> x, global::System.Span<byte> y,
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
                y[(p * oh + oy) * ow + ox] = (byte)best;
            }
        }

        /// <summary>Average pooling: the sum of (x − zx) over the window, requantized by the entry for its element count.</summary>
        public static void AveragePool(global::System.ReadOnlySpan<byte> x, global::System.Span<byte> y,
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
        public static void Add(global::System.ReadOnlySpan<byte> a, global::System.ReadOnlySpan<byte> b, global::System.Span<byte> y,
            int za, int zb, int ma, int mb, int shift, int zy, int lo, int hi)
        {
            long half = 1L << (shift - 1);
            for (int i = 0; i < y.Length; i++)
            {
                long v = (((long)(a[i] - za) * ma + (long)(b[i] - zb) * mb + half) >> shift) + zy;
                y[i] = (byte)(v < lo ? lo : v > hi ? hi : v);
            }
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
    }
}
";
    }
}
