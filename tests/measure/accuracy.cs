#:project ../../src/QuantGen.Onnx/QuantGen.Onnx.csproj
#:property TreatWarningsAsErrors=false
// Float vs quantized top-1 on the 10k Fashion-MNIST test images for QuantGen's test models, across the PTQ
// configurations of docs/accuracy.md (plain round-to-nearest min-max, equalization, bias correction, MSE ranges,
// AdaRound, 16-bit activations; calibrated with the 512 images of tests/models/fashion_calibration.npy, and data-free). Quantized
// results come from the bit-exact integer simulator, which the generated C# matches bit for bit.
// Usage (from the repository root):
//   dotnet run -c Release tests/measure/accuracy.cs [--write] [--images N] [--config NAME ...] [MODEL ...]
// --write updates the generated table in docs/accuracy.md (rows of the models and configurations run; others kept);
// the defaults are all models, all configurations, 10k images.
using System.Diagnostics;
using System.IO.Compression;
using System.Text;
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
var models = new List<string>();
var onlyConfigs = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--write") write = true;
    else if (args[i] == "--images") imageCount = int.Parse(args[++i]);
    else if (args[i] == "--config") onlyConfigs.Add(args[++i]);
    else models.Add(args[i]);
}
if (write && imageCount != 10000) throw new ArgumentException("--write records 10k-image results only: drop --images.");
if (models.Count == 0) models.AddRange(["fashion_mlp", "fashion_cnn", "fashion_cnn_bn", "fashion_mobilenet"]);

var images = ReadIdx("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", 16);
var labels = ReadIdx("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz", 8)[..imageCount];
var calibration = new CalibrationSet(new Dictionary<string, Tensor> { ["image"] = Npy.Read(Path.Combine(root, "tests/models/fashion_calibration.npy")) });

// Fine-tuning's unlabeled training inputs (TrainingData): the first 8192 Fashion-MNIST training images, labels unused.
var trainImages = ReadIdx("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", 16);
// 8192 training images from start; "8k" is the first, 8k-B and 8k-C two disjoint others (the spread between runs).
CalibrationSet TrainingSlice(int start) => new(new Dictionary<string, Tensor> { ["image"] = Tensor.FromArray([8192, 1, 28, 28], Array.ConvertAll(trainImages[(start * 784)..((start + 8192) * 784)], b => b / 255f)) }, new Dictionary<string, string> { ["image"] = $"train-images[{start}..{start + 8192})" });
var training = TrainingSlice(0);
var trainingB = TrainingSlice(8192);
var trainingC = TrainingSlice(16384);
// "60k": all 60000 training images, labels unused (MaxTrainingSamples raised to match; the last 256 held out).
var allPixels = new float[60000 * 784];
for (int i = 0; i < allPixels.Length; i++) allPixels[i] = trainImages[i] / 255f;
var training60k = new CalibrationSet(new Dictionary<string, Tensor> { ["image"] = Tensor.FromArray([60000, 1, 28, 28], allPixels) }, new Dictionary<string, string> { ["image"] = "train-images[0..60000)" });

