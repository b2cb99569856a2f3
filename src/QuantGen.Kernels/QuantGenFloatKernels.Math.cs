// QuantGen float kernels, transcendental functions and fixed-order sums (docs/generator.md, "Float math"): Exp, Log,
// Sigmoid and Tanh as float32 polynomials (Cephes' expf/logf/tanhf coefficients), and a sum in a fixed order (8 lane
// partial sums, then a fixed tree, then the tail in index order) for Softmax and GlobalAveragePool. Each function is
// written twice, for one float and for 8 lanes (Vector256, under QUANTGEN_INTRINSICS), with the same IEEE operations
// in the same order and no fused multiply-add on either path, so SIMD on and off give the same bits. The simulator runs
// float islands' Sigmoid, Tanh, Exp, Log, Softmax and GlobalAveragePool through these functions too (FloatIslands).
// Emitted into the consumer's assembly by QuantGen.Generator.
#nullable enable

namespace QuantGen.Generated
{
    internal static partial class QuantGenFloatKernels
    {
        // exp: x clamped to [ExpMin, ExpMax] (beyond them the result is 0 or +∞ anyway), n = round(x · log2 e) by the
        // 1.5 · 2^23 trick (to nearest even), r = x − n · ln2 in two parts (Cody-Waite: n · Ln2Hi is exact), e^r by the
        // polynomial, times 2^n as two powers of two (2^(n >> 1) · 2^(n − (n >> 1)): both normal, one rounding).
        private const float ExpMin = -104f, ExpMax = 89f, Log2E = 1.44269504088896341f, RoundMagic = 12582912f;
        private const float Ln2Hi = 0.693359375f, Ln2Lo = -2.12194440e-4f;
        private const float E0 = 1.9875691500E-4f, E1 = 1.3981999507E-3f, E2 = 8.3334519073E-3f, E3 = 4.1665795894E-2f, E4 = 1.6666665459E-1f, E5 = 5.0000001201E-1f;

        // log: x = m · 2^e with m in [√½, √2), f = m − 1, log(1 + f) = f − f²/2 + f³ · P(f), then + e · ln2 in two parts.
        private const float SqrtHalf = 0.707106781186547524f, MinNormal = 1.17549435e-38f, Two23 = 8388608f;
        private const float L0 = 7.0376836292E-2f, L1 = -1.1514610310E-1f, L2 = 1.1676998740E-1f, L3 = -1.2420140846E-1f, L4 = 1.4249322787E-1f;
        private const float L5 = -1.6668057665E-1f, L6 = 2.0000714765E-1f, L7 = -2.4999993993E-1f, L8 = 3.3333331174E-1f;

        // tanh: |x| ≤ 0.625 by an odd polynomial, above as 1 − 2 / (e^(2|x|) + 1); the sign of x put back.
        private const float TanhSplit = 0.625f;
        private const float T0 = -5.70498872745E-3f, T1 = 2.06390887954E-2f, T2 = -5.37397155531E-2f, T3 = 1.33314422036E-1f, T4 = -3.33332819422E-1f;

        /// <summary>e^x in float32, within 1 ulp of the exact value (FloatMathTests); NaN passes, e^−∞ = 0, e^+∞ = +∞.</summary>
        internal static float Exp(float x)
        {
            if (float.IsNaN(x)) return x;
            float c = x < ExpMin ? ExpMin : x > ExpMax ? ExpMax : x;
            float n = c * Log2E + RoundMagic - RoundMagic;
            float r = c - n * Ln2Hi - n * Ln2Lo;
            float p = ((((E0 * r + E1) * r + E2) * r + E3) * r + E4) * r + E5;
            p = p * (r * r) + r + 1f;
            int k = (int)n, k1 = k >> 1;
            return p * global::System.BitConverter.Int32BitsToSingle((k1 + 127) << 23) * global::System.BitConverter.Int32BitsToSingle((k - k1 + 127) << 23);
        }

