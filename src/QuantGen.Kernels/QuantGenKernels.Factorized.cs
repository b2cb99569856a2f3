// QuantGen kernels: the factorized layers (FactorizedFullyConnected, FactorizedConv: W ≈ A·B, never formed).
// Emitted into the consumer's assembly by QuantGen.Generator (docs/generator.md, "Kernels").
#nullable enable

namespace QuantGen.Generated
{
    internal static partial class QuantGenKernels
    {
        /// <summary>Field <paramref name="i"/> of a stream of bits-bit two's-complement values, least significant bit first, sign-extended.</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public static int FactorLevel(global::System.ReadOnlySpan<byte> packed, int i, int bits)
        {
            int bit = i * bits, at = bit >> 3, offset = bit & 7;
            int word = offset + bits > 8 ? packed[at] | packed[at + 1] << 8 : packed[at];
            return (word >> offset << (32 - bits)) >> (32 - bits);
        }

        /// <summary>
        /// The int16 intermediate: clamp(round_half_even(float(t) · scale), −32767, 32767), each step in float32 as
        /// <see cref="RequantizeScaled"/> (docs/artifact.md).
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public static int RequantizeIntermediate(int t, float scale)
        {
            float v = (float)((float)t * scale);
            if (v < -32767f) v = -32767f;
            else if (v > 32767f) v = 32767f;
            return (int)global::System.Math.Round(v);
        }

        /// <summary>The column of a factor's stored entry: s itself in a dense row, else its one- or two-byte index.</summary>
        private static int FactorColumn(global::System.ReadOnlySpan<byte> indices, int slot, int s, int cols) =>
            indices.IsEmpty ? s : cols <= 256 ? indices[slot] : indices[2 * slot] | indices[2 * slot + 1] << 8;

        /// <summary>
        /// Factor B [r, K] (its packed values and optional indices, docs/artifact.md "Factor storage") as DotPacked's
        /// dense s8 weights [KP/4, RP, 4] (RP = r rounded up to 8, zeros elsewhere): stage 1 of a factorized layer is then
        /// a packed dot product of the raw input bytes, like a Conv to r channels. B's column j = (c·height + y)·width + x
        /// (c &lt; channels) becomes reduction step y·row + x·channels + c, row = width·channels, rounded up to 4 when
        /// <paramref name="padRows"/> (the NHWC convolutions' kernel rows); KP = height·row rounded up to 4. channels = K,
        /// height = width = 1 keeps B's order; a conv's (C, KH, KW) with padRows gives ConvNhwc's receptive-field order, a
        /// flattened NHWC image's (C, H, W) its pixel-major order. Called once, when the generated class is first used: the
        /// binary keeps the factors packed.
        /// </summary>
        public static sbyte[] UnpackFactorB(global::System.ReadOnlySpan<byte> values, global::System.ReadOnlySpan<byte> indices, int rows, int cols, int nonZeros, int bits,
            int channels, int height, int width, bool padRows)
        {
            int row = padRows ? (width * channels + 3) & ~3 : width * channels, kp = (height * row + 3) & ~3, rp = (rows + 7) & ~7;
            var packed = new sbyte[kp * rp];
            for (int r = 0, slot = 0; r < rows; r++)
                for (int s = 0; s < nonZeros; s++, slot++)
                {
                    int step = FactorStep(FactorColumn(indices, slot, s, cols), channels, height, width, row);
                    packed[(step >> 2) * 4 * rp + 4 * r + (step & 3)] = (sbyte)FactorLevel(values, slot, bits);
                }
            return packed;
        }

        /// <summary>Where B's column (c·height + y)·width + x lands in the kernel's input vector: step y·row + x·channels + c.</summary>
        private static int FactorStep(int col, int channels, int height, int width, int row)
        {
            int c = col / (height * width), y = col / width % height, x = col % width;
            return y * row + x * channels + c;
        }

