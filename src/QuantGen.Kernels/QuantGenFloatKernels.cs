// QuantGen float kernels: the layers of a float island (ONNX nodes no quantized kernel covers), in float32, with the
// reference operators' semantics and, where they are exact, their order of operations (docs/generator.md, "Float kernels").
// Emitted into the consumer's assembly by QuantGen.Generator; shapes and attributes are the call's arguments.
#nullable enable

namespace QuantGen.Generated
{
    /// <summary>Float32 kernels of the float layers (docs/artifact.md, "Float layers"): allocation-free, span-based.</summary>
    internal static partial class QuantGenFloatKernels
    {
        /// <summary>
        /// y = a op b with numpy broadcasting: <paramref name="shape"/> is the output's, the strides are each operand's
        /// aligned to it (0 on a broadcast axis). op: 0 Add, 1 Sub, 2 Mul, 3 Div, 4 Pow (in double; by a broadcast 2 or 0.5
        /// the SIMD path squares or takes the float square root, the same bits), 5 Max, 6 Min (NaN propagates as a + b).
        /// </summary>
        public static void Binary(global::System.ReadOnlySpan<float> a, global::System.ReadOnlySpan<float> b, global::System.Span<float> y,
            global::System.ReadOnlySpan<int> shape, global::System.ReadOnlySpan<int> aStrides, global::System.ReadOnlySpan<int> bStrides, int op)
        {
            int rank = shape.Length, inner = shape[rank - 1], innerA = aStrides[rank - 1], innerB = bStrides[rank - 1];
            if (y.Length == 0) return;
            global::System.Span<int> index = stackalloc int[rank];
            int offA = 0, offB = 0;
            for (int o = 0; o < y.Length; o += inner)
            {
                BinaryRow(a, offA, innerA, b, offB, innerB, y.Slice(o, inner), op);
                for (int d = rank - 2; d >= 0; d--)
                {
                    index[d]++;
                    offA += aStrides[d];
                    offB += bStrides[d];
                    if (index[d] < shape[d]) break;
                    offA -= aStrides[d] * shape[d];
                    offB -= bStrides[d] * shape[d];
                    index[d] = 0;
                }
            }
        }

        private static void BinaryRow(global::System.ReadOnlySpan<float> a, int offA, int stepA, global::System.ReadOnlySpan<float> b, int offB, int stepB, global::System.Span<float> y, int op)
        {
            int start = 0;
#if QUANTGEN_INTRINSICS
            if (Vector256Path) start = BinaryRowVector(a, offA, stepA, b, offB, stepB, y, op);
#endif
            switch (op)
            {
                case 0: for (int i = start; i < y.Length; i++) y[i] = a[offA + i * stepA] + b[offB + i * stepB]; break;
                case 1: for (int i = start; i < y.Length; i++) y[i] = a[offA + i * stepA] - b[offB + i * stepB]; break;
                case 2: for (int i = start; i < y.Length; i++) y[i] = a[offA + i * stepA] * b[offB + i * stepB]; break;
                case 3: for (int i = start; i < y.Length; i++) y[i] = a[offA + i * stepA] / b[offB + i * stepB]; break;
                case 4: for (int i = start; i < y.Length; i++) y[i] = (float)global::System.Math.Pow(a[offA + i * stepA], b[offB + i * stepB]); break;
                case 5:
                    for (int i = start; i < y.Length; i++)
                    {
                        float x = a[offA + i * stepA], z = b[offB + i * stepB];
                        y[i] = float.IsNaN(x) || float.IsNaN(z) ? x + z : x > z ? x : z;
                    }
                    break;
                default:
                    for (int i = start; i < y.Length; i++)
                    {
                        float x = a[offA + i * stepA], z = b[offB + i * stepB];
                        y[i] = float.IsNaN(x) || float.IsNaN(z) ? x + z : x < z ? x : z;
                    }
                    break;
            }
        }

