using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using QuantGen.Onnx.Proto;
using QuantGen.Tests.Export;
using QuantGen.Tests.RealModels;
using Xunit.Abstractions;
using DataType = QuantGen.Onnx.Proto.TensorProto.Types.DataType;

namespace QuantGen.Tests.Import;

/// <summary>
/// Issue 18's "equal ONNX Runtime's int8 execution" on a CPU without VNNI: ONNX Runtime's fused U8S8 kernels saturate
/// 16-bit pair sums there (docs/interop.md), so the QAT files' int8 weights are stored here as uint8 with zero point 128
/// (each weight QuantizeLinear/DequantizeLinear pair gets zero point 128 as uint8: round(w / s) + 128 saturated to
/// [0, 255] is PyTorch's int8 value + 128, dequantizing to the same float). ONNX Runtime with all optimizations then runs
/// its integer kernels (QLinearConv, QGemm, QLinearAdd, …) in U8U8, exact, and is compared with QuantGen's import of the
/// unchanged file.
/// </summary>
public sealed class QdqImportInt8KernelTests(ITestOutputHelper output)
{
    private const int Images = 2000;

    /// <summary>The model with every weight pair's zero point replaced by uint8 128 (same dequantized weights).</summary>
    internal static byte[] WithUInt8Weights(string path)
    {
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        var g = model.Graph;
        var floatConstants = g.Initializer.Where(t => t.DataType == (int)DataType.Float).Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        int changed = 0;
        foreach (var q in g.Node.Where(n => n.OpType == "QuantizeLinear" && floatConstants.Contains(n.Input[0])).ToList())
        {
            var scale = g.Initializer.Single(t => t.Name == q.Input[1]);
            var zero = new TensorProto { Name = q.Name + "/zero_point_u8", DataType = (int)DataType.Uint8 };
            zero.Dims.AddRange(scale.Dims);
            int count = (int)scale.Dims.Aggregate(1L, (a, b) => a * b);
            zero.Int32Data.AddRange(Enumerable.Repeat(128, count));
            g.Initializer.Add(zero);
            q.Input[2] = zero.Name;
            foreach (var dq in g.Node.Where(n => n.OpType == "DequantizeLinear" && n.Input[0] == q.Output[0])) dq.Input[2] = zero.Name;
            changed++;
        }
        Assert.True(changed > 0, "no weight QuantizeLinear found");
        return model.ToByteArray();
    }

    [Theory]
    [InlineData("fashion_cnn_qat")]
    [InlineData("fashion_mobilenet_qat")]
    public void ImportedQatModelAgreesWithOnnxRuntimesInt8Kernels(string name)
    {
        var artifact = QdqImportTests.Import(name);
        using var fused = new InferenceSession(WithUInt8Weights(RealModelPaths.Fashion(name)), new SessionOptions { IntraOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL });
        var (agreement, maxLsb, differing, simulatorAccuracy, ortAccuracy) = QdqExportTests.Compare(artifact, fused, Images);
        output.WriteLine($"{name} (weights as uint8, zero point 128) vs ONNX Runtime ORT_ENABLE_ALL (U8U8 integer kernels): {Images} test images, top-1 agreement {agreement:P2}, " +
            $"max |Δ| {maxLsb} output LSB, {differing} of {Images * 10} logits differ; accuracy QuantGen {simulatorAccuracy:P2}, ONNX Runtime {ortAccuracy:P2}");
        Assert.True(agreement >= 0.995, $"{name}: top-1 agreement {agreement:P2} < 99.5%");
        Assert.True(maxLsb <= 1, $"{name}: max |Δ| {maxLsb} output LSB");
    }
}
