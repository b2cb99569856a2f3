using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using QuantGen.Tests.Cli;
using QuantGen.Tests.Data;
using Xunit.Abstractions;

namespace QuantGen.Tests.EndToEnd;

/// <summary>
/// quantgen emit: the generator's files for a project without MSBuild or the package. netstandard2.1 is followed
/// through docs/unity.md (UnityWalkthroughTests); here net8.0, determinism, and the errors.
/// </summary>
public sealed class EmitCommandTests(ITestOutputHelper output)
{
    private const int Images = 16;

    private static string Model(string name) => Path.Combine(TestPaths.RepoRoot, "tests", "models", name + ".onnx");

    [Fact]
    public void Net80TargetKeepsTheSimdPathsBuildsAsCSharp9AndMatchesTheSimulator()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var projects = new PlainProjects();
        var folder = projects.Path("Lib", "Generated");
        // Two models into one folder, as docs/unity.md says: the second emit rewrites the shared kernels with the same text.
        // MobileNet has the depthwise and pointwise kernels; the 16-bit CNN adds QuantGenWideKernels.g.cs.
        var models = new (string File, string ClassName, string[] Options)[]
        {
            ("fashion_mobilenet", "FashionMobilenet", ["--input-range", "0,1"]),
            ("fashion_cnn", "FashionCnnA16", ["--input-range", "0,1", "--activation-bits", "16"]),
        };
        string? kernels = null;
        foreach (var (file, className, options) in models)
        {
            var (code, stdout, stderr) = CliProcess.Quantgen(["emit", Model(file), "--target", "net8.0", "--class", className, "--namespace", "Net8",
                "--artifact", projects.Path(className + ".qgart"), "--out", folder, .. options]);
            Assert.True(code == 0, stdout + stderr);
            var text = File.ReadAllText(Path.Combine(folder, "QuantGenKernels.g.cs"));
            Assert.True(kernels is null || kernels == text, "the second emit changed the shared kernels");
            kernels = text;
        }
        Assert.Equal(["Net8.FashionCnnA16.g.cs", "Net8.FashionMobilenet.g.cs", "QuantGenKernels.g.cs", "QuantGenWideKernels.g.cs"],
            Directory.GetFiles(folder).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToArray());
        // The SIMD paths of a .NET 8+ compilation: x86 and Arm.
        Assert.Contains("global::System.Runtime.Intrinsics.X86.Avx2", kernels);
        Assert.Contains("global::System.Runtime.Intrinsics.Arm.Dp", kernels);
        Assert.Contains("global::System.Runtime.Intrinsics.X86.Avx2", File.ReadAllText(Path.Combine(folder, "QuantGenWideKernels.g.cs")));

        projects.WriteLibrary("net8.0");
        projects.WriteHost(models.Select(m => (m.ClassName, $"Net8.{m.ClassName}")));
        var (buildCode, log) = projects.Build();
        Assert.True(buildCode == 0, log);
        Assert.Equal(0, PlainProjects.Warnings(log));

        var (images, _) = FashionMnist.TestSet;
        var outputs = projects.Run(images, Images);
        foreach (var (_, className, _) in models)
        {
            var simulator = new IntegerSimulator(ArtifactText.Read(File.ReadAllText(projects.Path(className + ".qgart"))));
            var expected = Enumerable.Range(0, Images)
                .Select(i => simulator.Run(new Dictionary<string, float[]> { ["image"] = images[(i * FashionMnist.Pixels)..((i + 1) * FashionMnist.Pixels)] })["logits"]).ToArray();
            Assert.True(expected.SelectMany(e => e).Distinct().Count() > 30, $"{className}: the simulator's logits take few values");
            PlainProjects.AssertBitIdentical(expected, outputs[className], $"{className} (emit --target net8.0) against the simulator");
        }
        output.WriteLine($"emit --target net8.0: {models.Length} models in one folder, C# 9 net8.0 build with 0 warnings, SIMD paths present, {Images} images each bit-identical to the simulator; {clock.Elapsed.TotalSeconds:F0} s");
    }

    [Fact]
    public void EmitIsDeterministicAndWritesOnlyTheGeneratedFiles()
    {
        var root = Directory.CreateTempSubdirectory("quantgen-emit-").FullName;
        try
        {
            var runs = new[] { "a", "b" }.Select(name =>
            {
                var (code, stdout, stderr) = CliProcess.Quantgen("emit", Model("fashion_mlp"), "--target", "netstandard2.1", "--input-range", "0,1", "--out", Path.Combine(root, name));
                Assert.True(code == 0, stdout + stderr);
                Assert.Contains("netstandard2.1: QuantGen.Models.FashionMlp.g.cs, QuantGenKernels.g.cs", stdout);
                return Directory.GetFiles(Path.Combine(root, name)).Order(StringComparer.Ordinal).Select(f => (Name: Path.GetFileName(f), Bytes: File.ReadAllBytes(f))).ToArray();
            }).ToArray();
            // The defaults: the class named after the file, the namespace QuantGen.Models; no [QuantizedModel] attribute file.
            Assert.Equal(["QuantGen.Models.FashionMlp.g.cs", "QuantGenKernels.g.cs"], runs[0].Select(f => f.Name));
            Assert.Equal(runs[0].Select(f => f.Name), runs[1].Select(f => f.Name));
            for (int i = 0; i < runs[0].Length; i++)
                Assert.True(runs[0][i].Bytes.AsSpan().SequenceEqual(runs[1][i].Bytes), $"{runs[0][i].Name} differs between two emits");
            var model = System.Text.Encoding.UTF8.GetString(runs[0][0].Bytes);
            Assert.StartsWith("// <auto-generated/>", model);
            Assert.Contains("#nullable enable", model);
            // No BOM, no folder of this machine in the text.
            Assert.NotEqual(0xEF, runs[0][0].Bytes[0]);
            Assert.DoesNotContain(root, model);
            Assert.DoesNotContain(TestPaths.RepoRoot, model);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Theory]
    [InlineData("QG0015", "--target net6.0", "--target", "net6.0")]
    [InlineData("QG0015", "--access protected", "--target", "netstandard2.1", "--access", "protected")]
    [InlineData("QG1030", "ClassName", "--target", "netstandard2.1", "--class", "1Bad")]
    [InlineData("QG1030", "Namespace", "--target", "net8.0", "--namespace", "Demo..Models")]
    [InlineData("QG0021", "--input-range", "--target", "netstandard2.1")]
    public void BadOptionsAndNamesAreQgErrorsAndNothingIsWritten(string code, string words, params string[] options)
    {
        var root = Directory.CreateTempSubdirectory("quantgen-emit-").FullName;
        try
        {
            var outDir = Path.Combine(root, "out");
            string[] rangeOption = code == "QG0021" ? [] : ["--input-range", "0,1"];
            var (exit, stdout, stderr) = CliProcess.Quantgen(["emit", Model("fashion_mlp"), "--out", outDir, .. rangeOption, .. options]);
            Assert.Equal(1, exit);
            var line = stderr.Split('\n').FirstOrDefault(l => l.Contains($"error {code}", StringComparison.Ordinal));
            Assert.True(line is not null, $"no {code} error in:\n{stdout}\n{stderr}");
            Assert.Contains(words, line);
            Assert.Contains("fashion_mlp", line);
            Assert.DoesNotContain("   at ", stdout + stderr);
            Assert.False(Directory.Exists(outDir), "emit wrote files despite the error");
            output.WriteLine(line.Trim());
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