        /// <summary>
        /// Elementwise functions. op: 0 Relu, 1 Sigmoid, 2 Tanh, 3 Exp, 4 Log, 5 Sqrt, 6 Abs, 7 Neg, 8 LeakyRelu (slope
        /// alpha), 9 HardSigmoid (clamp(alpha·x + beta, 0, 1)), 10 HardSwish, 11 Clip to [alpha, beta].
        /// </summary>
        public static void Unary(global::System.ReadOnlySpan<float> x, global::System.Span<float> y, int op, float alpha, float beta)
        {
            int start = 0;
#if QUANTGEN_INTRINSICS
            if (Vector256Path) start = UnaryVector(x, y, op, alpha, beta);
#endif
            switch (op)
            {
                case 0: for (int i = start; i < y.Length; i++) { float v = x[i]; y[i] = float.IsNaN(v) ? v : v > 0f ? v : 0f; } break;
                case 1: for (int i = start; i < y.Length; i++) y[i] = Sigmoid(x[i]); break; // QuantGenFloatKernels.Math.cs
                case 2: for (int i = start; i < y.Length; i++) y[i] = Tanh(x[i]); break;
                case 3: for (int i = start; i < y.Length; i++) y[i] = Exp(x[i]); break;
                case 4: for (int i = start; i < y.Length; i++) y[i] = Log(x[i]); break;
                case 5: for (int i = start; i < y.Length; i++) y[i] = global::System.MathF.Sqrt(x[i]); break;
                case 6: for (int i = start; i < y.Length; i++) y[i] = global::System.Math.Abs(x[i]); break;
                case 7: for (int i = start; i < y.Length; i++) y[i] = -x[i]; break;
                case 8: for (int i = start; i < y.Length; i++) { float v = x[i]; y[i] = v >= 0 ? v : v * alpha; } break;
                case 9: for (int i = start; i < y.Length; i++) y[i] = Clamp(alpha * x[i] + beta, 0f, 1f); break;
                case 10: for (int i = start; i < y.Length; i++) { float v = x[i]; y[i] = v * Clamp(v / 6f + 0.5f, 0f, 1f); } break;
                default: for (int i = start; i < y.Length; i++) { float v = x[i]; y[i] = v < alpha ? alpha : v > beta ? beta : v; } break;
            }
        }

        /// <summary>Clip with bounds computed at run time: one value each, an empty span for no bound.</summary>
        public static void ClipBounds(global::System.ReadOnlySpan<float> x, global::System.ReadOnlySpan<float> min, global::System.ReadOnlySpan<float> max, global::System.Span<float> y)
        {
            float lo = min.Length == 0 ? float.NegativeInfinity : min[0], hi = max.Length == 0 ? float.PositiveInfinity : max[0];
            Unary(x, y, 11, lo, hi);
        }

        /// <summary>Math.Clamp's order of tests (NaN passes through).</summary>
        private static float Clamp(float value, float min, float max) => value < min ? min : value > max ? max : value;

        /// <summary>y in row-major order over <paramref name="shape"/>, element i read at offset + Σ index[d] · strides[d] (Transpose, Slice).</summary>
        public static void StridedCopy(global::System.ReadOnlySpan<float> x, global::System.Span<float> y, global::System.ReadOnlySpan<int> shape, global::System.ReadOnlySpan<int> strides, int offset)
        {
            if (y.Length == 0) return;
            int rank = shape.Length, inner = shape[rank - 1], step = strides[rank - 1];
            global::System.Span<int> index = stackalloc int[rank];
            int source = offset;
            for (int o = 0; o < y.Length; o += inner)
            {
                if (step == 1) x.Slice(source, inner).CopyTo(y.Slice(o, inner));
                else for (int i = 0; i < inner; i++) y[o + i] = x[source + i * step];
                for (int d = rank - 2; d >= 0; d--)
                {
                    index[d]++;
                    source += strides[d];
                    if (index[d] < shape[d]) break;
                    source -= strides[d] * shape[d];
                    index[d] = 0;
                }
            }
        }

        /// <summary>Concat, one input: its outer blocks of <paramref name="block"/> elements to y at o · outBlock + offset.</summary>
        public static void CopyBlocks(global::System.ReadOnlySpan<float> x, global::System.Span<float> y, int outer, int block, int outBlock, int offset)
        {
            for (int o = 0; o < outer; o++) x.Slice(o * block, block).CopyTo(y.Slice(o * outBlock + offset, block));
        }

