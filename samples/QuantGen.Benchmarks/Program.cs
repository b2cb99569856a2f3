using BenchmarkDotNet.Running;

// Every model × {int8 SIMD, int8 scalar, ONNX Runtime float} in one run; arguments go to BenchmarkDotNet
// (e.g. --filter '*Cnn*'). docs/benchmarks.md has the command and the results.
BenchmarkSwitcher.FromAssembly(typeof(QuantGen.Benchmarks.ModelBenchmarks).Assembly).Run(args.Length == 0 ? ["--filter", "*"] : args);
