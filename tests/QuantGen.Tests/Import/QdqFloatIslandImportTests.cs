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
/// QDQ models with float islands (docs/interop.md, "Float islands"): nodes the QDQ model computes in float (no Q → DQ
/// pair on an input or the output) run as float layers between the model's own grids; a dequantized constant such a
/// node reads is its float constant; a QuantizeLinear after the island rounds onto its grid. Compared with ONNX
/// Runtime running the same file as ONNX defines it (graph optimizations off).
/// </summary>
public sealed class QdqFloatIslandImportTests(ITestOutputHelper output)
{
    private const string Path = "Models/qdq_islands.onnx";
    private const float S1 = 0.02f, S2 = 0.03f, S3 = 0.05f;

    /// <summary>
    /// x [1,2,6,6] → Q → DQ → Conv1 (int8 weights per channel, int32 bias) → Relu → Q(S1) → DQ → c1;
    /// c1 − ReduceMean(c1 over channels) (float: the mean has no pair) → Mul by DQ(int8 [1,4,1,1]) → Q(S2, 128) →
    /// DQ → Conv2 → Q(S3, 100) → DQ → y1; the Mul's DQ'd result is also the graph output y2; and c1 → Conv3 with
    /// DQ'd weights and no QuantizeLinear after it (a float Conv) → y3.
    /// </summary>
    internal static byte[] Build(Action<ModelProto>? edit = null)
    {
        var random = new Random(21);
        int[] Ints(int n, int lo, int hi) => Enumerable.Range(0, n).Select(_ => random.Next(lo, hi)).ToArray();
        var g = new GraphProto { Name = "qdq_islands" };
        g.Input.Add(ModelBuilder.Value("x", 1, 2, 6, 6));
        g.Output.Add(ModelBuilder.Value("y1", 1, 3, 6, 6));
        g.Output.Add(ModelBuilder.Value("y2", 1, 4, 6, 6));
        g.Output.Add(ModelBuilder.Value("y3", 1, 2, 6, 6));
        void Scalar(string name, float value) => g.Initializer.Add(ModelBuilder.FloatTensor(name, [], [value]));
        void Zero(string name, DataType type, int value) => g.Initializer.Add(QdqModelBuilder.IntTensor(name, type, [], [value]));
        void Weights(string name, int m, int c, float[] scales)
        {
            g.Initializer.Add(QdqModelBuilder.IntTensor(name, DataType.Int8, [m, c, 3, 3], Ints(m * c * 9, -127, 128)));
            g.Initializer.Add(ModelBuilder.FloatTensor(name + "_scale", [m], scales));
            g.Initializer.Add(QdqModelBuilder.IntTensor(name + "_zero", DataType.Int8, [m], new int[m]));
            g.Node.Add(QdqModelBuilder.Node("DequantizeLinear", name + "_dequantize", [name, name + "_scale", name + "_zero"], name + "_dq", axis: 0));
        }
        NodeProto Conv(string name, string x, string w, string? b, string y)
        {
            var node = new NodeProto { Name = name, OpType = "Conv", Input = { x, w }, Output = { y } };
            if (b is not null) node.Input.Add(b);
            node.Attribute.Add(new AttributeProto { Name = "kernel_shape", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 3, 3 } });
            node.Attribute.Add(new AttributeProto { Name = "pads", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 1, 1, 1, 1 } });
            return node;
        }
        void Pair(string name, string x, string scale, string zero, params string[] outputs)
        {
            g.Node.Add(QdqModelBuilder.Node("QuantizeLinear", name + "_quantize", [x, scale, zero], name + "_q"));
            foreach (var y in outputs) g.Node.Add(QdqModelBuilder.Node("DequantizeLinear", y + "_dequantize", [name + "_q", scale, zero], y));
        }

        Scalar("x_scale", 1f / 255);
        Zero("x_zero", DataType.Uint8, 0);
        Scalar("s1", S1);
        Zero("z1", DataType.Uint8, 0);
        Scalar("s2", S2);
        Zero("z2", DataType.Uint8, 128);
        Scalar("s3", S3);
        Zero("z3", DataType.Uint8, 100);
        Pair("x", "x", "x_scale", "x_zero", "x_dq");
        float[] sw1 = [0.004f, 0.003f, 0.005f, 0.0045f];
        Weights("w1", 4, 2, sw1);
        g.Initializer.Add(QdqModelBuilder.IntTensor("b1", DataType.Int32, [4], Ints(4, -400, 400)));
        g.Initializer.Add(ModelBuilder.FloatTensor("b1_scale", [4], sw1.Select(s => s / 255).ToArray()));
        g.Node.Add(QdqModelBuilder.Node("DequantizeLinear", "b1_dequantize", ["b1", "b1_scale"], "b1_dq", axis: 0));
        g.Node.Add(Conv("conv1", "x_dq", "w1_dq", "b1_dq", "conv1_out"));
        g.Node.Add(new NodeProto { Name = "relu1", OpType = "Relu", Input = { "conv1_out" }, Output = { "r1" } });
        Pair("r1", "r1", "s1", "z1", "c1", "c1b");
        // The float island: a mean over channels (no pair), a Sub of it, a Mul by a dequantized int8 constant.
        var mean = new NodeProto { Name = "mean", OpType = "ReduceMean", Input = { "c1" }, Output = { "m" } };
        mean.Attribute.Add(new AttributeProto { Name = "axes", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 1 } });
        g.Node.Add(mean);
        g.Node.Add(new NodeProto { Name = "center", OpType = "Sub", Input = { "c1", "m" }, Output = { "s" } });
        g.Initializer.Add(QdqModelBuilder.IntTensor("gain", DataType.Int8, [1, 4, 1, 1], [40, -90, 127, 17]));
        Scalar("gain_scale", 0.05f);
        g.Node.Add(QdqModelBuilder.Node("DequantizeLinear", "gain_dequantize", ["gain", "gain_scale"], "gain_dq"));
        g.Node.Add(new NodeProto { Name = "scale", OpType = "Mul", Input = { "s", "gain_dq" }, Output = { "u" } });
        Pair("u", "u", "s2", "z2", "u_dq", "y2");
        Weights("w2", 3, 4, [0.006f, 0.002f, 0.004f]);
        g.Node.Add(Conv("conv2", "u_dq", "w2_dq", null, "conv2_out"));
        Pair("y1", "conv2_out", "s3", "z3", "y1");
        // A Conv with dequantized weights whose output the model leaves float: ONNX computes it in float.
        Weights("w3", 2, 4, [0.01f, 0.02f]);
        g.Node.Add(Conv("conv3", "c1b", "w3_dq", null, "y3"));
        var model = new ModelProto { IrVersion = 8, ProducerName = "quantgen-tests", Graph = g, OpsetImport = { new OperatorSetIdProto { Domain = "", Version = 13 } } };
        edit?.Invoke(model);
        return model.ToByteArray();
    }

    [Fact]
    public void FloatIslandsRunInFloatBetweenTheModelsGridsAndAgreeWithOnnxRuntime()
    {
        var bytes = Build();
        var result = ModelQuantizer.Quantize(OnnxModelLoader.Load(bytes, Path), new QuantizationOptions(), null);
        var artifact = result.Artifact;
        var kinds = artifact.Layers.Select(l => l.Kind).ToList();
        output.WriteLine(string.Join(", ", artifact.Layers.Select(l => $"{l.Kind} {l.Name}")));
        // The quantized Convs keep the model's grids; the island's nodes and the unquantized Conv are float layers.
        Assert.Equal(2, kinds.Count(k => k == LayerKinds.Conv));
        Assert.Contains(FloatLayers.Kind("ReduceMean"), kinds);
        Assert.Contains(FloatLayers.Kind("Sub"), kinds);
        Assert.Contains(FloatLayers.Kind("Mul"), kinds);
        Assert.Contains(FloatLayers.Kind("Conv"), kinds);
        // The dequantized gain is the Mul's float constant: (q − 0) · 0.05.
        var mul = artifact.Layers.Single(l => l.Kind == FloatLayers.Kind("Mul"));
        Assert.Equal([2f, -4.5f, 6.35f, 0.85f], mul.Blobs.Single().FloatValues.AsArray());
        var u = artifact.GetTensor("u");
        Assert.Equal((S2, 128), (u.Scale, u.ZeroPoint));
        // Not silent: the float nodes are listed in the QG0022 warning.
        var warning = Assert.Single(result.Warnings, w => w.Code == ErrorCodes.FloatFallback);
        Assert.Contains("'mean'", warning.Message, StringComparison.Ordinal);
        Assert.Contains("'conv3'", warning.Message, StringComparison.Ordinal);

        var simulator = new IntegerSimulator(artifact);
        using var session = new InferenceSession(bytes, new SessionOptions { IntraOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL });
        var random = new Random(5);
        var maxLsb = new Dictionary<string, int> { ["y1"] = 0, ["y2"] = 0 };
        double maxFloat = 0;
        var differing = new Dictionary<string, int> { ["y1"] = 0, ["y2"] = 0 };
        for (int n = 0; n < 40; n++)
        {
            var x = Enumerable.Range(0, 72).Select(_ => (float)random.NextDouble() * 1.1f - 0.05f).ToArray();
            var expected = simulator.Run(new Dictionary<string, float[]> { ["x"] = x });
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x, [1, 2, 6, 6]))]);
            var actual = results.ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray());
            foreach (var (name, step) in new[] { ("y1", S3), ("y2", S2) })
                for (int j = 0; j < actual[name].Length; j++)
                {
                    int d = (int)Math.Round(Math.Abs(expected[name][j] - actual[name][j]) / step);
                    if (d != 0) differing[name]++;
                    maxLsb[name] = Math.Max(maxLsb[name], d);
                }
            for (int j = 0; j < actual["y3"].Length; j++) maxFloat = Math.Max(maxFloat, Math.Abs(expected["y3"][j] - actual["y3"][j]));
        }
        output.WriteLine($"max |Δ| y1 {maxLsb["y1"]} LSB, y2 {maxLsb["y2"]} LSB ({differing["y1"]} and {differing["y2"]} of {40 * 108} and {40 * 144} outputs differ), float y3 {maxFloat:G3}");
        // y2 is the island's output rounded by its QuantizeLinear: identical float inputs, so the same integers (1 LSB
        // where float sums in another order round across a half); y1 is requantized from it by Conv2.
        Assert.True(maxLsb["y2"] <= 1 && maxLsb["y1"] <= 1, $"max |Δ| y1 {maxLsb["y1"]}, y2 {maxLsb["y2"]}");
        Assert.True(maxFloat < 1e-4, $"float Conv differs by {maxFloat}");
    }
}
