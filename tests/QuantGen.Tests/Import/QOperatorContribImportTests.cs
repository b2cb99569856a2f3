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
/// ONNX Runtime's com.microsoft QOperator nodes (QLinearAdd, QLinearMul, QLinearGlobalAveragePool, QLinearAveragePool,
/// QLinearConcat, QGemm, QLinearSigmoid, QLinearLeakyRelu) on a hand-built model, one node per output so that no
/// output inherits another's rounding: imported onto QuantGen's layers with exactly their scales and zero points, and
/// within one output step of ONNX Runtime running the same file.
/// </summary>
public sealed class QOperatorContribImportTests(ITestOutputHelper output)
{
    private const string Path = "Models/qoperator.onnx";

    private static readonly string[] Outputs = ["sigmoid", "leaky", "gap", "avg", "add", "mul", "excite", "concat", "gemm"];

    private static readonly Dictionary<string, (float Scale, int Zero)> OutputGrids = new()
    {
        ["sigmoid"] = (1f / 256, 0),
        ["leaky"] = (0.015f, 40),
        ["gap"] = (0.01f, 128),
        ["avg"] = (0.018f, 120),
        ["add"] = (0.04f, 125),
        ["mul"] = (0.03f, 60),
        ["excite"] = (0.025f, 130),
        ["concat"] = (0.025f, 128),
        ["gemm"] = (0.05f, 128),
    };

