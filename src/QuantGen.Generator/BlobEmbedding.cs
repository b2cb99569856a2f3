using System;
using System.Globalization;
using System.Text;
using QuantGen.Core.Artifact;

namespace QuantGen.Generator
{
    /// <summary>
    /// How a model's constant data is written into C# (docs/generator.md, "Weight embedding"). Small blobs are array
    /// initializers, which the compiler stores as static RVA data. Large blobs are string literals packing two bytes
    /// per UTF-16 char, because the C# compiler binds an array initializer of millions of elements in super-linear
    /// time while it reads a string literal in linear time.
    /// </summary>
    internal static class BlobEmbedding
    {
        /// <summary>Blobs of at most this many bytes are array initializers; larger ones are packed string literals.</summary>
        public const int MaxArrayInitializerBytes = 4096;

        /// <summary>
        /// The most user-string heap the packed blobs of one compilation may take. ECMA-335 addresses the heap with
        /// 24-bit offsets, so every string literal of an assembly must start below 16 MiB; the remaining 4 MiB are
        /// left to the project's own literals, which the compiler may place after ours.
        /// </summary>
        public const long StringHeapBudgetBytes = 12L * 1024 * 1024;

        /// <summary>The blob's little-endian bytes (int32 values as four bytes each).</summary>
        public static byte[] Bytes(ArtifactBlob blob)
        {
            var values = blob.Values;
            switch (blob.Type)
            {
                case BlobType.I8:
                case BlobType.U8:
                {
                    int min = blob.Type == BlobType.I8 ? sbyte.MinValue : byte.MinValue;
                    int max = blob.Type == BlobType.I8 ? sbyte.MaxValue : byte.MaxValue;
                    var bytes = new byte[values.Count];
                    for (int i = 0; i < bytes.Length; i++)
                    {
                        int v = values[i];
                        if (v < min || v > max)
                            throw new ArtifactFormatException($"Blob '{blob.Key}' holds {v.ToString(CultureInfo.InvariantCulture)}, outside its type's range.");
                        bytes[i] = unchecked((byte)v);
                    }
                    return bytes;
                }
                case BlobType.I32:
                {
                    var bytes = new byte[values.Count * 4];
                    for (int i = 0; i < values.Count; i++)
                    {
                        int v = values[i];
                        bytes[4 * i] = unchecked((byte)v);
                        bytes[4 * i + 1] = unchecked((byte)(v >> 8));
                        bytes[4 * i + 2] = unchecked((byte)(v >> 16));
                        bytes[4 * i + 3] = unchecked((byte)(v >> 24));
                    }
                    return bytes;
                }
                case BlobType.F32:
                {
                    // The generator's own float32 data (requantization scales), as their IEEE bits.
                    var floats = blob.FloatValues;
                    var bytes = new byte[floats.Count * 4];
                    for (int i = 0; i < floats.Count; i++)
                    {
                        int v = BitConverter.ToInt32(BitConverter.GetBytes(floats[i]), 0);
                        bytes[4 * i] = unchecked((byte)v);
                        bytes[4 * i + 1] = unchecked((byte)(v >> 8));
                        bytes[4 * i + 2] = unchecked((byte)(v >> 16));
                        bytes[4 * i + 3] = unchecked((byte)(v >> 24));
                    }
                    return bytes;
                }
                default:
                    throw new ArtifactFormatException($"Blob '{blob.Key}' has type {blob.Type}, which no layer kind uses.");
            }
        }

        /// <summary>Whether a blob of this many bytes is emitted as a packed string literal.</summary>
        public static bool IsPacked(long byteLength) => byteLength > MaxArrayInitializerBytes;

        /// <summary>The bytes <see cref="Bytes"/> returns for <paramref name="blob"/>, without building them.</summary>
        public static long ByteLength(ArtifactBlob blob) =>
            blob.Type is BlobType.I8 or BlobType.U8 ? blob.Values.Count : blob.Type == BlobType.F32 ? 4L * blob.FloatValues.Count : 4L * blob.Values.Count;

        /// <summary>
        /// The user-string heap bytes the plan's packed blobs take (ECMA-335 II.24.2.4: a compressed length, two bytes
        /// per char, one trailing byte). Counted from the plan, not the artifact: the plan holds the data as emitted
        /// (sub-8-bit weights packed 2 or 4 bits to a byte, the float32 scales the generator derives), and counting
        /// builds no literal, so the check stays cheap.
        /// </summary>
        public static long StringHeapBytes(ModelPlan plan)
        {
            long total = 0;
            foreach (var data in plan.Data)
            {
                long length = ByteLength(data.Blob);
                if (!IsPacked(length)) continue;
                long entry = 2 * ((length + 1) / 2) + 1;
                total += entry + (entry < 0x80 ? 1 : entry < 0x4000 ? 2 : 4);
            }
            return total;
        }

        /// <summary>
        /// A C# string literal holding <paramref name="bytes"/> two per char, little-endian (an odd length is padded
        /// with a zero byte). Printable ASCII other than the quote and the backslash is written as itself, the quote and
        /// the backslash as <c>\"</c> and <c>\\</c>, every other char (controls, non-ASCII, lone surrogates) as
        /// <c>\uXXXX</c>: the source stays ASCII, on one line, and means the same to every C# compiler.
        /// </summary>
        public static string PackedLiteral(byte[] bytes)
        {
            var sb = new StringBuilder(2 + 3 * bytes.Length);
            sb.Append('"');
            for (int i = 0; i < bytes.Length; i += 2)
            {
                int c = bytes[i] | (i + 1 < bytes.Length ? bytes[i + 1] << 8 : 0);
                if (c == '"' || c == '\\') sb.Append('\\').Append((char)c);
                else if (c >= 0x20 && c <= 0x7E) sb.Append((char)c);
                else sb.Append("\\u").Append(c.ToString("X4", CultureInfo.InvariantCulture));
            }
            return sb.Append('"').ToString();
        }
    }
}
