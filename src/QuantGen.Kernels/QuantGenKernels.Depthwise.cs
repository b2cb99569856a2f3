// QuantGen kernels: depthwise convolutions (group = C = M), NCHW and NHWC.
// Emitted into the consumer's assembly by QuantGen.Generator (docs/generator.md, "Kernels").
#nullable enable

namespace QuantGen.Generated
{
    internal static partial class QuantGenKernels
    {
        /// <summary>
        /// Depthwise 2-D convolution (group = C = M), NCHW, weights [C, KH, KW] as the artifact stores them: each input
        /// plane is copied into <paramref name="plane"/> with a border of zx (so no tap needs a bounds check), then every
        /// output row is computed from that padded plane. <paramref name="plane"/> holds (H + top + bottom) · (W + left +
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
#if QUANTGEN_INTRINSICS
                    if (SimdEnabled && (sw == 1 || sw == 2) && global::System.Runtime.Intrinsics.X86.Avx512F.VL.IsSupported)
                        ox = DepthwiseRowAvx512(plane, taps, output, oy * sh * pw, pw, kh, kw, sw, dh, dw, bo, sc, negSc, zy, lo, hi < top ? hi : top);
#endif
                        for (; ox < ow; ox++)
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
        /// Depthwise 2-D convolution (group = C = M) with NHWC input and output, weights repacked at build time as
        /// [KH·KW, C] so that one tap's weights for neighbouring channels are adjacent: the SIMD path computes 8 channels
        /// of a position per vector; taps outside the input read a row of zx (<paramref name="border"/>, C bytes).
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
#if QUANTGEN_INTRINSICS
            if (SimdEnabled && VnniEnabled && global::System.Runtime.Intrinsics.X86.AvxVnni.IsSupported && global::System.Runtime.Intrinsics.X86.Avx512Vbmi.IsSupported)
                first = DepthwiseNhwcAvxVnni(x, w, bias, scale, negScale, high, y, border,
                    n, c, h, width, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw, zx, zy, lo, hi);
            // AVX-512BW for the 64-channel blocks' vpmaddwd and packs, checked on its own as ConvRowsAvx2 checks it.
            if (first == 0 && SimdEnabled && global::System.Runtime.Intrinsics.X86.Avx512F.VL.IsSupported && global::System.Runtime.Intrinsics.X86.Avx512BW.IsSupported)
                first = DepthwiseNhwcAvx512(x, w, bias, scale, negScale, high, y, border,
                    n, c, h, width, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw, zx, zy, lo, hi);
            else if (first == 0 && SimdEnabled && global::System.Runtime.Intrinsics.X86.Avx2.IsSupported)
                first = DepthwiseNhwcAvx2(x, w, bias, scale, negScale, high, y, border,
                    n, c, h, width, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw, zx, zy, lo, hi);
            else if (SimdEnabled && global::System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.IsSupported)
                first = DepthwiseNhwcArm(x, w, bias, scale, negScale, high, y, border,
                    n, c, h, width, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw, zx, zy, lo, hi);
#endif
            if (first == c) return;
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

#if QUANTGEN_INTRINSICS
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

        /// <summary>Tap t's weights (int32 lanes) times the 16 input bytes at origin + offset, zero-extended.</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static global::System.Runtime.Intrinsics.Vector512<int> TapProduct(ref global::System.Runtime.Intrinsics.Vector512<int> tap, int t, ref byte origin, int offset) =>
            global::System.Runtime.Intrinsics.X86.Avx512F.MultiplyLow(global::System.Runtime.CompilerServices.Unsafe.Add(ref tap, t),
                global::System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector512Int32(global::System.Runtime.Intrinsics.Vector128.LoadUnsafe(ref origin, (nuint)offset)));

        /// <summary>
        /// The first <paramref name="count"/> values of a stackalloc'd buffer, from its first 64-byte boundary (the buffer
        /// holds 63 bytes more). A stackalloc is only 16-byte aligned, and a 64-byte load that straddles two cache
        /// lines costs two: with the tap weights at 16 or 48 bytes past a line (which one followed the caller's stack
        /// depth), every weight operand of the 512-bit depthwise loop was such a load. Stack memory does not move.
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static global::System.Span<T> Aligned64<T>(global::System.Span<byte> buffer, int count) where T : struct =>
            global::System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(buffer.Slice(AlignmentSkip(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(buffer)),
                count * global::System.Runtime.CompilerServices.Unsafe.SizeOf<T>()));

        /// <summary>
        /// Each tap's offset (taps row-major) from its position's first tap in a padded plane of FillPlane's layout, pw
        /// columns of c bytes: so that the NHWC kernels read every tap in place, with no bounds test.
        /// </summary>
        private static void PlaneTapOffsets(global::System.Span<int> offsets, int kh, int kw, int dh, int dw, int pw, int c)
        {
            for (int ky = 0, t = 0; ky < kh; ky++)
                for (int kx = 0; kx < kw; kx++, t++)
                    offsets[t] = (ky * dh * pw + kx * dw) * c;
        }

        /// <summary>How many bytes from <paramref name="at"/> to the next 64-byte boundary (0 if it is one).</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static int AlignmentSkip(ref byte at) =>
            (int)(-(long)global::System.Runtime.CompilerServices.Unsafe.ByteOffset(ref global::System.Runtime.CompilerServices.Unsafe.NullRef<byte>(), ref at) & 63);

