using QuantGen.Core;
using QuantGen.Core.Execution;
using QuantGen.Core.Ir;
using QuantGen.Core.Passes;
using QuantGen.Onnx;
using QuantGen.Tests.Data;
using Xunit.Abstractions;

namespace QuantGen.Tests.RealModels;

/// <summary>The reference executor against ONNX Runtime on real models and real data.</summary>
public sealed class RealModelTests(ITestOutputHelper output)
{
    /// <summary>
    /// Largest accepted |ours − ORT| / max(|ORT|, floor). The floor is 1% of the output's largest magnitude, and at
    /// least 1e-3: elements tiny next to the rest of the tensor (cancellations after 20 conv layers, sigmoid
    /// probabilities around 1e-5 where ONNX Runtime's own logistic approximation flushes to 0) are compared on that
    /// scale, i.e. to 1e-6 of the tensor's magnitude or 1e-7 absolute; everything larger, to 1e-4 relative.
    /// </summary>
    private const double Tolerance = 1e-4;

    [Theory]
    [InlineData("fashion_mlp")]
    [InlineData("fashion_cnn")]
    [InlineData("fashion_cnn_bn")]
    [InlineData("fashion_mobilenet")]
    public void FashionModelsMatchOnnxRuntime(string name)
    {
        var path = RealModelPaths.Fashion(name);
        var model = OnnxModelLoader.Load(path);
        using var oracle = new OnnxRuntimeOracle(path);
        var (images, _) = FashionMnist.TestSet;
        var executor = new ReferenceExecutor(ModelPreparation.Prepare(model));
        double worst = 0;
        for (int i = 0; i < 64; i++)
        {
            var image = images.AsSpan(i * FashionMnist.Pixels, FashionMnist.Pixels).ToArray();
            var expected = oracle.Run("image", image, [1, 1, 28, 28])["logits"];
            var actual = executor.Run(new Dictionary<string, Tensor> { ["image"] = Tensor.FromArray([1, 1, 28, 28], image) })["logits"];
            worst = Math.Max(worst, RelativeError(expected, actual.ToArray<float>()));
        }

        // A batch of 16 through a graph prepared for batch 16.
        var batch = images.AsSpan(0, 16 * FashionMnist.Pixels).ToArray();
        var batchExpected = oracle.Run("image", batch, [16, 1, 28, 28])["logits"];
        var batched = new ReferenceExecutor(ModelPreparation.Prepare(model, new ShapeOptions { BatchSize = 16 }));
        var batchActual = batched.Run(new Dictionary<string, Tensor> { ["image"] = Tensor.FromArray([16, 1, 28, 28], batch) })["logits"];
        worst = Math.Max(worst, RelativeError(batchExpected, batchActual.ToArray<float>()));

        output.WriteLine($"{name}: max relative error {worst:E2} over 64 single images and a batch of 16");
        Assert.True(worst <= Tolerance, $"{name}: max relative error {worst:E2} > {Tolerance:E0}");
    }