var none = QuantizationAlgorithms.None;
var adaFine = QuantizationAlgorithms.Cle | QuantizationAlgorithms.BiasAbsorption | QuantizationAlgorithms.AdaRound | QuantizationAlgorithms.FineTune;
// The W3A3 recipe of docs/accuracy.md's session 14 (600 steps of 32, cosine, KL at τ = 2) on a training set, with dampening or freezing.
QuantizationOptions W3A3Cosine600(CalibrationSet data, float dampening = 0, float freeze = 0) => new()
{
    WeightBits = 3, ActivationBits = 3, RangeMethod = RangeMethod.Mse, AdaRoundIterations = 500, Algorithms = adaFine, TrainingData = data,
    FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 600, FineTuneBatch = 32, FineTuneCosine = true,
    FineTuneDampening = dampening, FineTuneFreezeThreshold = freeze,
};
var dfq = QuantizationAlgorithms.Cle | QuantizationAlgorithms.BiasAbsorption | QuantizationAlgorithms.BiasCorrection;
// (name, options, calibrated): "plain" is round-to-nearest with min-max ranges and no passes, the baseline each row is compared with.
// Since session 7 the KL loss defaults to τ = 2 and activations below 8 bits to MSE ranges: the "KL" rows without "T2"
// state τ = 1 to reproduce the earlier measurements.
var configs = new (string Name, QuantizationOptions Options, bool Calibrated)[]
{
    ("W8A8 per-tensor plain", new() { Algorithms = none, RangeMethod = RangeMethod.MinMax, PerChannel = false }, true),
    ("W8A8 per-tensor CLE+BA+BC", new() { Algorithms = dfq, PerChannel = false }, true),
    ("W8A8 plain", new() { Algorithms = none, RangeMethod = RangeMethod.MinMax }, true),
    ("W8A8 default", new(), true),
    ("W8A8 data-free plain", new() { Algorithms = none, RangeMethod = RangeMethod.MinMax }, false),
    ("W8A8 data-free default", new(), false),
    ("W4A8 plain", new() { WeightBits = 4, Algorithms = none, RangeMethod = RangeMethod.MinMax }, true),
    ("W4A8 nearest MSE", new() { WeightBits = 4, Algorithms = none }, true),
    ("W4A8 CLE+BA+BC MSE", new() { WeightBits = 4, Algorithms = dfq }, true),
    ("W4A8 AdaRound (default)", new() { WeightBits = 4 }, true),
    ("W4A8 AdaRound 500 iterations", new() { WeightBits = 4, AdaRoundIterations = 500 }, true),
    ("W3A8 nearest MSE", new() { WeightBits = 3, Algorithms = none }, true),
    ("W3A8 AdaRound (default)", new() { WeightBits = 3 }, true),
    ("W2A8 AdaRound (default)", new() { WeightBits = 2 }, true),
    ("W2A8 AdaRound + finetune", new() { WeightBits = 2, Algorithms = adaFine }, true),
    ("W2A8 AdaRound + finetune 8k", new() { WeightBits = 2, Algorithms = adaFine, TrainingData = training }, true),
    ("W2A8 AdaRound + finetune 8k frozen weights", new() { WeightBits = 2, Algorithms = adaFine, TrainingData = training, FineTuneWeightLearningRate = 0 }, true),
    ("W2A8 AdaRound + finetune 8k offsets", new() { WeightBits = 2, Algorithms = adaFine, TrainingData = training, FineTuneLearnOffsets = true }, true),
    ("W2A8 AdaRound + finetune 8k T4", new() { WeightBits = 2, Algorithms = adaFine, TrainingData = training, FineTuneTemperature = 4 }, true),
    ("W2A8 AdaRound + finetune 8k lr 0.003", new() { WeightBits = 2, Algorithms = adaFine, TrainingData = training, FineTuneLearningRate = 0.003f }, true),
    ("W2A8 AdaRound + finetune 8k 600 steps", new() { WeightBits = 2, Algorithms = adaFine, TrainingData = training, FineTuneSteps = 600 }, true),
    ("W2A8 AdaRound + finetune 8k KL", new() { WeightBits = 2, Algorithms = adaFine, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 1 }, true),
    ("W2A8 AdaRound + finetune 8k KL offsets", new() { WeightBits = 2, Algorithms = adaFine, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 1, FineTuneLearnOffsets = true }, true),
    ("W2A8 AdaRound + finetune 8k KL 600 steps", new() { WeightBits = 2, Algorithms = adaFine, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 1, FineTuneSteps = 600 }, true),
    ("W2A8 AdaRound + finetune 8k KL T2", new() { WeightBits = 2, Algorithms = adaFine, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 2 }, true),
    ("W4A4 plain", new() { WeightBits = 4, ActivationBits = 4, Algorithms = none, RangeMethod = RangeMethod.MinMax }, true),
    ("W4A4 AdaRound (default)", new() { WeightBits = 4, ActivationBits = 4 }, true),
    ("W4A4 AdaRound MSE ranges", new() { WeightBits = 4, ActivationBits = 4, RangeMethod = RangeMethod.Mse }, true),
    ("W4A4 AdaRound + finetune 8k KL", new() { WeightBits = 4, ActivationBits = 4, Algorithms = adaFine, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 1 }, true),
    ("W4A4 AdaRound MSE ranges + finetune 8k KL", new() { WeightBits = 4, ActivationBits = 4, RangeMethod = RangeMethod.Mse, Algorithms = adaFine, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 1 }, true),
    // Oscillation dampening and iterative freezing (issue 20; fashion_mobilenet, docs/accuracy.md): AdaRound 500 iterations, MSE ranges, KL, 100 steps.
    ("W3A3 AdaRound MSE ranges", new() { WeightBits = 3, ActivationBits = 3, RangeMethod = RangeMethod.Mse, AdaRoundIterations = 500 }, true),
    ("W3A3 + finetune 8k KL", new() { WeightBits = 3, ActivationBits = 3, RangeMethod = RangeMethod.Mse, AdaRoundIterations = 500, Algorithms = adaFine, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 1, FineTuneSteps = 100 }, true),
    ("W3A3 + finetune 8k KL dampening 0.01", new() { WeightBits = 3, ActivationBits = 3, RangeMethod = RangeMethod.Mse, AdaRoundIterations = 500, Algorithms = adaFine, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 1, FineTuneSteps = 100, FineTuneDampening = 0.01f }, true),
    ("W3A3 + finetune 8k KL dampening 1", new() { WeightBits = 3, ActivationBits = 3, RangeMethod = RangeMethod.Mse, AdaRoundIterations = 500, Algorithms = adaFine, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 1, FineTuneSteps = 100, FineTuneDampening = 1 }, true),
    ("W3A3 + finetune 8k KL freezing 0.02", new() { WeightBits = 3, ActivationBits = 3, RangeMethod = RangeMethod.Mse, AdaRoundIterations = 500, Algorithms = adaFine, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 1, FineTuneSteps = 100, FineTuneFreezeThreshold = 0.02f }, true),
    // The latent weights start on their grid points: at lr 0.01 (0.01 grid steps per step) few reach a rounding boundary in 100 steps; at 0.1 they do.
    ("W3A3 + finetune 8k KL T2 600x32 cosine", W3A3Cosine600(training), true),
    ("W3A3 + finetune 8k KL T2 600x32 cosine dampening 0.1", W3A3Cosine600(training, dampening: 0.1f), true),
    ("W3A3 + finetune 8k KL T2 600x32 cosine dampening 1", W3A3Cosine600(training, dampening: 1), true),
    ("W3A3 + finetune 8k KL T2 600x32 cosine freezing 0.04", W3A3Cosine600(training, freeze: 0.04f), true),
    ("W3A3 + finetune 8k KL T2 600x32 cosine dampening 0.01", W3A3Cosine600(training, dampening: 0.01f), true),
    ("W3A3 + finetune 8k KL T2 600x32 cosine dampening 0.001", W3A3Cosine600(training, dampening: 0.001f), true),
    ("W3A3 + finetune 8k KL T2 600x32 cosine dampening 0.0001", W3A3Cosine600(training, dampening: 0.0001f), true),
    ("W3A3 + finetune 8k KL T2 600x32 cosine dampening 0.00001", W3A3Cosine600(training, dampening: 0.00001f), true),
    ("W3A3 + finetune 8k-B KL T2 600x32 cosine", W3A3Cosine600(trainingB), true),
    ("W3A3 + finetune 8k-B KL T2 600x32 cosine dampening 0.0001", W3A3Cosine600(trainingB, dampening: 0.0001f), true),
    ("W3A3 + finetune 8k-C KL T2 600x32 cosine", W3A3Cosine600(trainingC), true),
    ("W3A3 + finetune 8k-C KL T2 600x32 cosine dampening 0.0001", W3A3Cosine600(trainingC, dampening: 0.0001f), true),
    ("W3A3 + finetune 8k KL lr 0.1", new() { WeightBits = 3, ActivationBits = 3, RangeMethod = RangeMethod.Mse, AdaRoundIterations = 500, Algorithms = adaFine, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 1, FineTuneSteps = 100, FineTuneLearningRate = 0.1f }, true),
    ("W3A3 + finetune 8k KL lr 0.1 dampening 1", new() { WeightBits = 3, ActivationBits = 3, RangeMethod = RangeMethod.Mse, AdaRoundIterations = 500, Algorithms = adaFine, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 1, FineTuneSteps = 100, FineTuneLearningRate = 0.1f, FineTuneDampening = 1 }, true),
    ("W3A3 + finetune 8k KL lr 0.1 freezing 0.02", new() { WeightBits = 3, ActivationBits = 3, RangeMethod = RangeMethod.Mse, AdaRoundIterations = 500, Algorithms = adaFine, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 1, FineTuneSteps = 100, FineTuneLearningRate = 0.1f, FineTuneFreezeThreshold = 0.02f }, true),
    ("W4A4 AdaRound MSE ranges 500", new() { WeightBits = 4, ActivationBits = 4, RangeMethod = RangeMethod.Mse, AdaRoundIterations = 500 }, true),
    ("W4A4 + finetune 8k KL", new() { WeightBits = 4, ActivationBits = 4, RangeMethod = RangeMethod.Mse, AdaRoundIterations = 500, Algorithms = adaFine, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 1, FineTuneSteps = 100 }, true),
    ("W8A16 default", new() { ActivationBits = 16 }, true),
    ("W4A16 AdaRound (default)", new() { WeightBits = 4, ActivationBits = 16 }, true),
    // Factorized weights (issue 5) fitted layer by layer, then fine-tuned end to end as factors (issue 20).
    ("factorized 16x", new() { Compression = WeightCompression.Factorized, CompressionRatio = 16 }, true),
    ("factorized 16x + finetune 8k", new() { Compression = WeightCompression.Factorized, CompressionRatio = 16, Algorithms = dfq | QuantizationAlgorithms.FineTune, TrainingData = training }, true),
    ("factorized 16x + finetune 8k 600 steps", new() { Compression = WeightCompression.Factorized, CompressionRatio = 16, Algorithms = dfq | QuantizationAlgorithms.FineTune, TrainingData = training, FineTuneSteps = 600 }, true),
    ("factorized 16x + finetune 8k KL T2", new() { Compression = WeightCompression.Factorized, CompressionRatio = 16, Algorithms = dfq | QuantizationAlgorithms.FineTune, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 2 }, true),
    ("factorized 16x + finetune 8k lr 0.03", new() { Compression = WeightCompression.Factorized, CompressionRatio = 16, Algorithms = dfq | QuantizationAlgorithms.FineTune, TrainingData = training, FineTuneLearningRate = 0.03f }, true),
    ("factorized 16x + finetune 8k lr 0.03 600 steps", new() { Compression = WeightCompression.Factorized, CompressionRatio = 16, Algorithms = dfq | QuantizationAlgorithms.FineTune, TrainingData = training, FineTuneLearningRate = 0.03f, FineTuneSteps = 600 }, true),
    ("factorized 16x + finetune 8k KL T2 lr 0.03 600 steps", new() { Compression = WeightCompression.Factorized, CompressionRatio = 16, Algorithms = dfq | QuantizationAlgorithms.FineTune, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneLearningRate = 0.03f, FineTuneSteps = 600 }, true),
    ("factorized 16x + finetune 8k KL T2 600 steps", new() { Compression = WeightCompression.Factorized, CompressionRatio = 16, Algorithms = dfq | QuantizationAlgorithms.FineTune, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 600 }, true),
    ("factorized 16x + finetune 8k KL T4", new() { Compression = WeightCompression.Factorized, CompressionRatio = 16, Algorithms = dfq | QuantizationAlgorithms.FineTune, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 4 }, true),
    ("factorized 16x + finetune 8k KL T2 600 steps offsets", new() { Compression = WeightCompression.Factorized, CompressionRatio = 16, Algorithms = dfq | QuantizationAlgorithms.FineTune, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 600, FineTuneLearnOffsets = true }, true),
    ("factorized 16x + finetune 8k, AdaRound start", new() { Compression = WeightCompression.Factorized, CompressionRatio = 16, Algorithms = adaFine, TrainingData = training }, true),
    // Issue 20 accuracy targets (session 7): cosine learning-rate decay, larger batches, more steps, the 60k training images.
    ("factorized 16x + finetune 8k KL T2 600 steps cosine", new() { Compression = WeightCompression.Factorized, CompressionRatio = 16, Algorithms = dfq | QuantizationAlgorithms.FineTune, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 600, FineTuneCosine = true }, true),
    ("factorized 16x + finetune 8k KL T2 600x32 lr 0.03 cosine", new() { Compression = WeightCompression.Factorized, CompressionRatio = 16, Algorithms = dfq | QuantizationAlgorithms.FineTune, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 600, FineTuneBatch = 32, FineTuneLearningRate = 0.03f, FineTuneCosine = true }, true),
    ("factorized 16x + finetune 60k KL T2 2000x32 lr 0.03 cosine", new() { Compression = WeightCompression.Factorized, CompressionRatio = 16, Algorithms = dfq | QuantizationAlgorithms.FineTune, TrainingData = training60k, MaxTrainingSamples = 60000, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 2000, FineTuneBatch = 32, FineTuneLearningRate = 0.03f, FineTuneCosine = true }, true),
    ("W4A4 MSE ranges + finetune 8k KL T2 600 steps cosine", new() { WeightBits = 4, ActivationBits = 4, RangeMethod = RangeMethod.Mse, Algorithms = adaFine, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 600, FineTuneCosine = true }, true),
    ("W4A4 MSE ranges 500 + finetune 8k KL T2 200 steps cosine", new() { WeightBits = 4, ActivationBits = 4, RangeMethod = RangeMethod.Mse, AdaRoundIterations = 500, Algorithms = adaFine, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 200, FineTuneCosine = true }, true),
    ("factorized 16x + finetune 60k KL T2 1200 steps cosine", new() { Compression = WeightCompression.Factorized, CompressionRatio = 16, Algorithms = dfq | QuantizationAlgorithms.FineTune, TrainingData = training60k, MaxTrainingSamples = 60000, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 1200, FineTuneCosine = true }, true),
    ("W4A4 MSE ranges + finetune 60k KL T2 1200x32 cosine", new() { WeightBits = 4, ActivationBits = 4, RangeMethod = RangeMethod.Mse, Algorithms = adaFine, TrainingData = training60k, MaxTrainingSamples = 60000, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 1200, FineTuneBatch = 32, FineTuneCosine = true }, true),
    // Intermediate-feature MSE beside the KL loss (FineTuneFeatureWeight, session 11).
    ("W2A8 AdaRound + finetune 8k KL T2 features 1", new() { WeightBits = 2, Algorithms = adaFine, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneFeatureWeight = 1 }, true),
    ("W2A8 AdaRound + finetune 8k KL T2 features 0.1", new() { WeightBits = 2, Algorithms = adaFine, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneFeatureWeight = 0.1f }, true),
    ("W2A8 AdaRound + finetune 8k KL T2 features 10", new() { WeightBits = 2, Algorithms = adaFine, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneFeatureWeight = 10 }, true),
    ("W2A8 AdaRound + finetune 8k KL T2 features 0.01", new() { WeightBits = 2, Algorithms = adaFine, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneFeatureWeight = 0.01f }, true),
    ("W2A8 AdaRound + finetune 8k KL T2 1000 steps cosine", new() { WeightBits = 2, Algorithms = adaFine, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 1000, FineTuneCosine = true }, true),
    ("W2A8 AdaRound + finetune 60k KL T2 2000x32 cosine", new() { WeightBits = 2, Algorithms = adaFine, TrainingData = training60k, MaxTrainingSamples = 60000, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 2000, FineTuneBatch = 32, FineTuneCosine = true }, true),
    ("W2A8 AdaRound + finetune 60k KL T2 2000x32 cosine dampening 1", new() { WeightBits = 2, Algorithms = adaFine, TrainingData = training60k, MaxTrainingSamples = 60000, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 2000, FineTuneBatch = 32, FineTuneCosine = true, FineTuneDampening = 1 }, true),
    ("W2A8 AdaRound + finetune 60k KL T2 2000x32 cosine freezing 0.02", new() { WeightBits = 2, Algorithms = adaFine, TrainingData = training60k, MaxTrainingSamples = 60000, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 2000, FineTuneBatch = 32, FineTuneCosine = true, FineTuneFreezeThreshold = 0.02f }, true),
    ("W2A8 AdaRound + finetune 60k KL T2 2000x32 cosine freezing 0.005", new() { WeightBits = 2, Algorithms = adaFine, TrainingData = training60k, MaxTrainingSamples = 60000, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 2000, FineTuneBatch = 32, FineTuneCosine = true, FineTuneFreezeThreshold = 0.005f }, true),
    ("W2A8 AdaRound + finetune 60k KL T2 2000x32 cosine freezing 0.01", new() { WeightBits = 2, Algorithms = adaFine, TrainingData = training60k, MaxTrainingSamples = 60000, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 2000, FineTuneBatch = 32, FineTuneCosine = true, FineTuneFreezeThreshold = 0.01f }, true),
    ("W2A8 AdaRound + finetune 60k KL T2 2000x32 cosine freezing 0.04", new() { WeightBits = 2, Algorithms = adaFine, TrainingData = training60k, MaxTrainingSamples = 60000, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 2000, FineTuneBatch = 32, FineTuneCosine = true, FineTuneFreezeThreshold = 0.04f }, true),
    ("W2A8 AdaRound + finetune 60k KL T2 2000x32 cosine features 0.01", new() { WeightBits = 2, Algorithms = adaFine, TrainingData = training60k, MaxTrainingSamples = 60000, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 2000, FineTuneBatch = 32, FineTuneCosine = true, FineTuneFeatureWeight = 0.01f }, true),
    ("W2A8 AdaRound + finetune 60k KL T2 2000x32 lr 0.03 cosine", new() { WeightBits = 2, Algorithms = adaFine, TrainingData = training60k, MaxTrainingSamples = 60000, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 2000, FineTuneBatch = 32, FineTuneLearningRate = 0.03f, FineTuneCosine = true }, true),
    ("W2A8 AdaRound + finetune 60k KL T2 4000x32 cosine held-out 2048", new() { WeightBits = 2, Algorithms = adaFine, TrainingData = training60k, MaxTrainingSamples = 60000, FineTuneValidationSamples = 2048, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 4000, FineTuneBatch = 32, FineTuneCosine = true }, true),
    ("factorized 16x + finetune 8k KL T2 600 steps features 1", new() { Compression = WeightCompression.Factorized, CompressionRatio = 16, Algorithms = dfq | QuantizationAlgorithms.FineTune, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 600, FineTuneFeatureWeight = 1 }, true),
    ("factorized 16x + finetune 8k KL T2 600 steps features 10", new() { Compression = WeightCompression.Factorized, CompressionRatio = 16, Algorithms = dfq | QuantizationAlgorithms.FineTune, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 600, FineTuneFeatureWeight = 10 }, true),
    ("factorized 16x + finetune 8k KL T2 600 steps features 30", new() { Compression = WeightCompression.Factorized, CompressionRatio = 16, Algorithms = dfq | QuantizationAlgorithms.FineTune, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 600, FineTuneFeatureWeight = 30 }, true),
    ("factorized 16x + finetune 8k KL T2 600 steps features 100", new() { Compression = WeightCompression.Factorized, CompressionRatio = 16, Algorithms = dfq | QuantizationAlgorithms.FineTune, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 600, FineTuneFeatureWeight = 100 }, true),
    ("factorized 16x + finetune 60k KL T2 2000x32 cosine features 10", new() { Compression = WeightCompression.Factorized, CompressionRatio = 16, Algorithms = dfq | QuantizationAlgorithms.FineTune, TrainingData = training60k, MaxTrainingSamples = 60000, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 2000, FineTuneBatch = 32, FineTuneCosine = true, FineTuneFeatureWeight = 10 }, true),
    ("factorized 16x + finetune 60k KL T2 2000x32 cosine", new() { Compression = WeightCompression.Factorized, CompressionRatio = 16, Algorithms = dfq | QuantizationAlgorithms.FineTune, TrainingData = training60k, MaxTrainingSamples = 60000, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 2000, FineTuneBatch = 32, FineTuneCosine = true }, true),
    // Session 12: plain choices are plain layers, rounded by AdaRound (the factorized default pipeline now runs it).
    ("factorized 16x (default pipeline)", new() { Compression = WeightCompression.Factorized, CompressionRatio = 16 }, true),
    ("factorized 16x + AdaRound + finetune 60k KL T2 2000x32 cosine", new() { Compression = WeightCompression.Factorized, CompressionRatio = 16, Algorithms = dfq | QuantizationAlgorithms.AdaRound | QuantizationAlgorithms.FineTune, TrainingData = training60k, MaxTrainingSamples = 60000, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 2000, FineTuneBatch = 32, FineTuneCosine = true }, true),
    ("factorized 16x + AdaRound + finetune 60k KL T2 2000x32 cosine freezing 0.04", new() { Compression = WeightCompression.Factorized, CompressionRatio = 16, Algorithms = dfq | QuantizationAlgorithms.AdaRound | QuantizationAlgorithms.FineTune, TrainingData = training60k, MaxTrainingSamples = 60000, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 2000, FineTuneBatch = 32, FineTuneCosine = true, FineTuneFreezeThreshold = 0.04f }, true),
    ("factorized 16x + AdaRound + finetune 60k KL T2 2000x32 cosine freezing 0.04, no bias correction", new() { Compression = WeightCompression.Factorized, CompressionRatio = 16, Algorithms = adaFine, TrainingData = training60k, MaxTrainingSamples = 60000, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 2000, FineTuneBatch = 32, FineTuneCosine = true, FineTuneFreezeThreshold = 0.04f }, true),
    ("W4A4 MSE ranges + finetune 60k KL T2 2000x32 cosine", new() { WeightBits = 4, ActivationBits = 4, RangeMethod = RangeMethod.Mse, Algorithms = adaFine, TrainingData = training60k, MaxTrainingSamples = 60000, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 2000, FineTuneBatch = 32, FineTuneCosine = true }, true),
    ("W4A4 MSE ranges 500 + finetune 60k KL T2 2000x32 cosine", new() { WeightBits = 4, ActivationBits = 4, RangeMethod = RangeMethod.Mse, AdaRoundIterations = 500, Algorithms = adaFine, TrainingData = training60k, MaxTrainingSamples = 60000, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 2000, FineTuneBatch = 32, FineTuneCosine = true }, true),
    // HAWQ-V2 mixed precision (issue 21) at the weight bits of uniform W4 / W3: widths from {2, 3, 4, 8}, then AdaRound.
    ("mixed at W4 size (AverageWeightBits=4)", new() { AverageWeightBits = 4 }, true),
    ("mixed at W3 size (AverageWeightBits=3)", new() { AverageWeightBits = 3 }, true),
    // Session 13: W2A8 with the first conv at 8 bits (FirstLayerWeightBits; docs/accuracy.md, "Session 13").
    ("W2A8 first layer 8-bit AdaRound", new() { WeightBits = 2, FirstLayerWeightBits = 8 }, true),
    ("W2A8 first layer 8-bit + finetune 8k 600x32 cosine", new() { WeightBits = 2, FirstLayerWeightBits = 8, Algorithms = adaFine, TrainingData = training, FineTuneSteps = 600, FineTuneBatch = 32, FineTuneCosine = true }, true),
    ("W2A8 first layer 8-bit + finetune 8k KL T2 600x32 cosine", new() { WeightBits = 2, FirstLayerWeightBits = 8, Algorithms = adaFine, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 600, FineTuneBatch = 32, FineTuneCosine = true }, true),
    ("W2A8 first layer 8-bit + finetune 8k KL T2 1500x32 cosine", new() { WeightBits = 2, FirstLayerWeightBits = 8, Algorithms = adaFine, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 1500, FineTuneBatch = 32, FineTuneCosine = true }, true),
    ("W2A8 + finetune 8k KL T2 1500x32 cosine freezing 0.04", new() { WeightBits = 2, Algorithms = adaFine, TrainingData = training, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 1500, FineTuneBatch = 32, FineTuneCosine = true, FineTuneFreezeThreshold = 0.04f }, true),
    ("W2A8 first layer 8-bit + finetune 60k KL T2 2000x32 cosine", new() { WeightBits = 2, FirstLayerWeightBits = 8, Algorithms = adaFine, TrainingData = training60k, MaxTrainingSamples = 60000, FineTuneKullbackLeibler = true, FineTuneTemperature = 2, FineTuneSteps = 2000, FineTuneBatch = 32, FineTuneCosine = true }, true),
};
if (onlyConfigs.Count > 0) configs = configs.Where(c => onlyConfigs.Contains(c.Name)).ToArray();

