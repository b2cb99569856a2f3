using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>
/// FloatNodes (--float-nodes): the node names the user asked to keep in float, matched against the model's nodes
/// (names as the reader gives them, the ones <c>quantgen inspect</c> and every diagnostic print). A name that matches
/// nothing is QG0028, all of them in one message, each with the closest node name when one is close.
/// </summary>
internal static class FloatNodeSelection
{
    /// <summary>The reason a requested float layer carries (QG0022, QG0024 and the report show it).</summary>
    public const string Reason = "requested (FloatNodes)";

    /// <summary>True for a float layer FloatNodes asked for (not one that merely has no quantized kernel).</summary>
    public static bool IsRequested(FloatLayer layer) => layer.IsFloatOp && layer.FloatReason == Reason;

    /// <summary>The report's settings line: the nodes FloatNodes keeps in float.</summary>
    public static string ReportLine(IEnumerable<FloatLayer> layers) =>
        "Float nodes requested (FloatNodes): " + string.Join(", ", layers.Where(IsRequested).Select(l => $"{l.Name} ({l.FloatNode!.OpType})"));

    /// <summary>The names of the model's nodes the patterns select; empty when none were given.</summary>
    public static IReadOnlySet<string> Resolve(IReadOnlyList<string> patterns, Graph graph, string? modelPath)
    {
        var selected = new HashSet<string>(StringComparer.Ordinal);
        if (patterns.Count == 0) return selected;
        var names = graph.Nodes.Select(n => n.Name).ToArray();
        var unknown = new List<string>();
        foreach (var pattern in patterns)
        {
            var matches = pattern.EndsWith('*')
                ? names.Where(n => n.StartsWith(pattern[..^1], StringComparison.Ordinal)).ToArray()
                : names.Where(n => n == pattern).ToArray();
            if (matches.Length == 0) unknown.Add(pattern);
            selected.UnionWith(matches);
        }
        if (unknown.Count > 0)
            throw new ModelException(ErrorCodes.UnknownFloatNode,
                $"FloatNodes names {unknown.Count} node{(unknown.Count == 1 ? "" : "s")} the model does not have: " +
                string.Join("; ", unknown.Select(u => $"'{u}'{Suggestion(u, names)}")) +
                ". FloatNodes takes ONNX node names separated by ';' (a trailing '*' matches a prefix), as `quantgen inspect` lists them.",
                modelPath);
        return selected;
    }

    /// <summary>" (did you mean 'X'?)" for the node name nearest to <paramref name="name"/> when it is close, else "".</summary>
    private static string Suggestion(string name, IReadOnlyList<string> names)
    {
        string key = name.TrimEnd('*');
        var best = names.Select(n => (Name: n, Distance: Distance(key, n))).OrderBy(c => c.Distance).ThenBy(c => c.Name, StringComparer.Ordinal).FirstOrDefault();
        return best.Name is not null && best.Distance <= Math.Max(2, key.Length / 3) ? $" (did you mean '{best.Name}'?)" : "";
    }

    /// <summary>Levenshtein distance, case-insensitive (a name that differs only in case is close).</summary>
    internal static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int substitution = char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 1]) ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + substitution);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
