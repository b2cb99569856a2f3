using System.Diagnostics;
using System.IO.Compression;
using FashionMnist.Models;
using QuantGen.Core.Execution;
using QuantGen.Core.Ir;
using QuantGen.Core.Passes;
using QuantGen.Onnx;

// Classifies the 10k Fashion-MNIST test images (Debian's dataset-fashion-mnist) with the generated int8 class.
const string DataDir = "/usr/share/datasets/fashion-mnist";
var images = ReadIdx(Path.Combine(DataDir, "t10k-images-idx3-ubyte.gz"), 16);
var labels = ReadIdx(Path.Combine(DataDir, "t10k-labels-idx1-ubyte.gz"), 8);
int count = labels.Length;

var model = new FashionCnn();
var input = new float[FashionCnn.InputLength];
var logits = new float[FashionCnn.OutputLength];
int correct = 0;
var clock = Stopwatch.StartNew();
for (int i = 0; i < count; i++)
{
    for (int p = 0; p < input.Length; p++) input[p] = images[i * input.Length + p] / 255f;
    model.Run(input, logits);
    if (ArgMax(logits) == labels[i]) correct++;
}
clock.Stop();

// The same ONNX model in float, through QuantGen's reference executor (the ground truth the quantizer calibrates with).
var reference = new ReferenceExecutor(ModelPreparation.Prepare(OnnxModelLoader.Load(Path.Combine(AppContext.BaseDirectory, "fashion_cnn.onnx"))));
int floatCorrect = 0, agree = 0;
var floatClock = Stopwatch.StartNew();
for (int i = 0; i < count; i++)
{
    for (int p = 0; p < input.Length; p++) input[p] = images[i * input.Length + p] / 255f;
    var floatLogits = reference.Run(new Dictionary<string, Tensor> { ["image"] = Tensor.FromArray([1, 1, 28, 28], (float[])input.Clone()) })["logits"].AsSpan<float>();
    int predicted = ArgMax(floatLogits);
    if (predicted == labels[i]) floatCorrect++;
    model.Run(input, logits);
    if (predicted == ArgMax(logits)) agree++;
}
floatClock.Stop();

Console.WriteLine($"float (reference executor): top-1 {100.0 * floatCorrect / count:F2}% on {count} test images");
Console.WriteLine($"int8 (generated FashionCnn): top-1 {100.0 * correct / count:F2}%, same answer as float on {100.0 * agree / count:F2}% of images");
Console.WriteLine($"int8 latency: {clock.Elapsed.TotalMilliseconds * 1000 / count:F1} µs per image (batch 1, one thread, one pass incl. warm-up; steady state: docs/benchmarks.md)");
return 0;

static int ArgMax(ReadOnlySpan<float> values)
{
    int best = 0;
    for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
    return best;
}

static byte[] ReadIdx(string path, int header)
{
    using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
    using var memory = new MemoryStream();
    gz.CopyTo(memory);
    return memory.ToArray()[header..];
}
