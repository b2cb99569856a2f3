using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using QuantGen.Core.Artifact;
using QuantGen.Core.IO;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;
using QuantGen.Onnx;
using QuantGen.Tests.Data;
using QuantGen.Tests.RealModels;
using Xunit.Abstractions;

namespace QuantGen.Tests.Generator;

/// <summary>The generated classes compute exactly what the integer simulator computes from the same artifact.</summary>
public sealed class GeneratedCodeTests(ITestOutputHelper output)
{
    internal const string Namespace = "Demo.Models";

    /// <summary>A consumer-side helper: spans cannot cross reflection, so this calls Run for the test.</summary>
    internal static string Probe(string className) => $$"""
        public static class Probe
        {
            private static readonly {{Namespace}}.{{className}} Model = new();

            // A new instance per call: its buffers hold nothing another kernel path wrote, so a path that leaves an
            // output unwritten cannot pass on the values of the path before it.
            public static float[] Run(float[] input)
            {
                var output = new float[{{Namespace}}.{{className}}.OutputLength];
                new {{Namespace}}.{{className}}().Run(input, output);
                return output;
            }

            public static long AllocatedBytesPerRun(float[] input)
            {
                var output = new float[{{Namespace}}.{{className}}.OutputLength];
                Model.Run(input, output);
                // The least over five batches: a per-Run allocation shows in every batch, a one-off of the runtime (a
                // method promoted by tiered compilation while the batch runs: 214 bytes per Run once in CI) in one at most.
                long least = long.MaxValue;
                for (int batch = 0; batch < 5; batch++)
                {
                    long before = System.GC.GetAllocatedBytesForCurrentThread();
                    for (int i = 0; i < 50; i++) Model.Run(input, output);
                    least = System.Math.Min(least, (System.GC.GetAllocatedBytesForCurrentThread() - before) / 50);
                }
                return least;
            }
        }
        """;

