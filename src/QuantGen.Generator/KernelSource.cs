namespace QuantGen.Generator
{
    /// <summary>
    /// The integer kernels every generated model calls, emitted once per compilation: C# 9 with a scalar path that
    /// compiles everywhere (Unity, netstandard2.1), plus SIMD paths where the compilation has System.Runtime.Intrinsics;
    /// each kernel implements one layer kind of docs/artifact.md exactly as QuantGen.Core's IntegerSimulator does, bit
    /// for bit, on every path.
    /// </summary>
    internal static partial class KernelSource
    {
        /// <summary>The kernels for a compilation with (true) or without System.Runtime.Intrinsics' AvxVnni and Vector512 (.NET 8+).</summary>
        public static string Text(bool intrinsics)
        {
            var text = Scalar;
            foreach (var (marker, simd) in Insertions)
                text = text.Replace(marker, intrinsics ? simd : "");
            return text;
        }

        /// <summary>Each SIMD path, inserted at its marker in the scalar kernels (or the marker removed).</summary>
        private static readonly (string Marker, string Simd)[] Insertions =
        {
            ("/*SIMD*/", SimdDispatch),
            ("/*SIMDDOT4*/", SimdDot4Dispatch),
            ("/*SIMDCONVROWS*/", SimdConvRowsDispatch),
            ("/*SIMDCONVPOOL*/", SimdConvPoolDispatch),
            ("/*SIMDAVERAGE*/", SimdAverageDispatch),
            ("/*SIMDREQUANTIZE*/", SimdRequantizeDispatch),
            ("/*SIMDDEPTHWISE*/", SimdDepthwiseDispatch),
            ("/*SIMDDEPTHWISENHWC*/", SimdDepthwiseNhwcDispatch),
            ("/*SIMDMAX*/", SimdMaxDispatch),
            ("/*SIMDMAXPOOL*/", SimdMaxPoolDispatch),
            ("/*SIMDADD*/", SimdAddDispatch),
            ("/*SIMDQUANTIZE*/", SimdQuantizeDispatch),
            ("/*SIMDKERNELS*/", SimdKernels + Avx2Kernels),
        };

        /// <summary>Inserted before MaxInto's scalar loop: 32 bytes at a time (vpmaxub).</summary>
        private const string SimdMaxDispatch = @"            if (SimdEnabled && global::System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated)
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
";

        /// <summary>Inserted at the top of MaxPoolNhwc: whole pixels of a multiple of 16 channels, 16 at a time.</summary>
        private const string SimdMaxPoolDispatch = @"            if (SimdEnabled && (c & 15) == 0 && global::System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated)
            {
                MaxPoolNhwcVector(x, y, n, c, h, width, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw);
                return;
            }
";

        /// <summary>Inserted before Quantize's scalar loop: 16 floats at a time (AVX-512).</summary>
        private const string SimdQuantizeDispatch = @"            if (SimdEnabled && global::System.Runtime.Intrinsics.X86.Avx512F.IsSupported)
                i = QuantizeAvx512(x, y, scale, zero, min, max);
";

        /// <summary>Inserted before Add's scalar loop: 8 elements at a time in 64-bit lanes (AVX-512, or AVX2).</summary>
        private const string SimdAddDispatch = @"            if (SimdEnabled && global::System.Runtime.Intrinsics.X86.Avx512F.IsSupported)
                i = AddAvx512(a, b, y, za, zb, ma, mb, shift, zy, lo, hi);
            else if (SimdEnabled && global::System.Runtime.Intrinsics.X86.Avx2.IsSupported)
                i = AddAvx2(a, b, y, za, zb, ma, mb, shift, zy, lo, hi);
";

        /// <summary>
        /// Inserted at the top of DepthwiseConvNhwc: with AVX-VNNI and AVX-512 (VBMI) a kernel row per vpdpbusd (kernels
        /// up to 4 wide, 16 channels at a time), else with AVX-512 the whole layer 16 channels at a time, with AVX2 8 at a time, from a padded plane in
        /// the scratch (the channels past the last whole block take the scalar loop below).
        /// </summary>
        private const string SimdDepthwiseNhwcDispatch = @"            if (SimdEnabled && VnniEnabled && global::System.Runtime.Intrinsics.X86.AvxVnni.IsSupported && global::System.Runtime.Intrinsics.X86.Avx512Vbmi.IsSupported)
                first = DepthwiseNhwcAvxVnni(x, w, bias, scale, negScale, high, y, border,
                    n, c, h, width, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw, zx, zy, lo, hi);
            if (first == 0 && SimdEnabled && global::System.Runtime.Intrinsics.X86.Avx512F.VL.IsSupported)
                first = DepthwiseNhwcAvx512(x, w, bias, scale, negScale, high, y, border,
                    n, c, h, width, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw, zx, zy, lo, hi);
            else if (first == 0 && SimdEnabled && global::System.Runtime.Intrinsics.X86.Avx2.IsSupported)
                first = DepthwiseNhwcAvx2(x, w, bias, scale, negScale, high, y, border,
                    n, c, h, width, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw, zx, zy, lo, hi);
";

        /// <summary>
        /// Inserted at the top of ConvNhwc: group 1 without horizontal dilation reads its kernel rows in place, from a
        /// padded copy of the input or, for a 1×1 convolution without padding over a multiple of 4 channels, from the
        /// input itself (ConvRowsAvxVnni; AVX-VNNI, with AVX-512 for 16-channel blocks or AVX2 for 8-channel ones).
        /// </summary>
        private const string SimdConvRowsDispatch = @"            if (SimdEnabled && VnniEnabled && group == 1 && dw == 1 && (m & 7) == 0
                && global::System.Runtime.Intrinsics.X86.AvxVnni.IsSupported
                && ConvRowsAvxVnni(x, w, bias, scale, negScale, high, y, col, false,
                    n, c, h, width, m, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, zx, zy, lo, hi, part, parts))
                return;
            if (SimdEnabled && group == 1 && dw == 1 && (m & 7) == 0
                && global::System.Runtime.Intrinsics.X86.Avx2.IsSupported
                && ConvRowsAvx2(x, w, bias, scale, negScale, high, y, col, false,
                    n, c, h, width, m, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, zx, zy, lo, hi, part, parts))
                return;
";

        /// <summary>
        /// Inserted at the top of ConvMaxPoolNhwc: the convolution's fields walked one 2×2 pooling window at a time, the
        /// window's largest accumulators requantized into the pooled output (the convolution's output is never written).
        /// </summary>
        private const string SimdConvPoolDispatch = @"            if (SimdEnabled && VnniEnabled && dw == 1 && (m & 7) == 0
                && global::System.Runtime.Intrinsics.X86.AvxVnni.IsSupported
                && ConvRowsAvxVnni(x, w, bias, scale, negScale, high, pooled, col, true,
                    n, c, h, width, m, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, zx, zy, lo, hi, 0, 1))
                return;
            if (SimdEnabled && dw == 1 && (m & 7) == 0
                && global::System.Runtime.Intrinsics.X86.Avx2.IsSupported
                && ConvRowsAvx2(x, w, bias, scale, negScale, high, pooled, col, true,
                    n, c, h, width, m, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, zx, zy, lo, hi, 0, 1))
                return;
";

        /// <summary>Inserted before AveragePoolNhwc's scalar loop over channels: sums of 8 channels in int32 lanes (AVX-512, or AVX2).</summary>
        private const string SimdAverageDispatch = @"                if (SimdEnabled && global::System.Runtime.Intrinsics.X86.Avx512F.VL.IsSupported)
                    ch = AverageChannelsAvx512(x, y, multiplier[entry], shift[entry], outBase, b, oy * sh - padTop, ox * sw - padLeft,
                        c, h, width, kh, kw, count * zx, zy, lo, hi);
                else if (SimdEnabled && global::System.Runtime.Intrinsics.X86.Avx2.IsSupported)
                    ch = AverageChannelsAvx2(x, y, multiplier[entry], shift[entry], outBase, b, oy * sh - padTop, ox * sw - padLeft,
                        c, h, width, kh, kw, count * zx, zy, lo, hi);
";

        /// <summary>Inserted at the top of DotPacked4: four output positions against each weight vector (AVX-VNNI).</summary>
        private const string SimdDot4Dispatch = @"            if (SimdEnabled && VnniEnabled && global::System.Runtime.Intrinsics.X86.AvxVnni.IsSupported)
            {
                DotPacked4AvxVnni(x0, x1, x2, x3, w, acc, kp, mp);
                return;
            }
";

        /// <summary>Inserted before DepthwiseConv's scalar loop over a row: blocks of 8 output positions (stride 1 or 2) in AVX2/AVX-512.</summary>
        private const string SimdDepthwiseDispatch = @"                    if (SimdEnabled && (sw == 1 || sw == 2) && global::System.Runtime.Intrinsics.X86.Avx512F.VL.IsSupported)
                        ox = DepthwiseRowAvx512(plane, taps, output, oy * sh * pw, pw, kh, kw, sw, dh, dw, bo, sc, negSc, zy, lo, hi < top ? hi : top);
";

        /// <summary>Inserted at the top of RequantizeChannels' loop: whole blocks of 8 channels (AVX-512, or AVX2), the rest scalar.</summary>
        private const string SimdRequantizeDispatch = @"            if (SimdEnabled && global::System.Runtime.Intrinsics.X86.Avx2.IsSupported)
                o = RequantizeChannels8(acc, bias, scale, negScale, high, y, start, stride, zy, lo, hi);
