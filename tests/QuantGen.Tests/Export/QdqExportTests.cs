using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using QuantGen.Onnx.Export;
using QuantGen.Onnx.Proto;
using QuantGen.Tests.Data;
using QuantGen.Tests.Generator;
using Xunit.Abstractions;

namespace QuantGen.Tests.Export;

/// <summary>
/// QDQ export (docs/interop.md): QuantGen's W8A8 quantization written as a QDQ model and run by ONNX Runtime's int8
/// kernels agrees with the integer simulator (bit-exact with the generated class) on Fashion-MNIST.
/// </summary>
public sealed class QdqExportTests(ITestOutputHelper output)
{
    private const int Images = 2000;

    [Theory]
    [InlineData("fashion_mlp", "QGemm", QdqWeightType.UInt8)]
    [InlineData("fashion_cnn", "QLinearConv", QdqWeightType.UInt8)]
    [InlineData("fashion_mobilenet", "QLinearConv", QdqWeightType.UInt8)]
    public void OnnxRuntimeRunsTheExportedModelWithInt8KernelsAndAgreesWithTheSimulator(string name, string fusedOp, QdqWeightType weights)
    {
        var artifact = GeneratedCodeTests.QuantizeFashion(name);
        var directory = Directory.CreateTempSubdirectory("quantgen-qdq-");
        try
        {
            var modelPath = Path.Combine(directory.FullName, $"{name}.qdq.onnx");
            File.WriteAllBytes(modelPath, QdqExporter.Export(artifact, weights));
            var optimizedPath = Path.Combine(directory.FullName, $"{name}.ort-optimized.onnx");
            using var options = new SessionOptions { IntraOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, OptimizedModelFilePath = optimizedPath };
            using var session = new InferenceSession(modelPath, options);

            // ONNX Runtime fused the QDQ groups into its integer kernels. The only float Conv left are those with a
            // per-channel upper bound (clampHigh: ReLU6 after cross-layer equalization), which QLinearConv cannot apply.
            var optimized = ModelProto.Parser.ParseFrom(File.ReadAllBytes(optimizedPath));
            var ops = optimized.Graph.Node.GroupBy(n => n.OpType).ToDictionary(g => g.Key, g => g.Count());
            output.WriteLine($"{name}: ONNX Runtime's optimized graph: {string.Join(", ", ops.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key} ×{o.Value}"))}");
            Assert.Contains(fusedOp, ops.Keys);
            int bounded = artifact.Layers.Count(l => l.Kind == LayerKinds.Conv && l.HasBlob("clampHigh"));
            Assert.Equal(bounded, ops.GetValueOrDefault("Conv"));
            Assert.Equal(artifact.Layers.Count(l => l.Kind == LayerKinds.Conv) - bounded, ops.GetValueOrDefault("QLinearConv"));
            Assert.DoesNotContain("Gemm", ops.Keys);
            Assert.DoesNotContain("MatMul", ops.Keys);

            var (agreement, maxLsb, differing, simulatorAccuracy, ortAccuracy) = Compare(artifact, session, Images);
            output.WriteLine($"{name} ({weights} weights): {Images} test images, top-1 agreement {agreement:P2}, max |Δ| {maxLsb} output LSB, {differing} of {Images * 10} logits differ; " +
                $"accuracy simulator {simulatorAccuracy:P2}, ONNX Runtime {ortAccuracy:P2}");
            Assert.True(agreement >= 0.995, $"{name}: top-1 agreement {agreement:P2} < 99.5%");
            // Measured: 0, 0 and 1 LSB (MobileNet's Add and average pool requantize in float in ONNX Runtime, in fixed
            // point in QuantGen). An exporter bug shows as several LSB: a zero point off by one gave 7 to 23.
            Assert.True(maxLsb <= 2, $"{name}: max |Δ| {maxLsb} output LSB");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>
    /// int8 weights (the usual QDQ form) go through ONNX Runtime's U8S8 kernels, whose AVX2 path without VNNI adds
    /// u8·s8 pairs with 16-bit saturation (vpmaddubsw): measured here, asserted only where the CPU has AVX-VNNI.
    /// </summary>
    [Fact]
    public void Int8WeightsAgreeWhereOnnxRuntimeUsesVnni()
    {
        var artifact = GeneratedCodeTests.QuantizeFashion("fashion_cnn");
        using var session = new InferenceSession(QdqExporter.Export(artifact, QdqWeightType.Int8), new SessionOptions { IntraOpNumThreads = 1 });
        var (agreement, maxLsb, differing, _, _) = Compare(artifact, session, 500);
        bool vnni = System.Runtime.Intrinsics.X86.AvxVnni.IsSupported;
        output.WriteLine($"fashion_cnn (Int8 weights, AVX-VNNI {(vnni ? "present" : "absent")}): 500 test images, top-1 agreement {agreement:P2}, max |Δ| {maxLsb} output LSB, {differing} of 5000 logits differ");
        if (vnni) Assert.True(agreement >= 0.995, $"top-1 agreement {agreement:P2} < 99.5%");
    }

