using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using QuantGen.Core.Ir;

namespace QuantGen.Core.IO;

/// <summary>
/// NumPy .npy files, QuantGen's tensor exchange format: format versions 1.0, 2.0 and 3.0, little-endian
/// float32/float64/int64/int32/int8/uint8/bool, C order. The header is parsed strictly and the shape checked before
/// anything is allocated; every problem is QG0012 naming the file.
/// </summary>
public static class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static Tensor Read(string path, ResourceBudget? budget = null)
    {
        if (!File.Exists(path)) throw new ModelException(ErrorCodes.FileNotFound, $"Tensor file '{path}' does not exist.", path);
        using var stream = File.OpenRead(path);
        return Read(stream, path, budget);
    }

    /// <summary>
    /// Reads one array. The header's shape is checked against <paramref name="budget"/> (QG0041) and, on a seekable
    /// stream, against the bytes the file holds (QG0012) before the array is allocated: a header claiming 2^30
    /// elements over a few bytes of data allocates nothing.
    /// </summary>
    public static Tensor Read(Stream stream, string path, ResourceBudget? budget = null)
    {
        budget ??= ResourceBudget.Default;
        var prefix = new byte[10];
        if (stream.ReadAtLeast(prefix, 10, throwOnEndOfStream: false) < 10 || !prefix.AsSpan(0, 6).SequenceEqual(Magic))
            throw Bad(path, "not a NumPy .npy file (bad magic)");
        int major = prefix[6];
        int headerLength;
        int consumed = 10;
        if (major == 1)
        {
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(prefix.AsSpan(8));
        }
        else if (major is 2 or 3)
        {
            var extra = new byte[2];
            if (stream.ReadAtLeast(extra, 2, throwOnEndOfStream: false) < 2) throw Bad(path, "truncated header");
            uint length = BinaryPrimitives.ReadUInt32LittleEndian([prefix[8], prefix[9], extra[0], extra[1]]);
            if (length > 1 << 20) throw Bad(path, $"header length {length} is implausible");
            headerLength = (int)length;
            consumed = 12;
        }
        else
        {
            throw Bad(path, $"format version {major} is not supported");
        }

        var headerBytes = new byte[headerLength];
        if (stream.ReadAtLeast(headerBytes, headerLength, throwOnEndOfStream: false) < headerLength) throw Bad(path, "truncated header");
        var header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);
        var (descr, fortran, shape) = ParseHeader(header, path);
        if (fortran) throw Bad(path, "Fortran-ordered arrays are not supported; save with np.ascontiguousarray");
        var type = descr switch
        {
            "<f4" => DataType.Float,
            "<f8" => DataType.Double,
            "<i8" => DataType.Int64,
            "<i4" => DataType.Int32,
            "|i1" => DataType.Int8,
            "|u1" => DataType.UInt8,
            "|b1" => DataType.Bool,
            _ => throw Bad(path, $"dtype '{descr}' is not supported (use little-endian float32, float64, int64, int32, int8, uint8 or bool)"),
        };
        int[] dims;
        try
        {
            dims = ShapeMath.ToIntShape(shape, $"array in '{path}'");
        }
        catch (ModelException e)
        {
            throw new ModelException(ErrorCodes.BadTensorFile, e.Message, path);
        }
        long elements = ResourceBudget.Product(Array.ConvertAll(dims, d => (long)d));
        try
        {
            budget.RequireTensor(elements, $"the array in '{path}' {ShapeMath.Format(dims)}");
        }
        catch (ModelException e)
        {
            throw new ModelException(e.Code, e.Message, path);
        }
        long needed = elements * DataTypes.SizeOf(type);
        if (stream.CanSeek && stream.Length - stream.Position < needed)
            throw Bad(path, $"data is truncated: shape {ShapeMath.Format(dims)} needs {needed} bytes after the {consumed + headerLength}-byte header, the file has {stream.Length - stream.Position}");
        var tensor = Tensor.Zeros(type, dims);
        var bytes = MemoryMarshal.AsBytes(Bytes(tensor));
        if (stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false) < bytes.Length)
            throw Bad(path, $"data is truncated: shape {ShapeMath.Format(dims)} needs {bytes.Length} bytes after the {consumed + headerLength}-byte header");
        return tensor;
    }

    /// <summary>Writes format 1.0 (2.0 when the header needs it), header padded so the data starts 64-byte aligned, as numpy does.</summary>
    public static void Write(string path, Tensor tensor)
    {
        var descr = tensor.DataType switch
        {
            DataType.Float => "<f4",
            DataType.Double => "<f8",
            DataType.Int64 => "<i8",
            DataType.Int32 => "<i4",
            DataType.Int8 => "|i1",
            DataType.UInt8 => "|u1",
            DataType.Bool => "|b1",
            _ => throw new ArgumentException($"Cannot write {DataTypes.Name(tensor.DataType)} to .npy."),
        };
        var shape = tensor.Rank == 1 ? $"({tensor.Shape[0]},)" : "(" + string.Join(", ", tensor.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")";
        var dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        int prefix = 10;
        int total = (prefix + dict.Length + 1 + 63) / 64 * 64;
        bool v2 = total - prefix > ushort.MaxValue;
        if (v2) { prefix = 12; total = (prefix + dict.Length + 1 + 63) / 64 * 64; }
        var header = dict.PadRight(total - prefix - 1) + "\n";
        using var stream = File.Create(path);
        stream.Write(Magic);
        stream.Write([(byte)(v2 ? 2 : 1), 0]);
        if (v2)
        {
            Span<byte> length = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)header.Length);
            stream.Write(length);
        }
        else
        {
            Span<byte> length = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)header.Length);
            stream.Write(length);
        }
        stream.Write(Encoding.Latin1.GetBytes(header));
        stream.Write(MemoryMarshal.AsBytes(Bytes(tensor)));
    }

    private static Span<byte> Bytes(Tensor t) => t.DataType switch
    {
        DataType.Float => MemoryMarshal.AsBytes(t.AsSpan<float>()),
        DataType.Double => MemoryMarshal.AsBytes(t.AsSpan<double>()),
        DataType.Int64 => MemoryMarshal.AsBytes(t.AsSpan<long>()),
        DataType.Int32 => MemoryMarshal.AsBytes(t.AsSpan<int>()),
        DataType.Int8 => MemoryMarshal.AsBytes(t.AsSpan<sbyte>()),
        DataType.UInt8 => t.AsSpan<byte>(),
        _ => MemoryMarshal.AsBytes(t.AsSpan<bool>()),
    };

    /// <summary>Parses numpy's header dict literal: exactly the keys descr, fortran_order and shape.</summary>
    private static (string Descr, bool Fortran, long[] Shape) ParseHeader(string header, string path)
    {
        var text = header.TrimEnd('\n', ' ', '\0');
        if (!text.StartsWith('{') || !text.EndsWith('}')) throw Bad(path, "header is not a dictionary");
        string? descr = null;
        bool? fortran = null;
        long[]? shape = null;
        int i = 1;
        while (true)
        {
            SkipSpaces(text, ref i, path);
            if (text[i] == '}') break;
            var key = ReadQuoted(text, ref i, path);
            SkipSpaces(text, ref i, path);
            Expect(text, ref i, ':', path);
            SkipSpaces(text, ref i, path);
            switch (key)
            {
                case "descr": descr = ReadQuoted(text, ref i, path); break;
                case "fortran_order":
                    if (text.AsSpan(i).StartsWith("True")) { fortran = true; i += 4; }
                    else if (text.AsSpan(i).StartsWith("False")) { fortran = false; i += 5; }
                    else throw Bad(path, "fortran_order is not True or False");
                    break;
                case "shape":
                {
                    Expect(text, ref i, '(', path);
                    var dims = new List<long>();
                    while (true)
                    {
                        SkipSpaces(text, ref i, path);
                        if (text[i] == ')') { i++; break; }
                        int start = i;
                        while (i < text.Length && char.IsAsciiDigit(text[i])) i++;
                        if (!long.TryParse(text.AsSpan(start, i - start), NumberStyles.None, CultureInfo.InvariantCulture, out var d))
                            throw Bad(path, "shape holds a value that is not a non-negative integer");
                        dims.Add(d);
                        SkipSpaces(text, ref i, path);
                        if (text[i] == ',') i++;
                    }
                    shape = dims.ToArray();
                    break;
                }
                default: throw Bad(path, $"unexpected header key '{key}'");
            }
            SkipSpaces(text, ref i, path);
            if (text[i] == ',') i++;
        }
        if (descr is null || fortran is null || shape is null) throw Bad(path, "header lacks descr, fortran_order or shape");
        return (descr, fortran.Value, shape);
    }

    private static void SkipSpaces(string text, ref int i, string path)
    {
        while (i < text.Length && text[i] == ' ') i++;
        if (i >= text.Length) throw Bad(path, "header ends early");
    }

    private static void Expect(string text, ref int i, char c, string path)
    {
        if (i >= text.Length || text[i] != c) throw Bad(path, $"header: expected '{c}'");
        i++;
    }

    private static string ReadQuoted(string text, ref int i, string path)
    {
        char quote = text[i];
        if (quote is not ('\'' or '"')) throw Bad(path, "header: expected a quoted string");
        int end = text.IndexOf(quote, i + 1);
        if (end < 0) throw Bad(path, "header: unterminated string");
        var value = text[(i + 1)..end];
        i = end + 1;
        return value;
    }

    private static ModelException Bad(string path, string message) => new(ErrorCodes.BadTensorFile, $"'{path}': {message}.", path);
}
