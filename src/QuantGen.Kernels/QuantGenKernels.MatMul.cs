// QuantGen kernels: MatMul of two computed u8 tensors (attention's Q·Kᵀ and attention·V).
// Emitted into the consumer's assembly by QuantGen.Generator (docs/generator.md, "Kernels").
#nullable enable

namespace QuantGen.Generated
{
    internal static partial class QuantGenKernels
    {
        /// <summary>
        /// MatMul of two computed tensors (docs/artifact.md, MatMul): for output matrix t, A's matrix batches[2t] [m, k] times
        /// B's matrix batches[2t + 1] [k, n]: y[t, i, j] = Requantize(Σ_p (a[i, p] − za)·(b[p, j] − zb), multiplier, shift,
        /// zy, lo, hi), the sum in int32 (the artifact bounds k so that it cannot overflow).
        /// </summary>
        public static void MatMul(global::System.ReadOnlySpan<byte> a, global::System.ReadOnlySpan<byte> b, global::System.Span<byte> y,
            global::System.ReadOnlySpan<int> batches, int m, int k, int n, int za, int zb, int multiplier, int shift, int zy, int lo, int hi)
        {
            if (m < 1 || k < 1 || n < 1 || batches.Length % 2 != 0 || shift < 1 || shift > 62 || y.Length < batches.Length / 2 * m * n)
                throw new global::System.ArgumentException("MatMul's sizes do not fit its buffers.");
            int aSize = m * k, bSize = k * n, ySize = m * n;
            for (int t = 0; t < batches.Length / 2; t++)
            {
                int ia = batches[2 * t], ib = batches[2 * t + 1];
                if (ia < 0 || ib < 0 || (ia + 1) * aSize > a.Length || (ib + 1) * bSize > b.Length) throw Outside();
                MatMulMatrix(a.Slice(ia * aSize, aSize), b.Slice(ib * bSize, bSize), y.Slice(t * ySize, ySize), m, k, n, za, zb, multiplier, shift, zy, lo, hi);
            }
        }

        /// <summary>One [m, k] × [k, n] product: SIMD column blocks of 8 where supported, the scalar loop for the rest.</summary>
        private static void MatMulMatrix(global::System.ReadOnlySpan<byte> a, global::System.ReadOnlySpan<byte> b, global::System.Span<byte> y,
            int m, int k, int n, int za, int zb, int multiplier, int shift, int zy, int lo, int hi)
        {
            int first = 0;
#if QUANTGEN_INTRINSICS
            if (SimdEnabled && global::System.Runtime.Intrinsics.X86.Avx2.IsSupported && n >= 8)
                first = MatMulColumnsAvx2(a, b, y, m, k, n, za, zb, multiplier, shift, zy, lo, hi);
#endif
            for (int i = 0; i < m; i++)
                for (int j = first; j < n; j++)
                {
                    int acc = 0;
                    for (int p = 0; p < k; p++) acc += (a[i * k + p] - za) * (b[p * n + j] - zb);
                    y[i * n + j] = Requantize(acc, multiplier, shift, zy, lo, hi);
                }
        }

#if QUANTGEN_INTRINSICS
        /// <summary>
        /// Columns [0, n rounded down to 8) of every row: two rows of B interleaved and widened to int16 (b − zb), the pair
        /// (a[i, p] − za, a[i, p + 1] − za) broadcast, one vpmaddwd per pair of k-steps (each product at most 255², a pair
        /// sum at most 130050: exact in int32, never saturating); an odd last k-step pairs with zero. The 8 sums are
        /// requantized with the scalar rule. Returns the first column left to the scalar loop.
        /// </summary>
        private static int MatMulColumnsAvx2(global::System.ReadOnlySpan<byte> a, global::System.ReadOnlySpan<byte> b, global::System.Span<byte> y,
            int m, int k, int n, int za, int zb, int multiplier, int shift, int zy, int lo, int hi)
        {
            int blocks = n / 8 * 8;
            ref byte rb = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(b);
            var zero = global::System.Runtime.Intrinsics.Vector256.Create((short)zb);
            global::System.Span<int> sums = stackalloc int[8];
            for (int i = 0; i < m; i++)
            {
                var row = a.Slice(i * k, k);
                for (int j = 0; j < blocks; j += 8)
                {
                    var acc = global::System.Runtime.Intrinsics.Vector256<int>.Zero;
                    int p = 0;
                    for (; p + 2 <= k; p += 2)
                    {
                        var pair = MatMulRows(ref rb, p * n + j, (p + 1) * n + j, zero);
                        int weights = (ushort)(short)(row[p] - za) | (row[p + 1] - za) << 16;
                        acc = global::System.Runtime.Intrinsics.X86.Avx2.Add(acc,
                            global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(pair, global::System.Runtime.Intrinsics.Vector256.AsInt16(global::System.Runtime.Intrinsics.Vector256.Create(weights))));
                    }
                    if (p < k)
                    {
                        // The last k-step alone: its partner lane is (b − zb) of the same row against a weight of 0.
                        var pair = MatMulRows(ref rb, p * n + j, p * n + j, zero);
                        int weights = (ushort)(short)(row[p] - za);
                        acc = global::System.Runtime.Intrinsics.X86.Avx2.Add(acc,
                            global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(pair, global::System.Runtime.Intrinsics.Vector256.AsInt16(global::System.Runtime.Intrinsics.Vector256.Create(weights))));
                    }
                    global::System.Runtime.Intrinsics.Vector256.CopyTo(acc, sums);
                    for (int c = 0; c < 8; c++) y[i * n + j + c] = Requantize(sums[c], multiplier, shift, zy, lo, hi);
                }
            }
            return blocks;
        }

        /// <summary>8 bytes of B at <paramref name="first"/> and 8 at <paramref name="second"/>, interleaved (first, second, ...) and widened to int16 minus zb.</summary>
        private static global::System.Runtime.Intrinsics.Vector256<short> MatMulRows(ref byte rb, int first, int second, global::System.Runtime.Intrinsics.Vector256<short> zero)
        {
            var r0 = global::System.Runtime.Intrinsics.Vector128.AsByte(global::System.Runtime.Intrinsics.Vector128.CreateScalar(
                global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<ulong>(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref rb, first))));
            var r1 = global::System.Runtime.Intrinsics.Vector128.AsByte(global::System.Runtime.Intrinsics.Vector128.CreateScalar(
                global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<ulong>(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref rb, second))));
            var mixed = global::System.Runtime.Intrinsics.X86.Sse2.UnpackLow(r0, r1);
            return global::System.Runtime.Intrinsics.X86.Avx2.Subtract(global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int16(mixed), zero);
        }
#endif
    }
}
