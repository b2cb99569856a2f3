#:project ../../src/QuantGen.Onnx/QuantGen.Onnx.csproj
#:property TreatWarningsAsErrors=false
// Accuracy against weight bytes on the 10k Fashion-MNIST test images: quantized sparse factorization
// (Compression="factorized") at several ratios, plain W8, W4 and W3 AdaRound, and plain truncated weight SVD at the
// factorized build's bytes. Calibrated with the 512 images of tests/models/fashion_calibration.npy; quantized results
// come from the bit-exact integer simulator, which the generated C# matches bit for bit.
// Usage (from the repository root):
//   dotnet run -c Release tests/measure/factorization.cs [--write] [--images N] [--ratios 8,12,16] [MODEL ...]
// --write replaces the section between the factorization markers of docs/accuracy.md (10k images only).
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using QuantGen.Core;
using QuantGen.Core.Execution;
using QuantGen.Core.IO;
using QuantGen.Core.Ir;
using QuantGen.Core.Passes;
using QuantGen.Core.Quantization;
using QuantGen.Core.Quantization.Factorization;
using QuantGen.Onnx;

var root = Directory.GetCurrentDirectory();
bool write = false;
int imageCount = 10000;
double[] ratios = [8, 12, 16, 24];
var models = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--write") write = true;
    else if (args[i] == "--images") imageCount = int.Parse(args[++i]);
    else if (args[i] == "--ratios") ratios = args[++i].Split(',').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
    else models.Add(args[i]);
}
if (write && imageCount != 10000) throw new ArgumentException("--write records 10k-image results only: drop --images.");
if (models.Count == 0) models.AddRange(["fashion_mlp", "fashion_cnn", "fashion_mobilenet"]);

var images = ReadIdx("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", 16);
var labels = ReadIdx("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz", 8)[..imageCount];
var calibration = new CalibrationSet(new Dictionary<string, Tensor> { ["image"] = Npy.Read(Path.Combine(root, "tests/models/fashion_calibration.npy")) });

var table = new StringBuilder();
table.AppendLine("| model | configuration | weight bytes | × vs float32 | top-1 | vs float | output SQNR dB | build s |");
table.AppendLine("|---|---|---|---|---|---|---|---|");
Console.Write(table);
foreach (var name in models)
{
    var model = OnnxModelLoader.Load(Path.Combine(root, "tests/models", name + ".onnx"));
    var prepared = ModelPreparation.Prepare(model);
    var executor = new ReferenceExecutor(prepared);
    double floatAccuracy = Accuracy(Predict(x => executor.Run(Image(x))["logits"].ToArray<float>()));
    var weights = WeightMatrices(prepared.Graph);
    long parameters = weights.Sum(w => (long)w.M * w.K), floatBytes = 4 * parameters;
    Emit($"| {name} | float | {floatBytes} | 1.0 | {floatAccuracy:F2}% | | | |");

    // Plain layers store one byte per weight in the generated class at any bit-width; the byte column counts the
    // bit-packed size a W4/W3 layer would need (parameters · bits / 8), the fair comparison for the factorization.
    foreach (int bits in new[] { 8, 4, 3, 2 })
    {
        var (accuracy, seconds, sqnr, _) = Quantized(model, new QuantizationOptions { WeightBits = bits });
        long bytes = (parameters * bits + 7) / 8;
        Emit($"| {name} | W{bits}A8 {(bits == 8 ? "default" : "AdaRound")} | {bytes} | {(double)floatBytes / bytes:F1} | {accuracy:F2}% | {accuracy - floatAccuracy:+0.00;-0.00} | {sqnr:F1} | {seconds:F1} |");
    }
    foreach (double ratio in ratios)
    {
        (double Accuracy, double Seconds, double Sqnr, string Report) factorized;
        try { factorized = Quantized(model, new QuantizationOptions { Compression = WeightCompression.Factorized, CompressionRatio = ratio }); }
        catch (ModelException e) when (e.Code == ErrorCodes.InvalidOption)
        {
            // An unreachable ratio is refused at build time (QG0015); the table says so instead of a number.
            Emit($"| {name} | factorized, CompressionRatio {ratio} | refused: {e.Code} | | | | | |");
            continue;
        }
        var (accuracy, seconds, sqnr, report) = factorized;
        long bytes = long.Parse(System.Text.RegularExpressions.Regex.Match(report, @"this build (\d+) bytes").Groups[1].Value);
        Emit($"| {name} | factorized, CompressionRatio {ratio} | {bytes} | {(double)floatBytes / bytes:F1} | {accuracy:F2}% | {accuracy - floatAccuracy:+0.00;-0.00} | {sqnr:F1} | {seconds:F1} |");

        // Plain weight SVD at the same bytes: every matrix the factorization did not keep plain gets the rank whose
        // float32 factors (4·r·(M+K) bytes) fit in the bytes that build gave it; then W8A8 like the other layers.
        var svd = SvdModel(model, report);
        // No SQNR for this row: the build measures it against its own (SVD-truncated) float model.
        var (svdAccuracy, svdSeconds, _, _) = Quantized(svd.Model, new QuantizationOptions());
        Emit($"| {name} | truncated SVD (float32 factors, {svd.Ranks}) at the same bytes | {bytes} | {(double)floatBytes / bytes:F1} | {svdAccuracy:F2}% | {svdAccuracy - floatAccuracy:+0.00;-0.00} | | {svdSeconds:F1} |");
    }
}

