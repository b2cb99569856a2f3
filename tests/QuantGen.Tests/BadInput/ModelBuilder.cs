using Google.Protobuf;
using QuantGen.Onnx.Proto;

namespace QuantGen.Tests.BadInput;

/// <summary>Builds small ONNX models in memory with the generated protobuf types, to corrupt on purpose.</summary>
internal static class ModelBuilder
{
    /// <summary>x [1, 4] float → Relu → y, opset 13; <paramref name="edit"/> corrupts it before serialisation.</summary>
    public static byte[] Relu(Action<ModelProto>? edit = null)
    {
        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "quantgen-tests",
            OpsetImport = { new OperatorSetIdProto { Domain = "", Version = 13 } },
            Graph = new GraphProto
            {
                Name = "relu",
                Input = { Value("x", 1, 4) },
                Output = { Value("y", 1, 4) },
                Node = { new NodeProto { Name = "relu_node", OpType = "Relu", Input = { "x" }, Output = { "y" } } },
            },
        };
        edit?.Invoke(model);
        return model.ToByteArray();
    }

    public static ValueInfoProto Value(string name, params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    /// <summary>A float value whose dims are numbers or, where not, symbols ("N", "height").</summary>
    public static ValueInfoProto SymbolicValue(string name, params string[] dims)
    {
        var value = Value(name);
        foreach (var d in dims)
            value.Type.TensorType.Shape.Dim.Add(long.TryParse(d, out long size)
                ? new TensorShapeProto.Types.Dimension { DimValue = size }
                : new TensorShapeProto.Types.Dimension { DimParam = d });
        return value;
    }

    public static TensorProto FloatTensor(string name, long[] dims, float[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims);
        t.FloatData.AddRange(values);
        return t;
    }
}
