// QuantGen float kernels, SIMD paths (Vector256, 8 floats per step): each computes every output element with exactly
// the operations, in the order, of the scalar loop it replaces in QuantGenFloatKernels.cs (docs/generator.md, "Float
// kernels"), so the results are the same bits. Vectorised across outputs only (columns, positions, elements), never
// across a sum: no reassociation, no fused multiply-add (the JIT does not contract a * b + c).
// Emitted into the consumer's assembly by QuantGen.Generator; absent without QUANTGEN_INTRINSICS (netstandard2.1, Unity).
#nullable enable

namespace QuantGen.Generated
{
    internal static partial class QuantGenFloatKernels
    {
#if QUANTGEN_INTRINSICS
        /// <summary>Whether the float kernels take their Vector256 paths (QuantGenKernels.SimdEnabled and 256-bit hardware).</summary>
        private static bool Vector256Path => QuantGenKernels.SimdEnabled && global::System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated;

        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static global::System.Runtime.Intrinsics.Vector256<float> Load8(global::System.ReadOnlySpan<float> x, int i) =>
            global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(x), (nuint)i);

        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static void Store8(global::System.Runtime.Intrinsics.Vector256<float> v, global::System.Span<float> y, int i) =>
            global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(v, ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(y), (nuint)i);

        /// <summary>A binary operation on one float and on 8 lanes, the same IEEE operations (Binary's op codes 0-3, 5, 6).</summary>
        private interface IBinaryOp
        {
            global::System.Runtime.Intrinsics.Vector256<float> Invoke(global::System.Runtime.Intrinsics.Vector256<float> a, global::System.Runtime.Intrinsics.Vector256<float> b);
        }

        private readonly struct AddOp : IBinaryOp
        {
            public global::System.Runtime.Intrinsics.Vector256<float> Invoke(global::System.Runtime.Intrinsics.Vector256<float> a, global::System.Runtime.Intrinsics.Vector256<float> b) => a + b;
        }

        private readonly struct SubOp : IBinaryOp
        {
            public global::System.Runtime.Intrinsics.Vector256<float> Invoke(global::System.Runtime.Intrinsics.Vector256<float> a, global::System.Runtime.Intrinsics.Vector256<float> b) => a - b;
        }

        private readonly struct MulOp : IBinaryOp
        {
            public global::System.Runtime.Intrinsics.Vector256<float> Invoke(global::System.Runtime.Intrinsics.Vector256<float> a, global::System.Runtime.Intrinsics.Vector256<float> b) => a * b;
        }

        private readonly struct DivOp : IBinaryOp
        {
            public global::System.Runtime.Intrinsics.Vector256<float> Invoke(global::System.Runtime.Intrinsics.Vector256<float> a, global::System.Runtime.Intrinsics.Vector256<float> b) => a / b;
        }

        /// <summary>Max (or Min): NaN in either lane gives a + b, else a &gt; b ? a : b (a &lt; b ? a : b), as the scalar test order.</summary>
        private readonly struct MaxMinOp : IBinaryOp
        {
            private readonly bool _max;

            public MaxMinOp(bool max) => _max = max;

            public global::System.Runtime.Intrinsics.Vector256<float> Invoke(global::System.Runtime.Intrinsics.Vector256<float> a, global::System.Runtime.Intrinsics.Vector256<float> b)
            {
                var ordered = global::System.Runtime.Intrinsics.Vector256.Equals(a, a) & global::System.Runtime.Intrinsics.Vector256.Equals(b, b);
                var pick = _max ? global::System.Runtime.Intrinsics.Vector256.GreaterThan(a, b) : global::System.Runtime.Intrinsics.Vector256.LessThan(a, b);
                return global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(ordered, global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(pick, a, b), a + b);
            }
        }

