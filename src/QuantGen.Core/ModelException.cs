namespace QuantGen.Core;

/// <summary>
/// A problem with the user's model or data. Always carries a stable QG code, and where known the model path and
/// the node; the MSBuild task and the CLI turn it into a diagnostic instead of a stack trace.
/// </summary>
public sealed class ModelException : Exception
{
    public ModelException(string code, string message, string? modelPath = null, string? nodeName = null, Exception? inner = null)
        : base(message, inner)
    {
        Code = code;
        ModelPath = modelPath;
        NodeName = nodeName;
    }

    /// <summary>"QGnnnn", see <see cref="ErrorCodes"/>.</summary>
    public string Code { get; }

    public string? ModelPath { get; }

    public string? NodeName { get; }

    /// <summary>A copy with the model path and/or node filled in where they were not known at the throw site.</summary>
    public ModelException WithContext(string? modelPath = null, string? nodeName = null) =>
        new(Code, Message, ModelPath ?? modelPath, NodeName ?? nodeName, InnerException ?? this);

    /// <summary>
    /// "path: error QG0003: message (node 'x')", the canonical MSBuild-style one-line form. Path, message and node
    /// go through <see cref="Artifact.SafeText.DiagnosticLine"/>: a name holding a line break cannot start a forged
    /// diagnostic line of its own.
    /// </summary>
    public override string ToString() =>
        $"{Artifact.SafeText.DiagnosticLine(ModelPath ?? "<model>")}: error {Code}: {Artifact.SafeText.DiagnosticLine(Message)}"
        + (NodeName is null ? "" : $" (node '{Artifact.SafeText.DiagnosticLine(NodeName)}')");
}
