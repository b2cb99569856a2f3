using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using QuantGen.Core;
using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using QuantGen.Onnx;
using QuantGen.Onnx.Proto;
using QuantGen.Tests.BadInput;
using Xunit.Abstractions;
using DataType = QuantGen.Onnx.Proto.TensorProto.Types.DataType;

namespace QuantGen.Tests.Import;

/// <summary>
/// ConvInteger / MatMulInteger in the static form (docs/interop.md, "ConvInteger and MatMulInteger"): x → QuantizeLinear
/// → ConvInteger/MatMulInteger (int8 weights, zero points) → Cast → Mul(scale) → Relu → QuantizeLinear → DequantizeLinear
/// imports as one quantized layer with the model's integers, agreeing with ONNX Runtime; DynamicQuantizeLinear mixed with static pairs is refused.
/// </summary>
public sealed class IntegerOperatorImportTests(ITestOutputHelper output)
{
    private const string Path = "Models/integer_ops.onnx";
    private const float Sx = 1f / 255, Sy = 0.01f;

    internal static byte[] Build(bool conv, bool perChannel, bool dynamic = false)
    {
        var random = new Random(conv ? 31 : 32);
        var g = new GraphProto { Name = "integer_ops" };
        long[] xShape = conv ? [1, 2, 6, 6] : [1, 16];
        long[] yShape = conv ? [1, 3, 6, 6] : [1, 5];
        int m = conv ? 3 : 5;
        g.Input.Add(ModelBuilder.Value("x", xShape));
        g.Output.Add(ModelBuilder.Value("y", yShape));
        g.Initializer.Add(ModelBuilder.FloatTensor("x_scale", [], [Sx]));
        g.Initializer.Add(QdqModelBuilder.IntTensor("x_zero", DataType.Uint8, [], [4]));
        g.Initializer.Add(ModelBuilder.FloatTensor("y_scale", [], [Sy]));
        g.Initializer.Add(QdqModelBuilder.IntTensor("y_zero", DataType.Uint8, [], [0]));
        // Weights within ±63: ONNX Runtime's U8S8 integer kernels add pairs of u8 · s8 products with 16-bit saturation on
        // x86 without VNNI (docs/interop.md), which 255 · (63 + 63) cannot reach; the test then compares with ONNX's definition.
        long[] wShape = conv ? [3, 2, 3, 3] : [16, 5];
        g.Initializer.Add(QdqModelBuilder.IntTensor("w", DataType.Int8, wShape, Enumerable.Range(0, (int)wShape.Aggregate(1L, (a, b) => a * b)).Select(_ => random.Next(-63, 64)).ToArray()));
        g.Initializer.Add(QdqModelBuilder.IntTensor("w_zero", DataType.Int8, [], [0]));
        // The scale ONNX Runtime's quantizer multiplies by: sx · sw, per tensor or per output channel.
        var c = Enumerable.Range(0, perChannel ? m : 1).Select(i => Sx * (0.003f + 0.001f * i)).ToArray();
        g.Initializer.Add(ModelBuilder.FloatTensor("c", perChannel ? (conv ? [1, m, 1, 1] : [m]) : [], c));
        if (dynamic)
            g.Node.Add(new NodeProto { Name = "x_dynamic", OpType = "DynamicQuantizeLinear", Input = { "x" }, Output = { "x_q", "x_scale_run", "x_zero_run" } });
        else
            g.Node.Add(QdqModelBuilder.Node("QuantizeLinear", "x_quantize", ["x", "x_scale", "x_zero"], "x_q"));
        var op = new NodeProto { Name = "op", OpType = conv ? "ConvInteger" : "MatMulInteger", Input = { "x_q", "w", "x_zero", "w_zero" }, Output = { "acc" } };
        if (conv)
        {
            op.Attribute.Add(new AttributeProto { Name = "kernel_shape", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 3, 3 } });
            op.Attribute.Add(new AttributeProto { Name = "pads", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 1, 1, 1, 1 } });
        }
        g.Node.Add(op);
        g.Node.Add(new NodeProto { Name = "cast", OpType = "Cast", Input = { "acc" }, Output = { "acc_f" }, Attribute = { new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = 1 } } });
        g.Node.Add(new NodeProto { Name = "scale", OpType = "Mul", Input = { "acc_f", "c" }, Output = { "z" } });
        g.Node.Add(new NodeProto { Name = "relu", OpType = "Relu", Input = { "z" }, Output = { "r" } });
        g.Node.Add(QdqModelBuilder.Node("QuantizeLinear", "y_quantize", ["r", "y_scale", "y_zero"], "y_q"));
        g.Node.Add(QdqModelBuilder.Node("DequantizeLinear", "y_dequantize", ["y_q", "y_scale", "y_zero"], "y"));
        var model = new ModelProto { IrVersion = 8, ProducerName = "quantgen-tests", Graph = g, OpsetImport = { new OperatorSetIdProto { Domain = "", Version = 13 } } };
        return model.ToByteArray();
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(false, true)]
    public void StaticIntegerOperatorsImportAsOneLayerAndAgreeWithOnnxRuntime(bool conv, bool perChannel)
    {
        var bytes = Build(conv, perChannel);
        var artifact = ModelQuantizer.Quantize(OnnxModelLoader.Load(bytes, Path), new QuantizationOptions(), null).Artifact;
        Assert.Equal([LayerKinds.Quantize, conv ? LayerKinds.Conv : LayerKinds.FullyConnected, LayerKinds.Dequantize], artifact.Layers.Select(l => l.Kind));
        var layer = artifact.Layers[1];
        var input = artifact.GetTensor(layer.Inputs[0]);
        Assert.Equal((Sx, 4), (input.Scale, input.ZeroPoint));
        Assert.Equal(Sy, artifact.GetTensor(layer.Outputs[0]).Scale);

        var simulator = new IntegerSimulator(artifact);
        using var session = new InferenceSession(bytes, new SessionOptions { IntraOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL });
        var random = new Random(3);
        int size = conv ? 72 : 16, maxLsb = 0, differing = 0, count = 0;
        int[] shape = conv ? [1, 2, 6, 6] : [1, 16];
        for (int n = 0; n < 50; n++)
        {
            var x = Enumerable.Range(0, size).Select(_ => (float)random.NextDouble() * 1.1f - 0.05f).ToArray();
            var expected = simulator.Run(new Dictionary<string, float[]> { ["x"] = x })["y"];
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x, shape))]);
            var actual = results.Single().AsTensor<float>().ToArray();
            for (int j = 0; j < expected.Length; j++, count++)
            {
                int d = (int)Math.Round(Math.Abs(expected[j] - actual[j]) / Sy);
                if (d != 0) differing++;
                maxLsb = Math.Max(maxLsb, d);
            }
        }
        output.WriteLine($"{(conv ? "ConvInteger" : "MatMulInteger")} {(perChannel ? "per channel" : "per tensor")}: max |Δ| {maxLsb} LSB, {differing} of {count} differ");
        Assert.True(maxLsb <= 1, $"max |Δ| {maxLsb} LSB");
    }

    [Fact]
    public void DynamicQuantizeLinearMixedWithStaticPairsIsRefused()
    {
        // A DynamicQuantizeLinear in a model that also quantizes statically (the Q → DQ pair on the output): QuantGen
        // imports dynamic models only as quantize_dynamic writes them (DynamicQuantizationImportTests), not mixed.
        var e = Assert.Throws<ModelException>(() => ModelQuantizer.Quantize(OnnxModelLoader.Load(Build(true, false, dynamic: true), Path), new QuantizationOptions(), null));
        Assert.Equal(Path, e.ModelPath);
        Assert.Equal((ErrorCodes.QOperatorNotImported, "y_quantize"), (e.Code, e.NodeName));
        Assert.Contains("DynamicQuantizeLinear 'x_dynamic'", e.Message, StringComparison.Ordinal);
    }
}
