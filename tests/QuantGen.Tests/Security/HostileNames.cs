extern alias generator;

using System.Collections.Immutable;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using QuantGen.Core.Artifact;
using QuantGen.Tests.Generator;
using QuantGenGenerator = generator::QuantGen.Generator.QuantGenGenerator;

namespace QuantGen.Tests.Security;

/// <summary>
/// Shared by the hostile-name tests: the injection payloads, an artifact renamed with them, and a generator run plus
/// compile that is strict (doc comments parsed and diagnosed, warnings in generated files fail) and lists the types of
/// the compiled assembly through System.Reflection.Metadata.
/// </summary>
internal static class HostileNames
{
    public const string ArtifactPath = "/project/obj/quantgen/tiny.qgart";

    /// <summary>Each payload tries to end a comment or string, start a line, a directive or a type, or reorder text.</summary>
    public static readonly (string Label, string Payload)[] Payloads =
    [
        ("LF + ModuleInitializer class + //", "relu\n} } namespace Pwn { public static class Pwned { [System.Runtime.CompilerServices.ModuleInitializer] public static void Init() => System.Console.WriteLine(\"PWNED\"); } }\n//"),
        ("CR LF #error", "x\r\n#error injected\r\n"),
        ("CR alone", "x\r#error injected\r"),
        ("U+2028 class", "x\u2028public class Pwned { }\u2028//"),
        ("U+2029 class", "x\u2029public class Pwned { }\u2029//"),
        ("U+0085 class", "x\u0085public class Pwned { }\u0085//"),
        ("*/", "x */ public class Pwned { } /* "),
        ("quote", "x\" + new Pwned() + \""),
        ("backslash quote", "x\\\"); } public class Pwned { void M() { System.Console.Write(\""),
        ("#error at line start", "#error injected"),
        ("braces", "}}} public class Pwned { } {{{"),
        ("doc comment XML", "</c></summary></member> <see cref=\"Pwned\"/> &amp; <c>"),
        ("bidi override", "safe\u202E// txet\u202C\u2066\u2069\u200F"),
        ("NUL, ESC and DEL", "a\0b\u001B[31mc\u007F"),
        ("lone surrogate", "a\uD800b\uDC00"),
        ("unicode escape text", "\\u000A#error injected"),
    ];