        /// <summary>
        /// DepthwiseConvNhwc for whole blocks of 8 channels on Arm64 (AdvSimd), from the padded plane the x86 paths use
        /// (FillPlane: every tap at a fixed offset, no bounds test): per tap the 8 channels' input bytes zero-extended to
        /// int16 (uxtl) and multiplied by the tap's weights, sign-extended once per block, into two int32 sums of four
        /// channels (smlal, smlal2: exact, |x·w| ≤ 255 · 128), then RequantizeLanesArm and a narrowing store of 8 bytes.
        /// Not timed (there is no Arm machine here); it replaces the scalar loop's multiply, add and bounds test per MAC.
        /// Returns the number of channels done (0 if the scratch cannot hold the plane); the scalar loop does the rest.
        /// </summary>
        private static int DepthwiseNhwcArm(global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, global::System.Span<byte> scratch,
            int n, int c, int h, int width, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft, int dh, int dw, int zx, int zy, int lo, int hi)
        {
            int taps = kh * kw, blocks = c & ~7, image = h * width * c;
            int ph = (oh - 1) * sh + (kh - 1) * dh + 1, pw = (ow - 1) * sw + (kw - 1) * dw + 1;
            if (blocks == 0 || taps > 64 || scratch.Length < ph * pw * c) return 0;
            if (x.Length < n * image || w.Length < taps * c || y.Length < n * oh * ow * c) throw new global::System.ArgumentException("The buffers do not hold the tensors.");
            ref byte plane = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(scratch);
            ref byte weights = ref global::System.Runtime.CompilerServices.Unsafe.As<sbyte, byte>(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w));
            ref byte output = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(y);
            global::System.Span<int> offsets = stackalloc int[taps];
            PlaneTapOffsets(offsets, kh, kw, dh, dw, pw, c);
            global::System.Span<global::System.Runtime.Intrinsics.Vector128<short>> tapWeights = stackalloc global::System.Runtime.Intrinsics.Vector128<short>[taps];
            var low = global::System.Runtime.Intrinsics.Vector128.Create((float)(lo - zy));
            var top = global::System.Runtime.Intrinsics.Vector128.Create(hi);
            var zero = global::System.Runtime.Intrinsics.Vector128.Create(zy);
            for (int b = 0; b < n; b++)
            {
                FillPlane(x.Slice(b * image, image), scratch, c, h, width, ph, pw, padTop, padLeft, (byte)zx);
                for (int ch = 0; ch < blocks; ch += 8)
                {
                    for (int t = 0; t < taps; t++)
                        tapWeights[t] = global::System.Runtime.Intrinsics.Arm.AdvSimd.SignExtendWideningLower(global::System.Runtime.Intrinsics.Vector64.AsSByte(
                            global::System.Runtime.Intrinsics.Vector64.LoadUnsafe(ref weights, (nuint)(t * c + ch))));
                    var bias0 = global::System.Runtime.Intrinsics.Vector128.Create(bias.Slice(ch, 4));
                    var bias1 = global::System.Runtime.Intrinsics.Vector128.Create(bias.Slice(ch + 4, 4));
                    var scale0 = global::System.Runtime.Intrinsics.Vector128.Create(scale.Slice(ch, 4));
                    var scale1 = global::System.Runtime.Intrinsics.Vector128.Create(scale.Slice(ch + 4, 4));
                    var negScale0 = global::System.Runtime.Intrinsics.Vector128.Create(negScale.Slice(ch, 4));
                    var negScale1 = global::System.Runtime.Intrinsics.Vector128.Create(negScale.Slice(ch + 4, 4));
                    var upper0 = UpperBoundArm(top, high, ch, zero);
                    var upper1 = UpperBoundArm(top, high, ch + 4, zero);
                    for (int oy = 0; oy < oh; oy++)
                    {
                        ref byte origin = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref plane, oy * sh * pw * c + ch);
                        int target = ((b * oh + oy) * ow) * c + ch;
                        for (int ox = 0; ox < ow; ox++, origin = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref origin, sw * c), target += c)
                        {
                            var a0 = bias0; var a1 = bias1;
                            for (int t = 0; t < taps; t++)
                            {
                                var v = global::System.Runtime.Intrinsics.Vector128.AsInt16(global::System.Runtime.Intrinsics.Arm.AdvSimd.ZeroExtendWideningLower(
                                    global::System.Runtime.Intrinsics.Vector64.LoadUnsafe(ref origin, (nuint)offsets[t])));
                                a0 = global::System.Runtime.Intrinsics.Arm.AdvSimd.MultiplyWideningLowerAndAdd(a0, global::System.Runtime.Intrinsics.Vector128.GetLower(v),
                                    global::System.Runtime.Intrinsics.Vector128.GetLower(tapWeights[t]));
                                a1 = global::System.Runtime.Intrinsics.Arm.AdvSimd.MultiplyWideningUpperAndAdd(a1, v, tapWeights[t]);
                            }
                            var words = global::System.Runtime.Intrinsics.Vector128.Narrow(RequantizeLanesArm(a0, scale0, negScale0, low, upper0, zero),
                                RequantizeLanesArm(a1, scale1, negScale1, low, upper1, zero));
                            var bytes = global::System.Runtime.Intrinsics.Vector128.Narrow(global::System.Runtime.Intrinsics.Vector128.AsUInt16(words), global::System.Runtime.Intrinsics.Vector128.AsUInt16(words));
                            global::System.Runtime.CompilerServices.Unsafe.WriteUnaligned(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref output, target),
                                global::System.Runtime.Intrinsics.Vector128.ToScalar(global::System.Runtime.Intrinsics.Vector128.AsUInt64(bytes)));
                        }
                    }
                }
            }
            return blocks;
        }

        /// <summary>
        /// DepthwiseConvNhwc for the whole blocks of 16 channels with AVX-512BW and without VNNI: each image is copied once
        /// into <paramref name="scratch"/> as a plane padded with zx (FillPlane), so every tap of every position is read
        /// in place at a fixed offset, with no bounds test. Blocks of 64 channels (DepthwiseBlock64Avx512) take the taps
        /// in pairs (an odd count's last tap paired with zero weights): one int16 vpmaddwd sums a pair's two u8 × s8
        /// products for 16 channels, exact for every weight, −128 included (|x·w| ≤ 255 · 128 fits the int16 operands,
        /// a pair's sum int32). The input is widened without vpmovzx: the even channels of a 64-byte load are its 16-bit
        /// lanes masked (vpandd), the odd ones the lanes shifted down (vpsrlw), and vpunpcklwd/hwd of a pair's two taps
        /// make the (tap, tap) int16 pairs, so that the four accumulators hold, per 16 channels (a 128-bit lane),
        /// channels 0, 2, 4, 6 | 8, 10, 12, 14 | 1, 3, 5, 7 | 9, 11, 13, 15. The weights (split and interleaved the same
        /// way, sign-extended), the bias and the requantization constants (InLaneOrder) are laid out in that order once
        /// per block, and the requantized bytes are put back in channel order by a shift, an or and one vpackusdw. Per 64
        /// channels and tap pair: two loads and 16 instructions, where tap by tap it takes eight loads and 24 (vpmovzxbd,
        /// vpmulld and vpaddd per 16 channels and tap). The 16-channel blocks after them stay tap by tap, against the
        /// taps' weights sign-extended once (vpmovsxbd); there a pair form (two vpmovzxbd, vpslld, vpord, vpmaddwd)
        /// measured slower. A last block of 8 channels goes through DepthwiseBlock8Avx2. Returns the number of channels
        /// done (0 if the scratch cannot hold the plane); the scalar loop does the rest (at most 7).
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private static int DepthwiseNhwcAvx512(global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, global::System.Span<byte> scratch,
            int n, int c, int h, int width, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft, int dh, int dw, int zx, int zy, int lo, int hi)
        {
            int taps = kh * kw, pairs = (taps + 1) / 2, blocks = c & ~15, image = h * width * c;
            int ph = (oh - 1) * sh + (kh - 1) * dh + 1, pw = (ow - 1) * sw + (kw - 1) * dw + 1;
            if (blocks == 0 || taps > 64 || scratch.Length < ph * pw * c) return 0;
            if (x.Length < n * image || w.Length < taps * c || y.Length < n * oh * ow * c) throw new global::System.ArgumentException("The buffers do not hold the tensors.");
            // The plane from a 64-byte boundary where the scratch has the room: with C a multiple of 64, every 64-byte
            // load of a block is then one cache line, not two. (The garbage collector may move the scratch: that costs
            // the alignment, never a result.)
            int skip = AlignmentSkip(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(scratch));
            if (scratch.Length - skip >= ph * pw * c) scratch = scratch.Slice(skip);
            ref byte plane = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(scratch);
            // Each tap's offset in the plane from its position's first tap; an odd count's phantom last tap reads the
            // real one again (its weights are zero).
            global::System.Span<int> offsets = stackalloc int[2 * pairs];
            PlaneTapOffsets(offsets, kh, kw, dh, dw, pw, c);
            if (taps < 2 * pairs) offsets[taps] = offsets[taps - 1];
            // The stack buffers below are sized 0 where their blocks do not occur: zeroing them is most of a small layer's setup.
            int wideBlocks = c >= 64 ? 1 : 0, narrowBlocks = (c & 63) >= 16 ? 1 : 0;
            // Per pair, a 64-channel block's (first tap, second tap) int16 weight pairs, four vectors in the accumulators'
            // channel order.
            var pairWeights = Aligned64<global::System.Runtime.Intrinsics.Vector512<short>>(stackalloc byte[64 * 4 * pairs * wideBlocks + 63], 4 * pairs * wideBlocks);
            // A 16-channel block's taps, sign-extended to int32 lanes.
            var tapWeights = Aligned64<global::System.Runtime.Intrinsics.Vector512<int>>(stackalloc byte[64 * taps * narrowBlocks + 63], taps * narrowBlocks);
            // The requantization constants of a 64-channel block's four accumulators, aligned like the weights (a
            // Requantization16 is five 64-byte lines; as locals they sat 24 bytes past a line, and the loop reads them
            // from memory: the block keeps 4 sums, the masks and the loads in its registers).
            var requantizations = Aligned64<Requantization16>(stackalloc byte[4 * global::System.Runtime.CompilerServices.Unsafe.SizeOf<Requantization16>() * wideBlocks + 63], 4 * wideBlocks);
            ref global::System.Runtime.Intrinsics.Vector512<int> tap = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(tapWeights);
            ref byte weights = ref global::System.Runtime.CompilerServices.Unsafe.As<sbyte, byte>(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w));
            int column = dw * c, row = dh * pw * c;
            bool unrolled = kh == 3 && kw == 3;
            // A 64-channel block's bias and requantization constants in the accumulators' channel order.
            global::System.Span<int> laneBias = stackalloc int[64 * wideBlocks];
            global::System.Span<int> laneHigh = stackalloc int[64 * wideBlocks];
            global::System.Span<float> laneScale = stackalloc float[64 * wideBlocks];
            global::System.Span<float> laneNegScale = stackalloc float[64 * wideBlocks];
            bool tail = c - blocks >= 8;
            global::System.Span<global::System.Runtime.Intrinsics.Vector256<int>> tailWeights = stackalloc global::System.Runtime.Intrinsics.Vector256<int>[tail ? taps : 0];
            for (int b = 0; b < n; b++)
            {
                FillPlane(x.Slice(b * image, image), scratch, c, h, width, ph, pw, padTop, padLeft, (byte)zx);
                int ch = 0;
                for (; ch + 64 <= c; ch += 64)
                {
                    // Each pair's weights split and interleaved as DepthwiseBlock64Avx512 splits and interleaves the input,
                    // sign-extended (vpsllw, vpsraw) where the input is zero-extended.
                    for (int p = 0; p < pairs; p++)
                    {
                        var first = global::System.Runtime.Intrinsics.Vector512.AsInt16(global::System.Runtime.Intrinsics.Vector512.Create(w.Slice(2 * p * c + ch, 64)));
                        var second = 2 * p + 1 < taps
                            ? global::System.Runtime.Intrinsics.Vector512.AsInt16(global::System.Runtime.Intrinsics.Vector512.Create(w.Slice((2 * p + 1) * c + ch, 64)))
                            : global::System.Runtime.Intrinsics.Vector512<short>.Zero;
                        var firstEven = global::System.Runtime.Intrinsics.Vector512.ShiftRightArithmetic(global::System.Runtime.Intrinsics.Vector512.ShiftLeft(first, 8), 8);
                        var secondEven = global::System.Runtime.Intrinsics.Vector512.ShiftRightArithmetic(global::System.Runtime.Intrinsics.Vector512.ShiftLeft(second, 8), 8);
                        var firstOdd = global::System.Runtime.Intrinsics.Vector512.ShiftRightArithmetic(first, 8);
                        var secondOdd = global::System.Runtime.Intrinsics.Vector512.ShiftRightArithmetic(second, 8);
                        pairWeights[4 * p] = global::System.Runtime.Intrinsics.X86.Avx512BW.UnpackLow(firstEven, secondEven);
                        pairWeights[4 * p + 1] = global::System.Runtime.Intrinsics.X86.Avx512BW.UnpackHigh(firstEven, secondEven);
                        pairWeights[4 * p + 2] = global::System.Runtime.Intrinsics.X86.Avx512BW.UnpackLow(firstOdd, secondOdd);
                        pairWeights[4 * p + 3] = global::System.Runtime.Intrinsics.X86.Avx512BW.UnpackHigh(firstOdd, secondOdd);
                    }
                    InLaneOrder(bias.Slice(ch, 64), laneBias);
                    InLaneOrder(global::System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(scale.Slice(ch, 64)), global::System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(laneScale));
                    InLaneOrder(global::System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(negScale.Slice(ch, 64)), global::System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(laneNegScale));
                    if (high.Length != 0) InLaneOrder(high.Slice(ch, 64), laneHigh);
                    var laneTop = high.Length == 0 ? high : laneHigh;
                    for (int i = 0; i < 4; i++) requantizations[i] = new Requantization16(laneScale, laneNegScale, laneTop, hi, 16 * i, zy, lo);
                    DepthwiseBlock64Avx512(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref plane, ch), offsets, pairWeights, laneBias, requantizations,
                        y.Slice(b * oh * ow * c + ch), oh, ow, sh * pw * c, sw * c, c, unrolled, column, row);
                }
                for (; ch < blocks; ch += 16)
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
                // The last 8 channels, if any (DepthwiseBlock8Avx2: 256-bit, tap by tap).
                if (tail) DepthwiseBlock8Avx2(ref plane, ref weights, bias, scale, negScale, high, y, tailWeights, offsets, b, blocks, c, oh, ow, sh * pw * c, sw * c, zy, lo, hi);
            }
            return tail ? blocks + 8 : blocks;
        }

        /// <summary>
        /// One tap pair of DepthwiseBlock64Avx512: the 64 bytes at origin + first and at origin + second, each split into
        /// its even and odd channels' int16 lanes (vpandd, vpsrlw), interleaved (vpunpcklwd/hwd) and multiplied by the
        /// pair's weights (vpmaddwd) into the four sums.
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static void AddPair(ref byte origin, int first, int second, ref global::System.Runtime.Intrinsics.Vector512<short> weights,
            ref global::System.Runtime.Intrinsics.Vector512<int> a0, ref global::System.Runtime.Intrinsics.Vector512<int> a1,
            ref global::System.Runtime.Intrinsics.Vector512<int> a2, ref global::System.Runtime.Intrinsics.Vector512<int> a3, global::System.Runtime.Intrinsics.Vector512<ushort> lowBytes)
        {
            var x0 = global::System.Runtime.Intrinsics.Vector512.AsUInt16(global::System.Runtime.Intrinsics.Vector512.LoadUnsafe(ref origin, (nuint)first));
            var x1 = global::System.Runtime.Intrinsics.Vector512.AsUInt16(global::System.Runtime.Intrinsics.Vector512.LoadUnsafe(ref origin, (nuint)second));
            var even0 = global::System.Runtime.Intrinsics.Vector512.AsInt16(x0 & lowBytes);
            var even1 = global::System.Runtime.Intrinsics.Vector512.AsInt16(x1 & lowBytes);
            var odd0 = global::System.Runtime.Intrinsics.Vector512.AsInt16(global::System.Runtime.Intrinsics.Vector512.ShiftRightLogical(x0, 8));
            var odd1 = global::System.Runtime.Intrinsics.Vector512.AsInt16(global::System.Runtime.Intrinsics.Vector512.ShiftRightLogical(x1, 8));
            a0 += global::System.Runtime.Intrinsics.X86.Avx512BW.MultiplyAddAdjacent(global::System.Runtime.Intrinsics.X86.Avx512BW.UnpackLow(even0, even1), weights);
            a1 += global::System.Runtime.Intrinsics.X86.Avx512BW.MultiplyAddAdjacent(global::System.Runtime.Intrinsics.X86.Avx512BW.UnpackHigh(even0, even1),
                global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, 1));
            a2 += global::System.Runtime.Intrinsics.X86.Avx512BW.MultiplyAddAdjacent(global::System.Runtime.Intrinsics.X86.Avx512BW.UnpackLow(odd0, odd1),
                global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, 2));
            a3 += global::System.Runtime.Intrinsics.X86.Avx512BW.MultiplyAddAdjacent(global::System.Runtime.Intrinsics.X86.Avx512BW.UnpackHigh(odd0, odd1),
                global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, 3));
        }

        /// <summary>
        /// 64 channels' values (bias, scales, clamps) in the order of DepthwiseBlock64Avx512's four accumulators: per
        /// 128-bit part of a 16-channel group, its channels 0, 2, 4, 6, then 8, 10, 12, 14, then 1, 3, 5, 7, then
        /// 9, 11, 13, 15 (vpermt2d twice: the even or odd channels of two groups, then the halves of four).
        /// </summary>
        private static void InLaneOrder(global::System.ReadOnlySpan<int> channels, global::System.Span<int> lanes)
        {
            var evens = global::System.Runtime.Intrinsics.Vector512.Create(0, 2, 4, 6, 16, 18, 20, 22, 8, 10, 12, 14, 24, 26, 28, 30);
            var odds = evens + global::System.Runtime.Intrinsics.Vector512<int>.One;
            var lowHalves = global::System.Runtime.Intrinsics.Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
            var highHalves = lowHalves + global::System.Runtime.Intrinsics.Vector512.Create(8);
            var g0 = global::System.Runtime.Intrinsics.Vector512.Create(channels.Slice(0, 16));
            var g1 = global::System.Runtime.Intrinsics.Vector512.Create(channels.Slice(16, 16));
            var g2 = global::System.Runtime.Intrinsics.Vector512.Create(channels.Slice(32, 16));
            var g3 = global::System.Runtime.Intrinsics.Vector512.Create(channels.Slice(48, 16));
            var even01 = global::System.Runtime.Intrinsics.X86.Avx512F.PermuteVar16x32x2(g0, evens, g1);
            var even23 = global::System.Runtime.Intrinsics.X86.Avx512F.PermuteVar16x32x2(g2, evens, g3);
            var odd01 = global::System.Runtime.Intrinsics.X86.Avx512F.PermuteVar16x32x2(g0, odds, g1);
            var odd23 = global::System.Runtime.Intrinsics.X86.Avx512F.PermuteVar16x32x2(g2, odds, g3);
            global::System.Runtime.Intrinsics.Vector512.CopyTo(global::System.Runtime.Intrinsics.X86.Avx512F.PermuteVar16x32x2(even01, lowHalves, even23), lanes);
            global::System.Runtime.Intrinsics.Vector512.CopyTo(global::System.Runtime.Intrinsics.X86.Avx512F.PermuteVar16x32x2(even01, highHalves, even23), lanes.Slice(16));
            global::System.Runtime.Intrinsics.Vector512.CopyTo(global::System.Runtime.Intrinsics.X86.Avx512F.PermuteVar16x32x2(odd01, lowHalves, odd23), lanes.Slice(32));
            global::System.Runtime.Intrinsics.Vector512.CopyTo(global::System.Runtime.Intrinsics.X86.Avx512F.PermuteVar16x32x2(odd01, highHalves, odd23), lanes.Slice(48));
        }

        /// <summary>
        /// The output positions of one 64-channel block of DepthwiseNhwcAvx512 (its own method, so that the four
        /// accumulators and the masks keep their registers): per tap pair two 64-byte loads, each split into its even
        /// and odd channels' int16 lanes, the pair interleaved and multiplied (vpunpcklwd/hwd, vpmaddwd), four sums.
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private static void DepthwiseBlock64Avx512(ref byte start, global::System.ReadOnlySpan<int> offsets, global::System.ReadOnlySpan<global::System.Runtime.Intrinsics.Vector512<short>> pairWeights,
            global::System.ReadOnlySpan<int> laneBias, global::System.ReadOnlySpan<Requantization16> requantizations,
            global::System.Span<byte> y, int oh, int ow, int rowStep, int columnStep, int c, bool unrolled, int column, int row)
        {
            if (y.Length < ((oh - 1) * ow + ow - 1) * c + 64 || laneBias.Length < 64 || pairWeights.Length < 2 * offsets.Length || requantizations.Length < 4)
                throw new global::System.ArgumentException("The buffers do not hold the tensors.");
            ref readonly var q0 = ref requantizations[0];
            ref readonly var q1 = ref requantizations[1];
            ref readonly var q2 = ref requantizations[2];
            ref readonly var q3 = ref requantizations[3];
            ref int offset = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(offsets);
            ref var weights = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(pairWeights);
            ref byte output = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(y);
            int pairs = offsets.Length / 2, target = 0;
            var bias0 = global::System.Runtime.Intrinsics.Vector512.Create(laneBias.Slice(0, 16));
            var bias1 = global::System.Runtime.Intrinsics.Vector512.Create(laneBias.Slice(16, 16));
            var bias2 = global::System.Runtime.Intrinsics.Vector512.Create(laneBias.Slice(32, 16));
            var bias3 = global::System.Runtime.Intrinsics.Vector512.Create(laneBias.Slice(48, 16));
            var lowBytes = global::System.Runtime.Intrinsics.Vector512.Create((ushort)0xFF);
            for (int oy = 0; oy < oh; oy++)
            {
                ref byte origin = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref start, oy * rowStep);
                for (int ox = 0; ox < ow; ox++, origin = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref origin, columnStep), target += c)
                {
                    var a0 = bias0; var a1 = bias1; var a2 = bias2; var a3 = bias3;
                    if (unrolled)
                    {
                        // 3×3, unrolled (taps 0-1, 2-3, 4-5, 6-7, and 8 with zero weights): 10-20% faster than the pair loop.
                        AddPair(ref origin, 0, column, ref weights, ref a0, ref a1, ref a2, ref a3, lowBytes);
                        AddPair(ref origin, 2 * column, row, ref global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, 4), ref a0, ref a1, ref a2, ref a3, lowBytes);
                        AddPair(ref origin, row + column, row + 2 * column, ref global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, 8), ref a0, ref a1, ref a2, ref a3, lowBytes);
                        AddPair(ref origin, 2 * row, 2 * row + column, ref global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, 12), ref a0, ref a1, ref a2, ref a3, lowBytes);
                        AddPair(ref origin, 2 * row + 2 * column, 2 * row + 2 * column, ref global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, 16), ref a0, ref a1, ref a2, ref a3, lowBytes);
                    }
                    else
                    {
                        for (int p = 0; p < pairs; p++)
                            AddPair(ref origin, global::System.Runtime.CompilerServices.Unsafe.Add(ref offset, 2 * p), global::System.Runtime.CompilerServices.Unsafe.Add(ref offset, 2 * p + 1),
                                ref global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, 4 * p), ref a0, ref a1, ref a2, ref a3, lowBytes);
                    }
                    // Each even channel's byte with its odd neighbour's above it, as int32 lanes (0|1, 2|3, …), then
                    // packed in-lane to 16-bit: the 64 bytes in channel order.
                    var low = q0.Quantize(a0) | global::System.Runtime.Intrinsics.Vector512.ShiftLeft(q2.Quantize(a2), 8);
                    var upper = q1.Quantize(a1) | global::System.Runtime.Intrinsics.Vector512.ShiftLeft(q3.Quantize(a3), 8);
                    global::System.Runtime.Intrinsics.Vector512.StoreUnsafe(global::System.Runtime.Intrinsics.Vector512.AsByte(global::System.Runtime.Intrinsics.X86.Avx512BW.PackUnsignedSaturate(low, upper)),
                        ref global::System.Runtime.CompilerServices.Unsafe.Add(ref output, target));
                }
            }
        }

        /// <summary>
        /// DepthwiseConvNhwc for the whole blocks of 16 channels of a kernel at most 4 wide, with AVX-VNNI: vpdpbusd sums
        /// four u8 × s8 products per int32 lane, so a kernel row's taps are laid side by side per channel. Per block, every
        /// (plane row, output column) gets its 16 channels' kw horizontal taps interleaved into 4-byte groups (64 bytes,
        /// unused tap slots zero) once, in the scratch after the padded plane (ExpandRows); every output position then
        /// takes, per kernel row, two 32-byte loads and two vpdpbusd against the row's interleaved weights, where the
        /// tap-by-tap kernel takes three vpmulld. Each expanded row serves every output row that reaches it (three at
        /// stride 1). The sums are the same integers as the tap-by-tap kernels'. A last block of 8 channels goes through
        /// DepthwiseBlock8Avx2 (from the same padded plane). Returns the number of channels done (0
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
            if (x.Length < n * image || w.Length < kh * kw * c || y.Length < n * oh * ow * c) throw new global::System.ArgumentException("The buffers do not hold the tensors.");
            ref byte plane = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(scratch);
            ref byte expanded = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref plane, planeLength);
            ref byte weights = ref global::System.Runtime.CompilerServices.Unsafe.As<sbyte, byte>(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w));
            // Per kernel row, the interleaved weights of channels 0-7 and 8-15 of the block; then (pairs) the same moved
            // up one tap slot, for the odd output columns.
            global::System.Span<global::System.Runtime.Intrinsics.Vector256<byte>> kernelRows = stackalloc global::System.Runtime.Intrinsics.Vector256<byte>[4 * kh];
            bool tail = c - blocks >= 8;
            int tailTaps = tail ? kh * kw : 0;
            global::System.Span<global::System.Runtime.Intrinsics.Vector256<int>> tailWeights = stackalloc global::System.Runtime.Intrinsics.Vector256<int>[tailTaps];
            global::System.Span<int> offsets = stackalloc int[tailTaps];
            if (tail) PlaneTapOffsets(offsets, kh, kw, dh, dw, pw, c);
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
                // The last 8 channels, if any (DepthwiseBlock8Avx2: 256-bit, tap by tap).
                if (tail) DepthwiseBlock8Avx2(ref plane, ref weights, bias, scale, negScale, high, y, tailWeights, offsets, b, blocks, c, oh, ow, sh * pw * c, sw * c, zy, lo, hi);
            }
            return tail ? blocks + 8 : blocks;
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
            // 0, 1, …, 63 (Vector512<byte>.Indices is .NET 9+).
            var indices = global::System.Runtime.Intrinsics.Vector512.Create((byte)0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63);
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
        /// DepthwiseNhwcAvx512 for x86 CPUs without AVX-512, from the same padded plane. Blocks of 32 channels go through
        /// DepthwiseQuadsAvx2: the 32 channels' bytes of four taps are interleaved by vpunpcklbw/hbw and vpunpcklwd/hwd
        /// into a tap quadruplet per channel, so that one vpmaddubsw + vpmaddwd (in the exact forms of the AVX2 convs:
        /// PairsFit or SignSplit, chosen per block from its weights) sums four taps of 8 channels, where the tap-by-tap
        /// path takes four vpmovzxbd, four vpmulld and four adds. The interleave's in-lane order (channels 0-3 and 16-19
        /// in the first vector, …) is undone for free by the in-lane packs of the 32 results. Taps past the last whole
        /// quadruplet (the ninth of a 3×3) are multiplied one by one. The channels left (fewer than 32, or a block with a
        /// weight of −128, which neither form takes) go 8 at a time: per tap 8 input bytes zero-extended and the tap's
        /// weights sign-extended to int32 (vpmovzxbd, vpmovsxbd), vpmulld, requantized by Requantize8. Returns the number
        /// of channels done (0 if the scratch cannot hold the plane).
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private static int DepthwiseNhwcAvx2(global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, global::System.Span<byte> scratch,
            int n, int c, int h, int width, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft, int dh, int dw, int zx, int zy, int lo, int hi)
        {
            int taps = kh * kw, blocks = c & ~7, image = h * width * c, quads = taps / 4, rest = taps - 4 * quads;
            int ph = (oh - 1) * sh + (kh - 1) * dh + 1, pw = (ow - 1) * sw + (kw - 1) * dw + 1;
            if (blocks == 0 || taps > 64 || scratch.Length < ph * pw * c) return 0;
            if (x.Length < n * image || w.Length < taps * c || y.Length < n * oh * ow * c) throw new global::System.ArgumentException("The buffers do not hold the tensors.");
            ref byte plane = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(scratch);
            ref byte weights = ref global::System.Runtime.CompilerServices.Unsafe.As<sbyte, byte>(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w));
            global::System.Span<int> offsets = stackalloc int[taps];
            PlaneTapOffsets(offsets, kh, kw, dh, dw, pw, c);
            global::System.Span<global::System.Runtime.Intrinsics.Vector256<int>> tapWeights = stackalloc global::System.Runtime.Intrinsics.Vector256<int>[taps];
            // A 32-channel block's weights: per quadruplet the four interleaved vectors, then per remaining tap four
            // vectors of int32 lanes in the interleave's channel order.
            global::System.Span<global::System.Runtime.Intrinsics.Vector256<byte>> quadWeights = stackalloc global::System.Runtime.Intrinsics.Vector256<byte>[4 * quads];
            global::System.Span<global::System.Runtime.Intrinsics.Vector256<int>> restWeights = stackalloc global::System.Runtime.Intrinsics.Vector256<int>[4 * rest];
            for (int b = 0; b < n; b++)
            {
                FillPlane(x.Slice(b * image, image), scratch, c, h, width, ph, pw, padTop, padLeft, (byte)zx);
                int ch = 0;
                for (; quads > 0 && ch + 32 <= c; ch += 32)
                {
                    for (int qd = 0; qd < quads; qd++)
                    {
                        ref byte tap = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, 4 * qd * c + ch);
                        Interleave4(global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref tap), global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref tap, (nuint)c),
                            global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref tap, (nuint)(2 * c)), global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref tap, (nuint)(3 * c)),
                            out quadWeights[4 * qd], out quadWeights[4 * qd + 1], out quadWeights[4 * qd + 2], out quadWeights[4 * qd + 3]);
                    }
                    int form = DotForm(global::System.Runtime.InteropServices.MemoryMarshal.Cast<global::System.Runtime.Intrinsics.Vector256<byte>, sbyte>(quadWeights));
                    if (form == 0) break;
                    for (int r = 0; r < rest; r++)
                        for (int i = 0; i < 4; i++)
                        {
                            int at = (4 * quads + r) * c + ch + 4 * i;
                            restWeights[4 * r + i] = global::System.Runtime.Intrinsics.Vector256.Create(
                                (int)w[at], w[at + 1], w[at + 2], w[at + 3], w[at + 16], w[at + 17], w[at + 18], w[at + 19]);
                        }
                    var channels = new QuadBlock(scratch.Slice(ch, ph * pw * c - ch), offsets, quads, rest, sh * pw * c, sw * c, c);
                    var q0 = new Requantization8(scale, negScale, high, hi, ch, ch + 16, zy, lo);
                    var q1 = new Requantization8(scale, negScale, high, hi, ch + 4, ch + 20, zy, lo);
                    var q2 = new Requantization8(scale, negScale, high, hi, ch + 8, ch + 24, zy, lo);
                    var q3 = new Requantization8(scale, negScale, high, hi, ch + 12, ch + 28, zy, lo);
                    var target = y.Slice(b * oh * ow * c + ch);
                    if (form == 2) DepthwiseQuadsAvx2<PairsFit>(channels, quadWeights, restWeights, bias.Slice(ch, 32), q0, q1, q2, q3, target, oh, ow);
                    else DepthwiseQuadsAvx2<SignSplit>(channels, quadWeights, restWeights, bias.Slice(ch, 32), q0, q1, q2, q3, target, oh, ow);
                }
                for (; ch < blocks; ch += 8)
                    DepthwiseBlock8Avx2(ref plane, ref weights, bias, scale, negScale, high, y, tapWeights, offsets, b, ch, c, oh, ow, sh * pw * c, sw * c, zy, lo, hi);
            }
            return blocks;
        }

        /// <summary>
        /// One block of 8 channels, ch … ch + 7, of a depthwise layer at every output position of image b, from the padded
        /// plane (FillPlane's layout, so each tap at a fixed offset): per tap 8 input bytes zero-extended and the tap's
        /// weights sign-extended to int32 lanes (vpmovzxbd, vpmovsxbd; the weights once per block, into
        /// <paramref name="tapWeights"/>), vpmulld, then Requantize8. DepthwiseNhwcAvx2's channels after its 32-channel
        /// blocks, and the last 8 channels after the AVX-512 and AVX-VNNI kernels' blocks of 16 (MobileNetV3's 72, 120,
        /// 184 and 200 channels end in such a block).
        /// </summary>
        private static void DepthwiseBlock8Avx2(ref byte plane, ref byte weights, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high, global::System.Span<byte> y,
            global::System.Span<global::System.Runtime.Intrinsics.Vector256<int>> tapWeights, global::System.ReadOnlySpan<int> offsets,
            int b, int ch, int c, int oh, int ow, int rowStep, int columnStep, int zy, int lo, int hi)
        {
            int taps = tapWeights.Length;
            var q = new Requantization8(scale, negScale, high, hi, ch, zy, lo);
            var initial = global::System.Runtime.Intrinsics.Vector256.Create(bias.Slice(ch, 8));
            for (int t = 0; t < taps; t++)
                tapWeights[t] = global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int32(global::System.Runtime.Intrinsics.Vector128.AsSByte(global::System.Runtime.Intrinsics.Vector128.CreateScalar(
                    global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<ulong>(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, t * c + ch)))));
            for (int oy = 0; oy < oh; oy++)
            {
                ref byte origin = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref plane, oy * rowStep + ch);
                int target = ((b * oh + oy) * ow) * c + ch;
                for (int ox = 0; ox < ow; ox++, origin = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref origin, columnStep), target += c)
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

        /// <summary>Where a 32-channel block of DepthwiseNhwcAvx2 reads: its first channel in the padded plane, the taps' offsets, the steps.</summary>
        private readonly ref struct QuadBlock
        {
            public readonly global::System.ReadOnlySpan<byte> Plane;
            public readonly global::System.ReadOnlySpan<int> Offsets;
            public readonly int Quads, Rest, RowStep, ColumnStep, Channels;

            public QuadBlock(global::System.ReadOnlySpan<byte> plane, global::System.ReadOnlySpan<int> offsets, int quads, int rest, int rowStep, int columnStep, int channels)
            {
                Plane = plane;
                Offsets = offsets;
                Quads = quads;
                Rest = rest;
                RowStep = rowStep;
                ColumnStep = columnStep;
                Channels = channels;
            }
        }

        /// <summary>
        /// The 32 bytes of four taps as quadruplets per channel (vpunpcklbw/hbw, then vpunpcklwd/hwd): q0 holds channels
        /// 0-3 and 16-19, q1 4-7 and 20-23, q2 8-11 and 24-27, q3 12-15 and 28-31, each lane's four bytes taps t0…t3.
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static void Interleave4(global::System.Runtime.Intrinsics.Vector256<byte> t0, global::System.Runtime.Intrinsics.Vector256<byte> t1,
            global::System.Runtime.Intrinsics.Vector256<byte> t2, global::System.Runtime.Intrinsics.Vector256<byte> t3,
            out global::System.Runtime.Intrinsics.Vector256<byte> q0, out global::System.Runtime.Intrinsics.Vector256<byte> q1,
            out global::System.Runtime.Intrinsics.Vector256<byte> q2, out global::System.Runtime.Intrinsics.Vector256<byte> q3)
        {
            var low01 = global::System.Runtime.Intrinsics.Vector256.AsInt16(global::System.Runtime.Intrinsics.X86.Avx2.UnpackLow(t0, t1));
            var high01 = global::System.Runtime.Intrinsics.Vector256.AsInt16(global::System.Runtime.Intrinsics.X86.Avx2.UnpackHigh(t0, t1));
            var low23 = global::System.Runtime.Intrinsics.Vector256.AsInt16(global::System.Runtime.Intrinsics.X86.Avx2.UnpackLow(t2, t3));
            var high23 = global::System.Runtime.Intrinsics.Vector256.AsInt16(global::System.Runtime.Intrinsics.X86.Avx2.UnpackHigh(t2, t3));
            q0 = global::System.Runtime.Intrinsics.Vector256.AsByte(global::System.Runtime.Intrinsics.X86.Avx2.UnpackLow(low01, low23));
            q1 = global::System.Runtime.Intrinsics.Vector256.AsByte(global::System.Runtime.Intrinsics.X86.Avx2.UnpackHigh(low01, low23));
            q2 = global::System.Runtime.Intrinsics.Vector256.AsByte(global::System.Runtime.Intrinsics.X86.Avx2.UnpackLow(high01, high23));
            q3 = global::System.Runtime.Intrinsics.Vector256.AsByte(global::System.Runtime.Intrinsics.X86.Avx2.UnpackHigh(high01, high23));
        }

        /// <summary>
        /// The output positions of one 32-channel block of DepthwiseNhwcAvx2 (its own method, so that the four accumulators
        /// keep their registers): per position, per tap quadruplet four 32-byte loads, the interleave and four dot steps;
        /// per remaining tap one load, and per accumulator vpshufb (its 8 channels' bytes zero-extended to int32 lanes),
        /// vpmulld and an add; then the four requantized vectors packed in-lane into the 32 output bytes in order.
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private static void DepthwiseQuadsAvx2<TDot>(QuadBlock block, global::System.ReadOnlySpan<global::System.Runtime.Intrinsics.Vector256<byte>> quadWeights,
            global::System.ReadOnlySpan<global::System.Runtime.Intrinsics.Vector256<int>> restWeights, global::System.ReadOnlySpan<int> bias,
            in Requantization8 q0, in Requantization8 q1, in Requantization8 q2, in Requantization8 q3, global::System.Span<byte> y, int oh, int ow)
            where TDot : struct, IDotStep
        {
            if (y.Length < ((oh - 1) * ow + ow - 1) * block.Channels + 32 || bias.Length < 32)
                throw new global::System.ArgumentException("The buffers do not hold the tensors.");
            ref var packed = ref global::System.Runtime.CompilerServices.Unsafe.As<global::System.Runtime.Intrinsics.Vector256<byte>, sbyte>(
                ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(quadWeights));
            ref var weights = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(quadWeights);
            ref var restWeight = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(restWeights);
            ref int offset = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(block.Offsets);
            ref byte output = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(y);
            ref byte start = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(block.Plane);
            int quads = block.Quads, rest = block.Rest, c = block.Channels;
            // Each accumulator's bias (plus, for SignSplit, 128 · its weights' sum), in the interleave's channel order.
            var start0 = default(TDot).Start<Int8Weights>(Requantization8.Lanes(bias, 0, 16), ref packed, quads, 32);
            var start1 = default(TDot).Start<Int8Weights>(Requantization8.Lanes(bias, 4, 20), ref global::System.Runtime.CompilerServices.Unsafe.Add(ref packed, 32), quads, 32);
            var start2 = default(TDot).Start<Int8Weights>(Requantization8.Lanes(bias, 8, 24), ref global::System.Runtime.CompilerServices.Unsafe.Add(ref packed, 64), quads, 32);
            var start3 = default(TDot).Start<Int8Weights>(Requantization8.Lanes(bias, 12, 28), ref global::System.Runtime.CompilerServices.Unsafe.Add(ref packed, 96), quads, 32);
            // vpshufb controls: bytes 4i…4i+3 of each 128-bit lane, zero-extended to int32 lanes.
            var spread0 = global::System.Runtime.Intrinsics.Vector256.Create(0x80808000u, 0x80808001u, 0x80808002u, 0x80808003u, 0x80808000u, 0x80808001u, 0x80808002u, 0x80808003u);
            var step = global::System.Runtime.Intrinsics.Vector256.Create(4u);
            var spread1 = global::System.Runtime.Intrinsics.Vector256.AsByte(spread0 + step);
            var spread2 = global::System.Runtime.Intrinsics.Vector256.AsByte(spread0 + step + step);
            var spread3 = global::System.Runtime.Intrinsics.Vector256.AsByte(spread0 + step + step + step);
            int target = 0;
            for (int oy = 0; oy < oh; oy++)
            {
                ref byte origin = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref start, oy * block.RowStep);
                for (int ox = 0; ox < ow; ox++, origin = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref origin, block.ColumnStep), target += c)
                {
                    var a0 = start0; var a1 = start1; var a2 = start2; var a3 = start3;
                    for (int qd = 0; qd < quads; qd++)
                    {
                        ref int at = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref offset, 4 * qd);
                        Interleave4(global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref origin, (nuint)at),
                            global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref origin, (nuint)global::System.Runtime.CompilerServices.Unsafe.Add(ref at, 1)),
                            global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref origin, (nuint)global::System.Runtime.CompilerServices.Unsafe.Add(ref at, 2)),
                            global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref origin, (nuint)global::System.Runtime.CompilerServices.Unsafe.Add(ref at, 3)),
                            out var x0, out var x1, out var x2, out var x3);
                        ref var wq = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, 4 * qd);
                        a0 = default(TDot).Step(a0, default(TDot).Prepare(x0), global::System.Runtime.Intrinsics.Vector256.AsSByte(wq));
                        a1 = default(TDot).Step(a1, default(TDot).Prepare(x1), global::System.Runtime.Intrinsics.Vector256.AsSByte(global::System.Runtime.CompilerServices.Unsafe.Add(ref wq, 1)));
                        a2 = default(TDot).Step(a2, default(TDot).Prepare(x2), global::System.Runtime.Intrinsics.Vector256.AsSByte(global::System.Runtime.CompilerServices.Unsafe.Add(ref wq, 2)));
                        a3 = default(TDot).Step(a3, default(TDot).Prepare(x3), global::System.Runtime.Intrinsics.Vector256.AsSByte(global::System.Runtime.CompilerServices.Unsafe.Add(ref wq, 3)));
                    }
                    for (int r = 0; r < rest; r++)
                    {
                        var bytes = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref origin, (nuint)global::System.Runtime.CompilerServices.Unsafe.Add(ref offset, 4 * quads + r));
                        ref var wr = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref restWeight, 4 * r);
                        a0 += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyLow(global::System.Runtime.Intrinsics.Vector256.AsInt32(
                            global::System.Runtime.Intrinsics.X86.Avx2.Shuffle(bytes, global::System.Runtime.Intrinsics.Vector256.AsByte(spread0))), wr);
                        a1 += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyLow(global::System.Runtime.Intrinsics.Vector256.AsInt32(global::System.Runtime.Intrinsics.X86.Avx2.Shuffle(bytes, spread1)),
                            global::System.Runtime.CompilerServices.Unsafe.Add(ref wr, 1));
                        a2 += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyLow(global::System.Runtime.Intrinsics.Vector256.AsInt32(global::System.Runtime.Intrinsics.X86.Avx2.Shuffle(bytes, spread2)),
                            global::System.Runtime.CompilerServices.Unsafe.Add(ref wr, 2));
                        a3 += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyLow(global::System.Runtime.Intrinsics.Vector256.AsInt32(global::System.Runtime.Intrinsics.X86.Avx2.Shuffle(bytes, spread3)),
                            global::System.Runtime.CompilerServices.Unsafe.Add(ref wr, 3));
                    }
                    // In-lane packs: (0-3, 4-7 | 16-19, 20-23) and (8-11, 12-15 | 24-27, 28-31) as int16, then bytes 0-15 | 16-31.
                    var low = global::System.Runtime.Intrinsics.X86.Avx2.PackSignedSaturate(q0.Quantize(a0), q1.Quantize(a1));
                    var upper = global::System.Runtime.Intrinsics.X86.Avx2.PackSignedSaturate(q2.Quantize(a2), q3.Quantize(a3));
                    global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(global::System.Runtime.Intrinsics.X86.Avx2.PackUnsignedSaturate(low, upper),
                        ref global::System.Runtime.CompilerServices.Unsafe.Add(ref output, target));
                }
            }
        }
#endif
    }
}
