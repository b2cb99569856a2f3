// QuantGen kernels: exact integer Winograd F(2×2, 3×3), and F(2, 3) for 1×3 and 3×1 kernels, for stride-1 convolutions
// on x86 CPUs without VNNI, where every multiply-accumulate is an int16 vpmaddwd: 16 products per 2×2 output tile and
// input/output channel pair instead of 36, 4 per pair of outputs instead of 6 (docs/generator.md, "Winograd without VNNI").
// Emitted into the consumer's assembly by QuantGen.Generator (docs/generator.md, "Kernels").
#nullable enable

namespace QuantGen.Generated
{
    internal static partial class QuantGenKernels
    {
        /// <summary>
        /// ConvNhwc over int8 weights with a process-wide cache of the layer's Winograd-transformed weights
        /// (<paramref name="winograd"/>: a static field of the generated class, filled on the first call that takes the
        /// Winograd path; a CPU that never takes it never allocates it). Same bytes as ConvNhwc on every path.
        /// </summary>
        public static void ConvNhwc(
            global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, global::System.Span<byte> col, global::System.Span<int> acc, ref short[]? winograd,
            int n, int c, int h, int width, int m, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft,
            int dh, int dw, int group, int zx, int zy, int lo, int hi, int part = 0, int parts = 1)
        {
#if QUANTGEN_INTRINSICS
            if (group == 1 && WinogradApplies(kh, kw, sh, sw, dh, dw, c, m))
            {
                CheckWindow(x.Length, y.Length, n, c, h, width, m, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw);
                if (ConvWinograd(x, w, bias, scale, negScale, high, y, col, ref winograd, false, n, c, h, width, m, oh, ow, kh, kw, padTop, padLeft, zx, zy, lo, hi, part, parts))
                    return;
            }
#endif
            ConvNhwc<Int8Weights>(x, w, bias, scale, negScale, high, y, col, acc, n, c, h, width, m, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw, group, zx, zy, lo, hi, part, parts);
        }

        /// <summary>ConvMaxPoolNhwc over int8 weights with the Winograd cache of <see cref="ConvNhwc(global::System.ReadOnlySpan{byte}, global::System.ReadOnlySpan{sbyte}, global::System.ReadOnlySpan{int}, global::System.ReadOnlySpan{float}, global::System.ReadOnlySpan{float}, global::System.ReadOnlySpan{int}, global::System.Span{byte}, global::System.Span{byte}, global::System.Span{int}, ref short[], int, int, int, int, int, int, int, int, int, int, int, int, int, int, int, int, int, int, int, int, int, int)"/>.</summary>
        public static void ConvMaxPoolNhwc(
            global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, global::System.Span<byte> pooled, global::System.Span<byte> col, global::System.Span<int> acc, ref short[]? winograd,
            int n, int c, int h, int width, int m, int oh, int ow, int kh, int kw, int sh, int sw, int padTop, int padLeft,
            int dh, int dw, int zx, int zy, int lo, int hi)
        {
#if QUANTGEN_INTRINSICS
            if (WinogradApplies(kh, kw, sh, sw, dh, dw, c, m))
            {
                CheckWindow(x.Length, y.Length, n, c, h, width, m, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw);
                if ((long)n * m * (oh / 2) * (ow / 2) > pooled.Length) throw Outside();
                if (ConvWinograd(x, w, bias, scale, negScale, high, pooled, col, ref winograd, true, n, c, h, width, m, oh, ow, kh, kw, padTop, padLeft, zx, zy, lo, hi, 0, 1))
                    return;
            }
#endif
            ConvMaxPoolNhwc<Int8Weights>(x, w, bias, scale, negScale, high, y, pooled, col, acc, n, c, h, width, m, oh, ow, kh, kw, sh, sw, padTop, padLeft, dh, dw, zx, zy, lo, hi);
        }

