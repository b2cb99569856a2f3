using QuantGen.Core;
using QuantGen.Onnx.Proto;

namespace QuantGen.Onnx;

/// <summary>
/// Reads tensor bytes stored outside the model file (data_location = EXTERNAL). The location must stay inside the
/// model's folder: absolute paths, ".." escapes and symlinks pointing out are refused (QG0007).
/// </summary>
internal static class ExternalDataReader
{
    public static byte[] Read(TensorProto proto, string? baseDirectory, long expectedBytes, string what)
    {
        string? location = null;
        long offset = 0, length = -1;
        foreach (var entry in proto.ExternalData)
        {
            switch (entry.Key)
            {
                case "location": location = entry.Value; break;
                case "offset": offset = ParseLong(entry.Value, "offset", what); break;
                case "length": length = ParseLong(entry.Value, "length", what); break;
            }
        }
        if (string.IsNullOrEmpty(location))
            throw new ModelException(ErrorCodes.ExternalData, $"{what} is stored externally but names no location.");
        if (baseDirectory is null)
            throw new ModelException(ErrorCodes.ExternalData, $"{what} is stored in '{location}', but the model was not loaded from a file.");

        var file = ResolveInside(baseDirectory, location, what);
        if (length < 0) length = expectedBytes;
        if (length != expectedBytes)
            throw new ModelException(ErrorCodes.ExternalData, $"{what} declares {length} bytes of external data, its shape needs {expectedBytes}.");

        var info = new FileInfo(file);
        if (offset < 0 || offset > info.Length || info.Length - offset < length)
            throw new ModelException(ErrorCodes.ExternalData, $"{what}: '{location}' is {info.Length} bytes, too short for offset {offset} + length {length}.");

        var bytes = new byte[length];
        using var stream = File.OpenRead(file);
        stream.Position = offset;
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>The full path of <paramref name="location"/> under <paramref name="baseDirectory"/>, following symlinks, or QG0007.</summary>
    internal static string ResolveInside(string baseDirectory, string location, string what)
    {
        if (Path.IsPathRooted(location) || location.Contains('\0'))
            throw new ModelException(ErrorCodes.ExternalData, $"{what}: external data location '{location}' must be a relative path inside the model's folder.");

        var root = RealPath(Path.GetFullPath(baseDirectory));
        var candidate = Path.GetFullPath(Path.Combine(root, location));
        if (!IsUnder(candidate, root))
            throw new ModelException(ErrorCodes.ExternalData, $"{what}: external data location '{location}' points outside the model's folder.");
        if (!File.Exists(candidate))
            throw new ModelException(ErrorCodes.ExternalData, $"{what}: external data file '{location}' does not exist next to the model.");
        var real = RealPath(candidate);
        if (!IsUnder(real, root))
            throw new ModelException(ErrorCodes.ExternalData, $"{what}: external data location '{location}' is a link to a file outside the model's folder.");
        return real;
    }

    /// <summary>Resolves every symlink on the path, component by component.</summary>
    private static string RealPath(string path)
    {
        var full = Path.GetFullPath(path);
        var root = Path.GetPathRoot(full)!;
        var current = root;
        foreach (var part in full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
            if (info.LinkTarget is not null)
            {
                var target = info.ResolveLinkTarget(returnFinalTarget: true);
                if (target is not null) current = RealPath(target.FullName);
            }
        }
        return current;
    }

    private static bool IsUnder(string path, string root)
    {
        var prefix = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        return path.StartsWith(prefix, StringComparison.Ordinal);
    }

    private static long ParseLong(string value, string key, string what) =>
        long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new ModelException(ErrorCodes.ExternalData, $"{what}: external data {key} '{value}' is not a non-negative integer.");
}
