// QuantGen float kernels, statistics (docs/generator.md, "Float math"): ReduceMean/ReduceMax and LayerNorm's mean and
// variance. A sum runs in double in a fixed order (FixedSum's, in double: 8 lane partial sums of the values i ≡ l
// (mod 8) of the first n − n % 8, the tree ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)), then the tail in index
// order), written once for one value at a time and once for Vector256 lanes (two Vector256<double> per 8 lanes, or 8
// outputs side by side), so SIMD on and off give the same bits. A maximum is the IEEE maximum (+0 above −0; any NaN
// gives NaN), which no order changes. The simulator runs float islands' ReduceMean, ReduceMax and LayerNormalization
// through these kernels (FloatIslands).
// Emitted into the consumer's assembly by QuantGen.Generator.
#nullable enable

namespace QuantGen.Generated
{
    internal static partial class QuantGenFloatKernels
    {
        /// <summary>
        /// LayerNormalization of each of <paramref name="outer"/> rows of <paramref name="n"/> elements: mean and biased
        /// variance in double, each a <see cref="RowSum"/> (the fixed order), y = (x − mean) / sqrt(var + epsilon) · scale
        /// + bias rounded once to float; scale and bias hold n values, one, or none (1 and 0).
        /// </summary>
        public static void LayerNorm(global::System.ReadOnlySpan<float> x, global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> bias, global::System.Span<float> y,
            int outer, int n, float epsilon)
        {
            for (int o = 0; o < outer; o++)
            {
                int b = o * n;
                var row = x.Slice(b, n);
                double mean = RowSum(row, 0.0, false) / n;
                double inverse = 1 / global::System.Math.Sqrt(RowSum(row, mean, true) / n + epsilon);
                int start = 0;
#if QUANTGEN_INTRINSICS
                if (Vector256Path) start = LayerNormRowVector(row, scale, bias, y.Slice(b, n), mean, inverse);
#endif
                for (int i = start; i < n; i++)
                    y[b + i] = (float)((x[b + i] - mean) * inverse * (scale.Length == 0 ? 1 : scale[scale.Length == 1 ? 0 : i]) + (bias.Length == 0 ? 0 : bias[bias.Length == 1 ? 0 : i]));
            }
        }

