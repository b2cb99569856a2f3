using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using QuantGen.Tests.Data;
using QuantGen.Tests.Quantization;
using Xunit.Abstractions;

namespace QuantGen.Tests.Generator;

/// <summary>
/// Models with 16-bit activations (ActivationBits=16): the generated class computes exactly what the integer simulator
/// computes, compiles as C# 9 without System.Runtime.Intrinsics with no warning, and its int64 kernels hold at the
/// edges (accumulators past 2^31, negative halves).
/// </summary>
public sealed class WideGeneratedCodeTests(ITestOutputHelper output)
{
    private const string Namespace = "Demo.Models";

    private static readonly QuantizationOptions A16 = new() { ActivationBits = 16 };

    private static string Probe(string className) => $$"""
        public static class Probe
        {
            private static readonly {{Namespace}}.{{className}} Model = new();

            public static float[] Run(float[] input)
            {
                var output = new float[{{Namespace}}.{{className}}.OutputLength];
                Model.Run(input, output);
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
                    for (int i = 0; i < 20; i++) Model.Run(input, output);
                    least = System.Math.Min(least, (System.GC.GetAllocatedBytesForCurrentThread() - before) / 20);
                }
                return least;
            }
        }
        """;

    [Theory]
    [InlineData("fashion_mlp", "FashionMlp", 8)]
    [InlineData("fashion_cnn", "FashionCnn", 8)]
    [InlineData("fashion_mobilenet", "FashionMobilenet", 8)]
    [InlineData("fashion_cnn", "FashionCnn", 4)]
    public void GeneratedClassMatchesTheSimulatorBitForBit(string name, string className, int weightBits)
    {
        var artifact = GeneratedCodeTests.QuantizeFashion(name, A16 with { WeightBits = weightBits, AdaRoundIterations = 200 });
        Assert.Contains(artifact.Tensors, t => t.ElementType == ArtifactElementType.I16);
        var path = $"/project/obj/quantgen/{name}.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(artifact))], GeneratedCodeTests.Options(path));
        var (assembly, result) = GeneratorHarness.Build(GeneratorHarness.Compilation(Probe(className)), driver);
        var source = result.GeneratedTrees.Single(t => t.FilePath.EndsWith($"{className}.g.cs", StringComparison.Ordinal)).ToString();
        Assert.Contains("global::QuantGen.Generated.QuantGenWideKernels.", source);
        Assert.DoesNotContain("byte[] _t", source);
        var run = assembly.GetType("Probe")!.GetMethod("Run")!;
        var simd = SimdSwitch(assembly);
        var simulator = new IntegerSimulator(artifact);
        var (images, _) = FashionMnist.TestSet;
        for (int i = 0; i < 200; i++)
        {
            var image = images.AsSpan(i * FashionMnist.Pixels, FashionMnist.Pixels).ToArray();
            var expected = simulator.Run(new Dictionary<string, float[]> { ["image"] = image })["logits"];
            // Both paths of the dot product: AVX2 where this CPU has it, and the scalar loop.
            foreach (var enabled in new[] { true, false })
            {
                simd.SetValue(null, enabled);
                Assert.Equal(expected, (float[])run.Invoke(null, [image])!);
            }
        }
        simd.SetValue(null, true);
        long allocated = (long)assembly.GetType("Probe")!.GetMethod("AllocatedBytesPerRun")!.Invoke(null, [images[..FashionMnist.Pixels]])!;
        output.WriteLine($"{name} W{weightBits}A16: 200 images bit-identical to the simulator; {allocated} bytes allocated per Run");
        Assert.Equal(0, allocated);
    }