        /// <summary>
        /// A factor with one stored entry per row (nonZeros 1: a scaled selection, as in the planner's "plain b-bit"
        /// settings, where the thin factor is a scaled permutation) as its rows' columns followed by their values, the
        /// columns mapped into the kernel's input order as <see cref="UnpackFactorB"/> maps them (channels = cols,
        /// height = width = 1 keeps the factor's own order). Such a stage is elementwise, t[row] = value · v[column], so
        /// the kernels skip its dot product. Called once, like <see cref="UnpackFactorB"/>.
        /// </summary>
        public static int[] FactorEntries(global::System.ReadOnlySpan<byte> values, global::System.ReadOnlySpan<byte> indices, int rows, int cols, int bits,
            int channels, int height, int width, bool padRows)
        {
            int row = padRows ? (width * channels + 3) & ~3 : width * channels;
            var entries = new int[2 * rows];
            for (int r = 0; r < rows; r++)
            {
                entries[r] = FactorStep(FactorColumn(indices, r, 0, cols), channels, height, width, row);
                entries[rows + r] = FactorLevel(values, r, bits);
            }
            return entries;
        }

        /// <summary>
        /// −zx · Σ_j B[c, j] for each of B's r rows: what turns the packed dot product of the raw input bytes into
        /// Σ_j B[c, j] · (x_j − zx), stage 1's exact int32 sum (every step is modulo 2^32, so the result is exact).
        /// </summary>
        public static int[] FactorZeroTerms(global::System.ReadOnlySpan<byte> values, int rows, int nonZeros, int bits, int zx)
        {
            var terms = new int[rows];
            for (int row = 0, slot = 0; row < rows; row++)
            {
                int sum = 0;
                for (int s = 0; s < nonZeros; s++, slot++) sum += FactorLevel(values, slot, bits);
                terms[row] = -zx * sum;
            }
            return terms;
        }

        /// <summary>
        /// Factor A [M, r] as int16 pairs [RP2/2, MP, 2] (RP2 = r rounded up to 2, MP = M rounded up to 8, zeros
        /// elsewhere): element (j, o, i) is A[o, 2j + i], so one vpmaddwd against the broadcast pair (z[2j], z[2j+1]) adds
        /// both products of 8 output channels. Called once, like <see cref="UnpackFactorB"/>.
        /// </summary>
        public static short[] UnpackFactorA(global::System.ReadOnlySpan<byte> values, global::System.ReadOnlySpan<byte> indices, int rows, int cols, int nonZeros, int bits)
        {
            int rp2 = (cols + 1) & ~1, mp = (rows + 7) & ~7;
            var pairs = new short[rp2 * mp];
            for (int row = 0, slot = 0; row < rows; row++)
                for (int s = 0; s < nonZeros; s++, slot++)
                {
                    int col = FactorColumn(indices, slot, s, cols);
                    pairs[(col >> 1) * 2 * mp + 2 * row + (col & 1)] = (short)FactorLevel(values, slot, bits);
                }
            return pairs;
        }

        /// <summary>
        /// FactorizedFullyConnected (docs/artifact.md) with the factors unpacked (<see cref="UnpackFactorB"/>,
        /// <see cref="FactorZeroTerms"/>, <see cref="UnpackFactorA"/>): per input row, stage 1 is a packed dot product
        /// to r channels, requantized to the int16 intermediate z; stage 2 the int16 pair product A·z. Scratch: col holds
        /// the input vector (KP bytes) and then z (RP2 int16), acc stage 1's RP sums and then stage 2's MP.
        /// </summary>
        public static void FactorizedFullyConnected(
            global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> b, global::System.ReadOnlySpan<int> bEntries, global::System.ReadOnlySpan<int> zeroTerms,
            global::System.ReadOnlySpan<float> zScale, global::System.ReadOnlySpan<short> a, global::System.ReadOnlySpan<int> aEntries,
            global::System.ReadOnlySpan<int> bias, global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, global::System.Span<byte> col, global::System.Span<int> acc,
            int rows, int k, int m, int rank, int zy, int lo, int hi)
        {
            CheckRows(x.Length, y.Length, rows, k, m);
            int kp = (k + 3) & ~3;
            var stages = new FactorStages(b, bEntries, zeroTerms, zScale, a, aEntries, bias, scale, negScale, high, col, acc, kp, 1, m, rank, zy, lo, hi, kp);
            col.Slice(k, kp - k).Clear();
            for (int r = 0; r < rows; r++)
            {
                x.Slice(r * k, k).CopyTo(col);
                stages.Apply(col, y, r * m, 1);
            }
        }

