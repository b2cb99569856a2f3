using System.Globalization;
using System.IO.Compression;
using QuantGen.Core.Quantization;
using QuantGen.Onnx;
using QuantGen.Tests.RealModels;
using Xunit.Abstractions;

namespace QuantGen.Tests.Quantization;

/// <summary>A fact that runs only when QUANTGEN_MEASURE=1 (measurements print figures and take minutes).</summary>
public sealed class MeasureFactAttribute : FactAttribute
{
    public MeasureFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("QUANTGEN_MEASURE") != "1")
            Skip = "Measurement: set QUANTGEN_MEASURE=1 and run in Release.";
    }
}

/// <summary>
/// The figures in docs/adaround.md. Run (Release, nothing else heavy on the machine):
/// QUANTGEN_MEASURE=1 dotnet test tests/QuantGen.Tests -c Release --filter "Category=Measure&amp;FullyQualifiedName~AdaRound" --logger "console;verbosity=detailed"
/// They assert only correctness (every index is floor or floor + 1 or the clamp bound), never time.
/// </summary>
[Trait("Category", "Measure")]
public sealed class AdaRoundMeasurements(ITestOutputHelper output)
{
    /// <summary>Wall time of AdaRound with 1000 Adam steps (4-bit weights) on the shapes of our models, 1 and 2 threads.</summary>
    [MeasureFact]
    public void TimeThousandIterations()
    {
        var fashion = new FashionLayers(calibrationImages: 512, convRows: 20000);
        var shapes = new (string Name, AdaRoundProblem Problem)[]
        {
            ("Fashion CNN conv2: M=32, K=144, R=20000 (real data)", fashion.Conv2(4)),
            ("Fashion MLP fc1: M=256, K=784, R=512 (real data)", fashion.Fc1(4)),
            ("Fashion CNN fc: M=10, K=1568, R=512 (real data)", fashion.CnnFc(4)),
            ("depthwise: C=96 groups, K=9, R=50000 (synthetic)", AdaRoundTests.Synthetic(96, 9, 50000, 4, seed: 1, groups: 96, inputNoise: 0.02f, relu: true)),
            ("dense: M=96, K=48, R=20000 (synthetic)", AdaRoundTests.Synthetic(96, 48, 20000, 4, seed: 2, inputNoise: 0.02f, relu: true)),
        };
        output.WriteLine($"load average at start: {LoadAverage()}; {(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "512" : System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? "256" : "128")}-bit vectors");
        output.WriteLine("| layer | whole call, 2 threads (s) | 1000 steps, 1 thread (s) | 1000 steps, 2 threads (s) | steps/s, 2 threads |");
        output.WriteLine("|---|---|---|---|---|");
        foreach (var (name, problem) in shapes)
        {
            // Each figure is the fastest of three calls: the machine is shared, and the slower runs measure the neighbours.
            var settings = new AdaRoundSettings(Iterations: 1000);
            AdaRoundResult Best(AdaRoundSettings s)
            {
                var runs = Enumerable.Range(0, 3).Select(_ => AdaRound.Optimize(problem, s)).ToArray();
                Assert.All(runs, r => Assert.Equal(runs[0].Quantized, r.Quantized));
                return runs.MinBy(r => r.StepsElapsed)!;
            }
            var one = Best(settings with { MaxDegreeOfParallelism = 1 });
            var two = Best(settings with { MaxDegreeOfParallelism = 2 });
            AssertFloorOrCeiling(problem, two);
            Assert.Equal(one.Quantized, two.Quantized);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {two.Elapsed.TotalSeconds:F2} | {one.StepsElapsed.TotalSeconds:F2} | {two.StepsElapsed.TotalSeconds:F2} | {1000 / two.StepsElapsed.TotalSeconds:F0} |"));
        }
        output.WriteLine($"load average at end: {LoadAverage()}");
    }