if (write)
{
    var path = Path.Combine(root, "docs/accuracy.md");
    var doc = File.ReadAllText(path);
    const string begin = "<!-- factorization table: generated by tests/measure/factorization.cs -->", end = "<!-- end of factorization table -->";
    int a = doc.IndexOf(begin), b = doc.IndexOf(end);
    if (a < 0 || b < 0) throw new InvalidOperationException("docs/accuracy.md has no factorization-table markers.");
    File.WriteAllText(path, doc[..(a + begin.Length)] + "\n" + table + doc[b..]);
    Console.WriteLine("docs/accuracy.md updated.");
}

// Top-1 on the test images, build seconds, the build's output SQNR (integer model against float on 64 calibration
// samples, what the QG0019 guard reads) and the report.
(double Accuracy, double Seconds, double Sqnr, string Report) Quantized(Model m, QuantizationOptions options)
{
    var clock = Stopwatch.StartNew();
    var result = ModelQuantizer.Quantize(m, options, calibration);
    double seconds = clock.Elapsed.TotalSeconds;
    var simulator = new IntegerSimulator(result.Artifact);
    return (Accuracy(Predict(x => simulator.Run(new Dictionary<string, float[]> { ["image"] = x })["logits"])), seconds, result.CalibrationSqnrDb, result.ReportMarkdown);
}

// The Gemm weight matrices of the graph as [M, K] (ONNX stores B as [K, N], or [N, K] with transB).
List<(string Initializer, int M, int K, bool Transposed)> WeightMatrices(Graph graph)
{
    var list = new List<(string, int, int, bool)>();
    foreach (var node in graph.Nodes.Where(n => n.OpType is "Gemm" or "Conv" && graph.Initializers.ContainsKey(n.Inputs[1])))
    {
        var shape = graph.Initializers[node.Inputs[1]].Shape;
        if (node.OpType == "Conv") { list.Add((node.Inputs[1], shape[0], shape.Skip(1).Aggregate(1, (p, d) => p * d), false)); continue; }
        bool transB = node.Attributes.TryGetValue("transB", out var t) && t.Int == 1;
        list.Add((node.Inputs[1], transB ? shape[0] : shape[1], transB ? shape[1] : shape[0], transB));
    }
    return list;
}

(Model Model, string Ranks) SvdModel(Model source, string report)
{
    var model = OnnxModelLoader.Load(source.Path!);
    var graph = model.Graph;
    var ranks = new List<string>();
    // Report rows: "| layer | MxK | A·B, … | bytes | …" or "| plain b-bit (a plain layer …) |": every layer the planner
    // did not keep at int8, and the bytes each was given.
    var rows = report.Split('\n').Where(l => l.Contains("| A·B,") || l.Contains("(a plain layer")).Select(l => l.Split('|').Select(c => c.Trim()).ToArray()).ToList();
    foreach (var row in rows)
    {
        var dims = row[2].Split('×').Select(int.Parse).ToArray();
        long bytes = long.Parse(row[4]);
        int rank = (int)Math.Max(1, bytes / (4L * (dims[0] + dims[1])));
        var (init, m, k, transposed) = WeightMatrices(graph).First(w => w.M == dims[0] && w.K == dims[1]);
        var tensor = graph.Initializers[init];
        var data = tensor.ToArray<float>();
        // SVD of W or of Wᵀ gives the same best rank-r approximation; factor the stored layout (a Conv's [M, C·KH·KW]).
        int rows_ = tensor.Shape[0], cols = data.Length / rows_;
        graph.Initializers[init] = Tensor.FromArray(tensor.Shape, WeightSvd.Approximate(data, rows_, cols, Math.Min(rank, Math.Min(rows_, cols))));
        ranks.Add($"r {rank}");
    }
    return (model, ranks.Count == 0 ? "none" : string.Join(", ", ranks));
}

Dictionary<string, Tensor> Image(float[] x) => new() { ["image"] = Tensor.FromArray([1, 1, 28, 28], x) };

void Emit(string line)
{
    Console.WriteLine(line);
    table.AppendLine(line);
}

int[] Predict(Func<float[], float[]> run)
{
    var predicted = new int[labels.Length];
    Parallel.For(0, labels.Length, i =>
    {
        var x = new float[784];
        for (int p = 0; p < 784; p++) x[p] = images[i * 784 + p] / 255f;
        predicted[i] = ArgMax(run(x));
    });
    return predicted;
}

double Accuracy(int[] predicted) => 100.0 * predicted.Zip(labels).Count(p => p.First == p.Second) / labels.Length;

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
