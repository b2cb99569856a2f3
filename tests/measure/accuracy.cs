#:project ../../src/QuantGen.Onnx/QuantGen.Onnx.csproj
#:property TreatWarningsAsErrors=false
// Float vs quantized top-1 on the 10k Fashion-MNIST test images, for each of QuantGen's test models, W8A8 with
// 512 calibration images and data-free, computed by the reference executor and the bit-exact integer simulator.
// Usage (from the repository root): dotnet run tests/measure/accuracy.cs [MODEL ...]   (default: all four)
using System.IO.Compression;
using QuantGen.Core.Execution;
using QuantGen.Core.IO;
using QuantGen.Core.Ir;
using QuantGen.Core.Passes;
using QuantGen.Core.Quantization;
using QuantGen.Onnx;

var root = Directory.GetCurrentDirectory();
var images = ReadIdx("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", 16);
var labels = ReadIdx("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz", 8);
var calibration = new CalibrationSet(new Dictionary<string, Tensor> { ["image"] = Npy.Read(Path.Combine(root, "tests/models/fashion_calibration.npy")) });

ReferenceExecutor? executor = null;
Console.WriteLine("| model | float top-1 | W8A8 calibrated top-1 (agreement, SQNR) | W8A8 data-free top-1 (agreement) |");
Console.WriteLine("|---|---|---|---|");
foreach (var name in args.Length > 0 ? args : new[] { "fashion_mlp", "fashion_cnn", "fashion_cnn_bn", "fashion_mobilenet" })
{
    var model = OnnxModelLoader.Load(Path.Combine(root, "tests/models", name + ".onnx"));
    executor = new ReferenceExecutor(ModelPreparation.Prepare(model));
    var calibrated = ModelQuantizer.Quantize(model, new QuantizationOptions(), calibration);
    var dataFree = ModelQuantizer.Quantize(model, new QuantizationOptions(), null);
    var (floatAcc, _) = Evaluate(Float, null);
    var (calAcc, calAgree) = Evaluate(Simulate(calibrated), Float);
    var (freeAcc, freeAgree) = Evaluate(Simulate(dataFree), Float);
    Console.WriteLine($"| {name} | {floatAcc:F2}% | {calAcc:F2}% ({calAgree:F2}%, {calibrated.CalibrationSqnrDb:F1} dB) | {freeAcc:F2}% ({freeAgree:F2}%) |");
}

float[] Float(float[] x) => executor!.Run(new Dictionary<string, Tensor> { ["image"] = Tensor.FromArray([1, 1, 28, 28], x) })["logits"].ToArray<float>();

Func<float[], float[]> Simulate(QuantizationResult result)
{
    var simulator = new IntegerSimulator(result.Artifact);
    return x => simulator.Run(new Dictionary<string, float[]> { ["image"] = x })["logits"];
}

(double Accuracy, double Agreement) Evaluate(Func<float[], float[]> run, Func<float[], float[]>? reference)
{
    int correct = 0, agree = 0;
    Parallel.For(0, labels.Length, i =>
    {
        var x = new float[784];
        for (int p = 0; p < 784; p++) x[p] = images[i * 784 + p] / 255f;
        int predicted = ArgMax(run(x));
        if (predicted == labels[i]) Interlocked.Increment(ref correct);
        if (reference is not null && predicted == ArgMax(reference(x))) Interlocked.Increment(ref agree);
    });
    return (100.0 * correct / labels.Length, 100.0 * agree / labels.Length);
}

static int ArgMax(float[] v)
{
    int best = 0;
    for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
    return best;
}

static byte[] ReadIdx(string path, int header)
{
    using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
    using var memory = new MemoryStream();
    gz.CopyTo(memory);
    return memory.ToArray()[header..];
}