        /// <summary>BinaryRow's vector part where each operand is contiguous (step 1) or one value (step 0); returns how many outputs it wrote.</summary>
        private static int BinaryRowVector(global::System.ReadOnlySpan<float> a, int offA, int stepA, global::System.ReadOnlySpan<float> b, int offB, int stepB, global::System.Span<float> y, int op)
        {
            if ((uint)stepA > 1 || (uint)stepB > 1 || y.Length < 8) return 0;
            if (offA < 0 || offB < 0 || offA + (y.Length - 1) * stepA >= a.Length || offB + (y.Length - 1) * stepB >= b.Length) return 0;
            switch (op)
            {
                case 0: return BinaryRowVector(default(AddOp), a, offA, stepA, b, offB, stepB, y);
                case 1: return BinaryRowVector(default(SubOp), a, offA, stepA, b, offB, stepB, y);
                case 2: return BinaryRowVector(default(MulOp), a, offA, stepA, b, offB, stepB, y);
                case 3: return BinaryRowVector(default(DivOp), a, offA, stepA, b, offB, stepB, y);
                case 5: return BinaryRowVector(new MaxMinOp(true), a, offA, stepA, b, offB, stepB, y);
                case 6: return BinaryRowVector(new MaxMinOp(false), a, offA, stepA, b, offB, stepB, y);
                case 4 when stepB == 0 && b[offB] == 2f: return BinaryRowVector(default(SquareOp), a, offA, stepA, b, offB, stepB, y);
                case 4 when stepB == 0 && b[offB] == 0.5f: return BinaryRowVector(default(SquareRootOp), a, offA, stepA, b, offB, stepB, y);
                default: return 0; // Pow by any other exponent: in double, scalar.
            }
        }

        /// <summary>
        /// Pow by 2 as a · a: the float product of two floats is the exact square rounded once, which is what
        /// (float)Math.Pow(a, 2) is (the exact square is a double, and pow returns a representable result exactly); NaN,
        /// ±∞ and −0 give pow's NaN, +∞ and +0.
        /// </summary>
        private readonly struct SquareOp : IBinaryOp
        {
            public global::System.Runtime.Intrinsics.Vector256<float> Invoke(global::System.Runtime.Intrinsics.Vector256<float> a, global::System.Runtime.Intrinsics.Vector256<float> b) => a * a;
        }

        /// <summary>
        /// Pow by 0.5 as √a (the float square root, correctly rounded, as the double pow rounded to float is: a float's
        /// square root is never within pow's error of a float rounding boundary), then pow's two special cases: −0 gives
        /// +0 (√−0 + 0), −∞ gives +∞ (√−∞ is NaN). Below zero both are NaN.
        /// </summary>
        private readonly struct SquareRootOp : IBinaryOp
        {
            public global::System.Runtime.Intrinsics.Vector256<float> Invoke(global::System.Runtime.Intrinsics.Vector256<float> a, global::System.Runtime.Intrinsics.Vector256<float> b)
            {
                var infinity = global::System.Runtime.Intrinsics.Vector256.Create(float.PositiveInfinity);
                return global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(global::System.Runtime.Intrinsics.Vector256.Equals(a, -infinity), infinity,
                    global::System.Runtime.Intrinsics.Vector256.Sqrt(a) + global::System.Runtime.Intrinsics.Vector256<float>.Zero);
            }
        }

        private static int BinaryRowVector<TOp>(TOp op, global::System.ReadOnlySpan<float> a, int offA, int stepA, global::System.ReadOnlySpan<float> b, int offB, int stepB, global::System.Span<float> y)
            where TOp : struct, IBinaryOp
        {
            var va = global::System.Runtime.Intrinsics.Vector256.Create(a[offA]);
            var vb = global::System.Runtime.Intrinsics.Vector256.Create(b[offB]);
            int i = 0;
            for (; i + 8 <= y.Length; i += 8)
            {
                if (stepA != 0) va = Load8(a, offA + i);
                if (stepB != 0) vb = Load8(b, offB + i);
                Store8(op.Invoke(va, vb), y, i);
            }
            return i;
        }

