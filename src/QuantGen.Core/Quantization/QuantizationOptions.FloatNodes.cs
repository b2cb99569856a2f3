namespace QuantGen.Core.Quantization;

/// <summary>The nodes the user keeps in float (FloatNodes, --float-nodes): float islands by request (FloatNodeSelection).</summary>
public sealed partial record QuantizationOptions
{
    /// <summary>
    /// ONNX node names (as <c>quantgen inspect</c> lists them) that run in float whatever kernels exist, each as a float
    /// island (QG0022 lists them as requested); a trailing '*' matches every node whose name starts with the rest. A name
    /// that matches no node of the model is QG0028. Names only select nodes: they never reach generated code.
    /// </summary>
    public IReadOnlyList<string> FloatNodes { get; init; } = [];

    /// <summary>Parses "name1;name2" (MSBuild's list spelling): entries trimmed, empty ones ignored, duplicates kept once.</summary>
    public static IReadOnlyList<string> ParseFloatNodes(string? text) =>
        string.IsNullOrWhiteSpace(text) ? []
        : text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToArray();

    /// <summary>The CLI's repeatable --float-nodes: each value parsed as <see cref="ParseFloatNodes(string?)"/>, all of them together.</summary>
    public static IReadOnlyList<string> ParseFloatNodes(IEnumerable<string>? values) =>
        (values ?? []).SelectMany(v => ParseFloatNodes(v)).Distinct(StringComparer.Ordinal).ToArray();
}
