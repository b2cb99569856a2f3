namespace QuantGen.Core.IO;

/// <summary>One NAME=VALUE entry of a setting; <see cref="Name"/> is "" where the entry names nothing (the model's only input).</summary>
public readonly record struct SettingEntry(string Name, string Value, string Text);

/// <summary>
/// The NAME=VALUE lists that item metadata and CLI options take (InputShapes, InputRange, InputMean, --dim, --input,
/// --calibration): one reader, so every setting splits, trims and complains alike.
/// </summary>
public static class SettingList
{
    /// <summary>
    /// "NAME=VALUE;NAME=VALUE" or a bare "VALUE": entries split on ';' and trimmed, empty ones skipped.
    /// <paramref name="setting"/> names the metadata or option in errors.
    /// </summary>
    public static IEnumerable<SettingEntry> Parse(string? text, string setting)
    {
        foreach (var entry in (text ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            yield return Entry(entry, setting);
    }

    /// <summary>The entries of <see cref="Parse"/> by name; a name given twice is an error (QG0015), not the last one winning.</summary>
    public static Dictionary<string, string> ParseUnique(string? text, string setting)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in Parse(text, setting))
            if (!values.TryAdd(entry.Name, entry.Value))
                throw new ModelException(ErrorCodes.InvalidOption, $"{setting}=\"{text}\" gives {Describe(entry.Name)} twice.");
        return values;
    }

    /// <summary>"input 'x'", or "the input" for the unnamed entry: how errors name an entry's target.</summary>
    public static string Describe(string name) => name.Length == 0 ? "the input" : $"input '{name}'";

    /// <summary>One entry, "NAME=VALUE" or "VALUE" (a value that may hold ';', such as a file path, is not split).</summary>
    public static SettingEntry Entry(string entry, string setting)
    {
        int eq = entry.IndexOf('=');
        if (eq == 0) throw new ModelException(ErrorCodes.InvalidOption, $"{setting}: '{entry}' has an empty name before '='.");
        return eq < 0 ? new("", entry.Trim(), entry) : new(entry[..eq].Trim(), entry[(eq + 1)..].Trim(), entry);
    }
}
