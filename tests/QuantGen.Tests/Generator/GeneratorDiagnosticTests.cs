using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using QuantGen.Core.Artifact;

namespace QuantGen.Tests.Generator;

/// <summary>
/// Every diagnostic the generator reports, with its exact message and location: <c>{|#0:…|}</c> in a source marks
/// the span the diagnostic must point at; artifact-level diagnostics have no source location.
/// </summary>
public sealed class GeneratorDiagnosticTests
{
    private const string TinyPath = "/project/obj/quantgen/tiny.qgart";

    private static string Tiny => File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "tests", "QuantGen.Tests", "Generator", "Snapshots", "tiny.qgart"));

    private static QuantGenGeneratorTest Test(string source, params (string Path, string Text)[] artifacts)
    {
        var test = new QuantGenGeneratorTest { TestBehaviors = TestBehaviors.SkipGeneratedSourcesCheck };
        test.TestState.Sources.Add(source);
        foreach (var (path, text) in artifacts) test.WithArtifact(path, text);
        return test.WithGlobalConfig("Demo.Models");
    }

    [Fact]
    public async Task QG1001_UnreadableArtifact()
    {
        var test = Test("", ("/project/obj/quantgen/old.qgart", "quantgen-artifact 99\nmodel old\n"));
        test.ExpectedDiagnostics.Add(new DiagnosticResult("QG1001", DiagnosticSeverity.Error).WithMessage(
            "The quantized artifact '/project/obj/quantgen/old.qgart' cannot be read: Artifact format version 99 is not supported (this QuantGen reads version 1); rebuild the model."));
        await test.RunAsync();
    }

    [Fact]
    public async Task QG1002_AttributeNamingNoModel()
    {
        var test = Test("""
            namespace App
            {
                [QuantGen.QuantizedModel("Models/other.onnx")]
                internal partial class {|#0:Classifier|} { }
            }
            """, (TinyPath, Tiny));
        test.ExpectedDiagnostics.Add(new DiagnosticResult("QG1002", DiagnosticSeverity.Error).WithLocation(0).WithMessage(
            "No QuantModel item produces 'Models/other.onnx': add <QuantModel Include=\"Models/other.onnx\" /> to the project"));
        await test.RunAsync();
    }

    [Fact]
    public async Task QG1003_ClassNotPartial()
    {
        var test = Test("""
            namespace App
            {
                [QuantGen.QuantizedModel("Models/tiny.onnx")]
                internal class {|#0:Classifier|} { }
            }
            """, (TinyPath, Tiny));
        test.ExpectedDiagnostics.Add(new DiagnosticResult("QG1003", DiagnosticSeverity.Error).WithLocation(0).WithMessage(
            "The class 'Classifier' carries [QuantizedModel] and must be declared partial"));
        await test.RunAsync();
    }

    [Fact]
    public async Task QG1004_NestedClass()
    {
        var test = Test("""
            namespace App
            {
                internal partial class Outer
                {
                    [QuantGen.QuantizedModel("tiny.onnx")]
                    internal partial class {|#0:Classifier|} { }
                }
            }
            """, (TinyPath, Tiny));
        test.ExpectedDiagnostics.Add(new DiagnosticResult("QG1004", DiagnosticSeverity.Error).WithLocation(0).WithMessage(
            "The class 'Classifier' carries [QuantizedModel] but is nested in another type: declare it at namespace level"));
        await test.RunAsync();
    }

    /// <summary>
    /// Two models of 6.8 MB each: either alone fits the 12 MiB user-string budget, together they do not. Each packs
    /// its 1664 × 4096 weights into 3,407,872 chars (6,815,744 bytes + 1 trailing byte + a 4-byte length), and its int32
    /// bias and the float32 scales the generator derives (6656 bytes each) into 3328 chars each (6656 + 1 + 2):
    /// 6,829,067 bytes per model.
    /// </summary>
    [Fact]
    public async Task QG1005_ModelDataOverTheStringHeapBudget()
    {
        var big = ArtifactText.Write(BlobEmbeddingTests.FullyConnected(m: 1664, k: 4096, seed: 5));

        var alone = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText("/project/obj/quantgen/a.qgart", big)], GeneratedCodeTests.Options("/project/obj/quantgen/a.qgart"))
            .RunGenerators(GeneratorHarness.Compilation()).GetRunResult();
        Assert.Empty(alone.Diagnostics);
        Assert.Contains(alone.GeneratedTrees, t => t.FilePath.EndsWith("Demo.Models.Wide.g.cs", StringComparison.Ordinal));

        var test = new QuantGenGeneratorTest { TestBehaviors = TestBehaviors.SkipGeneratedSourcesCheck }
            .WithArtifact("/project/obj/quantgen/a.qgart", big).WithArtifact("/project/obj/quantgen/b.qgart", big)
            .WithGlobalConfig("Demo.Models", ("/project/obj/quantgen/a.qgart", "WideA"), ("/project/obj/quantgen/b.qgart", "WideB"));
        test.TestState.Sources.Add("");
        test.ExpectedDiagnostics.Add(new DiagnosticResult("QG1005", DiagnosticSeverity.Error).WithMessage(
            "The quantized models of this project need 13658134 bytes of string-literal data (a.qgart: 6829067, b.qgart: 6829067), " +
            "over the budget of 12582912 bytes: an assembly's string literals must fit in 16 MiB; put the largest models in separate assemblies"));
        await test.RunAsync();
    }

    /// <summary>
    /// The same two models with their weights on the 4-bit grid: the generator stores them 4 bits each, 3,407,872
    /// bytes per model, so together they fit the budget that their 8-bit forms exceed (the count must be of the data
    /// as emitted, not one byte per weight).
    /// </summary>
    [Fact]
    public void QG1005_CountsSubEightBitWeightsAtTheirPackedSize()
    {
        var w4 = ArtifactText.Write(BlobEmbeddingTests.FullyConnected(m: 1664, k: 4096, seed: 5, bits: 4));
        var result = GeneratorHarness.Driver(
            [new GeneratorHarness.InMemoryText("/project/obj/quantgen/a.qgart", w4), new GeneratorHarness.InMemoryText("/project/obj/quantgen/b.qgart", w4)],
            new GeneratorHarness.OptionsProvider(
                new()
                {
                    ["/project/obj/quantgen/a.qgart"] = new() { ["build_metadata.AdditionalFiles.QuantGenClassName"] = "WideA" },
                    ["/project/obj/quantgen/b.qgart"] = new() { ["build_metadata.AdditionalFiles.QuantGenClassName"] = "WideB" },
                },
                new() { ["build_property.RootNamespace"] = "Demo.Models" }))
            .RunGenerators(GeneratorHarness.Compilation()).GetRunResult();
        Assert.Empty(result.Diagnostics);
        Assert.Contains(result.GeneratedTrees, t => t.FilePath.EndsWith("Demo.Models.WideA.g.cs", StringComparison.Ordinal));
        Assert.Contains(result.GeneratedTrees, t => t.FilePath.EndsWith("Demo.Models.WideB.g.cs", StringComparison.Ordinal));
    }
}
