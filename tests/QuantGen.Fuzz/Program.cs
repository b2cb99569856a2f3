using System.Globalization;
using QuantGen.Core;
using QuantGen.Fuzz;

// quantgen-fuzz: docs/security.md, "Fuzzing".
//   corpus HARNESS DIR                      every file of DIR through HARNESS once (what CI's FuzzCorpusTests does)
//   loop HARNESS DIR MINUTES [SEED]         deterministic mutation loop over DIR's files for MINUTES; findings to fuzz-findings/
//   afl HARNESS                             under afl-fuzz, on a SharpFuzz-instrumented build (see the docs)
//   libfuzzer HARNESS                       under SharpFuzz's libFuzzer driver
//   seed DIR                                (re)writes the hand-made hostile seeds under DIR/onnx, DIR/quantize, DIR/npy
// HARNESS: onnx, npy, artifact, quantize.
if (args is ["seed", var root])
{
    Seeds.Write(root);
    return 0;
}
if (args.Length < 2 || !Harnesses.All.TryGetValue(args[1], out var harness))
{
    Console.Error.WriteLine($"usage: quantgen-fuzz corpus|loop|afl|libfuzzer {string.Join("|", Harnesses.All.Keys)} [DIR] [MINUTES] [SEED]");
    return 2;
}
switch (args[0])
{
    case "corpus":
    {
        int findings = 0;
        foreach (var file in Directory.GetFiles(args[2]).Order(StringComparer.Ordinal))
        {
            var outcome = FuzzOutcome.Of(harness, File.ReadAllBytes(file));
            Console.WriteLine($"{Path.GetFileName(file)}: {outcome.Kind} in {outcome.Elapsed.TotalMilliseconds:F0} ms, {outcome.AllocatedBytes >> 20} MiB{(outcome.IsFinding ? "\n" + outcome.Detail : "")}");
            if (outcome.IsFinding) findings++;
        }
        return findings == 0 ? 0 : 1;
    }
    case "loop":
    {
        var minutes = double.Parse(args[3], CultureInfo.InvariantCulture);
        int seed = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 1;
        var report = MutationLoop.Run(args[1], harness, args[2], TimeSpan.FromMinutes(minutes), seed, "fuzz-findings", Console.Out);
        return report.Findings == 0 ? 0 : 1;
    }
    case "afl":
        SharpFuzz.Fuzzer.OutOfProcess.Run(stream =>
        {
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            Promised(harness, copy.ToArray());
        });
        return 0;
    case "libfuzzer":
        SharpFuzz.Fuzzer.LibFuzzer.Run(span => Promised(harness, span.ToArray()));
        return 0;
    default:
        Console.Error.WriteLine($"unknown command '{args[0]}'");
        return 2;
}

// Under AFL and libFuzzer a crash is an escaping exception: the promised outcomes are swallowed, the rest escapes.
static void Promised(Action<byte[]> harness, byte[] data)
{
    try
    {
        harness(data);
    }
    catch (ModelException e) when (e.Code != ErrorCodes.InternalError)
    {
    }
}
