extern alias generator;

using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using QuantGenGenerator = generator::QuantGen.Generator.QuantGenGenerator;

namespace QuantGen.Tests.Generator;

/// <summary>Runs the QuantGen generator on in-memory artifacts and compiles what it emits.</summary>
internal static class GeneratorHarness
{
    public sealed class InMemoryText(string path, string text) : AdditionalText
    {
        public override string Path { get; } = path;

        public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(text);
    }

    private sealed class Options(Dictionary<string, string> values) : AnalyzerConfigOptions
    {
        public override bool TryGetValue(string key, out string value) => values.TryGetValue(key, out value!);
    }

    /// <summary>Per-file metadata from a dictionary keyed by file path, plus global properties.</summary>
    public sealed class OptionsProvider(Dictionary<string, Dictionary<string, string>> perFile, Dictionary<string, string> global) : AnalyzerConfigOptionsProvider
    {
        public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(global);

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => new Options([]);

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) =>
            new Options(perFile.TryGetValue(textFile.Path, out var v) ? v : []);
    }

    public static CSharpParseOptions ParseOptions(LanguageVersion version = LanguageVersion.Latest) => new(version);

    /// <summary>The running framework's System.*, mscorlib and netstandard assemblies: what a consumer compiles against.</summary>
    public static ImmutableArray<MetadataReference> References { get; } =
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .Order(StringComparer.Ordinal)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToImmutableArray();

    /// <summary>
    /// The SDK's .NET reference assemblies without System.Runtime.Intrinsics: a consumer whose framework has spans but
    /// no Vector128/256/512 or AvxVnni (as netstandard2.1 and Unity), which must get the scalar kernels.
    /// </summary>
    public static ImmutableArray<MetadataReference> ReferencesWithoutIntrinsics { get; } = LoadReferencesWithoutIntrinsics();

    private static ImmutableArray<MetadataReference> LoadReferencesWithoutIntrinsics()
    {
        // .../dotnet/shared/Microsoft.NETCore.App/VERSION/System.Private.CoreLib.dll → .../dotnet/packs/Microsoft.NETCore.App.Ref/*/ref/netX.Y
        var dotnet = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "..", "..", ".."));
        var framework = $"net{Environment.Version.Major}.0";
        var refDir = Directory.GetDirectories(Path.Combine(dotnet, "packs", "Microsoft.NETCore.App.Ref"))
            .Select(d => Path.Combine(d, "ref", framework)).Where(Directory.Exists).Order(StringComparer.Ordinal).Last();
        return Directory.GetFiles(refDir, "*.dll")
            .Where(p => Path.GetFileName(p) != "System.Runtime.Intrinsics.dll")
            .Order(StringComparer.Ordinal)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToImmutableArray();
    }

    public static CSharpCompilation Compilation(string source = "", LanguageVersion version = LanguageVersion.Latest, bool intrinsics = true)
    {
        return CSharpCompilation.Create("Consumer",
            [CSharpSyntaxTree.ParseText(source, ParseOptions(version))],
            intrinsics ? References : ReferencesWithoutIntrinsics,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, optimizationLevel: OptimizationLevel.Release));
    }

    public static GeneratorDriver Driver(IEnumerable<AdditionalText> texts, OptionsProvider options, LanguageVersion version = LanguageVersion.Latest) =>
        CSharpGeneratorDriver.Create(
            [new QuantGenGenerator().AsSourceGenerator()],
            texts,
            ParseOptions(version),
            options,
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Generates, compiles (failing on any error) and loads the result.</summary>
    public static (Assembly Assembly, GeneratorDriverRunResult Run) Build(Compilation compilation, GeneratorDriver driver)
    {
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        Assert.Empty(generatorDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
        using var stream = new MemoryStream();
        var emit = output.Emit(stream);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        var context = new AssemblyLoadContext("generated", isCollectible: true);
        stream.Position = 0;
        return (context.LoadFromStream(stream), driver.GetRunResult());
    }
}