    /// <summary>
    /// Quality against rows per step, with the paper's 10,000 steps: error relative to round-to-nearest on the
    /// calibration rows and on held-out rows (other images) for real Fashion layers at 4 and 3 bits.
    /// </summary>
    [MeasureFact]
    public void BatchRowsAgainstQuality()
    {
        var fashion = new FashionLayers(calibrationImages: 512, convRows: 20000);
        var heldOut = new FashionLayers(calibrationImages: 512, convRows: 20000, testSet: true);
        output.WriteLine("| layer | bits | rows per step | learned / nearest, calibration rows | learned / nearest, held-out rows | flipped | time (s) |");
        output.WriteLine("|---|---|---|---|---|---|---|");
        foreach (int bits in new[] { 4, 3 })
        {
            var cases = new (string Name, AdaRoundProblem Problem, AdaRoundProblem HeldOut, int[] Batches)[]
            {
                ("Fashion CNN conv2", fashion.Conv2(bits), heldOut.Conv2(bits), [256, 1024, 4096]),
                ("Fashion MLP fc1", fashion.Fc1(bits), heldOut.Fc1(bits), [32, 128, 512]),
            };
            foreach (var (name, problem, other, batches) in cases)
                foreach (int batch in batches)
                {
                    var result = AdaRound.Optimize(problem, new AdaRoundSettings(BatchRows: batch));
                    AssertFloorOrCeiling(problem, result);
                    var nearest = WeightQuantizer.RoundToNearest(problem.Weights, problem.Scales, problem.Bits);
                    double heldOutRatio = AdaRoundTests.ReferenceError(other, result.Quantized) / AdaRoundTests.ReferenceError(other, nearest);
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {name} | {bits} | {batch} | {result.LearnedError / result.NearestError:F3} | {heldOutRatio:F3} | {result.FlippedFromNearest} | {result.Elapsed.TotalSeconds:F1} |"));
                }
        }
    }