var table = new StringBuilder();
table.AppendLine("| model | configuration | algorithms | top-1 | vs float | agreement | build s |");
table.AppendLine("|---|---|---|---|---|---|---|");
Console.Write(table);
foreach (var name in models)
{
    var model = OnnxModelLoader.Load(Path.Combine(root, "tests/models", name + ".onnx"));
    var executor = new ReferenceExecutor(ModelPreparation.Prepare(model));
    var floatPredictions = Predict(x => executor.Run(new Dictionary<string, Tensor> { ["image"] = Tensor.FromArray([1, 1, 28, 28], x) })["logits"].ToArray<float>());
    double floatAccuracy = Accuracy(floatPredictions);
    Emit($"| {name} | float | | {floatAccuracy:F2}% | | | |");
    foreach (var (configName, options, calibrated) in configs)
    {
        var clock = Stopwatch.StartNew();
        // Data-free rows state the Fashion models' input range, pixels scaled to [0, 1] (QG0021 otherwise).
        var progress = options with { Progress = options.Algorithms is { } f && f.HasFlag(QuantizationAlgorithms.FineTune) ? (Action<string>)(line => Console.Error.WriteLine($"  [{configName}] {line}")) : null };
        var result = ModelQuantizer.Quantize(model, calibrated ? progress : progress with { InputStatistics = InputStatistics.Parse("0,1", null, null) }, calibrated ? calibration : null);
        double seconds = clock.Elapsed.TotalSeconds;
        if (options.IsMixedPrecision || options.Algorithms is { } a && a.HasFlag(QuantizationAlgorithms.FineTune)) Console.Error.WriteLine(result.Summary);
        var simulator = new IntegerSimulator(result.Artifact);
        var predictions = Predict(x => simulator.Run(new Dictionary<string, float[]> { ["image"] = x })["logits"]);
        double accuracy = Accuracy(predictions);
        double agreement = 100.0 * predictions.Zip(floatPredictions).Count(p => p.First == p.Second) / predictions.Length;
        var algorithms = result.Artifact.Metadata.First(m => m.Key == "algorithms").Value;
        Emit($"| {name} | {configName} | {algorithms} | {accuracy:F2}% | {accuracy - floatAccuracy:+0.00;-0.00} | {agreement:F2}% | {seconds:F1} |");
    }
}

