extern alias generator;
using System.Collections.Immutable;
using System.CommandLine;
using System.Globalization;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using QuantGen.Core;
using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using QuantGenGenerator = generator::QuantGen.Generator.QuantGenGenerator;

namespace QuantGen.Cli;

/// <summary>
/// quantgen emit MODEL.onnx --target netstandard2.1|net8.0 --out DIR: quantizes the model and writes the C# the source
/// generator would add to a project of that target (the model class and the kernels), for projects without MSBuild or
/// NuGet: Unity, Godot, plain csc (docs/unity.md). The real generator runs, through Roslyn's driver, over an empty
/// compilation of the target's references: netstandard2.1's reference assembly (shipped beside this tool, from
/// NETStandard.Library.Ref) or this runtime's own assemblies for net8.0 (a superset of .NET 8's intrinsics). So the
/// kernels come out exactly as in a project of that target: scalar for netstandard2.1, with the SIMD paths for net8.0.
/// </summary>
internal static class EmitCommand
{
    /// <summary>The targets emit knows, and where their references come from.</summary>
    public static readonly string[] Targets = ["netstandard2.1", "net8.0"];

    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = CommonOptions.Model();
        var target = new Option<string>("--target") { Description = "The project the files are for: netstandard2.1 (Unity, scalar kernels) or net8.0 (.NET 8 and later, SIMD kernels).", Required = true };
        var outDir = new Option<string>("--out") { Description = "The folder to write the .cs files to (created if missing; files of the same names are replaced, nothing else is touched).", Required = true };
        var className = new Option<string?>("--class") { Description = "The generated class's name (default: the model file name in PascalCase)." };
        var ns = new Option<string?>("--namespace") { Description = "The generated class's namespace (default: QuantGen.Models)." };
        var access = new Option<string?>("--access") { Description = "public (default) or internal." };
        var artifactFile = new Option<string?>("--artifact") { Description = "Also write the quantized artifact (.qgart) the files were generated from: a record of the quantization, readable by quantgen inspect and the integer simulator." };
        var command = new Command("emit", "Quantize a model and write the generated C# (model class and kernels) for a project without MSBuild: Unity, Godot, plain csc.")
        {
            model, target, outDir, className, ns, access, artifactFile,
        };
        var quantization = new QuantizeOptionSet();
        quantization.AddTo(command);
        command.SetAction(r => Emit(r.GetRequiredValue(model), r.GetRequiredValue(target), r.GetRequiredValue(outDir), r.GetValue(className), r.GetValue(ns), r.GetValue(access), r.GetValue(artifactFile),
            quantization.Calibration(r), quantization.Read(r), output, error));
        return command;
    }

    private static int Emit(string path, string target, string outDir, string? className, string? ns, string? access, string? artifactFile, string[]? calibrationArgs,
        QuantizationOptions options, TextWriter output, TextWriter error)
    {
        if (!Targets.Contains(target, StringComparer.Ordinal))
            throw new ModelException(ErrorCodes.InvalidOption, $"--target {target}: expected {string.Join(" or ", Targets)}.", path);
        if (access is not null && access is not ("public" or "internal"))
            throw new ModelException(ErrorCodes.InvalidOption, $"--access {access}: expected public or internal.", path);
        options.Validate();
        var references = References(target);
        var (artifact, result) = QuantizeCommand.Run(path, calibrationArgs, options, source: Path.GetFileName(path), name: null, output);
        var text = ArtifactText.Write(artifact);
        var sources = Generate(path, text, references, className, ns, access, out var diagnostics);
        foreach (var d in diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).OrderBy(d => d.Id, StringComparer.Ordinal))
            (d.Severity == DiagnosticSeverity.Error ? error : output).WriteLine(
                $"{SafeText.DiagnosticLine(path)}: {(d.Severity == DiagnosticSeverity.Error ? "error" : "warning")} {d.Id}: {SafeText.DiagnosticLine(d.GetMessage(CultureInfo.InvariantCulture))}");
        if (diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error)) return 1;

        Directory.CreateDirectory(outDir);
        var written = new List<string>();
        foreach (var (hintName, source) in sources)
        {
            QuantizeCommand.WriteAtomically(Path.Combine(outDir, hintName), source);
            written.Add(hintName);
        }
        if (artifactFile is not null) QuantizeCommand.WriteAtomically(artifactFile, text);
        output.WriteLine($"quantgen: {SafeText.DiagnosticLine(result.Summary)}; {target}: {string.Join(", ", written)} in {Path.GetFullPath(outDir)}");
        foreach (var warning in result.Warnings) output.WriteLine(warning.ToString());
        return 0;
    }

    /// <summary>
    /// The generator's sources for one artifact, by hint name in ordinal order, without the [QuantizedModel] attribute
    /// (a project without the generator has no use for it).
    /// </summary>
    internal static IReadOnlyList<(string HintName, string Text)> Generate(string modelPath, string artifactText, IEnumerable<MetadataReference> references,
        string? className, string? ns, string? access, out ImmutableArray<Diagnostic> diagnostics)
    {
        // A virtual path: only the generator's diagnostics show it, and it keeps the output free of this machine's folders.
        var artifactPath = Path.GetFileNameWithoutExtension(modelPath) + ".qgart";
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (className is not null) metadata["build_metadata.AdditionalFiles.QuantGenClassName"] = className;
        if (ns is not null) metadata["build_metadata.AdditionalFiles.QuantGenNamespace"] = ns;
        if (access is not null) metadata["build_metadata.AdditionalFiles.QuantGenAccess"] = access;
        var parseOptions = new CSharpParseOptions(LanguageVersion.CSharp9);
        var compilation = CSharpCompilation.Create("QuantGenEmit", [], references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        GeneratorDriver driver = CSharpGeneratorDriver.Create([new QuantGenGenerator().AsSourceGenerator()],
            [new InMemoryText(artifactPath, artifactText)], parseOptions, new Options(new FileOptions(metadata)));
        var run = driver.RunGenerators(compilation).GetRunResult().Results.Single();
        if (run.Exception is not null) throw run.Exception;
        diagnostics = run.Diagnostics;
        return run.GeneratedSources
            .Where(s => s.HintName != "QuantizedModelAttribute.g.cs")
            .Select(s => (s.HintName, s.SourceText.ToString()))
            .OrderBy(s => s.HintName, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>What a project of <paramref name="target"/> compiles against, as far as the generator looks.</summary>
    internal static IReadOnlyList<MetadataReference> References(string target)
    {
        if (target == "netstandard2.1")
        {
            var netstandard = Path.Combine(AppContext.BaseDirectory, "ref", "netstandard2.1", "netstandard.dll");
            if (!File.Exists(netstandard)) throw new FileNotFoundException($"netstandard2.1's reference assembly is missing from this installation ({netstandard}).");
            return [MetadataReference.CreateFromFile(netstandard)];
        }
        var runtime = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        return Directory.GetFiles(runtime, "*.dll").Order(StringComparer.Ordinal)
            .Where(f => Path.GetFileName(f) is "System.Private.CoreLib.dll" or "System.Runtime.dll" or "System.Runtime.Intrinsics.dll" or "System.Numerics.Vectors.dll" or "System.Memory.dll")
            .Select(f => (MetadataReference)MetadataReference.CreateFromFile(f)).ToList();
    }

    private sealed class InMemoryText(string path, string text) : AdditionalText
    {
        public override string Path { get; } = path;

        public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(text, Encoding.UTF8);
    }

    private sealed class FileOptions(Dictionary<string, string> values) : AnalyzerConfigOptions
    {
        public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value) => values.TryGetValue(key, out value);
    }

    private sealed class Options(AnalyzerConfigOptions file) : AnalyzerConfigOptionsProvider
    {
        public override AnalyzerConfigOptions GlobalOptions { get; } = new FileOptions([]);

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => GlobalOptions;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => file;
    }
}
