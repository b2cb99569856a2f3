extern alias generator;

using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;
using QuantGenGenerator = generator::QuantGen.Generator.QuantGenGenerator;

namespace QuantGen.Tests.Generator;

/// <summary>
/// Microsoft.CodeAnalysis.Testing's source generator test, set up as a QuantGen consumer: C# 9, nullable enabled,
/// compiled against the running framework's assemblies (nothing is resolved from a package feed), and failing on any
/// compiler warning in the sources, the generated ones included.
/// </summary>
internal sealed class QuantGenGeneratorTest : CSharpSourceGeneratorTest<QuantGenGenerator, DefaultVerifier>
{
    public QuantGenGeneratorTest()
    {
        ReferenceAssemblies = new ReferenceAssemblies("net10.0");
        TestState.AdditionalReferences.AddRange(GeneratorHarness.References);
        CompilerDiagnostics = CompilerDiagnostics.Warnings;
    }

    /// <summary>Adds an artifact as the build task hands it over: an AdditionalFile ending in .qgart.</summary>
    public QuantGenGeneratorTest WithArtifact(string path, string text)
    {
        TestState.AdditionalFiles.Add((path, text));
        return this;
    }

    /// <summary>The project properties and per-file metadata build/QuantGen.targets passes on, as a global config.</summary>
    public QuantGenGeneratorTest WithGlobalConfig(string rootNamespace, params (string ArtifactPath, string ClassName)[] classNames)
    {
        var config = $"is_global = true\nbuild_property.RootNamespace = {rootNamespace}\n";
        foreach (var (path, className) in classNames)
            config += $"\n[{path}]\nbuild_metadata.AdditionalFiles.QuantGenClassName = {className}\n";
        TestState.AnalyzerConfigFiles.Add(("/.globalconfig", config));
        return this;
    }

    protected override ParseOptions CreateParseOptions() => new CSharpParseOptions(LanguageVersion.CSharp9, DocumentationMode.Diagnose);

    protected override CompilationOptions CreateCompilationOptions() =>
        ((CSharpCompilationOptions)base.CreateCompilationOptions()).WithNullableContextOptions(NullableContextOptions.Enable);
}