";

        /// <summary>Inserted at the top of DotPacked: the SIMD paths, each behind an IsSupported check the JIT/NativeAOT fold.</summary>
        private const string SimdDispatch = @"            if (SimdEnabled && VnniEnabled && global::System.Runtime.Intrinsics.X86.AvxVnni.IsSupported)
            {
                DotPackedAvxVnni(col, w, acc, kp, mp);
                return;
            }
            if (SimdEnabled && global::System.Runtime.Intrinsics.X86.Avx2.IsSupported)
            {
                DotPackedAvx2(col, w, acc, kp, mp);
                return;
            }
            if (SimdEnabled && global::System.Runtime.Intrinsics.Arm.Dp.IsSupported)
            {
                DotPackedArmDp(col, w, acc, kp, mp);
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
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
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
            // Small M (a classifier's last layer: few channels, long K): independent chains over alternate k-steps, or a
            // chain would wait on vpdpbusd's latency every step.
            for (; o + 16 <= mp; o += 16)
            {
                var a0 = global::System.Runtime.Intrinsics.Vector256<int>.Zero;
                var a1 = a0; var a2 = a0; var a3 = a0;
                ref sbyte block = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, 4 * o);
                int k4 = 0;
                for (; k4 + 8 <= kp; k4 += 8)
                {
                    ref sbyte row = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref block, k4 * mp);
                    ref sbyte next = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref block, (k4 + 4) * mp);
                    var x0 = Broadcast4(ref x, k4);
                    var x1 = Broadcast4(ref x, k4 + 4);
                    a0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a0, x0, global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row));
                    a1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a1, x0, global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row, 32));
                    a2 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a2, x1, global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref next));
                    a3 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a3, x1, global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref next, 32));
                }
                if (k4 < kp)
                {
                    ref sbyte row = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref block, k4 * mp);
                    var x0 = Broadcast4(ref x, k4);
                    a0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a0, x0, global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row));
                    a1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a1, x0, global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row, 32));
                }
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a0 + a2, ref result, (nuint)o);
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a1 + a3, ref result, (nuint)(o + 8));
            }
            if (o < mp)
            {
                var a0 = global::System.Runtime.Intrinsics.Vector256<int>.Zero;
                var a1 = a0; var a2 = a0; var a3 = a0;
                ref sbyte block = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, 4 * o);
                int k4 = 0;
                for (; k4 + 16 <= kp; k4 += 16)
                {
                    a0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a0, Broadcast4(ref x, k4),
                        global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref block, k4 * mp)));
                    a1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a1, Broadcast4(ref x, k4 + 4),
                        global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref block, (k4 + 4) * mp)));
                    a2 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a2, Broadcast4(ref x, k4 + 8),
                        global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref block, (k4 + 8) * mp)));
                    a3 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a3, Broadcast4(ref x, k4 + 12),
                        global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref block, (k4 + 12) * mp)));
                }
                for (; k4 < kp; k4 += 4)
                    a0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a0, Broadcast4(ref x, k4),
                        global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref block, k4 * mp)));
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe((a0 + a1) + (a2 + a3), ref result, (nuint)o);
            }
        }

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
        /// One whole output row of DepthwiseConv, 8 positions at a time (the last block partial): the 8 (stride 1) or 16 (stride 2, even bytes kept)
        /// input bytes of a tap zero-extended to int32 lanes (vpmovzxbd) and multiplied by the tap, all taps summed in
        /// registers, then requantized by Requantize8. Returns the row's length.
        /// </summary>
        private static int DepthwiseRowAvx512(global::System.Span<byte> plane, global::System.ReadOnlySpan<sbyte> taps, global::System.Span<byte> output,
            int rowStart, int pw, int kh, int kw, int sw, int dh, int dw, int bias, float scale, float negScale, int zy, int lo, int hi)
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
                var result = Requantize8(acc, global::System.Runtime.Intrinsics.Vector256.Create(scale), global::System.Runtime.Intrinsics.Vector256.Create(negScale), scale != negScale,
                    global::System.Runtime.Intrinsics.Vector256.Create((float)(lo - zy)), global::System.Runtime.Intrinsics.Vector256.Create((float)(hi - zy)), zy);
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
            var s = leaky
                ? global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(
                    global::System.Runtime.Intrinsics.Vector256.AsSingle(global::System.Runtime.Intrinsics.Vector256.LessThan(a, global::System.Runtime.Intrinsics.Vector256<int>.Zero)), negScale, scale)
                : scale;
            var v = global::System.Runtime.Intrinsics.X86.Avx.Multiply(global::System.Runtime.Intrinsics.X86.Avx.ConvertToVector256Single(a), s);
            v = global::System.Runtime.Intrinsics.X86.Avx.Min(global::System.Runtime.Intrinsics.X86.Avx.Max(v, low), high);
            var q = global::System.Runtime.Intrinsics.X86.Avx.ConvertToVector256Int32(v) + global::System.Runtime.Intrinsics.Vector256.Create(zy);
            if (global::System.Runtime.Intrinsics.X86.Avx512F.VL.IsSupported)
                return global::System.Runtime.Intrinsics.X86.Avx512F.VL.ConvertToVector128Byte(q);
            // Per 128-bit half: int32 → int16 → bytes; the halves' first four bytes are then put side by side.
            var words = global::System.Runtime.Intrinsics.X86.Avx2.PackSignedSaturate(q, q);
            var bytes = global::System.Runtime.Intrinsics.X86.Avx2.PackUnsignedSaturate(words, words);
            return global::System.Runtime.Intrinsics.Vector128.AsByte(global::System.Runtime.Intrinsics.X86.Sse2.UnpackLow(
                global::System.Runtime.Intrinsics.Vector128.AsInt32(global::System.Runtime.Intrinsics.Vector256.GetLower(bytes)),
                global::System.Runtime.Intrinsics.Vector128.AsInt32(global::System.Runtime.Intrinsics.Vector256.GetUpper(bytes))));
        }

        /// <summary>
        /// DotPacked4 with AVX-VNNI: per k-step, two weight vectors (16 output channels) are loaded once and multiplied
        /// against the broadcast activation bytes of four receptive fields: eight accumulators in registers (VEX encoding
        /// has 16), then a last block of 8 channels.
        /// </summary>
        private static void DotPacked4AvxVnni(global::System.ReadOnlySpan<byte> x0, global::System.ReadOnlySpan<byte> x1, global::System.ReadOnlySpan<byte> x2,
            global::System.ReadOnlySpan<byte> x3, global::System.ReadOnlySpan<sbyte> w, global::System.Span<int> acc, int kp, int mp)
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
                ref sbyte block = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, 4 * o);
                for (int k4 = 0; k4 < kp; k4 += 4)
                {
                    ref sbyte row = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref block, k4 * mp);
                    var w0 = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row);
                    var w1 = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row, 32);
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
                ref sbyte block = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, 4 * o);
                for (int k4 = 0; k4 < kp; k4 += 4)
                {
                    var w0 = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref block, k4 * mp));
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
        private static void DotPackedArmDp(global::System.ReadOnlySpan<byte> col, global::System.ReadOnlySpan<sbyte> w, global::System.Span<int> acc, int kp, int mp)
        {
            ref byte x = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(col);
            ref byte weights = ref global::System.Runtime.CompilerServices.Unsafe.As<sbyte, byte>(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w));
            ref int result = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(acc);
            var flip = global::System.Runtime.Intrinsics.Vector128.Create((byte)0x80);
            var sum = global::System.Runtime.Intrinsics.Vector128<uint>.Zero;
            for (int k4 = 0; k4 < kp; k4 += 4)
                sum = global::System.Runtime.Intrinsics.Arm.Dp.DotProduct(sum, Quadruplet(ref x, k4), global::System.Runtime.Intrinsics.Vector128.Create((byte)1));
            var correction = global::System.Runtime.Intrinsics.Vector128.ShiftLeft(sum, 7);
            for (int o = 0; o < mp; o += 8)
            {
                var a0 = global::System.Runtime.Intrinsics.Vector128<uint>.Zero;
                var a1 = a0;
                ref byte block = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, 4 * o);
                for (int k4 = 0; k4 < kp; k4 += 4)
                {
                    var xv = Quadruplet(ref x, k4);
                    ref byte row = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref block, k4 * mp);
                    a0 = global::System.Runtime.Intrinsics.Arm.Dp.DotProduct(a0, xv, global::System.Runtime.Intrinsics.Vector128.LoadUnsafe(ref row) ^ flip);
                    a1 = global::System.Runtime.Intrinsics.Arm.Dp.DotProduct(a1, xv, global::System.Runtime.Intrinsics.Vector128.LoadUnsafe(ref row, 16) ^ flip);
                }
                global::System.Runtime.Intrinsics.Vector128.StoreUnsafe(global::System.Runtime.Intrinsics.Vector128.AsInt32(a0 - correction), ref result, (nuint)o);
                global::System.Runtime.Intrinsics.Vector128.StoreUnsafe(global::System.Runtime.Intrinsics.Vector128.AsInt32(a1 - correction), ref result, (nuint)(o + 4));
            }
        }

        /// <summary>The four activation bytes at x[k4..k4+4] in every 32-bit lane of a 128-bit vector.</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static global::System.Runtime.Intrinsics.Vector128<byte> Quadruplet(ref byte x, int k4) =>
            global::System.Runtime.Intrinsics.Vector128.AsByte(global::System.Runtime.Intrinsics.Vector128.Create(
                global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<uint>(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref x, k4))));

        /// <summary>
        /// DotPacked for x86 without VNNI (AVX2): the activation bytes zero-extended and the weights sign-extended to
        /// int16, then vpmaddwd (pairs of int16 products summed into int32, exact: |2 · 255 · 128| is far inside int16 ×
        /// int16 → int32), never vpmaddubsw, whose int16 pair sums saturate. A k-step's 32 weight bytes are 8 channels × 4:
        /// the low 16 (channels 0-3) and the high 16 (channels 4-7) each give two int32 per channel, summed pairwise once
        /// at the end (vphaddd, then the 64-bit lanes put back in channel order).
        /// </summary>
        private static void DotPackedAvx2(global::System.ReadOnlySpan<byte> col, global::System.ReadOnlySpan<sbyte> w, global::System.Span<int> acc, int kp, int mp)
        {
            ref byte x = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(col);
            ref sbyte weights = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w);
            ref int result = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(acc);
            for (int o = 0; o < mp; o += 8)
            {
                var low = global::System.Runtime.Intrinsics.Vector256<int>.Zero;
                var high = low;
                ref sbyte block = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, 4 * o);
                for (int k4 = 0; k4 < kp; k4 += 4)
                {
                    var xv = global::System.Runtime.Intrinsics.Vector256.AsInt16(global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int16(
                        global::System.Runtime.Intrinsics.Vector128.AsByte(global::System.Runtime.Intrinsics.Vector128.Create(
                            global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<int>(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref x, k4))))));
                    ref sbyte row = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref block, k4 * mp);
                    low += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(
                        global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int16(global::System.Runtime.Intrinsics.Vector128.LoadUnsafe(ref row)), xv);
                    high += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(
                        global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int16(global::System.Runtime.Intrinsics.Vector128.LoadUnsafe(ref row, 16)), xv);
                }
                // Per 128-bit lane: [c0 c1 c4 c5] and [c2 c3 c6 c7]; 64-bit lanes 0, 2, 1, 3 restore the order.
                var sums = global::System.Runtime.Intrinsics.X86.Avx2.HorizontalAdd(low, high);
                sums = global::System.Runtime.Intrinsics.Vector256.AsInt32(global::System.Runtime.Intrinsics.X86.Avx2.Permute4x64(
                    global::System.Runtime.Intrinsics.Vector256.AsInt64(sums), 0b11_01_10_00));
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(sums, ref result, (nuint)o);
            }
        }

        /// <summary>Tap t's weights (int32 lanes) times the 16 input bytes at origin + offset, zero-extended.</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static global::System.Runtime.Intrinsics.Vector512<int> TapProduct(ref global::System.Runtime.Intrinsics.Vector512<int> tap, int t, ref byte origin, int offset) =>
            global::System.Runtime.Intrinsics.X86.Avx512F.MultiplyLow(global::System.Runtime.CompilerServices.Unsafe.Add(ref tap, t),
                global::System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector512Int32(global::System.Runtime.Intrinsics.Vector128.LoadUnsafe(ref origin, (nuint)offset)));

        /// <summary>
        /// DepthwiseConvNhwc for the whole blocks of 16 channels: each image is copied once into
        /// <paramref name=""scratch""/> as a plane padded with zx (FillPlane), so every tap of every position is read in
        /// place at a fixed offset, with no bounds test; then block by block, the block's requantization constants and
        /// its taps' weights (sign-extended to int32 lanes, vpmovsxbd) are prepared once, and every output position takes
        /// per tap 16 input bytes zero-extended (vpmovzxbd), one vpmulld and one add (3×3 unrolled). Returns the number of
        /// channels done (0 if the scratch cannot hold the plane); the scalar loop does the rest.
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private static int DepthwiseNhwcAvx512(global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, global::System.Span<byte> scratch,
            int n, int c, int h, int width, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft, int dh, int dw, int zx, int zy, int lo, int hi)
        {
            int taps = kh * kw, blocks = c & ~15, image = h * width * c;
            int ph = (oh - 1) * sh + (kh - 1) * dh + 1, pw = (ow - 1) * sw + (kw - 1) * dw + 1;
            if (blocks == 0 || taps > 64 || scratch.Length < ph * pw * c) return 0;
            if (x.Length < n * image || w.Length < taps * c || y.Length < n * oh * ow * c) throw new global::System.ArgumentException(""The buffers do not hold the tensors."");
            ref byte plane = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(scratch);
            ref byte weights = ref global::System.Runtime.CompilerServices.Unsafe.As<sbyte, byte>(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w));
            // Each tap's offset in the plane from its position's first tap.
            global::System.Span<int> offsets = stackalloc int[taps];
            for (int ky = 0, t = 0; ky < kh; ky++)
                for (int kx = 0; kx < kw; kx++, t++)
                    offsets[t] = (ky * dh * pw + kx * dw) * c;
            int column = dw * c, row = dh * pw * c;
            bool unrolled = kh == 3 && kw == 3;
            global::System.Span<global::System.Runtime.Intrinsics.Vector512<int>> tapWeights = stackalloc global::System.Runtime.Intrinsics.Vector512<int>[taps];
            ref global::System.Runtime.Intrinsics.Vector512<int> tap = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(tapWeights);
            for (int b = 0; b < n; b++)
            {
                FillPlane(x.Slice(b * image, image), scratch, c, h, width, ph, pw, padTop, padLeft, (byte)zx);
                for (int ch = 0; ch < blocks; ch += 16)
                {
                    var q = new Requantization16(scale, negScale, high, hi, ch, zy, lo);
                    var initial = global::System.Runtime.Intrinsics.Vector512.Create(bias.Slice(ch, 16));
                    for (int t = 0; t < taps; t++)
                        tapWeights[t] = global::System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector512Int32(global::System.Runtime.Intrinsics.Vector128.AsSByte(
                            global::System.Runtime.Intrinsics.Vector128.LoadUnsafe(ref weights, (nuint)(t * c + ch))));
                    for (int oy = 0; oy < oh; oy++)
                    {
                        ref byte origin = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref plane, oy * sh * pw * c + ch);
                        int target = ((b * oh + oy) * ow) * c + ch;
                        for (int ox = 0; ox < ow; ox++, origin = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref origin, sw * c), target += c)
                        {
                            var acc = initial;
                            if (unrolled)
                            {
                                // 3×3, unrolled: the tap loop's bookkeeping cost as much as its arithmetic.
                                acc += TapProduct(ref tap, 0, ref origin, 0) + TapProduct(ref tap, 1, ref origin, column) + TapProduct(ref tap, 2, ref origin, 2 * column);
                                acc += TapProduct(ref tap, 3, ref origin, row) + TapProduct(ref tap, 4, ref origin, row + column) + TapProduct(ref tap, 5, ref origin, row + 2 * column);
                                acc += TapProduct(ref tap, 6, ref origin, 2 * row) + TapProduct(ref tap, 7, ref origin, 2 * row + column) + TapProduct(ref tap, 8, ref origin, 2 * row + 2 * column);
                            }
                            else
                            {
                                for (int t = 0; t < taps; t++)
                                    acc += TapProduct(ref tap, t, ref origin, offsets[t]);
                            }
                            q.Store(y, target, acc);
                        }
                    }
                }
            }
            return blocks;
        }

        /// <summary>
        /// DepthwiseConvNhwc for the whole blocks of 16 channels of a kernel at most 4 wide, with AVX-VNNI: vpdpbusd sums
        /// four u8 × s8 products per int32 lane, so a kernel row's taps are laid side by side per channel. Per block, every
        /// (plane row, output column) gets its 16 channels' kw horizontal taps interleaved into 4-byte groups (64 bytes,
        /// unused tap slots zero) once, in the scratch after the padded plane (ExpandRows); every output position then
        /// takes, per kernel row, two 32-byte loads and two vpdpbusd against the row's interleaved weights, where the
        /// tap-by-tap kernel takes three vpmulld. Each expanded row serves every output row that reaches it (three at
        /// stride 1). The sums are the same integers as the tap-by-tap kernels'. Returns the number of channels done (0
        /// if the kernel is too wide or the scratch too small: another path runs). Without AVX-512 this layout did not
        /// pay (the 8-lane requantization dominates there), so DepthwiseNhwcAvx2 stays; every CPU with AVX-VNNI and
        /// AVX-512 has VBMI, whose vpermb does the interleave.
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private static int DepthwiseNhwcAvxVnni(global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, global::System.Span<byte> scratch,
            int n, int c, int h, int width, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft, int dh, int dw, int zx, int zy, int lo, int hi)
        {
            int blocks = c & ~15, image = h * width * c;
            int ph = (oh - 1) * sh + (kh - 1) * dh + 1, pw = (ow - 1) * sw + (kw - 1) * dw + 1;
            // At stride 1 (no dilation, kw ≤ 3) one expanded column holds four taps, ox … ox + 3, and serves two outputs:
            // ox with the weights in slots 0-2, ox + 1 with them moved up a slot; half the columns to build and to load.
            bool pairs = sw == 1 && dw == 1 && kw <= 3;
            int columns = pairs ? (ow + 1) / 2 : ow;
            int planeLength = ph * pw * c, expandedRow = columns * 64;
            if (blocks == 0 || kw > 4 || kh > 16 || scratch.Length < planeLength + ph * expandedRow) return 0;
            if (x.Length < n * image || w.Length < kh * kw * c || y.Length < n * oh * ow * c) throw new global::System.ArgumentException(""The buffers do not hold the tensors."");
            ref byte plane = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(scratch);
            ref byte expanded = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref plane, planeLength);
            ref byte weights = ref global::System.Runtime.CompilerServices.Unsafe.As<sbyte, byte>(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w));
            // Per kernel row, the interleaved weights of channels 0-7 and 8-15 of the block; then (pairs) the same moved
            // up one tap slot, for the odd output columns.
            global::System.Span<global::System.Runtime.Intrinsics.Vector256<byte>> kernelRows = stackalloc global::System.Runtime.Intrinsics.Vector256<byte>[4 * kh];
            for (int b = 0; b < n; b++)
            {
                FillPlane(x.Slice(b * image, image), scratch, c, h, width, ph, pw, padTop, padLeft, (byte)zx);
                for (int ch = 0; ch < blocks; ch += 16)
                {
                    // The weights [KH·KW, C] interleaved like the input: kernel row ky's kw taps, c bytes apart.
                    ExpandRows(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, ch),
                        ref global::System.Runtime.CompilerServices.Unsafe.As<global::System.Runtime.Intrinsics.Vector256<byte>, byte>(ref kernelRows[0]), kh, 1, kw * c, 0, c, kw);
                    var bias0 = global::System.Runtime.Intrinsics.Vector256.Create(bias.Slice(ch, 8));
                    var bias1 = global::System.Runtime.Intrinsics.Vector256.Create(bias.Slice(ch + 8, 8));
                    var q = new Requantization16(scale, negScale, high, hi, ch, zy, lo);
                    int target = b * oh * ow * c + ch;
                    if (pairs)
                    {
                        // Each 4-byte group little-endian: shifting its uint32 left by 8 bits moves taps 0-2 to slots 1-3.
                        for (int i = 0; i < 2 * kh; i++)
                            kernelRows[2 * kh + i] = global::System.Runtime.Intrinsics.Vector256.AsByte(global::System.Runtime.Intrinsics.Vector256.ShiftLeft(
                                global::System.Runtime.Intrinsics.Vector256.AsUInt32(kernelRows[i]), 8));
                        // The fourth tap of the last column may lie past the plane's row (or its end, in the scratch that
                        // follows): its weight is zero in both sets.
                        ExpandRows(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref plane, ch), ref expanded, ph, columns, pw * c, 2 * c, c, 4);
                        DepthwisePairsAvxVnni(ref expanded, kernelRows, bias0, bias1, q, y, target, oh, ow, kh, sh * expandedRow, dh * expandedRow, c);
                    }
                    else
                    {
                        ExpandRows(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref plane, ch), ref expanded, ph, ow, pw * c, sw * c, dw * c, kw);
                        DepthwiseBlockAvxVnni(ref expanded, kernelRows, bias0, bias1, q, y, target, oh, ow, kh, sh * expandedRow, dh * expandedRow, c);
                    }
                }
            }
            return blocks;
        }

        /// <summary>
        /// The output positions of one 16-channel block of DepthwiseNhwcAvxVnni (its own method so that the accumulators,
        /// the interleaved weights and the requantization constants are not crowded out of registers by the setup).
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private static void DepthwiseBlockAvxVnni(ref byte expanded, global::System.ReadOnlySpan<global::System.Runtime.Intrinsics.Vector256<byte>> kernelRows,
            global::System.Runtime.Intrinsics.Vector256<int> bias0, global::System.Runtime.Intrinsics.Vector256<int> bias1, in Requantization16 q,
            global::System.Span<byte> y, int target, int oh, int ow, int kh, int outputRowStep, int kernelRowStep, int c)
        {
            ref byte output = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(y);
            ref var weights = ref global::System.Runtime.CompilerServices.Unsafe.As<global::System.Runtime.Intrinsics.Vector256<byte>, global::System.Runtime.Intrinsics.Vector256<sbyte>>(
                ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(kernelRows));
            if (kh == 3)
            {
                // 3 kernel rows, unrolled, the six weight vectors in registers.
                var w0 = weights; var w1 = global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, 1);
                var w2 = global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, 2); var w3 = global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, 3);
                var w4 = global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, 4); var w5 = global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, 5);
                for (int oy = 0; oy < oh; oy++)
                {
                    ref byte row = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref expanded, oy * outputRowStep);
                    for (int ox = 0; ox < ow; ox++, row = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref row, 64), target += c)
                    {
                        ref byte row1 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref row, kernelRowStep);
                        ref byte row2 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref row1, kernelRowStep);
                        var acc0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(bias0, global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row), w0);
                        var acc1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(bias1, global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row, 32), w1);
                        acc0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(acc0, global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row1), w2);
                        acc1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(acc1, global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row1, 32), w3);
                        acc0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(acc0, global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row2), w4);
                        acc1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(acc1, global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row2, 32), w5);
                        q.StoreUnchecked(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref output, target), acc0, acc1);
                    }
                }
                return;
            }
            for (int oy = 0; oy < oh; oy++)
            {
                ref byte origin = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref expanded, oy * outputRowStep);
                for (int ox = 0; ox < ow; ox++, origin = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref origin, 64), target += c)
                {
                    var acc0 = bias0;
                    var acc1 = bias1;
                    ref byte row = ref origin;
                    for (int ky = 0; ky < kh; ky++, row = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref row, kernelRowStep))
                    {
                        acc0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(acc0, global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row),
                            global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, 2 * ky));
                        acc1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(acc1, global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row, 32),
                            global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, 2 * ky + 1));
                    }
                    q.StoreUnchecked(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref output, target), acc0, acc1);
                }
            }
        }

        /// <summary>
        /// DepthwiseBlockAvxVnni at stride 1 with two output columns per expanded column (DepthwiseNhwcAvxVnni's pairs):
        /// each kernel row's two 32-byte loads feed four vpdpbusd, ox's against the weights in slots 0-2 and ox + 1's
        /// against the moved-up copy (kernelRows[2·kh …]).
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private static void DepthwisePairsAvxVnni(ref byte expanded, global::System.ReadOnlySpan<global::System.Runtime.Intrinsics.Vector256<byte>> kernelRows,
            global::System.Runtime.Intrinsics.Vector256<int> bias0, global::System.Runtime.Intrinsics.Vector256<int> bias1, in Requantization16 q,
            global::System.Span<byte> y, int target, int oh, int ow, int kh, int outputRowStep, int kernelRowStep, int c)
        {
            ref byte output = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(y);
            ref var even = ref global::System.Runtime.CompilerServices.Unsafe.As<global::System.Runtime.Intrinsics.Vector256<byte>, global::System.Runtime.Intrinsics.Vector256<sbyte>>(
                ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(kernelRows));
            ref var odd = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref even, 2 * kh);
            if (kh == 3)
            {
                // 3 kernel rows, unrolled, the twelve weight vectors in registers.
                var e0 = even; var e1 = global::System.Runtime.CompilerServices.Unsafe.Add(ref even, 1); var e2 = global::System.Runtime.CompilerServices.Unsafe.Add(ref even, 2);
                var e3 = global::System.Runtime.CompilerServices.Unsafe.Add(ref even, 3); var e4 = global::System.Runtime.CompilerServices.Unsafe.Add(ref even, 4); var e5 = global::System.Runtime.CompilerServices.Unsafe.Add(ref even, 5);
                var o0 = odd; var o1 = global::System.Runtime.CompilerServices.Unsafe.Add(ref odd, 1); var o2 = global::System.Runtime.CompilerServices.Unsafe.Add(ref odd, 2);
                var o3 = global::System.Runtime.CompilerServices.Unsafe.Add(ref odd, 3); var o4 = global::System.Runtime.CompilerServices.Unsafe.Add(ref odd, 4); var o5 = global::System.Runtime.CompilerServices.Unsafe.Add(ref odd, 5);
                int oy = 0;
                if (outputRowStep == kernelRowStep)
                {
                    // Two output rows at a time (stride 1, no dilation): they share two of their four expanded rows, eight loads for 64 outputs instead of twelve.
                    for (; oy + 1 < oh; oy += 2)
                    {
                        ref byte row0 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref expanded, oy * outputRowStep);
                        int at = target + oy * ow * c, below = ow * c;
                        for (int ox = 0; ox < ow; ox += 2, row0 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref row0, 64), at += 2 * c)
                        {
                            ref byte row1 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref row0, kernelRowStep);
                            ref byte row2 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref row1, kernelRowStep);
                            ref byte row3 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref row2, kernelRowStep);
                            var l = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row0);
                            var h = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row0, 32);
                            var a0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(bias0, l, e0);
                            var a1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(bias1, h, e1);
                            var b0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(bias0, l, o0);
                            var b1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(bias1, h, o1);
                            l = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row1);
                            h = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row1, 32);
                            a0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a0, l, e2);
                            a1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a1, h, e3);
                            b0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(b0, l, o2);
                            b1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(b1, h, o3);
                            var c0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(bias0, l, e0);
                            var c1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(bias1, h, e1);
                            var d0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(bias0, l, o0);
                            var d1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(bias1, h, o1);
                            l = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row2);
                            h = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row2, 32);
                            a0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a0, l, e4);
                            a1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a1, h, e5);
                            b0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(b0, l, o4);
                            b1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(b1, h, o5);
                            c0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(c0, l, e2);
                            c1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(c1, h, e3);
                            d0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(d0, l, o2);
                            d1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(d1, h, o3);
                            l = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row3);
                            h = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row3, 32);
                            c0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(c0, l, e4);
                            c1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(c1, h, e5);
                            d0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(d0, l, o4);
                            d1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(d1, h, o5);
                            q.StoreUnchecked(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref output, at), a0, a1);
                            q.StoreUnchecked(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref output, at + below), c0, c1);
                            if (ox + 1 < ow)
                            {
                                q.StoreUnchecked(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref output, at + c), b0, b1);
                                q.StoreUnchecked(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref output, at + below + c), d0, d1);
                            }
                        }
                    }
                }
                for (; oy < oh; oy++)
                {
                    ref byte row0 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref expanded, oy * outputRowStep);
                    int at = target + oy * ow * c;
                    for (int ox = 0; ox < ow; ox += 2, row0 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref row0, 64), at += 2 * c)
                    {
                        ref byte row1 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref row0, kernelRowStep);
                        ref byte row2 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref row1, kernelRowStep);
                        var l0 = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row0);
                        var h0 = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row0, 32);
                        var a0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(bias0, l0, e0);
                        var a1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(bias1, h0, e1);
                        var b0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(bias0, l0, o0);
                        var b1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(bias1, h0, o1);
                        var l1 = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row1);
                        var h1 = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row1, 32);
                        a0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a0, l1, e2);
                        a1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a1, h1, e3);
                        b0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(b0, l1, o2);
                        b1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(b1, h1, o3);
                        var l2 = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row2);
                        var h2 = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row2, 32);
                        a0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a0, l2, e4);
                        a1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a1, h2, e5);
                        b0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(b0, l2, o4);
                        b1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(b1, h2, o5);
                        q.StoreUnchecked(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref output, at), a0, a1);
                        if (ox + 1 < ow) q.StoreUnchecked(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref output, at + c), b0, b1);
                    }
                }
                return;
            }
            for (int oy = 0; oy < oh; oy++)
            {
                ref byte origin = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref expanded, oy * outputRowStep);
                int at = target + oy * ow * c;
                for (int ox = 0; ox < ow; ox += 2, origin = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref origin, 64), at += 2 * c)
                {
                    var a0 = bias0; var a1 = bias1; var b0 = bias0; var b1 = bias1;
                    ref byte row = ref origin;
                    for (int ky = 0; ky < kh; ky++, row = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref row, kernelRowStep))
                    {
                        var low = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row);
                        var high = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row, 32);
                        a0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a0, low, global::System.Runtime.CompilerServices.Unsafe.Add(ref even, 2 * ky));
                        a1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a1, high, global::System.Runtime.CompilerServices.Unsafe.Add(ref even, 2 * ky + 1));
                        b0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(b0, low, global::System.Runtime.CompilerServices.Unsafe.Add(ref odd, 2 * ky));
                        b1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(b1, high, global::System.Runtime.CompilerServices.Unsafe.Add(ref odd, 2 * ky + 1));
                    }
                    q.StoreUnchecked(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref output, at), a0, a1);
                    if (ox + 1 < ow) q.StoreUnchecked(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref output, at + c), b0, b1);
                }
            }
        }

        /// <summary>
        /// DepthwiseNhwcAvxVnni's interleaved rows of one 16-channel block: for every row and output column, the kw ≤ 4
        /// 16-byte loads (tapStep apart) placed side by side in one vector and interleaved by a single vpermb, so that
        /// byte 4·ch + k holds channel ch's tap k, slots past kw zeroed by a mask. The loop has no branch and no
        /// dependence between columns: a tap past kw reloads tap kw − 1 (in bounds) and the mask clears it, and the
        /// halves are inserted onto the first load's register (a vector built from nothing inserts into a register the
        /// previous column wrote, which chained every column to the one before: Blocks2's copy and interleave of MobileNet took
        /// 0.94 µs that way, 0.62 µs this way, timed with the dot products skipped).
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private static void ExpandRows(ref byte plane, ref byte expanded, int rows, int columns, int rowPitch, int columnPitch, int tapStep, int kw)
        {
            // Output byte 4·ch + k comes from byte ch of tap k, which sits at 16·k + ch.
            // Vector512<byte>.Indices (0, 1, …, 63) spelt as eight little-endian ulongs: Indices is .NET 9+, this builds on .NET 8 too.
            var indices = global::System.Runtime.Intrinsics.Vector512.AsByte(global::System.Runtime.Intrinsics.Vector512.Create(0x0706050403020100UL, 0x0F0E0D0C0B0A0908UL,
                0x1716151413121110UL, 0x1F1E1D1C1B1A1918UL, 0x2726252423222120UL, 0x2F2E2D2C2B2A2928UL, 0x3736353433323130UL, 0x3F3E3D3C3B3A3938UL));
            var slot = indices & global::System.Runtime.Intrinsics.Vector512.Create((byte)3);
            var control = global::System.Runtime.Intrinsics.Vector512.ShiftLeft(slot, 4) | global::System.Runtime.Intrinsics.Vector512.ShiftRightLogical(indices, 2);
            var used = global::System.Runtime.Intrinsics.Vector512.LessThan(slot, global::System.Runtime.Intrinsics.Vector512.Create((byte)kw));
            nuint tap1 = (nuint)((kw > 1 ? 1 : kw - 1) * tapStep), tap2 = (nuint)((kw > 2 ? 2 : kw - 1) * tapStep), tap3 = (nuint)((kw > 3 ? 3 : kw - 1) * tapStep);
            for (int py = 0; py < rows; py++)
            {
                ref byte source = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref plane, py * rowPitch);
                ref byte target = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref expanded, py * columns * 64);
                for (int ox = 0; ox < columns; ox++, source = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref source, columnPitch),
                    target = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref target, 64))
                {
                    var ab = global::System.Runtime.Intrinsics.Vector256.WithUpper(global::System.Runtime.Intrinsics.Vector128.ToVector256Unsafe(
                        global::System.Runtime.Intrinsics.Vector128.LoadUnsafe(ref source)), global::System.Runtime.Intrinsics.Vector128.LoadUnsafe(ref source, tap1));
                    var cd = global::System.Runtime.Intrinsics.Vector256.WithUpper(global::System.Runtime.Intrinsics.Vector128.ToVector256Unsafe(
                        global::System.Runtime.Intrinsics.Vector128.LoadUnsafe(ref source, tap2)), global::System.Runtime.Intrinsics.Vector128.LoadUnsafe(ref source, tap3));
                    var taps = global::System.Runtime.Intrinsics.Vector512.WithUpper(global::System.Runtime.Intrinsics.Vector256.ToVector512Unsafe(ab), cd);
                    global::System.Runtime.Intrinsics.Vector512.StoreUnsafe(global::System.Runtime.Intrinsics.X86.Avx512Vbmi.PermuteVar64x8(taps, control) & used, ref target);
                }
            }
        }

        /// <summary>
        /// DepthwiseNhwcAvx512 for x86 CPUs without AVX-512: blocks of 8 channels in 256-bit vectors from the same padded
        /// plane, per tap 8 input bytes zero-extended and the tap's weights sign-extended to int32 (vpmovzxbd, vpmovsxbd),
        /// vpmulld, requantized by Requantize8. Returns the number of channels done (0 if the scratch cannot hold the plane).
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private static int DepthwiseNhwcAvx2(global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, global::System.Span<byte> scratch,
            int n, int c, int h, int width, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft, int dh, int dw, int zx, int zy, int lo, int hi)
        {
            int taps = kh * kw, blocks = c & ~7, image = h * width * c;
            int ph = (oh - 1) * sh + (kh - 1) * dh + 1, pw = (ow - 1) * sw + (kw - 1) * dw + 1;
            if (blocks == 0 || taps > 64 || scratch.Length < ph * pw * c) return 0;
            if (x.Length < n * image || w.Length < taps * c || y.Length < n * oh * ow * c) throw new global::System.ArgumentException(""The buffers do not hold the tensors."");
            ref byte plane = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(scratch);
            ref byte weights = ref global::System.Runtime.CompilerServices.Unsafe.As<sbyte, byte>(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w));
            global::System.Span<int> offsets = stackalloc int[taps];
            for (int ky = 0, t = 0; ky < kh; ky++)
                for (int kx = 0; kx < kw; kx++, t++)
                    offsets[t] = (ky * dh * pw + kx * dw) * c;
            global::System.Span<global::System.Runtime.Intrinsics.Vector256<int>> tapWeights = stackalloc global::System.Runtime.Intrinsics.Vector256<int>[taps];
            for (int b = 0; b < n; b++)
            {
                FillPlane(x.Slice(b * image, image), scratch, c, h, width, ph, pw, padTop, padLeft, (byte)zx);
                for (int ch = 0; ch < blocks; ch += 8)
                {
                    var q = new Requantization8(scale, negScale, high, hi, ch, zy, lo);
                    var initial = global::System.Runtime.Intrinsics.Vector256.Create(bias.Slice(ch, 8));
                    for (int t = 0; t < taps; t++)
                        tapWeights[t] = global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int32(global::System.Runtime.Intrinsics.Vector128.AsSByte(global::System.Runtime.Intrinsics.Vector128.CreateScalar(
                            global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<ulong>(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, t * c + ch)))));
                    for (int oy = 0; oy < oh; oy++)
                    {
                        ref byte origin = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref plane, oy * sh * pw * c + ch);
                        int target = ((b * oh + oy) * ow) * c + ch;
                        for (int ox = 0; ox < ow; ox++, origin = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref origin, sw * c), target += c)
                        {
                            var acc = initial;
                            for (int t = 0; t < taps; t++)
                                acc += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyLow(tapWeights[t], global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int32(global::System.Runtime.Intrinsics.Vector128.AsByte(
                                    global::System.Runtime.Intrinsics.Vector128.CreateScalar(global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<ulong>(
                                        ref global::System.Runtime.CompilerServices.Unsafe.Add(ref origin, offsets[t]))))));
                            q.Store(y, target, acc);
                        }
                    }
                }
            }
            return blocks;
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
            {
                _scale = global::System.Runtime.Intrinsics.Vector256.Create(scale.Slice(o, 8));
                _negScale = global::System.Runtime.Intrinsics.Vector256.Create(negScale.Slice(o, 8));
                _leaky = !global::System.Runtime.Intrinsics.Vector256.EqualsAll(_scale, _negScale);
                var top = global::System.Runtime.Intrinsics.Vector256.Create(hi);
                var upper = high.Length == 0 ? top : global::System.Runtime.Intrinsics.Vector256.Min(top, global::System.Runtime.Intrinsics.Vector256.Create(high.Slice(o, 8)));
                _high = global::System.Runtime.Intrinsics.Vector256.ConvertToSingle(upper - global::System.Runtime.Intrinsics.Vector256.Create(zy));
                _low = global::System.Runtime.Intrinsics.Vector256.Create((float)(lo - zy));
                _zy = zy;
            }

            /// <summary>y[at..at+8] = the requantized accumulators (bias included).</summary>
            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public void Store(global::System.Span<byte> y, int at, global::System.Runtime.Intrinsics.Vector256<int> acc) => StoreUnchecked(ref y.Slice(at, 8)[0], acc);

            /// <summary>Store into the 8 bytes at <paramref name=""target""/>, unchecked (Requantization16.StoreUnchecked).</summary>
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
            /// Store into the 16 bytes at <paramref name=""target""/>, unchecked: for kernels that checked the whole output's
            /// length once (a checked store costs five instructions more than the requantization's seven).
            /// </summary>
            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public void StoreUnchecked(ref byte target, global::System.Runtime.Intrinsics.Vector256<int> low, global::System.Runtime.Intrinsics.Vector256<int> high) =>
                global::System.Runtime.Intrinsics.Vector128.StoreUnsafe(Requantize(Join(low, high)), ref target);

            /// <summary>
            /// One vinserti32x8 onto <paramref name=""low""/>'s register (Vector512.Create(low, high) inserts both halves
            /// into a third register, which also waits on that register's last writer).
            /// </summary>
            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            private static global::System.Runtime.Intrinsics.Vector512<int> Join(global::System.Runtime.Intrinsics.Vector256<int> low, global::System.Runtime.Intrinsics.Vector256<int> high) =>
                global::System.Runtime.Intrinsics.Vector512.WithUpper(global::System.Runtime.Intrinsics.Vector256.ToVector512Unsafe(low), high);

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            private global::System.Runtime.Intrinsics.Vector128<byte> Requantize(global::System.Runtime.Intrinsics.Vector512<int> acc)
            {
                var s = _leaky
                    ? global::System.Runtime.Intrinsics.Vector512.ConditionalSelect(
                        global::System.Runtime.Intrinsics.Vector512.AsSingle(global::System.Runtime.Intrinsics.Vector512.LessThan(acc, global::System.Runtime.Intrinsics.Vector512<int>.Zero)), _negScale, _scale)
                    : _scale;
                var v = global::System.Runtime.Intrinsics.X86.Avx512F.Multiply(global::System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector512Single(acc), s);
                v = global::System.Runtime.Intrinsics.X86.Avx512F.Min(global::System.Runtime.Intrinsics.X86.Avx512F.Max(v, _low), _high);
                var q = global::System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector512Int32(v) + global::System.Runtime.Intrinsics.Vector512.Create(_zy);
                return global::System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector128Byte(q);
            }
        }

        /// <summary>
        /// ConvNhwc for group 1 without horizontal dilation (AVX-VNNI, whole blocks of 8 output channels; 16 at a time with AVX-512):
        /// each image is copied once into <paramref name=""plane""/> with zx on every side the kernel reaches, so a
        /// receptive field is KH kernel rows read in place, KW·C contiguous bytes each, with no gather and no bounds test
        /// per position (the per-position gather cost more than the arithmetic in few-channel layers: the CNN's first
        /// convolution has 9 MACs per output). A row's padding to 4 bytes reads the next pixel's bytes, or the plane's 4
        /// bytes of slack, which meet zero weights. A 1×1 convolution without padding over a multiple of 4 channels
        /// reads its fields from x itself. Part <paramref name=""part""/> of <paramref name=""parts""/> computes its share
        /// of the output channels (each part with its own plane). False, with nothing written, if the scratch cannot hold the plane.
        /// </summary>
        private static bool ConvRowsAvxVnni(global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, global::System.Span<byte> plane, bool pooled,
            int n, int c, int h, int width, int m, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft, int dh, int zx, int zy, int lo, int hi,
            int part, int parts)
        {
            bool inPlace = kh == 1 && kw == 1 && padTop == 0 && padLeft == 0 && (c & 3) == 0;
            // In place at stride 1 over the whole input: position p's field is the c bytes at p · c.
            bool pointwise = inPlace && sh == 1 && sw == 1 && oh == h && ow == width && !pooled;
            int ph = (oh - 1) * sh + (kh - 1) * dh + 1, pw = inPlace ? width : (ow - 1) * sw + kw, pitch = pw * c, row = (kw * c + 3) & ~3;
            int outputs = (pooled ? (oh / 2) * (ow / 2) : oh * ow) * m, image = h * width * c;
            if (!inPlace && plane.Length < ph * pitch + 4) return false;
            var fields = new FieldCursor(oh, ow, sh * pitch, sw * c, kh, row, dh * pitch, pooled);
            for (int b = 0; b < n; b++)
            {
                global::System.ReadOnlySpan<byte> source = x.Slice(b * image, image);
                if (!inPlace)
                {
                    FillPlane(source, plane, c, h, width, ph, pw, padTop, padLeft, (byte)zx);
                    source = plane;
                }
                var output = y.Slice(b * outputs, outputs);
                // This part's share of the channel blocks (16 channels each, then a last block of 8).
                // Channel blocks of 16 with AVX-512 (the last may be 8), of 8 without it (256-bit requantization).
                int unit = global::System.Runtime.Intrinsics.X86.Avx512F.VL.IsSupported ? 16 : 8;
                int blocks = (m + unit - 1) / unit, first = part * blocks / parts, end = (part + 1) * blocks / parts;
                for (int block = first; block < end; block++)
                {
                    int o = unit * block;
                    if (unit == 16 && pointwise && o + 32 <= m && block + 1 < end)
                    {
                        // Two 16-channel blocks in one pass: each broadcast input quadruplet feeds four weight vectors.
                        PointwiseChannels32AvxVnni(source, w, bias, new Requantization16(scale, negScale, high, hi, o, zy, lo),
                            new Requantization16(scale, negScale, high, hi, o + 16, zy, lo), output, oh * ow, c, o, m);
                        block++;
                    }
                    else if (unit == 16 && pointwise && o + 24 == m && block + 1 < end)
                    {
                        // The last 16 + 8 channels in one pass: one broadcast of each input quadruplet for all 24.
                        PointwiseChannels24AvxVnni(source, w, bias, new Requantization16(scale, negScale, high, hi, o, zy, lo),
                            new Requantization8(scale, negScale, high, hi, o + 16, zy, lo), output, oh * ow, c, o, m);
                        block++;
                    }
                    else if (unit == 16 && o + 16 <= m && pointwise)
                        PointwiseChannels16AvxVnni(source, w, bias, new Requantization16(scale, negScale, high, hi, o, zy, lo), output, oh * ow, c, o, m);
                    else if (unit == 16 && o + 16 <= m)
                        ConvChannels16AvxVnni(source, w, bias, new Requantization16(scale, negScale, high, hi, o, zy, lo), output, fields, pooled, o, m);
                    else
                        ConvChannels8AvxVnni(source, w, bias, new Requantization8(scale, negScale, high, hi, o, zy, lo),
                            output, fields, pooled, o, m);
                }
            }
            return true;
        }

        /// <summary>
        /// Walks ConvRowsAvxVnni's receptive fields four at a time in the plane they are read from: position (oy, ox)
        /// starts at oy · rowStep + ox · columnStep and is Kh runs of Row bytes (a multiple of 4), run ky at ky ·
        /// RunStride. In raster order (a partial last block repeats its last field), or, for a fused 2×2 / stride 2 max
        /// pool, one pooling window per block: (2py, 2px), (2py, 2px + 1), (2py + 1, 2px), (2py + 1, 2px + 1).
        /// </summary>
        private struct FieldCursor
        {
            public readonly int Kh, Row, RunStride, Blocks;
            private readonly int _columns, _rowStep, _columnStep, _positions, _windowRowStep, _windowColumnStep;
            private readonly bool _pooled;
            private int _column, _rowStart, _next, _taken;

            public FieldCursor(int oh, int ow, int rowStep, int columnStep, int kh, int row, int runStride, bool pooled)
            {
                Kh = kh; Row = row; RunStride = runStride; _pooled = pooled;
                _columns = pooled ? ow / 2 : ow;
                _rowStep = pooled ? 2 * rowStep : rowStep;
                _columnStep = pooled ? 2 * columnStep : columnStep;
                _positions = pooled ? (oh / 2) * (ow / 2) * 4 : oh * ow;
                _column = 0; _rowStart = 0; _next = 0; _taken = 0;
                Blocks = (_positions + 3) / 4;
                _windowRowStep = rowStep; _windowColumnStep = columnStep;
            }

            /// <summary>The next block's four field starts; the number of distinct positions in it.</summary>
            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public int Take(out int f0, out int f1, out int f2, out int f3)
            {
                int count = _positions - _taken < 4 ? _positions - _taken : 4;
                _taken += 4;
                if (_pooled)
                {
                    f0 = _next; f1 = f0 + _windowColumnStep; f2 = f0 + _windowRowStep; f3 = f2 + _windowColumnStep;
                    Advance();
                    return 4;
                }
                f0 = _next;
                if (count > 1) Advance();
                f1 = _next;
                if (count > 2) Advance();
                f2 = _next;
                if (count > 3) Advance();
                f3 = _next;
                Advance();
                return count;
            }

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            private void Advance()
            {
                if (++_column < _columns)
                {
                    _next += _columnStep;
                    return;
                }
                _column = 0;
                _rowStart += _rowStep;
                _next = _rowStart;
            }
        }

        /// <summary>
        /// Output channels o..o+16 of every position (ConvRowsAvxVnni): positions four at a time, two weight vectors per
        /// k-step loaded once for the four fields, eight accumulators in registers, the requantization constants
        /// prepared once for all positions. A partial last block repeats its last field: computed, never stored. Pooled:
        /// each block is a 2×2 window whose largest accumulators are requantized into y at the window's position.
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private static void ConvChannels16AvxVnni(global::System.ReadOnlySpan<byte> source, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            in Requantization16 q, global::System.Span<byte> y, FieldCursor fields, bool pooled, int o, int m)
        {
            ref byte plane = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(source);
            ref sbyte weights = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w), 4 * o);
            var bias0 = global::System.Runtime.Intrinsics.Vector256.Create(bias.Slice(o, 8));
            var bias1 = global::System.Runtime.Intrinsics.Vector256.Create(bias.Slice(o + 8, 8));
            int kh = fields.Kh, row = fields.Row, runStride = fields.RunStride;
            for (int block = 0; block < fields.Blocks; block++)
            {
                int count = fields.Take(out int f0, out int f1, out int f2, out int f3);
                ref byte r0 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref plane, f0);
                ref byte r1 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref plane, f1);
                ref byte r2 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref plane, f2);
                ref byte r3 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref plane, f3);
                var a00 = bias0; var a01 = bias1; var a10 = bias0; var a11 = bias1;
                var a20 = bias0; var a21 = bias1; var a30 = bias0; var a31 = bias1;
                ref sbyte packed = ref weights;
                for (int ky = 0; ky < kh; ky++)
                for (int k4 = ky * runStride, end = k4 + row; k4 < end; k4 += 4)
                {
                    var w0 = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref packed);
                    var w1 = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref packed, 32);
                    packed = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref packed, 4 * m);
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
                if (pooled)
                {
                    // Requantization is monotonic (non-negative scales): the max of the accumulators, requantized once.
                    q.Store(y, block * m + o,
                        global::System.Runtime.Intrinsics.Vector256.Max(global::System.Runtime.Intrinsics.Vector256.Max(a00, a10), global::System.Runtime.Intrinsics.Vector256.Max(a20, a30)),
                        global::System.Runtime.Intrinsics.Vector256.Max(global::System.Runtime.Intrinsics.Vector256.Max(a01, a11), global::System.Runtime.Intrinsics.Vector256.Max(a21, a31)));
                    continue;
                }
                int at = 4 * block * m + o;
                q.Store(y, at, a00, a01);
                if (count > 1) q.Store(y, at + m, a10, a11);
                if (count > 2) q.Store(y, at + 2 * m, a20, a21);
                if (count > 3) q.Store(y, at + 3 * m, a30, a31);
            }
        }

        /// <summary>
        /// ConvChannels16AvxVnni for a pointwise convolution (1×1, stride 1, no padding, read in place): position p's field
        /// is the c bytes at p · c, so four consecutive positions need no cursor, and the outputs go through unchecked
        /// stores after one length check. A partial last block repeats its last position: computed, never stored.
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private static void PointwiseChannels16AvxVnni(global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            in Requantization16 q, global::System.Span<byte> y, int positions, int c, int o, int m)
        {
            if (x.Length < positions * c || w.Length < c * m || y.Length < positions * m || o + 16 > m)
                throw new global::System.ArgumentException(""The buffers do not hold the tensors."");
            ref byte input = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
            ref sbyte weights = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w), 4 * o);
            ref byte output = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(y), o);
            var bias0 = global::System.Runtime.Intrinsics.Vector256.Create(bias.Slice(o, 8));
            var bias1 = global::System.Runtime.Intrinsics.Vector256.Create(bias.Slice(o + 8, 8));
            for (int p = 0; p < positions; p += 4)
            {
                int count = positions - p < 4 ? positions - p : 4;
                ref byte r0 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref input, p * c);
                ref byte r1 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref r0, count > 1 ? c : 0);
                ref byte r2 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref r0, (count > 2 ? 2 : count - 1) * c);
                ref byte r3 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref r0, (count - 1) * c);
                var a00 = bias0; var a01 = bias1; var a10 = bias0; var a11 = bias1;
                var a20 = bias0; var a21 = bias1; var a30 = bias0; var a31 = bias1;
                ref sbyte packed = ref weights;
                for (int k4 = 0; k4 < c; k4 += 4)
                {
                    var w0 = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref packed);
                    var w1 = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref packed, 32);
                    packed = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref packed, 4 * m);
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
                ref byte at = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref output, p * m);
                q.StoreUnchecked(ref at, a00, a01);
                if (count > 1) q.StoreUnchecked(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref at, m), a10, a11);
                if (count > 2) q.StoreUnchecked(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref at, 2 * m), a20, a21);
                if (count > 3) q.StoreUnchecked(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref at, 3 * m), a30, a31);
            }
        }

        /// <summary>
        /// PointwiseChannels16AvxVnni for 32 output channels: four weight vectors per k-step against each broadcast
        /// quadruplet of four positions, sixteen accumulators (AVX-512 gives the JIT 32 vector registers): half the
        /// broadcasts of two 16-channel passes (MobileNet's expand layers: about 8% less time, median of alternating runs).
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private static void PointwiseChannels32AvxVnni(global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            in Requantization16 q, in Requantization16 next, global::System.Span<byte> y, int positions, int c, int o, int m)
        {
            if (x.Length < positions * c || w.Length < c * m || y.Length < positions * m || o + 32 > m)
                throw new global::System.ArgumentException(""The buffers do not hold the tensors."");
            ref byte input = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
            ref sbyte weights = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w), 4 * o);
            ref byte output = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(y), o);
            var bias0 = global::System.Runtime.Intrinsics.Vector256.Create(bias.Slice(o, 8));
            var bias1 = global::System.Runtime.Intrinsics.Vector256.Create(bias.Slice(o + 8, 8));
            var bias2 = global::System.Runtime.Intrinsics.Vector256.Create(bias.Slice(o + 16, 8));
            var bias3 = global::System.Runtime.Intrinsics.Vector256.Create(bias.Slice(o + 24, 8));
            for (int p = 0; p < positions; p += 4)
            {
                int count = positions - p < 4 ? positions - p : 4;
                ref byte r0 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref input, p * c);
                ref byte r1 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref r0, count > 1 ? c : 0);
                ref byte r2 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref r0, (count > 2 ? 2 : count - 1) * c);
                ref byte r3 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref r0, (count - 1) * c);
                var a00 = bias0; var a01 = bias1; var a02 = bias2; var a03 = bias3;
                var a10 = bias0; var a11 = bias1; var a12 = bias2; var a13 = bias3;
                var a20 = bias0; var a21 = bias1; var a22 = bias2; var a23 = bias3;
                var a30 = bias0; var a31 = bias1; var a32 = bias2; var a33 = bias3;
                ref sbyte packed = ref weights;
                for (int k4 = 0; k4 < c; k4 += 4)
                {
                    var w0 = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref packed);
                    var w1 = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref packed, 32);
                    var w2 = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref packed, 64);
                    var w3 = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref packed, 96);
                    packed = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref packed, 4 * m);
                    var v = Broadcast4(ref r0, k4);
                    a00 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a00, v, w0); a01 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a01, v, w1); a02 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a02, v, w2); a03 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a03, v, w3);
                    v = Broadcast4(ref r1, k4);
                    a10 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a10, v, w0); a11 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a11, v, w1); a12 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a12, v, w2); a13 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a13, v, w3);
                    v = Broadcast4(ref r2, k4);
                    a20 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a20, v, w0); a21 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a21, v, w1); a22 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a22, v, w2); a23 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a23, v, w3);
                    v = Broadcast4(ref r3, k4);
                    a30 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a30, v, w0); a31 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a31, v, w1); a32 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a32, v, w2); a33 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a33, v, w3);
                }
                ref byte at = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref output, p * m);
                q.StoreUnchecked(ref at, a00, a01);
                next.StoreUnchecked(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref at, 16), a02, a03);
                if (count > 1)
                {
                    q.StoreUnchecked(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref at, m), a10, a11);
                    next.StoreUnchecked(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref at, m + 16), a12, a13);
                }
                if (count > 2)
                {
                    q.StoreUnchecked(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref at, 2 * m), a20, a21);
                    next.StoreUnchecked(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref at, 2 * m + 16), a22, a23);
                }
                if (count > 3)
                {
                    q.StoreUnchecked(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref at, 3 * m), a30, a31);
                    next.StoreUnchecked(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref at, 3 * m + 16), a32, a33);
                }
            }
        }

        /// <summary>
        /// PointwiseChannels16AvxVnni for the last 24 output channels when m is 8 more than a multiple of 16 (MobileNetV2's
        /// 24-channel projections): a third weight vector and four more accumulators, so the last 8 channels share the
        /// 16-channel block's broadcasts instead of a pass of their own.
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private static void PointwiseChannels24AvxVnni(global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            in Requantization16 q, in Requantization8 last, global::System.Span<byte> y, int positions, int c, int o, int m)
        {
            if (x.Length < positions * c || w.Length < c * m || y.Length < positions * m || o + 24 > m)
                throw new global::System.ArgumentException(""The buffers do not hold the tensors."");
            ref byte input = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
            ref sbyte weights = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w), 4 * o);
            ref byte output = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(y), o);
            var bias0 = global::System.Runtime.Intrinsics.Vector256.Create(bias.Slice(o, 8));
            var bias1 = global::System.Runtime.Intrinsics.Vector256.Create(bias.Slice(o + 8, 8));
            var bias2 = global::System.Runtime.Intrinsics.Vector256.Create(bias.Slice(o + 16, 8));
            for (int p = 0; p < positions; p += 4)
            {
                int count = positions - p < 4 ? positions - p : 4;
                ref byte r0 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref input, p * c);
                ref byte r1 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref r0, count > 1 ? c : 0);
                ref byte r2 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref r0, (count > 2 ? 2 : count - 1) * c);
                ref byte r3 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref r0, (count - 1) * c);
                var a00 = bias0; var a01 = bias1; var a02 = bias2; var a10 = bias0; var a11 = bias1; var a12 = bias2;
                var a20 = bias0; var a21 = bias1; var a22 = bias2; var a30 = bias0; var a31 = bias1; var a32 = bias2;
                ref sbyte packed = ref weights;
                for (int k4 = 0; k4 < c; k4 += 4)
                {
                    var w0 = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref packed);
                    var w1 = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref packed, 32);
                    var w2 = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref packed, 64);
                    packed = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref packed, 4 * m);
                    var v = Broadcast4(ref r0, k4);
                    a00 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a00, v, w0);
                    a01 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a01, v, w1);
                    a02 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a02, v, w2);
                    v = Broadcast4(ref r1, k4);
                    a10 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a10, v, w0);
                    a11 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a11, v, w1);
                    a12 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a12, v, w2);
                    v = Broadcast4(ref r2, k4);
                    a20 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a20, v, w0);
                    a21 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a21, v, w1);
                    a22 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a22, v, w2);
                    v = Broadcast4(ref r3, k4);
                    a30 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a30, v, w0);
                    a31 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a31, v, w1);
                    a32 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a32, v, w2);
                }
                ref byte at = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref output, p * m);
                q.StoreUnchecked(ref at, a00, a01);
                last.StoreUnchecked(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref at, 16), a02);
                if (count > 1)
                {
                    q.StoreUnchecked(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref at, m), a10, a11);
                    last.StoreUnchecked(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref at, m + 16), a12);
                }
                if (count > 2)
                {
                    q.StoreUnchecked(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref at, 2 * m), a20, a21);
                    last.StoreUnchecked(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref at, 2 * m + 16), a22);
                }
                if (count > 3)
                {
                    q.StoreUnchecked(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref at, 3 * m), a30, a31);
                    last.StoreUnchecked(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref at, 3 * m + 16), a32);
                }
            }
        }

        /// <summary>ConvChannels16AvxVnni for the last 8 output channels (m a multiple of 8, not of 16): one weight vector per k-step.</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private static void ConvChannels8AvxVnni(global::System.ReadOnlySpan<byte> source, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            in Requantization8 q, global::System.Span<byte> y, FieldCursor fields, bool pooled, int o, int m)
        {
            ref byte plane = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(source);
            ref sbyte weights = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w), 4 * o);
            var bias0 = global::System.Runtime.Intrinsics.Vector256.Create(bias.Slice(o, 8));
            int kh = fields.Kh, row = fields.Row, runStride = fields.RunStride;
            for (int block = 0; block < fields.Blocks; block++)
            {
                int count = fields.Take(out int f0, out int f1, out int f2, out int f3);
                ref byte r0 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref plane, f0);
                ref byte r1 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref plane, f1);
                ref byte r2 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref plane, f2);
                ref byte r3 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref plane, f3);
                var a0 = bias0; var a1 = bias0; var a2 = bias0; var a3 = bias0;
                ref sbyte packed = ref weights;
                for (int ky = 0; ky < kh; ky++)
                for (int k4 = ky * runStride, end = k4 + row; k4 < end; k4 += 4)
                {
                    var w0 = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref packed);
                    packed = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref packed, 4 * m);
                    a0 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a0, Broadcast4(ref r0, k4), w0);
                    a1 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a1, Broadcast4(ref r1, k4), w0);
                    a2 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a2, Broadcast4(ref r2, k4), w0);
                    a3 = global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a3, Broadcast4(ref r3, k4), w0);
                }
                if (pooled)
                {
                    q.Store(y, block * m + o, global::System.Runtime.Intrinsics.Vector256.Max(
                        global::System.Runtime.Intrinsics.Vector256.Max(a0, a1), global::System.Runtime.Intrinsics.Vector256.Max(a2, a3)));
                    continue;
                }
                int at = 4 * block * m + o;
                q.Store(y, at, a0);
                if (count > 1) q.Store(y, at + m, a1);
                if (count > 2) q.Store(y, at + 2 * m, a2);
                if (count > 3) q.Store(y, at + 3 * m, a3);
            }
        }

        /// <summary>
        /// plane (ph rows of pw pixels) = the NHWC image placed at (padTop, padLeft), every other byte zx; columns or
        /// rows of the image that no output reaches are left out.
        /// </summary>
        private static void FillPlane(global::System.ReadOnlySpan<byte> image, global::System.Span<byte> plane, int c, int h, int width,
            int ph, int pw, int padTop, int padLeft, byte zx)
        {
            int pitch = pw * c, left = padLeft < pw ? padLeft : pw, inside = width < pw - left ? width : pw - left;
            for (int py = 0; py < ph; py++)
            {
                var target = plane.Slice(py * pitch, pitch);
                int iy = py - padTop;
                if (iy < 0 || iy >= h)
                {
                    target.Fill(zx);
                    continue;
                }
                target.Slice(0, left * c).Fill(zx);
                image.Slice(iy * width * c, inside * c).CopyTo(target.Slice(left * c));
                target.Slice((left + inside) * c).Fill(zx);
            }
        }

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
            if (x.Length < n * h * width * c || y.Length < n * oh * ow * c) throw new global::System.ArgumentException(""The buffers do not hold the tensors."");
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

        /// <summary>
        /// Add for whole blocks of 8 elements in 64-bit lanes: vpmuldq for the exact products (x − z) · m, the sum and the
        /// rounding shift in 64 bits as the scalar loop, vpmovqb. Returns the number of elements done.
        /// </summary>
        private static int AddAvx512(global::System.ReadOnlySpan<byte> a, global::System.ReadOnlySpan<byte> b, global::System.Span<byte> y,
            int za, int zb, int ma, int mb, int shift, int zy, int lo, int hi)
        {
            ref byte ra = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(a);
            ref byte rb = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(b);
            var zeroA = global::System.Runtime.Intrinsics.Vector512.Create((long)za);
            var zeroB = global::System.Runtime.Intrinsics.Vector512.Create((long)zb);
            var multiplierA = global::System.Runtime.Intrinsics.Vector512.AsInt32(global::System.Runtime.Intrinsics.Vector512.Create((long)ma));
            var multiplierB = global::System.Runtime.Intrinsics.Vector512.AsInt32(global::System.Runtime.Intrinsics.Vector512.Create((long)mb));
            var half = global::System.Runtime.Intrinsics.Vector512.Create(1L << (shift - 1));
            var zero = global::System.Runtime.Intrinsics.Vector512.Create((long)zy);
            var low = global::System.Runtime.Intrinsics.Vector512.Create((long)lo);
            var top = global::System.Runtime.Intrinsics.Vector512.Create((long)hi);
            int i = 0;
            for (; i + 8 <= y.Length; i += 8)
            {
                var va = global::System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector512Int64(global::System.Runtime.Intrinsics.Vector128.AsByte(global::System.Runtime.Intrinsics.Vector128.CreateScalar(
                    global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<ulong>(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref ra, i))))) - zeroA;
                var vb = global::System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector512Int64(global::System.Runtime.Intrinsics.Vector128.AsByte(global::System.Runtime.Intrinsics.Vector128.CreateScalar(
                    global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<ulong>(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref rb, i))))) - zeroB;
                var sum = global::System.Runtime.Intrinsics.X86.Avx512F.Multiply(global::System.Runtime.Intrinsics.Vector512.AsInt32(va), multiplierA)
                    + global::System.Runtime.Intrinsics.X86.Avx512F.Multiply(global::System.Runtime.Intrinsics.Vector512.AsInt32(vb), multiplierB) + half;
                var v = global::System.Runtime.Intrinsics.Vector512.ShiftRightArithmetic(sum, shift) + zero;
                v = global::System.Runtime.Intrinsics.Vector512.Min(global::System.Runtime.Intrinsics.Vector512.Max(v, low), top);
                global::System.Runtime.CompilerServices.Unsafe.WriteUnaligned(ref y[i],
                    global::System.Runtime.Intrinsics.Vector128.ToScalar(global::System.Runtime.Intrinsics.Vector128.AsUInt64(global::System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector128Byte(v))));
            }
            return i;
        }