        /// <summary>Unary's vector part (the transcendental ops in QuantGenFloatKernels.Math.cs); returns how many it wrote.</summary>
        private static int UnaryVector(global::System.ReadOnlySpan<float> x, global::System.Span<float> y, int op, float alpha, float beta)
        {
            if (x.Length < y.Length) return 0;
            var zero = global::System.Runtime.Intrinsics.Vector256<float>.Zero;
            var one = global::System.Runtime.Intrinsics.Vector256.Create(1f);
            var va = global::System.Runtime.Intrinsics.Vector256.Create(alpha);
            var vb = global::System.Runtime.Intrinsics.Vector256.Create(beta);
            var six = global::System.Runtime.Intrinsics.Vector256.Create(6f);
            var half = global::System.Runtime.Intrinsics.Vector256.Create(0.5f);
            var sign = global::System.Runtime.Intrinsics.Vector256.Create(-0f);
            int i = 0;
            switch (op)
            {
                case 0: // Relu: NaN passes, v > 0 ? v : 0.
                    for (; i + 8 <= y.Length; i += 8)
                    {
                        var v = Load8(x, i);
                        var keep = global::System.Runtime.Intrinsics.Vector256.GreaterThan(v, zero) | ~global::System.Runtime.Intrinsics.Vector256.Equals(v, v);
                        Store8(v & keep, y, i);
                    }
                    break;
                case 5:
                    for (; i + 8 <= y.Length; i += 8) Store8(global::System.Runtime.Intrinsics.Vector256.Sqrt(Load8(x, i)), y, i);
                    break;
                case 6:
                    for (; i + 8 <= y.Length; i += 8) Store8(Load8(x, i) & ~sign, y, i); // the sign bit cleared, as Math.Abs
                    break;
                case 7:
                    for (; i + 8 <= y.Length; i += 8) Store8(Load8(x, i) ^ sign, y, i); // the sign bit flipped, as −x (−0 for 0, not 0 − x)
                    break;
                case 8: // LeakyRelu: v >= 0 ? v : v · alpha.
                    for (; i + 8 <= y.Length; i += 8)
                    {
                        var v = Load8(x, i);
                        Store8(global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(global::System.Runtime.Intrinsics.Vector256.GreaterThanOrEqual(v, zero), v, v * va), y, i);
                    }
                    break;
                case 9: // HardSigmoid: Clamp(alpha · v + beta, 0, 1).
                    for (; i + 8 <= y.Length; i += 8) Store8(Clamp(va * Load8(x, i) + vb, zero, one), y, i);
                    break;
                case 10: // HardSwish: v · Clamp(v / 6 + 0.5, 0, 1).
                    for (; i + 8 <= y.Length; i += 8)
                    {
                        var v = Load8(x, i);
                        Store8(v * Clamp(v / six + half, zero, one), y, i);
                    }
                    break;
                case 11: // Clip to [alpha, beta].
                    for (; i + 8 <= y.Length; i += 8) Store8(Clamp(Load8(x, i), va, vb), y, i);
                    break;
                default: return TranscendentalVector(x, y, op); // Sigmoid, Tanh, Exp, Log: QuantGenFloatKernels.Math.cs
            }
            return i;
        }

        /// <summary>Clamp's order of tests per lane: value &lt; min ? min : value &gt; max ? max : value (NaN passes).</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static global::System.Runtime.Intrinsics.Vector256<float> Clamp(global::System.Runtime.Intrinsics.Vector256<float> v, global::System.Runtime.Intrinsics.Vector256<float> min, global::System.Runtime.Intrinsics.Vector256<float> max) =>
            global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(global::System.Runtime.Intrinsics.Vector256.LessThan(v, min), min,
                global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(global::System.Runtime.Intrinsics.Vector256.GreaterThan(v, max), max, v));

        /// <summary>
        /// row[j] += b[bStart + p · n + j] · s_p for p = 0 … k − 1 in order, s_p = a[aStart + p · aStep] (times alpha when
        /// <paramref name="scale"/>, rounded first, as the scalar loops), for the columns j of whole blocks of 8, each kept
        /// in a register over all p (32 columns, then 8, at a time). Returns the number of columns done.
        /// </summary>
        private static int AccumulateRows(global::System.ReadOnlySpan<float> a, int aStart, int aStep, int k, bool scale, float alpha,
            global::System.ReadOnlySpan<float> b, int bStart, int n, global::System.Span<float> row)
        {
            if (n < 8 || k < 1 || row.Length < n || aStart < 0 || aStart + (k - 1) * aStep >= a.Length || bStart < 0 || bStart + k * n > b.Length) return 0;
            int j = 0;
            for (; j + 32 <= n; j += 32)
            {
                var r0 = Load8(row, j);
                var r1 = Load8(row, j + 8);
                var r2 = Load8(row, j + 16);
                var r3 = Load8(row, j + 24);
                for (int p = 0; p < k; p++)
                {
                    float s = a[aStart + p * aStep];
                    if (scale) s *= alpha;
                    var vs = global::System.Runtime.Intrinsics.Vector256.Create(s);
                    int at = bStart + p * n + j;
                    r0 += Load8(b, at) * vs;
                    r1 += Load8(b, at + 8) * vs;
                    r2 += Load8(b, at + 16) * vs;
                    r3 += Load8(b, at + 24) * vs;
                }
                Store8(r0, row, j);
                Store8(r1, row, j + 8);
                Store8(r2, row, j + 16);
                Store8(r3, row, j + 24);
            }
            for (; j + 8 <= n; j += 8)
            {
                var r = Load8(row, j);
                for (int p = 0; p < k; p++)
                {
                    float s = a[aStart + p * aStep];
                    if (scale) s *= alpha;
                    r += Load8(b, bStart + p * n + j) * global::System.Runtime.Intrinsics.Vector256.Create(s);
                }
                Store8(r, row, j);
            }
            return j;
        }

