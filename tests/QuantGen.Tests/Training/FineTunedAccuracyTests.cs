using QuantGen.Core.Artifact;
using QuantGen.Core.Execution;
using QuantGen.Core.IO;
using QuantGen.Core.Ir;
using QuantGen.Core.Passes;
using QuantGen.Core.Quantization;
using QuantGen.Onnx;
using QuantGen.Tests.Data;
using QuantGen.Tests.RealModels;
using Xunit.Abstractions;

namespace QuantGen.Tests.Training;

/// <summary>
/// Issue 20's accuracy targets asserted on the first 2000 Fashion-MNIST test images (the full 10k table is
/// docs/accuracy.md's, with the command). Label-free: the training images' labels are never read.
/// </summary>
public sealed class FineTunedAccuracyTests(ITestOutputHelper output)
{
    private const int Images = 2000;

    /// <summary>
    /// W2A8 on the CNN with its first conv at 8 bits (144 weights: 108 bytes more than all-2-bit, a mean of 2.04 bits):
    /// AdaRound alone is 1.4 points below float on these images, and 1500 steps of 32 distilled from the float model on
    /// 8192 unlabeled training images bring it to 0.4 below (−0.64 on the 10k; docs/accuracy.md, "Session 13": the
    /// 2-bit first layer is what held the all-2-bit model at −1.5 to −2 points).
    /// </summary>
    [Fact]
    public void FashionCnnAtW2A8WithAn8BitFirstLayerFineTunesToWithinAPointOfFloat()
    {
        var model = OnnxModelLoader.Load(RealModelPaths.Fashion("fashion_cnn"));
        var calibration = new CalibrationSet(new Dictionary<string, Tensor>
        {
            ["image"] = Npy.Read(Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy")),
        });
        var training = new CalibrationSet(new Dictionary<string, Tensor> { ["image"] = Tensor.FromArray([8192, 1, 28, 28], FashionMnist.TrainingImages(8192)) });
        var ptqOptions = new QuantizationOptions { WeightBits = 2, FirstLayerWeightBits = 8 };
        var ptq = ModelQuantizer.Quantize(model, ptqOptions, calibration);
        var tuned = ModelQuantizer.Quantize(model, ptqOptions with
        {
            Algorithms = QuantizationAlgorithms.Cle | QuantizationAlgorithms.BiasAbsorption | QuantizationAlgorithms.AdaRound | QuantizationAlgorithms.FineTune,
            TrainingData = training,
            FineTuneKullbackLeibler = true,
            FineTuneTemperature = 2,
            FineTuneSteps = 1500,
            FineTuneBatch = 32,
            FineTuneCosine = true,
        }, calibration);

        // The widths asked for: the first conv on the int8 grid, the other two weighted layers ternary.
        var weighted = tuned.Artifact.Layers.Where(l => l.Kind is LayerKinds.Conv or LayerKinds.FullyConnected).ToList();
        Assert.Equal(3, weighted.Count);
        Assert.Contains(weighted[0].GetBlob("weights").Values, v => Math.Abs(v) > 7);
        Assert.All(weighted.Skip(1), l => Assert.All(l.GetBlob("weights").Values, v => Assert.InRange(v, -1, 1)));

        var executor = new ReferenceExecutor(ModelPreparation.Prepare(model));
        double floatAccuracy = Accuracy(x => executor.Run(new Dictionary<string, Tensor> { ["image"] = Tensor.FromArray([1, 1, 28, 28], x) })["logits"].ToArray<float>());
        double ptqAccuracy = Accuracy(Simulate(ptq)), tunedAccuracy = Accuracy(Simulate(tuned));
        output.WriteLine(tuned.Summary);
        output.WriteLine($"top-1 on the first {Images} test images: float {floatAccuracy:F2}%, AdaRound {ptqAccuracy:F2}%, fine-tuned {tunedAccuracy:F2}%");
        Assert.True(tunedAccuracy > ptqAccuracy, $"fine-tuning did not help: {ptqAccuracy:F2}% → {tunedAccuracy:F2}%");
        Assert.True(tunedAccuracy >= floatAccuracy - 1, $"fine-tuned W2A8 {tunedAccuracy:F2}% is more than a point below float {floatAccuracy:F2}%");
    }

    private static Func<float[], float[]> Simulate(QuantizationResult result)
    {
        var simulator = new IntegerSimulator(result.Artifact);
        return x => simulator.Run(new Dictionary<string, float[]> { ["image"] = x })["logits"];
    }

    private static double Accuracy(Func<float[], float[]> run)
    {
        var (images, labels) = FashionMnist.TestSet;
        int correct = 0;
        for (int i = 0; i < Images; i++)
        {
            var logits = run(images.AsSpan(i * FashionMnist.Pixels, FashionMnist.Pixels).ToArray());
            if (Array.IndexOf(logits, logits.Max()) == labels[i]) correct++;
        }
        return 100.0 * correct / Images;
    }
}
