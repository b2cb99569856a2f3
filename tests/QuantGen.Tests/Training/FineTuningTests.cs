using QuantGen.Core;
using QuantGen.Core.IO;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;
using QuantGen.Onnx;
using QuantGen.Tests.RealModels;
using Xunit.Abstractions;

namespace QuantGen.Tests.Training;

/// <summary>Algorithms "finetune" end to end through the quantizer.</summary>
public sealed class FineTuningTests(ITestOutputHelper output)
{
    private static readonly Lazy<CalibrationSet> Calibration = new(() =>
        new CalibrationSet(new Dictionary<string, Tensor> { ["image"] = Npy.Read(Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy")) }));

    [Fact]
    public void FineTuningRaisesTheOutputSqnrOfA2BitMlpOverNearestRounding()
    {
        var model = OnnxModelLoader.Load(RealModelPaths.Fashion("fashion_mlp"));
        var plain = ModelQuantizer.Quantize(model, new QuantizationOptions { WeightBits = 2, Algorithms = QuantizationAlgorithms.Cle, MaxCalibrationSamples = 128 }, Calibration.Value);
        var tuned = ModelQuantizer.Quantize(model, new QuantizationOptions
        {
            WeightBits = 2,
            Algorithms = QuantizationAlgorithms.Cle | QuantizationAlgorithms.FineTune,
            MaxCalibrationSamples = 128,
            FineTuneSteps = 100,
            FineTuneBatch = 16,
        }, Calibration.Value);
        Assert.Equal("bn-fold;cle;finetune", tuned.Artifact.GetMetadata("algorithms"));
        Assert.True(tuned.CalibrationSqnrDb > plain.CalibrationSqnrDb + 3, $"SQNR {plain.CalibrationSqnrDb:F2} dB → {tuned.CalibrationSqnrDb:F2} dB");
    }

    /// <summary>
    /// The pass starts from the PTQ model and the artifact is what was trained: on the held-out samples, the integer
    /// simulator of the PTQ artifact agrees with the student's fake-quantized forward before the first step, and the
    /// simulator of the fine-tuned artifact with the student's forward at the kept step. The report and the build's
    /// progress lines carry the loss curve.
    /// </summary>
    [Fact]
    public void FineTuningStartsFromThePtqModelWritesBackWhatItTrainedAndReportsTheLossCurve()
    {
        var model = OnnxModelLoader.Load(RealModelPaths.Fashion("fashion_mlp"));
        var ptqOptions = new QuantizationOptions { WeightBits = 2, Algorithms = QuantizationAlgorithms.Cle, MaxCalibrationSamples = 128 };
        var progress = new List<string>();
        var ptq = ModelQuantizer.Quantize(model, ptqOptions, Calibration.Value);
        var tuned = ModelQuantizer.Quantize(model, ptqOptions with
        {
            Algorithms = QuantizationAlgorithms.Cle | QuantizationAlgorithms.FineTune,
            FineTuneSteps = 60,
            FineTuneEvaluateEvery = 20,
            Progress = progress.Add,
        }, Calibration.Value);
        var log = tuned.FineTuning!;
        // 128 samples: the last 16 are held out.
        Assert.Equal((112, 16), (log.TrainingSamples, log.ValidationSamples));
        Assert.True(log.BestStep > 0, "fine-tuning did not lower the held-out loss of a 2-bit MLP with nearest rounding");
        output.WriteLine("held-out loss per 20 steps: " + string.Join(", ", log.Points.Select(p => p.ValidationLoss.ToString("G4", System.Globalization.CultureInfo.InvariantCulture))));
        double keptLoss = log.Points.Single(p => p.Step == log.BestStep).ValidationLoss;
        Assert.True(keptLoss < log.Points[0].ValidationLoss * 0.8, $"held-out loss {log.Points[0].ValidationLoss} → {keptLoss}");

        const int pixels = 28 * 28;
        var all = Npy.Read(Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy")).ToArray<float>();
        double Agreement(QuantizationResult result, float[][] trained)
        {
            var simulator = new IntegerSimulator(result.Artifact);
            double signal = 0, noise = 0;
            for (int i = 0; i < trained.Length; i++)
            {
                var y = simulator.Run(new Dictionary<string, float[]> { ["image"] = all.AsSpan((112 + i) * pixels, pixels).ToArray() })["logits"];
                for (int j = 0; j < y.Length; j++)
                {
                    signal += (double)y[j] * y[j];
                    noise += (double)(y[j] - trained[i][j]) * (y[j] - trained[i][j]);
                }
            }
            return 10 * Math.Log10(signal / noise);
        }
        double start = Agreement(ptq, log.StartOutputs!), kept = Agreement(tuned, log.KeptOutputs!);
        output.WriteLine($"integer model vs training forward on the held-out samples: PTQ start {start:F1} dB, after fine-tuning (step {log.BestStep}) {kept:F1} dB");
        Assert.True(start > 35, $"the PTQ artifact and the student before the first step differ: {start:F1} dB");
        Assert.True(kept > 35, $"the fine-tuned artifact and the student at the kept step differ: {kept:F1} dB");

        Assert.Contains("## Fine-tuning", tuned.ReportMarkdown, StringComparison.Ordinal);
        Assert.Contains("| step | training loss | held-out loss | s/step |", tuned.ReportMarkdown, StringComparison.Ordinal);
        foreach (int step in new[] { 0, 20, 40, 60 })
            Assert.Matches($@"\n\| {step}( \(kept\))? \| ", tuned.ReportMarkdown);
        Assert.Contains("112 training samples of the calibration data", tuned.ReportMarkdown, StringComparison.Ordinal);
        Assert.Contains("<h2>Fine-tuning</h2>", tuned.ReportHtml, StringComparison.Ordinal);
        Assert.Contains("<polyline", tuned.ReportHtml, StringComparison.Ordinal);
        Assert.Contains("fine-tuned, held-out", tuned.Summary, StringComparison.Ordinal);
        Assert.Contains(progress, line => line.StartsWith("fine-tuning step 20/60: loss ", StringComparison.Ordinal) && line.Contains("s/step", StringComparison.Ordinal));
    }

    /// <summary>
    /// FineTuneFeatureWeight adds the feature MSE of every weighted layer before the output (fashion_cnn: the two
    /// convs) to the training loss, and only there: the held-out loss that picks the kept step is the output loss
    /// alone, so it starts where a run without the term starts, while the training loss carries the extra term.
    /// </summary>
    [Fact]
    public void TheFeatureTermJoinsTheTrainingLossButNotTheHeldOutLoss()
    {
        var model = OnnxModelLoader.Load(RealModelPaths.Fashion("fashion_cnn"));
        var options = new QuantizationOptions
        {
            WeightBits = 2,
            Algorithms = QuantizationAlgorithms.Cle | QuantizationAlgorithms.FineTune,
            MaxCalibrationSamples = 128,
            FineTuneSteps = 20,
            FineTuneEvaluateEvery = 10,
        };
        var plain = ModelQuantizer.Quantize(model, options, Calibration.Value).FineTuning!;
        var featured = ModelQuantizer.Quantize(model, options with { FineTuneFeatureWeight = 1 }, Calibration.Value).FineTuning!;
        Assert.Equal(("MSE", null), (plain.LossName, plain.FeatureTerm));
        Assert.Equal(("MSE", "1 × feature MSE (2 layers)"), (featured.LossName, featured.FeatureTerm));
        Assert.Equal(plain.Points[0].ValidationLoss, featured.Points[0].ValidationLoss);
        // The first ten steps start from the same model: the term adds the convs' relative squared error (~0.3 each at 2 bits).
        Assert.True(featured.Points[1].TrainingLoss > plain.Points[1].TrainingLoss + 0.1,
            $"training loss {plain.Points[1].TrainingLoss:G4} without the term, {featured.Points[1].TrainingLoss:G4} with it");
    }

    [Fact]
    public void TrainingDataReplacesTheCalibrationDataForFineTuning()
    {
        var model = OnnxModelLoader.Load(RealModelPaths.Fashion("fashion_mlp"));
        var (images, _) = QuantGen.Tests.Data.FashionMnist.TestSet;
        var training = new CalibrationSet(new Dictionary<string, Tensor> { ["image"] = Tensor.FromArray([80, 1, 28, 28], images[..(80 * 784)]) },
            new Dictionary<string, string> { ["image"] = "/data/test-images.npy" });
        var result = ModelQuantizer.Quantize(model, new QuantizationOptions
        {
            WeightBits = 2,
            Algorithms = QuantizationAlgorithms.Cle | QuantizationAlgorithms.FineTune,
            MaxCalibrationSamples = 64,
            TrainingData = training,
            FineTuneSteps = 5,
        }, Calibration.Value);
        Assert.Equal((70, 10), (result.FineTuning!.TrainingSamples, result.FineTuning.ValidationSamples));
        Assert.Contains("70 training samples of test-images.npy", result.ReportMarkdown, StringComparison.Ordinal);
    }

    [Fact]
    public void ABadTrainingDataFileIsQG0096BeforeAnyPass()
    {
        var model = OnnxModelLoader.Load(RealModelPaths.Fashion("fashion_mlp"));
        var dir = Directory.CreateTempSubdirectory("quantgen-training-").FullName;
        try
        {
            var wrongShape = Path.Combine(dir, "wrong.npy");
            Npy.Write(wrongShape, Tensor.FromArray([10, 5], new float[50]));
            var notNpy = Path.Combine(dir, "text.npy");
            File.WriteAllText(notNpy, "not an npy file");
            foreach (var (file, expected) in new[] { (Path.Combine(dir, "missing.npy"), "does not exist"), (wrongShape, "training data file"), (notNpy, "text.npy") })
            {
                var e = Assert.Throws<ModelException>(() => ModelQuantizer.Quantize(model, new QuantizationOptions
                {
                    WeightBits = 2,
                    Algorithms = QuantizationAlgorithms.Cle | QuantizationAlgorithms.AdaRound | QuantizationAlgorithms.FineTune,
                    TrainingDataFiles = [file],
                }, Calibration.Value));
                Assert.Equal(ErrorCodes.BadTrainingData, e.Code);
                Assert.Contains(expected, e.Message, StringComparison.Ordinal);
            }
            var unused = Assert.Throws<ModelException>(() => ModelQuantizer.Quantize(model, new QuantizationOptions { TrainingDataFiles = [wrongShape] }, Calibration.Value));
            Assert.Equal(ErrorCodes.InvalidOption, unused.Code);
            Assert.Contains("add finetune to Algorithms", unused.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void FineTuningWithoutCalibrationDataIsAnOptionError()
    {
        var model = OnnxModelLoader.Load(RealModelPaths.Fashion("fashion_mlp"));
        var e = Assert.Throws<ModelException>(() => ModelQuantizer.Quantize(model, new QuantizationOptions
        {
            Algorithms = QuantizationAlgorithms.FineTune,
            InputStatistics = InputStatistics.Parse("0,1", null, null),
        }, null));
        Assert.Equal(ErrorCodes.InvalidOption, e.Code);
        Assert.Contains("finetune needs calibration data", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AlgorithmsParseAndFormatFinetune()
    {
        Assert.Equal(QuantizationAlgorithms.Cle | QuantizationAlgorithms.FineTune, QuantizationOptions.ParseAlgorithms("cle;finetune"));
        Assert.Equal("cle;adaround;finetune", QuantizationOptions.Format(QuantizationAlgorithms.Cle | QuantizationAlgorithms.AdaRound | QuantizationAlgorithms.FineTune));
    }
}
