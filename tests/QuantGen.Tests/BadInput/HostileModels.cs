using Google.Protobuf;
using QuantGen.Onnx.Proto;
using AttributeType = QuantGen.Onnx.Proto.AttributeProto.Types.AttributeType;

namespace QuantGen.Tests.BadInput;

/// <summary>
/// Small hostile ONNX models (issue 19): one node over a float input, its constants as initializers, attributes
/// chosen to break geometry or budgets. Each is a few hundred bytes, built in memory.
/// </summary>
internal static class HostileModels
{
    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeType.Int, I = value };

    public static AttributeProto Str(string name, string value) => new() { Name = name, Type = AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public static TensorProto Floats(string name, long[] dims, float fill = 0.5f)
    {
        long count = dims.Aggregate(1L, (p, d) => p * d);
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims);
        t.FloatData.AddRange(Enumerable.Repeat(fill, (int)count));
        return t;
    }

    public static TensorProto Longs(string name, params long[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64, Dims = { values.Length } };
        t.Int64Data.AddRange(values);
        return t;
    }

    /// <summary>A float output whose shape is left to inference.</summary>
    public static ValueInfoProto Untyped(string name) =>
        new() { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } } };

    /// <summary>x (float, <paramref name="inputShape"/>) → op → y (shape left to inference); <paramref name="constants"/> are the node's further inputs.</summary>
    public static byte[] Single(string opType, long[] inputShape, TensorProto?[] constants, AttributeProto[] attributes, int opset = 13, Action<ModelProto>? edit = null)
    {
        var node = new NodeProto { Name = "n", OpType = opType, Input = { "x" }, Output = { "y" } };
        node.Attribute.AddRange(attributes);
        var graph = new GraphProto { Name = "hostile", Input = { ModelBuilder.Value("x", inputShape) }, Output = { Untyped("y") } };
        foreach (var c in constants)
        {
            node.Input.Add(c?.Name ?? "");
            if (c is not null) graph.Initializer.Add(c);
        }
        graph.Node.Add(node);
        var model = new ModelProto { IrVersion = 8, ProducerName = "quantgen-tests", OpsetImport = { new OperatorSetIdProto { Domain = "", Version = opset } }, Graph = graph };
        edit?.Invoke(model);
        return model.ToByteArray();
    }

    public static byte[] Conv(long[] input, long[] weights, params AttributeProto[] attributes) =>
        Single("Conv", input, [Floats("w", weights)], attributes);

    /// <summary>A chain of <paramref name="count"/> Relu nodes.</summary>
    public static byte[] ReluChain(int count)
    {
        var graph = new GraphProto { Name = "chain", Input = { ModelBuilder.Value("x", 1, 4) }, Output = { ModelBuilder.Value($"t{count}", 1, 4) } };
        for (int i = 0; i < count; i++)
            graph.Node.Add(new NodeProto { Name = $"r{i}", OpType = "Relu", Input = { i == 0 ? "x" : $"t{i}" }, Output = { $"t{i + 1}" } });
        return new ModelProto { IrVersion = 8, OpsetImport = { new OperatorSetIdProto { Domain = "", Version = 13 } }, Graph = graph }.ToByteArray();
    }
}