    internal static QuantizedArtifact QuantizeFashion(string name, QuantizationOptions? options = null)
    {
        var model = OnnxModelLoader.Load(RealModelPaths.Fashion(name));
        var calibration = new CalibrationSet(new Dictionary<string, Tensor>
        {
            ["image"] = Npy.Read(Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy")),
        });
        var metadata = new[] { new ArtifactMetadata("source", $"Models/{name}.onnx") };
        return ModelQuantizer.Quantize(model, options ?? new QuantizationOptions(), calibration, metadata).Artifact;
    }

    internal static GeneratorHarness.OptionsProvider Options(string artifactPath, string? className = null) =>
        new(new() { [artifactPath] = className is null ? [] : new() { ["build_metadata.AdditionalFiles.QuantGenClassName"] = className } },
            new() { ["build_property.RootNamespace"] = Namespace });

    [Theory]
    [InlineData("fashion_mlp", "FashionMlp")]
    [InlineData("fashion_cnn", "FashionCnn")]
    [InlineData("fashion_mobilenet", "FashionMobilenet")]
    public void GeneratedClassMatchesTheSimulatorBitForBit(string name, string className)
    {
        var artifact = QuantizeFashion(name);
        var path = $"/project/obj/quantgen/{name}.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(artifact))], Options(path));
        var (assembly, result) = GeneratorHarness.Build(GeneratorHarness.Compilation(Probe(className)), driver);
        // Each of these models has int8 blobs on both sides of the 4096-byte switch: both embeddings are exercised.
        var source = result.GeneratedTrees.Single(t => t.FilePath.EndsWith($"{className}.g.cs", StringComparison.Ordinal)).ToString();
        Assert.Contains("MemoryMarshal.Cast<char, sbyte>", source);
        Assert.Contains("=> new sbyte[]", source);
        var run = assembly.GetType("Probe")!.GetMethod("Run")!;
        var paths = KernelPaths(assembly);
        var simulator = new IntegerSimulator(artifact);
        var (images, _) = FashionMnist.TestSet;
        for (int i = 0; i < 300; i++)
        {
            var image = images.AsSpan(i * FashionMnist.Pixels, FashionMnist.Pixels).ToArray();
            var expected = simulator.Run(new Dictionary<string, float[]> { ["image"] = image })["logits"];
            // Every kernel path: SIMD where this CPU has it (VNNI, and the generic AVX2 dot products), and the scalar loops.
            foreach (var (pathName, select) in paths)
            {
                select();
                var actual = (float[])run.Invoke(null, [image])!;
                Assert.True(expected.SequenceEqual(actual), $"image {i}: the {pathName} path differs from the simulator");
            }
        }
        paths[0].Select();
        long allocated = (long)assembly.GetType("Probe")!.GetMethod("AllocatedBytesPerRun")!.Invoke(null, [images[..FashionMnist.Pixels]])!;
        output.WriteLine($"{name}: 300 images bit-identical to the simulator; {allocated} bytes allocated per Run");
        Assert.Equal(0, allocated);
    }

    /// <summary>
    /// The code the compiler sees in generated files joined by "//----" (as these tests join them): their tokens, without
    /// the text of inactive #if branches (trivia), so that a SIMD path under an undefined symbol does not count. The
    /// tokens are concatenated without spaces ("Avx2.MultiplyAddAdjacent" reads as written).
    /// </summary>
    internal static string ActiveCode(string joined) =>
        string.Join("\n", joined.Split("\n//----\n").Select(source =>
            string.Concat(CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.CSharp9)).GetRoot().DescendantTokens().Select(token => token.Text))));

    [Fact]
    public void OutputIsDeterministicAndCompilesAsCSharp9WithoutIntrinsics()
    {
        var artifact = QuantizeFashion("fashion_cnn");
        var path = "/project/obj/quantgen/fashion_cnn.qgart";
        string Generate(LanguageVersion version, bool intrinsics)
        {
            var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(artifact))], Options(path), version);
            driver = driver.RunGeneratorsAndUpdateCompilation(GeneratorHarness.Compilation("", version, intrinsics), out var compilation, out _);
            var errors = compilation.GetDiagnostics().Where(d => d.Severity is DiagnosticSeverity.Error or DiagnosticSeverity.Warning).ToList();
            Assert.True(errors.Count == 0, string.Join("\n", errors));
            return string.Join("\n//----\n", driver.GetRunResult().GeneratedTrees.Select(t => t.ToString()));
        }
        // Without System.Runtime.Intrinsics (netstandard2.1, Unity): the scalar kernels only, and they compile as C# 9.
        var scalar = Generate(LanguageVersion.CSharp9, intrinsics: false);
        Assert.Equal(scalar, Generate(LanguageVersion.CSharp9, intrinsics: false));
        Assert.Equal(scalar, Generate(LanguageVersion.Latest, intrinsics: false));
        // The SIMD paths are in the text under #if QUANTGEN_INTRINSICS (#undef here): disabled, never compiled.
        Assert.Contains("#undef QUANTGEN_INTRINSICS", scalar);
        Assert.DoesNotContain("Intrinsics", ActiveCode(scalar));
        Assert.DoesNotContain("\r", scalar);
        Assert.Contains("public sealed partial class FashionCnn", scalar);
        Assert.Contains("// <auto-generated/>", scalar);
        Assert.Contains("#nullable enable", scalar);
        // With it: the SIMD paths too, still C# 9, and the model class itself is the same text.
        var simd = Generate(LanguageVersion.CSharp9, intrinsics: true);
        Assert.Equal(simd, Generate(LanguageVersion.Latest, intrinsics: true));
        Assert.Contains("#define QUANTGEN_INTRINSICS", simd);
        Assert.Contains("AvxVnni.IsSupported", ActiveCode(simd));
        Assert.Equal(scalar.Split("//----").Where(f => !f.Contains("class QuantGenKernels")), simd.Split("//----").Where(f => !f.Contains("class QuantGenKernels")));
    }

    /// <summary>
    /// The kernel paths a compiled consumer can be switched to, first the default: SIMD as the CPU allows, the SIMD
    /// kernels without AVX-VNNI (the generic AVX2 dot products an x86 CPU without VNNI takes), and the scalar loops.
    /// </summary>
    internal static (string Name, Action Select)[] KernelPaths(Assembly assembly)
    {
        var simd = SimdSwitch(assembly);
        var kernels = assembly.GetType("QuantGen.Generated.QuantGenKernels")!;
        var vnni = kernels.GetProperty("VnniEnabled", BindingFlags.Public | BindingFlags.Static)!;
        var threads = kernels.GetProperty("Threads", BindingFlags.Public | BindingFlags.Static)!;
        return
        [
            ("SIMD", () => { simd.SetValue(null, true); vnni.SetValue(null, true); threads.SetValue(null, 1); }),
            ("SIMD without VNNI", () => { simd.SetValue(null, true); vnni.SetValue(null, false); threads.SetValue(null, 1); }),
            ("scalar", () => { simd.SetValue(null, false); vnni.SetValue(null, true); threads.SetValue(null, 1); }),
            // Large layers split their output channels between 3 threads (an odd count: parts with unequal shares).
            ("SIMD, 3 threads", () => { simd.SetValue(null, true); vnni.SetValue(null, true); threads.SetValue(null, 3); }),
        ];
    }

    /// <summary>The generated QuantGenKernels.SimdEnabled switch of a compiled consumer.</summary>
    internal static PropertyInfo SimdSwitch(Assembly assembly) =>
        assembly.GetType("QuantGen.Generated.QuantGenKernels")!.GetProperty("SimdEnabled", BindingFlags.Public | BindingFlags.Static)!;

    [Fact]
    public void SecondRunAfterAnUnrelatedEditIsCached()
    {
        var artifact = QuantizeFashion("fashion_mlp");
        var path = "/project/obj/quantgen/fashion_mlp.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(artifact))], Options(path));
        var compilation = GeneratorHarness.Compilation("class A { }");
        driver = driver.RunGenerators(compilation);
        var edited = compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.First(), CSharpSyntaxTree.ParseText("class A { int x; }", GeneratorHarness.ParseOptions()));
        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();
        var models = result.TrackedSteps["Models"];
        Assert.NotEmpty(models);
        Assert.All(models.SelectMany(s => s.Outputs), o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"Models step was {o.Reason}"));
        Assert.All(result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"an output step was {o.Reason}"));
    }

    [Fact]
    public void FillsAUserPartialClassNamedByTheAttribute()
    {
        var artifact = QuantizeFashion("fashion_mlp");
        var path = "/project/obj/quantgen/fashion_mlp.qgart";
        var user = """
            namespace App
            {
                [QuantGen.QuantizedModel("Models/fashion_mlp.onnx")]
                public partial class Classifier { }
            }
            public static class Probe
            {
                public static int Length => App.Classifier.OutputLength;
            }
            """;
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(artifact))], Options(path));
        var (assembly, run) = GeneratorHarness.Build(GeneratorHarness.Compilation(user), driver);
        Assert.Equal(10, (int)assembly.GetType("Probe")!.GetProperty("Length")!.GetValue(null)!);
        Assert.NotNull(assembly.GetType("App.Classifier"));
        Assert.Null(assembly.GetType($"{Namespace}.FashionMlp"));
    }

    [Theory]
    [InlineData("""[QuantGen.QuantizedModel("Models/other.onnx")] public partial class C { }""", "QG1002")]
    [InlineData("""[QuantGen.QuantizedModel("Models/fashion_mlp.onnx")] public class C { }""", "QG1003")]
    [InlineData("""public partial class Outer { [QuantGen.QuantizedModel("Models/fashion_mlp.onnx")] public partial class C { } }""", "QG1004")]
    public void AttributeMistakesAreDiagnosed(string user, string id)
    {
        var path = "/project/obj/quantgen/fashion_mlp.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(QuantizeFashion("fashion_mlp")))], Options(path));
        driver.RunGeneratorsAndUpdateCompilation(GeneratorHarness.Compilation(user), out _, out var diagnostics);
        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
    }

    [Fact]
    public void TwoModelsNamingOneClassAreDiagnosedNotACrash()
    {
        // Two items given the same ClassName: the generator must say so, not let AddSource throw (CS8785).
        string a = "/project/obj/quantgen/fashion_mlp.qgart", b = "/project/obj/quantgen/other_mlp.qgart";
        var text = ArtifactText.Write(QuantizeFashion("fashion_mlp"));
        var perFile = new Dictionary<string, Dictionary<string, string>>
        {
            [a] = new() { ["build_metadata.AdditionalFiles.QuantGenClassName"] = "Same" },
            [b] = new() { ["build_metadata.AdditionalFiles.QuantGenClassName"] = "Same" },
        };
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(a, text), new GeneratorHarness.InMemoryText(b, text)],
            new GeneratorHarness.OptionsProvider(perFile, new() { ["build_property.RootNamespace"] = Namespace }));
        driver = driver.RunGeneratorsAndUpdateCompilation(GeneratorHarness.Compilation("class C { }"), out _, out var diagnostics);
        Assert.Equal(2, diagnostics.Count(d => d.Id == "QG1006" && d.Severity == DiagnosticSeverity.Error));
        Assert.Contains(diagnostics, d => d.GetMessage().Contains(a) && d.GetMessage().Contains($"{Namespace}.Same"));
        Assert.DoesNotContain(diagnostics, d => d.Id == "CS8785");
        Assert.DoesNotContain(driver.GetRunResult().GeneratedTrees, t => t.FilePath.EndsWith("Same.g.cs", StringComparison.Ordinal));
    }

    [Fact]
    public void ArtifactTheEmitterCannotExpressIsAnErrorNotACrash()
    {
        // The format sample carries an f32 blob, which no layer kind of version 1 uses.
        var path = "/project/obj/quantgen/sample.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(QuantGen.Tests.Quantization.ArtifactTextTests.Sample()))], Options(path));
        driver.RunGeneratorsAndUpdateCompilation(GeneratorHarness.Compilation(), out _, out var diagnostics);
        Assert.Equal("QG1001", Assert.Single(diagnostics).Id);
    }

    [Fact]
    public void UnreadableArtifactIsAnErrorNamingTheFile()
    {
        var path = "/project/obj/quantgen/broken.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, "quantgen-artifact 1\nmodel x\nlayer Conv c\n")], Options(path));
        driver.RunGeneratorsAndUpdateCompilation(GeneratorHarness.Compilation(), out _, out var diagnostics);
        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal("QG1001", diagnostic.Id);
        Assert.Contains("broken.qgart", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }
}
