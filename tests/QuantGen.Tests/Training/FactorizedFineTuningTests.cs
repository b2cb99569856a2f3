using QuantGen.Core.Artifact;
using QuantGen.Core.IO;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;
using QuantGen.Core.Quantization.Factorization;
using QuantGen.Onnx;
using QuantGen.Tests.Data;
using QuantGen.Tests.Factorization;
using QuantGen.Tests.Generator;
using QuantGen.Tests.RealModels;
using Xunit.Abstractions;
using static QuantGen.Tests.Cli.CliProcess;

namespace QuantGen.Tests.Training;

/// <summary>
/// Compression="factorized" with Algorithms "…;finetune" (issue 20): the factors, their scales, the intermediate's
/// grid and the biases are fine-tuned end to end, written back exactly (the integer simulator agrees with the
/// training graph's forward before the first step and at the kept step), the generated class stays bit-exact with
/// the simulator, and the build is the same bytes at 1 and 2 threads.
/// </summary>
public sealed class FactorizedFineTuningTests(ITestOutputHelper output)
{
    private static readonly Lazy<CalibrationSet> Calibration = new(() =>
        new CalibrationSet(new Dictionary<string, Tensor> { ["image"] = Npy.Read(Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy")) }));

    [Fact]
    public void FashionCnnAtRank8IsFineTunedAsFactorsWrittenBackExactlyAndTheSameAtOneAndTwoThreads()
    {
        var model = OnnxModelLoader.Load(RealModelPaths.Fashion("fashion_cnn"));
        // A fixed rank keeps conv2 a real low-rank FactorizedConv (the ratio search gives it plain 2-bit weights at 16×).
        var fitted = new QuantizationOptions { Compression = WeightCompression.Factorized, FactorRank = 8, FactorBits = 4, MaxCalibrationSamples = 128 };
        var tuning = fitted with
        {
            Algorithms = QuantizationAlgorithms.Cle | QuantizationAlgorithms.BiasAbsorption | QuantizationAlgorithms.AdaRound | QuantizationAlgorithms.FineTune,
            FineTuneSteps = 40,
            FineTuneEvaluateEvery = 10,
        };
        var ptq = ModelQuantizer.Quantize(model, fitted with { Algorithms = QuantizationAlgorithms.Cle | QuantizationAlgorithms.BiasAbsorption | QuantizationAlgorithms.AdaRound }, Calibration.Value);
        var two = ModelQuantizer.Quantize(model, tuning with { FineTuneThreads = 2 }, Calibration.Value);
        var one = ModelQuantizer.Quantize(model, tuning with { FineTuneThreads = 1 }, Calibration.Value);
        Assert.Equal(ArtifactText.Write(two.Artifact), ArtifactText.Write(one.Artifact));
        output.WriteLine(two.Summary);

        Assert.Equal("bn-fold;cle;bias-absorption;adaround;finetune", two.Artifact.GetMetadata("algorithms"));
        var log = two.FineTuning!;
        Assert.True(log.BestStep > 0, "fine-tuning did not lower the held-out loss of the rank-8 factorized CNN");
        output.WriteLine("held-out loss per 10 steps: " + string.Join(", ", log.Points.Select(p => p.ValidationLoss.ToString("G4", System.Globalization.CultureInfo.InvariantCulture))));
        // The factors themselves were trained: the FactorizedConv's stored B values moved.
        var before = Assert.Single(ptq.Artifact.Layers, l => l.Kind == LayerKinds.FactorizedConv);
        var after = Assert.Single(two.Artifact.Layers, l => l.Kind == LayerKinds.FactorizedConv);
        Assert.NotEqual(before.GetBlob("bValues").Values.AsArray(), after.GetBlob("bValues").Values.AsArray());
        Assert.Equal(before.GetInts("nonzeros"), after.GetInts("nonzeros"));

        // Exact write-back: on the held-out samples (the last 16 of 128), the simulator of the fitted artifact agrees with
        // the student before the first step, and the simulator of the fine-tuned artifact with the student at the kept step.
        const int pixels = 28 * 28;
        var all = Npy.Read(Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy")).ToArray<float>();
        double Agreement(QuantizationResult result, float[][] trained)
        {
            var simulator = new IntegerSimulator(result.Artifact);
            double signal = 0, noise = 0;
            for (int i = 0; i < trained.Length; i++)
            {
                var y = simulator.Run(new Dictionary<string, float[]> { ["image"] = all.AsSpan((log.TrainingSamples + i) * pixels, pixels).ToArray() })["logits"];
                for (int j = 0; j < y.Length; j++)
                {
                    signal += (double)y[j] * y[j];
                    noise += (double)(y[j] - trained[i][j]) * (y[j] - trained[i][j]);
                }
            }
            return 10 * Math.Log10(signal / noise);
        }
        double start = Agreement(ptq, log.StartOutputs!), kept = Agreement(two, log.KeptOutputs!);
        output.WriteLine($"integer model vs training forward on {log.ValidationSamples} held-out samples: fitted {start:F1} dB, fine-tuned (step {log.BestStep}) {kept:F1} dB");
        Assert.True(start > 35, $"the fitted artifact and the student before the first step differ: {start:F1} dB");
        Assert.True(kept > 35, $"the fine-tuned artifact and the student at the kept step differ: {kept:F1} dB");

        // The generated class of the fine-tuned artifact equals the simulator bit for bit.
        var artifact = two.Artifact;
        var path = $"/project/obj/quantgen/{artifact.ModelName}.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(artifact))], GeneratedCodeTests.Options(path, "Model"));
        var (assembly, _) = GeneratorHarness.Build(GeneratorHarness.Compilation(FactorizedKernelTests.Probe), driver);
        var run = assembly.GetType("Probe")!.GetMethod("Run")!.CreateDelegate<Func<float[], float[]>>();
        var simulatorOfTuned = new IntegerSimulator(artifact);
        var (images, _) = FashionMnist.TestSet;
        for (int i = 0; i < 100; i++)
        {
            var image = images.AsSpan(i * FashionMnist.Pixels, FashionMnist.Pixels).ToArray();
            Assert.Equal(simulatorOfTuned.Run(new Dictionary<string, float[]> { ["image"] = image })["logits"], run(image));
        }
    }

    [Fact]
    public void TheCliBuildsAFactorizedModelWithFinetune()
    {
        var dir = Directory.CreateTempSubdirectory("quantgen-factune-").FullName;
        try
        {
            var artifactPath = Path.Combine(dir, "m.qgart");
            var (code, _, err) = Quantgen("quantize", RealModelPaths.Fashion("fashion_mlp"), "--output", artifactPath,
                "--calibration", Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy"),
                "--compression", "factorized", "--compression-ratio", "12", "--algorithms", "cle;finetune");
            Assert.True(code == 0, err);
            var artifact = ArtifactText.Read(File.ReadAllText(artifactPath));
            Assert.Equal("bn-fold;cle;finetune", artifact.GetMetadata("algorithms"));
            Assert.Contains(artifact.Layers, l => l.Kind == LayerKinds.FactorizedFullyConnected);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
