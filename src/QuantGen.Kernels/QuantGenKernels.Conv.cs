// QuantGen kernels: convolutions (NCHW and NHWC, the fused Conv + MaxPool) and fully connected layers.
// Emitted into the consumer's assembly by QuantGen.Generator (docs/generator.md, "Kernels").
#nullable enable

namespace QuantGen.Generated
{
    internal static partial class QuantGenKernels
    {
        /// <summary>ConvPacked over weights stored one byte each (<see cref="Int8Weights"/>).</summary>
        public static void ConvPacked(
            global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, global::System.Span<byte> col, global::System.Span<int> acc,
            int n, int c, int h, int width, int m, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft,
            int dh, int dw, int group, int zx, int zy, int lo, int hi) =>
            ConvPacked<Int8Weights>(x, w, bias, scale, negScale, high, y, col, acc, n, c, h, width, m, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw, group, zx, zy, lo, hi);

        /// <summary>
        /// 2-D convolution, NCHW in and out, weights pre-packed at build time as [G, KP/4, MP, 4] (KP = C/G·KH·KW
        /// rounded up to 4, MP = M/G rounded up to 8, zero padded): for every output position the receptive field is
        /// gathered into <paramref name="col"/> (positions outside the input read zx), then one packed dot product gives
        /// the accumulators of all the group's output channels. Negative accumulators use negMultiplier/negShift (the
        /// same spans as multiplier/shift when the layer has no fused LeakyRelu).
        /// </summary>
        public static void ConvPacked<TWeights>(
            global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, global::System.Span<byte> col, global::System.Span<int> acc,
            int n, int c, int h, int width, int m, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft,
            int dh, int dw, int group, int zx, int zy, int lo, int hi) where TWeights : struct, IWeightBlocks
        {
            CheckWindow(x.Length, y.Length, n, c, h, width, m, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw);
            int cg = c / group, mg = m / group, k = cg * kh * kw, kp = (k + 3) & ~3, mp = (mg + 7) & ~7;
            byte pad = (byte)zx;
            col.Slice(k, kp - k).Clear();
            for (int b = 0; b < n; b++)
                for (int g = 0; g < group; g++)
                {
                    var packed = WeightSlice<TWeights>(w, g * kp * mp, kp * mp);
                    for (int oy = 0; oy < oh; oy++)
                        for (int ox = 0; ox < ow; ox++)
                        {
                            GatherField(x, col, b, c, g * cg, cg, h, width, oy, ox, kh, kw, sh, sw, padTop, padLeft, dh, dw, pad);
                            DotPacked<TWeights>(col, packed, acc, kp, mp);
                            int o0 = g * mg;
                            RequantizeChannels(acc, bias.Slice(o0, mg), scale.Slice(o0, mg), negScale.Slice(o0, mg),
                                high.Length == 0 ? high : high.Slice(o0, mg), y, ((b * m + o0) * oh + oy) * ow + ox, oh * ow, zy, lo, hi);
                        }
                }
        }

        /// <summary>
        /// The NCHW receptive field of output position (oy, ox) over channels [c0, c0 + cg) of image b, in (channel, ky, kx)
        /// order, into col; taps outside the input read <paramref name="pad"/> (the input's zero point).
        /// </summary>
        private static void GatherField(global::System.ReadOnlySpan<byte> x, global::System.Span<byte> col, int b, int c, int c0, int cg,
            int h, int width, int oy, int ox, int kh, int kw, int sh, int sw, int padTop, int padLeft, int dh, int dw, byte pad)
        {
            int ki = 0, iy0 = oy * sh - padTop, ix0 = ox * sw - padLeft;
            if (iy0 >= 0 && iy0 + (kh - 1) * dh < h && ix0 >= 0 && ix0 + (kw - 1) * dw < width)
            {
                // The whole receptive field is inside the input: no per-tap bounds tests.
                int origin = ((b * c + c0) * h + iy0) * width + ix0, planeSize = h * width, rowStep = dh * width;
                for (int ci = 0; ci < cg; ci++, origin += planeSize)
                    for (int ky = 0, r = origin; ky < kh; ky++, r += rowStep)
                        for (int kx = 0, i = r; kx < kw; kx++, i += dw)
                            col[ki++] = x[i];
                return;
            }
            for (int ci = 0; ci < cg; ci++)
            {
                int plane = (b * c + c0 + ci) * h;
                for (int ky = 0; ky < kh; ky++)
                {
                    int iy = iy0 + ky * dh;
                    bool rowInside = iy >= 0 && iy < h;
                    int row = (plane + iy) * width;
                    for (int kx = 0; kx < kw; kx++, ki++)
                    {
                        int ix = ix0 + kx * dw;
                        col[ki] = rowInside && ix >= 0 && ix < width ? x[row + ix] : pad;
                    }
                }
            }
        }

