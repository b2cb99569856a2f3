using QuantGen.Core.Artifact;
using QuantGen.Core.IO;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;
using QuantGen.Onnx;
using QuantGen.Tests.Data;
using QuantGen.Tests.Generator;
using Xunit.Abstractions;

namespace QuantGen.Tests.RealModels;

/// <summary>
/// Issue 17's acceptance on the edge-style test models (tests/models/train_edge_models.py): each builds from its
/// calibrated ONNX file through the quantizer and the generator, and the generated class, compiled and run on real
/// Fashion-MNIST test images, agrees with ONNX Runtime running the float model: classifiers' top-1 on at least 99% of
/// the images, the segmenter's probability map at an SQNR of at least 25 dB. What runs in float (float islands) is
/// reported, not hidden. The classifiers run on all 10k test images: on 1000 the two models' figures swapped sides of
/// the bar by chance (2026-12-07, default options: fashion_mobilenetv3 98.9% on the first 1000, 99.15% on 10k;
/// fashion_transformer 99.0% on 1000, 98.91% on 10k). So fashion_mobilenetv3 is held to the bar, and
/// fashion_transformer to what it measures, short of it (99.02-99.05% with MSE or percentile ranges or AdaRound, a
/// margin of 2-5 images), and to the bar with its patch embedding in float (FloatNodes): docs/accuracy.md has the figures.
/// </summary>
public sealed class EdgeModelQuantizedTests(ITestOutputHelper output)
{
    private const int Images = 1000;

    private const int ClassifierImages = 10000;

    [Theory]
    [InlineData("fashion_mobilenetv3", "FashionMobilenetv3", 0.99, "")]
    // The patch embedding and the Q/K/V projections write float (only float layers read them: docs/artifact.md,
    // "Float outputs"); 99.27% on 10k, 98.91% when they rounded to u8 first.
    [InlineData("fashion_transformer", "FashionTransformer", 0.99, "")]
    // The patch embedding requested in float (FloatNodes) instead: 99.26%.
    [InlineData("fashion_transformer", "FashionTransformer", 0.99, "/patch/Conv")]
    public void ClassifierAgreesWithOnnxRuntimeFloat(string name, string className, double minimum, string floatNodes)
    {
        var (run, artifact) = Build(name, className, new QuantizationOptions { FloatNodes = QuantizationOptions.ParseFloatNodes(floatNodes) });
        using var oracle = new OnnxRuntimeOracle(RealModelPaths.Fashion(name));
        var (images, _) = FashionMnist.TestSet;
        int agree = 0;
        for (int i = 0; i < ClassifierImages; i++)
        {
            var image = images.AsSpan(i * FashionMnist.Pixels, FashionMnist.Pixels).ToArray();
            var expected = oracle.Run("image", image, [1, 1, 28, 28]).Values.Single();
            var actual = run(image);
            Assert.Equal(expected.Length, actual.Length);
            if (ArgMax(expected) == ArgMax(actual)) agree++;
        }
        double agreement = (double)agree / ClassifierImages;
        output.WriteLine($"{name}: top-1 agreement with ONNX Runtime float {agreement:P2} on {ClassifierImages} test images; {Describe(artifact)}");
        Assert.True(agreement >= minimum, $"{name}: top-1 agreement {agreement:P2} < {minimum:P1}");
    }

    [Fact]
    public void SegmenterMapMatchesOnnxRuntimeFloat()
    {
        const string name = "fashion_segmenter";
        var (run, artifact) = Build(name, "FashionSegmenter");
        using var oracle = new OnnxRuntimeOracle(RealModelPaths.Fashion(name));
        var (images, _) = FashionMnist.TestSet;
        double signal = 0, noise = 0;
        for (int i = 0; i < 100; i++)
        {
            var image = images.AsSpan(i * FashionMnist.Pixels, FashionMnist.Pixels).ToArray();
            var expected = oracle.Run("image", image, [1, 1, 28, 28]).Values.Single();
            var actual = run(image);
            Assert.Equal(expected.Length, actual.Length);
            for (int j = 0; j < expected.Length; j++)
            {
                signal += (double)expected[j] * expected[j];
                noise += (double)(expected[j] - actual[j]) * (expected[j] - actual[j]);
            }
        }
        double sqnr = 10 * Math.Log10(signal / noise);
        output.WriteLine($"{name}: map SQNR against ONNX Runtime float {sqnr:0.0} dB on 100 test images; {Describe(artifact)}");
        Assert.True(sqnr >= 25, $"{name}: SQNR {sqnr:0.0} dB < 25 dB");
    }

