// QuantGen kernels: the elementwise layers on u8 grids (Lookup tables, Affine constants, broadcast Mul, Concat).
// Emitted into the consumer's assembly by QuantGen.Generator (docs/generator.md, "Kernels").
#nullable enable

namespace QuantGen.Generated
{
    internal static partial class QuantGenKernels
    {
        /// <summary>
        /// A table activation: y[i] = table[x[i]] (docs/artifact.md, Lookup). Scalar on purpose: a 256-entry table on
        /// AVX2 costs 16 vpshufb, 16 compares and 16 blends per 32 bytes, no faster than one load per byte.
        /// </summary>
        public static void Lookup(global::System.ReadOnlySpan<byte> x, global::System.Span<byte> y, global::System.ReadOnlySpan<byte> table)
        {
            if (table.Length < 256) throw new global::System.ArgumentException("A lookup table has 256 entries.", nameof(table));
            int i = 0;
            for (; i + 4 <= y.Length; i += 4)
            {
                y[i] = table[x[i]];
                y[i + 1] = table[x[i + 1]];
                y[i + 2] = table[x[i + 2]];
                y[i + 3] = table[x[i + 3]];
            }
            for (; i < y.Length; i++) y[i] = table[x[i]];
        }

        /// <summary>
        /// Add/Sub/Mul/Div by constants (docs/artifact.md, Affine): y = clamp((((x − zx)·multiplier[c] + offset[c] +
        /// 2^(shift−1)) &gt;&gt; shift) + zy, lo, hi) in 64 bits, c = (i / inner) % channels. NCHW with per-channel
        /// constants has inner = H·W; channels-last has inner 1 and channels C; a single constant, channels 1.
        /// </summary>
        public static void Affine(global::System.ReadOnlySpan<byte> x, global::System.Span<byte> y, global::System.ReadOnlySpan<int> multiplier, global::System.ReadOnlySpan<int> offset,
            int channels, int inner, int zx, int shift, int zy, int lo, int hi)
        {
            if (channels < 1 || inner < 1 || multiplier.Length < channels || offset.Length < channels)
                throw new global::System.ArgumentException("Affine needs one multiplier and offset per channel.");
            if (inner < 8)
            {
                // Short runs (channels-last, channel index fastest): one element at a time.
                long half = 1L << (shift - 1);
                for (int i = 0; i < y.Length; i++)
                {
                    int c = i / inner % channels;
                    long v = (((long)(x[i] - zx) * multiplier[c] + offset[c] + half) >> shift) + zy;
                    y[i] = (byte)(v < lo ? lo : v > hi ? hi : v);
                }
                return;
            }
            for (int start = 0, c = 0; start < y.Length; start += inner, c = c + 1 == channels ? 0 : c + 1)
            {
                int count = global::System.Math.Min(inner, y.Length - start);
                AffineRun(x.Slice(start, count), y.Slice(start, count), zx, multiplier[c], offset[c], shift, zy, lo, hi);
            }
        }

        /// <summary>
        /// One run of elements sharing their constants: clamp((((x − zx)·m + o + 2^(shift−1)) &gt;&gt; shift) + zy, lo, hi).
        /// Concat's requantization is this with o = 0.
        /// </summary>
        private static void AffineRun(global::System.ReadOnlySpan<byte> x, global::System.Span<byte> y, int zx, int m, long o, int shift, int zy, int lo, int hi)
        {
            long bias = o + (1L << (shift - 1));
            int i = 0;
#if QUANTGEN_INTRINSICS
            if (SimdEnabled && global::System.Runtime.Intrinsics.X86.Avx2.IsSupported && y.Length >= 8)
                i = AffineRunAvx2(x, y, zx, m, bias, shift, zy, lo, hi);
#endif
            for (; i < y.Length; i++)
            {
                long v = (((long)(x[i] - zx) * m + bias) >> shift) + zy;
                y[i] = (byte)(v < lo ? lo : v > hi ? hi : v);
            }
        }