        /// <summary>
        /// Σ x[i] (<paramref name="square"/> false) or Σ (x[i] − center)² (true) over the row, in double, in the fixed
        /// order: 8 lane sums, the tree, the tail.
        /// </summary>
        private static double RowSum(global::System.ReadOnlySpan<float> x, double center, bool square)
        {
            int n = x.Length, whole = n - n % 8, i = 0;
            double s;
#if QUANTGEN_INTRINSICS
            if (Vector256Path && whole > 0)
            {
                var lo = global::System.Runtime.Intrinsics.Vector256<double>.Zero;
                var hi = lo;
                var c = global::System.Runtime.Intrinsics.Vector256.Create(center);
                for (; i < whole; i += 8)
                {
                    var (a, b) = global::System.Runtime.Intrinsics.Vector256.Widen(Load8(x, i));
                    if (square)
                    {
                        a -= c;
                        b -= c;
                        a *= a;
                        b *= b;
                    }
                    lo += a;
                    hi += b;
                }
                s = Tree(lo, hi);
            }
            else
#endif
            {
                double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
                for (; i < whole; i += 8)
                {
                    s0 += Term(x[i], center, square);
                    s1 += Term(x[i + 1], center, square);
                    s2 += Term(x[i + 2], center, square);
                    s3 += Term(x[i + 3], center, square);
                    s4 += Term(x[i + 4], center, square);
                    s5 += Term(x[i + 5], center, square);
                    s6 += Term(x[i + 6], center, square);
                    s7 += Term(x[i + 7], center, square);
                }
                s = ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7));
            }
            for (; i < n; i++) s += Term(x[i], center, square);
            return s;
        }

        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static double Term(float v, double center, bool square)
        {
            if (!square) return v;
            double d = v - center;
            return d * d;
        }

        /// <summary>The IEEE maximum of two non-NaN values: the larger, +0 for ±0 (the common bits of equal values).</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static float MaxOf(float acc, float v) =>
            v > acc ? v : v == acc ? global::System.BitConverter.Int32BitsToSingle(global::System.BitConverter.SingleToInt32Bits(v) & global::System.BitConverter.SingleToInt32Bits(acc)) : acc;

        /// <summary>
        /// ReduceMean (mean 1) or ReduceMax (0): output element i (row-major over the kept dims) over the reduced dims.
        /// A mean is the double sum of the values in increasing input order taken in the fixed order (8 lane sums of
        /// the values r ≡ l (mod 8), the tree, the tail) divided by the count, rounded once; a maximum is the IEEE
        /// maximum (NaN if any value is NaN, +0 above −0). Vectorised over a contiguous reduction (each output's values
        /// adjacent: the inner axes) or over 8 adjacent outputs (the kept innermost axis contiguous: outer axes).
        /// </summary>
        public static void Reduce(global::System.ReadOnlySpan<float> x, global::System.Span<float> y, global::System.ReadOnlySpan<int> kept, global::System.ReadOnlySpan<int> keptStrides,
            global::System.ReadOnlySpan<int> reduced, global::System.ReadOnlySpan<int> reducedStrides, int mean)
        {
            int count = 1;
            for (int d = 0; d < reduced.Length; d++) count *= reduced[d];
#if QUANTGEN_INTRINSICS
            bool contiguous = true; // each output's values adjacent, in reduction order
            for (int d = reduced.Length - 1, step = 1; d >= 0; d--)
            {
                if (reduced[d] != 1 && reducedStrides[d] != step) contiguous = false;
                step *= reduced[d];
            }
#endif
            int last = kept.Length - 1;
            global::System.Span<int> outer = stackalloc int[kept.Length];
            global::System.Span<int> index = stackalloc int[reduced.Length];
            int bases = 0;
            for (int o = 0; o < y.Length;)
            {
                int done = 0;
#if QUANTGEN_INTRINSICS
                if (Vector256Path && contiguous && count >= 8 && bases + count <= x.Length)
                {
                    var values = x.Slice(bases, count);
                    y[o] = mean != 0 ? (float)(RowSum(values, 0.0, false) / count) : MaxRowVector(values);
                    done = 1;
                }
                else if (Vector256Path && keptStrides[last] == 1 && outer[last] + 8 <= kept[last])
                    done = ReduceColumnsVector(x, y.Slice(o, 8), bases, count, reduced, reducedStrides, mean, index);
#endif
                if (done == 0)
                {
                    y[o] = ReduceOne(x, bases, count, reduced, reducedStrides, mean, index);
                    done = 1;
                }
                o += done;
                for (int k = 0; k < done; k++)
                    for (int d = last; d >= 0; d--)
                    {
                        outer[d]++;
                        bases += keptStrides[d];
                        if (outer[d] < kept[d]) break;
                        bases -= keptStrides[d] * kept[d];
                        outer[d] = 0;
                    }
            }
        }

        /// <summary>One output of <see cref="Reduce"/>, one value at a time (the order the vector paths reproduce).</summary>
        private static float ReduceOne(global::System.ReadOnlySpan<float> x, int bases, int count, global::System.ReadOnlySpan<int> reduced, global::System.ReadOnlySpan<int> reducedStrides,
            int mean, global::System.Span<int> index)
        {
            index.Clear();
            int whole = count - count % 8, source = bases;
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0, s = 0;
            float max = float.NegativeInfinity;
            bool nan = false;
            for (int r = 0; r < count; r++)
            {
                float v = x[source];
                if (mean == 0)
                {
                    if (float.IsNaN(v)) nan = true;
                    else max = MaxOf(max, v);
                }
                else if (r < whole)
                {
                    switch (r & 7)
                    {
                        case 0: s0 += v; break;
                        case 1: s1 += v; break;
                        case 2: s2 += v; break;
                        case 3: s3 += v; break;
                        case 4: s4 += v; break;
                        case 5: s5 += v; break;
                        case 6: s6 += v; break;
                        default: s7 += v; break;
                    }
                }
                else
                {
                    if (r == whole) s = ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7));
                    s += v;
                }
                for (int d = reduced.Length - 1; d >= 0; d--)
                {
                    index[d]++;
                    source += reducedStrides[d];
                    if (index[d] < reduced[d]) break;
                    source -= reducedStrides[d] * reduced[d];
                    index[d] = 0;
                }
            }
            if (mean == 0) return nan ? float.NaN : max;
            if (whole == count) s = ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7));
            return (float)(s / count);
        }