        /// <summary>
        /// Batched matrix product: for batch i, y[i] [m, n] = a [m, k] at aOffsets[i] times b [k, n] at bOffsets[i], each
        /// sum in k order from 0 (the reference operator's order).
        /// </summary>
        public static void MatMul(global::System.ReadOnlySpan<float> a, global::System.ReadOnlySpan<float> b, global::System.Span<float> y,
            global::System.ReadOnlySpan<int> aOffsets, global::System.ReadOnlySpan<int> bOffsets, int m, int k, int n)
        {
            for (int batch = 0; batch < aOffsets.Length; batch++)
            {
                var output = y.Slice(batch * m * n, m * n);
                output.Clear();
                for (int i = 0; i < m; i++)
                {
                    var row = output.Slice(i * n, n);
                    var aRow = a.Slice(aOffsets[batch] + i * k, k);
                    int start = 0;
#if QUANTGEN_INTRINSICS
                    if (Vector256Path) start = AccumulateRows(aRow, 0, 1, k, false, 1f, b, bOffsets[batch], n, row);
#endif
                    for (int p = 0; p < k; p++)
                    {
                        float s = aRow[p];
                        var bRow = b.Slice(bOffsets[batch] + p * n, n);
                        for (int j = start; j < n; j++) row[j] += bRow[j] * s;
                    }
                }
            }
        }

        /// <summary>
        /// 2-D convolution in float (1-D as H = 1): per output, the products summed in (c, kh, kw) order from 0, positions
        /// outside the input skipped, then the bias (empty span: none) added.
        /// </summary>
        public static void Conv(global::System.ReadOnlySpan<float> x, global::System.ReadOnlySpan<float> w, global::System.ReadOnlySpan<float> bias, global::System.Span<float> y,
            int n, int c, int h, int width, int m, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft, int dh, int dw, int group)
        {
#if QUANTGEN_INTRINSICS
            if (Vector256Path && x.Length >= n * c * h * width && w.Length >= m * (c / group) * kh * kw && y.Length >= n * m * oh * ow && (bias.Length == 0 || bias.Length >= m))
            {
                ConvVector(x, w, bias, y, n, c, h, width, m, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw, group);
                return;
            }
#endif
            int cg = c / group, mg = m / group;
            for (int b = 0; b < n; b++)
                for (int o = 0; o < m; o++)
                {
                    int g = o / mg;
                    var kernel = w.Slice(o * cg * kh * kw, cg * kh * kw);
                    for (int oy = 0; oy < oh; oy++)
                        for (int ox = 0; ox < ow; ox++)
                        {
                            float acc = 0;
                            for (int ci = 0; ci < cg; ci++)
                            {
                                var plane = x.Slice((b * c + g * cg + ci) * h * width, h * width);
                                for (int ky = 0; ky < kh; ky++)
                                {
                                    int iy = oy * sh - padTop + ky * dh;
                                    if (iy < 0 || iy >= h) continue;
                                    for (int kx = 0; kx < kw; kx++)
                                    {
                                        int ix = ox * sw - padLeft + kx * dw;
                                        if (ix >= 0 && ix < width) acc += kernel[(ci * kh + ky) * kw + kx] * plane[iy * width + ix];
                                    }
                                }
                            }
                            y[((b * m + o) * oh + oy) * ow + ox] = bias.Length == 0 ? acc : acc + bias[o];
                        }
                }
        }