        /// <summary>
        /// Conv, 8 output positions (row-major over [oh, ow], across rows) × up to 8 output channels at a time, each
        /// output's products summed in (c, kh, kw) order from 0 as the scalar loop. A tap outside the input adds +0 in
        /// its lane (the product masked to +0): the sum, which starts at +0 and so is never −0, is unchanged, as when the
        /// scalar loop skips the tap. 8 positions of one output row whose tap lies inside the input are one load per tap
        /// at stride 1, 8 loads straight into the vector at a larger stride (the melspectrogram's 160); otherwise the
        /// lanes are checked one by one.
        /// </summary>
        private static void ConvVector(global::System.ReadOnlySpan<float> x, global::System.ReadOnlySpan<float> w, global::System.ReadOnlySpan<float> bias, global::System.Span<float> y,
            int n, int c, int h, int width, int m, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft, int dh, int dw, int group)
        {
            int cg = c / group, mg = m / group, taps = cg * kh * kw, plane = oh * ow;
            global::System.Span<int> baseY = stackalloc int[8];
            global::System.Span<int> baseX = stackalloc int[8];
            global::System.Span<float> lanes = stackalloc float[8];
            global::System.Span<float> tail = stackalloc float[8];
            for (int b = 0; b < n; b++)
                for (int g = 0; g < group; g++)
                {
                    var input = x.Slice((b * c + g * cg) * h * width, cg * h * width);
                    for (int p0 = 0; p0 < plane; p0 += 8)
                    {
                        int count = global::System.Math.Min(8, plane - p0);
                        for (int l = 0; l < 8; l++)
                        {
                            int p = p0 + (l < count ? l : 0);
                            baseY[l] = p / ow * sh - padTop;
                            baseX[l] = p % ow * sw - padLeft;
                        }
                        // One output row: lane l reads column baseX[0] + l · sw of the same input row.
                        bool row = count == 8 && p0 / ow == (p0 + 7) / ow;
                        int o = g * mg, end = (g + 1) * mg;
                        for (; o + 8 <= end; o += 8) ConvChannels(input, w, o, 8, taps, cg, h, width, kh, kw, dh, dw, sw, baseY, baseX, count, row, lanes, bias, y, (b * m + o) * plane + p0, plane, tail);
                        for (; o < end; o++) ConvChannels(input, w, o, 1, taps, cg, h, width, kh, kw, dh, dw, sw, baseY, baseX, count, row, lanes, bias, y, (b * m + o) * plane + p0, plane, tail);
                    }
                }
        }

