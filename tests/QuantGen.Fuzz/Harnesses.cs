extern alias generator;
using System.Collections.Immutable;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using QuantGen.Core;
using QuantGen.Core.Artifact;
using QuantGen.Core.Execution;
using QuantGen.Core.IO;
using QuantGen.Core.Ir;
using QuantGen.Core.Passes;
using QuantGen.Core.Quantization;
using QuantGen.Onnx;
using QuantGenGenerator = generator::QuantGen.Generator.QuantGenGenerator;

namespace QuantGen.Fuzz;

/// <summary>
/// The fuzzing entry points, one per untrusted input of docs/security.md. Each takes the raw bytes and either
/// returns (the input was accepted), or throws <see cref="ModelException"/> with a QG code other than QG9999, or
/// reports QG1xxx generator diagnostics: the outcomes QuantGen promises. Anything else, a QG9999, a generator
/// exception or emitted code that does not compile, is a finding. The same methods serve the corpus test in CI, the
/// mutation loop and SharpFuzz.
/// </summary>
public static class Harnesses
{
    /// <summary>A budget small enough that one input cannot take the machine's memory while fuzzing.</summary>
    public static ResourceBudget Budget { get; } = new()
    {
        MaxTensorElements = 1 << 20,
        MaxActivationBytes = 64 << 20,
        MaxParameters = 1 << 22,
        MaxNodes = 2_000,
        MaxGeneratedSourceChars = 4 << 20,
    };

    public static readonly IReadOnlyDictionary<string, Action<byte[]>> All = new Dictionary<string, Action<byte[]>>(StringComparer.Ordinal)
    {
        ["onnx"] = Onnx,
        ["npy"] = NpyFile,
        ["artifact"] = Artifact,
        ["quantize"] = QuantizeToCSharp,
    };

    /// <summary>ONNX loader + shape inference + the float executor on zero inputs when they are small.</summary>
    public static void Onnx(byte[] data)
    {
        var model = OnnxModelLoader.Load(data, "fuzz.onnx", baseDirectory: null, Budget);
        var prepared = ModelPreparation.Prepare(model, new ShapeOptions { Budget = Budget });
        var executor = new ReferenceExecutor(prepared);
        var inputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var input in prepared.Graph.Inputs)
        {
            var info = prepared.Graph.ValueInfos[input.Name];
            if (info.ElementCount > 1 << 16) return;
            inputs[input.Name] = Tensor.Zeros(info.DataType, info.Shape);
        }
        executor.Run(inputs);
    }

    /// <summary>The .npy reader.</summary>
    public static void NpyFile(byte[] data) => Npy.Read(new MemoryStream(data, writable: false), "fuzz.npy", Budget);

    /// <summary>The artifact parser and the generator on it (QG1xxx diagnostics are answers, a generator exception is a finding).</summary>
    public static void Artifact(byte[] data)
    {
        // What the shared reader and checker say must not throw anything but ArtifactFormatException.
        try
        {
            var artifact = ArtifactText.Read(Encoding.UTF8.GetString(data));
            ArtifactGeometry.Check(artifact);
        }
        catch (ArtifactFormatException)
        {
        }
        Generate(Encoding.UTF8.GetString(data), compile: false);
    }

    /// <summary>Small ONNX graphs quantized (data-free), generated to C# and compiled: the emitted code must build.</summary>
    public static void QuantizeToCSharp(byte[] data)
    {
        var model = OnnxModelLoader.Load(data, "fuzz.onnx", baseDirectory: null, Budget);
        if (model.Graph.Nodes.Count > 64) return; // small graphs only: compiling is the slow part
        // Data-free with a stated input range (QG0021 otherwise), so the harness reaches the passes and the generator.
        var options = new QuantizationOptions { Algorithms = QuantizationAlgorithms.None, Budget = Budget, InputStatistics = InputStatistics.Parse("-1,1", null, null) };
        var artifact = ModelQuantizer.Quantize(model, options, calibration: null).Artifact;
        Generate(ArtifactText.Write(artifact), compile: true);
    }

    /// <summary>Runs the source generator on one artifact; with <paramref name="compile"/>, also compiles what it emitted.</summary>
    private static void Generate(string text, bool compile)
    {
        const string path = "/fuzz/obj/quantgen/fuzz.qgart";
        GeneratorDriver driver = CSharpGeneratorDriver.Create([new QuantGenGenerator().AsSourceGenerator()], [new Text(path, text)],
            new CSharpParseOptions(LanguageVersion.Latest), new Options());
        var compilation = CSharpCompilation.Create("fuzz", [], References.Value, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true));
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
        foreach (var result in driver.GetRunResult().Results)
            if (result.Exception is { } e) throw new FuzzFindingException("the generator threw", e);
        var errors = diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        if (errors.Count > 0)
        {
            if (errors.Any(d => !d.Id.StartsWith("QG1", StringComparison.Ordinal)))
                throw new FuzzFindingException("the generator reported a non-QuantGen error: " + string.Join(" | ", errors));
            // A QG1xxx diagnostic: the promised answer, surfaced as its code.
            throw new ModelException(errors[0].Id, errors[0].GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        }
        if (!compile) return;
        using var stream = new MemoryStream();
        var emit = output.Emit(stream);
        if (!emit.Success)
            throw new FuzzFindingException("generated code does not compile: " + string.Join(" | ", emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(5)));
    }

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .Order(StringComparer.Ordinal)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToImmutableArray());

    private sealed class Text(string path, string text) : AdditionalText
    {
        public override string Path => path;

        public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(text, Encoding.UTF8);
    }

    private sealed class Options : AnalyzerConfigOptionsProvider
    {
        private static readonly EmptyOptions Empty = new();

        public override AnalyzerConfigOptions GlobalOptions => Empty;

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => Empty;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => Empty;

        private sealed class EmptyOptions : AnalyzerConfigOptions
        {
            public override bool TryGetValue(string key, out string value)
            {
                value = "";
                return false;
            }
        }
    }
}

/// <summary>An outcome QuantGen does not promise: a bug the fuzzer found.</summary>
public sealed class FuzzFindingException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>How one input ended.</summary>
public sealed record FuzzOutcome(string Kind, string Detail, TimeSpan Elapsed, long AllocatedBytes)
{
    public bool IsFinding => Kind == "finding";

    /// <summary>Runs a harness on one input and classifies the ending: ok, a QG code, or a finding (with the exception).</summary>
    public static FuzzOutcome Of(Action<byte[]> harness, byte[] data)
    {
        // This thread's allocations: a process-wide count includes whatever runs beside the harness (CI's parallel tests).
        long before = GC.GetAllocatedBytesForCurrentThread();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string kind, detail;
        try
        {
            harness(data);
            (kind, detail) = ("ok", "");
        }
        catch (ModelException e) when (e.Code != ErrorCodes.InternalError)
        {
            (kind, detail) = (e.Code, e.Message);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            (kind, detail) = ("finding", e.ToString());
        }
        return new FuzzOutcome(kind, detail, clock.Elapsed, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