        /// <summary>
        /// 2-D transposed convolution in float (1-D as H = 1), weights [C, M/G, KH, KW]: every output element sums its
        /// products in the reference operator's order (input channel, then input position row-major), then the bias
        /// (empty span: none) is added. Computed row by row: per (input row, kernel row) an output row gets one product per
        /// kernel column from each input column, kernel columns in descending order, which for every output element is
        /// the ascending order of the input columns that reach it (ox = ix · sw − padLeft + kx · dw); each such pass is
        /// one multiply-add over a run of input columns, whose bounds are computed once instead of tested per product.
        /// </summary>
        public static void ConvTranspose(global::System.ReadOnlySpan<float> x, global::System.ReadOnlySpan<float> w, global::System.ReadOnlySpan<float> bias, global::System.Span<float> y,
            int n, int c, int h, int width, int m, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft, int dh, int dw, int group)
        {
            int cg = c / group, mg = m / group, plane = oh * ow;
            y.Clear();
            for (int b = 0; b < n; b++)
                for (int ic = 0; ic < c; ic++)
                {
                    int g = ic / cg;
                    var input = x.Slice((b * c + ic) * h * width, h * width);
                    for (int mo = 0; mo < mg; mo++)
                    {
                        var kernel = w.Slice((ic * mg + mo) * kh * kw, kh * kw);
                        var output = y.Slice((b * m + g * mg + mo) * plane, plane);
                        for (int iy = 0; iy < h; iy++)
                            for (int ky = 0; ky < kh; ky++)
                            {
                                int oy = iy * sh - padTop + ky * dh;
                                if (oy < 0 || oy >= oh) continue;
                                var inputRow = input.Slice(iy * width, width);
                                var outputRow = output.Slice(oy * ow, ow);
                                for (int kx = kw - 1; kx >= 0; kx--)
                                {
                                    // Output column ix · sw + shift for input columns first … last.
                                    int shift = kx * dw - padLeft;
                                    int first = shift >= 0 ? 0 : (-shift + sw - 1) / sw;
                                    int last = ow - 1 - shift < 0 ? -1 : global::System.Math.Min(width - 1, (ow - 1 - shift) / sw);
                                    if (first <= last) ScatterRow(inputRow, first, last, kernel[ky * kw + kx], outputRow, shift, sw);
                                }
                            }
                    }
                }
            if (bias.Length == 0) return;
            for (int b = 0; b < n; b++)
                for (int o = 0; o < m; o++)
                {
                    var output = y.Slice((b * m + o) * plane, plane);
                    for (int i = 0; i < plane; i++) output[i] += bias[o];
                }
        }

        /// <summary>output[ix · step + shift] += input[ix] · weight for ix = first … last (the product rounded, then the sum).</summary>
        private static void ScatterRow(global::System.ReadOnlySpan<float> input, int first, int last, float weight, global::System.Span<float> output, int shift, int step)
        {
            int ix = first;
#if QUANTGEN_INTRINSICS
            if (Vector256Path && step <= 2) ix = ScatterRowVector(input, first, last, weight, output, shift, step);
#endif
            for (; ix <= last; ix++) output[ix * step + shift] += input[ix] * weight;
        }

        /// <summary>
        /// Resize (nearest, linear): output element i (row-major over <paramref name="shape"/>) sums the 2^rank corners
        /// of its cell in double, as the reference operator: along axis d at output index o the corners read the input
        /// offsets lo[start[d] + o] or hi[start[d] + o] (already times the axis stride) with weights 1 − w and w, w the
        /// double whose IEEE bits are weightBits[2t] (low half) and weightBits[2t + 1] (high half); a corner whose weight
        /// (the product of its axes' weights, axis 0 first) is 0 is skipped. Computed row by row: the corners over the
        /// leading axes, their weights and offsets, once per output row (only the nonzero ones: one for nearest), then
        /// per element the last axis's two sides in the operator's corner order (all corners on the low side first).
        /// </summary>
        public static void Resize(global::System.ReadOnlySpan<float> x, global::System.Span<float> y, global::System.ReadOnlySpan<int> shape, global::System.ReadOnlySpan<int> start,
            global::System.ReadOnlySpan<int> lo, global::System.ReadOnlySpan<int> hi, global::System.ReadOnlySpan<int> weightBits)
        {
            int rank = shape.Length, last = rank - 1, inner = shape[last];
            if (y.Length == 0) return;
            if (rank > ResizeMaxRank) throw new global::System.ArgumentException("Resize takes at most " + ResizeMaxRank + " axes.");
            global::System.Span<int> index = stackalloc int[rank];
            global::System.Span<double> cornerWeight = stackalloc double[1 << last];
            global::System.Span<int> cornerOffset = stackalloc int[1 << last];
            for (int o = 0; o < y.Length; o += inner)
            {
                // The leading axes' corners with a nonzero weight, in the operator's order (axis 0 the lowest bit).
                int corners = 0;
                for (int corner = 0; corner < 1 << last; corner++)
                {
                    double weight = 1;
                    int offset = 0;
                    for (int d = 0; d < last && weight != 0; d++)
                    {
                        bool upper = (corner >> d & 1) != 0;
                        int t = start[d] + index[d];
                        weight *= upper ? ResizeWeight(weightBits, t) : 1 - ResizeWeight(weightBits, t);
                        offset += upper ? hi[t] : lo[t];
                    }
                    if (weight == 0) continue;
                    cornerWeight[corners] = weight;
                    cornerOffset[corners++] = offset;
                }
                for (int j = 0; j < inner; j++)
                {
                    int t = start[last] + j;
                    double upperWeight = ResizeWeight(weightBits, t), lowerWeight = 1 - upperWeight, value = 0;
                    for (int k = 0; k < corners; k++)
                    {
                        double weight = cornerWeight[k] * lowerWeight;
                        if (weight != 0) value += weight * x[cornerOffset[k] + lo[t]];
                    }
                    if (upperWeight != 0)
                        for (int k = 0; k < corners; k++)
                        {
                            double weight = cornerWeight[k] * upperWeight;
                            if (weight != 0) value += weight * x[cornerOffset[k] + hi[t]];
                        }
                    y[o + j] = (float)value;
                }
                for (int d = last - 1; d >= 0 && ++index[d] >= shape[d]; d--) index[d] = 0;
            }
        }

