using System.Collections.Concurrent;
using QuantGen.Core.Execution;
using QuantGen.Core.IO;
using QuantGen.Core.Ir;
using QuantGen.Core.Passes;
using QuantGen.Core.Quantization;
using QuantGen.Onnx;
using QuantGen.Tests.Data;
using QuantGen.Tests.RealModels;
using Xunit.Abstractions;

namespace QuantGen.Tests.Quantization;

/// <summary>
/// Post-training quantization of the project's Fashion-MNIST models, executed by the bit-exact integer simulator,
/// against the float model on the first test images: the bars of the PTQ issue. The full 10k-image table with
/// every configuration is docs/accuracy.md (tests/measure/accuracy.cs); these tests check the bars on a subset
/// so the suite stays fast, with the same calibration set (512 training images). Issue 20's fine-tuning bars are here
/// too: the same measure, one pass more (the CNN's in the suite, the MobileNet's and MLP's behind QUANTGEN_MEASURE=1).
/// </summary>
public sealed class QuantizedAccuracyTests(ITestOutputHelper output)
{
    private const int Images = 2000;

    private static readonly Lazy<CalibrationSet> Calibration = new(() => new CalibrationSet(new Dictionary<string, Tensor>
    {
        ["image"] = Npy.Read(Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy")),
    }));

    private static readonly ConcurrentDictionary<string, float[][]> FloatLogits = new();

    private static readonly QuantizationAlgorithms Dfq =
        QuantizationAlgorithms.Cle | QuantizationAlgorithms.BiasAbsorption | QuantizationAlgorithms.BiasCorrection;

    [Theory]
    [InlineData("fashion_mlp", 0.5)]
    [InlineData("fashion_cnn", 0.5)]
    [InlineData("fashion_cnn_bn", 0.5)]
    [InlineData("fashion_mobilenet", 1.0)]
    public void W8A8DefaultAgreesWithTheFloatModel(string name, double maxDrop)
    {
        var r = Evaluate(name, new QuantizationOptions(), calibrated: true);
        Assert.True(r.Agreement >= 99.0, $"{name}: int8 agrees with float on {r.Agreement:F2}% of images");
        Assert.True(r.Drop <= maxDrop, $"{name}: int8 loses {r.Drop:F2} points");
    }

    [Theory]
    [InlineData("fashion_mlp")]
    [InlineData("fashion_cnn")]
    [InlineData("fashion_cnn_bn")]
    [InlineData("fashion_mobilenet")]
    public void W8A8DataFreeIsWithinOnePointOfFloat(string name)
    {
        var r = Evaluate(name, new QuantizationOptions(), calibrated: false);
        Assert.True(r.Drop <= 1.0, $"{name}: data-free W8A8 loses {r.Drop:F2} points");
    }

    [Fact]
    public void W8A8PerTensorMobileNetWithEqualizationIsWithinHalfAPoint()
    {
        var r = Evaluate("fashion_mobilenet", new QuantizationOptions { PerChannel = false, Algorithms = Dfq }, calibrated: true);
        Assert.True(r.Drop <= 0.5, $"per-tensor W8A8 with CLE + absorption + bias correction loses {r.Drop:F2} points");
    }

    [Theory]
    [InlineData("fashion_cnn")]
    [InlineData("fashion_mobilenet")]
    public void W4A8AdaRoundIsWithinOneAndAHalfPointsAndBeatsNearest(string name)
    {
        var nearest = Evaluate(name, new QuantizationOptions { WeightBits = 4, Algorithms = QuantizationAlgorithms.None, RangeMethod = RangeMethod.MinMax }, calibrated: true);
        var adaRound = Evaluate(name, new QuantizationOptions { WeightBits = 4 }, calibrated: true);
        Assert.True(adaRound.Drop <= 1.5, $"{name}: W4A8 AdaRound loses {adaRound.Drop:F2} points");
        Assert.True(adaRound.Accuracy > nearest.Accuracy, $"{name}: AdaRound {adaRound.Accuracy:F2}% vs nearest {nearest.Accuracy:F2}%");
    }

    [Fact]
    public void W3A8AdaRoundBeatsNearest()
    {
        var nearest = Evaluate("fashion_cnn", new QuantizationOptions { WeightBits = 3, Algorithms = QuantizationAlgorithms.None }, calibrated: true);
        var adaRound = Evaluate("fashion_cnn", new QuantizationOptions { WeightBits = 3 }, calibrated: true);
        Assert.True(adaRound.Accuracy > nearest.Accuracy + 1, $"W3A8 AdaRound {adaRound.Accuracy:F2}% vs nearest (MSE ranges) {nearest.Accuracy:F2}%");
    }

    /// <summary>
    /// 16-bit activations take the activation rounding out of W8A8's error budget: the logits' SQNR against float
    /// rises by at least 3 dB (measured: +4.3 MLP, +6.2 CNN, +10.3 MobileNet-style on these 2000 images), and the
    /// predictions stay within a quarter point of float.
    /// </summary>
    [Theory]
    [InlineData("fashion_mlp")]
    [InlineData("fashion_cnn")]
    [InlineData("fashion_mobilenet")]
    public void W8A16BeatsW8A8AndMatchesFloat(string name)
    {
        var a8 = Evaluate(name, new QuantizationOptions(), calibrated: true);
        var a16 = Evaluate(name, new QuantizationOptions { ActivationBits = 16 }, calibrated: true);
        Assert.True(a16.SqnrDb >= a8.SqnrDb + 3.0, $"{name}: W8A16 logits SQNR {a16.SqnrDb:F1} dB vs W8A8 {a8.SqnrDb:F1} dB");
        Assert.True(a16.Drop <= 0.25, $"{name}: W8A16 loses {a16.Drop:F2} points");
        Assert.True(a16.Agreement >= 99.5, $"{name}: W8A16 agrees with float on {a16.Agreement:F2}% of images");
    }

    /// <summary>Data-free ranges (BN statistics, moment propagation) and analytic bias correction on the 16-bit grid.</summary>
    [Theory]
    [InlineData("fashion_cnn_bn")]
    [InlineData("fashion_mobilenet")]
    public void W8A16DataFreeIsWithinOnePointOfFloat(string name)
    {
        var r = Evaluate(name, new QuantizationOptions { ActivationBits = 16 }, calibrated: false);
        Assert.True(r.Drop <= 1.0, $"{name}: data-free W8A16 loses {r.Drop:F2} points");
    }

    /// <summary>
    /// At 4 bits the weights dominate the error (W4A16 and W4A8 logits SQNR differ by under 0.5 dB, docs/accuracy.md):
    /// the bar is AdaRound's, within a point of float.
    /// </summary>
    [Theory]
    [InlineData("fashion_cnn")]
    [InlineData("fashion_mobilenet")]
    public void W4A16AdaRoundIsWithinOnePointOfFloat(string name)
    {
        var r = Evaluate(name, new QuantizationOptions { WeightBits = 4, ActivationBits = 16 }, calibrated: true);
        Assert.True(r.Drop <= 1.0, $"{name}: W4A16 AdaRound loses {r.Drop:F2} points");
    }

    /// <summary>
    /// Issue 20's W2A8 target on the CNN (≤ 1 point), every layer's weights ternary: AdaRound alone is 1.2 points below
    /// float here; 2000 steps of 32 distilled from the float model on the 60000 unlabeled training images (labels never
    /// read), with iterative freezing of oscillating weights, bring it to 0.45 below (−0.88 on the 10k; without freezing
    /// −1.5 to −2: docs/accuracy.md, "Session 14").
    /// </summary>
    [Fact]
    public void AllTwoBitFineTunedWithFreezingIsWithinAPointOfFloat() =>
        AssertFineTunedWithin("fashion_cnn", TwoBit, Distilled60k(TwoBit) with { FineTuneFreezeThreshold = 0.04f }, 1.0);

    /// <summary>
    /// Issue 20's W4A4 target on the CNN (≤ 1 point): AdaRound with MSE ranges, then the 60k-image distillation (−0.68
    /// on the 10k; docs/accuracy.md, "Session 11").
    /// </summary>
    [Fact]
    public void W4A4CnnFineTunedIsWithinAPointOfFloat() => AssertFineTunedWithin("fashion_cnn", W4A4, Distilled60k(W4A4), 1.0);

    /// <summary>
    /// Issue 20's MobileNet targets and the MLP's: the same measure, but each build fine-tunes for minutes (the
    /// MobileNet ones about ten on 2 cores), too long for the suite; run with QUANTGEN_MEASURE=1 in Release:
    /// QUANTGEN_MEASURE=1 dotnet test tests/QuantGen.Tests -c Release --filter "Category=Measure&amp;FullyQualifiedName~QuantizedAccuracy"
    /// </summary>
    [MeasureFact]
    [Trait("Category", "Measure")]
    public void W4A4MobileNetFineTunedIsWithinOneAndAHalfPointsOfFloat() =>
        AssertFineTunedWithin("fashion_mobilenet", W4A4 with { AdaRoundIterations = 500 }, Distilled60k(W4A4 with { AdaRoundIterations = 500 }), 1.5);

    /// <summary>Issue 20: W2A8 on the MobileNet-style model within 3 points (−2.65 on the 10k), QUANTGEN_MEASURE=1.</summary>
    [MeasureFact]
    [Trait("Category", "Measure")]
    public void W2A8MobileNetFineTunedIsWithinThreePointsOfFloat() =>
        AssertFineTunedWithin("fashion_mobilenet", TwoBit, Distilled60k(TwoBit), 3.0);

    /// <summary>Issue 20: W2A8 on the MLP within a point (−0.99 on the 10k with 200 steps of 16 on 8192 images), QUANTGEN_MEASURE=1.</summary>
    [MeasureFact]
    [Trait("Category", "Measure")]
    public void W2A8MlpFineTunedIsWithinAPointOfFloat() =>
        AssertFineTunedWithin("fashion_mlp", TwoBit, TwoBit with
        {
            Algorithms = TwoBit.Algorithms | QuantizationAlgorithms.FineTune,
            TrainingData = Training8k.Value,
            FineTuneKullbackLeibler = true,
            FineTuneTemperature = 2,
        }, 1.0);

    /// <summary>
    /// Issue 20's oscillation target at W3A3 on the MobileNet-style model, the half that holds: dampening (λ = 1e-4 in
    /// grid steps; larger λ pins the weights to their PTQ grid points and costs 2.5-3 points) lowers the fraction of
    /// weights oscillating at the end of 600 steps (0.22% → 0.03%). The other half, "does not lower accuracy", is not
    /// met: over three disjoint training sets it costs about half a point on average (docs/accuracy.md, "Session 14";
    /// here on the first 2000 test images 86.60% → 85.65%), so the test prints both accuracies and asserts only the
    /// oscillations. QUANTGEN_MEASURE=1.
    /// </summary>
    [MeasureFact]
    [Trait("Category", "Measure")]
    public void DampeningLowersW3A3MobileNetOscillations()
    {
        var start = new QuantizationOptions
        {
            WeightBits = 3,
            ActivationBits = 3,
            RangeMethod = RangeMethod.Mse,
            AdaRoundIterations = 500,
            Algorithms = QuantizationAlgorithms.Cle | QuantizationAlgorithms.BiasAbsorption | QuantizationAlgorithms.AdaRound,
        };
        var tuned = start with
        {
            Algorithms = start.Algorithms | QuantizationAlgorithms.FineTune,
            TrainingData = Training8k.Value,
            FineTuneKullbackLeibler = true,
            FineTuneTemperature = 2,
            FineTuneSteps = 600,
            FineTuneBatch = 32,
            FineTuneCosine = true,
        };
        var plain = Evaluate("fashion_mobilenet", tuned, calibrated: true);
        var damped = Evaluate("fashion_mobilenet", tuned with { FineTuneDampening = 1e-4f }, calibrated: true);
        Assert.True(plain.Oscillating > 0, "nothing oscillates without dampening: the comparison shows nothing");
        Assert.True(damped.Oscillating < plain.Oscillating / 2, $"dampening left {damped.Oscillating:P2} oscillating against {plain.Oscillating:P2}");
        output.WriteLine($"top-1 without dampening {plain.Accuracy:F2}%, with {damped.Accuracy:F2}%");
    }

    private void AssertFineTunedWithin(string name, QuantizationOptions start, QuantizationOptions tunedOptions, double maxDrop)
    {
        var ptq = Evaluate(name, start, calibrated: true);
        var tuned = Evaluate(name, tunedOptions, calibrated: true);
        Assert.True(tuned.Accuracy > ptq.Accuracy, $"{name}: fine-tuning did not help: {ptq.Accuracy:F2}% → {tuned.Accuracy:F2}%");
        Assert.True(tuned.Drop <= maxDrop, $"{name}: fine-tuned loses {tuned.Drop:F2} points (bar {maxDrop})");
    }

    /// <summary>The 60k-image recipe of docs/accuracy.md (session 11): every training image unlabeled, 2000 steps of 32, cosine decay, KL at τ = 2.</summary>
    private static QuantizationOptions Distilled60k(QuantizationOptions start) => start with
    {
        Algorithms = start.Algorithms | QuantizationAlgorithms.FineTune,
        TrainingData = Training60k.Value,
        MaxTrainingSamples = 60000,
        FineTuneKullbackLeibler = true,
        FineTuneTemperature = 2,
        FineTuneSteps = 2000,
        FineTuneBatch = 32,
        FineTuneCosine = true,
    };

    private static readonly Lazy<CalibrationSet> Training60k = new(() => TrainingImages(60000));
    private static readonly Lazy<CalibrationSet> Training8k = new(() => TrainingImages(8192));

    private static CalibrationSet TrainingImages(int count) =>
        new(new Dictionary<string, Tensor> { ["image"] = Tensor.FromArray([count, 1, 28, 28], FashionMnist.TrainingImages(count)) });

    private static readonly QuantizationOptions W4A4 = new()
    {
        WeightBits = 4,
        ActivationBits = 4,
        RangeMethod = RangeMethod.Mse,
        Algorithms = QuantizationAlgorithms.Cle | QuantizationAlgorithms.BiasAbsorption | QuantizationAlgorithms.AdaRound,
    };

    /// <summary>
    /// Issue 20's factorized target (≥ 16×, ≤ 1.5 points) rests on this: at CompressionRatio 16 the factorization
    /// planner's end-to-end check (FactorizationPlanner.CheckAgainstUniform) replaces its allocation (conv1 at 8 bits,
    /// conv2 factorized: 83.7% on the 10k) with uniform 2-bit plain weights, fashion_cnn's float32 bytes / 16 exactly, so
    /// the factorized build is the all-2-bit build above, prediction for prediction, and fine-tunes to the same model.
    /// </summary>
    [Fact]
    public void TheCnnFactorizedSixteenTimesIsItsAllTwoBitBuild()
    {
        var factorized = Evaluate("fashion_cnn", TwoBit with { WeightBits = 8, Compression = Core.Quantization.Factorization.WeightCompression.Factorized, CompressionRatio = 16 }, calibrated: true);
        var plain = Evaluate("fashion_cnn", TwoBit, calibrated: true);
        Assert.Contains("factorized 0 of 3 weighted layers, weights 5108 bytes = 16.0× smaller than float32", factorized.Summary);
        Assert.Equal(plain.Predictions, factorized.Predictions);
        Assert.Equal(plain.SqnrDb, factorized.SqnrDb);
        Assert.True(factorized.Drop <= 2.0, $"the 16× factorized CNN loses {factorized.Drop:F2} points before fine-tuning");
    }

    private static readonly QuantizationOptions TwoBit = new()
    {
        WeightBits = 2,
        Algorithms = QuantizationAlgorithms.Cle | QuantizationAlgorithms.BiasAbsorption | QuantizationAlgorithms.AdaRound,
    };

    private (double Accuracy, double Drop, double Agreement, double SqnrDb, string Summary, int[] Predictions, double Oscillating) Evaluate(string name, QuantizationOptions options, bool calibrated)
    {
        var model = OnnxModelLoader.Load(RealModelPaths.Fashion(name));
        // Data-free builds state the input range: the Fashion models read pixels scaled to [0, 1].
        var result = ModelQuantizer.Quantize(model, calibrated ? options : options with { InputStatistics = InputStatistics.Parse("0,1", null, null) }, calibrated ? Calibration.Value : null);
        var simulator = new IntegerSimulator(result.Artifact);
        var (images, labels) = FashionMnist.TestSet;
        var floatLogits = FloatLogits.GetOrAdd(name, _ =>
        {
            var executor = new ReferenceExecutor(ModelPreparation.Prepare(model));
            return Logits(x => executor.Run(new Dictionary<string, Tensor> { ["image"] = Tensor.FromArray([1, 1, 28, 28], x) })["logits"].ToArray<float>());
        });
        var quantLogits = Logits(x => simulator.Run(new Dictionary<string, float[]> { ["image"] = x })["logits"]);
        var reference = floatLogits.Select(l => FloatAccuracyTests.ArgMax(l)).ToArray();
        var quantized = quantLogits.Select(l => FloatAccuracyTests.ArgMax(l)).ToArray();

        double floatAccuracy = 100.0 * reference.Where((p, i) => p == labels[i]).Count() / Images;
        double accuracy = 100.0 * quantized.Where((p, i) => p == labels[i]).Count() / Images;
        double agreement = 100.0 * quantized.Where((p, i) => p == reference[i]).Count() / Images;
        double sqnr = Sqnr.Of(floatLogits.SelectMany(l => l).ToArray(), quantLogits.SelectMany(l => l).ToArray());
        output.WriteLine($"{result.Summary}; float {floatAccuracy:F2}%, quantized {accuracy:F2}%, agreement {agreement:F2}%, logits SQNR {sqnr:F1} dB on {Images} test images");
        return (accuracy, floatAccuracy - accuracy, agreement, sqnr, result.Summary, quantized, result.FineTuning?.OscillationTotals().Oscillating ?? 0);

        float[][] Logits(Func<float[], float[]> run)
        {
            var logits = new float[Images][];
            Parallel.For(0, Images, i => logits[i] = run(images.AsSpan(i * FashionMnist.Pixels, FashionMnist.Pixels).ToArray()));
            return logits;
        }
    }
}