        /// <summary>
        /// The Winograd path's scratch: the padded byte plane of whole tiles (<paramref name="rows"/> × <paramref name="columns"/>
        /// pixels) and 16 bytes of over-read, rounded to 64, then from a 64-byte boundary (63 bytes more) the transformed
        /// input, 16 (3×3) or 4 (1×3, 3×1) int16 planes of tiles × channels rounded up to 16. The generator's scratch plan
        /// reserves the same (ModelPlanner.WinogradScratch).
        /// </summary>
        private static int WinogradPlaneBytes(int c, int rows, int columns) => (rows * columns * c + 16 + 63) & ~63;

#if QUANTGEN_INTRINSICS
        /// <summary>
        /// Whether a layer takes the Winograd path on this CPU: 3×3, 1×3 or 3×1, stride 1, no dilation, whole blocks of 8 output
        /// channels, AVX2 (512-bit blocks with AVX-512BW) without AVX-VNNI (with VNNI the direct 8-bit kernels do as much
        /// per instruction, with no transforms); at least 8 input channels (the input transform fills 16-channel vectors:
        /// with fewer, most of its work is padding; the CNN's first layer, C = 1, ran 3.3 → 5.7 µs), and few enough that
        /// 4 · the true sum fits int32 (|Σ w·x| ≤ 9 · C · 128 · 255): then every step below is exact modulo 2^32 and the
        /// final division by 4 exact.
        /// </summary>
        private static bool WinogradApplies(int kh, int kw, int sh, int sw, int dh, int dw, int c, int m) =>
            SimdEnabled && (kh == 3 && (kw == 3 || kw == 1) || kh == 1 && kw == 3) && sh == 1 && sw == 1 && dh == 1 && dw == 1 && (m & 7) == 0 && c >= 8 && c <= 1800
            && global::System.Runtime.Intrinsics.X86.Avx2.IsSupported
            && !(VnniEnabled && global::System.Runtime.Intrinsics.X86.AvxVnni.IsSupported);

        /// <summary>
        /// Y = Aᵀ [U ⊙ V] A / 4 per 2×2 output tile (Lavin and Gray's F(2×2, 3×3) with G doubled so that U is integer):
        /// V = Bᵀ d B, the 4×4 input patch d transformed (|V| ≤ 4 · 255 = 1020), U = G' g G'ᵀ with G' = 2G (|U| ≤ 9 · 128 =
        /// 1152), both int16; the 16 element-wise products summed over input channels are 16 small matrix products,
        /// two channels per vpmaddwd lane. A 1×3 or 3×1 kernel is the same along one axis (F(2, 3): a 1×2 or 2×1 tile, 4
        /// products, the sum 2 · Y). The zero point needs nothing: the plane is padded with zx as for the direct kernels,
        /// whose bias already holds −zx · Σw. Pooled (3×3 only): the tiles are the 2×2 windows (odd last rows and columns
        /// dropped, as MaxPool does), each window's largest sums requantized once.
        /// </summary>
        private static bool ConvWinograd(global::System.ReadOnlySpan<byte> x, global::System.ReadOnlySpan<sbyte> w, global::System.ReadOnlySpan<int> bias,
            global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale, global::System.ReadOnlySpan<int> high,
            global::System.Span<byte> y, global::System.Span<byte> col, ref short[]? winograd, bool pooled,
            int n, int c, int h, int width, int m, int oh, int ow, int kh, int kw, int padTop, int padLeft, int zx, int zy, int lo, int hi, int part, int parts)
        {
            if (pooled && (kh != 3 || kw != 3)) return false;
            // Per axis with 3 taps: tiles of 2 outputs over patches of 4 (transformed into 4 elements); with 1: as they are.
            int th = kh == 3 ? 2 : 1, tw = kw == 3 ? 2 : 1, rows = kh == 3 ? 4 : 1, columns = kw == 3 ? 4 : 1, elements = rows * columns;
            int tilesY = pooled ? oh / 2 : (oh + th - 1) / th, tilesX = pooled ? ow / 2 : (ow + tw - 1) / tw, tiles = tilesY * tilesX;
            int planeRows = th * tilesY + kh - 1, planeColumns = tw * tilesX + kw - 1;
            int stride = (c + 15) & ~15, planeBytes = WinogradPlaneBytes(c, planeRows, planeColumns);
            if (tiles == 0 || col.Length < planeBytes + 2 * elements * tiles * stride + 63) return false;
            int row = (kw * c + 3) & ~3;
            if (w.Length < kh * row * m) throw new global::System.ArgumentException("The buffers do not hold the tensors.");
            var u = winograd;
            int blocks = (m + 15) / 16, pairs = (c + 1) / 2;
            if (u is null || u.Length != elements * blocks * pairs * 32)
            {
                u = TransformWeights(w, c, m, kh, kw, row, blocks, pairs);
                global::System.Threading.Volatile.Write(ref winograd, u);
            }
            var plane = col.Slice(0, planeBytes);
            var transformed = global::System.Runtime.InteropServices.MemoryMarshal.Cast<byte, short>(
                col.Slice(planeBytes + AlignmentSkip(ref col[planeBytes]), 2 * elements * tiles * stride));
            int outputs = (pooled ? tiles : oh * ow) * m, image = h * width * c;
            int first = part * blocks / parts, end = (part + 1) * blocks / parts;
            var tiling = new WinogradTiling(elements, tiles, tilesX, th, tw, stride, pairs, blocks, m, oh, ow, pooled);
            for (int b = 0; b < n; b++)
            {
                FillPlane(x.Slice(b * image, image), plane, c, h, width, planeRows, planeColumns, padTop, padLeft, (byte)zx);
                TransformInput(plane, transformed, c, stride, tilesY, tilesX, rows, columns, planeRows, planeColumns);
                var output = y.Slice(b * outputs, outputs);
                for (int block = first; block < end; block++)
                {
                    int o = 16 * block;
                    // A last block of 8 channels in 256-bit vectors: half the work of a 16-channel one, as in the direct kernels.
                    if (o + 16 > m)
                        WinogradBlock<WinogradLanes8, global::System.Runtime.Intrinsics.Vector256<int>>(new WinogradLanes8(bias, scale, negScale, high, o, zy, lo, hi),
                            transformed, u, output, tiling, block);
                    else if (global::System.Runtime.Intrinsics.X86.Avx512BW.IsSupported)
                        WinogradBlock<WinogradLanes512, global::System.Runtime.Intrinsics.Vector512<int>>(new WinogradLanes512(bias, scale, negScale, high, o, m, zy, lo, hi),
                            transformed, u, output, tiling, block);
                    else
                        WinogradBlock<WinogradLanes256, Sums16>(new WinogradLanes256(bias, scale, negScale, high, o, zy, lo, hi),
                            transformed, u, output, tiling, block);
                }
            }
            return true;
        }

