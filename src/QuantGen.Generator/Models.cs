using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using QuantGen.Core.Artifact;

namespace QuantGen.Generator
{
    /// <summary>One artifact and where its class goes. Value-equatable: the incremental pipeline caches on it.</summary>
    /// <remarks>
    /// <see cref="Error"/> with <see cref="Problem"/>: the artifact does not read (QG1001), fails
    /// <see cref="ArtifactValidation"/> (QG1031), the generator's budget (QG1041) or <see cref="ArtifactGeometry"/>
    /// (QG1040). <see cref="NameError"/>: "ClassName" or "Namespace", the item's metadata that is not a C# name (QG1030).
    /// </remarks>
    internal sealed record ModelSpec(
        string ArtifactPath,
        string ClassName,
        string Namespace,
        bool IsPublic,
        QuantizedArtifact? Artifact,
        string? Error,
        ModelProblem Problem = ModelProblem.None,
        long MaxSourceChars = GeneratorBudget.DefaultMaxSourceChars,
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

    /// <summary>Why a model is not emitted (its diagnostic), or None.</summary>
    internal enum ModelProblem
    {
        None,
        /// <summary>QG1001: the artifact cannot be read.</summary>
        Unreadable,
        /// <summary>QG1031: it reads, but its tensors and layers do not fit together (ArtifactValidation).</summary>
        Inconsistent,
        /// <summary>QG1040: a layer's geometry or sizes are inconsistent.</summary>
        Geometry,
        /// <summary>QG1041: over the generator's budget.</summary>
        Budget,
    }

    /// <summary>
    /// The generator's share of the resource budget (docs/security.md): checked on the artifact before anything is
    /// emitted (layers, tensor sizes) and on the emitted text before it reaches the compiler. Raised per model with the
    /// QuantModel metadata MaxNodes, MaxTensorElements and MaxGeneratedSourceChars (passed as AdditionalFiles metadata).
    /// </summary>
    internal static class GeneratorBudget
    {
        public const long DefaultMaxSourceChars = 64L << 20;
        public const long DefaultMaxLayers = 10_000;
        public const long DefaultMaxTensorElements = 1L << 26;

        /// <summary>Null when the artifact fits, else what is over.</summary>
        public static string? Check(QuantizedArtifact artifact, long maxLayers, long maxTensorElements)
        {
            if (artifact.Layers.Count > maxLayers)
                return $"{artifact.Layers.Count} layers, over the budget of {maxLayers} (MaxNodes)";
            foreach (var t in artifact.Tensors)
            {
                long n = ArtifactGeometry.ElementCount(t.Shape);
                if (n < 0 || n > maxTensorElements)
                    return $"tensor '{t.Name}' has {(n < 0 ? "more than 2^31" : n.ToString(System.Globalization.CultureInfo.InvariantCulture))} elements, over the budget of {maxTensorElements} (MaxTensorElements)";
            }
            return null;
        }

        public static long Read(Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions options, string name, long fallback) =>
            options.TryGetValue("build_metadata.AdditionalFiles." + name, out var text)
            && long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long value) && value > 0
                ? value : fallback;
    }
}