        /// <summary>
        /// ConvVector's inner loop for channels o … o + channels − 1 (8 or 1) at one block of positions: the accumulators
        /// stay in registers over all taps, then the bias is added and the count valid lanes are stored.
        /// </summary>
        private static void ConvChannels(global::System.ReadOnlySpan<float> input, global::System.ReadOnlySpan<float> w, int o, int channels, int taps, int cg, int h, int width,
            int kh, int kw, int dh, int dw, int sw, global::System.Span<int> baseY, global::System.Span<int> baseX, int count, bool row, global::System.Span<float> lanes,
            global::System.ReadOnlySpan<float> bias, global::System.Span<float> y, int at, int plane, global::System.Span<float> tail)
        {
            var a0 = global::System.Runtime.Intrinsics.Vector256<float>.Zero;
            var a1 = a0;
            var a2 = a0;
            var a3 = a0;
            var a4 = a0;
            var a5 = a0;
            var a6 = a0;
            var a7 = a0;
            var weights = w.Slice(o * taps, channels * taps);
            for (int ci = 0; ci < cg; ci++)
            {
                var source = input.Slice(ci * h * width, h * width);
                for (int ky = 0; ky < kh; ky++)
                    for (int kx = 0; kx < kw; kx++)
                    {
                        int t = (ci * kh + ky) * kw + kx;
                        global::System.Runtime.Intrinsics.Vector256<float> v;
                        var mask = global::System.Runtime.Intrinsics.Vector256<float>.AllBitsSet;
                        bool masked = false;
                        int iy0 = baseY[0] + ky * dh, ix0 = baseX[0] + kx * dw;
                        if (row && (iy0 < 0 || iy0 >= h)) continue; // the row's taps all outside: skipped, as the scalar loop does
                        if (row && ix0 >= 0 && ix0 + 7 * sw < width)
                        {
                            int at0 = iy0 * width + ix0;
                            v = sw == 1 ? Load8(source, at0) : global::System.Runtime.Intrinsics.Vector256.Create(source[at0], source[at0 + sw], source[at0 + 2 * sw],
                                source[at0 + 3 * sw], source[at0 + 4 * sw], source[at0 + 5 * sw], source[at0 + 6 * sw], source[at0 + 7 * sw]);
                        }
                        else
                        {
                            int valid = 0;
                            for (int l = 0; l < 8; l++)
                            {
                                int iy = baseY[l] + ky * dh, ix = baseX[l] + kx * dw;
                                bool inside = l < count && iy >= 0 && iy < h && ix >= 0 && ix < width;
                                lanes[l] = inside ? source[iy * width + ix] : 0f;
                                if (inside) valid |= 1 << l;
                            }
                            if (valid == 0) continue; // every lane outside: the scalar loop skips the tap for all of them
                            v = Load8(lanes, 0);
                            if (valid != 0xFF)
                            {
                                masked = true;
                                mask = global::System.Runtime.Intrinsics.Vector256.AsSingle(global::System.Runtime.Intrinsics.Vector256.Create(
                                    -(valid & 1), -(valid >> 1 & 1), -(valid >> 2 & 1), -(valid >> 3 & 1), -(valid >> 4 & 1), -(valid >> 5 & 1), -(valid >> 6 & 1), -(valid >> 7 & 1)));
                            }
                        }
                        a0 += Product(v, weights[t], masked, mask);
                        if (channels == 8)
                        {
                            a1 += Product(v, weights[taps + t], masked, mask);
                            a2 += Product(v, weights[2 * taps + t], masked, mask);
                            a3 += Product(v, weights[3 * taps + t], masked, mask);
                            a4 += Product(v, weights[4 * taps + t], masked, mask);
                            a5 += Product(v, weights[5 * taps + t], masked, mask);
                            a6 += Product(v, weights[6 * taps + t], masked, mask);
                            a7 += Product(v, weights[7 * taps + t], masked, mask);
                        }
                    }
            }
            StoreConv(a0, bias, o, y, at, count, tail);
            if (channels != 8) return;
            StoreConv(a1, bias, o + 1, y, at + plane, count, tail);
            StoreConv(a2, bias, o + 2, y, at + 2 * plane, count, tail);
            StoreConv(a3, bias, o + 3, y, at + 3 * plane, count, tail);
            StoreConv(a4, bias, o + 4, y, at + 4 * plane, count, tail);
            StoreConv(a5, bias, o + 5, y, at + 5 * plane, count, tail);
            StoreConv(a6, bias, o + 6, y, at + 6 * plane, count, tail);
            StoreConv(a7, bias, o + 7, y, at + 7 * plane, count, tail);
        }

        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static global::System.Runtime.Intrinsics.Vector256<float> Product(global::System.Runtime.Intrinsics.Vector256<float> v, float weight, bool masked, global::System.Runtime.Intrinsics.Vector256<float> mask)
        {
            var product = v * global::System.Runtime.Intrinsics.Vector256.Create(weight);
            return masked ? product & mask : product;
        }

