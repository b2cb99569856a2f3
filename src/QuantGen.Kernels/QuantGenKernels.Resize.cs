// QuantGen kernels: bilinear Resize on one u8 grid (ONNX Resize, linear mode, over the last two axes).
// Emitted into the consumer's assembly by QuantGen.Generator (docs/generator.md, "Kernels").
#nullable enable

namespace QuantGen.Generated
{
    internal static partial class QuantGenKernels
    {
        /// <summary>
        /// Bilinear Resize (docs/artifact.md, Resize): x is [planes, inH, inW, channels], y [planes, outH, outW, channels]
        /// (NCHW: planes = N·C, channels = 1; channels-last: planes = N). Output row oh reads input rows rows[3·oh] and
        /// rows[3·oh + 1] with the weight rows[3·oh + 2] of the second (on 2^bits), columns likewise. Each output is
        /// (Σ weight · tap + 2^(2·bits − 1)) &gt;&gt; 2·bits, the four weights summing to 2^(2·bits): exact in int32 for
        /// bits ≤ 11 (255 · 2^22 &lt; 2^31). Rows first: the two input rows blend into one int32 row (contiguous: SIMD),
        /// then each output pixel combines two pixels of it, SIMD over the channels when they are contiguous (channels-last);
        /// the sum is the same integer in either order. NCHW's columns are a gather of single elements, which AVX2 has no
        /// faster form of without pointers: scalar.
        /// </summary>
        public static void ResizeBilinear(global::System.ReadOnlySpan<byte> x, global::System.Span<byte> y, int planes, int inH, int inW, int outH, int outW, int channels,
            global::System.ReadOnlySpan<int> rows, global::System.ReadOnlySpan<int> columns, int bits)
        {
            if (bits < 1 || bits > 11 || channels < 1 || rows.Length < 3 * outH || columns.Length < 3 * outW
                || x.Length < planes * inH * inW * channels || y.Length < planes * outH * outW * channels)
                throw new global::System.ArgumentException("A bilinear Resize has 3 table entries per output row and column and weights of at most 11 bits.", nameof(bits));
            int one = 1 << bits, shift = 2 * bits, half = 1 << (shift - 1), row = inW * channels, outRow = outW * channels;
            global::System.Span<int> blend = row <= 1024 ? stackalloc int[row] : new int[row];
            for (int p = 0; p < planes; p++)
            {
                var plane = x.Slice(p * inH * row, inH * row);
                for (int oh = 0; oh < outH; oh++)
                {
                    int wr = rows[3 * oh + 2];
                    BlendRows(plane.Slice(rows[3 * oh] * row, row), plane.Slice(rows[3 * oh + 1] * row, row), blend, one - wr, wr);
                    var output = y.Slice((p * outH + oh) * outRow, outRow);
                    for (int ow = 0; ow < outW; ow++)
                    {
                        int c0 = columns[3 * ow] * channels, c1 = columns[3 * ow + 1] * channels, wc = columns[3 * ow + 2], k = 0;
                        var pixel = output.Slice(ow * channels, channels);
#if QUANTGEN_INTRINSICS
                        if (SimdEnabled && channels >= 8 && global::System.Runtime.Intrinsics.X86.Avx2.IsSupported)
                            k = CombinePixelsAvx2(blend.Slice(c0, channels), blend.Slice(c1, channels), pixel, one - wc, wc, shift);
#endif
                        for (; k < channels; k++)
                            pixel[k] = (byte)(((one - wc) * blend[c0 + k] + wc * blend[c1 + k] + half) >> shift);
                    }
                }
            }
        }