#if QUANTGEN_INTRINSICS
        /// <summary>The tree of 8 lane sums held as lanes 0-3 and 4-7: ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)).</summary>
        private static double Tree(global::System.Runtime.Intrinsics.Vector256<double> lo, global::System.Runtime.Intrinsics.Vector256<double> hi)
        {
            var h = lo + hi;
            return (global::System.Runtime.Intrinsics.Vector256.GetElement(h, 0) + global::System.Runtime.Intrinsics.Vector256.GetElement(h, 2))
                + (global::System.Runtime.Intrinsics.Vector256.GetElement(h, 1) + global::System.Runtime.Intrinsics.Vector256.GetElement(h, 3));
        }

        /// <summary>The IEEE maximum per lane of non-NaN lanes (NaN lanes are tracked apart): v &gt; acc ? v : v == acc ? v &amp; acc : acc.</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static global::System.Runtime.Intrinsics.Vector256<float> MaxOf(global::System.Runtime.Intrinsics.Vector256<float> acc, global::System.Runtime.Intrinsics.Vector256<float> v) =>
            global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(global::System.Runtime.Intrinsics.Vector256.GreaterThan(v, acc), v,
                global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(global::System.Runtime.Intrinsics.Vector256.Equals(v, acc), v & acc, acc));

        /// <summary>ReduceMax of one contiguous run of at least 8 values: 8 lane maxima, then the tail.</summary>
        private static float MaxRowVector(global::System.ReadOnlySpan<float> x)
        {
            var acc = global::System.Runtime.Intrinsics.Vector256.Create(float.NegativeInfinity);
            var nan = global::System.Runtime.Intrinsics.Vector256<float>.Zero;
            int i = 0;
            for (; i + 8 <= x.Length; i += 8)
            {
                var v = Load8(x, i);
                nan |= ~global::System.Runtime.Intrinsics.Vector256.Equals(v, v);
                acc = MaxOf(acc, v);
            }
            bool any = global::System.Runtime.Intrinsics.Vector256.ExtractMostSignificantBits(nan) != 0;
            float max = float.NegativeInfinity;
            for (int l = 0; l < 8; l++) max = MaxOf(max, global::System.Runtime.Intrinsics.Vector256.GetElement(acc, l));
            for (; i < x.Length; i++)
            {
                float v = x[i];
                if (float.IsNaN(v)) any = true;
                else max = MaxOf(max, v);
            }
            return any ? float.NaN : max;
        }

        /// <summary>
        /// 8 adjacent outputs of <see cref="Reduce"/> whose values lie side by side (x[bases + j + offset(r)], j = 0-7),
        /// lane j computing output j as <see cref="ReduceOne"/> does (the lane sums of r ≡ l (mod 8) in
        /// 8 × 2 Vector256&lt;double&gt;, the tree, the tail; or the maximum). Returns 8, or 0 when x is short.
        /// </summary>
        private static int ReduceColumnsVector(global::System.ReadOnlySpan<float> x, global::System.Span<float> y, int bases, int count, global::System.ReadOnlySpan<int> reduced,
            global::System.ReadOnlySpan<int> reducedStrides, int mean, global::System.Span<int> index)
        {
            int end = bases + 8;
            for (int d = 0; d < reduced.Length; d++) end += (reduced[d] - 1) * reducedStrides[d];
            if (bases < 0 || end > x.Length) return 0;
            index.Clear();
            int whole = count - count % 8, source = bases;
            var zero = global::System.Runtime.Intrinsics.Vector256<double>.Zero;
            global::System.Runtime.Intrinsics.Vector256<double> l0 = zero, h0 = zero, l1 = zero, h1 = zero, l2 = zero, h2 = zero, l3 = zero, h3 = zero;
            global::System.Runtime.Intrinsics.Vector256<double> l4 = zero, h4 = zero, l5 = zero, h5 = zero, l6 = zero, h6 = zero, l7 = zero, h7 = zero;
            global::System.Runtime.Intrinsics.Vector256<double> sl = zero, sh = zero;
            var max = global::System.Runtime.Intrinsics.Vector256.Create(float.NegativeInfinity);
            var nan = global::System.Runtime.Intrinsics.Vector256<float>.Zero;
            for (int r = 0; r < count; r++)
            {
                var v = Load8(x, source);
                if (mean == 0)
                {
                    nan |= ~global::System.Runtime.Intrinsics.Vector256.Equals(v, v);
                    max = MaxOf(max, v);
                }
                else
                {
                    var (a, b) = global::System.Runtime.Intrinsics.Vector256.Widen(v);
                    if (r < whole)
                    {
                        switch (r & 7)
                        {
                            case 0: l0 += a; h0 += b; break;
                            case 1: l1 += a; h1 += b; break;
                            case 2: l2 += a; h2 += b; break;
                            case 3: l3 += a; h3 += b; break;
                            case 4: l4 += a; h4 += b; break;
                            case 5: l5 += a; h5 += b; break;
                            case 6: l6 += a; h6 += b; break;
                            default: l7 += a; h7 += b; break;
                        }
                    }
                    else
                    {
                        if (r == whole)
                        {
                            sl = ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7));
                            sh = ((h0 + h4) + (h2 + h6)) + ((h1 + h5) + (h3 + h7));
                        }
                        sl += a;
                        sh += b;
                    }
                }
                for (int d = reduced.Length - 1; d >= 0; d--)
                {
                    index[d]++;
                    source += reducedStrides[d];
                    if (index[d] < reduced[d]) break;
                    source -= reducedStrides[d] * reduced[d];
                    index[d] = 0;
                }
            }
            if (mean == 0)
            {
                // NaN lanes (max there is whatever the other values gave) become NaN, as ReduceOne's.
                Store8(global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(nan, global::System.Runtime.Intrinsics.Vector256.Create(float.NaN), max), y, 0);
                return 8;
            }
            if (whole == count)
            {
                sl = ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7));
                sh = ((h0 + h4) + (h2 + h6)) + ((h1 + h5) + (h3 + h7));
            }
            var n = global::System.Runtime.Intrinsics.Vector256.Create((double)count);
            Store8(global::System.Runtime.Intrinsics.Vector256.Narrow(sl / n, sh / n), y, 0);
            return 8;
        }
#endif
    }
}
