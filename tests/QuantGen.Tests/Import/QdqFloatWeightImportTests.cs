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
/// A Conv/Gemm whose weights are float (no DequantizeLinear) between two Q → DQ pairs, as a QAT model whose last layer
/// was left in float or quantize_static's nodes_to_exclude writes it: ONNX computes DQ(x) → Gemm(W) → Q in float, and
/// the import makes the node a float island (float kernel, the weights baked as float data) between the model's grids,
/// listed in the QG0022 warning (docs/interop.md, "Float islands"). Compared with ONNX Runtime running the file as ONNX
/// defines it (graph optimizations off); the generated class equals the simulator on every kernel path.
/// </summary>
public sealed class QdqFloatWeightImportTests(ITestOutputHelper output)
{
    private const float Sx = 1f / 255, S1 = 0.03f, S2 = 0.05f, Sy = 0.04f;

    private static float[] Floats(Random random, int n, float scale) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale).ToArray();

    private static void Pair(GraphProto g, string name, string x, string scale, string zero, string y)
    {
        g.Node.Add(QdqModelBuilder.Node("QuantizeLinear", name + "_quantize", [x, scale, zero], name + "_q"));
        g.Node.Add(QdqModelBuilder.Node("DequantizeLinear", name + "_dequantize", [name + "_q", scale, zero], y));
    }

    private static void Grid(GraphProto g, string name, float scale, int zero)
    {
        g.Initializer.Add(ModelBuilder.FloatTensor(name + "_scale", [], [scale]));
        g.Initializer.Add(QdqModelBuilder.IntTensor(name + "_zero", DataType.Uint8, [], [zero]));
    }

    /// <summary>int8 weights per output channel (axis <paramref name="axis"/>) behind a DequantizeLinear named <paramref name="name"/>_dequantize.</summary>
    private static void QuantizedWeights(GraphProto g, Random random, string name, long[] shape, int axis, float[] scales)
    {
        int n = (int)shape.Aggregate(1L, (a, b) => a * b);
        g.Initializer.Add(QdqModelBuilder.IntTensor(name, DataType.Int8, shape, Enumerable.Range(0, n).Select(_ => random.Next(-127, 128)).ToArray()));
        g.Initializer.Add(ModelBuilder.FloatTensor(name + "_wscale", [scales.Length], scales));
        g.Initializer.Add(QdqModelBuilder.IntTensor(name + "_wzero", DataType.Int8, [scales.Length], new int[scales.Length]));
        g.Node.Add(QdqModelBuilder.Node("DequantizeLinear", name + "_dequantize", [name, name + "_wscale", name + "_wzero"], name + "_dq", axis: axis));
    }

    private static NodeProto Conv(string name, string x, string w, string? b, string y)
    {
        var node = new NodeProto { Name = name, OpType = "Conv", Input = { x, w }, Output = { y } };
        if (b is not null) node.Input.Add(b);
        node.Attribute.Add(new AttributeProto { Name = "kernel_shape", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 3, 3 } });
        node.Attribute.Add(new AttributeProto { Name = "pads", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 1, 1, 1, 1 } });
        return node;
    }

    /// <summary>The float weights of the float node (to compare with the artifact's constant).</summary>
    internal static float[] FloatWeights(bool conv) => conv ? Floats(new Random(77), 4 * 4 * 9, 0.15f) : Floats(new Random(78), 10 * 24, 0.2f);

    /// <summary>
    /// Gemm: x [1, 32] → Q/DQ → Gemm fc1 (int8 weights, axis 0, transB) → Relu → Q/DQ(S1) → Gemm fc2 (float weights
    /// [10, 24], transB, float bias) → Q/DQ(Sy, 128) → y [1, 10].
    /// Conv: x [1, 2, 6, 6] → Q/DQ → conv1 (int8) → Relu → Q/DQ(S1) → conv2 (float weights and bias) → Relu → Q/DQ(S2)
    /// → conv3 (int8) → Q/DQ(Sy, 128) → y [1, 3, 6, 6].
    /// </summary>
    internal static byte[] Build(bool conv)
    {
        var random = new Random(conv ? 41 : 42);
        var g = new GraphProto { Name = conv ? "float_conv" : "float_gemm" };
        g.Input.Add(conv ? ModelBuilder.Value("x", 1, 2, 6, 6) : ModelBuilder.Value("x", 1, 32));
        g.Output.Add(conv ? ModelBuilder.Value("y", 1, 3, 6, 6) : ModelBuilder.Value("y", 1, 10));
        Grid(g, "x", Sx, 0);
        Grid(g, "h1", S1, 0);
        Grid(g, "h2", S2, 0);
        Grid(g, "y", Sy, 128);
        Pair(g, "x", "x", "x_scale", "x_zero", "x_dq");
        if (conv)
        {
            QuantizedWeights(g, random, "w1", [4, 2, 3, 3], 0, [0.004f, 0.003f, 0.005f, 0.0045f]);
            g.Node.Add(Conv("conv1", "x_dq", "w1_dq", null, "c1"));
            g.Node.Add(new NodeProto { Name = "relu1", OpType = "Relu", Input = { "c1" }, Output = { "r1" } });
            Pair(g, "h1", "r1", "h1_scale", "h1_zero", "h1_dq");
            // The float Conv between two pairs: float weights and bias, its Relu after it.
            g.Initializer.Add(ModelBuilder.FloatTensor("w2", [4, 4, 3, 3], FloatWeights(conv: true)));
            g.Initializer.Add(ModelBuilder.FloatTensor("b2", [4], [0.05f, -0.1f, 0.2f, 0f]));
            g.Node.Add(Conv("conv2", "h1_dq", "w2", "b2", "c2"));
            g.Node.Add(new NodeProto { Name = "relu2", OpType = "Relu", Input = { "c2" }, Output = { "r2" } });
            Pair(g, "h2", "r2", "h2_scale", "h2_zero", "h2_dq");
            QuantizedWeights(g, random, "w3", [3, 4, 3, 3], 0, [0.003f, 0.002f, 0.004f]);
            g.Node.Add(Conv("conv3", "h2_dq", "w3_dq", null, "c3"));
            Pair(g, "y", "c3", "y_scale", "y_zero", "y");
        }
        else
        {
            QuantizedWeights(g, random, "w1", [24, 32], 0, Enumerable.Range(0, 24).Select(i => 0.002f + 0.0001f * i).ToArray());
            g.Node.Add(new NodeProto { Name = "fc1", OpType = "Gemm", Input = { "x_dq", "w1_dq" }, Output = { "f1" }, Attribute = { TransB() } });
            g.Node.Add(new NodeProto { Name = "relu1", OpType = "Relu", Input = { "f1" }, Output = { "r1" } });
            Pair(g, "h1", "r1", "h1_scale", "h1_zero", "h1_dq");
            // The last Gemm left in float (QAT kept it float), its output still quantized by the model.
            g.Initializer.Add(ModelBuilder.FloatTensor("w2", [10, 24], FloatWeights(conv: false)));
            g.Initializer.Add(ModelBuilder.FloatTensor("b2", [10], Floats(random, 10, 0.3f)));
            g.Node.Add(new NodeProto { Name = "fc2", OpType = "Gemm", Input = { "h1_dq", "w2", "b2" }, Output = { "f2" }, Attribute = { TransB() } });
            Pair(g, "y", "f2", "y_scale", "y_zero", "y");
        }
        var model = new ModelProto { IrVersion = 8, ProducerName = "quantgen-tests", Graph = g, OpsetImport = { new OperatorSetIdProto { Domain = "", Version = 13 } } };
        return model.ToByteArray();
    }

    private static AttributeProto TransB() => new() { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void FloatWeightsBetweenPairsRunAsAFloatIslandAndAgreeWithOnnxRuntime(bool conv)
    {
        var bytes = Build(conv);
        string path = conv ? "Models/float_conv.onnx" : "Models/float_gemm.onnx", floatNode = conv ? "conv2" : "fc2";
        var result = ModelQuantizer.Quantize(OnnxModelLoader.Load(bytes, path), new QuantizationOptions(), null);
        var artifact = result.Artifact;
        output.WriteLine(string.Join(", ", artifact.Layers.Select(l => $"{l.Kind} {l.Name}")));
        // The node with float weights is a float layer holding the model's float weights as they are; the others stay integer.
        var island = artifact.Layers.Single(l => l.Name == floatNode);
        Assert.Equal(FloatLayers.Kind(conv ? "Conv" : "Gemm"), island.Kind);
        Assert.Equal(FloatWeights(conv), island.GetBlob("c1").FloatValues.AsArray());
        Assert.Equal(conv ? 2 : 1, artifact.Layers.Count(l => l.Kind == (conv ? LayerKinds.Conv : LayerKinds.FullyConnected)));
        // Its output is rounded onto the model's grid (the QuantizeLinear after it).
        var grid = artifact.GetTensor(conv ? "r2" : "f2");
        Assert.Equal(conv ? (S2, 0) : (Sy, 128), (grid.Scale, grid.ZeroPoint));
        // Not silent: the QG0022 warning lists the node.
        var warning = Assert.Single(result.Warnings, w => w.Code == ErrorCodes.FloatFallback);
        Assert.Contains($"'{floatNode}'", warning.Message, StringComparison.Ordinal);

        var generated = new ImportedClass(artifact, conv ? "FloatConvImport" : "FloatGemmImport", "x", "y");
        using var session = new InferenceSession(bytes, new SessionOptions { IntraOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL });
        var random = new Random(9);
        int[] shape = conv ? [1, 2, 6, 6] : [1, 32];
        int size = shape.Aggregate(1, (a, b) => a * b), maxLsb = 0, differing = 0, count = 0;
        for (int n = 0; n < 40; n++)
        {
            var x = Enumerable.Range(0, size).Select(_ => (float)random.NextDouble() * 1.1f - 0.05f).ToArray();
            var actual = generated.Run(x);
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x, shape))]);
            var expected = results.Single().AsTensor<float>().ToArray();
            for (int j = 0; j < expected.Length; j++, count++)
            {
                int d = (int)Math.Round(Math.Abs(expected[j] - actual[j]) / Sy);
                if (d != 0) differing++;
                maxLsb = Math.Max(maxLsb, d);
            }
        }
        output.WriteLine($"{floatNode} float between pairs: max |Δ| {maxLsb} LSB against ONNX Runtime, {differing} of {count} outputs differ; generated class = simulator on {generated.PathCount} kernel paths");
        Assert.True(maxLsb <= 1, $"max |Δ| {maxLsb} LSB");
    }
}
