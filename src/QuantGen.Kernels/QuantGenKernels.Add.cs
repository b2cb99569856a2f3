// QuantGen kernels: elementwise Add of two u8 grids onto a third.
// Emitted into the consumer's assembly by QuantGen.Generator (docs/generator.md, "Kernels").
#nullable enable

namespace QuantGen.Generated
{
    internal static partial class QuantGenKernels
    {
        /// <summary>Elementwise sum of two grids onto the output grid, one rounding in 64 bits.</summary>
        public static void Add(global::System.ReadOnlySpan<byte> a, global::System.ReadOnlySpan<byte> b, global::System.Span<byte> y,
            int za, int zb, int ma, int mb, int shift, int zy, int lo, int hi)
        {
            long half = 1L << (shift - 1);
            int i = 0;
#if QUANTGEN_INTRINSICS
            if (SimdEnabled && global::System.Runtime.Intrinsics.X86.Avx512F.IsSupported)
                i = AddAvx512(a, b, y, za, zb, ma, mb, shift, zy, lo, hi);
            else if (SimdEnabled && global::System.Runtime.Intrinsics.X86.Avx2.IsSupported)
            {
                i = AddSplitAvx2(a, b, y, za, zb, ma, mb, shift, zy, lo, hi);
                if (i == 0) i = AddAvx2(a, b, y, za, zb, ma, mb, shift, zy, lo, hi);
            }
#endif
            for (; i < y.Length; i++)
            {
                long v = (((long)(a[i] - za) * ma + (long)(b[i] - zb) * mb + half) >> shift) + zy;
                y[i] = (byte)(v < lo ? lo : v > hi ? hi : v);
            }
        }

#if QUANTGEN_INTRINSICS
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