        /// <summary>FullyConnectedPacked over weights stored one byte each (<see cref="Int8Weights"/>).</summary>
        public static void FullyConnectedPacked(
            global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, global::System.Span<byte> col, global::System.Span<int> acc,
            int rows, int k, int m, int zy, int lo, int hi) =>
            FullyConnectedPacked<Int8Weights>(x, w, bias, scale, negScale, high, y, col, acc, rows, k, m, zy, lo, hi);

        /// <summary>
        /// Fully connected: every input row of K values against weights pre-packed as [KP/4, MP, 4] (as ConvPacked,
        /// one group). The row is copied into <paramref name="col"/> so that its zero-padded tail is never read from x.
        /// </summary>
        public static void FullyConnectedPacked<TWeights>(
            global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, global::System.Span<byte> col, global::System.Span<int> acc,
            int rows, int k, int m, int zy, int lo, int hi) where TWeights : struct, IWeightBlocks
        {
            CheckRows(x.Length, y.Length, rows, k, m);
            int kp = (k + 3) & ~3, mp = (m + 7) & ~7;
            if (w.Length < WeightBytes<TWeights>(kp * mp)) throw Outside();
            col.Slice(k, kp - k).Clear();
            for (int r = 0; r < rows; r++)
            {
                x.Slice(r * k, k).CopyTo(col);
                DotPacked<TWeights>(col, w, acc, kp, mp);
                RequantizeChannels(acc, bias, scale, negScale, high, y, r * m, 1, zy, lo, hi);
            }
        }

        /// <summary>ConvNhwc over weights stored one byte each (<see cref="Int8Weights"/>).</summary>
        public static void ConvNhwc(
            global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, global::System.Span<byte> col, global::System.Span<int> acc,
            int n, int c, int h, int width, int m, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft,
            int dh, int dw, int group, int zx, int zy, int lo, int hi, int part = 0, int parts = 1) =>
            ConvNhwc<Int8Weights>(x, w, bias, scale, negScale, high, y, col, acc, n, c, h, width, m, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw, group, zx, zy, lo, hi, part, parts);

