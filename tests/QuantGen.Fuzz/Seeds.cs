using System.Text;
using Google.Protobuf;
using QuantGen.Onnx.Proto;
using AttributeType = QuantGen.Onnx.Proto.AttributeProto.Types.AttributeType;

namespace QuantGen.Fuzz;

/// <summary>
/// The hand-made hostile seeds of the corpus (issue 19's probe classes), written by <c>quantgen-fuzz seed DIR</c>;
/// the repository's small models are copied next to them (docs/security.md, "Fuzzing").
/// </summary>
public static class Seeds
{
    public static void Write(string root)
    {
        var onnx = Directory.CreateDirectory(Path.Combine(root, "onnx")).FullName;
        void Model(string name, byte[] bytes)
        {
            File.WriteAllBytes(Path.Combine(onnx, $"hostile_{name}.onnx"), bytes);
            File.WriteAllBytes(Path.Combine(Directory.CreateDirectory(Path.Combine(root, "quantize")).FullName, $"hostile_{name}.onnx"), bytes);
        }
        Model("conv_dilation_wrap", Conv([1, 1, 5, 5], [1, 1, 3, 3], Ints("dilations", int.MaxValue, int.MaxValue)));
        Model("depthwise_dilation", Conv([1, 8, 5, 5], [8, 1, 3, 3], Int("group", 8), Ints("dilations", (1L << 31) - 2, (1L << 31) - 2)));
        Model("conv_group_2p40", Conv([1, 1, 5, 5], [1, 1, 3, 3], Int("group", 1L << 40)));
        Model("conv_stride_2p32p1", Conv([1, 1, 5, 5], [1, 1, 3, 3], Ints("strides", (1L << 32) + 1, 1)));
        Model("conv_pads_2p31", Conv([1, 1, 5, 5], [1, 1, 3, 3], Ints("pads", 1L << 31, 0, 0, 0)));
        Model("conv_rank1", Conv([5], [1]));
        Model("maxpool_huge_kernel", Single("MaxPool", [1, 1, 5, 5], [], [Ints("kernel_shape", 1L << 40, 1)]));
        Model("convtranspose_stride0", Single("ConvTranspose", [1, 1, 3, 3], [Floats("w", [1, 1, 3, 3])], [Ints("strides", 0, 1)]));
        Model("convtranspose_bomb", Single("ConvTranspose", [1, 1, 3, 3], [Floats("w", [1, 1, 1, 1])], [Ints("strides", 5000, 5000)]));
        Model("resize_scale_1e10", Single("Resize", [1, 1, 4, 4], [Floats("roi", [0]), Floats("scales", [4], 1e10f)], []));
        Model("resize_2p30", Single("Resize", [1, 1, 4, 4], [Floats("roi", [0]), null, Longs("sizes", 1, 1, 1 << 15, 1 << 15)], []));
        Model("pad_huge", Single("Pad", [1, 4], [Longs("pads", 0, 1L << 40, 0, 0)], []));
        Model("matmul_huge", Single("MatMul", [1 << 14, 1], [Floats("w", [1, 1 << 14])], []));
        Model("slice_step_max", Single("Slice", [10], [Longs("starts", 2), Longs("ends", 8), Longs("axes", 0), Longs("steps", long.MaxValue)], []));
        Model("slice_step_min", Single("Slice", [10], [Longs("starts", 8), Longs("ends", 2), Longs("axes", 0), Longs("steps", long.MinValue)], []));

        var npy = Directory.CreateDirectory(Path.Combine(root, "npy")).FullName;
        File.WriteAllBytes(Path.Combine(npy, "hostile_header_2p30.npy"), NpyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (1073741824,), }", 16));
        File.WriteAllBytes(Path.Combine(npy, "hostile_header_2p40.npy"), NpyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (1048576, 1048576), }", 16));
        File.WriteAllBytes(Path.Combine(npy, "hostile_truncated.npy"), NpyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4), }", 12));
        File.WriteAllBytes(Path.Combine(npy, "small_f32.npy"), NpyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 24));
        File.WriteAllBytes(Path.Combine(npy, "small_u8.npy"), NpyFile("{'descr': '|u1', 'fortran_order': False, 'shape': (5,), }", 5));
    }

    private static byte[] NpyFile(string header, int dataBytes)
    {
        var text = header.PadRight(118) + "\n";
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)text.Length, 0 };
        bytes.AddRange(Encoding.ASCII.GetBytes(text));
        bytes.AddRange(new byte[dataBytes]);
        return bytes.ToArray();
    }

    private static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    private static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeType.Int, I = value };

    private static TensorProto Floats(string name, long[] dims, float fill = 0.5f)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims);
        t.FloatData.AddRange(Enumerable.Repeat(fill, (int)dims.Aggregate(1L, (p, d) => p * d)));
        return t;
    }

    private static TensorProto Longs(string name, params long[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64, Dims = { values.Length } };
        t.Int64Data.AddRange(values);
        return t;
    }

    private static ValueInfoProto Value(string name, long[]? dims)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float };
        if (dims is not null)
        {
            tensor.Shape = new TensorShapeProto();
            foreach (var d in dims) tensor.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensor } };
    }

    private static byte[] Conv(long[] input, long[] weights, params AttributeProto[] attributes) => Single("Conv", input, [Floats("w", weights)], attributes);

    private static byte[] Single(string opType, long[] inputShape, TensorProto?[] constants, AttributeProto[] attributes)
    {
        var node = new NodeProto { Name = "n", OpType = opType, Input = { "x" }, Output = { "y" } };
        node.Attribute.AddRange(attributes);
        var graph = new GraphProto { Name = "hostile", Input = { Value("x", inputShape) }, Output = { Value("y", null) } };
        foreach (var c in constants)
        {
            node.Input.Add(c?.Name ?? "");
            if (c is not null) graph.Initializer.Add(c);
        }
        graph.Node.Add(node);
        return new ModelProto { IrVersion = 8, OpsetImport = { new OperatorSetIdProto { Domain = "", Version = 13 } }, Graph = graph }.ToByteArray();
    }
}