        /// <summary>The most axes Resize takes (the planner rejects more): its leading axes' corners live on the stack.</summary>
        public const int ResizeMaxRank = 8;

        private static double ResizeWeight(global::System.ReadOnlySpan<int> weightBits, int t) =>
            global::System.BitConverter.Int64BitsToDouble(((long)weightBits[2 * t + 1] << 32) | (uint)weightBits[2 * t]);

        /// <summary>A BatchNormalization on its own: y = x · factor[c] + shift[c] over [n, c, plane], two float32 roundings.</summary>
        public static void ChannelAffine(global::System.ReadOnlySpan<float> x, global::System.Span<float> y, global::System.ReadOnlySpan<float> factor, global::System.ReadOnlySpan<float> shift,
            int n, int c, int plane)
        {
            for (int b = 0; b < n; b++)
                for (int ch = 0; ch < c; ch++)
                {
                    int start = (b * c + ch) * plane;
                    float f = factor[ch], s = shift[ch];
                    int done = 0;
#if QUANTGEN_INTRINSICS
                    if (Vector256Path) done = ChannelAffineVector(x.Slice(start, plane), y.Slice(start, plane), f, s);
#endif
                    for (int i = done; i < plane; i++) y[start + i] = (float)(x[start + i] * f) + s;
                }
        }

        /// <summary>
        /// GlobalAveragePool (max 0: the plane's float32 <see cref="FixedSum"/> over its size) or GlobalMaxPool (max 1) of
        /// each plane: the first NaN if there is one, else the largest value, the first of equal ones (so +0 or −0 by order).
        /// </summary>
        public static void GlobalPool(global::System.ReadOnlySpan<float> x, global::System.Span<float> y, int planes, int size, int max)
        {
            for (int p = 0; p < planes; p++)
            {
                var plane = x.Slice(p * size, size);
                float acc = max != 0 ? plane[0] : 0f;
#if QUANTGEN_INTRINSICS
                if (max != 0 && Vector256Path && MaxVector(plane, out float found))
                {
                    y[p] = found;
                    continue;
                }
#endif
                if (max != 0)
                {
                    for (int i = 1; i < size; i++)
                    {
                        float v = plane[i];
                        if (float.IsNaN(acc)) break;
                        if (float.IsNaN(v) || v > acc) acc = v;
                    }
                    y[p] = acc;
                }
                else
                {
                    y[p] = FixedSum(plane, 0, size, 1) / size;
                }
            }
        }

