using BenchmarkDotNet.Running;
using QuantGen.Benchmarks;

// Every model × {int8 SIMD, int8 scalar, ONNX Runtime float, ONNX Runtime int8 (QDQ)} in one run; arguments go to BenchmarkDotNet
// (e.g. --filter '*Cnn*'). `layers MODEL...` prints a per-layer time profile instead, `peak` this core's int8 MAC peak per x86 level,
// `kernels [arguments]` times single kernels of src/QuantGen.Kernels (KernelBenchmarks). docs/benchmarks.md has the
// commands and the results.
if (args.Length > 0 && args[0] == "peak")
{
    MacPeak.Print();
    return;
}
if (args.Length > 0 && args[0] == "layers")
{
    // layers [--threads N] MODEL...: QuantGenKernels.Threads for the large layers (1 by default).
    var rest = args.Skip(1).ToList();
    int at = rest.IndexOf("--threads");
    if (at >= 0)
    {
        QuantGen.Generated.QuantGenKernels.Threads = int.Parse(rest[at + 1], System.Globalization.CultureInfo.InvariantCulture);
        rest.RemoveRange(at, 2);
    }
    foreach (var model in rest) LayerProfile.Print(model);
    return;
}
if (args.Length > 0 && args[0] == "kernels")
{
    // Every kernel unless --filter narrows it (BenchmarkDotNet would otherwise ask on the console).
    var rest = args[1..];
    BenchmarkSwitcher.FromTypes([typeof(KernelBenchmarks)]).Run(rest.Contains("--filter") ? rest : [.. rest, "--filter", "*"]);
    return;
}
BenchmarkSwitcher.FromTypes([typeof(ModelBenchmarks)]).Run(args.Length == 0 ? ["--filter", "*"] : args);