        /// <summary>
        /// 2-D convolution with channels-last (NHWC) input and output. The weights are packed as for ConvPacked, but with
        /// the reduction in (KH, KW, C/G) order, the order a receptive field has in NHWC, each kernel row (KW·C/G values)
        /// zero padded to a multiple of 4. Output positions go four at a time (DotPacked4: each packed weight vector is
        /// loaded once for four positions); a position's receptive field is KH·KW runs of C/G contiguous bytes copied into
        /// its slot of <paramref name="col"/> (one run per kernel row when the group is the whole input and there is no
        /// dilation, copied in 4-byte chunks: the bytes past the row meet zero weights), or, for an interior 1×1
        /// convolution over a multiple of 4 channels, read in place. Per-channel upper bounds (clampHigh) are folded into
        /// requantization. With <paramref name="parts"/> &gt; 1 (RunParts), each part is called with its own col.
        /// </summary>
        public static void ConvNhwc<TWeights>(
            global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, global::System.Span<byte> col, global::System.Span<int> acc,
            int n, int c, int h, int width, int m, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft,
            int dh, int dw, int group, int zx, int zy, int lo, int hi, int part = 0, int parts = 1) where TWeights : struct, IWeightBlocks
        {
            CheckWindow(x.Length, y.Length, n, c, h, width, m, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw);
#if QUANTGEN_INTRINSICS
            if (SimdEnabled && VnniEnabled && group == 1 && dw == 1 && (m & 7) == 0
                && global::System.Runtime.Intrinsics.X86.AvxVnni.IsSupported
                && ConvRowsAvxVnni<TWeights>(x, w, bias, scale, negScale, high, y, col, false,
                    n, c, h, width, m, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, zx, zy, lo, hi, part, parts))
                return;
            if (SimdEnabled && group == 1 && dw == 1 && (m & 7) == 0
                && global::System.Runtime.Intrinsics.X86.Avx2.IsSupported
                && ConvRowsAvx2<TWeights>(x, w, bias, scale, negScale, high, y, col, false,
                    n, c, h, width, m, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, zx, zy, lo, hi, part, parts))
                return;
#endif
            // Only the SIMD path above splits a layer's channels between parts: here the first part does the whole layer.
            if (part != 0) return;
            int cg = c / group, mg = m / group, kp = kh * ((kw * cg + 3) & ~3), mp = (mg + 7) & ~7, positions = oh * ow;
            var field = new ReceptiveField(c, h, width, cg, kh, kw, sh, sw, padTop, padLeft, dh, dw, ow, (byte)zx);
            // The rows' padding meets zero weights: whatever a gather leaves there, a cleared start keeps it defined.
            col.Slice(0, 4 * kp).Clear();
            for (int b = 0; b < n; b++)
                for (int g = 0; g < group; g++)
                {
                    var packed = WeightSlice<TWeights>(w, g * kp * mp, kp * mp);
                    int o0 = g * mg;
                    var groupBias = bias.Slice(o0, mg);
                    var groupScale = scale.Slice(o0, mg);
                    var groupNegScale = negScale.Slice(o0, mg);
                    var groupHigh = high.Length == 0 ? high : high.Slice(o0, mg);
                    for (int p = 0; p < positions; p += 4)
                    {
                        int count = positions - p < 4 ? positions - p : 4;
                        field.DotFour<TWeights>(x, col, packed, acc, kp, mp, b, g, p, count);
                        for (int j = 0; j < count; j++)
                            RequantizeChannels(acc.Slice(j * mp, mp), groupBias, groupScale, groupNegScale, groupHigh,
                                y, (b * positions + p + j) * m + o0, 1, zy, lo, hi);
                    }
                }
        }

        /// <summary>ConvMaxPoolNhwc over weights stored one byte each (<see cref="Int8Weights"/>).</summary>
        public static void ConvMaxPoolNhwc(
            global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, global::System.Span<byte> pooled, global::System.Span<byte> col, global::System.Span<int> acc,
            int n, int c, int h, int width, int m, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft,
            int dh, int dw, int zx, int zy, int lo, int hi) =>
            ConvMaxPoolNhwc<Int8Weights>(x, w, bias, scale, negScale, high, y, pooled, col, acc, n, c, h, width, m, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw, zx, zy, lo, hi);