        /// <summary>
        /// FactorizedConv (docs/artifact.md), NCHW in and out: every output position's receptive field is gathered into
        /// col as ConvPacked gathers it (taps outside the input read zx, which the zero terms cancel), then the two
        /// stages of <see cref="FactorizedFullyConnected"/> run on it.
        /// </summary>
        public static void FactorizedConv(
            global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> b, global::System.ReadOnlySpan<int> bEntries, global::System.ReadOnlySpan<int> zeroTerms,
            global::System.ReadOnlySpan<float> zScale, global::System.ReadOnlySpan<short> a, global::System.ReadOnlySpan<int> aEntries,
            global::System.ReadOnlySpan<int> bias, global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, global::System.Span<byte> col, global::System.Span<int> acc,
            int n, int c, int h, int width, int m, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft,
            int dh, int dw, int rank, int zx, int zy, int lo, int hi)
        {
            CheckWindow(x.Length, y.Length, n, c, h, width, m, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw);
            int k = c * kh * kw, kp = (k + 3) & ~3;
            var stages = new FactorStages(b, bEntries, zeroTerms, zScale, a, aEntries, bias, scale, negScale, high, col, acc, kp, 1, m, rank, zy, lo, hi, kp);
            col.Slice(k, kp - k).Clear();
            for (int image = 0; image < n; image++)
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        GatherField(x, col, image, c, 0, c, h, width, oy, ox, kh, kw, sh, sw, padTop, padLeft, dh, dw, (byte)zx);
                        stages.Apply(col, y, ((image * m) * oh + oy) * ow + ox, oh * ow);
                    }
        }

        /// <summary>
        /// FactorizedConv with channels-last (NHWC) input and output: B unpacked in ConvNhwc's receptive-field order
        /// (<see cref="UnpackFactorB"/> with the conv's C, KH, KW and padded rows), so stage 1 runs ConvNhwc's gathering
        /// and DotPacked4, four output positions per packed weight pass; then each position's two stages end as in
        /// <see cref="FactorizedFullyConnected"/>. Scratch: col holds four fields and z, acc four positions' stage-1 sums
        /// and stage 2's.
        /// </summary>
        public static void FactorizedConvNhwc(
            global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> b, global::System.ReadOnlySpan<int> bEntries, global::System.ReadOnlySpan<int> zeroTerms,
            global::System.ReadOnlySpan<float> zScale, global::System.ReadOnlySpan<short> a, global::System.ReadOnlySpan<int> aEntries,
            global::System.ReadOnlySpan<int> bias, global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, global::System.Span<byte> col, global::System.Span<int> acc,
            int n, int c, int h, int width, int m, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft,
            int dh, int dw, int rank, int zx, int zy, int lo, int hi)
        {
            CheckWindow(x.Length, y.Length, n, c, h, width, m, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw);
#if QUANTGEN_INTRINSICS
            // A dense B: stage 1 as the row kernels run a plain conv (QuantGenKernels.Factorized.Rows.cs).
            if (SimdEnabled && bEntries.IsEmpty && dw == 1 && global::System.Runtime.Intrinsics.X86.Avx2.IsSupported
                && FactorizedRowsAvx2(x, b, zeroTerms, zScale, a, aEntries, bias, scale, negScale, high, y, col, acc,
                    n, c, h, width, m, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, rank, zx, zy, lo, hi))
                return;
#endif
            int kp = kh * ((kw * c + 3) & ~3), rp = (rank + 7) & ~7, positions = oh * ow;
            var stages = new FactorStages(b, bEntries, zeroTerms, zScale, a, aEntries, bias, scale, negScale, high, col, acc, kp, 4, m, rank, zy, lo, hi, 4 * kp);
            var field = new ReceptiveField(c, h, width, c, kh, kw, sh, sw, padTop, padLeft, dh, dw, ow, (byte)zx);
            // The rows' padding meets zero weights: whatever a gather leaves there, a cleared start keeps it defined.
            col.Slice(0, 4 * kp).Clear();
            var sums = acc.Slice(0, 4 * rp);
            for (int image = 0; image < n; image++)
                for (int p = 0; p < positions; p += 4)
                {
                    int count = positions - p < 4 ? positions - p : 4;
                    if (stages.Selects)
                        for (int j = 0; j < count; j++)
                            stages.Select(field.Read(x, col.Slice(0, kp), image, 0, p + j), sums.Slice(j * rp, rp));
                    else
                        field.DotFour<Int8Weights>(x, col, b, sums, kp, rp, image, 0, p, count);
#if QUANTGEN_INTRINSICS
                    if (SimdEnabled && global::System.Runtime.Intrinsics.X86.Avx2.IsSupported)
                    {
                        stages.Finish4(sums, y, (image * positions + p) * m, count);
                        continue;
                    }
#endif
                    for (int j = 0; j < count; j++)
                        stages.Finish(sums.Slice(j * rp, rp), y, (image * positions + p + j) * m, 1);
                }
        }

