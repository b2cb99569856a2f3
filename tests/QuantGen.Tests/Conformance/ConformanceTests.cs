using System.Text;
using Xunit.Abstractions;

namespace QuantGen.Tests.Conformance;

/// <summary>The ONNX backend test suite through the reference executor.</summary>
public sealed class ConformanceTests(ITestOutputHelper output)
{
    /// <summary>
    /// Every case whose ops are all supported must pass; the rest are counted by reason. The summary (per op: ran,
    /// passed) goes to the test output.
    /// </summary>
    [Fact]
    public void EverySupportedCasePasses()
    {
        Assert.True(Directory.Exists(TestPaths.OnnxTestData), $"{TestPaths.OnnxTestData} is missing: apt-get install libonnx-testdata");
        var results = ConformanceSuite.Discover().AsParallel().AsOrdered().Select(c => ConformanceSuite.Run(c)).ToList();

        var summary = new StringBuilder();
        summary.AppendLine($"ONNX conformance: {results.Count} cases discovered; " +
            string.Join(", ", Enum.GetValues<CaseOutcome>().Select(o => $"{results.Count(r => r.Outcome == o)} {o}")));
        summary.AppendLine("per op (cases using it that ran / passed):");
        var ran = results.Where(r => r.Outcome is CaseOutcome.Passed or CaseOutcome.Failed).ToList();
        foreach (var op in ran.SelectMany(r => r.OpTypes).Distinct().Order(StringComparer.Ordinal))
        {
            var withOp = ran.Where(r => r.OpTypes.Contains(op)).ToList();
            summary.AppendLine($"  {op,-20} {withOp.Count,4} ran {withOp.Count(r => r.Outcome == CaseOutcome.Passed),4} passed");
        }
        foreach (var r in results.Where(r => r.Outcome == CaseOutcome.Declined))
            summary.AppendLine($"  declined {r.Case}: {r.Detail}");
        var failures = results.Where(r => r.Outcome == CaseOutcome.Failed).ToList();
        foreach (var r in failures)
            summary.AppendLine($"  FAILED {r.Case}: {r.Detail}");
        output.WriteLine(summary.ToString());
        Console.WriteLine(summary.ToString());

        Assert.True(failures.Count == 0, $"{failures.Count} conformance cases failed:\n" + string.Join("\n", failures.Select(f => $"{f.Case}: {f.Detail}")));
        // Guards against a discovery that silently finds nothing to run.
        Assert.True(ran.Count >= 300, $"Only {ran.Count} cases ran; expected the supported set to cover at least 300.");
    }
}
