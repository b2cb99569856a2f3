using System.Collections.Generic;
using System.Linq;

namespace QuantGen.Generator
{
    /// <summary>
    /// A Remap's index map as row templates (kernel: QuantGenKernels.RemapRows). The map is cut into rows of one length;
    /// each row is stored as a template (its entries minus the row's first source index; fills as int.MinValue) and an
    /// offset, and equal templates are stored once. A transpose, a nearest upsampling, a broadcast or a slice repeats
    /// one pattern across its rows, so a map of an int per output element (64 KB for a small segmenter's upsampling,
    /// five times its weights) becomes a few templates and two ints per row. The row length is the one, among the
    /// output buffer's trailing dimension products, that stores the fewest ints.
    /// </summary>
    internal static class RemapRows
    {
        /// <summary>The encoding: the rows' length, the templates back to back, and per row its template's start and offset.</summary>
        internal sealed record Encoding(int RowLength, int[] Templates, int[] Rows)
        {
            public int Size => Templates.Length + Rows.Length;
        }

        /// <summary>
        /// The smallest encoding of <paramref name="map"/> over the row lengths the trailing dimensions of
        /// <paramref name="bufferShape"/> give, or null when none stores at most half the map's ints (an unstructured
        /// map stays a plain array: rebuilding it would only cost start-up time).
        /// </summary>
        public static Encoding? Encode(int[] map, int[] bufferShape)
        {
            Encoding? best = null;
            long length = 1;
            for (int d = bufferShape.Length - 1; d > 0; d--)
            {
                length *= bufferShape[d];
                if (length <= 0 || length >= map.Length || map.Length % length != 0) break;
                var encoding = EncodeRows(map, (int)length);
                if (best is null || encoding.Size < best.Size) best = encoding;
            }
            return best is not null && 2L * best.Size <= map.Length ? best : null;
        }

        /// <summary>Rows of <paramref name="rowLength"/> entries, each a (template start, offset) pair, equal templates shared.</summary>
        internal static Encoding EncodeRows(int[] map, int rowLength)
        {
            var templates = new List<int>();
            var starts = new Dictionary<RowPattern, int>();
            int count = map.Length / rowLength;
            var rows = new int[2 * count];
            for (int r = 0; r < count; r++)
            {
                int begin = r * rowLength;
                int offset = 0;
                for (int j = 0; j < rowLength; j++)
                    if (map[begin + j] >= 0)
                    {
                        offset = map[begin + j];
                        break;
                    }
                var pattern = new int[rowLength];
                for (int j = 0; j < rowLength; j++)
                    pattern[j] = map[begin + j] < 0 ? int.MinValue : map[begin + j] - offset;
                var key = new RowPattern(pattern);
                if (!starts.TryGetValue(key, out int start))
                {
                    start = templates.Count;
                    starts.Add(key, start);
                    templates.AddRange(pattern);
                }
                rows[2 * r] = start;
                rows[2 * r + 1] = offset;
            }
            return new Encoding(rowLength, templates.ToArray(), rows);
        }

        /// <summary>A row's template as a dictionary key, compared by content.</summary>
        private readonly struct RowPattern : System.IEquatable<RowPattern>
        {
            private readonly int[] _values;
            private readonly int _hash;

            public RowPattern(int[] values)
            {
                _values = values;
                int hash = 17;
                foreach (int v in values) hash = unchecked(hash * 31 + v);
                _hash = hash;
            }

            public bool Equals(RowPattern other) => _hash == other._hash && _values.SequenceEqual(other._values);

            public override bool Equals(object? obj) => obj is RowPattern other && Equals(other);

            public override int GetHashCode() => _hash;
        }
    }
}