        /// <summary>blend[w] = a · top[w] + b · bottom[w] (a + b ≤ 2^11: below 2^19), eight at a time on AVX2.</summary>
        private static void BlendRows(global::System.ReadOnlySpan<byte> top, global::System.ReadOnlySpan<byte> bottom, global::System.Span<int> blend, int a, int b)
        {
            int w = 0;
#if QUANTGEN_INTRINSICS
            if (SimdEnabled && global::System.Runtime.Intrinsics.X86.Avx2.IsSupported)
            {
                ref byte rt = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(top);
                ref byte rb = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(bottom);
                ref int ry = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(blend);
                var va = global::System.Runtime.Intrinsics.Vector256.Create(a);
                var vb = global::System.Runtime.Intrinsics.Vector256.Create(b);
                for (; w + 8 <= blend.Length; w += 8)
                {
                    var t = Widen8(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref rt, w));
                    var u = Widen8(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref rb, w));
                    var sum = global::System.Runtime.Intrinsics.X86.Avx2.MultiplyLow(t, va) + global::System.Runtime.Intrinsics.X86.Avx2.MultiplyLow(u, vb);
                    global::System.Runtime.CompilerServices.Unsafe.WriteUnaligned(ref global::System.Runtime.CompilerServices.Unsafe.As<int, byte>(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref ry, w)), sum);
                }
            }
#endif
            for (; w < blend.Length; w++) blend[w] = a * top[w] + b * bottom[w];
        }

#if QUANTGEN_INTRINSICS
        /// <summary>Eight bytes widened to eight int32 lanes.</summary>
        private static global::System.Runtime.Intrinsics.Vector256<int> Widen8(ref byte at) =>
            global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int32(global::System.Runtime.Intrinsics.Vector128.AsByte(
                global::System.Runtime.Intrinsics.Vector128.CreateScalar(global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<ulong>(ref at))));

        /// <summary>
        /// One channels-last output pixel from two pixels of the blended row: (a · lo + b · hi + 2^(shift−1)) &gt;&gt; shift
        /// in int32 lanes (below 2^30), eight channels at a time, narrowed to bytes. Returns the number of channels done.
        /// </summary>
        private static int CombinePixelsAvx2(global::System.ReadOnlySpan<int> lo, global::System.ReadOnlySpan<int> hi, global::System.Span<byte> pixel, int a, int b, int shift)
        {
            ref int rl = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(lo);
            ref int rh = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(hi);
            var va = global::System.Runtime.Intrinsics.Vector256.Create(a);
            var vb = global::System.Runtime.Intrinsics.Vector256.Create(b);
            var half = global::System.Runtime.Intrinsics.Vector256.Create(1 << (shift - 1));
            int k = 0;
            for (; k + 8 <= pixel.Length; k += 8)
            {
                var l = global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<global::System.Runtime.Intrinsics.Vector256<int>>(ref global::System.Runtime.CompilerServices.Unsafe.As<int, byte>(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref rl, k)));
                var h = global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<global::System.Runtime.Intrinsics.Vector256<int>>(ref global::System.Runtime.CompilerServices.Unsafe.As<int, byte>(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref rh, k)));
                var sum = global::System.Runtime.Intrinsics.X86.Avx2.MultiplyLow(l, va) + global::System.Runtime.Intrinsics.X86.Avx2.MultiplyLow(h, vb) + half;
                var v = global::System.Runtime.Intrinsics.Vector256.ShiftRightArithmetic(sum, shift);
                var words = global::System.Runtime.Intrinsics.Vector128.Narrow(global::System.Runtime.Intrinsics.Vector256.GetLower(v), global::System.Runtime.Intrinsics.Vector256.GetUpper(v));
                var bytes = global::System.Runtime.Intrinsics.Vector128.Narrow(global::System.Runtime.Intrinsics.Vector128.AsUInt16(words), global::System.Runtime.Intrinsics.Vector128.AsUInt16(words));
                global::System.Runtime.CompilerServices.Unsafe.WriteUnaligned(ref pixel[k], global::System.Runtime.Intrinsics.Vector128.ToScalar(global::System.Runtime.Intrinsics.Vector128.AsUInt64(bytes)));
            }
            return k;
        }
#endif
    }
}
