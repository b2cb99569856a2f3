#:project ../../src/QuantGen.Onnx/QuantGen.Onnx.csproj
#:property TreatWarningsAsErrors=false
// Top-1 agreement of the quantized edge models (tests/models/train_edge_models.py) with the float reference executor,
// per configuration, on the first N Fashion-MNIST test images (the simulator is bit-exact with the generated class).
// Usage (from the repository root): dotnet run -c Release tests/measure/edge_agreement.cs [--images N] [--report] [MODEL ...]
using System.IO.Compression;
using QuantGen.Core.Execution;
using QuantGen.Core.IO;
using QuantGen.Core.Ir;
using QuantGen.Core.Passes;
using QuantGen.Core.Quantization;
using QuantGen.Onnx;

var root = Directory.GetCurrentDirectory();
int imageCount = 1000;
bool report = false;
var models = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--images") imageCount = int.Parse(args[++i]);
    else if (args[i] == "--report") report = true;
    else models.Add(args[i]);
}
if (models.Count == 0) models.Add("fashion_mobilenetv3");
var images = ReadIdx("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", 16);
var calibration = new CalibrationSet(new Dictionary<string, Tensor> { ["image"] = Npy.Read(Path.Combine(root, "tests/models/fashion_calibration.npy")) });
var configs = new (string Name, QuantizationOptions Options)[]
{
    ("default", new()),
    ("mse", new() { RangeMethod = RangeMethod.Mse }),
    ("bc only", new() { Algorithms = QuantizationAlgorithms.BiasCorrection }),
    ("mse bc only", new() { RangeMethod = RangeMethod.Mse, Algorithms = QuantizationAlgorithms.BiasCorrection }),
    ("cle+bc", new() { Algorithms = QuantizationAlgorithms.Cle | QuantizationAlgorithms.BiasCorrection }),
    ("none", new() { Algorithms = QuantizationAlgorithms.None }),
    ("W8A16", new() { ActivationBits = 16 }),
    ("adaround", new() { Algorithms = QuantizationAlgorithms.Cle | QuantizationAlgorithms.BiasAbsorption | QuantizationAlgorithms.AdaRound }),
    ("mse adaround", new() { RangeMethod = RangeMethod.Mse, Algorithms = QuantizationAlgorithms.Cle | QuantizationAlgorithms.BiasAbsorption | QuantizationAlgorithms.AdaRound }),
};
var only = Environment.GetEnvironmentVariable("CONFIGS");
if (only != null) configs = configs.Where(c => only.Split(',').Contains(c.Name)).ToArray();
foreach (var name in models)
{
    var model = OnnxModelLoader.Load(Path.Combine(root, "tests/models", name + ".onnx"));
    var executor = new ReferenceExecutor(ModelPreparation.Prepare(model));
    var output = model.Graph.Outputs[0].Name;
    var floats = Run(x => executor.Run(new Dictionary<string, Tensor> { ["image"] = Tensor.FromArray([1, 1, 28, 28], x) })[output].ToArray<float>());
    foreach (var (configName, options) in configs)
    {
        var result = ModelQuantizer.Quantize(model, options, calibration);
        if (report) Console.WriteLine(result.ReportMarkdown);
        var simulator = new IntegerSimulator(result.Artifact);
        var quantized = Run(x => simulator.Run(new Dictionary<string, float[]> { ["image"] = x })[output]);
        int agree = 0;
        double signal = 0, noise = 0;
        for (int i = 0; i < imageCount; i++)
        {
            if (ArgMax(floats[i]) == ArgMax(quantized[i])) agree++;
            for (int j = 0; j < floats[i].Length; j++) { signal += floats[i][j] * (double)floats[i][j]; noise += (floats[i][j] - quantized[i][j]) * (double)(floats[i][j] - quantized[i][j]); }
        }
        Console.WriteLine($"{name} | {configName} | agreement {100.0 * agree / imageCount:F2}% ({agree}/{imageCount}) | test SQNR {10 * Math.Log10(signal / noise):F1} dB | calibration SQNR {result.CalibrationSqnrDb:F1} dB");
    }
}

float[][] Run(Func<float[], float[]> run)
{
    var outputs = new float[imageCount][];
    Parallel.For(0, imageCount, i =>
    {
        var x = new float[784];
        for (int p = 0; p < 784; p++) x[p] = images[i * 784 + p] / 255f;
        outputs[i] = run(x);
    });
    return outputs;
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
