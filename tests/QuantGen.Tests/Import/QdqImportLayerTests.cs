using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using QuantGen.Core;
using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using QuantGen.Onnx;
using QuantGen.Onnx.Proto;
using Xunit.Abstractions;
using DataType = QuantGen.Onnx.Proto.TensorProto.Types.DataType;

namespace QuantGen.Tests.Import;

/// <summary>
/// QDQ import on a hand-built one-Conv model (<see cref="QdqModelBuilder"/>): the forms exporters write (uint8 or int8
/// activations, int8 or uint8 weights, int32 bias, QLinearConv) compile to the model's own integers and agree with
/// ONNX Runtime; what QuantGen cannot express exactly is a QG error naming the model and the node.
/// </summary>
public sealed class QdqImportLayerTests(ITestOutputHelper output)
{
    private const string Path = "Models/qdq_conv.onnx";

    private static QuantizationResult Import(QdqModelBuilder model, QuantizationOptions? options = null) =>
        ModelQuantizer.Quantize(OnnxModelLoader.Load(model.Build(), Path), options ?? new QuantizationOptions(), null);

    private static ModelException Fails(QdqModelBuilder model, QuantizationOptions? options = null)
    {
        var e = Assert.Throws<ModelException>(() => Import(model, options));
        Assert.Equal(Path, e.ModelPath);
        return e;
    }

    public static TheoryData<string> Forms => new() { "uint8", "int8 activations", "uint8 weights", "QLinearConv", "opset 10 per-tensor" };

    private static QdqModelBuilder Form(string form) => form switch
    {
        "uint8" => new QdqModelBuilder { InputZero = 3, OutputZero = 7 },
        "int8 activations" => new QdqModelBuilder { Int8Activations = true, InputZero = 128, OutputZero = 100 },
        "uint8 weights" => new QdqModelBuilder { UInt8Weights = true, OutputZero = 2 },
        // uint8 weights: ONNX Runtime runs a QLinearConv node with its integer kernel even unoptimized, and its U8S8
        // kernel saturates pairs of products on x86 without VNNI (docs/interop.md); U8U8 is exact.
        "QLinearConv" => new QdqModelBuilder { QLinear = true, UInt8Weights = true, OutputZero = 5 },
        "opset 10 per-tensor" => new QdqModelBuilder { Opset = 10, WeightScales = [0.004f] },
        _ => throw new ArgumentOutOfRangeException(nameof(form)),
    };

