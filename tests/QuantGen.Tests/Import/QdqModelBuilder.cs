using Google.Protobuf;
using QuantGen.Onnx.Proto;
using QuantGen.Tests.BadInput;
using DataType = QuantGen.Onnx.Proto.TensorProto.Types.DataType;

namespace QuantGen.Tests.Import;

/// <summary>
/// A small QDQ model built by hand, ONNX Runtime's quantize_static layout: x [1, 2, 6, 6] → Q → DQ → Conv (3×3, 3
/// output channels, pad 1; weights DQ of int8 per output channel, bias DQ of int32 on sx·sw) → Relu → Q → DQ → y.
/// The options vary one thing at a time; <see cref="Edit"/> corrupts the finished proto.
/// </summary>
internal sealed record QdqModelBuilder
{
    public float InputScale { get; init; } = 1f / 255;
    public int InputZero { get; init; }
    public float OutputScale { get; init; } = 0.02f;
    public int OutputZero { get; init; }
    /// <summary>int8 activations (zero points int8) instead of uint8.</summary>
    public bool Int8Activations { get; init; }
    /// <summary>uint8 weights with zero point 128 instead of int8 with 0.</summary>
    public bool UInt8Weights { get; init; }
    public float[] WeightScales { get; init; } = [0.004f, 0.003f, 0.005f];
    public int Opset { get; init; } = 13;
    /// <summary>QLinearConv (QOperator) instead of the DQ → Conv → Q group.</summary>
    public bool QLinear { get; init; }
    public Action<ModelProto>? Edit { get; init; }

    public static readonly sbyte[] Weights = MakeWeights();
    public static readonly int[] Bias = [120, -300, 45];

    private static sbyte[] MakeWeights()
    {
        var random = new Random(18);
        var w = new sbyte[3 * 2 * 3 * 3];
        for (int i = 0; i < w.Length; i++) w[i] = (sbyte)random.Next(-127, 128);
        w[5] = -128;
        return w;
    }

    public byte[] Build()
    {
        var a = Int8Activations ? DataType.Int8 : DataType.Uint8;
        int shift = Int8Activations ? -128 : 0;
        var g = new GraphProto { Name = "qdq" };
        g.Input.Add(ModelBuilder.Value("x", 1, 2, 6, 6));
        g.Output.Add(ModelBuilder.Value("y", 1, 3, 6, 6));
        g.Initializer.Add(ModelBuilder.FloatTensor("x_scale", [], [InputScale]));
        g.Initializer.Add(IntTensor("x_zero", a, [], [InputZero + shift]));
        g.Initializer.Add(ModelBuilder.FloatTensor("y_scale", [], [OutputScale]));
        g.Initializer.Add(IntTensor("y_zero", a, [], [OutputZero + shift]));
        g.Initializer.Add(IntTensor("w", UInt8Weights ? DataType.Uint8 : DataType.Int8, [3, 2, 3, 3], Weights.Select(v => UInt8Weights ? v + 128 : (int)v).ToArray()));
        g.Initializer.Add(ModelBuilder.FloatTensor("w_scale", [WeightScales.Length], WeightScales));
        g.Initializer.Add(IntTensor("w_zero", UInt8Weights ? DataType.Uint8 : DataType.Int8, [WeightScales.Length], Enumerable.Repeat(UInt8Weights ? 128 : 0, WeightScales.Length).ToArray()));
        g.Initializer.Add(IntTensor("b", DataType.Int32, [3], Bias));
        g.Initializer.Add(ModelBuilder.FloatTensor("b_scale", [WeightScales.Length], WeightScales.Select(s => InputScale * s).ToArray()));
        g.Node.Add(Node("QuantizeLinear", "x_quantize", ["x", "x_scale", "x_zero"], "x_q"));
        if (QLinear)
        {
            g.Node.Add(Conv(new NodeProto { Name = "conv", OpType = "QLinearConv", Input = { "x_q", "x_scale", "x_zero", "w", "w_scale", "w_zero", "y_scale", "y_zero", "b" }, Output = { "y_q" } }));
        }
        else
        {
            g.Node.Add(Node("DequantizeLinear", "x_dequantize", ["x_q", "x_scale", "x_zero"], "x_dq"));
            g.Node.Add(Node("DequantizeLinear", "w_dequantize", ["w", "w_scale", "w_zero"], "w_dq", axis: 0));
            g.Node.Add(Node("DequantizeLinear", "b_dequantize", ["b", "b_scale"], "b_dq", axis: 0));
            g.Node.Add(Conv(new NodeProto { Name = "conv", OpType = "Conv", Input = { "x_dq", "w_dq", "b_dq" }, Output = { "conv_out" } }));
            g.Node.Add(new NodeProto { Name = "relu", OpType = "Relu", Input = { "conv_out" }, Output = { "relu_out" } });
            g.Node.Add(Node("QuantizeLinear", "y_quantize", ["relu_out", "y_scale", "y_zero"], "y_q"));
        }
        g.Node.Add(Node("DequantizeLinear", "y_dequantize", ["y_q", "y_scale", "y_zero"], "y"));
        var model = new ModelProto { IrVersion = 8, ProducerName = "quantgen-tests", Graph = g, OpsetImport = { new OperatorSetIdProto { Domain = "", Version = Opset } } };
        Edit?.Invoke(model);
        return model.ToByteArray();
    }

    private static NodeProto Conv(NodeProto node)
    {
        node.Attribute.Add(new AttributeProto { Name = "kernel_shape", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 3, 3 } });
        node.Attribute.Add(new AttributeProto { Name = "pads", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 1, 1, 1, 1 } });
        return node;
    }

    public static NodeProto Node(string op, string name, string[] inputs, string output, int? axis = null)
    {
        var node = new NodeProto { Name = name, OpType = op, Output = { output } };
        node.Input.AddRange(inputs);
        if (axis is { } x) node.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = x });
        return node;
    }

    public static TensorProto IntTensor(string name, DataType type, long[] dims, int[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)type };
        t.Dims.AddRange(dims);
        t.Int32Data.AddRange(values);
        return t;
    }
}
