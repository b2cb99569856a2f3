extern alias generator;

using System.Text;
using Microsoft.CodeAnalysis.Text;
using QuantGenGenerator = generator::QuantGen.Generator.QuantGenGenerator;

namespace QuantGen.Tests.Generator;

/// <summary>
/// The exact files the generator emits for a tiny hand-written artifact, against snapshots committed next to this
/// file and reviewed by hand. Any difference fails the test. After an intended change to the emitted code, rewrite
/// them with <c>QUANTGEN_UPDATE_SNAPSHOTS=1 dotnet test --filter GeneratorSnapshotTests</c> (the test then fails
/// once, on purpose), review the diff and commit it.
/// </summary>
public sealed class GeneratorSnapshotTests
{
    private const string ArtifactPath = "/project/obj/quantgen/tiny.qgart";

    /// <summary>The generated files, in the order the generator adds them.</summary>
    private static readonly string[] Files = ["QuantizedModelAttribute.g.cs", "Demo.Models.Tiny.g.cs", "QuantGenKernels.g.cs"];

    private static string Snapshots => Path.Combine(TestPaths.RepoRoot, "tests", "QuantGen.Tests", "Generator", "Snapshots");

    [Fact]
    public async Task GeneratedFilesMatchTheSnapshots()
    {
        var artifact = File.ReadAllText(Path.Combine(Snapshots, "tiny.qgart"));
        if (Environment.GetEnvironmentVariable("QUANTGEN_UPDATE_SNAPSHOTS") == "1")
        {
            var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(ArtifactPath, artifact)], GeneratedCodeTests.Options(ArtifactPath));
            foreach (var tree in driver.RunGenerators(GeneratorHarness.Compilation()).GetRunResult().GeneratedTrees)
                File.WriteAllText(Path.Combine(Snapshots, Path.GetFileName(tree.FilePath)), tree.ToString());
            Assert.Fail($"Snapshots rewritten in {Snapshots}: review the diff, then run the test without QUANTGEN_UPDATE_SNAPSHOTS.");
        }

        var test = new QuantGenGeneratorTest().WithArtifact(ArtifactPath, artifact).WithGlobalConfig("Demo.Models");
        foreach (var file in Files)
            test.TestState.GeneratedSources.Add((typeof(QuantGenGenerator), file, SourceText.From(File.ReadAllText(Path.Combine(Snapshots, file)), Encoding.UTF8)));
        await test.RunAsync();
    }

    /// <summary>
    /// The model class of a 16-bit artifact (tiny16.qgart: a FullyConnected with a fused LeakyRelu and clampHigh), printed
    /// by the same printer as the u8 classes. Only the model file: its kernels (QuantGenWideKernels) are guarded by
    /// WideGeneratedCodeTests, and it compiles without warnings there too.
    /// </summary>
    [Fact]
    public void SixteenBitModelClassMatchesTheSnapshot()
    {
        const string path = "/project/obj/quantgen/tiny16.qgart", file = "Demo.Models.Tiny16.g.cs";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, File.ReadAllText(Path.Combine(Snapshots, "tiny16.qgart")))], GeneratedCodeTests.Options(path));
        var run = driver.RunGenerators(GeneratorHarness.Compilation()).GetRunResult();
        Assert.Empty(run.Diagnostics);
        var generated = run.GeneratedTrees.Single(t => Path.GetFileName(t.FilePath) == file).ToString();
        if (Environment.GetEnvironmentVariable("QUANTGEN_UPDATE_SNAPSHOTS") == "1")
        {
            File.WriteAllText(Path.Combine(Snapshots, file), generated);
            Assert.Fail($"Snapshot {file} rewritten in {Snapshots}: review the diff, then run the test without QUANTGEN_UPDATE_SNAPSHOTS.");
        }
        Assert.Equal(File.ReadAllText(Path.Combine(Snapshots, file)), generated);
    }
}
