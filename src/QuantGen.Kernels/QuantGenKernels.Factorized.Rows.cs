// QuantGen kernels: stage 1 of an NHWC factorized conv with a dense B on x86 with AVX2 (and AVX-VNNI where there is one),
// through the row kernels' padded plane, field cursor and exact u8 × s8 dot forms (QuantGenKernels.Conv.Avx2.cs).
// Emitted into the consumer's assembly by QuantGen.Generator (docs/generator.md, "Kernels").
#nullable enable

namespace QuantGen.Generated
{
    internal static partial class QuantGenKernels
    {
#if QUANTGEN_INTRINSICS
        /// <summary>The largest RP (rank rounded up to 8) whose stage-1 starts <see cref="FactorizedRowsAvx2"/> keeps on the stack.</summary>
        private const int FactorRowsMaxRank = 1024;

        /// <summary>
        /// FactorizedConvNhwc with a dense B on AVX2: stage 1, B·x over each receptive field, is a plain conv to r
        /// channels, so it runs as ConvRowsAvx2 runs one: the image copied once into a plane padded with zx (or read in
        /// place for a 1×1 conv without padding over a multiple of 4 channels), fields walked four at a time by
        /// <see cref="FieldCursor"/>, each k-step one vpdpbusd with AVX-VNNI (VnniStep), else in the exact form
        /// <see cref="DotForm"/> allows for B (PairsFit or SignSplit). The four positions' r sums then go through the same <c>FactorStages.Finish4</c> as the gathered
        /// path, so the result is the same bit for bit. Scratch: col holds the plane, then the four intermediates z.
        /// False, with nothing written, if (without VNNI) B has a −128 (neither form is exact), RP exceeds
        /// <see cref="FactorRowsMaxRank"/> or col cannot hold the plane and z: the caller gathers the fields instead.
        /// </summary>
        private static bool FactorizedRowsAvx2(
            global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> b, global::System.ReadOnlySpan<int> zeroTerms,
            global::System.ReadOnlySpan<float> zScale, global::System.ReadOnlySpan<short> a, global::System.ReadOnlySpan<int> aEntries,
            global::System.ReadOnlySpan<int> bias, global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, global::System.Span<byte> col, global::System.Span<int> acc,
            int n, int c, int h, int width, int m, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft,
            int dh, int rank, int zx, int zy, int lo, int hi)
        {
            bool inPlace = kh == 1 && kw == 1 && padTop == 0 && padLeft == 0 && (c & 3) == 0;
            int ph = (oh - 1) * sh + (kh - 1) * dh + 1, pw = inPlace ? width : (ow - 1) * sw + kw, pitch = pw * c, row = (kw * c + 3) & ~3;
            int kp = kh * row, rp = (rank + 7) & ~7, rp2 = (rank + 1) & ~1, planeBytes = inPlace ? 0 : ph * pitch + 4;
            int positions = oh * ow, image = h * width * c;
            if (rp > FactorRowsMaxRank || col.Length < planeBytes + 8 * rp2 || b.Length < kp * rp) return false;
            // With AVX-VNNI every k-step is one vpdpbusd (3: exact for any B); else the exact AVX2 form B allows (DotForm:
            // 2 PairsFit, 1 SignSplit, 0 none).
            int form = VnniEnabled && global::System.Runtime.Intrinsics.X86.AvxVnni.IsSupported ? 3 : DotForm(b.Slice(0, kp * rp));
            if (form == 0) return false;
            var stages = new FactorStages(b, default, zeroTerms, zScale, a, aEntries, bias, scale, negScale, high, col, acc, kp, 4, m, rank, zy, lo, hi, planeBytes);
            // What each channel's sums start from: SignSplit's 128 · Σ B[c] (its x − 128 correction), else 0.
            global::System.Span<int> starts = stackalloc int[rp];
            ref sbyte weights = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(b);
            for (int o = 0; o < rp; o += 8)
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(form != 1 ? global::System.Runtime.Intrinsics.Vector256<int>.Zero
                    : default(SignSplit).Start<Int8Weights>(global::System.Runtime.Intrinsics.Vector256<int>.Zero, ref global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, 4 * o), kp / 4, rp),
                    ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(starts), (nuint)o);
            var sums = acc.Slice(0, 4 * rp);
            for (int i = 0; i < n; i++)
            {
                global::System.ReadOnlySpan<byte> source = x.Slice(i * image, image);
                if (!inPlace)
                {
                    FillPlane(source, col, c, h, width, ph, pw, padTop, padLeft, (byte)zx);
                    source = col.Slice(0, planeBytes);
                }
                var fields = new FieldCursor(oh, ow, sh * pitch, sw * c, kh, row, dh * pitch, false);
                for (int block = 0; block < fields.Blocks; block++)
                {
                    int count = fields.Take(out int f0, out int f1, out int f2, out int f3);
                    if (form == 3) FactorSumsAvx2<VnniStep>(source, b, starts, sums, fields, f0, f1, f2, f3, rp);
                    else if (form == 2) FactorSumsAvx2<PairsFit>(source, b, starts, sums, fields, f0, f1, f2, f3, rp);
                    else FactorSumsAvx2<SignSplit>(source, b, starts, sums, fields, f0, f1, f2, f3, rp);
                    stages.Finish4(sums, y, (i * positions + 4 * block) * m, count);
                }
            }
            return true;
        }

