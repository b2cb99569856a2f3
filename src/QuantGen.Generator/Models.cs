using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using QuantGen.Core.Artifact;

namespace QuantGen.Generator
{
    /// <summary>One artifact and where its class goes. Value-equatable: the incremental pipeline caches on it.</summary>
    /// <remarks>
    /// <see cref="Error"/>: the artifact does not read (QG1001). <see cref="Inconsistency"/>: it reads but fails
    /// <see cref="ArtifactValidation"/> (QG1031). <see cref="NameError"/>: "ClassName" or "Namespace", the item's
    /// metadata that is not a C# name (QG1030).
    /// </remarks>
    internal sealed record ModelSpec(
        string ArtifactPath,
        string ClassName,
        string Namespace,
        bool IsPublic,
        QuantizedArtifact? Artifact,
        string? Error,
        string? Inconsistency = null,
        string? NameError = null)
    {
        /// <summary>The model path as the project named it, normalised for matching [QuantizedModel("...")].</summary>
        public string Source => Artifact?.GetMetadata("source") is { } s ? Paths.Normalize(s) : "";
    }

    /// <summary>A user class carrying [QuantizedModel("path")], reduced to plain values (no symbols kept).</summary>
    internal sealed record AttributeTarget(
        string ModelPath,
        string ClassName,
        string Namespace,
        bool IsPartial,
        bool IsNested,
        LocationInfo Location);

    /// <summary>An equatable stand-in for <see cref="Microsoft.CodeAnalysis.Location"/>.</summary>
    internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
    {
        public static LocationInfo From(Location location) =>
            new(location.SourceTree?.FilePath ?? "", location.SourceSpan, location.GetLineSpan().Span);

        public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);
    }

    internal static class Paths
    {
        public static string Normalize(string path)
        {
            var p = path.Replace('\\', '/');
            while (p.StartsWith("./", System.StringComparison.Ordinal)) p = p.Substring(2);
            return p;
        }

        public static string FileName(string path)
        {
            var p = Normalize(path);
            int slash = p.LastIndexOf('/');
            return slash < 0 ? p : p.Substring(slash + 1);
        }
    }
}