    internal static byte[] Model(Action<ModelProto>? edit = null)
    {
        var g = new GraphProto { Name = "qoperator" };
        g.Input.Add(ModelBuilder.Value("x", 1, 4, 4, 4));
        g.Input.Add(ModelBuilder.Value("x2", 1, 4, 4, 4));
        g.Input.Add(ModelBuilder.Value("s", 1, 4, 1, 1));
        g.Input.Add(ModelBuilder.Value("v", 1, 16));
        void Grid(string name, float scale, int zero)
        {
            g.Initializer.Add(ModelBuilder.FloatTensor(name + "_scale", [], [scale]));
            g.Initializer.Add(QdqModelBuilder.IntTensor(name + "_zero", DataType.Uint8, [], [zero]));
        }
        string[] Q(string name) => [name + "_scale", name + "_zero"];
        Grid("x", 0.02f, 128);
        Grid("x2", 0.03f, 100);
        Grid("s", 0.01f, 20);
        Grid("v", 0.02f, 128);
        foreach (var (name, (scale, zero)) in OutputGrids) Grid(name, scale, zero);
        Grid("b", 0.004f, 128);
        var random = new Random(5);
        var weights = new TensorProto { Name = "b", DataType = (int)DataType.Uint8, Dims = { 16, 5 } };
        weights.Int32Data.AddRange(Enumerable.Range(0, 80).Select(_ => random.Next(1, 256)));
        g.Initializer.Add(weights);
        g.Initializer.Add(QdqModelBuilder.IntTensor("c", DataType.Int32, [5], [1200, -800, 0, 3000, -2500]));

        foreach (var input in new[] { "x", "x2", "s", "v" })
            g.Node.Add(QdqModelBuilder.Node("QuantizeLinear", input + "_quantize", [input, .. Q(input)], input + "_q"));
        NodeProto Contrib(string op, string name, string[] inputs, params AttributeProto[] attributes)
        {
            var node = new NodeProto { Name = name, OpType = op, Domain = "com.microsoft", Output = { name + "_q" } };
            node.Input.AddRange(inputs);
            node.Attribute.AddRange(attributes);
            g.Node.Add(node);
            return node;
        }
        string[] X(string name) => [name + "_q", .. Q(name)];
        Contrib("QLinearSigmoid", "sigmoid", [.. X("x"), .. Q("sigmoid")]);
        Contrib("QLinearLeakyRelu", "leaky", [.. X("x"), .. Q("leaky")], new AttributeProto { Name = "alpha", Type = AttributeProto.Types.AttributeType.Float, F = 0.1f });
        Contrib("QLinearGlobalAveragePool", "gap", [.. X("x"), .. Q("gap")], new AttributeProto { Name = "channels_last", Type = AttributeProto.Types.AttributeType.Int, I = 0 });
        Contrib("QLinearAveragePool", "avg", [.. X("x"), .. Q("avg")],
            new AttributeProto { Name = "kernel_shape", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 2, 2 } },
            new AttributeProto { Name = "strides", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 2, 2 } });
        Contrib("QLinearAdd", "add", [.. X("x"), .. X("x2"), .. Q("add")]);
        Contrib("QLinearMul", "mul", [.. X("x"), .. X("x2"), .. Q("mul")]);
        Contrib("QLinearMul", "excite", [.. X("x"), .. X("s"), .. Q("excite")]);
        Contrib("QLinearConcat", "concat", [.. Q("concat"), .. X("x"), .. X("x2")], new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        Contrib("QGemm", "gemm", [.. X("v"), "b", .. Q("b"), "c", .. Q("gemm")]);
        foreach (var name in Outputs)
        {
            g.Node.Add(QdqModelBuilder.Node("DequantizeLinear", name + "_dequantize", [name + "_q", .. Q(name)], name));
            long[] shape = name switch { "gap" => [1, 4, 1, 1], "avg" => [1, 4, 2, 2], "concat" => [1, 8, 4, 4], "gemm" => [1, 5], _ => [1, 4, 4, 4] };
            g.Output.Add(ModelBuilder.Value(name, shape));
        }
        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "quantgen-tests",
            Graph = g,
            OpsetImport = { new OperatorSetIdProto { Domain = "", Version = 13 }, new OperatorSetIdProto { Domain = "com.microsoft", Version = 1 } },
        };
        edit?.Invoke(model);
        return model.ToByteArray();
    }

    private static QuantizedArtifact Import(byte[] bytes) =>
        ModelQuantizer.Quantize(OnnxModelLoader.Load(bytes, Path), new QuantizationOptions(), null).Artifact;

    [Fact]
    public void ContribOperatorsImportOntoTheirLayersAndAgreeWithOnnxRuntime()
    {
        var bytes = Model();
        var artifact = Import(bytes);
        var kinds = artifact.Layers.Where(l => l.Kind is not (LayerKinds.Quantize or LayerKinds.Dequantize)).ToDictionary(l => l.Name, l => l.Kind);
        Assert.Equal(LayerKinds.Lookup, kinds["sigmoid"]);
        Assert.Equal(LayerKinds.Lookup, kinds["leaky"]);
        Assert.Equal(LayerKinds.AveragePool, kinds["gap"]);
        Assert.Equal(LayerKinds.AveragePool, kinds["avg"]);
        Assert.Equal(LayerKinds.Add, kinds["add"]);
        Assert.Equal(LayerKinds.Mul, kinds["mul"]);
        Assert.Equal(LayerKinds.Mul, kinds["excite"]);
        Assert.Equal(LayerKinds.Concat, kinds["concat"]);
        Assert.Equal(LayerKinds.FullyConnected, kinds["gemm"]);
        // Exactly the model's grids on every layer output.
        foreach (var layer in artifact.Layers.Where(l => OutputGrids.ContainsKey(l.Name)))
        {
            var t = artifact.GetTensor(layer.Outputs[0]);
            Assert.Equal(OutputGrids[layer.Name], (t.Scale, t.ZeroPoint));
        }

        var simulator = new IntegerSimulator(artifact);
        using var session = new InferenceSession(bytes, new SessionOptions { IntraOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL });
        var random = new Random(11);
        var worst = Outputs.ToDictionary(o => o, _ => 0);
        for (int i = 0; i < 40; i++)
        {
            float[] Uniform(int n, float lo, float hi) => Enumerable.Range(0, n).Select(_ => lo + (float)random.NextDouble() * (hi - lo)).ToArray();
            var inputs = new Dictionary<string, float[]> { ["x"] = Uniform(64, -2.6f, 2.6f), ["x2"] = Uniform(64, -3, 4.6f), ["s"] = Uniform(4, -0.2f, 2.3f), ["v"] = Uniform(16, -2.5f, 2.5f) };
            var expected = simulator.Run(inputs);
            using var results = session.Run(inputs.Select(kv => NamedOnnxValue.CreateFromTensor(kv.Key, new DenseTensor<float>(kv.Value, kv.Key switch { "s" => [1, 4, 1, 1], "v" => [1, 16], _ => [1, 4, 4, 4] }))).ToList());
            foreach (var result in results)
            {
                var ort = result.AsTensor<float>().ToArray();
                var ours = expected[result.Name];
                Assert.Equal(ort.Length, ours.Length);
                for (int j = 0; j < ort.Length; j++)
                    worst[result.Name] = Math.Max(worst[result.Name], (int)Math.Round(Math.Abs(ort[j] - ours[j]) / OutputGrids[result.Name].Scale));
            }
        }
        output.WriteLine(string.Join(", ", worst.Select(w => $"{w.Key} {w.Value} LSB")));
        Assert.All(worst, w => Assert.True(w.Value <= 1, $"{w.Key}: max |Δ| {w.Value} LSB against ONNX Runtime"));
    }

    [Fact]
    public void ChannelsLastPoolingIsRefusedNamingTheNode()
    {
        var e = Assert.Throws<ModelException>(() => Import(Model(m => m.Graph.Node.Single(n => n.Name == "gap").Attribute[0].I = 1)));
        Assert.Equal(ErrorCodes.QOperatorNotImported, e.Code);
        Assert.Equal("gap", e.NodeName);
        Assert.Equal(Path, e.ModelPath);
        Assert.Contains("channels_last", e.Message);
    }

    [Fact]
    public void QGemmWithAlphaIsRefusedNamingTheNode()
    {
        var e = Assert.Throws<ModelException>(() => Import(Model(m => m.Graph.Node.Single(n => n.Name == "gemm").Attribute.Add(
            new AttributeProto { Name = "alpha", Type = AttributeProto.Types.AttributeType.Float, F = 0.5f }))));
        Assert.Equal(ErrorCodes.QdqNotExpressible, e.Code);
        Assert.Equal("gemm", e.NodeName);
    }
}
