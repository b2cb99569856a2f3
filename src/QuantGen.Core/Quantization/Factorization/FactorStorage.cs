namespace QuantGen.Core.Quantization.Factorization;

/// <summary>
/// The byte layout of a factor in the artifact (docs/artifact.md, FactorizedFullyConnected): values as a stream of
/// <c>bits</c>-bit two's-complement fields, value i in bits [i·bits, (i+1)·bits) with bit j of the stream being bit
/// j mod 8 of byte j / 8 (least significant first); column indices one byte each for factors of at most 256 columns,
/// else two bytes little-endian. The simulator reads with the same functions the generated code inlines.
/// </summary>
public static class FactorStorage
{
    public static int[] PackValues(ReadOnlySpan<int> levels, int bits)
    {
        var bytes = new int[(levels.Length * bits + 7) / 8];
        int mask = (1 << bits) - 1;
        for (int i = 0; i < levels.Length; i++)
        {
            int field = levels[i] & mask, bit = i * bits;
            bytes[bit >> 3] |= (field << (bit & 7)) & 0xFF;
            if ((bit & 7) + bits > 8) bytes[(bit >> 3) + 1] |= field >> (8 - (bit & 7));
        }
        return bytes;
    }

    /// <summary>Value i of a packed stream, sign-extended.</summary>
    public static int ReadValue(ReadOnlySpan<int> bytes, int i, int bits)
    {
        int bit = i * bits, at = bit >> 3, offset = bit & 7;
        int word = bytes[at] | (offset + bits > 8 ? bytes[at + 1] << 8 : 0);
        int field = (word >> offset) & ((1 << bits) - 1);
        return field >= 1 << (bits - 1) ? field - (1 << bits) : field;
    }

    public static int[] PackIndices(ReadOnlySpan<int> columns, int cols)
    {
        if (cols <= 256) return columns.ToArray();
        var bytes = new int[columns.Length * 2];
        for (int i = 0; i < columns.Length; i++)
        {
            bytes[2 * i] = columns[i] & 0xFF;
            bytes[2 * i + 1] = columns[i] >> 8;
        }
        return bytes;
    }

    public static int ReadIndex(ReadOnlySpan<int> bytes, int i, int cols) =>
        cols <= 256 ? bytes[i] : bytes[2 * i] | bytes[2 * i + 1] << 8;
}