        /// <summary>A layer's tiles and the layouts of its transformed operands, as WinogradBlock reads them.</summary>
        private readonly struct WinogradTiling
        {
            public readonly int Elements, Tiles, TilesX, TileHeight, TileWidth, Stride, Pairs, Blocks, M, OutputHeight, OutputWidth;
            public readonly bool Pooled;

            public WinogradTiling(int elements, int tiles, int tilesX, int tileHeight, int tileWidth, int stride, int pairs, int blocks, int m, int oh, int ow, bool pooled)
            {
                Elements = elements; Tiles = tiles; TilesX = tilesX; TileHeight = tileHeight; TileWidth = tileWidth; Stride = stride;
                Pairs = pairs; Blocks = blocks; M = m; OutputHeight = oh; OutputWidth = ow; Pooled = pooled;
            }
        }

        /// <summary>
        /// U = G' g G'ᵀ for every (output, input) channel pair (along an axis of 1 tap, the tap as it is), laid out as the
        /// multiply reads it: per tile element ξ, per block of 16 output channels, per input channel pair, one 512-bit
        /// vector of 16 (channel k, channel k + 1) int16 pairs. Blocks past m and channels past c are zero. Scalar: once
        /// per process and layer.
        /// </summary>
        private static short[] TransformWeights(global::System.ReadOnlySpan<sbyte> w, int c, int m, int kh, int kw, int row, int blocks, int pairs)
        {
            int rows = kh == 3 ? 4 : 1, columns = kw == 3 ? 4 : 1, plane = blocks * pairs * 32;
            var u = new short[rows * columns * plane];
            global::System.Span<int> g = stackalloc int[3];
            global::System.Span<int> lifted = stackalloc int[4];
            global::System.Span<int> t = stackalloc int[12];
            for (int o = 0; o < m; o++)
                for (int i = 0; i < c; i++)
                {
                    // g[ky][kx] = w[o, ky·row + kx·c + i], packed 8 channels × 4 k per 32 bytes (DotPacked's layout);
                    // t = G' g column by column (t[a·3 + kx]), then each row of t · G'ᵀ.
                    for (int kx = 0; kx < kw; kx++)
                    {
                        for (int ky = 0; ky < kh; ky++) g[ky] = Weight(w, m, o, ky * row + kx * c + i);
                        Lift(g, kh, lifted);
                        for (int a = 0; a < rows; a++) t[3 * a + kx] = lifted[a];
                    }
                    int at = ((o >> 4) * pairs + (i >> 1)) * 32 + 2 * (o & 15) + (i & 1);
                    for (int a = 0; a < rows; a++)
                    {
                        Lift(t.Slice(3 * a, 3), kw, lifted);
                        for (int e = 0; e < columns; e++) u[(a * columns + e) * plane + at] = (short)lifted[e];
                    }
                }
            return u;
        }

