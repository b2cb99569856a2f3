using QuantGen.Fuzz;

namespace QuantGen.Tests.Fuzz;

/// <summary>
/// CI's share of the fuzzing (docs/security.md, "Fuzzing"): every file of tests/fuzz/corpus/HARNESS goes through its
/// harness once and must end as QuantGen promises, accepted or refused with a specific QG code, never QG9999, a
/// generator exception, uncompilable generated code or any other exception, in bounded time and allocation. No
/// time-based fuzzing here: the corpus is fixed, so the test is deterministic.
/// </summary>
public sealed class FuzzCorpusTests
{
    private static string Corpus => Path.Combine(TestPaths.RepoRoot, "tests", "fuzz", "corpus");

    public static TheoryData<string, string> Files()
    {
        var data = new TheoryData<string, string>();
        foreach (var harness in Harnesses.All.Keys)
            foreach (var file in Directory.GetFiles(Path.Combine(Corpus, harness)).Order(StringComparer.Ordinal))
                data.Add(harness, Path.GetFileName(file));
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void CorpusFileEndsAsPromised(string harness, string file)
    {
        var outcome = FuzzOutcome.Of(Harnesses.All[harness], File.ReadAllBytes(Path.Combine(Corpus, harness, file)));
        Assert.False(outcome.IsFinding, outcome.Detail);
        Assert.NotEqual("QG9999", outcome.Kind);
        // Compiling generated C# (quantize) is the slow, allocating case; everything else is quick.
        var (time, bytes) = harness == "quantize" ? (TimeSpan.FromSeconds(90), 1L << 30) : (TimeSpan.FromSeconds(20), 256L << 20);
        Assert.True(outcome.Elapsed < time, $"took {outcome.Elapsed}");
        Assert.True(outcome.AllocatedBytes < bytes, $"allocated {outcome.AllocatedBytes >> 20} MiB");
        // The hand-made hostile seeds are refused with a code (the two Slice seeds are valid models, run or refused as not quantizable).
        if (file.StartsWith("hostile_", StringComparison.Ordinal) && !file.StartsWith("hostile_slice", StringComparison.Ordinal))
            Assert.StartsWith("QG", outcome.Kind);
    }

    [Fact]
    public void EveryHarnessHasACorpus()
    {
        foreach (var harness in Harnesses.All.Keys)
            Assert.NotEmpty(Directory.GetFiles(Path.Combine(Corpus, harness)));
    }

    [Fact]
    public void TheMutationLoopIsDeterministic()
    {
        var seeds = new List<byte[]> { File.ReadAllBytes(Path.Combine(Corpus, "npy", "small_f32.npy")) };
        string[] Mutants(int seed)
        {
            var random = new Random(seed);
            return Enumerable.Range(0, 20).Select(_ => Convert.ToBase64String(MutationLoop.Mutate(random, seeds[0], seeds, text: false))).ToArray();
        }
        Assert.Equal(Mutants(3), Mutants(3));
        Assert.NotEqual(Mutants(3), Mutants(4));
    }
}