if (write)
{
    var path = Path.Combine(root, "docs/accuracy.md");
    var doc = File.ReadAllText(path);
    const string begin = "<!-- accuracy table: generated by tests/measure/accuracy.cs -->", end = "<!-- end of accuracy table -->";
    int a = doc.IndexOf(begin), b = doc.IndexOf(end);
    if (a < 0 || b < 0) throw new InvalidOperationException("docs/accuracy.md has no generated-table markers.");
    // Rows are keyed by (model, configuration): a partial run (--config, MODEL) replaces its rows and keeps the others.
    var rows = doc[(a + begin.Length)..b].Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(2).ToList();
    static string Key(string row) => string.Join("|", row.Split('|').Skip(1).Take(2).Select(c => c.Trim()));
    foreach (var row in table.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(2))
    {
        int at = rows.FindIndex(r => Key(r) == Key(row));
        if (at >= 0) rows[at] = row;
        else
        {
            // After the model's last row, or at the end for a new model.
            int last = rows.FindLastIndex(r => Key(r).Split('|')[0] == Key(row).Split('|')[0]);
            rows.Insert(last < 0 ? rows.Count : last + 1, row);
        }
    }
    var header = string.Join("\n", table.ToString().Split('\n').Take(2));
    File.WriteAllText(path, doc[..(a + begin.Length)] + "\n" + header + "\n" + string.Join("\n", rows) + "\n" + doc[b..]);
    Console.WriteLine("docs/accuracy.md updated.");
}

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
