// QuantGen kernels: the exact u8 × s8 convolutions of x86 CPUs without VNNI (AVX2): ConvRowsAvx2 and its channel loops, the
// counterpart of ConvRowsAvxVnni (docs/generator.md, "Without VNNI").
// Emitted into the consumer's assembly by QuantGen.Generator (docs/generator.md, "Kernels").
#nullable enable

namespace QuantGen.Generated
{
    internal static partial class QuantGenKernels
    {

#if QUANTGEN_INTRINSICS
        /// <summary>
        /// ConvRowsAvxVnni for x86 without VNNI (AVX2): the same padded plane, field cursor and channel blocks (16
        /// channels at a time, then a last 8), each k-step's four products per lane summed by vpmaddubsw and vpmaddwd in
        /// one of two exact forms (DotForm decides from the layer's weights; PairsFit, SignSplit), or, with AVX-512BW, in
        /// 512-bit vectors (ConvPairsBlockAvx512 where pairs fit, else ConvBlockAvx512's int16 vpmaddwd). False, with
        /// nothing written, if (without AVX-512BW) a weight is −128 (neither AVX2 form is exact then: the gather path's
        /// vpmaddwd takes the layer) or the scratch cannot hold the plane (and, for ConvBlockAvx512, its int16 copy).
        /// Packed weights: each channel block's unpacked once per call onto the stack (UnpackChannels), else read in
        /// registers.
        /// </summary>
        private static bool ConvRowsAvx2<TWeights>(global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
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
            // Packed weights lie within [−8, 7]: every pair fits (|w1| + |w2| ≤ 16), PairsFit without a scan. With
            // AVX-512BW a block takes ConvPairsBlockAvx512 where pairs fit, else ConvBlockAvx512 (exact for any weight).
            bool avx512 = global::System.Runtime.Intrinsics.X86.Avx512BW.IsSupported;
            var form = default(TWeights).Shift != 0 ? 2 : DotForm(w.Slice(0, kh * row * m));
            if (form == 0 && !avx512) return false;
            var fields = new FieldCursor(oh, ow, sh * pitch, sw * c, kh, row, dh * pitch, pooled);
            // Packed weights: each 16-channel block's unpacked once per call (UnpackChannels), for all its positions, when
            // it fits UnpackedBlockBytes; else read in registers at every k-step (once per four positions).
            int steps = kh * row / 4;
            bool unpack = default(TWeights).Shift != 0 && steps * 64 <= UnpackedBlockBytes;
            global::System.Span<sbyte> unpacked = unpack ? stackalloc sbyte[steps * 64] : default;
            // ConvBlockAvx512 (AVX-512BW, weights whose pairs may saturate vpmaddubsw) multiplies int16 activations: an
            // int16 copy of the plane (in place: of the image), widened once per image after the byte plane in the
            // scratch, gives each position's quadruplet in one vpbroadcastq where the bytes took three instructions.
            bool widen = avx512 && !unpack && form != 2;
            int bytePlane = inPlace ? 0 : (ph * pitch + 4 + 63) & ~63, wideLength = inPlace ? image : ph * pitch + 4;
            if (widen && plane.Length < bytePlane + 2 * wideLength) return false;
            for (int b = 0; b < n; b++)
            {
                global::System.ReadOnlySpan<byte> source = x.Slice(b * image, image);
                if (!inPlace)
                {
                    FillPlane(source, plane, c, h, width, ph, pw, padTop, padLeft, (byte)zx);
                    source = plane;
                }
                global::System.Span<short> wide = default;
                if (widen)
                {
                    wide = global::System.Runtime.InteropServices.MemoryMarshal.Cast<byte, short>(plane.Slice(bytePlane, 2 * wideLength));
                    WidenBytes(source.Slice(0, wideLength), wide);
                }
                var output = y.Slice(b * outputs, outputs);
                // This part's share of the channel blocks (16 channels each, the last may be 8).
                int blocks = (m + 15) / 16, first = part * blocks / parts, end = (part + 1) * blocks / parts;
                for (int block = first; block < end; block++)
                {
                    int o = 16 * block, channels = o + 16 <= m ? 16 : 8;
                    if (avx512 && unpack)
                    {
                        UnpackChannels<TWeights>(w, unpacked, steps, o, channels, m);
                        ConvPairsBlockAvx512<Int8Weights>(source, unpacked, bias, scale, negScale, high, output, fields, pooled, o, m, 0, channels, zy, lo, hi);
                    }
                    else if (avx512 && form == 2)
                        ConvPairsBlockAvx512<TWeights>(source, w, bias, scale, negScale, high, output, fields, pooled, o, m, o, m, zy, lo, hi);
                    else if (avx512)
                        ConvBlockAvx512<TWeights>(wide, w, bias, scale, negScale, high, output, fields, pooled, o, m, o, m, zy, lo, hi);
                    else if (unpack)
                    {
                        UnpackChannels<TWeights>(w, unpacked, steps, o, channels, m);
                        ConvBlockAvx2<PairsFit, Int8Weights>(source, unpacked, bias, scale, negScale, high, output, fields, pointwise, pooled, oh * ow, c, o, m, 0, channels, zy, lo, hi);
                    }
                    else if (form == 2)
                        ConvBlockAvx2<PairsFit, TWeights>(source, w, bias, scale, negScale, high, output, fields, pointwise, pooled, oh * ow, c, o, m, o, m, zy, lo, hi);
                    else
                        ConvBlockAvx2<SignSplit, TWeights>(source, w, bias, scale, negScale, high, output, fields, pointwise, pooled, oh * ow, c, o, m, o, m, zy, lo, hi);
                }
            }
            return true;
        }