        /// <summary>acc (+ bias[o] when there is a bias, as the scalar loop) to y[at …], count lanes.</summary>
        private static void StoreConv(global::System.Runtime.Intrinsics.Vector256<float> acc, global::System.ReadOnlySpan<float> bias, int o, global::System.Span<float> y, int at, int count, global::System.Span<float> tail)
        {
            if (bias.Length != 0) acc += global::System.Runtime.Intrinsics.Vector256.Create(bias[o]);
            if (count == 8)
            {
                global::System.Runtime.Intrinsics.Vector256.CopyTo(acc, y.Slice(at, 8));
                return;
            }
            global::System.Runtime.Intrinsics.Vector256.CopyTo(acc, tail);
            tail.Slice(0, count).CopyTo(y.Slice(at, count));
        }

        /// <summary>
        /// ScatterRow's vector part, 8 input columns at a time; returns the first column not done. Step 1: output[ix + shift]
        /// += input[ix] · weight. Step 2 (AVX): the 8 products spread over 16 outputs, each to its even (or odd) slot and
        /// +0 to the slot between, which belongs to another kernel column's pass: adding +0 leaves every sum unchanged,
        /// since a sum that starts at +0 (the cleared output) is never −0.
        /// </summary>
        private static int ScatterRowVector(global::System.ReadOnlySpan<float> input, int first, int last, float weight, global::System.Span<float> output, int shift, int step)
        {
            if (last >= input.Length || last * step + shift >= output.Length || first * step + shift < 0) return first;
            var vw = global::System.Runtime.Intrinsics.Vector256.Create(weight);
            int ix = first;
            if (step == 1)
                for (; ix + 7 <= last; ix += 8) Store8(Load8(output, ix + shift) + Load8(input, ix) * vw, output, ix + shift);
            else if (step == 2 && global::System.Runtime.Intrinsics.X86.Avx.IsSupported)
            {
                var zero = global::System.Runtime.Intrinsics.Vector256<float>.Zero;
                // The 16 slots from 2 · ix + shift must lie in the output row: through the last column's odd neighbour.
                for (; ix + 7 <= last && 2 * ix + shift + 16 <= output.Length; ix += 8)
                {
                    var product = Load8(input, ix) * vw;
                    var low = global::System.Runtime.Intrinsics.X86.Avx.UnpackLow(product, zero);
                    var high = global::System.Runtime.Intrinsics.X86.Avx.UnpackHigh(product, zero);
                    int at = 2 * ix + shift;
                    Store8(Load8(output, at) + global::System.Runtime.Intrinsics.X86.Avx.Permute2x128(low, high, 0x20), output, at);
                    Store8(Load8(output, at + 8) + global::System.Runtime.Intrinsics.X86.Avx.Permute2x128(low, high, 0x31), output, at + 8);
                }
            }
            return ix;
        }

        /// <summary>
        /// GlobalMaxPool of one plane of at least 8 values, 8 lanes at a time (the last block overlapping the one before).
        /// Only where the answer does not depend on the order: no NaN, and a largest value that is not zero (±0 compare
        /// equal and the scalar loop keeps the first); otherwise false and the scalar loop decides.
        /// </summary>
        private static bool MaxVector(global::System.ReadOnlySpan<float> plane, out float max)
        {
            max = 0f;
            if (plane.Length < 8) return false;
            var acc = Load8(plane, 0);
            var unordered = global::System.Runtime.Intrinsics.Vector256<float>.Zero;
            for (int i = 0; i < plane.Length; i += 8)
            {
                var v = Load8(plane, i + 8 <= plane.Length ? i : plane.Length - 8);
                unordered |= ~global::System.Runtime.Intrinsics.Vector256.Equals(v, v);
                acc = global::System.Runtime.Intrinsics.Vector256.ConditionalSelect(global::System.Runtime.Intrinsics.Vector256.GreaterThan(v, acc), v, acc);
            }
            if (unordered != global::System.Runtime.Intrinsics.Vector256<float>.Zero) return false;
            max = global::System.Runtime.Intrinsics.Vector256.GetElement(acc, 0);
            for (int l = 1; l < 8; l++)
            {
                float lane = global::System.Runtime.Intrinsics.Vector256.GetElement(acc, l);
                max = lane > max ? lane : max;
            }
            return max != 0f;
        }