";

        private const string Scalar = @"// <auto-generated/>
#nullable enable
// .NET 8 marks the x86 AvxVnni class as a preview API (CA2252, an error by default); the kernels call it only behind IsSupported.
#pragma warning disable CA2252

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

        /// <summary>
        /// 8-bit Conv and FullyConnected layers: clamp(round_half_even(float(acc) · scale) + zero, min, max), each step in
        /// float32, clamped before the rounding (docs/artifact.md). The product has its own cast so that a runtime that
        /// keeps floats in wider registers still rounds it to float32 (an exact double product rounds the same way).
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public static byte RequantizeScaled(int acc, float scale, int zero, int min, int max)
        {
            float v = (float)((float)acc * scale);
            float low = min - zero, high = max - zero;
            if (v < low) v = low;
            else if (v > high) v = high;
            return (byte)((int)global::System.Math.Round(v) + zero);
        }

        /// <summary>Float input → u8 grid: clamp(round_half_even(x / scale) + zero).</summary>
        public static void Quantize(global::System.ReadOnlySpan<float> x, global::System.Span<byte> y, float scale, int zero, int min, int max)
        {
            int i = 0;
/*SIMDQUANTIZE*/            for (; i < x.Length; i++) y[i] = QuantizeValue(x[i], scale, zero, min, max);
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

        /// <summary>
        /// When false, every kernel takes its scalar loop even where a SIMD path is supported: the benchmark's ""scalar""
        /// job and the SIMD-vs-scalar tests set it. Every path gives the same int32 accumulators and bytes.
        /// </summary>
        public static bool SimdEnabled { get; set; } = true;

        /// <summary>
        /// When false, the dot products skip AVX-VNNI for the generic AVX2 path (vpmaddwd), as on an x86 CPU without
        /// VNNI: the tests use it to prove that path bit-exact on a machine that has VNNI.
        /// </summary>
        public static bool VnniEnabled { get; set; } = true;

        /// <summary>
        /// Threads for the large layers (1, the default: everything on the calling thread). Only layers the generator
        /// marked large (group-1 convolutions of at least 2^24 multiply-accumulates, where handing work to another
        /// thread costs less than it saves) split their output channels into this many parts, on the thread pool;
        /// every other layer, and any layer on the scalar path, runs on the calling thread. Results are the same bytes
        /// either way. A split layer allocates its task bookkeeping per call (a few hundred bytes); at 1, nothing.
        /// </summary>
        public static int Threads { get; set; } = 1;

        /// <summary>Runs part(model, i, parts) for i in [0, parts): on the thread pool and the calling thread when more than one.</summary>
        public static void RunParts<TModel>(TModel model, global::System.Action<TModel, int, int> part, int parts)
        {
            if (parts <= 1) part(model, 0, 1);
            else RunPartsInParallel(model, part, parts);
        }

        /// <summary>
        /// RunParts' thread-pool side, a method of its own: a lambda's captured parameters are allocated where the
        /// method begins, so in RunParts itself even the one-part call would allocate.
        /// </summary>
        private static void RunPartsInParallel<TModel>(TModel model, global::System.Action<TModel, int, int> part, int parts) =>
            global::System.Threading.Tasks.Parallel.For(0, parts, i => part(model, i, parts));

        /// <summary>
        /// The one bounds check of a windowed kernel, made once per call before its loops (docs/security.md): the
        /// geometry the generator validated must hold for the spans actually passed, in 64-bit, so that no index the
        /// kernel computes in int (and reads through Unsafe.Add on the SIMD paths) can wrap or leave x and y.
        /// </summary>
        internal static void CheckWindow(int xLength, int yLength, int n, int c, int h, int width, int m, int oh, int ow,
            int kh, int kw, int sh, int sw, int padTop, int padLeft, int dh, int dw)
        {
            if (n < 1 || c < 1 || h < 1 || width < 1 || m < 1 || oh < 1 || ow < 1 || kh < 1 || kw < 1 || sh < 1 || sw < 1
                || dh < 1 || dw < 1 || padTop < 0 || padLeft < 0
                || (long)n * c * h * width > xLength || (long)n * m * oh * ow > yLength
                || (long)(oh - 1) * sh + (long)(kh - 1) * dh + sh + padTop >= int.MaxValue
                || (long)(ow - 1) * sw + (long)(kw - 1) * dw + sw + padLeft >= int.MaxValue)
                throw Outside();
        }

        /// <summary>A dense kernel's check: <paramref name=""rows""/> rows of k inputs and m outputs fit x and y.</summary>
        internal static void CheckRows(int xLength, int yLength, int rows, int k, int m)
        {
            if (rows < 0 || k < 1 || m < 1 || (long)rows * k > xLength || (long)rows * m > yLength) throw Outside();
        }

        internal static global::System.ArgumentOutOfRangeException Outside() =>
            new global::System.ArgumentOutOfRangeException(""geometry"", ""QuantGen kernel called with a geometry its buffers do not hold."");

        /// <summary>
        /// 2-D convolution, NCHW in and out, weights pre-packed at build time as [G, KP/4, MP, 4] (KP = C/G·KH·KW
        /// rounded up to 4, MP = M/G rounded up to 8, zero padded): for every output position the receptive field is
        /// gathered into <paramref name=""col""/> (positions outside the input read zx), then one packed dot product gives
        /// the accumulators of all the group's output channels. Negative accumulators use negMultiplier/negShift (the
        /// same spans as multiplier/shift when the layer has no fused LeakyRelu).
        /// </summary>
        public static void ConvPacked(
            global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, global::System.Span<byte> col, global::System.Span<int> acc,
            int n, int c, int h, int width, int m, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft,
            int dh, int dw, int group, int zx, int zy, int lo, int hi)
        {
            CheckWindow(x.Length, y.Length, n, c, h, width, m, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw);
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
                    RequantizeChannels(acc, bias.Slice(o0, mg), scale.Slice(o0, mg), negScale.Slice(o0, mg),
                        high.Length == 0 ? high : high.Slice(o0, mg), y, ((b * m + o0) * oh + oy) * ow + ox, oh * ow, zy, lo, hi);
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
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, global::System.Span<byte> plane,
            int n, int c, int h, int width, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft, int padBottom, int padRight,
            int dh, int dw, int zx, int zy, int lo, int hi)
        {
            CheckWindow(x.Length, y.Length, n, c, h, width, c, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw);
            if (padBottom < 0 || padRight < 0 || (long)(oh - 1) * sh + (long)(kh - 1) * dh >= (long)h + padTop + padBottom
                || (long)(ow - 1) * sw + (long)(kw - 1) * dw >= (long)width + padLeft + padRight || (long)(h + padTop + padBottom) * (width + padLeft + padRight) + 64 > plane.Length)
                throw Outside();
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
                int bo = bias[ch];
                float sc = scale[ch], negSc = negScale[ch];
                int top = high.Length == 0 ? 255 : high[ch];
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
                        byte r = RequantizeScaled(acc, acc >= 0 ? sc : negSc, zy, lo, hi);
                        output[ox] = r > top ? (byte)top : r;
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
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, global::System.Span<byte> col, global::System.Span<int> acc,
            int rows, int k, int m, int zy, int lo, int hi)
        {
            CheckRows(x.Length, y.Length, rows, k, m);
            int kp = (k + 3) & ~3, mp = (m + 7) & ~7;
            col.Slice(k, kp - k).Clear();
            for (int r = 0; r < rows; r++)
            {
                x.Slice(r * k, k).CopyTo(col);
                DotPacked(col, w, acc, kp, mp);
                RequantizeChannels(acc, bias, scale, negScale, high, y, r * m, 1, zy, lo, hi);
            }
        }

        /// <summary>
        /// y[start + o·stride] = Requantize(acc[o] + bias[o], …[o]) for the bias.Length channels of one output position,
        /// the negative pair for negative accumulators, then min(·, high[o]) where the layer has per-channel upper bounds
        /// (clampHigh; <paramref name=""high""/> is empty otherwise).
        /// </summary>
        private static void RequantizeChannels(global::System.ReadOnlySpan<int> acc, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, int start, int stride, int zy, int lo, int hi)
        {
            int o = 0, count = bias.Length;
/*SIMDREQUANTIZE*/            for (; o < count; o++)
            {
                int a = acc[o] + bias[o];
                byte r = RequantizeScaled(a, a >= 0 ? scale[o] : negScale[o], zy, lo, hi);
                y[start + o * stride] = high.Length != 0 && r > high[o] ? (byte)high[o] : r;
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
/*SIMDKERNELS*/        /// <summary>
        /// 2-D convolution with channels-last (NHWC) input and output. The weights are packed as for ConvPacked, but with
        /// the reduction in (KH, KW, C/G) order, the order a receptive field has in NHWC, each kernel row (KW·C/G values)
        /// zero padded to a multiple of 4. Output positions go four at a time (DotPacked4: each packed weight vector is
        /// loaded once for four positions); a position's receptive field is KH·KW runs of C/G contiguous bytes copied into
        /// its slot of <paramref name=""col""/> (one run per kernel row when the group is the whole input and there is no
        /// dilation, copied in 4-byte chunks: the bytes past the row meet zero weights), or, for an interior 1×1
        /// convolution over a multiple of 4 channels, read in place. Per-channel upper bounds (clampHigh) are folded into
        /// requantization. With <paramref name=""parts""/> &gt; 1 (RunParts), each part is called with its own col.
        /// </summary>
        public static void ConvNhwc(
            global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, global::System.Span<byte> col, global::System.Span<int> acc,
            int n, int c, int h, int width, int m, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft,
            int dh, int dw, int group, int zx, int zy, int lo, int hi, int part = 0, int parts = 1)
        {
            CheckWindow(x.Length, y.Length, n, c, h, width, m, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw);
/*SIMDCONVROWS*/            // Only the SIMD path above splits a layer's channels between parts: here the first part does the whole layer.
            if (part != 0) return;
            int cg = c / group, mg = m / group, kp = kh * ((kw * cg + 3) & ~3), mp = (mg + 7) & ~7, positions = oh * ow;
            var field = new ReceptiveField(c, h, width, cg, kh, kw, sh, sw, padTop, padLeft, dh, dw, ow, (byte)zx);
            // The rows' padding meets zero weights: whatever a gather leaves there, a cleared start keeps it defined.
            col.Slice(0, 4 * kp).Clear();
            for (int b = 0; b < n; b++)
            for (int g = 0; g < group; g++)
            {
                var packed = w.Slice(g * kp * mp, kp * mp);
                int o0 = g * mg;
                var groupBias = bias.Slice(o0, mg);
                var groupScale = scale.Slice(o0, mg);
                var groupNegScale = negScale.Slice(o0, mg);
                var groupHigh = high.Length == 0 ? high : high.Slice(o0, mg);
                for (int p = 0; p < positions; p += 4)
                {
                    // A partial last block repeats its last position in the spare slots: computed, never written.
                    int count = positions - p < 4 ? positions - p : 4;
                    var x0 = field.Read(x, col.Slice(0, kp), b, g, p);
                    var x1 = field.Read(x, col.Slice(kp, kp), b, g, p + (count > 1 ? 1 : 0));
                    var x2 = field.Read(x, col.Slice(2 * kp, kp), b, g, p + (count > 2 ? 2 : count - 1));
                    var x3 = field.Read(x, col.Slice(3 * kp, kp), b, g, p + count - 1);
                    DotPacked4(x0, x1, x2, x3, packed, acc, kp, mp);
                    for (int j = 0; j < count; j++)
                        RequantizeChannels(acc.Slice(j * mp, mp), groupBias, groupScale, groupNegScale, groupHigh,
                            y, (b * positions + p + j) * m + o0, 1, zy, lo, hi);
                }
            }
        }

        /// <summary>
        /// A group-1 ConvNhwc whose only reader is a 2×2, stride-2 MaxPool without padding (pooled: OH/2 × OW/2 pixels of M
        /// channels). Requantization never decreases as the accumulator grows (its multipliers are not negative: the
        /// generator checks), so the max of four requantized outputs is the requantized max of their accumulators; the
        /// SIMD path uses that to requantize once per window and never writes y. Otherwise: ConvNhwc into y, then MaxPoolNhwc.
        /// </summary>
        public static void ConvMaxPoolNhwc(
            global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, global::System.Span<byte> pooled, global::System.Span<byte> col, global::System.Span<int> acc,
            int n, int c, int h, int width, int m, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft,
            int dh, int dw, int zx, int zy, int lo, int hi)
        {
            CheckWindow(x.Length, y.Length, n, c, h, width, m, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw);
            if ((long)n * m * (oh / 2) * (ow / 2) > pooled.Length) throw Outside();
/*SIMDCONVPOOL*/            ConvNhwc(x, w, bias, scale, negScale, high, y, col, acc,
                n, c, h, width, m, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw, 1, zx, zy, lo, hi);
            MaxPoolNhwc(y, pooled, n, m, oh, ow, oh / 2, ow / 2, 2, 2, 2, 2, 0, 0, 1, 1);
        }

        /// <summary>The receptive field of one output position of an NHWC convolution, in (KH, KW, C/G) order.</summary>
        private readonly struct ReceptiveField
        {
            private readonly int _c, _h, _width, _cg, _kh, _kw, _sh, _sw, _padTop, _padLeft, _dh, _dw, _ow, _row;
            private readonly byte _pad;
            private readonly bool _inPlace;

            public ReceptiveField(int c, int h, int width, int cg, int kh, int kw, int sh, int sw, int padTop, int padLeft, int dh, int dw, int ow, byte pad)
            {
                _c = c; _h = h; _width = width; _cg = cg; _kh = kh; _kw = kw; _sh = sh; _sw = sw;
                _padTop = padTop; _padLeft = padLeft; _dh = dh; _dw = dw; _ow = ow; _pad = pad;
                // A kernel row's KW·C/G values, padded to a whole number of 4-byte dot-product steps.
                _row = (kw * cg + 3) & ~3;
                // A 1×1 field over all channels is one pixel's channels; a multiple of 4 needs no zero tail.
                _inPlace = kh == 1 && kw == 1 && cg == c && (c & 3) == 0;
            }

            /// <summary>The field of output position <paramref name=""position""/> (oy·OW + ox): in place in x, or gathered into slot.</summary>
            public global::System.ReadOnlySpan<byte> Read(global::System.ReadOnlySpan<byte> x, global::System.Span<byte> slot, int b, int g, int position)
            {
                int oy = position / _ow, ox = position - oy * _ow;
                int iy0 = oy * _sh - _padTop, ix0 = ox * _sw - _padLeft;
                bool inside = iy0 >= 0 && iy0 + (_kh - 1) * _dh < _h && ix0 >= 0 && ix0 + (_kw - 1) * _dw < _width;
                if (inside && _inPlace) return x.Slice(((b * _h + iy0) * _width + ix0) * _c, slot.Length);
                for (int ky = 0; ky < _kh; ky++)
                {
                    int iy = iy0 + ky * _dh, ki = ky * _row;
                    if (inside && _dw == 1 && _cg == _c)
                    {
                        // KW neighbouring pixels with all their channels: one contiguous run, taken with its padding
                        // (bytes of the next pixel, times zero weights) where the input has them.
                        int start = ((b * _h + iy) * _width + ix0) * _c;
                        if (start + _row <= x.Length) CopyChunks(x.Slice(start, _row), slot.Slice(ki, _row));
                        else Copy(x.Slice(start, _kw * _c), slot.Slice(ki));
                        continue;
                    }
                    for (int kx = 0; kx < _kw; kx++, ki += _cg)
                    {
                        int ix = ix0 + kx * _dw;
                        if (iy >= 0 && iy < _h && ix >= 0 && ix < _width) Copy(x.Slice(((b * _h + iy) * _width + ix) * _c + g * _cg, _cg), slot.Slice(ki));
                        else slot.Slice(ki, _cg).Fill(_pad);
                    }
                }
                return slot;
            }

            /// <summary>A run of a multiple of 4 bytes: short ones 8 and 4 bytes at a time, where a memmove call costs more.</summary>
            private static void CopyChunks(global::System.ReadOnlySpan<byte> from, global::System.Span<byte> to)
            {
                if (from.Length >= 32)
                {
                    from.CopyTo(to);
                    return;
                }
                // BinaryPrimitives, not Unsafe: netstandard2.1 (Unity) has no System.Runtime.CompilerServices.Unsafe.
                // Little-endian both ways, so the bytes land in order on any CPU; unaligned loads and stores.
                int i = 0;
                for (; i + 8 <= from.Length; i += 8)
                    global::System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(to.Slice(i),
                        global::System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(from.Slice(i)));
                if (i < from.Length)
                    global::System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(to.Slice(i),
                        global::System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(from.Slice(i)));
            }

            /// <summary>A run of a receptive field: short runs (a few channels) byte by byte, where a memmove call costs more.</summary>
            private static void Copy(global::System.ReadOnlySpan<byte> from, global::System.Span<byte> to)
            {
                if (from.Length >= 16)
                {
                    from.CopyTo(to);
                    return;
                }
                to = to.Slice(0, from.Length);
                for (int i = 0; i < from.Length; i++) to[i] = from[i];
            }
        }

        /// <summary>
        /// DotPacked for four receptive fields against the same packed weights: acc[j·mp + o] for field j. The SIMD path
        /// loads each weight vector once for the four fields; the scalar path is four DotPacked calls.
        /// </summary>
        private static void DotPacked4(global::System.ReadOnlySpan<byte> x0, global::System.ReadOnlySpan<byte> x1, global::System.ReadOnlySpan<byte> x2,
            global::System.ReadOnlySpan<byte> x3, global::System.ReadOnlySpan<sbyte> w, global::System.Span<int> acc, int kp, int mp)
        {
/*SIMDDOT4*/            DotPacked(x0, w, acc.Slice(0, mp), kp, mp);
            DotPacked(x1, w, acc.Slice(mp, mp), kp, mp);
            DotPacked(x2, w, acc.Slice(2 * mp, mp), kp, mp);
            DotPacked(x3, w, acc.Slice(3 * mp, mp), kp, mp);
        }

        /// <summary>
        /// Depthwise 2-D convolution (group = C = M) with NHWC input and output, weights repacked at build time as
        /// [KH·KW, C] so that one tap's weights for neighbouring channels are adjacent: the SIMD path computes 8 channels
        /// of a position per vector; taps outside the input read a row of zx (<paramref name=""border""/>, C bytes).
        /// </summary>
        public static void DepthwiseConvNhwc(
            global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, global::System.Span<byte> border,
            int n, int c, int h, int width, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft,
            int dh, int dw, int zx, int zy, int lo, int hi)
        {
            CheckWindow(x.Length, y.Length, n, c, h, width, c, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw);
            int first = 0;
/*SIMDDEPTHWISENHWC*/            if (first == c) return;
            border.Slice(0, c).Fill((byte)zx);
            for (int b = 0; b < n; b++)
            for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
            {
                int iy0 = oy * sh - padTop, ix0 = ox * sw - padLeft, outBase = ((b * oh + oy) * ow + ox) * c;
                for (int ch = first; ch < c; ch++)
                {
                    int acc = bias[ch];
                    for (int ky = 0, t = 0; ky < kh; ky++)
                    for (int kx = 0; kx < kw; kx++, t++)
                    {
                        int iy = iy0 + ky * dh, ix = ix0 + kx * dw;
                        int v = iy >= 0 && iy < h && ix >= 0 && ix < width ? x[((b * h + iy) * width + ix) * c + ch] : zx;
                        acc += w[t * c + ch] * v;
                    }
                    byte r = RequantizeScaled(acc, acc >= 0 ? scale[ch] : negScale[ch], zy, lo, hi);
                    y[outBase + ch] = high.Length != 0 && r > high[ch] ? (byte)high[ch] : r;
                }
            }
        }

        /// <summary>Max pooling, NHWC: each output pixel is the elementwise max of its window's in-bounds input pixels.</summary>
        public static void MaxPoolNhwc(global::System.ReadOnlySpan<byte> x, global::System.Span<byte> y,
            int n, int c, int h, int width, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft, int dh, int dw)
        {
            CheckWindow(x.Length, y.Length, n, c, h, width, c, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw);
/*SIMDMAXPOOL*/            for (int b = 0; b < n; b++)
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
/*SIMDMAX*/            for (; i < y.Length; i++)
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
/*SIMDAVERAGE*/                for (; ch < c; ch++)
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

        /// <summary>Elementwise sum of two grids onto the output grid, one rounding in 64 bits.</summary>
        public static void Add(global::System.ReadOnlySpan<byte> a, global::System.ReadOnlySpan<byte> b, global::System.Span<byte> y,
            int za, int zb, int ma, int mb, int shift, int zy, int lo, int hi)
        {
            long half = 1L << (shift - 1);
            int i = 0;
/*SIMDADD*/            for (; i < y.Length; i++)
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