        /// <summary>G' g of three taps (2g0, g0 + g1 + g2, g0 − g1 + g2, 2g2), or the one tap as it is.</summary>
        private static void Lift(global::System.ReadOnlySpan<int> g, int taps, global::System.Span<int> lifted)
        {
            if (taps == 1)
            {
                lifted[0] = g[0];
                return;
            }
            lifted[0] = 2 * g[0]; lifted[1] = g[0] + g[1] + g[2]; lifted[2] = g[0] - g[1] + g[2]; lifted[3] = 2 * g[2];
        }

        private static int Weight(global::System.ReadOnlySpan<sbyte> w, int m, int o, int k) => w[(k >> 2) * 4 * m + 4 * o + (k & 3)];

        /// <summary>
        /// V = Bᵀ d B of every tile (for 1×3 d · B of a row of 4, for 3×1 Bᵀ d of a column of 4), 16 channels at a time
        /// (vpmovzxbw from the byte plane; the last block's lanes past c read the next pixel and meet zero weights):
        /// transformed[(ξ · tiles + t) · stride + channel].
        /// </summary>
        private static void TransformInput(global::System.ReadOnlySpan<byte> plane, global::System.Span<short> transformed, int c, int stride, int tilesY, int tilesX,
            int rows, int columns, int planeRows, int planeColumns)
        {
            int pitch = planeColumns * c, tiles = tilesY * tilesX, xi = tiles * stride;
            int tileRows = rows == 4 ? 2 : 1, tileColumns = columns == 4 ? 2 : 1;
            if (transformed.Length < rows * columns * xi || plane.Length < planeRows * pitch + 16) throw Outside();
            ref byte source = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(plane);
            ref short target = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(transformed);
            for (int ty = 0; ty < tilesY; ty++)
                for (int tx = 0; tx < tilesX; tx++)
                    for (int k = 0; k < c; k += 16)
                    {
                        ref byte p = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref source, tileRows * ty * pitch + tileColumns * tx * c + k);
                        ref short v = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref target, (ty * tilesX + tx) * stride + k);
                        if (rows == 1)
                        {
                            RowTransform(ref v, 0, xi, WidenSixteen(ref p), WidenSixteen(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref p, c)),
                                WidenSixteen(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref p, 2 * c)), WidenSixteen(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref p, 3 * c)));
                            continue;
                        }
                        // Columns first (Bᵀ d: rows 0-2, 1+2, 2-1, 1-3 of each column), then each transformed row (· B).
                        ColumnTransform(ref p, pitch, out var a00, out var a10, out var a20, out var a30);
                        if (columns == 1)
                        {
                            global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a00, ref v);
                            global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a10, ref v, (nuint)xi);
                            global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a20, ref v, (nuint)(2 * xi));
                            global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(a30, ref v, (nuint)(3 * xi));
                            continue;
                        }
                        ColumnTransform(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref p, c), pitch, out var a01, out var a11, out var a21, out var a31);
                        ColumnTransform(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref p, 2 * c), pitch, out var a02, out var a12, out var a22, out var a32);
                        ColumnTransform(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref p, 3 * c), pitch, out var a03, out var a13, out var a23, out var a33);
                        RowTransform(ref v, 0, xi, a00, a01, a02, a03);
                        RowTransform(ref v, 4, xi, a10, a11, a12, a13);
                        RowTransform(ref v, 8, xi, a20, a21, a22, a23);
                        RowTransform(ref v, 12, xi, a30, a31, a32, a33);
                    }
        }

        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static void ColumnTransform(ref byte p, int pitch,
            out global::System.Runtime.Intrinsics.Vector256<short> t0, out global::System.Runtime.Intrinsics.Vector256<short> t1,
            out global::System.Runtime.Intrinsics.Vector256<short> t2, out global::System.Runtime.Intrinsics.Vector256<short> t3)
        {
            var d0 = WidenSixteen(ref p);
            var d1 = WidenSixteen(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref p, pitch));
            var d2 = WidenSixteen(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref p, 2 * pitch));
            var d3 = WidenSixteen(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref p, 3 * pitch));
            t0 = d0 - d2; t1 = d1 + d2; t2 = d2 - d1; t3 = d1 - d3;
        }

        /// <summary>Row · B of one transformed row (elements ξ0 … ξ0 + 3), stored to their planes.</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static void RowTransform(ref short v, int xi0, int xi,
            global::System.Runtime.Intrinsics.Vector256<short> r0, global::System.Runtime.Intrinsics.Vector256<short> r1,
            global::System.Runtime.Intrinsics.Vector256<short> r2, global::System.Runtime.Intrinsics.Vector256<short> r3)
        {
            global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(r0 - r2, ref v, (nuint)(xi0 * xi));
            global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(r1 + r2, ref v, (nuint)((xi0 + 1) * xi));
            global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(r2 - r1, ref v, (nuint)((xi0 + 2) * xi));
            global::System.Runtime.Intrinsics.Vector256.StoreUnsafe(r1 - r3, ref v, (nuint)((xi0 + 3) * xi));
        }

        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static global::System.Runtime.Intrinsics.Vector256<short> WidenSixteen(ref byte p) =>
            global::System.Runtime.Intrinsics.X86.Avx2.ConvertToVector256Int16(global::System.Runtime.Intrinsics.Vector128.LoadUnsafe(ref p));

        /// <summary>
        /// One block of 16 output channels (or the last 8) over every tile, four tiles at a time: the 16 products M_ξ
        /// (sums over channel pairs of vpmaddwd(V pair broadcast, U vector)) kept on the stack, then Y = Aᵀ M A,
        /// shifted right by 2 (exact: the sum is 4 · Y), the bias added, requantized. The vector width is
        /// <typeparamref name="TLanes"/>'s: one 512-bit vector of 16 channels (AVX-512BW) or two 256-bit halves (AVX2).
        /// </summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private static void WinogradBlock<TLanes, TSums>(in TLanes lanes, global::System.ReadOnlySpan<short> transformed, short[] u,
            global::System.Span<byte> y, in WinogradTiling tiling, int block)
            where TLanes : struct, IWinogradLanes<TSums>
            where TSums : struct
        {
            int o = 16 * block, m = tiling.M, ow = tiling.OutputWidth, oh = tiling.OutputHeight, stride = tiling.Stride, pairs = tiling.Pairs, tiles = tiling.Tiles;
            var products = Aligned64<TSums>(stackalloc byte[64 * 64 + 63], 64);
            ref short v = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(transformed);
            ref short weights = ref u[0];
            int xi = tiles * stride, plane = tiling.Blocks * pairs * 32;
            for (int t0 = 0; t0 < tiles; t0 += 4)
            {
                int count = tiles - t0 < 4 ? tiles - t0 : 4;
                // A partial group repeats its last tile in the spare slots: computed, never stored.
                int i0 = t0 * stride, i1 = (t0 + (count > 1 ? 1 : 0)) * stride, i2 = (t0 + (count > 2 ? 2 : count - 1)) * stride, i3 = (t0 + count - 1) * stride;
                for (int e = 0; e < tiling.Elements; e++)
                {
                    ref short ue = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref weights, e * plane + block * pairs * 32);
                    ref short ve = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref v, e * xi);
                    var m0 = default(TSums); var m1 = m0; var m2 = m0; var m3 = m0;
                    for (int p = 0; p < pairs; p++)
                    {
                        var uv = lanes.Load(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref ue, 32 * p));
                        m0 = lanes.MultiplyAdd(m0, PairAt(ref ve, i0 + 2 * p), uv);
                        m1 = lanes.MultiplyAdd(m1, PairAt(ref ve, i1 + 2 * p), uv);
                        m2 = lanes.MultiplyAdd(m2, PairAt(ref ve, i2 + 2 * p), uv);
                        m3 = lanes.MultiplyAdd(m3, PairAt(ref ve, i3 + 2 * p), uv);
                    }
                    products[4 * e] = m0; products[4 * e + 1] = m1; products[4 * e + 2] = m2; products[4 * e + 3] = m3;
                }
                for (int k = 0; k < count; k++)
                {
                    int t = t0 + k, ty = t / tiling.TilesX, tx = t - ty * tiling.TilesX;
                    int oy = tiling.TileHeight * ty, ox = tiling.TileWidth * tx, at = (oy * ow + ox) * m + o;
                    if (tiling.Elements == 4)
                    {
                        // F(2, 3) along the kernel's axis: (m0 + m1 + m2, m1 − m2 − m3) / 2, the second output one step along it.
                        RowPair<TLanes, TSums>(lanes, products, 0, k, out var first, out var second);
                        lanes.Store(y, at, lanes.Finish(first, 1));
                        bool wide = tiling.TileWidth == 2;
                        if (wide ? ox + 1 < ow : oy + 1 < oh) lanes.Store(y, at + (wide ? m : ow * m), lanes.Finish(second, 1));
                        continue;
                    }
                    // Aᵀ M A: each row of M to (m0 + m1 + m2, m1 − m2 − m3), then the same down the columns.
                    RowPair<TLanes, TSums>(lanes, products, 0, k, out var r00, out var r01);
                    RowPair<TLanes, TSums>(lanes, products, 16, k, out var r10, out var r11);
                    RowPair<TLanes, TSums>(lanes, products, 32, k, out var r20, out var r21);
                    RowPair<TLanes, TSums>(lanes, products, 48, k, out var r30, out var r31);
                    var y00 = lanes.Finish(lanes.Add(lanes.Add(r00, r10), r20), 2);
                    var y01 = lanes.Finish(lanes.Add(lanes.Add(r01, r11), r21), 2);
                    var y10 = lanes.Finish(lanes.Subtract(lanes.Subtract(r10, r20), r30), 2);
                    var y11 = lanes.Finish(lanes.Subtract(lanes.Subtract(r11, r21), r31), 2);
                    if (tiling.Pooled)
                    {
                        lanes.Store(y, t * m + o, lanes.Max(lanes.Max(y00, y01), lanes.Max(y10, y11)));
                        continue;
                    }
                    lanes.Store(y, at, y00);
                    if (ox + 1 < ow) lanes.Store(y, at + m, y01);
                    if (oy + 1 < oh)
                    {
                        lanes.Store(y, at + ow * m, y10);
                        if (ox + 1 < ow) lanes.Store(y, at + ow * m + m, y11);
                    }
                }
            }
        }

        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static void RowPair<TLanes, TSums>(in TLanes lanes, global::System.Span<TSums> products, int start, int k, out TSums first, out TSums second)
            where TLanes : struct, IWinogradLanes<TSums>
            where TSums : struct
        {
            TSums m0 = products[start + k], m1 = products[start + 4 + k], m2 = products[start + 8 + k], m3 = products[start + 12 + k];
            first = lanes.Add(lanes.Add(m0, m1), m2);
            second = lanes.Subtract(lanes.Subtract(m1, m2), m3);
        }

        /// <summary>The int16 pair at v[i..i+2] as one int32 (to be broadcast).</summary>
        [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static int PairAt(ref short v, int i) =>
            global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<int>(ref global::System.Runtime.CompilerServices.Unsafe.As<short, byte>(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref v, i)));

        /// <summary>
        /// The vector arithmetic of WinogradBlock for 16 output channels' int32 sums (<typeparamref name="TSums"/>), with the
        /// block's bias and requantization: a struct the JIT compiles into the loops, as IDotStep.
        /// </summary>
        private interface IWinogradLanes<TSums> where TSums : struct
        {
            /// <summary>16 (channel, channel) int16 weight pairs of one input channel pair, as int32 lanes.</summary>
            TSums Load(ref short u);

            /// <summary>acc + vpmaddwd(the pair broadcast to every lane, u).</summary>
            TSums MultiplyAdd(TSums acc, int pair, TSums u);

            TSums Add(TSums a, TSums b);

            TSums Subtract(TSums a, TSums b);

            TSums Max(TSums a, TSums b);

            /// <summary>(sums >> shift) + bias: the Winograd sums are 4 · Y (2 · Y in one dimension), exactly.</summary>
            TSums Finish(TSums sums, int shift);

            /// <summary>The 16 channels (8 for the last block of an m ≡ 8 mod 16) requantized into y[at..].</summary>
            void Store(global::System.Span<byte> y, int at, TSums sums);
        }

        /// <summary>AVX-512BW: 16 channels in one 512-bit vector; bias and requantization as ConvBlockAvx512's (ChannelBlock512, always wide here).</summary>
        private readonly struct WinogradLanes512 : IWinogradLanes<global::System.Runtime.Intrinsics.Vector512<int>>
        {
            private readonly ChannelBlock512 _channels;

            public WinogradLanes512(global::System.ReadOnlySpan<int> bias, global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale,
                global::System.ReadOnlySpan<int> high, int o, int m, int zy, int lo, int hi) =>
                _channels = new ChannelBlock512(bias, scale, negScale, high, o, m, zy, lo, hi);

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public global::System.Runtime.Intrinsics.Vector512<int> Load(ref short u) =>
                global::System.Runtime.Intrinsics.Vector512.AsInt32(global::System.Runtime.Intrinsics.Vector512.LoadUnsafe(ref u));

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public global::System.Runtime.Intrinsics.Vector512<int> MultiplyAdd(global::System.Runtime.Intrinsics.Vector512<int> acc, int pair, global::System.Runtime.Intrinsics.Vector512<int> u) =>
                acc + global::System.Runtime.Intrinsics.X86.Avx512BW.MultiplyAddAdjacent(
                    global::System.Runtime.Intrinsics.Vector512.AsInt16(global::System.Runtime.Intrinsics.Vector512.Create(pair)), global::System.Runtime.Intrinsics.Vector512.AsInt16(u));

            public global::System.Runtime.Intrinsics.Vector512<int> Add(global::System.Runtime.Intrinsics.Vector512<int> a, global::System.Runtime.Intrinsics.Vector512<int> b) => a + b;

            public global::System.Runtime.Intrinsics.Vector512<int> Subtract(global::System.Runtime.Intrinsics.Vector512<int> a, global::System.Runtime.Intrinsics.Vector512<int> b) => a - b;

            public global::System.Runtime.Intrinsics.Vector512<int> Max(global::System.Runtime.Intrinsics.Vector512<int> a, global::System.Runtime.Intrinsics.Vector512<int> b) =>
                global::System.Runtime.Intrinsics.Vector512.Max(a, b);

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public global::System.Runtime.Intrinsics.Vector512<int> Finish(global::System.Runtime.Intrinsics.Vector512<int> sums, int shift) =>
                global::System.Runtime.Intrinsics.Vector512.ShiftRightArithmetic(sums, shift) + _channels.Start;

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public void Store(global::System.Span<byte> y, int at, global::System.Runtime.Intrinsics.Vector512<int> sums) => _channels.Store(y, at, sums);
        }

        /// <summary>A last block of 8 channels in one 256-bit vector (AVX2 and AVX-512 alike), Requantization8.</summary>
        private readonly struct WinogradLanes8 : IWinogradLanes<global::System.Runtime.Intrinsics.Vector256<int>>
        {
            private readonly global::System.Runtime.Intrinsics.Vector256<int> _bias;
            private readonly Requantization8 _q;

            public WinogradLanes8(global::System.ReadOnlySpan<int> bias, global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale,
                global::System.ReadOnlySpan<int> high, int o, int zy, int lo, int hi)
            {
                _bias = global::System.Runtime.Intrinsics.Vector256.Create(bias.Slice(o, 8));
                _q = new Requantization8(scale, negScale, high, hi, o, zy, lo);
            }

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public global::System.Runtime.Intrinsics.Vector256<int> Load(ref short u) =>
                global::System.Runtime.Intrinsics.Vector256.AsInt32(global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref u));

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public global::System.Runtime.Intrinsics.Vector256<int> MultiplyAdd(global::System.Runtime.Intrinsics.Vector256<int> acc, int pair, global::System.Runtime.Intrinsics.Vector256<int> u) =>
                acc + global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(
                    global::System.Runtime.Intrinsics.Vector256.AsInt16(global::System.Runtime.Intrinsics.Vector256.Create(pair)), global::System.Runtime.Intrinsics.Vector256.AsInt16(u));

            public global::System.Runtime.Intrinsics.Vector256<int> Add(global::System.Runtime.Intrinsics.Vector256<int> a, global::System.Runtime.Intrinsics.Vector256<int> b) => a + b;

            public global::System.Runtime.Intrinsics.Vector256<int> Subtract(global::System.Runtime.Intrinsics.Vector256<int> a, global::System.Runtime.Intrinsics.Vector256<int> b) => a - b;

            public global::System.Runtime.Intrinsics.Vector256<int> Max(global::System.Runtime.Intrinsics.Vector256<int> a, global::System.Runtime.Intrinsics.Vector256<int> b) =>
                global::System.Runtime.Intrinsics.Vector256.Max(a, b);

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public global::System.Runtime.Intrinsics.Vector256<int> Finish(global::System.Runtime.Intrinsics.Vector256<int> sums, int shift) =>
                global::System.Runtime.Intrinsics.Vector256.ShiftRightArithmetic(sums, shift) + _bias;

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public void Store(global::System.Span<byte> y, int at, global::System.Runtime.Intrinsics.Vector256<int> sums) => _q.Store(y, at, sums);
        }

        /// <summary>Two 256-bit halves of 8 channels each (AVX2), as ConvChannels16Avx2 holds them.</summary>
        private struct Sums16
        {
            public global::System.Runtime.Intrinsics.Vector256<int> Low, High;
        }

        /// <summary>
        /// AVX2: 16 channels as two 256-bit halves, Requantization8 each. Spelled out rather than as two WinogradLanes8:
        /// composed that way the JIT kept the halves in memory, and the CNN ran 15.1 → 19.9 µs at this level.
        /// </summary>
        private readonly struct WinogradLanes256 : IWinogradLanes<Sums16>
        {
            private readonly global::System.Runtime.Intrinsics.Vector256<int> _biasLow, _biasHigh;
            private readonly Requantization8 _q0, _q1;

            public WinogradLanes256(global::System.ReadOnlySpan<int> bias, global::System.ReadOnlySpan<float> scale, global::System.ReadOnlySpan<float> negScale,
                global::System.ReadOnlySpan<int> high, int o, int zy, int lo, int hi)
            {
                _biasLow = global::System.Runtime.Intrinsics.Vector256.Create(bias.Slice(o, 8));
                _biasHigh = global::System.Runtime.Intrinsics.Vector256.Create(bias.Slice(o + 8, 8));
                _q0 = new Requantization8(scale, negScale, high, hi, o, zy, lo);
                _q1 = new Requantization8(scale, negScale, high, hi, o + 8, zy, lo);
            }

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public Sums16 Load(ref short u) => new Sums16
            {
                Low = global::System.Runtime.Intrinsics.Vector256.AsInt32(global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref u)),
                High = global::System.Runtime.Intrinsics.Vector256.AsInt32(global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref u, 16)),
            };

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public Sums16 MultiplyAdd(Sums16 acc, int pair, Sums16 u)
            {
                var x = global::System.Runtime.Intrinsics.Vector256.AsInt16(global::System.Runtime.Intrinsics.Vector256.Create(pair));
                return new Sums16
                {
                    Low = acc.Low + global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(x, global::System.Runtime.Intrinsics.Vector256.AsInt16(u.Low)),
                    High = acc.High + global::System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(x, global::System.Runtime.Intrinsics.Vector256.AsInt16(u.High)),
                };
            }

            public Sums16 Add(Sums16 a, Sums16 b) => new Sums16 { Low = a.Low + b.Low, High = a.High + b.High };

            public Sums16 Subtract(Sums16 a, Sums16 b) => new Sums16 { Low = a.Low - b.Low, High = a.High - b.High };

            public Sums16 Max(Sums16 a, Sums16 b) => new Sums16
            {
                Low = global::System.Runtime.Intrinsics.Vector256.Max(a.Low, b.Low),
                High = global::System.Runtime.Intrinsics.Vector256.Max(a.High, b.High),
            };

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public Sums16 Finish(Sums16 sums, int shift) => new Sums16
            {
                Low = global::System.Runtime.Intrinsics.Vector256.ShiftRightArithmetic(sums.Low, shift) + _biasLow,
                High = global::System.Runtime.Intrinsics.Vector256.ShiftRightArithmetic(sums.High, shift) + _biasHigh,
            };

            [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
            public void Store(global::System.Span<byte> y, int at, Sums16 sums) => _q0.StorePairUnchecked(_q1, ref y.Slice(at, 16)[0], sums.Low, sums.High);
        }
#endif
    }
}