        /// <summary>A factorized layer's two stages on one input vector, with its factors, requantization and scratch.</summary>
        private readonly ref struct FactorStages
        {
            private readonly global::System.ReadOnlySpan<sbyte> _b;
            private readonly global::System.ReadOnlySpan<int> _zeroTerms, _bias, _high;
            private readonly global::System.ReadOnlySpan<float> _zScale, _scale, _negScale;
            private readonly global::System.ReadOnlySpan<short> _a;
            // A factor with one entry per row (FactorEntries: columns, then values), or empty when it is dense.
            private readonly global::System.ReadOnlySpan<int> _bEntries, _aEntries;
            private readonly global::System.Span<int> _t, _acc;
            private readonly global::System.Span<short> _z;
            private readonly int _kp, _rp, _rp2, _mp, _m, _rank, _zy, _lo, _hi;

            public FactorStages(global::System.ReadOnlySpan<sbyte> b, global::System.ReadOnlySpan<int> bEntries, global::System.ReadOnlySpan<int> zeroTerms,
                global::System.ReadOnlySpan<float> zScale, global::System.ReadOnlySpan<short> a, global::System.ReadOnlySpan<int> aEntries, global::System.ReadOnlySpan<int> bias, global::System.ReadOnlySpan<float> scale,
                global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
                global::System.Span<byte> col, global::System.Span<int> acc, int kp, int positions, int m, int rank, int zy, int lo, int hi, int zAt)
            {
                _kp = kp;
                _rp = (rank + 7) & ~7;
                _rp2 = (rank + 1) & ~1;
                _mp = (m + 7) & ~7;
                if ((bEntries.IsEmpty ? b.Length < _kp * _rp : bEntries.Length != 2 * rank)
                    || (aEntries.IsEmpty ? a.Length < _rp2 * _mp : aEntries.Length != 2 * m) || zAt < 0 || col.Length < zAt + positions * 2 * _rp2 || acc.Length < positions * _rp + _mp
                    || zeroTerms.Length < rank || zScale.Length < rank || bias.Length != m || scale.Length < m || negScale.Length < m
                    || (high.Length != 0 && high.Length < m))
                    throw Outside();
                _b = b;
                _bEntries = bEntries;
                _aEntries = aEntries;
                _zeroTerms = zeroTerms;
                _zScale = zScale;
                _a = a;
                _bias = bias;
                _scale = scale;
                _negScale = negScale;
                _high = high;
                _t = acc.Slice(0, _rp);
                _acc = acc.Slice(positions * _rp, _mp);
                // One int16 intermediate per position (Finish4 keeps four), at byte zAt of col: after the input vectors.
                var z = global::System.Runtime.InteropServices.MemoryMarshal.Cast<byte, short>(col.Slice(zAt, positions * 2 * _rp2));
                _z = z;
                _m = m;
                _rank = rank;
                _zy = zy;
                _lo = lo;
                _hi = hi;
                // An odd rank's spare z slot meets zero weights; it is cleared once so that it is never garbage.
                z.Clear();
            }

            /// <summary>y[start + o·stride] for every output channel o, from the input vector at the start of col (KP bytes, its padding zero).</summary>
            public void Apply(global::System.ReadOnlySpan<byte> col, global::System.Span<byte> y, int start, int stride)
            {
                if (Selects) Select(col, _t);
                else DotPacked<Int8Weights>(col.Slice(0, _kp), _b, _t, _kp, _rp);
                Finish(_t, y, start, stride);
            }

            /// <summary>Whether B has one entry per row, so stage 1 is <see cref="Select"/> rather than a dot product.</summary>
            public bool Selects => !_bEntries.IsEmpty;

            /// <summary>Stage 1 for a B with one entry per row: t[c] = B's value · col[its column], r multiplies.</summary>
            public void Select(global::System.ReadOnlySpan<byte> col, global::System.Span<int> t)
            {
                var columns = _bEntries.Slice(0, _rank);
                var values = _bEntries.Slice(_rank, _rank);
                for (int c = 0; c < columns.Length; c++) t[c] = values[c] * col[columns[c]];
            }

            /// <summary>
            /// y[start + o·stride] for every output channel o, from stage 1's packed dot products t of the raw input: z
            /// requantized to int16, A·z, then the output requantization every 8-bit weighted layer shares
            /// (<see cref="RequantizeChannels"/>).
            /// </summary>
            public void Finish(global::System.ReadOnlySpan<int> t, global::System.Span<byte> y, int start, int stride)
            {
                Intermediates(t, _z);
                if (_aEntries.IsEmpty) DotPairs(_z, _a, _acc, _rp2, _mp);
                else Picked(_z, 0);
                RequantizeChannels(_acc, _bias, _scale, _negScale, _high, y, start, stride, _zy, _lo, _hi);
            }

            /// <summary>
            /// Stage 2 for an A with one entry per row (a scaled selection of z): acc[o] = value · z[column] for the output
            /// channels from <paramref name="from"/> on, M − from multiplies.
            /// </summary>
            private void Picked(global::System.ReadOnlySpan<short> z, int from)
            {
                var columns = _aEntries.Slice(0, _m);
                var values = _aEntries.Slice(_m, _m);
                for (int o = from; o < _m; o++) _acc[o] = values[o] * z[columns[o]];
            }

            /// <summary>z[c] for every rank c: stage 1's sum t[c] plus B's zero-point term, requantized to int16.</summary>
            private void Intermediates(global::System.ReadOnlySpan<int> t, global::System.Span<short> z)
            {
                int c = 0;
#if QUANTGEN_INTRINSICS
                if (SimdEnabled && global::System.Runtime.Intrinsics.X86.Avx2.IsSupported)
                    c = RequantizeIntermediates8(t, _zeroTerms, _zScale, z, _rank);
#endif
                for (; c < _rank; c++)
                    z[c] = (short)RequantizeIntermediate(t[c] + _zeroTerms[c], _zScale[c]);
            }

#if QUANTGEN_INTRINSICS
            /// <summary>
            /// <see cref="Finish"/> for four NHWC positions at once (AVX2), from their stage-1 sums (4 × RP, as DotPacked4
            /// writes them) to y[start + p·m + o] for p &lt; <paramref name="count"/> (the spare positions are computed, never
            /// written): each block of A (16 channels, then a last 8) is loaded once for the four, and its requantization
            /// constants are prepared once (<see cref="Requantization8"/>), where Finish paid both per position.
            /// </summary>
            public void Finish4(global::System.ReadOnlySpan<int> sums, global::System.Span<byte> y, int start, int count)
            {
                for (int p = 0; p < 4; p++)
                    Intermediates(sums.Slice(p * _rp, _rp), _z.Slice(p * _rp2, _rp2));
                if (!_aEntries.IsEmpty)
                {
                    FinishSelected4(y, start, count);
                    return;
                }
                if (y.Length < start + count * _m || _z.Length < 4 * _rp2) throw Outside();
                ref short pairs = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(_a);
                ref short z0 = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(_z);
                ref short z1 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref z0, _rp2);
                ref short z2 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref z0, 2 * _rp2);
                ref short z3 = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref z0, 3 * _rp2);
                int o = 0;
                // 16 channels at a time: each broadcast pair feeds two weight vectors (eight accumulators, as the
                // pointwise row kernels), half the broadcasts per multiply-add of one 8-channel block.
                for (; o + 16 <= _m; o += 16)
                {
                    var b0 = global::System.Runtime.Intrinsics.Vector256.Create(_bias.Slice(o, 8));
                    var b1 = global::System.Runtime.Intrinsics.Vector256.Create(_bias.Slice(o + 8, 8));
                    var s00 = b0; var s01 = b1; var s10 = b0; var s11 = b1;
                    var s20 = b0; var s21 = b1; var s30 = b0; var s31 = b1;
                    for (int j = 0; j < _rp2; j += 2)
                    {
                        ref short row = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref pairs, j * _mp + 2 * o);
                        var w0 = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row);
                        var w1 = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row, 16);
                        var v = BroadcastPair(ref z0, j);
                        s00 += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(w0, v);
                        s01 += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(w1, v);
                        v = BroadcastPair(ref z1, j);
                        s10 += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(w0, v);
                        s11 += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(w1, v);
                        v = BroadcastPair(ref z2, j);
                        s20 += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(w0, v);
                        s21 += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(w1, v);
                        v = BroadcastPair(ref z3, j);
                        s30 += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(w0, v);
                        s31 += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(w1, v);
                    }
                    var q0 = new Requantization8(_scale, _negScale, _high, _hi, o, _zy, _lo);
                    var q1 = new Requantization8(_scale, _negScale, _high, _hi, o + 8, _zy, _lo);
                    q0.Store(y, start + o, s00);
                    q1.Store(y, start + o + 8, s01);
                    if (count > 1)
                    {
                        q0.Store(y, start + _m + o, s10);
                        q1.Store(y, start + _m + o + 8, s11);
                    }
                    if (count > 2)
                    {
                        q0.Store(y, start + 2 * _m + o, s20);
                        q1.Store(y, start + 2 * _m + o + 8, s21);
                    }
                    if (count > 3)
                    {
                        q0.Store(y, start + 3 * _m + o, s30);
                        q1.Store(y, start + 3 * _m + o + 8, s31);
                    }
                }
                for (; o + 8 <= _m; o += 8)
                {
                    var s0 = global::System.Runtime.Intrinsics.Vector256.Create(_bias.Slice(o, 8));
                    var s1 = s0;
                    var s2 = s0;
                    var s3 = s0;
                    for (int j = 0; j < _rp2; j += 2)
                    {
                        var w = global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref pairs, (nuint)(j * _mp + 2 * o));
                        s0 += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(w, BroadcastPair(ref z0, j));
                        s1 += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(w, BroadcastPair(ref z1, j));
                        s2 += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(w, BroadcastPair(ref z2, j));
                        s3 += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(w, BroadcastPair(ref z3, j));
                    }
                    var requantization = new Requantization8(_scale, _negScale, _high, _hi, o, _zy, _lo);
                    requantization.Store(y, start + o, s0);
                    if (count > 1) requantization.Store(y, start + _m + o, s1);
                    if (count > 2) requantization.Store(y, start + 2 * _m + o, s2);
                    if (count > 3) requantization.Store(y, start + 3 * _m + o, s3);
                }
                // The last m % 8 channels, position by position: A·z for all channels (cold code), then the shared output
                // rule on the tail's slice.
                if (o == _m) return;
                for (int p = 0; p < count; p++)
                {
                    DotPairs(_z.Slice(p * _rp2, _rp2), _a, _acc, _rp2, _mp);
                    RequantizeChannels(_acc.Slice(o), _bias.Slice(o), _scale.Slice(o), _negScale.Slice(o),
                        _high.Length == 0 ? _high : _high.Slice(o), y, start + p * _m + o, 1, _zy, _lo, _hi);
                }
            }

            /// <summary>
            /// Finish4's stage 2 when A has one entry per row (FactorEntries): acc[o] = value · z[column] for 8 channels at
            /// a time (vpmulld; the products fit int32), each block's requantization prepared once for the four positions.
            /// </summary>
            private void FinishSelected4(global::System.Span<byte> y, int start, int count)
            {
                var columns = _aEntries.Slice(0, _m);
                var values = _aEntries.Slice(_m, _m);
                int o = 0;
                for (; o + 8 <= _m; o += 8)
                {
                    var a = global::System.Runtime.Intrinsics.Vector256.Create(values.Slice(o, 8));
                    var bias = global::System.Runtime.Intrinsics.Vector256.Create(_bias.Slice(o, 8));
                    var requantization = new Requantization8(_scale, _negScale, _high, _hi, o, _zy, _lo);
                    for (int p = 0; p < count; p++)
                    {
                        var z = _z.Slice(p * _rp2, _rp2);
                        var picked = global::System.Runtime.Intrinsics.Vector256.Create(z[columns[o]], z[columns[o + 1]], z[columns[o + 2]],
                            z[columns[o + 3]], z[columns[o + 4]], z[columns[o + 5]], z[columns[o + 6]], z[columns[o + 7]]);
                        requantization.Store(y, start + p * _m + o, bias + global::System.Runtime.Intrinsics.X86.Avx2.MultiplyLow(a, picked));
                    }
                }
                // The last m % 8 channels, position by position, through the shared output rule on their slice.
                if (o == _m) return;
                for (int p = 0; p < count; p++)
                {
                    Picked(_z.Slice(p * _rp2, _rp2), o);
                    RequantizeChannels(_acc.Slice(o), _bias.Slice(o), _scale.Slice(o), _negScale.Slice(o),
                        _high.Length == 0 ? _high : _high.Slice(o), y, start + p * _m + o, 1, _zy, _lo, _hi);
                }
            }
