using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using QuantGen.Tests.Data;
using QuantGen.Tests.Generator;
using Xunit.Abstractions;

namespace QuantGen.Tests.EndToEnd;

/// <summary>
/// The Unity-style consumer for real: a class library targeting netstandard2.1 with LangVersion 9, built by the SDK
/// against the real netstandard2.1 reference assemblies (NETStandard.Library.Ref, not net10 with intrinsics removed), with
/// the generator and the Fashion models' artifacts, warnings as errors; a net10.0 host runs it beside the net10.0 build of
/// the same artifacts, and every output must be bit-identical to the other build and to the integer simulator.
/// </summary>
public sealed class NetStandardConsumerTests(ITestOutputHelper output)
{
    private const int Images = 24;

    [Fact]
    public void NetStandard21CSharp9LibraryBuildsWithoutWarningsAndMatchesTheNet10BuildBitForBit()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var projects = new PlainProjects();
        // Every kernel family of the test models: dense, conv + pool, depthwise/pointwise, and the 16-bit activation kernels.
        var models = new (string File, string ClassName, QuantizedArtifact Artifact)[]
        {
            ("fashion_mlp", "FashionMlp", GeneratedCodeTests.QuantizeFashion("fashion_mlp")),
            ("fashion_cnn", "FashionCnn", GeneratedCodeTests.QuantizeFashion("fashion_cnn")),
            ("fashion_mobilenet", "FashionMobilenet", GeneratedCodeTests.QuantizeFashion("fashion_mobilenet")),
            ("fashion_cnn_a16", "FashionCnnA16", GeneratedCodeTests.QuantizeFashion("fashion_cnn", new QuantizationOptions { ActivationBits = 16 })),
        };
        Directory.CreateDirectory(projects.Path("Models"));
        foreach (var (file, _, artifact) in models)
            File.WriteAllText(projects.Path("Models", file + ".qgart"), ArtifactText.Write(artifact));
        string Items(string ns) =>
            $"""<Analyzer Include="{PlainProjects.GeneratorPath}" />"""
            + """<CompilerVisibleItemMetadata Include="AdditionalFiles" MetadataName="QuantGenClassName" /><CompilerVisibleItemMetadata Include="AdditionalFiles" MetadataName="QuantGenNamespace" />"""
            + string.Concat(models.Select(m => $"""<AdditionalFiles Include="../Models/{m.File}.qgart" QuantGenClassName="{m.ClassName}" QuantGenNamespace="{ns}" />"""));
        projects.WriteLibrary("netstandard2.1", Items("Standard"));
        projects.WriteHost(models.SelectMany(m => new[] { ($"standard.{m.ClassName}", $"Standard.{m.ClassName}"), ($"net10.{m.ClassName}", $"Net10.{m.ClassName}") }), Items("Net10"));

        var (code, log) = projects.Build();
        Assert.True(code == 0, log);
        Assert.Equal(0, PlainProjects.Warnings(log));
        // The library is a netstandard2.1 assembly that needs nothing but netstandard at run time.
        Assert.Equal(["netstandard"], PlainProjects.AssemblyReferences(projects.Path("Lib", "bin", "Debug", "netstandard2.1", "Lib.dll")));
        // The generator saw the netstandard2.1 compilation: scalar kernels there, the SIMD paths in the net10 build.
        string Kernels(string project) => File.ReadAllText(Directory.GetFiles(projects.Path(project, "obj"), "QuantGenKernels.g.cs", SearchOption.AllDirectories).Single());
        Assert.DoesNotContain("global::System.Runtime.Intrinsics", Generator.GeneratedCodeTests.ActiveCode(Kernels("Lib")));
        Assert.Contains("#undef QUANTGEN_INTRINSICS", Kernels("Lib"));
        Assert.Contains("global::System.Runtime.Intrinsics.X86.Avx2", Kernels("Host"));
        var buildTime = clock.Elapsed;

        // quantgen emit --target netstandard2.1 runs the same generator over netstandard.dll alone: its files must be the
        // ones this real netstandard2.1 build generated, byte for byte (docs/unity.md rests on that).
        var generated = Path.GetDirectoryName(Directory.GetFiles(projects.Path("Lib", "obj"), "QuantGenKernels.g.cs", SearchOption.AllDirectories).Single())!;
        foreach (var (file, className, artifact) in models)
        {
            var emitted = QuantGen.Cli.EmitCommand.Generate($"{file}.onnx", ArtifactText.Write(artifact), QuantGen.Cli.EmitCommand.References("netstandard2.1"),
                className, "Standard", null, out var diagnostics);
            Assert.Empty(diagnostics);
            Assert.Contains(emitted, f => f.HintName == $"Standard.{className}.g.cs");
            foreach (var (hintName, text) in emitted)
                Assert.True(text == File.ReadAllText(Path.Combine(generated, hintName)), $"quantgen emit's {hintName} differs from the netstandard2.1 build's");
        }

        var (images, _) = FashionMnist.TestSet;
        var outputs = projects.Run(images, Images);
        foreach (var (file, className, artifact) in models)
        {
            var simulator = new IntegerSimulator(artifact);
            var expected = Enumerable.Range(0, Images)
                .Select(i => simulator.Run(new Dictionary<string, float[]> { ["image"] = images[(i * FashionMnist.Pixels)..((i + 1) * FashionMnist.Pixels)] })["logits"]).ToArray();
            // Not a degenerate case: the logits take many values.
            Assert.True(expected.SelectMany(e => e).Distinct().Count() > 50, $"{file}: the simulator's logits take few values");
            PlainProjects.AssertBitIdentical(outputs[$"net10.{className}"], outputs[$"standard.{className}"], $"{className}: netstandard2.1 build against the net10.0 build");
            PlainProjects.AssertBitIdentical(expected, outputs[$"standard.{className}"], $"{className}: netstandard2.1 build against the simulator");
        }
        output.WriteLine($"netstandard2.1 C# 9 library (0 warnings, references only netstandard) and net10.0 build of {models.Length} models: "
            + $"{Images} images each, bit-identical to each other and to the simulator; quantgen emit's files equal the build's; build {buildTime.TotalSeconds:F0} s, whole test {clock.Elapsed.TotalSeconds:F0} s");
    }
}
