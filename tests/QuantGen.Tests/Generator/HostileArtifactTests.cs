using System.Diagnostics;
using System.Reflection;
using Microsoft.CodeAnalysis;
using QuantGen.Core.Artifact;

namespace QuantGen.Tests.Generator;

/// <summary>
/// The artifact in obj/ is untrusted (docs/security.md): the generator re-validates the geometry and the budget of
/// what it reads and reports QG1040/QG1041/QG1001, never a crash and never code that reads out of bounds; the
/// kernels check their extent once per call against the spans they are given.
/// </summary>
public sealed class HostileArtifactTests
{
    private const string Path = "/project/obj/quantgen/packed.qgart";

    private static Diagnostic[] Generate(string text, Dictionary<string, string>? metadata = null)
    {
        var options = new GeneratorHarness.OptionsProvider(new() { [Path] = metadata ?? [] }, new() { ["build_property.RootNamespace"] = "Demo" });
        var clock = Stopwatch.StartNew();
        var run = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(Path, text)], options)
            .RunGenerators(GeneratorHarness.Compilation()).GetRunResult();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
        Assert.All(run.Results, r => Assert.Null(r.Exception));
        return run.Diagnostics.ToArray();
    }

    private static void Refused(string id, string text, Dictionary<string, string>? metadata = null)
    {
        var diagnostics = Generate(text, metadata);
        Assert.True(diagnostics.Any(d => d.Id == id), $"expected {id}, got: {string.Join(" | ", diagnostics.Select(d => d.ToString()))}");
    }

    /// <summary>A valid 5×5, 3×3 Conv with its geometry line replaced.</summary>
    private static string Conv(int c = 4, int m = 4, int g = 1, string? replace = null, string? with = null)
    {
        var text = RandomLayerArtifacts.Conv("geometry", 1, c, 5, 5, m, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, g, leaky: false, forceNchw: false).Text;
        return replace is null ? text : Replace(text, replace, with!);
    }

    private static string Replace(string text, string line, string with)
    {
        Assert.Contains(line, text);
        return text.Replace(line, with);
    }

    [Fact]
    public void AValidConvIsEmittedWithoutDiagnostics() =>
        Assert.DoesNotContain(Generate(Conv()), d => d.Severity == DiagnosticSeverity.Error);

    /// <summary>A valid 5×5, 3×3 Conv writing the model's f32 output (docs/artifact.md, "Float outputs").</summary>
    private static string FloatOutputConv() =>
        RandomLayerArtifacts.Conv("geometry", 1, 4, 5, 5, 4, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, leaky: false, forceNchw: false, floatOutput: true).Text;

    [Fact]
    public void AValidFloatOutputConvIsEmittedWithoutDiagnostics() =>
        Assert.DoesNotContain(Generate(FloatOutputConv()), d => d.Severity == DiagnosticSeverity.Error);

    [Theory]
    [InlineData("floats bounds", "floats other")]
    [InlineData("floats bounds", "floats bounds 1 0 #")]
    [InlineData("floats bounds", "floats bounds NaN 1 #")]
    public void AFloatOutputWithoutSaneBoundsIsRefused(string line, string with)
    {
        var text = FloatOutputConv();
        int start = text.IndexOf(line, StringComparison.Ordinal);
        Assert.True(start >= 0);
        int end = text.IndexOf('\n', start);
        // The replacement's trailing "#" drops the original values (a comment to the end of the line is not grammar:
        // the whole line is rewritten instead).
        var replaced = text[..start] + with.TrimEnd('#', ' ') + text[end..];
        Refused("QG1040", replaced);
    }

    [Fact]
    public void AConvReadingFloatIsRefused() =>
        // The layer reads the model's f32 input itself instead of its quantized copy.
        Refused("QG1040", Replace(Conv(), "layer Conv conv\nin x_q\n", "layer Conv conv\nin x\n"));

    [Fact]
    public void WrappingDilationIsRefused() =>
        // (3 − 1)·(2^31 − 1) + 1 wraps to −1 in 32 bits: the geometry the old generator would have trusted.
        Refused("QG1040", Conv(replace: "ints dilations 1 1", with: "ints dilations 2147483647 2147483647"));

    [Fact]
    public void OversizedOutputIsRefused() =>
        // 5×5 input, 3×3 kernel, no padding: the output is 3×3, never 7×7.
        Refused("QG1040", Replace(Conv(), "tensor y_q u8 1,4,3,3", "tensor y_q u8 1,4,7,7"));

    [Fact]
    public void DepthwiseDilationNearTwoToThe31IsRefused() =>
        Refused("QG1040", Conv(c: 8, m: 8, g: 8, replace: "ints dilations 1 1", with: "ints dilations 2147483646 2147483646"));

    [Theory]
    [InlineData("ints strides 1 1", "ints strides 0 1")]
    [InlineData("ints strides 1 1", "ints strides -1 1")]
    [InlineData("ints pads 0 0 0 0", "ints pads -5 0 0 0")]
    [InlineData("ints pads 0 0 0 0", "ints pads 2147483647 0 0 0")]
    [InlineData("ints group 1", "ints group 3")]
    [InlineData("ints kernel 3 3", "ints kernel 3 4")]
    public void InconsistentConvFieldsAreRefused(string line, string with) => Refused("QG1040", Conv(replace: line, with: with));

    [Fact]
    public void HugeBlobShapeIsUnreadableNotACrash() =>
        Refused("QG1001", Replace(Conv(), "blob weights i8 4,36 ", "blob weights i8 65536,65536,65536,3 "));

    [Fact]
    public void HundredThousandLayerArtifactIsRefusedBeforeEmission()
    {
        var text = new System.Text.StringBuilder("quantgen-artifact 1\nmodel big\ntensor x f32 1,4 1 0 0 0\ninput x x\noutput y x\n");
        for (int i = 0; i < 100_000; i++) text.Append("layer Sigmoid s").Append(i).Append("\nin x\nout x\nend\n");
        long before = GC.GetAllocatedBytesForCurrentThread();
        Refused("QG1041", text.ToString());
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 512L << 20, "the refusal allocated more than 512 MiB");
    }

    [Fact]
    public void GeneratedSourceOverItsBudgetIsRefused()
    {
        Refused("QG1041", Conv(), new() { ["build_metadata.AdditionalFiles.QuantGenMaxGeneratedSourceChars"] = "1000" });
        Assert.DoesNotContain(Generate(Conv(), new() { ["build_metadata.AdditionalFiles.QuantGenMaxGeneratedSourceChars"] = "100000000" }), d => d.Id == "QG1041");
    }

    /// <summary>
    /// A FactorizedFullyConnected [1, 4] → [1, 2] of rank 2: B keeps columns (0, 2) and (1, 3) of its rows (one-byte
    /// indices), A is dense; 4-bit values. The fields are given as text so that a test can break one of them.
    /// </summary>
    private static string Factorized(string bIndices = "0 2 1 3", string nonZeros = "2 2", string bits = "4 4", string zShift = "20 20", int bValueBytes = 2)
    {
        static string Bytes(string values) => Convert.ToBase64String(values.Split(' ').Select(byte.Parse).ToArray());
        static string Ints(params int[] values) => Convert.ToBase64String(values.SelectMany(BitConverter.GetBytes).ToArray());
        var bValues = string.Join(' ', Enumerable.Range(0, bValueBytes).Select(i => (0x31 + i).ToString()));
        var shifts = zShift.Split(' ').Select(int.Parse).ToArray();
        return "quantgen-artifact 1\nmodel factorized\n"
            + "tensor x f32 1,4 1 0 0 0\ntensor x_q u8 1,4 0.015625 128 0 255\ntensor y_q u8 1,2 0.0625 128 0 255\ntensor y f32 1,2 1 0 0 0\n"
            + "input x x\noutput y y\nlayer Quantize q\nin x\nout x_q\nend\n"
            + $"layer FactorizedFullyConnected fc\nin x_q\nout y_q\nints rank 2\nints nonzeros {nonZeros}\nints bits {bits}\nints clamp 0 255\n"
            + $"blob bValues u8 {bValueBytes} {Bytes(bValues)}\nblob bIndices u8 4 {Bytes(bIndices)}\n"
            + $"blob zMultiplier i32 2 {Ints(1 << 30, 1 << 30)}\nblob zShift i32 {shifts.Length} {Ints(shifts)}\n"
            + $"blob aValues u8 2 {Bytes("18 52")}\nblob bias i32 2 {Ints(5, -5)}\nblob multiplier i32 2 {Ints(1 << 30, 1 << 30)}\nblob shift i32 2 {Ints(36, 36)}\nend\n"
            + "layer Dequantize d\nin y_q\nout y\nend\n";
    }

    [Fact]
    public void AValidFactorizedLayerIsEmittedWithoutDiagnostics()
    {
        Assert.Null(ArtifactGeometry.Check(ArtifactText.Read(Factorized())));
        Assert.DoesNotContain(Generate(Factorized()), d => d.Severity >= DiagnosticSeverity.Warning);
    }

    /// <summary>The generated class unpacks factors by their stored indices: every inconsistency stops the build (QG1040).</summary>
    [Theory]
    [InlineData("descending indices")]
    [InlineData("a repeated index")]
    [InlineData("an index past the factor")]
    [InlineData("more entries per row than columns")]
    [InlineData("9-bit values")]
    [InlineData("a short value blob")]
    [InlineData("a zero intermediate shift")]
    public void InconsistentFactorsAreRefused(string problem)
    {
        var text = problem switch
        {
            "descending indices" => Factorized(bIndices: "2 0 1 3"),
            "a repeated index" => Factorized(bIndices: "0 0 1 3"),
            "an index past the factor" => Factorized(bIndices: "0 4 1 3"),
            "more entries per row than columns" => Factorized(nonZeros: "2 3"),
            "9-bit values" => Factorized(bits: "9 4"),
            "a short value blob" => Factorized(bValueBytes: 1),
            _ => Factorized(zShift: "20 0"),
        };
        Assert.NotNull(ArtifactGeometry.Check(ArtifactText.Read(text)));
        Refused("QG1040", text);
    }

    [Fact]
    public void TheSharedCheckerAgreesWithTheGeneratorOnValidArtifacts()
    {
        foreach (var c in new[] { Conv(), Conv(c: 8, m: 8, g: 8), RandomLayerArtifacts.FullyConnected("fc", 1, 3, 20, 7, leaky: false).Text,
                     RandomLayerArtifacts.PoolingAndAdd("pool", 1, 4, 9, 9, countIncludePad: true, forceNchw: false).Text,
                     RandomLayerArtifacts.ConvThenMaxPool("cp", 1, 4, 8, 8, 8, 3, 1, 1, leaky: false, negativeMultiplier: false).Text })
            Assert.Null(ArtifactGeometry.Check(ArtifactText.Read(c)));
    }

    [Fact]
    public void KernelsCheckTheirExtentOncePerCall()
    {
        // The emitted kernels called directly with a geometry their spans do not hold: an exception, never a read
        // through Unsafe.Add past the buffer (the AccessViolationException of issue 19). Spans cannot go through
        // reflection, so a compiled probe makes the call.
        var call = CompileProbe().GetMethod("Depthwise")!;
        Assert.Equal("ok", call.Invoke(null, [1]));
        var e = Assert.Throws<TargetInvocationException>(() => call.Invoke(null, [int.MaxValue - 1]));
        Assert.IsType<ArgumentOutOfRangeException>(e.InnerException);
    }

    /// <summary>A tiny assembly holding the kernels and a method calling DepthwiseConvNhwc on a 5×5×16 image with a given dilation.</summary>
    private static Type CompileProbe()
    {
        const string probe = """
            public static class Probe
            {
                public static string Depthwise(int dilation)
                {
                    int c = 16, h = 5, w = 5;
                    var x = new byte[c * h * w];
                    var y = new byte[c * 3 * 3];
                    var weights = new sbyte[9 * c];
                    var bias = new int[c];
                    var scale = new float[c];
                    global::QuantGen.Generated.QuantGenKernels.DepthwiseConvNhwc(x, weights, bias, scale, scale, global::System.ReadOnlySpan<int>.Empty,
                        y, new byte[c], 1, c, h, w, 3, 3, 3, 3, 1, 1, 0, 0, dilation, dilation, 0, 0, 0, 255);
                    return "ok";
                }
            }
            """;
        var options = new GeneratorHarness.OptionsProvider(new() { [Path] = [] }, new() { ["build_property.RootNamespace"] = "Demo" });
        var (assembly, _) = GeneratorHarness.Build(GeneratorHarness.Compilation(probe),
            GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(Path, Conv(c: 8, m: 8, g: 8))], options));
        return assembly.GetType("Probe")!;
    }
}