        /// <summary>The natural logarithm in float32, within 1 ulp (FloatMathTests); log 0 = −∞, log of a negative = NaN, subnormals exact.</summary>
        internal static float Log(float x)
        {
            if (float.IsNaN(x)) return x;
            if (x < 0f) return float.NaN;
            if (x == 0f) return float.NegativeInfinity;
            if (float.IsPositiveInfinity(x)) return x;
            bool tiny = x < MinNormal;
            float s = tiny ? x * Two23 : x;
            int bits = global::System.BitConverter.SingleToInt32Bits(s);
            int e = (bits >> 23) - 126 - (tiny ? 23 : 0);
            float m = global::System.BitConverter.Int32BitsToSingle((bits & 0x007FFFFF) | 0x3F000000);
            bool low = m < SqrtHalf;
            if (low) e--;
            float f = low ? m + m - 1f : m - 1f;
            float z = f * f;
            float y = (((((((L0 * f + L1) * f + L2) * f + L3) * f + L4) * f + L5) * f + L6) * f + L7) * f + L8;
            float fe = e;
            y = y * f * z + fe * Ln2Lo - 0.5f * z;
            return f + y + fe * Ln2Hi;
        }

        /// <summary>
        /// The logistic function with e = <see cref="Exp(float)"/>(−|x|) (in (0, 1], never overflowing): 1 / (1 + e) for
        /// x ≥ 0, e / (1 + e) below, so a very negative x gives e^x, subnormal, not 0 (FloatMathTests: within 2.5 ulp).
        /// </summary>
        internal static float Sigmoid(float x)
        {
            if (float.IsNaN(x)) return x;
            float e = Exp(-global::System.BitConverter.Int32BitsToSingle(global::System.BitConverter.SingleToInt32Bits(x) & int.MaxValue));
            return (x < 0f ? e : 1f) / (1f + e);
        }

        /// <summary>tanh in float32 (FloatMathTests: within 1.5 ulp); the sign of x, so tanh(−0) = −0; ±1 beyond ±9.</summary>
        internal static float Tanh(float x)
        {
            if (float.IsNaN(x)) return x;
            int sign = global::System.BitConverter.SingleToInt32Bits(x) & int.MinValue;
            float a = global::System.BitConverter.Int32BitsToSingle(global::System.BitConverter.SingleToInt32Bits(x) & int.MaxValue);
            float y;
            if (a > TanhSplit)
            {
                y = 1f - 2f / (Exp(a + a) + 1f);
            }
            else
            {
                float z = a * a;
                y = ((((T0 * z + T1) * z + T2) * z + T3) * z + T4) * z * a + a;
            }
            return global::System.BitConverter.Int32BitsToSingle(global::System.BitConverter.SingleToInt32Bits(y) | sign);
        }