#endif
        }

        /// <summary>
        /// acc[o] = Σ_c z[c] · a[c/2, o, c%2] for o &lt; mp, the int16 weights in pairs [rp2/2, mp, 2]: exact in int32 (|z| ≤
        /// 32767 and |a| ≤ 127; the quantizer bounds the sum), so every path gives the same accumulators.
        /// </summary>
        private static void DotPairs(global::System.ReadOnlySpan<short> z, global::System.ReadOnlySpan<short> a, global::System.Span<int> acc, int rp2, int mp)
        {
#if QUANTGEN_INTRINSICS
            if (SimdEnabled && global::System.Runtime.Intrinsics.X86.Avx2.IsSupported)
            {
                DotPairsAvx2(z, a, acc, rp2, mp);
                return;
            }
#endif
            acc.Slice(0, mp).Clear();
            for (int j = 0; j < rp2; j += 2)
            {
                int z0 = z[j], z1 = z[j + 1];
                var row = a.Slice(j * mp, 2 * mp);
                for (int o = 0, i = 0; o < mp; o++, i += 2)
                    acc[o] += z0 * row[i] + z1 * row[i + 1];
            }
        }

#if QUANTGEN_INTRINSICS
        /// <summary>
        /// <see cref="RequantizeIntermediate"/> of whole blocks of 8 ranks (t + zeroTerms, then vcvtdq2ps, vmulps, the clamp
        /// in float, vcvtps2dq: round half to even, the scalar steps exactly), stored as int16 (the values fit, so the
        /// saturating pack is exact; one vpermq restores the lane order). Returns the number of ranks done.
        /// </summary>
        private static int RequantizeIntermediates8(global::System.ReadOnlySpan<int> t, global::System.ReadOnlySpan<int> zeroTerms,
            global::System.ReadOnlySpan<float> scale, global::System.Span<short> z, int rank)
        {
            var low = global::System.Runtime.Intrinsics.Vector256.Create(-32767f);
            var high = global::System.Runtime.Intrinsics.Vector256.Create(32767f);
            int c = 0;
            for (; c + 8 <= rank; c += 8)
            {
                var sums = global::System.Runtime.Intrinsics.Vector256.Create(t.Slice(c, 8)) + global::System.Runtime.Intrinsics.Vector256.Create(zeroTerms.Slice(c, 8));
                var v = global::System.Runtime.Intrinsics.X86.Avx.Multiply(global::System.Runtime.Intrinsics.X86.Avx.ConvertToVector256Single(sums),
                    global::System.Runtime.Intrinsics.Vector256.Create(scale.Slice(c, 8)));
                var q = global::System.Runtime.Intrinsics.X86.Avx.ConvertToVector256Int32(global::System.Runtime.Intrinsics.X86.Avx.Min(global::System.Runtime.Intrinsics.X86.Avx.Max(v, low), high));
                var packed = global::System.Runtime.Intrinsics.X86.Avx2.Permute4x64(
                    global::System.Runtime.Intrinsics.Vector256.AsInt64(global::System.Runtime.Intrinsics.X86.Avx2.PackSignedSaturate(q, q)), 0b11_01_10_00);
                global::System.Runtime.Intrinsics.Vector128.StoreUnsafe(global::System.Runtime.Intrinsics.Vector128.AsInt16(global::System.Runtime.Intrinsics.Vector256.GetLower(packed)),
                    ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(z.Slice(c, 8)));
            }
            return c;
        }

        /// <summary>
        /// DotPairs with AVX2: the pair (z[c], z[c+1]) broadcast to every 32-bit lane, vpmaddwd against 8 channels' pairs.
        /// Four blocks of 8 channels share each broadcast and keep their sums in registers (one broadcast per 4 vpmaddwd
        /// instead of one each: the loop was bound by the broadcasts); the rest take one block at a time.
        /// </summary>
        private static void DotPairsAvx2(global::System.ReadOnlySpan<short> z, global::System.ReadOnlySpan<short> a, global::System.Span<int> acc, int rp2, int mp)
        {
            ref short pairs = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(a);
            ref short zs = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(z);
            ref int result = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(acc);
            int o = 0;
            for (; o + 32 <= mp; o += 32)
            {
                var s0 = global::System.Runtime.Intrinsics.Vector256<int>.Zero;
                var s1 = s0;
                var s2 = s0;
                var s3 = s0;
                for (int j = 0; j < rp2; j += 2)
                {
                    var pair = BroadcastPair(ref zs, j);
                    ref short row = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref pairs, j * mp + 2 * o);
                    s0 += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row), pair);
                    s1 += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row, 16), pair);
                    s2 += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row, 32), pair);
                    s3 += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref row, 48), pair);
                }
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(s0, ref result, (nuint)o);
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(s1, ref result, (nuint)(o + 8));
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(s2, ref result, (nuint)(o + 16));
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(s3, ref result, (nuint)(o + 24));
            }
            for (; o < mp; o += 8)
            {
                var sum = global::System.Runtime.Intrinsics.Vector256<int>.Zero;
                for (int j = 0; j < rp2; j += 2)
                    sum += global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(
                        global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref pairs, (nuint)(j * mp + 2 * o)), BroadcastPair(ref zs, j));
                global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(sum, ref result, (nuint)o);
            }
        }

        /// <summary>The int16 pair (z[j], z[j+1]) in every 32-bit lane.</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static global::System.Runtime.Intrinsics.Vector256<short> BroadcastPair(ref short z, int j) =>
            global::System.Runtime.Intrinsics.Vector256.AsInt16(global::System.Runtime.Intrinsics.Vector256.Create(
                global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<int>(ref global::System.Runtime.CompilerServices.Unsafe.As<short, byte>(
                    ref global::System.Runtime.CompilerServices.Unsafe.Add(ref z, j)))));
#endif
    }
}