        /// <summary>
        /// Stage 1's sums of four fields (starting at f0 … f3 in source, Kh runs of Row bytes RunStride apart) against B
        /// packed [KP/4, RP, 4]: sums[j·RP + o] = starts[o] + the form's k-steps, 16 channels at a time (two weight vectors
        /// loaded once for the four fields, eight accumulators: ConvChannels16Avx2's loop), then a last 8.
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private static void FactorSumsAvx2<TDot>(global::System.ReadOnlySpan<byte> source, global::System.ReadOnlySpan<sbyte> b, global::System.ReadOnlySpan<int> starts,
            global::System.Span<int> sums, FieldCursor fields, int f0, int f1, int f2, int f3, int rp) where TDot : struct, IDotStep
        {
            int kh = fields.Kh, row = fields.Row, runStride = fields.RunStride, last = global::System.Math.Max(global::System.Math.Max(f0, f1), global::System.Math.Max(f2, f3));
            if (sums.Length < 4 * rp || starts.Length < rp || b.Length < kh * row * rp || (rp & 7) != 0 || last + (kh - 1) * runStride + row > source.Length)
                throw Outside();
            ref byte plane = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(source);
            ref byte r0 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref plane, f0);
            ref byte r1 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref plane, f1);
            ref byte r2 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref plane, f2);
            ref byte r3 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref plane, f3);
            ref sbyte weights = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(b);
            ref int start = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(starts);
            ref int result = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(sums);
            int o = 0;
            for (; o + 16 <= rp; o += 16)
            {
                var s0 = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref start, (nuint)o);
                var s1 = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref start, (nuint)(o + 8));
                var a00 = s0; var a01 = s1; var a10 = s0; var a11 = s1;
                var a20 = s0; var a21 = s1; var a30 = s0; var a31 = s1;
                ref sbyte packed = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, 4 * o);
                for (int ky = 0; ky < kh; ky++)
                for (int k4 = ky * runStride, end = k4 + row; k4 < end; k4 += 4)
                {
                    var w0 = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref packed);
                    var w1 = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref packed, 32);
                    packed = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref packed, 4 * rp);
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
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a00, ref result, (nuint)o);
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a01, ref result, (nuint)(o + 8));
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a10, ref result, (nuint)(rp + o));
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a11, ref result, (nuint)(rp + o + 8));
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a20, ref result, (nuint)(2 * rp + o));
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a21, ref result, (nuint)(2 * rp + o + 8));
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a30, ref result, (nuint)(3 * rp + o));
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a31, ref result, (nuint)(3 * rp + o + 8));
            }
            if (o < rp)
            {
                var s0 = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref start, (nuint)o);
                var a0 = s0; var a1 = s0; var a2 = s0; var a3 = s0;
                ref sbyte packed = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, 4 * o);
                for (int ky = 0; ky < kh; ky++)
                for (int k4 = ky * runStride, end = k4 + row; k4 < end; k4 += 4)
                {
                    var w0 = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref packed);
                    packed = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref packed, 4 * rp);
                    a0 = default(TDot).Step(a0, default(TDot).Prepare(Broadcast4(ref r0, k4)), w0);
                    a1 = default(TDot).Step(a1, default(TDot).Prepare(Broadcast4(ref r1, k4)), w0);
                    a2 = default(TDot).Step(a2, default(TDot).Prepare(Broadcast4(ref r2, k4)), w0);
                    a3 = default(TDot).Step(a3, default(TDot).Prepare(Broadcast4(ref r3, k4)), w0);
                }
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a0, ref result, (nuint)o);
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a1, ref result, (nuint)(rp + o));
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a2, ref result, (nuint)(2 * rp + o));
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a3, ref result, (nuint)(3 * rp + o));
            }
        }
#endif
    }
}