    /// <summary>
    /// fashion_audio1d (1-D convs over [N, 28 features, steps], per-step logits [N, 10, steps]) built with steps = 28 and
    /// calibrated on the calibration images read as sequences: the per-step argmax agrees with ONNX Runtime float.
    /// </summary>
    [Fact]
    public void AudioModelPerStepArgmaxAgreesWithOnnxRuntimeFloat()
    {
        const string name = "fashion_audio1d";
        var model = OnnxModelLoader.Load(RealModelPaths.Fashion(name));
        var images = Npy.Read(Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy")).ToArray<float>();
        int count = images.Length / FashionMnist.Pixels;
        var sequences = new float[images.Length];
        for (int i = 0; i < count; i++) AsSequence(images.AsSpan(i * FashionMnist.Pixels, FashionMnist.Pixels)).CopyTo(sequences, i * FashionMnist.Pixels);
        var calibration = new CalibrationSet(new Dictionary<string, Tensor> { ["features"] = Tensor.FromArray([count, 28, 28], sequences) });
        var options = new QuantizationOptions { Dimensions = new Dictionary<string, int> { ["steps"] = 28 } };
        var artifact = ModelQuantizer.Quantize(model, options, calibration, [new ArtifactMetadata("source", $"Models/{name}.onnx")]).Artifact;
        var run = Compile(artifact, name, "FashionAudio1d");
        using var oracle = new OnnxRuntimeOracle(RealModelPaths.Fashion(name));
        var (test, _) = FashionMnist.TestSet;
        int agree = 0, steps = 0;
        for (int i = 0; i < Images; i++)
        {
            var sequence = AsSequence(test.AsSpan(i * FashionMnist.Pixels, FashionMnist.Pixels));
            var expected = oracle.Run("features", sequence, [1, 28, 28]).Values.Single();
            var actual = run(sequence);
            Assert.Equal(expected.Length, actual.Length);
            for (int t = 0; t < 28; t++, steps++)
                if (ArgMax(expected, t, 28) == ArgMax(actual, t, 28)) agree++;
        }
        double agreement = (double)agree / steps;
        output.WriteLine($"{name}: per-step argmax agreement with ONNX Runtime float {agreement:P2} over {steps} steps of {Images} test images; {Describe(artifact)}");
        Assert.True(agreement >= 0.98, $"{name}: per-step agreement {agreement:P2} < 98%");
    }

    /// <summary>
    /// The openWakeWord-recipe heads hello_deepa and namaste_deepa (Gemm layers, two written-out LayerNorms, a sigmoid)
    /// on real embeddings: the WakeWord sample's 20 clips through ONNX Runtime's float embedding model, windows of the
    /// head's history. Calibrated on the embeddings of windows offset by half a hop (frame 4 on), evaluated on the
    /// others (frame 0 on), as WakeWordQuantizedTests does for the alexa head; the score against ONNX Runtime float.
    /// </summary>
    [Theory]
    [InlineData("hello_deepa", "HelloDeepa")]
    [InlineData("namaste_deepa", "NamasteDeepa")]
    public void DeepaHeadScoresAgreeWithOnnxRuntimeFloat(string name, string className)
    {
        var path = RealModelPaths.WakeWord(name);
        var model = OnnxModelLoader.Load(path);
        var input = model.Graph.Inputs.Single();
        int history = (int)input.Dims![1].Value;
        using var embedding = new OnnxRuntimeOracle(RealModelPaths.WakeWord("embedding_model"));
        float[][] Embeddings(float[] mel, int offset) =>
            WakeWordClips.Windows(mel.AsSpan(offset * WakeWordClips.Mels).ToArray()).Select(w => embedding.Run("input_1", w, [1, WakeWordClips.Window, WakeWordClips.Mels, 1]).Values.Single()).ToArray();
        IEnumerable<float[]> HeadWindows(float[][] embeddings) =>
            Enumerable.Range(0, Math.Max(0, embeddings.Length - history + 1)).Select(first => embeddings.Skip(first).Take(history).SelectMany(e => e).ToArray());
        // Calibration: windows offset by a quarter, half and three quarters of a hop (the heads' long histories leave one or two windows per clip and offset).
        var calibrationWindows = WakeWordClips.All.SelectMany(c => new[] { 2, 4, 6 }.SelectMany(offset => HeadWindows(Embeddings(c.Mel, offset)))).ToArray();
        var evaluation = WakeWordClips.All.SelectMany(c => HeadWindows(Embeddings(c.Mel, 0))).ToArray();
        var calibration = new CalibrationSet(new Dictionary<string, Tensor> { [input.Name] = Tensor.FromArray([calibrationWindows.Length, history, WakeWordClips.Dim], calibrationWindows.SelectMany(w => w).ToArray()) });
        var artifact = ModelQuantizer.Quantize(model, new QuantizationOptions(), calibration, [new ArtifactMetadata("source", $"Models/{name}.onnx")]).Artifact;
        var run = Compile(artifact, name, className);
        using var oracle = new OnnxRuntimeOracle(path);
        double max = 0, signal = 0, noise = 0;
        int agree = 0, fires = 0;
        foreach (var window in evaluation)
        {
            float expected = oracle.Run(input.Name, window, [1, history, WakeWordClips.Dim]).Values.Single()[0], actual = run(window)[0];
            max = Math.Max(max, Math.Abs(expected - actual));
            if ((expected > 0.5f) == (actual > 0.5f)) agree++;
            if (expected > 0.5f) fires++;
            // No clip says "hello deepa" or "namaste deepa": the scores sit near 0, where the sigmoid hides errors, so
            // the head's logit (the sigmoid inverted) is compared too.
            double fl = Logit(expected), ql = Logit(actual);
            signal += fl * fl;
            noise += (fl - ql) * (fl - ql);
        }
        double logitSqnr = 10 * Math.Log10(signal / noise);
        output.WriteLine($"{name}: {evaluation.Length} windows ({calibrationWindows.Length} for calibration); score |int8 − float| max {max:E2}; logit SQNR {logitSqnr:F1} dB; " +
            $"decisions (score > 0.5) agree on {agree}/{evaluation.Length}, float fires on {fires}; {Describe(artifact)}");
        Assert.True(evaluation.Length >= 40, $"only {evaluation.Length} windows");
        Assert.Equal(evaluation.Length, agree);
        // Measured 2026-12-06: max |Δ| 4.3e-5 and 2.6e-5, logit SQNR 54.2 and 55.0 dB.
        Assert.True(max <= 1e-3, $"{name}: score error max {max:E2}");
        Assert.True(logitSqnr >= 45, $"{name}: logit SQNR {logitSqnr:F1} dB");
    }

    private static double Logit(float p)
    {
        double q = Math.Clamp(p, 1e-37, 1 - 6e-8);
        return Math.Log(q / (1 - q));
    }

    private static float[] AsSequence(ReadOnlySpan<float> image)
    {
        // [28 features (columns), 28 steps (rows)], as tests/models/train_edge_models.py's as_sequence.
        var sequence = new float[FashionMnist.Pixels];
        for (int row = 0; row < 28; row++)
            for (int column = 0; column < 28; column++)
                sequence[column * 28 + row] = image[row * 28 + column];
        return sequence;
    }

    /// <summary>argmax over the classes of step t of a [1, classes, steps] output.</summary>
    private static int ArgMax(float[] values, int t, int steps)
    {
        int best = 0;
        for (int c = 1; c < values.Length / steps; c++)
            if (values[c * steps + t] > values[best * steps + t]) best = c;
        return best;
    }

    private static Func<float[], float[]> Compile(QuantizedArtifact artifact, string name, string className)
    {
        var path = $"/project/obj/quantgen/{name}.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(artifact))], GeneratedCodeTests.Options(path, className));
        var (assembly, _) = GeneratorHarness.Build(GeneratorHarness.Compilation(GeneratedCodeTests.Probe(className)), driver);
        var method = assembly.GetType("Probe")!.GetMethod("Run")!;
        return input => (float[])method.Invoke(null, [input])!;
    }

    private static (Func<float[], float[]> Run, QuantizedArtifact Artifact) Build(string name, string className, QuantizationOptions? options = null)
    {
        var artifact = GeneratedCodeTests.QuantizeFashion(name, options);
        var path = $"/project/obj/quantgen/{name}.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(artifact))], GeneratedCodeTests.Options(path));
        var (assembly, _) = GeneratorHarness.Build(GeneratorHarness.Compilation(GeneratedCodeTests.Probe(className)), driver);
        var method = assembly.GetType("Probe")!.GetMethod("Run")!;
        return (image => (float[])method.Invoke(null, [image])!, artifact);
    }

    private static string Describe(QuantizedArtifact artifact)
    {
        var kinds = artifact.Layers.GroupBy(l => l.Kind).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}");
        return $"layers: {string.Join(", ", kinds)}";
    }

    private static int ArgMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }
}