    [Fact]
    public void WakeWordPipelineMatchesOnnxRuntimeStageByStage()
    {
        // 2.56 s of deterministic synthetic audio in int16 range (a chirp plus noise), as openWakeWord feeds it.
        int samples = 16000 * 256 / 100;
        var audio = new float[samples];
        var random = new Random(3);
        for (int i = 0; i < samples; i++)
        {
            double t = i / 16000.0;
            audio[i] = (float)(6000 * Math.Sin(2 * Math.PI * (200 + 900 * t) * t) + 800 * (random.NextDouble() - 0.5));
        }

        // Stage 1: melspectrogram.
        var melPath = RealModelPaths.WakeWord("melspectrogram");
        using var melOracle = new OnnxRuntimeOracle(melPath);
        var melExpected = melOracle.Run("input", audio, [1, samples]).Single().Value;
        var melModel = OnnxModelLoader.Load(melPath);
        var melActual = new ReferenceExecutor(melModel).Run(new Dictionary<string, Tensor> { ["input"] = Tensor.FromArray([1, samples], audio) }).Single().Value;
        double melError = RelativeError(melExpected, melActual.ToArray<float>());
        // Output [1, 1, frames, 32].
        int frames = melActual.Shape[2];
        Assert.True(frames >= 76 + 15 * 8, $"only {frames} mel frames");

        // Stage 2: the embedding CNN on 16 windows of 76 frames, 8 frames apart (openWakeWord's x/10 + 2 scaling).
        var embedPath = RealModelPaths.WakeWord("embedding_model");
        using var embedOracle = new OnnxRuntimeOracle(embedPath);
        var embedExecutor = new ReferenceExecutor(OnnxModelLoader.Load(embedPath));
        var embeddings = new float[16 * 96];
        double embedError = 0;
        for (int w = 0; w < 16; w++)
        {
            var window = new float[76 * 32];
            for (int i = 0; i < window.Length; i++) window[i] = melExpected[w * 8 * 32 + i] / 10f + 2f;
            var expected = embedOracle.Run("input_1", window, [1, 76, 32, 1]).Single().Value;
            var actual = embedExecutor.Run(new Dictionary<string, Tensor> { ["input_1"] = Tensor.FromArray([1, 76, 32, 1], window) }).Single().Value.ToArray<float>();
            embedError = Math.Max(embedError, RelativeError(expected, actual));
            expected.CopyTo(embeddings, w * 96);
        }

        // Stage 3: the Gemm wake-word heads on those 16 embeddings.
        var headErrors = new List<string>();
        double headError = 0;
        foreach (var head in new[] { "alexa_v0.1", "hey_mycroft_v0.1", "hey_rhasspy_v0.1", "weather_v0.1", "timer_v0.1" })
        {
            var headPath = RealModelPaths.WakeWord(head);
            var headModel = OnnxModelLoader.Load(headPath);
            var input = headModel.Graph.Inputs.Single();
            int frameCount = (int)input.Dims![1].Value;
            var features = new float[frameCount * 96];
            for (int i = 0; i < features.Length; i++) features[i] = embeddings[i % embeddings.Length];
            using var headOracle = new OnnxRuntimeOracle(headPath);
            var expected = headOracle.Run(input.Name, features, [1, frameCount, 96]).Single().Value;
            var actual = new ReferenceExecutor(headModel).Run(new Dictionary<string, Tensor> { [input.Name] = Tensor.FromArray([1, frameCount, 96], features) }).Single().Value.ToArray<float>();
            double e = RelativeError(expected, actual);
            headError = Math.Max(headError, e);
            headErrors.Add($"{head} {e:E2}");
        }

        output.WriteLine($"melspectrogram {melError:E2} ({frames} frames), embedding {embedError:E2}, heads: {string.Join(", ", headErrors)}");
        Assert.True(melError <= Tolerance, $"melspectrogram: {melError:E2}");
        Assert.True(embedError <= Tolerance, $"embedding: {embedError:E2}");
        Assert.True(headError <= Tolerance, $"heads: {string.Join(", ", headErrors)}");
    }

    [Fact]
    public void HeyJarvisUnsupportedNodesAreReported()
    {
        var path = RealModelPaths.WakeWord("hey_jarvis_v0.1");
        var model = OnnxModelLoader.Load(path);
        var e = Assert.Throws<ModelException>(() => new ReferenceExecutor(model));
        Assert.Equal(ErrorCodes.UnsupportedOperator, e.Code);
        Assert.Equal(path, e.ModelPath);
        // The first unsupported node in execution order is named: GreaterOrEqual, which feeds the If.
        var first = model.Graph.Nodes.First(n => !QuantGen.Core.Operators.OperatorRegistry.Default.IsSupported(n.OpType, n.Domain));
        Assert.Equal("GreaterOrEqual", first.OpType);
        Assert.Equal(first.Name, e.NodeName);
        Assert.Contains("'GreaterOrEqual'", e.Message);
        Assert.Contains(model.Graph.Nodes, n => n.OpType == "If");
    }

    private static double RelativeError(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = expected.Max(MathF.Abs);
        return Conformance.TensorComparison.MaxRelativeError(expected, actual, Math.Max(scale * 1e-2f, 1e-3f));
    }
}