        /// <summary>
        /// A group-1 ConvNhwc whose only reader is a 2×2, stride-2 MaxPool without padding (pooled: OH/2 × OW/2 pixels of M
        /// channels). Requantization never decreases as the accumulator grows (its multipliers are not negative: the
        /// generator checks), so the max of four requantized outputs is the requantized max of their accumulators; the
        /// SIMD path uses that to requantize once per window and never writes y. Otherwise: ConvNhwc into y, then MaxPoolNhwc.
        /// </summary>
        public static void ConvMaxPoolNhwc<TWeights>(
            global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, global::System.Span<byte> pooled, global::System.Span<byte> col, global::System.Span<int> acc,
            int n, int c, int h, int width, int m, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft,
            int dh, int dw, int zx, int zy, int lo, int hi) where TWeights : struct, IWeightBlocks
        {
            CheckWindow(x.Length, y.Length, n, c, h, width, m, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw);
            if ((long)n * m * (oh / 2) * (ow / 2) > pooled.Length) throw Outside();
#if QUANTGEN_INTRINSICS
            if (SimdEnabled && VnniEnabled && dw == 1 && (m & 7) == 0
                && global::System.Runtime.Intrinsics.X86.AvxVnni.IsSupported
                && ConvRowsAvxVnni<TWeights>(x, w, bias, scale, negScale, high, pooled, col, true,
                    n, c, h, width, m, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, zx, zy, lo, hi, 0, 1))
                return;
            if (SimdEnabled && dw == 1 && (m & 7) == 0
                && global::System.Runtime.Intrinsics.X86.Avx2.IsSupported
                && ConvRowsAvx2<TWeights>(x, w, bias, scale, negScale, high, pooled, col, true,
                    n, c, h, width, m, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, zx, zy, lo, hi, 0, 1))
                return;
#endif
            ConvNhwc<TWeights>(x, w, bias, scale, negScale, high, y, col, acc,
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

            /// <summary>The field of output position <paramref name="position"/> (oy·OW + ox): in place in x, or gathered into slot.</summary>
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

            /// <summary>
            /// DotPacked4 over the fields of positions p … p + count − 1 (count ≤ 4), each read into its KP-byte slot of col:
            /// acc gets four blocks of MP sums. A partial last block repeats its last position in the spare slots, so the
            /// caller computes them and never writes them.
            /// </summary>
            public void DotFour<TWeights>(global::System.ReadOnlySpan<byte> x, global::System.Span<byte> col, global::System.ReadOnlySpan<sbyte> w,
                global::System.Span<int> acc, int kp, int mp, int b, int g, int p, int count) where TWeights : struct, IWeightBlocks
            {
                var x0 = Read(x, col.Slice(0, kp), b, g, p);
                var x1 = Read(x, col.Slice(kp, kp), b, g, p + (count > 1 ? 1 : 0));
                var x2 = Read(x, col.Slice(2 * kp, kp), b, g, p + (count > 2 ? 2 : count - 1));
                var x3 = Read(x, col.Slice(3 * kp, kp), b, g, p + count - 1);
                DotPacked4<TWeights>(x0, x1, x2, x3, w, acc, kp, mp);
            }

            /// <summary>A run of a multiple of 4 bytes: short ones 8 and 4 bytes at a time, where a memmove call costs more.</summary>
            private static void CopyChunks(global::System.ReadOnlySpan<byte> from, global::System.Span<byte> to)
            {
                if (from.Length >= 32)
                {
                    from.CopyTo(to);
                    return;
                }
                int i = 0;
#if QUANTGEN_INTRINSICS
                ref byte source = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(from);
                ref byte target = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(to);
                for (; i + 8 <= from.Length; i += 8)
                    global::System.Runtime.CompilerServices.Unsafe.WriteUnaligned(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref target, i),
                        global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<ulong>(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref source, i)));
                if (i < from.Length)
                    global::System.Runtime.CompilerServices.Unsafe.WriteUnaligned(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref target, i),
                        global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<uint>(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref source, i)));
#else
                // netstandard2.1 has no System.Runtime.CompilerServices.Unsafe: the same 8- and 4-byte moves through
                // BinaryPrimitives (bounds-checked; a copy, so the byte order does not matter).
                for (; i + 8 <= from.Length; i += 8)
                    global::System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(to.Slice(i),
                        global::System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(from.Slice(i)));
                if (i < from.Length)
                    global::System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(to.Slice(i),
                        global::System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(from.Slice(i)));
#endif
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

#if QUANTGEN_INTRINSICS
        /// <summary>
        /// ConvNhwc for group 1 without horizontal dilation (AVX-VNNI, whole blocks of 8 output channels; 16 at a time with AVX-512):
        /// each image is copied once into <paramref name="plane"/> with zx on every side the kernel reaches, so a
        /// receptive field is KH kernel rows read in place, KW·C contiguous bytes each, with no gather and no bounds test
        /// per position (the per-position gather cost more than the arithmetic in few-channel layers: the CNN's first
        /// convolution has 9 MACs per output). A row's padding to 4 bytes reads the next pixel's bytes, or the plane's 4
        /// bytes of slack, which meet zero weights. A 1×1 convolution without padding over a multiple of 4 channels
        /// reads its fields from x itself. Part <paramref name="part"/> of <paramref name="parts"/> computes its share
        /// of the output channels (each part with its own plane). Packed weights (TWeights 4- or 2-bit): each channel block's
        /// unpacked once per call onto the stack (UnpackChannels, QuantGenKernels.PackedRows.cs), else read in registers;
        /// this path has never run (no AVX-VNNI CPU where it was written). False, with nothing written, if the scratch
        /// cannot hold the plane.
        /// </summary>
        private static bool ConvRowsAvxVnni<TWeights>(global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, global::System.Span<byte> plane, bool pooled,
            int n, int c, int h, int width, int m, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft, int dh, int zx, int zy, int lo, int hi,
            int part, int parts) where TWeights : struct, IWeightBlocks
        {
            bool inPlace = kh == 1 && kw == 1 && padTop == 0 && padLeft == 0 && (c & 3) == 0;
            // In place at stride 1 over the whole input: position p's field is the c bytes at p · c.
            bool pointwise = inPlace && sh == 1 && sw == 1 && oh == h && ow == width && !pooled;
            int ph = (oh - 1) * sh + (kh - 1) * dh + 1, pw = inPlace ? width : (ow - 1) * sw + kw, pitch = pw * c, row = (kw * c + 3) & ~3;
            int outputs = (pooled ? (oh / 2) * (ow / 2) : oh * ow) * m, image = h * width * c;
            if (!inPlace && plane.Length < ph * pitch + 4) return false;
            if (w.Length < WeightBytes<TWeights>(kh * row * m)) throw new global::System.ArgumentException("The buffers do not hold the tensors.");
            var fields = new FieldCursor(oh, ow, sh * pitch, sw * c, kh, row, dh * pitch, pooled);
            // Channel blocks of 16 with AVX-512 (the last may be 8), of 8 without it (256-bit requantization).
            int unit = global::System.Runtime.Intrinsics.X86.Avx512F.VL.IsSupported ? 16 : 8, steps = kh * row / 4;
            // Packed weights: each block's unpacked once per call, for all its positions, when the widest block (two
            // 16-channel pointwise blocks in one pass) fits UnpackedBlockBytes; else read in registers at every k-step.
            bool unpack = default(TWeights).Shift != 0 && steps * 8 * unit <= UnpackedBlockBytes;
            global::System.Span<sbyte> unpacked = unpack ? stackalloc sbyte[steps * 8 * unit] : default;
            for (int b = 0; b < n; b++)
            {
                global::System.ReadOnlySpan<byte> source = x.Slice(b * image, image);
                if (!inPlace)
                {
                    FillPlane(source, plane, c, h, width, ph, pw, padTop, padLeft, (byte)zx);
                    source = plane;
                }
                var output = y.Slice(b * outputs, outputs);
                // This part's share of the channel blocks.
                int blocks = (m + unit - 1) / unit, first = part * blocks / parts, end = (part + 1) * blocks / parts;
                for (int block = first; block < end; block++)
                {
                    int o = unit * block;
                    // Two 16-channel pointwise blocks in one pass: each broadcast input quadruplet feeds four weight
                    // vectors (32), or the last 16 + 8 channels with one broadcast of each quadruplet for all 24.
                    int channels = unit == 16 && pointwise && o + 32 <= m && block + 1 < end ? 32
                        : unit == 16 && pointwise && o + 24 == m && block + 1 < end ? 24
                        : unit == 16 && o + 16 <= m ? 16 : 8;
                    if (channels > unit) block++;
                    if (unpack)
                    {
                        UnpackChannels<TWeights>(w, unpacked, steps, o, channels, m);
                        ConvBlockAvxVnni<Int8Weights>(source, unpacked, bias, scale, negScale, high, output, fields, pointwise, pooled, oh * ow, c, o, m, 0, channels, channels, zy, lo, hi);
                    }
                    else
                        ConvBlockAvxVnni<TWeights>(source, w, bias, scale, negScale, high, output, fields, pointwise, pooled, oh * ow, c, o, m, o, m, channels, zy, lo, hi);
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
        private static void ConvChannels16AvxVnni<TWeights>(global::System.ReadOnlySpan<byte> source, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            in Requantization16 q, global::System.Span<byte> y, FieldCursor fields, bool pooled, int o, int m, int wo, int wm) where TWeights : struct, IWeightBlocks
        {
            ref byte plane = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(source);
            ref sbyte weights = ref Skip<TWeights>(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w), 4 * wo);
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
                    var w0 = default(TWeights).Load256(ref packed);
                    var w1 = default(TWeights).Load256(ref Skip<TWeights>(ref packed, 32));
                    packed = ref Skip<TWeights>(ref packed, 4 * wm);
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
        private static void PointwiseChannels16AvxVnni<TWeights>(global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            in Requantization16 q, global::System.Span<byte> y, int positions, int c, int o, int m, int wo, int wm) where TWeights : struct, IWeightBlocks
        {
            if (x.Length < positions * c || w.Length < WeightBytes<TWeights>(c * wm) || y.Length < positions * m || o + 16 > m)
                throw new global::System.ArgumentException("The buffers do not hold the tensors.");
            ref byte input = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
            ref sbyte weights = ref Skip<TWeights>(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w), 4 * wo);
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
                    var w0 = default(TWeights).Load256(ref packed);
                    var w1 = default(TWeights).Load256(ref Skip<TWeights>(ref packed, 32));
                    packed = ref Skip<TWeights>(ref packed, 4 * wm);
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
        private static void PointwiseChannels32AvxVnni<TWeights>(global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            in Requantization16 q, in Requantization16 next, global::System.Span<byte> y, int positions, int c, int o, int m, int wo, int wm) where TWeights : struct, IWeightBlocks
        {
            if (x.Length < positions * c || w.Length < WeightBytes<TWeights>(c * wm) || y.Length < positions * m || o + 32 > m)
                throw new global::System.ArgumentException("The buffers do not hold the tensors.");
            ref byte input = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
            ref sbyte weights = ref Skip<TWeights>(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w), 4 * wo);
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
                    var w0 = default(TWeights).Load256(ref packed);
                    var w1 = default(TWeights).Load256(ref Skip<TWeights>(ref packed, 32));
                    var w2 = default(TWeights).Load256(ref Skip<TWeights>(ref packed, 64));
                    var w3 = default(TWeights).Load256(ref Skip<TWeights>(ref packed, 96));
                    packed = ref Skip<TWeights>(ref packed, 4 * wm);
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
        private static void PointwiseChannels24AvxVnni<TWeights>(global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            in Requantization16 q, in Requantization8 last, global::System.Span<byte> y, int positions, int c, int o, int m, int wo, int wm) where TWeights : struct, IWeightBlocks
        {
            if (x.Length < positions * c || w.Length < WeightBytes<TWeights>(c * wm) || y.Length < positions * m || o + 24 > m)
                throw new global::System.ArgumentException("The buffers do not hold the tensors.");
            ref byte input = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
            ref sbyte weights = ref Skip<TWeights>(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w), 4 * wo);
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
                    var w0 = default(TWeights).Load256(ref packed);
                    var w1 = default(TWeights).Load256(ref Skip<TWeights>(ref packed, 32));
                    var w2 = default(TWeights).Load256(ref Skip<TWeights>(ref packed, 64));
                    packed = ref Skip<TWeights>(ref packed, 4 * wm);
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
        private static void ConvChannels8AvxVnni<TWeights>(global::System.ReadOnlySpan<byte> source, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            in Requantization8 q, global::System.Span<byte> y, FieldCursor fields, bool pooled, int o, int m, int wo, int wm) where TWeights : struct, IWeightBlocks
        {
            ref byte plane = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(source);
            ref sbyte weights = ref Skip<TWeights>(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w), 4 * wo);
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
                    var w0 = default(TWeights).Load256(ref packed);
                    packed = ref Skip<TWeights>(ref packed, 4 * wm);
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
#endif
    }
}