        /// <summary>
        /// Gemm with B transposed ([n, k]), columns in blocks of 8: a block's B values, k at a time up to 256, copied into a
        /// [p, 8] tile on the stack (so the 8 columns' values of one p are adjacent; 8 × 8 at a time by an in-register
        /// transpose with AVX, element by element for the last p and without it), then every row accumulates the tile
        /// through AccumulateRows, in p order as the scalar loop (a row's partial sums wait in y between tiles). Returns
        /// the number of columns done.
        /// </summary>
        private static int GemmTransposedVector(global::System.ReadOnlySpan<float> a, global::System.ReadOnlySpan<float> b, global::System.Span<float> y,
            int m, int k, int n, int transA, float alpha)
        {
            const int Depth = 256;
            if (n < 8 || k < 1 || a.Length < m * k || b.Length < n * k || y.Length < m * n) return 0;
            global::System.Span<float> tile = stackalloc float[Depth * 8];
            int j = 0;
            for (; j + 8 <= n; j += 8)
                for (int p0 = 0; p0 < k; p0 += Depth)
                {
                    int depth = global::System.Math.Min(Depth, k - p0), p = 0;
                    if (global::System.Runtime.Intrinsics.X86.Avx.IsSupported)
                        for (; p + 8 <= depth; p += 8) Transpose8(b, j * k + p0 + p, k, tile, p * 8);
                    for (; p < depth; p++)
                        for (int l = 0; l < 8; l++)
                            tile[p * 8 + l] = b[(j + l) * k + p0 + p];
                    for (int i = 0; i < m; i++)
                        AccumulateRows(a, transA != 0 ? p0 * m + i : i * k + p0, transA != 0 ? m : 1, depth, alpha != 1f, alpha, tile, 0, 8, y.Slice(i * n + j, 8));
                }
            return j;
        }

        /// <summary>
        /// The 8 × 8 block of x whose row r starts at start + r · pitch, transposed into y from at (row q of y = column q of
        /// the block): unpack, shuffle, then swap 128-bit halves (AVX).
        /// </summary>
        private static void Transpose8(global::System.ReadOnlySpan<float> x, int start, int pitch, global::System.Span<float> y, int at)
        {
            var r0 = Load8(x, start);
            var r1 = Load8(x, start + pitch);
            var r2 = Load8(x, start + 2 * pitch);
            var r3 = Load8(x, start + 3 * pitch);
            var r4 = Load8(x, start + 4 * pitch);
            var r5 = Load8(x, start + 5 * pitch);
            var r6 = Load8(x, start + 6 * pitch);
            var r7 = Load8(x, start + 7 * pitch);
            // Pairs of rows interleaved, then quadruples: per 128-bit half, lane q of rows 0-3 (4-7) side by side.
            var t0 = global::System.Runtime.Intrinsics.X86.Avx.UnpackLow(r0, r1);
            var t1 = global::System.Runtime.Intrinsics.X86.Avx.UnpackHigh(r0, r1);
            var t2 = global::System.Runtime.Intrinsics.X86.Avx.UnpackLow(r2, r3);
            var t3 = global::System.Runtime.Intrinsics.X86.Avx.UnpackHigh(r2, r3);
            var t4 = global::System.Runtime.Intrinsics.X86.Avx.UnpackLow(r4, r5);
            var t5 = global::System.Runtime.Intrinsics.X86.Avx.UnpackHigh(r4, r5);
            var t6 = global::System.Runtime.Intrinsics.X86.Avx.UnpackLow(r6, r7);
            var t7 = global::System.Runtime.Intrinsics.X86.Avx.UnpackHigh(r6, r7);
            var u0 = global::System.Runtime.Intrinsics.X86.Avx.Shuffle(t0, t2, 0x44);
            var u1 = global::System.Runtime.Intrinsics.X86.Avx.Shuffle(t0, t2, 0xEE);
            var u2 = global::System.Runtime.Intrinsics.X86.Avx.Shuffle(t1, t3, 0x44);
            var u3 = global::System.Runtime.Intrinsics.X86.Avx.Shuffle(t1, t3, 0xEE);
            var u4 = global::System.Runtime.Intrinsics.X86.Avx.Shuffle(t4, t6, 0x44);
            var u5 = global::System.Runtime.Intrinsics.X86.Avx.Shuffle(t4, t6, 0xEE);
            var u6 = global::System.Runtime.Intrinsics.X86.Avx.Shuffle(t5, t7, 0x44);
            var u7 = global::System.Runtime.Intrinsics.X86.Avx.Shuffle(t5, t7, 0xEE);
            Store8(global::System.Runtime.Intrinsics.X86.Avx.Permute2x128(u0, u4, 0x20), y, at);
            Store8(global::System.Runtime.Intrinsics.X86.Avx.Permute2x128(u1, u5, 0x20), y, at + 8);
            Store8(global::System.Runtime.Intrinsics.X86.Avx.Permute2x128(u2, u6, 0x20), y, at + 16);
            Store8(global::System.Runtime.Intrinsics.X86.Avx.Permute2x128(u3, u7, 0x20), y, at + 24);
            Store8(global::System.Runtime.Intrinsics.X86.Avx.Permute2x128(u0, u4, 0x31), y, at + 32);
            Store8(global::System.Runtime.Intrinsics.X86.Avx.Permute2x128(u1, u5, 0x31), y, at + 40);
            Store8(global::System.Runtime.Intrinsics.X86.Avx.Permute2x128(u2, u6, 0x31), y, at + 48);
            Store8(global::System.Runtime.Intrinsics.X86.Avx.Permute2x128(u3, u7, 0x31), y, at + 56);
        }