        /// <summary>
        /// The sum of <paramref name="n"/> values at start, start + stride, … in the fixed order: lane l (0-7) sums the
        /// values i ≡ l (mod 8) of the first n − n % 8 from +0 in index order, then (l0 + l4) + (l2 + l6) … exactly as
        /// ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)), then the last n % 8 values in index order.
        /// </summary>
        internal static float FixedSum(global::System.ReadOnlySpan<float> v, int start, int n, int stride)
        {
            int whole = n - n % 8, i = 0;
#if QUANTGEN_INTRINSICS
            if (Vector256Path && stride == 1 && whole > 0 && start >= 0 && start + n <= v.Length)
            {
                var acc = global::System.Runtime.Intrinsics.Vector256<float>.Zero;
                for (; i < whole; i += 8) acc += Load8(v, start + i);
                var h = global::System.Runtime.Intrinsics.Vector256.GetLower(acc) + global::System.Runtime.Intrinsics.Vector256.GetUpper(acc);
                float vs = (global::System.Runtime.Intrinsics.Vector128.GetElement(h, 0) + global::System.Runtime.Intrinsics.Vector128.GetElement(h, 2))
                    + (global::System.Runtime.Intrinsics.Vector128.GetElement(h, 1) + global::System.Runtime.Intrinsics.Vector128.GetElement(h, 3));
                for (; i < n; i++) vs += v[start + i * stride];
                return vs;
            }
#endif
            float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f, s4 = 0f, s5 = 0f, s6 = 0f, s7 = 0f;
            for (; i < whole; i += 8)
            {
                int at = start + i * stride;
                s0 += v[at];
                s1 += v[at + stride];
                s2 += v[at + 2 * stride];
                s3 += v[at + 3 * stride];
                s4 += v[at + 4 * stride];
                s5 += v[at + 5 * stride];
                s6 += v[at + 6 * stride];
                s7 += v[at + 7 * stride];
            }
            float s = ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7));
            for (; i < n; i++) s += v[start + i * stride];
            return s;
        }

        /// <summary>
        /// Softmax of each of outer · inner slices of n elements (stride inner) in float32: m the largest value (NaN if
        /// any is NaN), y = <see cref="Exp(float)"/>(x − m), their <see cref="FixedSum"/>, each y divided by it. Within
        /// 1e-5 relative of the reference operator's double computation (FloatKernelTests); x and y may be the same span.
        /// </summary>
        public static void Softmax(global::System.ReadOnlySpan<float> x, global::System.Span<float> y, int outer, int n, int inner)
        {
            for (int o = 0; o < outer; o++)
            {
                int j = 0;
#if QUANTGEN_INTRINSICS
                if (Vector256Path && x.Length >= outer * n * inner && y.Length >= outer * n * inner)
                    j = inner == 1 ? SoftmaxRowVector(x, y, o * n, n) : SoftmaxColumnsVector(x, y, o * n * inner, n, inner);
#endif
                for (; j < inner; j++)
                {
                    int b = o * n * inner + j;
                    float max = float.NegativeInfinity;
                    bool nan = false;
                    for (int i = 0; i < n; i++)
                    {
                        float v = x[b + i * inner];
                        if (v > max) max = v;
                        else if (float.IsNaN(v)) nan = true;
                    }
                    if (nan) max = float.NaN;
                    for (int i = 0; i < n; i++) y[b + i * inner] = Exp(x[b + i * inner] - max);
                    float sum = FixedSum(y, b, n, inner);
                    for (int i = 0; i < n; i++) y[b + i * inner] /= sum;
                }
            }
        }