    [Theory]
    [InlineData("gemm_leaky_min")]
    [InlineData("conv_leaky_max")]
    public void FusedSlopesAndPerChannelBoundsMatchTheSimulatorBitForBit(string name)
    {
        // The default pipeline: equalization turns a bounded activation into per-channel bounds (clampHigh), which the
        // 16-bit kernels apply inside requantization as the u8 ones do.
        var (model, shape) = FusedActivationTests.Synthetic(name);
        var artifact = ModelQuantizer.Quantize(model, A16, new SyntheticModels(40).Calibration(shape, 64, -2, 2),
            [new ArtifactMetadata("source", $"Models/{model.Path}")]).Artifact;
        Assert.Contains(artifact.Layers, l => l.HasBlob("negMultiplier"));
        var path = $"/project/obj/quantgen/{name}.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(artifact))],
            GeneratedCodeTests.Options(path, "Model"), LanguageVersion.CSharp9);
        var (assembly, run) = GeneratorHarness.Build(GeneratorHarness.Compilation(FusedActivationKernelTests.Probe, LanguageVersion.CSharp9), driver);
        Assert.DoesNotContain(run.GeneratedTrees, t => t.ToString().Contains("ClampChannels", StringComparison.Ordinal));
        var probe = assembly.GetType("Probe")!.GetMethod("Run")!.CreateDelegate<Func<float[], float[]>>();
        var simulator = new IntegerSimulator(artifact);
        // The same artifact without its bounds: where its outputs differ, a bound was reached (so applying it is tested).
        var unbounded = new IntegerSimulator(artifact with
        {
            Layers = new(artifact.Layers.Select(l => l with { Blobs = new(l.Blobs.Where(b => b.Key != "clampHigh").ToArray()) }).ToArray()),
        });
        var data = new SyntheticModels(41);
        int size = shape.Aggregate(1, (a, d) => a * d), bounded = 0;
        for (int i = 0; i < 200; i++)
        {
            var x = data.Uniform(size, -3, 3);
            var input = new Dictionary<string, float[]> { ["x"] = x };
            var expected = simulator.Run(input)["y"];
            Assert.Equal(expected, probe(x));
            if (!expected.SequenceEqual(unbounded.Run(input)["y"])) bounded++;
        }
        bool hasBounds = artifact.Layers.Any(l => l.HasBlob("clampHigh"));
        output.WriteLine($"{name} A16: 200 inputs bit-identical to the simulator; clampHigh {(hasBounds ? $"changed the outputs of {bounded}" : "absent")}");
        if (name == "gemm_leaky_min") Assert.True(bounded > 0, "no input reached a per-channel bound");
    }

    [Fact]
    public void CompilesAsCSharp9WithoutIntrinsicsNextToAnEightBitModelWithNoWarning()
    {
        string wide = "/project/obj/quantgen/fashion_cnn.qgart", narrow = "/project/obj/quantgen/fashion_mlp.qgart";
        var texts = new[]
        {
            new GeneratorHarness.InMemoryText(wide, ArtifactText.Write(GeneratedCodeTests.QuantizeFashion("fashion_cnn", A16))),
            new GeneratorHarness.InMemoryText(narrow, ArtifactText.Write(GeneratedCodeTests.QuantizeFashion("fashion_mlp"))),
        };
        var options = new GeneratorHarness.OptionsProvider(new() { [wide] = [], [narrow] = [] }, new() { ["build_property.RootNamespace"] = Namespace });
        string Generate(bool intrinsics)
        {
            var driver = GeneratorHarness.Driver(texts, options, LanguageVersion.CSharp9);
            driver = driver.RunGeneratorsAndUpdateCompilation(GeneratorHarness.Compilation("", LanguageVersion.CSharp9, intrinsics), out var compilation, out var generatorDiagnostics);
            Assert.Empty(generatorDiagnostics);
            var problems = compilation.GetDiagnostics().Where(d => d.Severity is DiagnosticSeverity.Error or DiagnosticSeverity.Warning).ToList();
            Assert.True(problems.Count == 0, string.Join("\n", problems));
            return string.Join("\n//----\n", driver.GetRunResult().GeneratedTrees.Select(t => t.ToString()));
        }
        var scalar = Generate(intrinsics: false);
        Assert.Equal(scalar, Generate(intrinsics: false));
        Assert.DoesNotContain("Intrinsics", GeneratedCodeTests.ActiveCode(scalar));
        Assert.Contains("internal static class QuantGenWideKernels", scalar);
        Assert.Contains("private readonly short[] _t0", scalar);
        Assert.Contains("private readonly byte[] _t0", scalar);
        // With intrinsics, only the kernels change (the AVX2 dot product appears): the model classes are the same text.
        var simd = Generate(intrinsics: true);
        Assert.Contains("Avx2.MultiplyAddAdjacent", GeneratedCodeTests.ActiveCode(simd));
        Assert.Equal(scalar.Split("//----").Where(f => !f.Contains("class QuantGen")), simd.Split("//----").Where(f => !f.Contains("class QuantGen")));
    }

    [Fact]
    public void AMixedWidthArtifactIsQG1001NotACrash()
    {
        // The quantizer never writes one; a hand-edited artifact with one u8 tensor among i16 ones is refused.
        var artifact = GeneratedCodeTests.QuantizeFashion("fashion_mlp", A16);
        var first = artifact.Tensors.First(t => t.ElementType == ArtifactElementType.I16);
        var mixed = artifact with { Tensors = new(artifact.Tensors.Select(t => t == first ? t with { ElementType = ArtifactElementType.U8, QMin = 0, QMax = 255 } : t).ToArray()) };
        var path = "/project/obj/quantgen/fashion_mlp.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(mixed))], GeneratedCodeTests.Options(path));
        driver.RunGeneratorsAndUpdateCompilation(GeneratorHarness.Compilation(), out _, out var diagnostics);
        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal("QG1001", diagnostic.Id);
        Assert.Contains(path, diagnostic.GetMessage());
        Assert.Contains("mixed widths", diagnostic.GetMessage());
    }

    [Fact]
    public void EightBitModelsAloneGetNoWideKernels()
    {
        var path = "/project/obj/quantgen/fashion_mlp.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(GeneratedCodeTests.QuantizeFashion("fashion_mlp")))], GeneratedCodeTests.Options(path));
        var trees = driver.RunGenerators(GeneratorHarness.Compilation()).GetRunResult().GeneratedTrees;
        Assert.DoesNotContain(trees, t => t.FilePath.EndsWith("QuantGenWideKernels.g.cs", StringComparison.Ordinal));
    }

    [Theory]
    // Hand-worked as in Activation16Tests: 16384 · 2^−40 = 2^−26.
    [InlineData(5_000_000_001L, 75)]
    [InlineData(-5_000_000_001L, -75)]
    [InlineData(3L << 25, 2)]
    [InlineData(-(3L << 25), -1)]
    [InlineData(-(5L << 25), -2)]
    [InlineData(1L << 40, 16384)]
    [InlineData(1L << 45, 32767)]
    [InlineData(-(1L << 45), -32767)]
    public void GeneratedRequantizeIsExactOnLargeAccumulators(long acc, int expected)
    {
        var requantize = WideKernels().GetMethod("Requantize")!;
        Assert.Equal(expected, (int)(short)requantize.Invoke(null, [acc, 16384, 40, 0, -32767, 32767])!);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void GeneratedDotIsExactPastTheInt32Range(bool simdEnabled)
    {
        var simd = SimdSwitch(Kernels.Value);
        simd.SetValue(null, simdEnabled);
        try
        {
            // 40000 products of −127 · 32767 = −4161409: −166456360000, far below −2^31. Every int32 stage is at its
            // bound: runs of 256 in the scalar loop, 256 vpmaddwd pairs per lane in the AVX2 loop.
            var weights = Enumerable.Repeat((sbyte)-127, 40000).ToArray();
            var x = Enumerable.Repeat((short)32767, 40000).ToArray();
            Assert.Equal(-166_456_360_000L, Dot(weights, x));
            Assert.Equal(166_456_360_000L, Dot(weights, x.Select(v => (short)-v).ToArray()));
            // Mixed signs and lengths that are not multiples of 16 or 256: against a plain long sum.
            var random = new Random(7);
            foreach (int length in new[] { 0, 1, 15, 16, 17, 1000, 4097, 5000 })
            {
                var w2 = Enumerable.Range(0, length).Select(_ => (sbyte)random.Next(-127, 128)).ToArray();
                var x2 = Enumerable.Range(0, length).Select(_ => (short)random.Next(-32767, 32768)).ToArray();
                Assert.Equal(w2.Zip(x2, (a, b) => (long)a * b).Sum(), Dot(w2, x2));
            }
        }
        finally
        {
            simd.SetValue(null, true);
        }
    }

    /// <summary>The generated QuantGenWideKernels.SimdEnabled switch of a compiled consumer.</summary>
    private static PropertyInfo SimdSwitch(Assembly assembly) =>
        assembly.GetType("QuantGen.Generated.QuantGenWideKernels")!.GetProperty("SimdEnabled", BindingFlags.Public | BindingFlags.Static)!;

    /// <summary>Spans cannot cross reflection: a compiled helper calls Dot on arrays.</summary>
    private static long Dot(sbyte[] w, short[] x) =>
        (long)DotProbe().GetMethod("Dot")!.Invoke(null, [w, x])!;

    private static readonly Lazy<Assembly> Kernels = new(() =>
    {
        var path = "/project/obj/quantgen/fashion_mlp.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(GeneratedCodeTests.QuantizeFashion("fashion_mlp", A16)))], GeneratedCodeTests.Options(path));
        var probe = """
            public static class DotProbe
            {
                public static long Dot(sbyte[] w, short[] x) => QuantGen.Generated.QuantGenWideKernels.Dot(w, x);
            }
            """;
        return GeneratorHarness.Build(GeneratorHarness.Compilation(probe), driver).Assembly;
    });

    private static Type WideKernels() => Kernels.Value.GetType("QuantGen.Generated.QuantGenWideKernels")!;

    private static Type DotProbe() => Kernels.Value.GetType("DotProbe")!;
}