        /// <summary>
        /// Product of two grids (docs/artifact.md, Mul): y[i] = Requantize((a[i] − za)·(b[j] − zb), multiplier, shift, zy,
        /// lo, hi) with j = (i / period)·channels + (i / inner) % channels: NCHW squeeze-excitation ([N,C,H,W] × [N,C,1,1])
        /// has inner = H·W, channels = N·C, period = the output's length; channels-last has inner 1, channels C, period
        /// H·W·C; equal shapes inner 1, channels = period = the length.
        /// </summary>
        public static void Mul(global::System.ReadOnlySpan<byte> a, global::System.ReadOnlySpan<byte> b, global::System.Span<byte> y,
            int inner, int channels, int period, int za, int zb, int multiplier, int shift, int zy, int lo, int hi)
        {
            if (inner < 1 || channels < 1 || period < 1) throw new global::System.ArgumentException("Mul's broadcast needs positive sizes.");
            if (inner >= 8)
            {
                // Runs of one b value (NCHW broadcast): (a − za)·bb is an exact int32, then the 64-bit requantization.
                for (int start = 0; start < y.Length; start += inner)
                {
                    int count = global::System.Math.Min(inner, y.Length - start);
                    int bb = b[start / period * channels + start / inner % channels] - zb;
                    MulRun(a.Slice(start, count), y.Slice(start, count), za, bb, multiplier, shift, zy, lo, hi);
                }
                return;
            }
            long half = 1L << (shift - 1);
            for (int i = 0; i < y.Length; i++)
            {
                int acc = (a[i] - za) * (b[i / period * channels + i / inner % channels] - zb);
                long v = ((acc * (long)multiplier + half) >> shift) + zy;
                y[i] = (byte)(v < lo ? lo : v > hi ? hi : v);
            }
        }

        /// <summary>One run of Mul against a single value bb = b − zb.</summary>
        private static void MulRun(global::System.ReadOnlySpan<byte> a, global::System.Span<byte> y, int za, int bb, int multiplier, int shift, int zy, int lo, int hi)
        {
            long half = 1L << (shift - 1);
            int i = 0;
#if QUANTGEN_INTRINSICS
            if (SimdEnabled && global::System.Runtime.Intrinsics.X86.Avx2.IsSupported && y.Length >= 8)
                i = MulRunAvx2(a, y, za, bb, multiplier, shift, zy, lo, hi);
#endif
            for (; i < y.Length; i++)
            {
                int acc = (a[i] - za) * bb;
                long v = ((acc * (long)multiplier + half) >> shift) + zy;
                y[i] = (byte)(v < lo ? lo : v > hi ? hi : v);
            }
        }

        /// <summary>
        /// One input of a Concat (docs/artifact.md): for each of the <paramref name="outer"/> slabs, its <paramref name="chunk"/>
        /// elements requantized onto the output grid [<paramref name="lo"/>, <paramref name="hi"/>] (0..255, or 0..2^b − 1
        /// for ActivationBits b below 8) and written at y[o·stride + offset]. The grids' identity (multiplier 2^30, shift
        /// 30, equal zero points) is a copy.
        /// </summary>
        public static void ConcatPart(global::System.ReadOnlySpan<byte> x, global::System.Span<byte> y, int outer, int chunk, int stride, int offset,
            int zx, int multiplier, int shift, int zy, int lo, int hi)
        {
            if (outer < 1 || chunk < 0 || x.Length < outer * chunk || offset + chunk > stride || y.Length < outer * stride)
                throw new global::System.ArgumentException("Concat's slabs do not fit its buffers.");
            bool copy = multiplier == 1 << 30 && shift == 30 && zx == zy;
            for (int o = 0; o < outer; o++)
            {
                var from = x.Slice(o * chunk, chunk);
                var to = y.Slice(o * stride + offset, chunk);
                if (copy) from.CopyTo(to);
                else AffineRun(from, to, zx, multiplier, 0, shift, zy, lo, hi);
            }
        }

#if QUANTGEN_INTRINSICS
        /// <summary>
        /// AffineRun for whole blocks of 8: (x − zx)·m exact in 64-bit lanes (vpmuldq), plus o and the rounding term, then
        /// AddAvx2's shift and clamp (<see cref="ShiftClamp"/>). Returns the number of elements done (0 for a shift over 62).
        /// </summary>
        private static int AffineRunAvx2(global::System.ReadOnlySpan<byte> x, global::System.Span<byte> y, int zx, int m, long bias, int shift, int zy, int lo, int hi)
        {
            if (shift < 1 || shift > 62 || x.Length < y.Length) return 0;
            ref byte rx = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
            var zero = global::System.Runtime.Intrinsics.Vector256.Create((long)zx);
            var factor = global::System.Runtime.Intrinsics.Vector256.AsInt32(global::System.Runtime.Intrinsics.Vector256.Create((long)m));
            var constant = global::System.Runtime.Intrinsics.Vector256.Create(bias - (1L << (shift - 1)));
            var offset = global::System.Runtime.Intrinsics.Vector256.Create((1L << (shift - 1)) + (1L << 62));
            var after = global::System.Runtime.Intrinsics.Vector256.Create((long)zy - ((1L << 62) >> shift));
            var low = global::System.Runtime.Intrinsics.Vector256.Create((long)lo);
            var top = global::System.Runtime.Intrinsics.Vector256.Create((long)hi);
            int i = 0;
            for (; i + 8 <= y.Length; i += 8)
            {
                var px = global::System.Runtime.Intrinsics.Vector128.AsByte(global::System.Runtime.Intrinsics.Vector128.CreateScalar(
                    global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<ulong>(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref rx, i))));
                var l0 = global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int64(px) - zero;
                var l1 = global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int64(global::System.Runtime.Intrinsics.X86.Sse2.ShiftRightLogical128BitLane(px, 4)) - zero;
                var v0 = ShiftClamp(global::System.Runtime.Intrinsics.X86.Avx2.Multiply(global::System.Runtime.Intrinsics.Vector256.AsInt32(l0), factor) + constant, offset, shift, after, low, top);
                var v1 = ShiftClamp(global::System.Runtime.Intrinsics.X86.Avx2.Multiply(global::System.Runtime.Intrinsics.Vector256.AsInt32(l1), factor) + constant, offset, shift, after, low, top);
                StoreEightLongs(y, i, v0, v1);
            }
            return i;
        }