#if QUANTGEN_INTRINSICS
        /// <summary><see cref="Exp(float)"/> on 8 lanes: the same operations (the clamp as the scalar's test order, NaN lanes pass).</summary>
        private static global::System.Runtime.Intrinsics.Vector256<float> Exp(global::System.Runtime.Intrinsics.Vector256<float> x)
        {
            var lo = global::System.Runtime.Intrinsics.Vector256.Create(ExpMin);
            var hi = global::System.Runtime.Intrinsics.Vector256.Create(ExpMax);
            var magic = global::System.Runtime.Intrinsics.Vector256.Create(RoundMagic);
            var c = Clamp(x, lo, hi);
            var n = c * global::System.Runtime.Intrinsics.Vector256.Create(Log2E) + magic - magic;
            var r = c - n * global::System.Runtime.Intrinsics.Vector256.Create(Ln2Hi) - n * global::System.Runtime.Intrinsics.Vector256.Create(Ln2Lo);
            var p = ((((global::System.Runtime.Intrinsics.Vector256.Create(E0) * r + global::System.Runtime.Intrinsics.Vector256.Create(E1)) * r + global::System.Runtime.Intrinsics.Vector256.Create(E2)) * r
                + global::System.Runtime.Intrinsics.Vector256.Create(E3)) * r + global::System.Runtime.Intrinsics.Vector256.Create(E4)) * r + global::System.Runtime.Intrinsics.Vector256.Create(E5);
            p = p * (r * r) + r + global::System.Runtime.Intrinsics.Vector256.Create(1f);
            var k = global::System.Runtime.Intrinsics.Vector256.ConvertToInt32(n);
            var k1 = global::System.Runtime.Intrinsics.Vector256.ShiftRightArithmetic(k, 1);
            var bias = global::System.Runtime.Intrinsics.Vector256.Create(127);
            var y = p * global::System.Runtime.Intrinsics.Vector256.AsSingle(global::System.Runtime.Intrinsics.Vector256.ShiftLeft(k1 + bias, 23))
                * global::System.Runtime.Intrinsics.Vector256.AsSingle(global::System.Runtime.Intrinsics.Vector256.ShiftLeft(k - k1 + bias, 23));
            return global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(global::System.Runtime.Intrinsics.Vector256.Equals(x, x), y, x);
        }

        /// <summary><see cref="Log(float)"/> on 8 lanes: the same operations, the special cases selected in the scalar's order.</summary>
        private static global::System.Runtime.Intrinsics.Vector256<float> Log(global::System.Runtime.Intrinsics.Vector256<float> x)
        {
            var one = global::System.Runtime.Intrinsics.Vector256.Create(1f);
            var tiny = global::System.Runtime.Intrinsics.Vector256.LessThan(x, global::System.Runtime.Intrinsics.Vector256.Create(MinNormal));
            var s = global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(tiny, x * global::System.Runtime.Intrinsics.Vector256.Create(Two23), x);
            var bits = global::System.Runtime.Intrinsics.Vector256.AsInt32(s);
            var e = global::System.Runtime.Intrinsics.Vector256.ShiftRightArithmetic(bits, 23) - global::System.Runtime.Intrinsics.Vector256.Create(126)
                - (global::System.Runtime.Intrinsics.Vector256.AsInt32(tiny) & global::System.Runtime.Intrinsics.Vector256.Create(23));
            var m = global::System.Runtime.Intrinsics.Vector256.AsSingle((bits & global::System.Runtime.Intrinsics.Vector256.Create(0x007FFFFF)) | global::System.Runtime.Intrinsics.Vector256.Create(0x3F000000));
            var low = global::System.Runtime.Intrinsics.Vector256.LessThan(m, global::System.Runtime.Intrinsics.Vector256.Create(SqrtHalf));
            e += global::System.Runtime.Intrinsics.Vector256.AsInt32(low); // all bits set is −1
            var f = global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(low, m + m - one, m - one);
            var z = f * f;
            var y = (((((((global::System.Runtime.Intrinsics.Vector256.Create(L0) * f + global::System.Runtime.Intrinsics.Vector256.Create(L1)) * f + global::System.Runtime.Intrinsics.Vector256.Create(L2)) * f
                + global::System.Runtime.Intrinsics.Vector256.Create(L3)) * f + global::System.Runtime.Intrinsics.Vector256.Create(L4)) * f + global::System.Runtime.Intrinsics.Vector256.Create(L5)) * f
                + global::System.Runtime.Intrinsics.Vector256.Create(L6)) * f + global::System.Runtime.Intrinsics.Vector256.Create(L7)) * f + global::System.Runtime.Intrinsics.Vector256.Create(L8);
            var fe = global::System.Runtime.Intrinsics.Vector256.ConvertToSingle(e);
            y = y * f * z + fe * global::System.Runtime.Intrinsics.Vector256.Create(Ln2Lo) - global::System.Runtime.Intrinsics.Vector256.Create(0.5f) * z;
            var r = f + y + fe * global::System.Runtime.Intrinsics.Vector256.Create(Ln2Hi);
            var inf = global::System.Runtime.Intrinsics.Vector256.Create(float.PositiveInfinity);
            r = global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(global::System.Runtime.Intrinsics.Vector256.Equals(x, inf), inf, r);
            r = global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(global::System.Runtime.Intrinsics.Vector256.Equals(x, global::System.Runtime.Intrinsics.Vector256<float>.Zero),
                global::System.Runtime.Intrinsics.Vector256.Create(float.NegativeInfinity), r);
            r = global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(global::System.Runtime.Intrinsics.Vector256.LessThan(x, global::System.Runtime.Intrinsics.Vector256<float>.Zero),
                global::System.Runtime.Intrinsics.Vector256.Create(float.NaN), r);
            return global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(global::System.Runtime.Intrinsics.Vector256.Equals(x, x), r, x);
        }

        /// <summary><see cref="Sigmoid(float)"/> on 8 lanes.</summary>
        private static global::System.Runtime.Intrinsics.Vector256<float> Sigmoid(global::System.Runtime.Intrinsics.Vector256<float> x)
        {
            var one = global::System.Runtime.Intrinsics.Vector256.Create(1f);
            var sign = global::System.Runtime.Intrinsics.Vector256.Create(-0f);
            var e = Exp((x & ~sign) ^ sign); // −|x|: the sign bit set, as the scalar negation of |x|
            var y = global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(global::System.Runtime.Intrinsics.Vector256.LessThan(x, global::System.Runtime.Intrinsics.Vector256<float>.Zero), e, one) / (one + e);
            return global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(global::System.Runtime.Intrinsics.Vector256.Equals(x, x), y, x);
        }

        /// <summary><see cref="Tanh(float)"/> on 8 lanes: both branches computed, the scalar's chosen per lane.</summary>
        private static global::System.Runtime.Intrinsics.Vector256<float> Tanh(global::System.Runtime.Intrinsics.Vector256<float> x)
        {
            var signBit = global::System.Runtime.Intrinsics.Vector256.Create(-0f);
            var sign = x & signBit;
            var a = x & ~signBit;
            var one = global::System.Runtime.Intrinsics.Vector256.Create(1f);
            var big = one - global::System.Runtime.Intrinsics.Vector256.Create(2f) / (Exp(a + a) + one);
            var z = a * a;
            var small = ((((global::System.Runtime.Intrinsics.Vector256.Create(T0) * z + global::System.Runtime.Intrinsics.Vector256.Create(T1)) * z + global::System.Runtime.Intrinsics.Vector256.Create(T2)) * z
                + global::System.Runtime.Intrinsics.Vector256.Create(T3)) * z + global::System.Runtime.Intrinsics.Vector256.Create(T4)) * z * a + a;
            var y = global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(global::System.Runtime.Intrinsics.Vector256.GreaterThan(a, global::System.Runtime.Intrinsics.Vector256.Create(TanhSplit)), big, small) | sign;
            return global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(global::System.Runtime.Intrinsics.Vector256.Equals(x, x), y, x);
        }

        /// <summary>Unary's transcendental ops 8 at a time; returns how many it wrote.</summary>
        private static int TranscendentalVector(global::System.ReadOnlySpan<float> x, global::System.Span<float> y, int op)
        {
            int i = 0;
            switch (op)
            {
                case 1: for (; i + 8 <= y.Length; i += 8) Store8(Sigmoid(Load8(x, i)), y, i); break;
                case 2: for (; i + 8 <= y.Length; i += 8) Store8(Tanh(Load8(x, i)), y, i); break;
                case 3: for (; i + 8 <= y.Length; i += 8) Store8(Exp(Load8(x, i)), y, i); break;
                default: for (; i + 8 <= y.Length; i += 8) Store8(Log(Load8(x, i)), y, i); break;
            }
            return i;
        }

        /// <summary>One Softmax slice of n contiguous values at b, 8 lanes at a time; the scalar's max, exps, FixedSum and divisions. Returns 1 (the slice).</summary>
        private static int SoftmaxRowVector(global::System.ReadOnlySpan<float> x, global::System.Span<float> y, int b, int n)
        {
            var vmax = global::System.Runtime.Intrinsics.Vector256.Create(float.NegativeInfinity);
            var nan = global::System.Runtime.Intrinsics.Vector256<float>.Zero;
            int i = 0;
            for (; i + 8 <= n; i += 8)
            {
                var v = Load8(x, b + i);
                vmax = global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(global::System.Runtime.Intrinsics.Vector256.GreaterThan(v, vmax), v, vmax);
                nan |= ~global::System.Runtime.Intrinsics.Vector256.Equals(v, v);
            }
            // The largest value does not depend on the order (only the sign of a zero maximum might, and x − (±0) then
            // differs only for x = ±0, where Exp gives 1 either way).
            float max = float.NegativeInfinity;
            bool any = global::System.Runtime.Intrinsics.Vector256.ExtractMostSignificantBits(nan) != 0;
            for (int l = 0; l < 8; l++)
            {
                float v = global::System.Runtime.Intrinsics.Vector256.GetElement(vmax, l);
                if (v > max) max = v;
            }
            for (; i < n; i++)
            {
                float v = x[b + i];
                if (v > max) max = v;
                else if (float.IsNaN(v)) any = true;
            }
            if (any) max = float.NaN;
            var m = global::System.Runtime.Intrinsics.Vector256.Create(max);
            for (i = 0; i + 8 <= n; i += 8) Store8(Exp(Load8(x, b + i) - m), y, b + i);
            for (; i < n; i++) y[b + i] = Exp(x[b + i] - max);
            float sum = FixedSum(y, b, n, 1);
            var s = global::System.Runtime.Intrinsics.Vector256.Create(sum);
            for (i = 0; i + 8 <= n; i += 8) Store8(Load8(y, b + i) / s, y, b + i);
            for (; i < n; i++) y[b + i] /= sum;
            return 1;
        }

        /// <summary>
        /// Softmax slices j … j + 7 of one outer block (stride inner ≥ 8) in the 8 lanes: per lane the scalar's max, exps,
        /// FixedSum (eight vector partial sums, the same tree, the tail) and divisions. Returns the slices done.
        /// </summary>
        private static int SoftmaxColumnsVector(global::System.ReadOnlySpan<float> x, global::System.Span<float> y, int b0, int n, int inner)
        {
            int j = 0, whole = n - n % 8;
            for (; j + 8 <= inner; j += 8)
            {
                int b = b0 + j;
                var max = global::System.Runtime.Intrinsics.Vector256.Create(float.NegativeInfinity);
                var nan = global::System.Runtime.Intrinsics.Vector256<float>.Zero;
                for (int i = 0; i < n; i++)
                {
                    var v = Load8(x, b + i * inner);
                    max = global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(global::System.Runtime.Intrinsics.Vector256.GreaterThan(v, max), v, max);
                    nan |= ~global::System.Runtime.Intrinsics.Vector256.Equals(v, v);
                }
                max = global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(nan, global::System.Runtime.Intrinsics.Vector256.Create(float.NaN), max);
                for (int i = 0; i < n; i++) Store8(Exp(Load8(x, b + i * inner) - max), y, b + i * inner);
                var s0 = global::System.Runtime.Intrinsics.Vector256<float>.Zero;
                var s1 = s0;
                var s2 = s0;
                var s3 = s0;
                var s4 = s0;
                var s5 = s0;
                var s6 = s0;
                var s7 = s0;
                int at;
                for (int i = 0; i < whole; i += 8)
                {
                    at = b + i * inner;
                    s0 += Load8(y, at);
                    s1 += Load8(y, at + inner);
                    s2 += Load8(y, at + 2 * inner);
                    s3 += Load8(y, at + 3 * inner);
                    s4 += Load8(y, at + 4 * inner);
                    s5 += Load8(y, at + 5 * inner);
                    s6 += Load8(y, at + 6 * inner);
                    s7 += Load8(y, at + 7 * inner);
                }
                var sum = ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7));
                for (int i = whole; i < n; i++) sum += Load8(y, b + i * inner);
                for (int i = 0; i < n; i++)
                {
                    at = b + i * inner;
                    Store8(Load8(y, at) / sum, y, at);
                }
            }
            return j;
        }
#endif
    }
}