        /// <summary>
        /// Gemm in float: y = beta · C (broadcast through cStrides; empty C: 0) then += (alpha · op(A)[i, p]) · op(B)[p, j]
        /// in p order, as the reference operator.
        /// </summary>
        public static void Gemm(global::System.ReadOnlySpan<float> a, global::System.ReadOnlySpan<float> b, global::System.ReadOnlySpan<float> c, global::System.Span<float> y,
            global::System.ReadOnlySpan<int> cStrides, int m, int k, int n, int transA, int transB, float alpha, float beta)
        {
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    y[i * n + j] = c.Length != 0 && beta != 0f ? beta * c[i * cStrides[0] + j * cStrides[1]] : 0f;
            int done = 0;
#if QUANTGEN_INTRINSICS
            if (Vector256Path && transB != 0) done = GemmTransposedVector(a, b, y, m, k, n, transA, alpha);
#endif
            for (int i = 0; i < m; i++)
            {
                int start = done;
#if QUANTGEN_INTRINSICS
                if (Vector256Path && transB == 0) start = AccumulateRows(a, transA != 0 ? i : i * k, transA != 0 ? m : 1, k, alpha != 1f, alpha, b, 0, n, y.Slice(i * n, n));
#endif
                for (int p = 0; p < k; p++)
                {
                    float s = transA != 0 ? a[p * m + i] : a[i * k + p];
                    if (alpha != 1f) s *= alpha;
                    for (int j = start; j < n; j++) y[i * n + j] += (transB != 0 ? b[j * k + p] : b[p * n + j]) * s;
                }
            }
        }

        /// <summary>
        /// Pad: mode 0 constant (value), 1 reflect (numpy's, folded as often as needed), 2 edge; begin[d] may be negative
        /// (a crop). Row by row: an output row whose leading axes fall outside the input (constant mode) is filled, any
        /// other is its input row's overlap copied, and only the padded ends element by element.
        /// </summary>
        public static void Pad(global::System.ReadOnlySpan<float> x, global::System.Span<float> y, global::System.ReadOnlySpan<int> inShape, global::System.ReadOnlySpan<int> outShape,
            global::System.ReadOnlySpan<int> begin, int mode, float value)
        {
            int rank = inShape.Length, last = rank - 1, inner = outShape[last], size = inShape[last], lead = begin[last];
            if (y.Length == 0) return;
            global::System.Span<int> index = stackalloc int[rank];
            // Output columns copyStart … copyEnd − 1 read the input row's columns from copyStart − lead, in order.
            int copyStart = lead < 0 ? 0 : lead > inner ? inner : lead;
            int copyEnd = global::System.Math.Max(copyStart, global::System.Math.Min(inner, lead + size));
            for (int o = 0; o < y.Length; o += inner)
            {
                var row = y.Slice(o, inner);
                int offset = 0, stride = size;
                bool outside = false;
                for (int d = last - 1; d >= 0 && !outside; d--)
                {
                    int i = PadSource(index[d] - begin[d], inShape[d], mode);
                    outside = i < 0;
                    offset += i * stride;
                    stride *= inShape[d];
                }
                if (outside) row.Fill(value);
                else
                {
                    if (copyEnd > copyStart) x.Slice(offset + copyStart - lead, copyEnd - copyStart).CopyTo(row.Slice(copyStart, copyEnd - copyStart));
                    for (int j = 0; j < copyStart; j++) row[j] = PadElement(x, offset, j - lead, size, mode, value);
                    for (int j = copyEnd; j < inner; j++) row[j] = PadElement(x, offset, j - lead, size, mode, value);
                }
                for (int d = last - 1; d >= 0 && ++index[d] >= outShape[d]; d--) index[d] = 0;
            }
        }

        private static float PadElement(global::System.ReadOnlySpan<float> x, int offset, int i, int size, int mode, float value)
        {
            int source = PadSource(i, size, mode);
            return source < 0 ? value : x[offset + source];
        }

        /// <summary>The input index Pad reads for index i of an axis of <paramref name="size"/>; −1 outside in constant mode.</summary>
        private static int PadSource(int i, int size, int mode)
        {
            if (i >= 0 && i < size) return i;
            if (mode == 0) return -1;
            if (mode == 2) return i < 0 ? 0 : size - 1;
            if (size == 1) return 0;
            int period = 2 * (size - 1);
            i = ((i % period) + period) % period;
            return i >= size ? period - i : i;
        }
    }
}