        /// <summary>
        /// MulRun for whole blocks of 8: (a − za)·bb in 64-bit lanes (vpmuldq; an int32, |·| ≤ 255²), that times the
        /// multiplier (vpmuldq again: exact, the int32 sign-extended), then the shift and clamp. Returns the number done.
        /// </summary>
        private static int MulRunAvx2(global::System.ReadOnlySpan<byte> a, global::System.Span<byte> y, int za, int bb, int multiplier, int shift, int zy, int lo, int hi)
        {
            if (shift < 1 || shift > 62 || a.Length < y.Length) return 0;
            ref byte ra = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(a);
            var zero = global::System.Runtime.Intrinsics.Vector256.Create((long)za);
            var factor = global::System.Runtime.Intrinsics.Vector256.AsInt32(global::System.Runtime.Intrinsics.Vector256.Create((long)bb));
            var scale = global::System.Runtime.Intrinsics.Vector256.AsInt32(global::System.Runtime.Intrinsics.Vector256.Create((long)multiplier));
            var offset = global::System.Runtime.Intrinsics.Vector256.Create((1L << (shift - 1)) + (1L << 62));
            var after = global::System.Runtime.Intrinsics.Vector256.Create((long)zy - ((1L << 62) >> shift));
            var low = global::System.Runtime.Intrinsics.Vector256.Create((long)lo);
            var top = global::System.Runtime.Intrinsics.Vector256.Create((long)hi);
            int i = 0;
            for (; i + 8 <= y.Length; i += 8)
            {
                var pa = global::System.Runtime.Intrinsics.Vector128.AsByte(global::System.Runtime.Intrinsics.Vector128.CreateScalar(
                    global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<ulong>(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref ra, i))));
                var l0 = global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int64(pa) - zero;
                var l1 = global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int64(global::System.Runtime.Intrinsics.X86.Sse2.ShiftRightLogical128BitLane(pa, 4)) - zero;
                var p0 = global::System.Runtime.Intrinsics.X86.Avx2.Multiply(global::System.Runtime.Intrinsics.Vector256.AsInt32(l0), factor);
                var p1 = global::System.Runtime.Intrinsics.X86.Avx2.Multiply(global::System.Runtime.Intrinsics.Vector256.AsInt32(l1), factor);
                var v0 = ShiftClamp(global::System.Runtime.Intrinsics.X86.Avx2.Multiply(global::System.Runtime.Intrinsics.Vector256.AsInt32(p0), scale), offset, shift, after, low, top);
                var v1 = ShiftClamp(global::System.Runtime.Intrinsics.X86.Avx2.Multiply(global::System.Runtime.Intrinsics.Vector256.AsInt32(p1), scale), offset, shift, after, low, top);
                StoreEightLongs(y, i, v0, v1);
            }
            return i;
        }

        /// <summary>Eight clamped results in [0, 255] (two 4-lane halves) narrowed to bytes and stored at y[i].</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static void StoreEightLongs(global::System.Span<byte> y, int i, global::System.Runtime.Intrinsics.Vector256<long> v0, global::System.Runtime.Intrinsics.Vector256<long> v1)
        {
            var ints = global::System.Runtime.Intrinsics.Vector256.Narrow(v0, v1);
            var words = global::System.Runtime.Intrinsics.Vector128.Narrow(global::System.Runtime.Intrinsics.Vector256.GetLower(ints), global::System.Runtime.Intrinsics.Vector256.GetUpper(ints));
            var bytes = global::System.Runtime.Intrinsics.Vector128.Narrow(global::System.Runtime.Intrinsics.Vector128.AsUInt16(words), global::System.Runtime.Intrinsics.Vector128.AsUInt16(words));
            global::System.Runtime.CompilerServices.Unsafe.WriteUnaligned(ref y[i],
                global::System.Runtime.Intrinsics.Vector128.ToScalar(global::System.Runtime.Intrinsics.Vector128.AsUInt64(bytes)));
        }
#endif
    }
}