    [Theory]
    [MemberData(nameof(Forms))]
    public void ImportedConvUsesTheModelsIntegersAndAgreesWithOnnxRuntime(string form)
    {
        var builder = Form(form);
        if (builder.Opset == 10)
            // Opset 10 has no axis: per-tensor scales (scalars) everywhere.
            builder = builder with { Edit = m => { foreach (var t in m.Graph.Initializer.Where(t => t.Name is "w_scale" or "w_zero" or "b_scale")) t.Dims.Clear(); foreach (var n in m.Graph.Node) n.Attribute.Clear(); foreach (var n in m.Graph.Node.Where(n => n.OpType == "Conv")) { n.Attribute.Add(new AttributeProto { Name = "kernel_shape", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 3, 3 } }); n.Attribute.Add(new AttributeProto { Name = "pads", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 1, 1, 1, 1 } }); } } };
        var artifact = Import(builder).Artifact;
        var conv = artifact.Layers.Single(l => l.Kind == LayerKinds.Conv);
        // The weights are the model's integers (w − zero point), not re-rounded ones; the bias is the model's int32
        // with the input zero point folded in as QuantGen's Conv does (docs/artifact.md).
        Assert.Equal(QdqModelBuilder.Weights.Select(v => (int)v), conv.GetBlob("weights").Values.AsArray());
        var input = artifact.GetTensor(conv.Inputs[0]);
        var outputTensor = artifact.GetTensor(conv.Outputs[0]);
        Assert.Equal(builder.InputScale, input.Scale);
        Assert.Equal(builder.InputZero, input.ZeroPoint);
        Assert.Equal(builder.OutputScale, outputTensor.Scale);
        Assert.Equal(builder.OutputZero, outputTensor.ZeroPoint);
        var bias = conv.GetBlob("bias").Values.AsArray();
        for (int m = 0; m < 3; m++)
            Assert.Equal(QdqModelBuilder.Bias[m] - builder.InputZero * QdqModelBuilder.Weights.Skip(m * 18).Take(18).Sum(v => v), bias[m]);

        // Against ONNX Runtime: fused (QLinearConv) where the weights are uint8 (U8U8, exact on every x86 CPU), and the
        // unfused QDQ graph as ONNX defines it for every form.
        var bytes = builder.Build();
        var simulator = new IntegerSimulator(artifact);
        var random = new Random(7);
        int maxLsb = 0, differing = 0, count = 0;
        foreach (var level in new[] { GraphOptimizationLevel.ORT_DISABLE_ALL, GraphOptimizationLevel.ORT_ENABLE_ALL })
        {
            using var session = new InferenceSession(bytes, new SessionOptions { IntraOpNumThreads = 1, GraphOptimizationLevel = level });
            int levelMax = 0;
            for (int i = 0; i < 50; i++)
            {
                var x = Enumerable.Range(0, 72).Select(_ => (float)random.NextDouble() * 1.1f - 0.05f).ToArray();
                var expected = simulator.Run(new Dictionary<string, float[]> { ["x"] = x })["y"];
                using var results = session.Run([NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x, [1, 2, 6, 6]))]);
                var actual = results.Single().AsTensor<float>().ToArray();
                for (int j = 0; j < expected.Length; j++)
                {
                    int d = (int)Math.Round(Math.Abs(expected[j] - actual[j]) / builder.OutputScale);
                    levelMax = Math.Max(levelMax, d);
                    if (d != 0) differing++;
                    count++;
                }
            }
            output.WriteLine($"{form}, ONNX Runtime {level}: max |Δ| {levelMax} LSB");
            // Unfused, ONNX Runtime sums float products (1 LSB where a sum rounds across a half); fused with int8 weights
            // its U8S8 kernel may saturate without VNNI, so that case is measured, not asserted.
            if (level == GraphOptimizationLevel.ORT_DISABLE_ALL || builder.UInt8Weights || System.Runtime.Intrinsics.X86.AvxVnni.IsSupported)
                Assert.True(levelMax <= 1, $"{form} {level}: max |Δ| {levelMax}");
            maxLsb = Math.Max(maxLsb, levelMax);
        }
        output.WriteLine($"{form}: {differing} of {count} outputs differ");
    }

    [Fact]
    public void ZeroScaleIsRefusedNamingTheNode()
    {
        var e = Fails(new QdqModelBuilder { Edit = m => m.Graph.Initializer.Single(t => t.Name == "y_scale").FloatData[0] = 0 });
        Assert.Equal(ErrorCodes.BadQdqParameters, e.Code);
        Assert.Equal("y_dequantize", e.NodeName);
        Assert.Contains("scale is 0; a scale must be positive and finite", e.Message);
    }

    [Fact]
    public void NegativePerAxisScaleIsRefusedNamingTheChannel()
    {
        var e = Fails(new QdqModelBuilder { WeightScales = [0.004f, -0.003f, 0.005f] });
        Assert.Equal(ErrorCodes.BadQdqParameters, e.Code);
        Assert.Equal("w_dequantize", e.NodeName);
        Assert.Contains("scale[1] is -0.003", e.Message);
    }

    [Fact]
    public void ZeroPointOutsideItsTypesRangeIsRefused()
    {
        // uint8 zero points live in int32_data: 300 used to be truncated to 44 by the reader.
        var e = Fails(new QdqModelBuilder { Edit = m => m.Graph.Initializer.Single(t => t.Name == "y_zero").Int32Data[0] = 300 });
        Assert.Equal(ErrorCodes.BadQdqParameters, e.Code);
        Assert.Equal("y_quantize", e.NodeName);
        Assert.Contains("stores 300 at element 0 (int32_data), outside uint8's range [0, 255]", e.Message);
        // An int32 bias zero point must be 0 (ONNX).
        var bias = Fails(new QdqModelBuilder { Edit = m => { m.Graph.Initializer.Add(QdqModelBuilder.IntTensor("b_zero", DataType.Int32, [3], [0, 5, 0])); m.Graph.Node.Single(n => n.Name == "b_dequantize").Input.Add("b_zero"); } });
        Assert.Equal(ErrorCodes.BadQdqParameters, bias.Code);
        Assert.Equal("b_dequantize", bias.NodeName);
        Assert.Contains("zero point[1] 5 is outside int32's range", bias.Message);
    }

    [Fact]
    public void PerAxisScaleLengthMismatchIsRefused()
    {
        var e = Fails(new QdqModelBuilder { WeightScales = [0.004f, 0.003f] });
        Assert.Equal(ErrorCodes.BadQdqParameters, e.Code);
        Assert.Equal("w_dequantize", e.NodeName);
        Assert.Contains("2 per-axis scales for axis 0 of length 3", e.Message);
    }

    [Fact]
    public void DequantizedConstantOfAFloatNodeIsItsFloatConstant()
    {
        // A dequantized int8 constant added to the float input before the input's QuantizeLinear: ONNX computes that
        // Add in float, so it is a float layer (docs/interop.md, "Float islands") whose constant is (q − 0) · 0.01, and
        // the input's pair quantizes its output. (Before float islands this was QG0082.)
        var result = Import(new QdqModelBuilder
        {
            Edit = m =>
            {
                m.Graph.Initializer.Add(QdqModelBuilder.IntTensor("k", DataType.Int8, [1, 2, 6, 6], Enumerable.Range(0, 72).Select(i => i % 7).ToArray()));
                m.Graph.Initializer.Add(ModelBuilder_Float("k_scale", 0.01f));
                m.Graph.Node.Insert(0, QdqModelBuilder.Node("DequantizeLinear", "k_dequantize", ["k", "k_scale"], "k_dq"));
                m.Graph.Node.Insert(1, new NodeProto { Name = "offset", OpType = "Add", Input = { "x", "k_dq" }, Output = { "x_offset" } });
                m.Graph.Node.Single(n => n.Name == "x_quantize").Input[0] = "x_offset";
            },
        });
        var artifact = result.Artifact;
        Assert.Equal([FloatLayers.Kind("Add"), LayerKinds.Quantize, LayerKinds.Conv, LayerKinds.Dequantize], artifact.Layers.Select(l => l.Kind));
        Assert.Equal(Enumerable.Range(0, 72).Select(i => (i % 7) * 0.01f), artifact.Layers[0].Blobs.Single().FloatValues.AsArray());
        Assert.Equal("x_offset", artifact.Layers[1].Outputs[0]);
        Assert.Contains(result.Warnings, w => w.Code == ErrorCodes.FloatFallback && w.Message.Contains("'offset'", StringComparison.Ordinal));
    }

    [Fact]
    public void DequantizedConstantThatIsNoWeightIsRefused()
    {
        // The constant's dequantized values reach a Conv as its bias through a Mul by one: not a weight QuantGen quantizes.
        var e = Fails(new QdqModelBuilder
        {
            Edit = m =>
            {
                m.Graph.Initializer.Add(QdqModelBuilder.IntTensor("extra", DataType.Int8, [3], [1, 2, 3]));
                m.Graph.Initializer.Add(ModelBuilder_Float("extra_scale", 0.5f));
                m.Graph.Node.Insert(0, QdqModelBuilder.Node("DequantizeLinear", "extra_dequantize", ["extra", "extra_scale"], "extra_dq"));
                m.Graph.Node.Single(n => n.Name == "conv").Input[2] = "extra_dq";
            },
        });
        Assert.Equal(ErrorCodes.QdqNotImportable, e.Code);
        Assert.Equal("extra_dequantize", e.NodeName);
        Assert.Contains("not the weight of a Conv, Gemm or MatMul", e.Message);
    }

    [Fact]
    public void DequantizeLinearFeedingNothingIsRefused()
    {
        // A dequantized int8 constant nothing reads: no layer to put its integers in.
        var e = Fails(new QdqModelBuilder
        {
            Edit = m =>
            {
                m.Graph.Initializer.Add(QdqModelBuilder.IntTensor("orphan", DataType.Int8, [3], [1, 2, 3]));
                m.Graph.Initializer.Add(ModelBuilder_Float("orphan_scale", 0.5f));
                m.Graph.Node.Insert(0, QdqModelBuilder.Node("DequantizeLinear", "orphan_dequantize", ["orphan", "orphan_scale"], "orphan_dq"));
            },
        });
        Assert.Equal((ErrorCodes.QdqNotImportable, "orphan_dequantize"), (e.Code, e.NodeName));
    }

    [Fact]
    public void QuantizeLinearNotFollowedByDequantizeLinearIsRefused()
    {
        var e = Fails(new QdqModelBuilder { Edit = m => m.Graph.Node.Single(n => n.Name == "x_dequantize").OpType = "Identity" });
        Assert.Equal(ErrorCodes.QdqNotImportable, e.Code);
        Assert.Equal("x_quantize", e.NodeName);
    }

    [Fact]
    public void ActivationGridsThatDifferBetweenConvAndReluKeepTwoLayers()
    {
        // Conv → Q → DQ → Relu → Q → DQ with two different grids: two roundings, so the Relu is not fused into the Conv's
        // one requantization but runs as a table from the Conv's grid onto its own.
        var artifact = Import(new QdqModelBuilder
        {
            Edit = m =>
            {
                m.Graph.Initializer.Add(ModelBuilder_Float("mid_scale", 0.03f));
                var relu = m.Graph.Node.Single(n => n.Name == "relu");
                int at = m.Graph.Node.IndexOf(relu);
                m.Graph.Node.Insert(at, QdqModelBuilder.Node("QuantizeLinear", "mid_quantize", ["conv_out", "mid_scale", "y_zero"], "mid_q"));
                m.Graph.Node.Insert(at + 1, QdqModelBuilder.Node("DequantizeLinear", "mid_dequantize", ["mid_q", "mid_scale", "y_zero"], "mid_dq"));
                relu.Input[0] = "mid_dq";
            },
        }).Artifact;
        Assert.Equal([LayerKinds.Quantize, LayerKinds.Conv, LayerKinds.Lookup, LayerKinds.Dequantize], artifact.Layers.Select(l => l.Kind));
        Assert.Equal(0.03f, artifact.GetTensor(artifact.Layers[1].Outputs[0]).Scale);
        Assert.Equal(new QdqModelBuilder().OutputScale, artifact.GetTensor(artifact.Layers[2].Outputs[0]).Scale);
    }

    [Fact]
    public void PerAxisActivationIsRefused()
    {
        var e = Fails(new QdqModelBuilder
        {
            Edit = m =>
            {
                var s = m.Graph.Initializer.Single(t => t.Name == "x_scale"); s.Dims.Add(2); s.FloatData.Add(0.01f);
                var z = m.Graph.Initializer.Single(t => t.Name == "x_zero"); z.Dims.Add(2); z.Int32Data.Add(0);
            },
        });
        Assert.Equal(ErrorCodes.QdqNotExpressible, e.Code);
        Assert.Equal("x_quantize", e.NodeName);
    }

    [Fact]
    public void OtherQOperatorsAreRefusedWithTheReexportHint()
    {
        var e = Fails(new QdqModelBuilder { QLinear = true, Edit = m => { var n = m.Graph.Node.Single(n => n.Name == "conv"); n.OpType = "QLinearSoftmax"; n.Domain = "com.microsoft"; m.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.microsoft", Version = 1 }); } });
        Assert.Equal(ErrorCodes.QOperatorNotImported, e.Code);
        Assert.Equal("conv", e.NodeName);
        Assert.Contains("quant_format=QuantFormat.QDQ", e.Message);
    }

    [Fact]
    public void OptionsThatWouldRequantizeAreRefused()
    {
        var e = Fails(new QdqModelBuilder(), new QuantizationOptions { Algorithms = QuantizationAlgorithms.Cle });
        Assert.Equal(ErrorCodes.InvalidOption, e.Code);
        Assert.Contains("already quantized", e.Message);
        Assert.Equal(ErrorCodes.InvalidOption, Fails(new QdqModelBuilder(), new QuantizationOptions { WeightBits = 4 }).Code);
    }

    private static TensorProto ModelBuilder_Float(string name, float value) => QuantGen.Tests.BadInput.ModelBuilder.FloatTensor(name, [], [value]);
}