    /// <summary>tiny.qgart (Quantize, FullyConnected + ReLU, Dequantize): the snapshot test's artifact.</summary>
    public static QuantizedArtifact Tiny() =>
        ArtifactText.Read(File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "tests", "QuantGen.Tests", "Generator", "Snapshots", "tiny.qgart")));

    /// <summary>Every name of the artifact through <paramref name="rename"/>: model, metadata values, tensors, inputs, outputs, layers, comments.</summary>
    public static QuantizedArtifact Rename(QuantizedArtifact a, Func<string, string> rename) => a with
    {
        ModelName = rename(a.ModelName),
        Metadata = new(a.Metadata.Select(m => m with { Value = rename(m.Value) }).ToArray()),
        Tensors = new(a.Tensors.Select(t => t with { Name = rename(t.Name) }).ToArray()),
        Inputs = new(a.Inputs.Select(io => new ArtifactIo(rename(io.Name), rename(io.Tensor))).ToArray()),
        Outputs = new(a.Outputs.Select(io => new ArtifactIo(rename(io.Name), rename(io.Tensor))).ToArray()),
        Layers = new(a.Layers.Select(l => l with
        {
            Name = rename(l.Name),
            Inputs = new(l.Inputs.Select(rename).ToArray()),
            Outputs = new(l.Outputs.Select(rename).ToArray()),
            Comment = rename(l.Comment),
        }).ToArray()),
    };

    public sealed record Result(
        ImmutableArray<Diagnostic> GeneratorDiagnostics,
        ImmutableArray<Diagnostic> CompilerDiagnostics,
        ImmutableArray<SyntaxTree> Generated,
        byte[]? Image)
    {
        /// <summary>"Namespace.Name" of every type definition of the compiled assembly, nested ones as "Outer/Inner".</summary>
        public IReadOnlyList<string> TypeNames()
        {
            Assert.NotNull(Image);
            using var pe = new PEReader(ImmutableArray.Create(Image));
            var md = pe.GetMetadataReader();
            string Name(TypeDefinitionHandle h)
            {
                var t = md.GetTypeDefinition(h);
                var name = md.GetString(t.Name);
                var declaring = t.GetDeclaringType();
                if (!declaring.IsNil) return Name(declaring) + "/" + name;
                var ns = md.GetString(t.Namespace);
                return ns.Length == 0 ? name : ns + "." + name;
            }
            return md.TypeDefinitions.Select(Name).Order(StringComparer.Ordinal).ToList();
        }

        /// <summary>The model's generated file (not the attribute, not the kernels).</summary>
        public SyntaxTree ModelTree => Generated.Single(t => !t.FilePath.EndsWith("QuantizedModelAttribute.g.cs", StringComparison.Ordinal)
            && !t.FilePath.EndsWith("Kernels.g.cs", StringComparison.Ordinal));
    }

    /// <summary>
    /// Generates from the artifact text and compiles the result with a consumer <paramref name="source"/>; doc comments
    /// are parsed and diagnosed, so malformed XML in a generated doc comment shows as a warning.
    /// </summary>
    public static Result Generate(string artifactText, string source = "", Dictionary<string, string>? metadata = null)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest, DocumentationMode.Diagnose);
        var compilation = CSharpCompilation.Create("Consumer",
            [CSharpSyntaxTree.ParseText(source, parse)],
            GeneratorHarness.References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        var options = new GeneratorHarness.OptionsProvider(
            new() { [ArtifactPath] = metadata ?? [] },
            new() { ["build_property.RootNamespace"] = "Demo.Models" });
        var driver = CSharpGeneratorDriver.Create([new QuantGenGenerator().AsSourceGenerator()],
            [new GeneratorHarness.InMemoryText(ArtifactPath, artifactText)], parse, options);
        driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        var generated = output.SyntaxTrees.Skip(1).ToImmutableArray();
        using var stream = new MemoryStream();
        var emit = output.Emit(stream);
        return new Result(generatorDiagnostics, emit.Diagnostics, generated, emit.Success ? stream.ToArray() : null);
    }

    /// <summary>
    /// What every hostile build must satisfy: the generator reports nothing, the compiler reports nothing about a
    /// generated file (errors or warnings), the model file declares one type and no directive but #nullable, and holds
    /// no line terminator other than '\n' and no control or bidi character.
    /// </summary>
    public static void AssertHarmless(Result result)
    {
        Assert.Empty(result.GeneratorDiagnostics);
        var generatedPaths = result.Generated.Select(t => t.FilePath).ToHashSet();
        var inGenerated = result.CompilerDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning
            && (d.Location.SourceTree is null || generatedPaths.Contains(d.Location.SourceTree.FilePath))).ToList();
        Assert.True(inGenerated.Count == 0, string.Join("\n", inGenerated));
        Assert.NotNull(result.Image);

        var root = result.ModelTree.GetRoot();
        var types = root.DescendantNodes().OfType<BaseTypeDeclarationSyntax>().Select(t => t.Identifier.Text).ToList();
        Assert.Single(types);
        var directives = root.DescendantTrivia(descendIntoTrivia: true).Where(t => t.IsDirective).Select(t => t.ToString()).ToList();
        Assert.Equal(["#nullable enable"], directives);
        var text = result.ModelTree.ToString();
        foreach (char c in text)
            Assert.False(c != '\n' && (char.IsControl(c) || c is '\u2028' or '\u2029' || System.Globalization.CharUnicodeInfo.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format),
                $"the generated model holds U+{(int)c:X4}");
    }

    /// <summary>Loads the compiled assembly and calls Run with a wrong-length input: the message names the input exactly.</summary>
    public static string RunWithWrongInput(Result result, string className)
    {
        var context = new AssemblyLoadContext("hostile", isCollectible: true);
        try
        {
            var assembly = context.LoadFromStream(new MemoryStream(result.Image!));
            var probe = assembly.GetType("Probe")!.GetMethod("WrongInput")!;
            return (string)probe.Invoke(null, null)!;
        }
        finally
        {
            context.Unload();
        }
    }

    /// <summary>A consumer helper that calls Run with one float too few and returns the exception's message.</summary>
    public static string Probe(string className) => $$"""
        public static class Probe
        {
            public static string WrongInput()
            {
                try
                {
                    new Demo.Models.{{className}}().Run(new float[Demo.Models.{{className}}.InputLength - 1], new float[Demo.Models.{{className}}.OutputLength]);
                    return "";
                }
                catch (System.ArgumentException e)
                {
                    return e.Message;
                }
            }
        }
        """;
}