        /// <summary>
        /// Add for AVX2 (AddAvx512's steps on two 4-lane halves): (a − za)·ma and (b − zb)·mb as exact 64-bit
        /// products (vpmuldq), the rounding term added, then the arithmetic shift AVX2 lacks for 64-bit lanes as a
        /// logical one of the sum plus 2^62 (a multiple of 2^shift, and |sum| &lt; 2^41), less 2^62 &gt;&gt; shift; the
        /// zero point, the clamp, the low bytes. Returns the number of elements done (0 for a shift over 62).
        /// </summary>
        private static int AddAvx2(global::System.ReadOnlySpan<byte> a, global::System.ReadOnlySpan<byte> b, global::System.Span<byte> y,
            int za, int zb, int ma, int mb, int shift, int zy, int lo, int hi)
        {
            if (shift < 1 || shift > 62 || a.Length < y.Length || b.Length < y.Length) return 0;
            ref byte ra = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(a);
            ref byte rb = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(b);
            var zeroA = global::System.Runtime.Intrinsics.Vector256.Create((long)za);
            var zeroB = global::System.Runtime.Intrinsics.Vector256.Create((long)zb);
            var multiplierA = global::System.Runtime.Intrinsics.Vector256.AsInt32(global::System.Runtime.Intrinsics.Vector256.Create((long)ma));
            var multiplierB = global::System.Runtime.Intrinsics.Vector256.AsInt32(global::System.Runtime.Intrinsics.Vector256.Create((long)mb));
            var offset = global::System.Runtime.Intrinsics.Vector256.Create((1L << (shift - 1)) + (1L << 62));
            var after = global::System.Runtime.Intrinsics.Vector256.Create((long)zy - ((1L << 62) >> shift));
            var low = global::System.Runtime.Intrinsics.Vector256.Create((long)lo);
            var top = global::System.Runtime.Intrinsics.Vector256.Create((long)hi);
            int i = 0;
            for (; i + 8 <= y.Length; i += 8)
            {
                var pa = global::System.Runtime.Intrinsics.Vector128.AsByte(global::System.Runtime.Intrinsics.Vector128.CreateScalar(
                    global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<ulong>(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref ra, i))));
                var pb = global::System.Runtime.Intrinsics.Vector128.AsByte(global::System.Runtime.Intrinsics.Vector128.CreateScalar(
                    global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<ulong>(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref rb, i))));
                var v0 = AddLanes(global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int64(pa) - zeroA, global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int64(pb) - zeroB,
                    multiplierA, multiplierB, offset, shift, after, low, top);
                var v1 = AddLanes(global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int64(global::System.Runtime.Intrinsics.X86.Sse2.ShiftRightLogical128BitLane(pa, 4)) - zeroA,
                    global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int64(global::System.Runtime.Intrinsics.X86.Sse2.ShiftRightLogical128BitLane(pb, 4)) - zeroB,
                    multiplierA, multiplierB, offset, shift, after, low, top);
                var ints = global::System.Runtime.Intrinsics.Vector256.Narrow(v0, v1);
                var words = global::System.Runtime.Intrinsics.Vector128.Narrow(global::System.Runtime.Intrinsics.Vector256.GetLower(ints), global::System.Runtime.Intrinsics.Vector256.GetUpper(ints));
                var bytes = global::System.Runtime.Intrinsics.Vector128.Narrow(global::System.Runtime.Intrinsics.Vector128.AsUInt16(words), global::System.Runtime.Intrinsics.Vector128.AsUInt16(words));
                global::System.Runtime.CompilerServices.Unsafe.WriteUnaligned(ref y[i],
                    global::System.Runtime.Intrinsics.Vector128.ToScalar(global::System.Runtime.Intrinsics.Vector128.AsUInt64(bytes)));
            }
            return i;
        }

        /// <summary>
        /// Add for AVX2 in 32-bit lanes, 8 elements per step, for 17 ≤ shift ≤ 47: each multiplier split as m = h · 2^16 + l
        /// (h = m &gt;&gt; 16, 0 ≤ l &lt; 2^16), so that with d = x − z (|d| ≤ 255) every product fits int32 (vpmulld):
        /// H = da·ha + db·hb + 2^(shift−17) (the rounding term, moved above bit 16) and L = da·la + db·lb &lt; 2^25. Then
        /// ⌊(H·2^16 + L) / 2^shift⌋ = (H + (L &gt;&gt; 16)) &gt;&gt; (shift − 16), arithmetic shifts being floors: the scalar
        /// loop's 64-bit result exactly. Returns the number of elements done (0 outside that shift range: AddAvx2 runs).
        /// </summary>
        private static int AddSplitAvx2(global::System.ReadOnlySpan<byte> a, global::System.ReadOnlySpan<byte> b, global::System.Span<byte> y,
            int za, int zb, int ma, int mb, int shift, int zy, int lo, int hi)
        {
            if (shift < 17 || shift > 47 || a.Length < y.Length || b.Length < y.Length) return 0;
            ref byte ra = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(a);
            ref byte rb = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(b);
            ref byte ry = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(y);
            var zeroA = global::System.Runtime.Intrinsics.Vector256.Create(za);
            var zeroB = global::System.Runtime.Intrinsics.Vector256.Create(zb);
            var highA = global::System.Runtime.Intrinsics.Vector256.Create(ma >> 16);
            var highB = global::System.Runtime.Intrinsics.Vector256.Create(mb >> 16);
            var lowA = global::System.Runtime.Intrinsics.Vector256.Create(ma & 0xFFFF);
            var lowB = global::System.Runtime.Intrinsics.Vector256.Create(mb & 0xFFFF);
            var rounding = global::System.Runtime.Intrinsics.Vector256.Create(1 << (shift - 17));
            var zero = global::System.Runtime.Intrinsics.Vector256.Create(zy);
            var low = global::System.Runtime.Intrinsics.Vector256.Create(lo);
            var top = global::System.Runtime.Intrinsics.Vector256.Create(hi);
            int rest = shift - 16, i = 0;
            for (; i + 8 <= y.Length; i += 8)
            {
                var da = global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int32(global::System.Runtime.Intrinsics.Vector128.AsByte(global::System.Runtime.Intrinsics.Vector128.CreateScalar(
                    global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<ulong>(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref ra, i))))) - zeroA;
                var db = global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int32(global::System.Runtime.Intrinsics.Vector128.AsByte(global::System.Runtime.Intrinsics.Vector128.CreateScalar(
                    global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<ulong>(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref rb, i))))) - zeroB;
                var high = global::System.Runtime.Intrinsics.X86.Avx2.MultiplyLow(da, highA) + global::System.Runtime.Intrinsics.X86.Avx2.MultiplyLow(db, highB) + rounding;
                var lowPart = global::System.Runtime.Intrinsics.X86.Avx2.MultiplyLow(da, lowA) + global::System.Runtime.Intrinsics.X86.Avx2.MultiplyLow(db, lowB);
                var v = global::System.Runtime.Intrinsics.Vector256.ShiftRightArithmetic(high + global::System.Runtime.Intrinsics.Vector256.ShiftRightArithmetic(lowPart, 16), rest) + zero;
                v = global::System.Runtime.Intrinsics.Vector256.Min(global::System.Runtime.Intrinsics.Vector256.Max(v, low), top);
                global::System.Runtime.CompilerServices.Unsafe.WriteUnaligned(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref ry, i),
                    global::System.Runtime.Intrinsics.Vector128.ToScalar(global::System.Runtime.Intrinsics.Vector128.AsUInt64(Narrow8(v))));
            }
            return i;
        }

        /// <summary>AddAvx2's arithmetic on 4 lanes: the clamped result, zero point included, in [lo, hi].</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static global::System.Runtime.Intrinsics.Vector256<long> AddLanes(global::System.Runtime.Intrinsics.Vector256<long> va, global::System.Runtime.Intrinsics.Vector256<long> vb,
            global::System.Runtime.Intrinsics.Vector256<int> multiplierA, global::System.Runtime.Intrinsics.Vector256<int> multiplierB, global::System.Runtime.Intrinsics.Vector256<long> offset,
            int shift, global::System.Runtime.Intrinsics.Vector256<long> after, global::System.Runtime.Intrinsics.Vector256<long> low, global::System.Runtime.Intrinsics.Vector256<long> top)
        {
            var sum = global::System.Runtime.Intrinsics.X86.Avx2.Multiply(global::System.Runtime.Intrinsics.Vector256.AsInt32(va), multiplierA)
                + global::System.Runtime.Intrinsics.X86.Avx2.Multiply(global::System.Runtime.Intrinsics.Vector256.AsInt32(vb), multiplierB);
            return ShiftClamp(sum, offset, shift, after, low, top);
        }

        /// <summary>
        /// clamp(((sum + 2^(shift−1)) &gt;&gt; shift) + zy, lo, hi) for |sum| &lt; 2^62: offset = 2^(shift−1) + 2^62 and
        /// after = zy − (2^62 &gt;&gt; shift), so that the logical shift of a non-negative value stands in for the arithmetic one.
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static global::System.Runtime.Intrinsics.Vector256<long> ShiftClamp(global::System.Runtime.Intrinsics.Vector256<long> sum, global::System.Runtime.Intrinsics.Vector256<long> offset,
            int shift, global::System.Runtime.Intrinsics.Vector256<long> after, global::System.Runtime.Intrinsics.Vector256<long> low, global::System.Runtime.Intrinsics.Vector256<long> top)
        {
            var v = global::System.Runtime.Intrinsics.Vector256.AsInt64(global::System.Runtime.Intrinsics.Vector256.ShiftRightLogical(
                global::System.Runtime.Intrinsics.Vector256.AsUInt64(sum + offset), shift)) + after;
            v = global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(global::System.Runtime.Intrinsics.X86.Avx2.CompareGreaterThan(low, v), low, v);
            return global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(global::System.Runtime.Intrinsics.X86.Avx2.CompareGreaterThan(v, top), top, v);
        }
#endif
    }
}