        /// <summary>
        /// Which exact AVX2 form a layer's packed weights allow: 2 (PairsFit) when every pair of weights that vpmaddubsw
        /// sums has |w1| + |w2| ≤ 128, so that 255 · (|w1| + |w2|) ≤ 32767 never saturates; else 1 (SignSplit) when no
        /// weight is −128; else 0. One pass over the weights (vpminsb, vpabsb and vpmaddubsw against ones, vpmaxsw).
        /// </summary>
        private static int DotForm(global::System.ReadOnlySpan<sbyte> w)
        {
            ref sbyte p = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w);
            var least = global::System.Runtime.Intrinsics.Vector256<sbyte>.Zero;
            var widest = global::System.Runtime.Intrinsics.Vector256<short>.Zero;
            var ones = global::System.Runtime.Intrinsics.Vector256.Create((sbyte)1);
            int i = 0, min = 0, pair = 0;
            for (; i + 32 <= w.Length; i += 32)
            {
                var v = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref p, (nuint)i);
                least = global::System.Runtime.Intrinsics.X86.Avx2.Min(least, v);
                widest = global::System.Runtime.Intrinsics.X86.Avx2.Max(widest,
                    global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(global::System.Runtime.Intrinsics.X86.Avx2.Abs(v), ones));
            }
            for (int j = 0; j < 32; j++) min = global::System.Math.Min(min, (int)global::System.Runtime.Intrinsics.Vector256.GetElement(least, j));
            for (int j = 0; j < 16; j++) pair = global::System.Math.Max(pair, (int)global::System.Runtime.Intrinsics.Vector256.GetElement(widest, j));
            for (; i < w.Length; i += 2)
            {
                min = global::System.Math.Min(min, (int)w[i]);
                int magnitude = global::System.Math.Abs((int)w[i]);
                if (i + 1 < w.Length)
                {
                    min = global::System.Math.Min(min, (int)w[i + 1]);
                    magnitude += global::System.Math.Abs((int)w[i + 1]);
                }
                pair = global::System.Math.Max(pair, magnitude);
            }
            return pair <= 128 ? 2 : min > -128 ? 1 : 0;
        }

        /// <summary>
        /// One k-step of an exact AVX2 dot product: acc (8 channels' int32 lanes) += the four products of the broadcast
        /// activation quadruplet and each lane's four weights. A struct type argument, so the JIT compiles each form
        /// into the channel loops without a call or a test (TensorPrimitives' operator structs).
        /// </summary>
        private interface IDotStep
        {
            /// <summary>The accumulators' start for a block of 8 channels: the bias, plus whatever the form needs.</summary>
            global::System.Runtime.Intrinsics.Vector256<int> Start<TWeights>(global::System.Runtime.Intrinsics.Vector256<int> bias, ref sbyte packed, int steps, int m) where TWeights : struct, IWeightBlocks;

            /// <summary>What a k-step needs of one broadcast quadruplet, prepared once for all its weight vectors.</summary>
            DotOperand Prepare(global::System.Runtime.Intrinsics.Vector256<byte> x);

            global::System.Runtime.Intrinsics.Vector256<int> Step(global::System.Runtime.Intrinsics.Vector256<int> acc, DotOperand x, global::System.Runtime.Intrinsics.Vector256<sbyte> w);
        }

        /// <summary>A prepared activation quadruplet: the unsigned operand of vpmaddubsw and, for SignSplit, the signs.</summary>
        private readonly struct DotOperand
        {
            public readonly global::System.Runtime.Intrinsics.Vector256<byte> Unsigned;
            public readonly global::System.Runtime.Intrinsics.Vector256<sbyte> Signs;

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public DotOperand(global::System.Runtime.Intrinsics.Vector256<byte> unsigned, global::System.Runtime.Intrinsics.Vector256<sbyte> signs)
            {
                Unsigned = unsigned;
                Signs = signs;
            }
        }

        /// <summary>
        /// vpmaddubsw(x, w) then vpmaddwd against ones: exact only where no pair of weights can saturate the int16 sum,
        /// |w1| + |w2| ≤ 128 for every pair (DotForm checks the layer's weights).
        /// </summary>
        private readonly struct PairsFit : IDotStep
        {
            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public global::System.Runtime.Intrinsics.Vector256<int> Start<TWeights>(global::System.Runtime.Intrinsics.Vector256<int> bias, ref sbyte packed, int steps, int m) where TWeights : struct, IWeightBlocks => bias;

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public DotOperand Prepare(global::System.Runtime.Intrinsics.Vector256<byte> x) => new DotOperand(x, default);

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public global::System.Runtime.Intrinsics.Vector256<int> Step(global::System.Runtime.Intrinsics.Vector256<int> acc, DotOperand x, global::System.Runtime.Intrinsics.Vector256<sbyte> w) =>
                acc + global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(x.Unsigned, w),
                    global::System.Runtime.Intrinsics.Vector256.Create((short)1));
        }

        /// <summary>
        /// Exact for any weights but −128: with x' = x − 128 (a signed byte, x ^ 0x80), Σ x·w = Σ x'·w + 128·Σ w, and
        /// x'·w = |x'| · (w · sign x') is vpmaddubsw(vpabsb x', vpsignb(w, x')): |x'| ≤ 128 and |w| ≤ 127, so a pair sums
        /// to at most 2 · 128 · 127 = 32512 and never saturates. 128 · Σ w per channel is added to the bias once per
        /// block (Start). Every step is exact int32 arithmetic, or wraps where the true sum fits (the quantizer bounds it).
        /// </summary>
        private readonly struct SignSplit : IDotStep
        {
            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public global::System.Runtime.Intrinsics.Vector256<int> Start<TWeights>(global::System.Runtime.Intrinsics.Vector256<int> bias, ref sbyte packed, int steps, int m) where TWeights : struct, IWeightBlocks
            {
                var sum = global::System.Runtime.Intrinsics.Vector256<int>.Zero;
                var ones = global::System.Runtime.Intrinsics.Vector256.Create((byte)1);
                ref sbyte at = ref packed;
                for (int s = 0; s < steps; s++, at = ref Skip<TWeights>(ref at, 4 * m))
                    sum += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(
                        global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(ones, default(TWeights).Load256(ref at)),
                        global::System.Runtime.Intrinsics.Vector256.Create((short)1));
                return bias + global::System.Runtime.Intrinsics.Vector256.ShiftLeft(sum, 7);
            }

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public DotOperand Prepare(global::System.Runtime.Intrinsics.Vector256<byte> x)
            {
                var signed = global::System.Runtime.Intrinsics.Vector256.AsSByte(x ^ global::System.Runtime.Intrinsics.Vector256.Create((byte)0x80));
                return new DotOperand(global::System.Runtime.Intrinsics.X86.Avx2.Abs(signed), signed);
            }

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public global::System.Runtime.Intrinsics.Vector256<int> Step(global::System.Runtime.Intrinsics.Vector256<int> acc, DotOperand x, global::System.Runtime.Intrinsics.Vector256<sbyte> w) =>
                acc + global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(
                    global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(x.Unsigned, global::System.Runtime.Intrinsics.X86.Avx2.Sign(w, x.Signs)),
                    global::System.Runtime.Intrinsics.Vector256.Create((short)1));
        }

        /// <summary>
        /// One k-step as AVX-VNNI takes it: a single vpdpbusd (four u8 × s8 products summed into each int32 lane, exact
        /// for any weights), for the loops written over IDotStep (FactorSumsAvx2).
        /// </summary>
        private readonly struct VnniStep : IDotStep
        {
            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public global::System.Runtime.Intrinsics.Vector256<int> Start<TWeights>(global::System.Runtime.Intrinsics.Vector256<int> bias, ref sbyte packed, int steps, int m) where TWeights : struct, IWeightBlocks => bias;

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public DotOperand Prepare(global::System.Runtime.Intrinsics.Vector256<byte> x) => new DotOperand(x, default);

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public global::System.Runtime.Intrinsics.Vector256<int> Step(global::System.Runtime.Intrinsics.Vector256<int> acc, DotOperand x, global::System.Runtime.Intrinsics.Vector256<sbyte> w) =>
                global::System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(acc, x.Unsigned, w);
        }

        /// <summary>
        /// ConvChannels16AvxVnni without VNNI: output channels o..o+16 of every position, four positions at a time, the
        /// two weight vectors of a k-step loaded once for the four fields, eight accumulators (with the weights, the ones
        /// and a prepared quadruplet: the 16 registers of AVX2). Pooled: each block is a 2×2 window, its largest
        /// accumulators requantized once.
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private static void ConvChannels16Avx2<TDot, TWeights>(global::System.ReadOnlySpan<byte> source, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            in Requantization8 q0, in Requantization8 q1, global::System.Span<byte> y, FieldCursor fields, bool pooled, int o, int m, int wo, int wm)
            where TDot : struct, IDotStep
            where TWeights : struct, IWeightBlocks
        {
            ref byte plane = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(source);
            ref sbyte weights = ref Skip<TWeights>(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w), 4 * wo);
            int kh = fields.Kh, row = fields.Row, runStride = fields.RunStride, steps = kh * row / 4;
            var bias0 = default(TDot).Start<TWeights>(global::System.Runtime.Intrinsics.Vector256.Create(bias.Slice(o, 8)), ref weights, steps, wm);
            var bias1 = default(TDot).Start<TWeights>(global::System.Runtime.Intrinsics.Vector256.Create(bias.Slice(o + 8, 8)),
                ref Skip<TWeights>(ref weights, 32), steps, wm);
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
                    var v = default(TDot).Prepare(Broadcast4(ref r0, k4));
                    a00 = default(TDot).Step(a00, v, w0);
                    a01 = default(TDot).Step(a01, v, w1);
                    v = default(TDot).Prepare(Broadcast4(ref r1, k4));
                    a10 = default(TDot).Step(a10, v, w0);
                    a11 = default(TDot).Step(a11, v, w1);
                    v = default(TDot).Prepare(Broadcast4(ref r2, k4));
                    a20 = default(TDot).Step(a20, v, w0);
                    a21 = default(TDot).Step(a21, v, w1);
                    v = default(TDot).Prepare(Broadcast4(ref r3, k4));
                    a30 = default(TDot).Step(a30, v, w0);
                    a31 = default(TDot).Step(a31, v, w1);
                }
                if (pooled)
                {
                    // Requantization is monotonic (non-negative scales): the max of the accumulators, requantized once.
                    int window = block * m + o;
                    q0.Store(y, window, global::System.Runtime.Intrinsics.Vector256.Max(
                        global::System.Runtime.Intrinsics.Vector256.Max(a00, a10), global::System.Runtime.Intrinsics.Vector256.Max(a20, a30)));
                    q1.Store(y, window + 8, global::System.Runtime.Intrinsics.Vector256.Max(
                        global::System.Runtime.Intrinsics.Vector256.Max(a01, a11), global::System.Runtime.Intrinsics.Vector256.Max(a21, a31)));
                    continue;
                }
                int at = 4 * block * m + o;
                // One bounds check for the block's last row written, then unchecked 16-byte stores.
                ref byte first = ref y.Slice(at, (count - 1) * m + 16)[0];
                q0.StorePairUnchecked(q1, ref first, a00, a01);
                if (count > 1) q0.StorePairUnchecked(q1, ref global::System.Runtime.CompilerServices.Unsafe.Add(ref first, m), a10, a11);
                if (count > 2) q0.StorePairUnchecked(q1, ref global::System.Runtime.CompilerServices.Unsafe.Add(ref first, 2 * m), a20, a21);
                if (count > 3) q0.StorePairUnchecked(q1, ref global::System.Runtime.CompilerServices.Unsafe.Add(ref first, 3 * m), a30, a31);
            }
        }

        /// <summary>
        /// ConvChannels16Avx2 for a pointwise convolution (1×1, stride 1, no padding, read in place), as
        /// PointwiseChannels16AvxVnni: four consecutive positions without a cursor, unchecked stores after one length
        /// check. A partial last block repeats its last position: computed, never stored.
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private static void PointwiseChannels16Avx2<TDot, TWeights>(global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            in Requantization8 q0, in Requantization8 q1, global::System.Span<byte> y, int positions, int c, int o, int m, int wo, int wm)
            where TDot : struct, IDotStep
            where TWeights : struct, IWeightBlocks
        {
            if (x.Length < positions * c || w.Length < WeightBytes<TWeights>(c * wm) || y.Length < positions * m || o + 16 > m)
                throw new global::System.ArgumentException("The buffers do not hold the tensors.");
            ref byte input = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
            ref sbyte weights = ref Skip<TWeights>(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w), 4 * wo);
            ref byte output = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(y), o);
            var bias0 = default(TDot).Start<TWeights>(global::System.Runtime.Intrinsics.Vector256.Create(bias.Slice(o, 8)), ref weights, c / 4, wm);
            var bias1 = default(TDot).Start<TWeights>(global::System.Runtime.Intrinsics.Vector256.Create(bias.Slice(o + 8, 8)),
                ref Skip<TWeights>(ref weights, 32), c / 4, wm);
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
                    var v = default(TDot).Prepare(Broadcast4(ref r0, k4));
                    a00 = default(TDot).Step(a00, v, w0);
                    a01 = default(TDot).Step(a01, v, w1);
                    v = default(TDot).Prepare(Broadcast4(ref r1, k4));
                    a10 = default(TDot).Step(a10, v, w0);
                    a11 = default(TDot).Step(a11, v, w1);
                    v = default(TDot).Prepare(Broadcast4(ref r2, k4));
                    a20 = default(TDot).Step(a20, v, w0);
                    a21 = default(TDot).Step(a21, v, w1);
                    v = default(TDot).Prepare(Broadcast4(ref r3, k4));
                    a30 = default(TDot).Step(a30, v, w0);
                    a31 = default(TDot).Step(a31, v, w1);
                }
                ref byte at = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref output, p * m);
                q0.StorePairUnchecked(q1, ref at, a00, a01);
                if (count > 1) q0.StorePairUnchecked(q1, ref global::System.Runtime.CompilerServices.Unsafe.Add(ref at, m), a10, a11);
                if (count > 2) q0.StorePairUnchecked(q1, ref global::System.Runtime.CompilerServices.Unsafe.Add(ref at, 2 * m), a20, a21);
                if (count > 3) q0.StorePairUnchecked(q1, ref global::System.Runtime.CompilerServices.Unsafe.Add(ref at, 3 * m), a30, a31);
            }
        }

        /// <summary>ConvChannels16Avx2 for the last 8 output channels (m a multiple of 8, not of 16): one weight vector per k-step.</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private static void ConvChannels8Avx2<TDot, TWeights>(global::System.ReadOnlySpan<byte> source, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            in Requantization8 q, global::System.Span<byte> y, FieldCursor fields, bool pooled, int o, int m, int wo, int wm)
            where TDot : struct, IDotStep
            where TWeights : struct, IWeightBlocks
        {
            ref byte plane = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(source);
            ref sbyte weights = ref Skip<TWeights>(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w), 4 * wo);
            int kh = fields.Kh, row = fields.Row, runStride = fields.RunStride;
            var bias0 = default(TDot).Start<TWeights>(global::System.Runtime.Intrinsics.Vector256.Create(bias.Slice(o, 8)), ref weights, kh * row / 4, wm);
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
                    a0 = default(TDot).Step(a0, default(TDot).Prepare(Broadcast4(ref r0, k4)), w0);
                    a1 = default(TDot).Step(a1, default(TDot).Prepare(Broadcast4(ref r1, k4)), w0);
                    a2 = default(TDot).Step(a2, default(TDot).Prepare(Broadcast4(ref r2, k4)), w0);
                    a3 = default(TDot).Step(a3, default(TDot).Prepare(Broadcast4(ref r3, k4)), w0);
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
#endif
    }
}
