namespace QuantGen.Core;

/// <summary>
/// A problem with a model's build that does not stop it (the artifact is written): "path: warning QGnnnn: message",
/// the MSBuild-style line the build task turns into a build warning.
/// </summary>
public sealed record ModelWarning(string Code, string Message, string? ModelPath)
{
    public override string ToString() =>
        $"{Artifact.SafeText.DiagnosticLine(ModelPath ?? "<model>")}: warning {Code}: {Artifact.SafeText.DiagnosticLine(Message)}";
}