    /// <summary>Runs the first <paramref name="count"/> test images through both; |Δ| in steps of the output's grid.</summary>
    internal static (double Agreement, int MaxLsb, int Differing, double SimulatorAccuracy, double OrtAccuracy) Compare(QuantizedArtifact artifact, InferenceSession session, int count)
    {
        var simulator = new IntegerSimulator(artifact);
        var io = artifact.Inputs.Single();
        var outIo = artifact.Outputs.Single();
        var shape = artifact.GetTensor(io.Tensor).Shape.AsArray();
        var dequantize = artifact.Layers.Single(l => l.Kind == LayerKinds.Dequantize && l.Outputs[0] == outIo.Tensor);
        float lsb = artifact.GetTensor(dequantize.Inputs[0]).Scale;
        var (images, labels) = FashionMnist.TestSet;
        int agree = 0, maxLsb = 0, differing = 0, simulatorCorrect = 0, ortCorrect = 0;
        for (int i = 0; i < count; i++)
        {
            var image = images.AsSpan(i * FashionMnist.Pixels, FashionMnist.Pixels).ToArray();
            var expected = simulator.Run(new Dictionary<string, float[]> { [io.Name] = image })[outIo.Name];
            using var results = session.Run([NamedOnnxValue.CreateFromTensor(io.Name, new DenseTensor<float>(image, shape))]);
            var actual = results.Single(r => r.Name == outIo.Name).AsTensor<float>().ToArray();
            Assert.Equal(expected.Length, actual.Length);
            for (int j = 0; j < expected.Length; j++)
            {
                int delta = (int)Math.Round(Math.Abs(expected[j] - actual[j]) / lsb);
                maxLsb = Math.Max(maxLsb, delta);
                if (delta != 0) differing++;
            }
            int e = ArgMax(expected), a = ArgMax(actual);
            if (e == a) agree++;
            if (e == labels[i]) simulatorCorrect++;
            if (a == labels[i]) ortCorrect++;
        }
        return ((double)agree / count, maxLsb, differing, (double)simulatorCorrect / count, (double)ortCorrect / count);
    }

    private static int ArgMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }

    [Fact]
    public void WeightScaleReproducesTheRequantizationScaleInOnnxRuntimesArithmetic()
    {
        var random = new Random(18);
        int exact = 0, nearest = 0;
        for (int i = 0; i < 1000; i++)
        {
            float sx = (float)(random.NextDouble() * 0.05 + 1e-4), sy = (float)(random.NextDouble() * 0.2 + 1e-3);
            float target = (float)(random.NextDouble() * 0.01 + 1e-5);
            float sw = QdqGraphBuilder.WeightScale(sx, sy, target);
            float combined = sx * sw / sy;
            if (combined == target) exact++;
            // Not every float32 is some sx · sw / sy (a step of sw can move the quotient by two ulps): then one ulp off.
            if (Math.Abs(BitConverter.SingleToInt32Bits(combined) - BitConverter.SingleToInt32Bits(target)) <= 1) nearest++;
        }
        output.WriteLine($"{exact} of 1000 random requantization scales reproduced exactly, {nearest} within one ulp");
        Assert.Equal(1000, nearest);
        Assert.True(exact >= 750, $"only {exact} of 1000 exact");
    }
}
