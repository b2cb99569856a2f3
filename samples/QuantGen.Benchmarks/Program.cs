using BenchmarkDotNet.Running;
using QuantGen.Benchmarks;

// Every model × {int8 SIMD, int8 scalar, ONNX Runtime float} in one run; arguments go to BenchmarkDotNet
// (e.g. --filter '*Cnn*'). `layers MODEL...` prints a per-layer time profile instead. docs/benchmarks.md has the
// commands and the results.
if (args.Length > 0 && args[0] == "layers")
{
    foreach (var model in args.Skip(1)) LayerProfile.Print(model);
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(ModelBenchmarks).Assembly).Run(args.Length == 0 ? ["--filter", "*"] : args);