        /// <summary>ChannelAffine's plane: (float)(x · f) + s per element, 8 at a time; returns how many it wrote.</summary>
        private static int ChannelAffineVector(global::System.ReadOnlySpan<float> x, global::System.Span<float> y, float f, float s)
        {
            if (x.Length < y.Length) return 0;
            var vf = global::System.Runtime.Intrinsics.Vector256.Create(f);
            var vs = global::System.Runtime.Intrinsics.Vector256.Create(s);
            int i = 0;
            for (; i + 8 <= y.Length; i += 8) Store8(Load8(x, i) * vf + vs, y, i);
            return i;
        }

        /// <summary>
        /// LayerNorm's last pass over one row, 4 doubles at a time: (x − mean) · inverse · scale + bias in double (scale 1
        /// and bias 0 where absent, as the scalar expression), rounded to float (vcvtpd2ps, to nearest even, as the cast);
        /// returns how many it wrote.
        /// </summary>
        private static int LayerNormRowVector(global::System.ReadOnlySpan<float> x, global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> bias, global::System.Span<float> y,
            double mean, double inverse)
        {
            if (!global::System.Runtime.Intrinsics.X86.Avx.IsSupported || x.Length < y.Length || scale.Length > 1 && scale.Length < y.Length || bias.Length > 1 && bias.Length < y.Length) return 0;
            var vm = global::System.Runtime.Intrinsics.Vector256.Create(mean);
            var vi = global::System.Runtime.Intrinsics.Vector256.Create(inverse);
            var one = global::System.Runtime.Intrinsics.Vector256.Create(scale.Length == 0 ? 1.0 : scale[0]);
            var zero = global::System.Runtime.Intrinsics.Vector256.Create(bias.Length == 0 ? 0.0 : bias[0]);
            int i = 0;
            for (; i + 4 <= y.Length; i += 4)
            {
                var v = Widen4(x, i);
                var s = scale.Length > 1 ? Widen4(scale, i) : one;
                var t = bias.Length > 1 ? Widen4(bias, i) : zero;
                var r = global::System.Runtime.Intrinsics.X86.Avx.ConvertToVector128Single((v - vm) * vi * s + t);
                global::System.Runtime.Intrinsics.Vector128.StoreUnsafe(r, ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(y), (nuint)i);
            }
            return i;
        }

        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static global::System.Runtime.Intrinsics.Vector256<double> Widen4(global::System.ReadOnlySpan<float> x, int i) =>
            global::System.Runtime.Intrinsics.X86.Avx.ConvertToVector256Double(
                global::System.Runtime.Intrinsics.Vector128.LoadUnsafe(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(x), (nuint)i));
#endif
    }
}
