using System.Text.Json;
using System.Text.RegularExpressions;
using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using QuantGen.Tests.Data;
using Xunit.Abstractions;

namespace QuantGen.Tests.EndToEnd;

/// <summary>
/// docs/unity.md, followed as written: its emit command in an empty project folder, its assembly definition, its usage
/// class, compiled as netstandard2.1 C# 9 with warnings as errors and neither the QuantGen package nor the generator,
/// then run from a net10.0 program and compared with the integer simulator on the artifact the command kept.
/// </summary>
public sealed partial class UnityWalkthroughTests(ITestOutputHelper output)
{
    private const int Images = 24;

    private static readonly string Doc = Path.Combine(TestPaths.RepoRoot, "docs", "unity.md");

    [Fact]
    public void DocsUnityWalkthroughBuildsWithoutQuantGenAndMatchesTheSimulator()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var projects = new PlainProjects();
        var unity = projects.Path("Lib");
        Directory.CreateDirectory(unity);
        File.Copy(Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_cnn.onnx"), Path.Combine(unity, "fashion_cnn.onnx"));
        File.Copy(Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy"), Path.Combine(unity, "fashion_calibration.npy"));

        // Step 1: the command, as the page spells it, run by the built CLI in the project folder.
        var command = Snippet("emit").Trim();
        Assert.StartsWith("quantgen emit ", command);
        Assert.DoesNotContain("\n", command);
        var (code, log) = DotnetProcess.Run(unity, [CliPath, .. command["quantgen ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)]);
        Assert.True(code == 0, log);
        Assert.Contains("quantgen: fashion_cnn:", log);

        // Step 2: the assembly definition, which must be valid JSON that references nothing, not even the engine.
        var asmdef = Snippet("asmdef");
        using (var json = JsonDocument.Parse(asmdef))
        {
            Assert.Equal("QuantGen.Models", json.RootElement.GetProperty("name").GetString());
            Assert.Equal(0, json.RootElement.GetProperty("references").GetArrayLength());
            Assert.True(json.RootElement.GetProperty("noEngineReferences").GetBoolean());
        }
        var folder = Path.Combine(unity, "Assets", "QuantGen", "Models");
        File.WriteAllText(Path.Combine(folder, "QuantGen.Models.asmdef"), asmdef);
        Assert.Equal(["Demo.FashionCnn.g.cs", "QuantGen.Models.asmdef", "QuantGenKernels.g.cs"],
            Directory.GetFiles(folder).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToArray());

        // Step 3: the usage class, compiled with the folder.
        Directory.CreateDirectory(Path.Combine(unity, "Assets", "Scripts"));
        File.WriteAllText(Path.Combine(unity, "Assets", "Scripts", "Classifier.cs"), Snippet("usage"));

        // Unity's compile, approximated: netstandard2.1, C# 9, every .cs under the folder, no package, no generator.
        projects.WriteLibrary("netstandard2.1");
        var project = File.ReadAllText(Path.Combine(unity, "Lib.csproj"));
        Assert.DoesNotContain("Analyzer", project);
        Assert.DoesNotContain("PackageReference", project);
        projects.WriteHost([("emitted", "Demo.FashionCnn")]);
        (code, log) = projects.Build();
        Assert.True(code == 0, log);
        Assert.Equal(0, PlainProjects.Warnings(log));
        Assert.Equal(["netstandard"], PlainProjects.AssemblyReferences(Path.Combine(unity, "bin", "Debug", "netstandard2.1", "Lib.dll")));
        // The page says: no SIMD path in the netstandard2.1 files.
        Assert.DoesNotContain("global::System.Runtime.Intrinsics", Generator.GeneratedCodeTests.ActiveCode(File.ReadAllText(Path.Combine(folder, "QuantGenKernels.g.cs"))));

        var artifact = ArtifactText.Read(File.ReadAllText(Path.Combine(unity, "QuantGen", "fashion_cnn.qgart")));
        Assert.Equal("fashion_calibration.npy", artifact.GetMetadata("calibration"));
        var (images, _) = FashionMnist.TestSet;
        var outputs = projects.Run(images, Images);
        var simulator = new IntegerSimulator(artifact);
        var expected = Enumerable.Range(0, Images)
            .Select(i => simulator.Run(new Dictionary<string, float[]> { ["image"] = images[(i * FashionMnist.Pixels)..((i + 1) * FashionMnist.Pixels)] })["logits"]).ToArray();
        Assert.True(expected.SelectMany(e => e).Distinct().Count() > 50, "the simulator's logits take few values");
        PlainProjects.AssertBitIdentical(expected, outputs["emitted"], "docs/unity.md's FashionCnn against the simulator");
        output.WriteLine($"docs/unity.md followed: emit, asmdef, usage class; netstandard2.1 C# 9 build with 0 warnings, {Images} images bit-identical to the simulator; {clock.Elapsed.TotalSeconds:F0} s");
    }

    /// <summary>The built CLI, as the end-to-end consumer projects run it.</summary>
    internal static string CliPath => Path.Combine(TestPaths.RepoRoot, "src", "QuantGen.Cli", "bin",
        AppContext.BaseDirectory.Contains("/bin/Release/", StringComparison.Ordinal) ? "Release" : "Debug", "net10.0", "QuantGen.Cli.dll");

    /// <summary>The code block right after <c>&lt;!-- unity:NAME --&gt;</c> in docs/unity.md.</summary>
    private static string Snippet(string name)
    {
        var text = File.ReadAllText(Doc);
        var marker = $"<!-- unity:{name} -->";
        int at = text.IndexOf(marker, StringComparison.Ordinal);
        Assert.True(at >= 0, $"docs/unity.md has no '{marker}'");
        var match = Fence().Match(text, at + marker.Length);
        Assert.True(match.Success, $"docs/unity.md has no code block after '{marker}'");
        return match.Groups["body"].Value;
    }

    [GeneratedRegex(@"^```\w*\n(?<body>.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex Fence();
}
