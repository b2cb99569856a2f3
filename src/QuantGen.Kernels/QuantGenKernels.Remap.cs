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
        /// layouts (channels-last or not), so one gather serves every op and layout. Scalar: a gather of bytes has no
        /// AVX2 form faster than one load per element.
        /// </summary>
        public static void Remap(global::System.ReadOnlySpan<byte> x, global::System.Span<byte> y, global::System.ReadOnlySpan<int> map, int fill)
        {
            if (map.Length < y.Length || fill < 0 || fill > 255) throw new global::System.ArgumentException("A Remap has a map entry per output element and a u8 fill.", nameof(map));
            byte pad = (byte)fill;
            for (int i = 0; i < y.Length; i++)
            {
                int from = map[i];
                y[i] = from >= 0 ? x[from] : pad;
            }
        }
    }
}
