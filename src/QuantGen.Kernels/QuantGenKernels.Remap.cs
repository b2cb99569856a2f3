// QuantGen kernels: data movement on one u8 grid (Transpose, Slice, Pad, Resize nearest, ConvTranspose's zero insertion).
// Emitted into the consumer's assembly by QuantGen.Generator (docs/generator.md, "Kernels").
#nullable enable

namespace QuantGen.Generated
{
    internal static partial class QuantGenKernels
    {
        /// <summary>
        /// Data movement as an index map (docs/artifact.md, Remap): y[i] = map[i] ≥ 0 ? x[map[i]] : fill. The map is
        /// built at quantization time by the ONNX operator itself, and permuted at generation time to the buffers'
        /// layouts (channels-last or not), so one gather serves every op and layout. With SSSE3 (RemapWindows), each 16
        /// outputs whose sources lie in the 16 input bytes from the first one's (a run of consecutive indices, a
        /// transpose of small tiles, a nearest upsampling) are one load and one byte shuffle; 16 fills are one store; the
        /// rest is the scalar gather, one load per element.
        /// </summary>
        public static void Remap(global::System.ReadOnlySpan<byte> x, global::System.Span<byte> y, global::System.ReadOnlySpan<int> map, int fill)
        {
            if (map.Length < y.Length || fill < 0 || fill > 255) throw new global::System.ArgumentException("A Remap has a map entry per output element and a u8 fill.", nameof(map));
            byte pad = (byte)fill;
#if QUANTGEN_INTRINSICS
            if (SimdEnabled && global::System.Runtime.Intrinsics.X86.Ssse3.IsSupported && global::System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated && y.Length >= 16)
            {
                RemapWindows(x, y, map, pad);
                return;
            }
#endif
            RemapScalar(x, y, map, pad, 0, y.Length);
        }

        /// <summary>
        /// A Remap's map rebuilt from row templates (the generator's RemapRows): row r, of <paramref name="rowLength"/>
        /// entries, is the template starting at templates[rows[2r]] shifted by rows[2r + 1]; a template entry of
        /// int.MinValue is a fill (−1). Data movement repeats one row pattern across rows (a transpose, a nearest
        /// upsampling, a broadcast, a slice), so the binary stores a few templates and two ints per row, not an int per
        /// output element; this runs once per process, when the class is first used.
        /// </summary>
        public static int[] RemapRows(global::System.ReadOnlySpan<int> templates, global::System.ReadOnlySpan<int> rows, int rowLength)
        {
            if (rowLength <= 0 || rows.Length % 2 != 0) throw new global::System.ArgumentException("Remap rows are (template, offset) pairs of a positive row length.", nameof(rows));
            var map = new int[rows.Length / 2 * rowLength];
            for (int r = 0, i = 0; r < rows.Length; r += 2)
            {
                var template = templates.Slice(rows[r], rowLength);
                int offset = rows[r + 1];
                for (int j = 0; j < rowLength; j++, i++)
                    map[i] = template[j] == int.MinValue ? -1 : offset + template[j];
            }
            return map;
        }

        /// <summary>y[i] = map[i] ≥ 0 ? x[map[i]] : pad for i in [start, end).</summary>
        private static void RemapScalar(global::System.ReadOnlySpan<byte> x, global::System.Span<byte> y, global::System.ReadOnlySpan<int> map, byte pad, int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                int from = map[i];
                y[i] = from >= 0 ? x[from] : pad;
            }
        }
#if QUANTGEN_INTRINSICS

        /// <summary>
        /// Remap 16 outputs at a time: with d = map[i + l] − map[i], all 16 in [0, 16) and map[i] + 16 ≤ x.Length, the
        /// block is pshufb(x[map[i] … map[i] + 15], d) (exact: every output byte is the input byte its map entry names);
        /// 16 entries of −1 are 16 fills; any other block, and the last y.Length mod 16 outputs, the scalar gather.
        /// </summary>
        private static void RemapWindows(global::System.ReadOnlySpan<byte> x, global::System.Span<byte> y, global::System.ReadOnlySpan<int> map, byte pad)
        {
            ref int rm = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(map);
            ref byte rx = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
            ref byte ry = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(y);
            var sixteen = global::System.Runtime.Intrinsics.Vector256.Create(16u);
            var none = global::System.Runtime.Intrinsics.Vector256.Create(-1);
            var fills = global::System.Runtime.Intrinsics.Vector128.Create(pad);
            int i = 0;
            for (; i + 16 <= y.Length; i += 16)
            {
                // The block's first and last entries decide cheaply whether it can be a window or a fill block at all
                // (a transpose across large strides never is: its blocks go straight to the gather).
                int first = map[i], last = map[i + 15];
                if (first >= 0 && (uint)(last - first) < 16 && first <= x.Length - 16)
                {
                    var start = global::System.Runtime.Intrinsics.Vector256.Create(first);
                    var d0 = global::System.Runtime.Intrinsics.Vector256.AsUInt32(global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref rm, (nuint)i) - start);
                    var d1 = global::System.Runtime.Intrinsics.Vector256.AsUInt32(global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref rm, (nuint)(i + 8)) - start);
                    // Unsigned: a source before the first one's (d < 0) is a huge d, and so is a fill (−1 − first).
                    if (global::System.Runtime.Intrinsics.Vector256.LessThanAll(d0, sixteen) && global::System.Runtime.Intrinsics.Vector256.LessThanAll(d1, sixteen))
                    {
                        var words = global::System.Runtime.Intrinsics.Vector256.Narrow(d0, d1);
                        var indices = global::System.Runtime.Intrinsics.Vector128.Narrow(global::System.Runtime.Intrinsics.Vector256.GetLower(words), global::System.Runtime.Intrinsics.Vector256.GetUpper(words));
                        var window = global::System.Runtime.Intrinsics.Vector128.LoadUnsafe(ref rx, (nuint)first);
                        global::System.Runtime.Intrinsics.Vector128.StoreUnsafe(global::System.Runtime.Intrinsics.X86.Ssse3.Shuffle(window, indices), ref ry, (nuint)i);
                        continue;
                    }
                }
                else if (first < 0 && last < 0 && global::System.Runtime.Intrinsics.Vector256.EqualsAll(global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref rm, (nuint)i), none)
                    && global::System.Runtime.Intrinsics.Vector256.EqualsAll(global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref rm, (nuint)(i + 8)), none))
                {
                    global::System.Runtime.Intrinsics.Vector128.StoreUnsafe(fills, ref ry, (nuint)i);
                    continue;
                }
                RemapScalar(x, y, map, pad, i, i + 16);
            }
            RemapScalar(x, y, map, pad, i, y.Length);
        }
#endif
    }
}