    private static void AssertFloorOrCeiling(AdaRoundProblem problem, AdaRoundResult result)
    {
        int level = WeightQuantizer.MaxLevel(problem.Bits), k = problem.FanIn;
        for (int i = 0; i < result.Quantized.Length; i++)
        {
            int floor = (int)MathF.Floor(problem.Weights[i] / problem.Scales[i / k]), q = result.Quantized[i];
            Assert.True(q == Math.Clamp(floor, -level, level) || q == Math.Clamp(floor + 1, -level, level));
        }
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";

    /// <summary>
    /// Layers of the repository's Fashion-MNIST models with their real inputs: training images (or test images,
    /// for held-out rows) through the float model, and through a model quantized round-to-nearest at 8 bits with
    /// u8 min-max activations for the quantized inputs.
    /// </summary>
    private sealed class FashionLayers
    {
        private readonly float[] _images;
        private readonly int _count, _convRows;
        private readonly Dictionary<string, float[]> _mlp, _cnn;

        public FashionLayers(int calibrationImages, int convRows, bool testSet = false)
        {
            _count = calibrationImages;
            _convRows = convRows;
            _images = ReadImages(Path.Combine(TestPaths.FashionMnist, testSet ? "t10k-images-idx3-ubyte.gz" : "train-images-idx3-ubyte.gz"), _count);
            _mlp = Initializers("fashion_mlp");
            _cnn = Initializers("fashion_cnn");
        }

        public AdaRoundProblem Fc1(int bits)
        {
            // The images are exactly on the u8 grid of [0, 1], so the quantized input equals the float one.
            return Dense(_mlp["fc1.weight"], _mlp["fc1.bias"], 256, bits, _images, _images);
        }

        public AdaRoundProblem Conv2(int bits)
        {
            var (pooled, pooledQuant) = FirstBlock();
            var rows = Im2Col(pooled, 16, 14, _convRows);
            var quantRows = Im2Col(pooledQuant, 16, 14, _convRows);
            return Dense(_cnn["onnx::Conv_31"], _cnn["onnx::Conv_32"], 32, bits, rows, quantRows);
        }

        public AdaRoundProblem CnnFc(int bits)
        {
            var (pooled, pooledQuant) = FirstBlock();
            var second = MaxPool(Relu(Conv(pooled, 16, 14, _cnn["onnx::Conv_31"], _cnn["onnx::Conv_32"], 32)), 32, 14);
            var weights8 = Dequantized(_cnn["onnx::Conv_31"], 32, 8);
            var secondQuant = MaxPool(QuantizeU8(Relu(Conv(pooledQuant, 16, 14, weights8, _cnn["onnx::Conv_32"], 32))), 32, 14);
            return Dense(_cnn["fc.weight"], _cnn["fc.bias"], 10, bits, second, secondQuant, relu: false);
        }

        private (float[] Float, float[] Quant) FirstBlock()
        {
            var weights = _cnn["onnx::Conv_28"];
            var pooled = MaxPool(Relu(Conv(_images, 1, 28, weights, _cnn["onnx::Conv_29"], 16)), 16, 28);
            var pooledQuant = MaxPool(QuantizeU8(Relu(Conv(_images, 1, 28, Dequantized(weights, 16, 8), _cnn["onnx::Conv_29"], 16))), 16, 28);
            return (pooled, pooledQuant);
        }

        private static AdaRoundProblem Dense(float[] weights, float[] bias, int m, int bits, float[] inputs, float[] quantInputs, bool relu = true) =>
            new(weights, m, 1, RangeSetting.WeightScales(weights, m, bits, perChannel: true, RangeMethod.MinMax), bits, bias, [inputs], [quantInputs],
                Enumerable.Repeat(relu ? 0f : float.NegativeInfinity, m).ToArray(), Enumerable.Repeat(float.PositiveInfinity, m).ToArray(), null);

        private static float[] Dequantized(float[] weights, int m, int bits)
        {
            var scales = RangeSetting.WeightScales(weights, m, bits, perChannel: true, RangeMethod.MinMax);
            var q = WeightQuantizer.RoundToNearest(weights, scales, bits);
            int k = weights.Length / m;
            return q.Select((v, i) => v * scales[i / k]).ToArray();
        }

        private static Dictionary<string, float[]> Initializers(string name) =>
            OnnxModelLoader.Load(RealModelPaths.Fashion(name)).Graph.Initializers.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray<float>());

        private static float[] ReadImages(string path, int count)
        {
            using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
            using var memory = new MemoryStream();
            gz.CopyTo(memory);
            var bytes = memory.ToArray();
            return bytes.AsSpan(16, count * 784).ToArray().Select(b => b / 255f).ToArray();
        }

        /// <summary>3x3 convolution, padding 1, stride 1, NCHW, over all images.</summary>
        private float[] Conv(float[] x, int channels, int size, float[] weights, float[] bias, int m)
        {
            var y = new float[_count * m * size * size];
            Parallel.For(0, _count, n =>
            {
                for (int o = 0; o < m; o++)
                    for (int py = 0; py < size; py++)
                        for (int px = 0; px < size; px++)
                        {
                            float sum = bias[o];
                            for (int c = 0; c < channels; c++)
                                for (int ky = 0; ky < 3; ky++)
                                {
                                    int iy = py + ky - 1;
                                    if (iy < 0 || iy >= size) continue;
                                    for (int kx = 0; kx < 3; kx++)
                                    {
                                        int ix = px + kx - 1;
                                        if (ix < 0 || ix >= size) continue;
                                        sum += weights[((o * channels + c) * 3 + ky) * 3 + kx] * x[((n * channels + c) * size + iy) * size + ix];
                                    }
                                }
                            y[((n * m + o) * size + py) * size + px] = sum;
                        }
            });
            return y;
        }

        private static float[] Relu(float[] x) => x.Select(v => MathF.Max(v, 0)).ToArray();

        private float[] MaxPool(float[] x, int channels, int size)
        {
            int half = size / 2;
            var y = new float[_count * channels * half * half];
            for (int nc = 0; nc < _count * channels; nc++)
                for (int py = 0; py < half; py++)
                    for (int px = 0; px < half; px++)
                    {
                        int at = (nc * size + 2 * py) * size + 2 * px;
                        y[(nc * half + py) * half + px] = MathF.Max(MathF.Max(x[at], x[at + 1]), MathF.Max(x[at + size], x[at + size + 1]));
                    }
            return y;
        }

        private static float[] QuantizeU8(float[] x)
        {
            var grid = ActivationGrid.FromRange(x.Min(), x.Max(), 8);
            return x.Select(v => grid.Scale * (Math.Clamp(MathF.Round(v / grid.Scale) + grid.ZeroPoint, grid.QMin, grid.QMax) - grid.ZeroPoint)).ToArray();
        }

        /// <summary>The first <paramref name="rows"/> im2col rows (image, y, x) of a 3x3, padding 1 convolution; K in (c, ky, kx) order.</summary>
        private static float[] Im2Col(float[] x, int channels, int size, int rows)
        {
            int k = channels * 9;
            var result = new float[rows * k];
            for (int r = 0; r < rows; r++)
            {
                int n = r / (size * size), py = r / size % size, px = r % size;
                for (int c = 0; c < channels; c++)
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++)
                        {
                            int iy = py + ky - 1, ix = px + kx - 1;
                            result[r * k + (c * 3 + ky) * 3 + kx] = iy < 0 || iy >= size || ix < 0 || ix >= size ? 0 : x[((n * channels + c) * size + iy) * size + ix];
                        }
            }
            return result;
        }
    }
}
