using QuantGen.Core.IO;
using QuantGen.Core.Ir;
using QuantGen.Core.Passes;
using QuantGen.Core.Quantization;
using QuantGen.Core.Execution;
using QuantGen.Onnx;
using QuantGen.Tests.Data;
using QuantGen.Tests.RealModels;
using Xunit.Abstractions;

namespace QuantGen.Tests.Quantization;

/// <summary>
/// W8A8 post-training quantization (v1: BN folding, per-channel weights, min-max activations from 512 training
/// images), executed by the bit-exact integer simulator, against the float model on Fashion-MNIST test images.
/// </summary>
public sealed class QuantizedAccuracyTests(ITestOutputHelper output)
{
    private const int Images = 2000;

    [Theory]
    [InlineData("fashion_mlp", 0.5)]
    [InlineData("fashion_cnn", 0.5)]
    [InlineData("fashion_cnn_bn", 0.5)]
    [InlineData("fashion_mobilenet", 1.0)]
    public void W8A8AgreesWithTheFloatModel(string name, double maxDrop)
    {
        var model = OnnxModelLoader.Load(RealModelPaths.Fashion(name));
        var calibration = new CalibrationSet(new Dictionary<string, Tensor>
        {
            ["image"] = Npy.Read(Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy")),
        });
        var result = ModelQuantizer.Quantize(model, new QuantizationOptions(), calibration);
        var simulator = new IntegerSimulator(result.Artifact);
        var executor = new ReferenceExecutor(ModelPreparation.Prepare(model));
        var (images, labels) = FashionMnist.TestSet;

        int agree = 0, floatCorrect = 0, intCorrect = 0;
        var gate = new object();
        Parallel.For(0, Images, i =>
        {
            var pixels = images.AsSpan(i * FashionMnist.Pixels, FashionMnist.Pixels).ToArray();
            int f = FloatAccuracyTests.ArgMax(executor.Run(new Dictionary<string, Tensor> { ["image"] = Tensor.FromArray([1, 1, 28, 28], pixels) })["logits"].AsSpan<float>());
            int q = FloatAccuracyTests.ArgMax(simulator.Run(new Dictionary<string, float[]> { ["image"] = pixels })["logits"]);
            lock (gate)
            {
                agree += f == q ? 1 : 0;
                floatCorrect += f == labels[i] ? 1 : 0;
                intCorrect += q == labels[i] ? 1 : 0;
            }
        });
        double agreement = 100.0 * agree / Images, drop = 100.0 * (floatCorrect - intCorrect) / Images;
        output.WriteLine($"{name}: {result.Summary}; top-1 agreement {agreement:F2}%, float {100.0 * floatCorrect / Images:F2}%, int8 {100.0 * intCorrect / Images:F2}% on {Images} test images");
        Assert.True(agreement >= 99.0, $"{name}: int8 agrees with float on {agreement:F2}% of images");
        Assert.True(drop <= maxDrop, $"{name}: int8 loses {drop:F2} points");
    }
}
