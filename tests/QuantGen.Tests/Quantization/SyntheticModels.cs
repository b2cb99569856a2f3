using Google.Protobuf;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;
using QuantGen.Onnx;
using QuantGen.Onnx.Proto;
using QuantGen.Tests.BadInput;

namespace QuantGen.Tests.Quantization;

/// <summary>
/// Small ONNX graphs built in memory (opset 13, input "x", output "y", seeded random weights) for the layer kinds and
/// fusions the real models use, plus calibration data for them.
/// </summary>
internal sealed class SyntheticModels(int seed)
{
    private readonly Random _random = new(seed);
    private readonly List<TensorProto> _initializers = new();
    private readonly List<NodeProto> _nodes = new();

    /// <summary>Uniform values in [lo, hi).</summary>
    public float[] Uniform(int count, float lo, float hi) =>
        Enumerable.Range(0, count).Select(_ => lo + (float)_random.NextDouble() * (hi - lo)).ToArray();

    /// <summary>A constant initializer named <paramref name="name"/>.</summary>
    public string Constant(string name, long[] dims, float[] values)
    {
        _initializers.Add(ModelBuilder.FloatTensor(name, dims, values));
        return name;
    }

    /// <summary>A constant int64 vector of one element named <paramref name="name"/> (Slice bounds, Gather indices).</summary>
    public string ConstantInt64(string name, long value)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64, Dims = { 1 } };
        tensor.Int64Data.Add(value);
        _initializers.Add(tensor);
        return name;
    }

    /// <summary>A constant int64 vector named <paramref name="name"/> (Pad's pads, Slice's bounds, Resize's sizes).</summary>
    public string ConstantInt64s(string name, params long[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64, Dims = { values.Length } };
        tensor.Int64Data.AddRange(values);
        _initializers.Add(tensor);
        return name;
    }

    public static AttributeProto String(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    /// <summary>A constant of random weights scaled for unit-variance outputs (±√(3/fanIn)).</summary>
    public string Weights(string name, params long[] dims)
    {
        int count = (int)dims.Aggregate(1L, (a, d) => a * d);
        float bound = MathF.Sqrt(3f / (count / dims[0]));
        return Constant(name, dims, Uniform(count, -bound, bound));
    }

    public SyntheticModels Node(string op, string name, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = name, Output = { output } };
        node.Input.AddRange(inputs);
        node.Attribute.AddRange(attributes);
        _nodes.Add(node);
        return this;
    }

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    /// <summary>The graph so far as a loaded model "NAME.onnx" with input x and output y.</summary>
    public Model Build(string name, long[] inputShape, long[] outputShape) =>
        Build(name, ModelBuilder.Value("x", inputShape), ModelBuilder.Value("y", outputShape));

    /// <summary>The graph so far with the given input and output declarations (e.g. symbolic dims).</summary>
    public Model Build(string name, ValueInfoProto input, ValueInfoProto output) =>
        OnnxModelLoader.Load(Proto(name, input, output).ToByteArray(), name + ".onnx");

    /// <summary>The graph so far as an ONNX model (to write to a file for ONNX Runtime).</summary>
    public ModelProto Proto(string name, ValueInfoProto input, ValueInfoProto output)
    {
        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "quantgen-tests",
            OpsetImport = { new OperatorSetIdProto { Domain = "", Version = 13 } },
            Graph = new GraphProto { Name = name, Input = { input }, Output = { output } },
        };
        model.Graph.Initializer.AddRange(_initializers);
        model.Graph.Node.AddRange(_nodes);
        return model;
    }

    /// <summary>Calibration samples [count, ...input shape without the batch] of uniform values in [lo, hi).</summary>
    public CalibrationSet Calibration(int[] inputShape, int count, float lo, float hi)
    {
        int size = inputShape.Aggregate(1, (a, d) => a * d);
        return new CalibrationSet(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray([count, .. inputShape[1..]], Uniform(count * size, lo, hi)) });
    }

    // The models the fusion tests use.

    /// <summary>
    /// x [1,2,6,5] → Conv 3×3 pad 1 → LeakyRelu 0.2 → Max(−0.4) → Conv 1×3 pad (0,1) → LeakyRelu 0.1 → y [1,3,6,5]:
    /// openWakeWord's embedding blocks in miniature.
    /// </summary>
    public static Model ConvLeakyMax(int seed = 1)
    {
        var g = new SyntheticModels(seed);
        g.Node("Conv", "conv1", ["x", g.Weights("w1", 4, 2, 3, 3), g.Constant("b1", [4], g.Uniform(4, -0.5f, 0.5f))], "c1",
                Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1))
            .Node("LeakyRelu", "leaky1", ["c1"], "l1", Float("alpha", 0.2f))
            .Node("Max", "max1", ["l1", g.Constant("floor", [1, 1, 1, 1], [-0.4f])], "m1")
            .Node("Conv", "conv2", ["m1", g.Weights("w2", 3, 4, 1, 3)], "c2", Ints("kernel_shape", 1, 3), Ints("pads", 0, 1, 0, 1))
            .Node("LeakyRelu", "leaky2", ["c2"], "y", Float("alpha", 0.1f));
        return g.Build("conv_leaky_max", [1, 2, 6, 5], [1, 3, 6, 5]);
    }

    /// <summary>x [1,8] → Gemm → LeakyRelu 0.3 → Min(1.5) → Gemm → y [1,3].</summary>
    public static Model GemmLeakyMin(int seed = 2)
    {
        var g = new SyntheticModels(seed);
        g.Node("Gemm", "fc1", ["x", g.Weights("w1", 6, 8), g.Constant("b1", [6], g.Uniform(6, -0.3f, 0.3f))], "f1", Int("transB", 1))
            .Node("LeakyRelu", "leaky", ["f1"], "l1", Float("alpha", 0.3f))
            .Node("Min", "min", [g.Constant("ceiling", [1], [1.5f]), "l1"], "m1")
            .Node("Gemm", "fc2", ["m1", g.Weights("w2", 3, 6)], "y", Int("transB", 1));
        return g.Build("gemm_leaky_min", [1, 8], [1, 3]);
    }

    /// <summary>x NHWC [1,6,5,1] → Transpose to NCHW (moves only size-1 axes) → Conv 3×3 → Relu → Max(0.25) → y [1,2,4,3].</summary>
    public static Model NhwcConvReluMax(int seed = 3)
    {
        var g = new SyntheticModels(seed);
        g.Node("Transpose", "to_nchw", ["x"], "t", Ints("perm", 0, 3, 1, 2))
            .Node("Conv", "conv", ["t", g.Weights("w", 2, 1, 3, 3)], "c", Ints("kernel_shape", 3, 3))
            .Node("Relu", "relu", ["c"], "r")
            .Node("Max", "max", ["r", g.Constant("floor", [], [0.25f])], "y");
        return g.Build("nhwc_conv_relu_max", [1, 6, 5, 1], [1, 2, 4, 3]);
    }
}
