using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Microsoft.ML.OnnxRuntime;
using QuantGen.Benchmarks.Models;
using QuantGen.Generated;

namespace QuantGen.Benchmarks;

/// <summary>
/// Batch-1, single-thread latency of one model: the generated int8 class with its SIMD kernels, the same class with
/// <see cref="QuantGenKernels.SimdEnabled"/> off (the scalar loops, bit-identical results), ONNX Runtime on the float
/// ONNX model, and ONNX Runtime int8 on the same quantization exported as QDQ (Models/NAME.qdq.onnx: per-channel int8
/// weights, uint8 activations, which ORT fuses into its QLinear/integer kernels). ORT runs with one intra-op thread, all
/// graph optimizations and pre-bound OrtValues, its fastest call path. The memory diagnoser reports bytes allocated per call.
/// </summary>
[Config(typeof(Config))]
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByParams)]
public class ModelBenchmarks : IDisposable
{
    private sealed class Config : ManualConfig
    {
        // A modest job: the machine is shared, and the point is the ratios, measured in the same process and minute.
        // In process: no per-benchmark project build (the generated classes and ORT load the same either way).
        public Config() => AddJob(Job.ShortRun.WithWarmupCount(3).WithIterationCount(5).WithToolchain(InProcessEmitToolchain.Instance));
    }

    [Params("fashion_mlp", "fashion_cnn", "fashion_mobilenet", "embedding_model")]
    public string Model { get; set; } = "fashion_cnn";

    private FashionMlp? _mlp;
    private FashionCnn? _cnn;
    private FashionMobilenet? _mobilenet;
    private EmbeddingModel? _embedding;
    private float[] _input = [];
    private float[] _output = [];
    private InferenceSession? _session;
    private InferenceSession? _int8Session;
    private RunOptions? _runOptions;
    private OrtValue? _ortInput;
    private OrtValue? _ortOutput;
    private OrtValue[] _ortInputs = [];
    private OrtValue[] _ortOutputs = [];
    private string[] _inputNames = [];
    private string[] _outputNames = [];
    private string[] _int8InputNames = [];
    private string[] _int8OutputNames = [];

    [GlobalSetup]
    public void Setup()
    {
        int[] inputShape, outputShape;
        switch (Model)
        {
            case "fashion_mlp": _mlp = new(); inputShape = FashionMlp.InputShape.ToArray(); outputShape = FashionMlp.OutputShape.ToArray(); break;
            case "fashion_cnn": _cnn = new(); inputShape = FashionCnn.InputShape.ToArray(); outputShape = FashionCnn.OutputShape.ToArray(); break;
            case "fashion_mobilenet": _mobilenet = new(); inputShape = FashionMobilenet.InputShape.ToArray(); outputShape = FashionMobilenet.OutputShape.ToArray(); break;
            case "embedding_model": _embedding = new(); inputShape = EmbeddingModel.InputShape.ToArray(); outputShape = EmbeddingModel.OutputShape.ToArray(); break;
            default: throw new ArgumentException("unknown model " + Model);
        }
        // Inputs in the range the models were calibrated on (pixels in [0, 1]; log-mel features around [-2, 2]).
        var random = new Random(1);
        _input = new float[inputShape.Aggregate(1, (a, d) => a * d)];
        float scale = Model == "embedding_model" ? 4 : 1, offset = Model == "embedding_model" ? -2 : 0;
        for (int i = 0; i < _input.Length; i++) _input[i] = offset + scale * random.NextSingle();
        _output = new float[outputShape.Aggregate(1, (a, d) => a * d)];

        var options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        _session = new InferenceSession(Path.Combine(AppContext.BaseDirectory, "Models", Model + ".onnx"), options);
        _inputNames = [_session.InputMetadata.Keys.Single()];
        _outputNames = [_session.OutputMetadata.Keys.First()];
        _int8Session = new InferenceSession(Path.Combine(AppContext.BaseDirectory, "Models", Model + ".qdq.onnx"), options);
        _int8InputNames = [_int8Session.InputMetadata.Keys.Single()];
        _int8OutputNames = [_int8Session.OutputMetadata.Keys.First()];
        _ortInput = OrtValue.CreateTensorValueFromMemory(_input, inputShape.Select(d => (long)d).ToArray());
        _ortOutput = OrtValue.CreateTensorValueFromMemory(_output, outputShape.Select(d => (long)d).ToArray());
        _ortInputs = [_ortInput];
        _ortOutputs = [_ortOutput];
        _runOptions = new RunOptions();
    }

    public void Dispose()
    {
        Cleanup();
        GC.SuppressFinalize(this);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        QuantGenKernels.SimdEnabled = true;
        _ortInput?.Dispose();
        _ortOutput?.Dispose();
        _runOptions?.Dispose();
        _session?.Dispose();
        _int8Session?.Dispose();
    }

    private void RunGenerated()
    {
        switch (Model)
        {
            case "fashion_mlp": _mlp!.Run(_input, _output); break;
            case "fashion_cnn": _cnn!.Run(_input, _output); break;
            case "fashion_mobilenet": _mobilenet!.Run(_input, _output); break;
            default: _embedding!.Run(_input, _output); break;
        }
    }

    [Benchmark(Baseline = true, Description = "int8 SIMD")]
    public void Int8Simd()
    {
        QuantGenKernels.SimdEnabled = true;
        RunGenerated();
    }

    [Benchmark(Description = "int8 SIMD, Threads 2")]
    public void Int8SimdTwoThreads()
    {
        // Only layers the generator marked large split their channels; the Fashion models have none (same work as SIMD).
        QuantGenKernels.SimdEnabled = true;
        QuantGenKernels.Threads = 2;
        RunGenerated();
        QuantGenKernels.Threads = 1;
    }

    [Benchmark(Description = "int8 scalar")]
    public void Int8Scalar()
    {
        QuantGenKernels.SimdEnabled = false;
        RunGenerated();
    }

    [Benchmark(Description = "ORT float")]
    public void OnnxRuntimeFloat() =>
        _session!.Run(_runOptions, _inputNames, _ortInputs, _outputNames, _ortOutputs);

    [Benchmark(Description = "ORT int8 (QDQ)")]
    public void OnnxRuntimeInt8() =>
        _int8Session!.Run(_runOptions, _int8InputNames, _ortInputs, _int8OutputNames, _ortOutputs);
}
